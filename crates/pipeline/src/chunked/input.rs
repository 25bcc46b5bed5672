//! What a chunked item's part jobs read the original from: a presigned URL where the store
//! gives one (ffmpeg then reads only a chunk's range, with range requests), else a local copy
//! kept once per item in this process's scratch space, so that the chunk jobs this process
//! runs do not each download it.
//!
//! A copy lives in a scratch directory (`job-input-{item}-…`, touched while it is kept, so the
//! scratch sweep leaves it alone; a killed process's copy is swept like a dead job's). It is
//! let go of when the item's chunks are done, when the assemble step runs here, or after
//! [`IDLE`] without use; the directory goes once the last job reading it has ended.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mediaserver_core::{Media, MediaId};
use mediaserver_media::transcode::chunked::Input;
use mediaserver_storage::{ObjectKey, Storage};

use crate::runner::scratch::{JobScratch, Scratch};
use crate::PipelineError;

/// A copy nobody used for this long goes (its item's other parts ran elsewhere).
const IDLE: Duration = Duration::from_secs(30 * 60);
/// How long a presigned URL of the original stays valid: longer than any part's encode.
const URL_VALIDITY: Duration = Duration::from_secs(12 * 3600);

/// The originals of chunked items, per item (cheap to clone; clones share the copies).
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    copies: Arc<tokio::sync::Mutex<HashMap<MediaId, Entry>>>,
}

#[derive(Debug)]
struct Entry {
    copy: Arc<Copy>,
    used: Instant,
}

/// One item's local copy. Its directory is removed when the last holder drops it.
#[derive(Debug)]
struct Copy {
    dir: JobScratch,
    ready: tokio::sync::OnceCell<()>,
}

impl Copy {
    fn path(&self) -> PathBuf {
        self.dir.path().join("original")
    }
}

/// What a part reads, held while it runs (a local copy stays until every holder is done).
#[derive(Debug)]
pub struct Held {
    pub input: Input,
    _copy: Option<Arc<Copy>>,
}

impl Inputs {
    /// The input of `media`'s parts: a presigned URL of its original, or the local copy
    /// (downloaded by the first part of this process that needs it).
    pub async fn get(
        &self,
        media: &Media,
        store: &dyn Storage,
        scratch: &Scratch,
    ) -> Result<Held, PipelineError> {
        let key = ObjectKey::new(media.original_key.clone()).map_err(PipelineError::OriginalKey)?;
        if let Ok(url) = store.presign_get(&key, URL_VALIDITY).await {
            if matches!(url.scheme(), "http" | "https") {
                return Ok(Held {
                    input: Input::Url(url.into()),
                    _copy: None,
                });
            }
        }
        let copy = self.copy(&media.id, scratch).await?;
        let path = copy.path();
        copy.ready
            .get_or_try_init(|| async {
                let partial = copy.dir.path().join("original.partial");
                crate::runner::in_process::download(store, media, &partial).await?;
                tokio::fs::rename(&partial, &path).await?;
                Ok::<(), PipelineError>(())
            })
            .await?;
        Ok(Held {
            input: Input::File(path),
            _copy: Some(copy),
        })
    }

    /// Keeps `file` (the original a split just downloaded here) as `media_id`'s local copy.
    pub async fn adopt(
        &self,
        media_id: &MediaId,
        file: &std::path::Path,
        scratch: &Scratch,
    ) -> Result<(), PipelineError> {
        let copy = self.copy(media_id, scratch).await?;
        let path = copy.path();
        copy.ready
            .get_or_try_init(|| async {
                tokio::fs::rename(file, &path).await?;
                Ok::<(), PipelineError>(())
            })
            .await?;
        Ok(())
    }

    /// Lets go of `media_id`'s copy (its chunks are done): removed once no part reads it.
    pub async fn release(&self, media_id: &MediaId) {
        self.copies.lock().await.remove(media_id);
    }

    async fn copy(
        &self,
        media_id: &MediaId,
        scratch: &Scratch,
    ) -> Result<Arc<Copy>, PipelineError> {
        let mut copies = self.copies.lock().await;
        copies.retain(|_, e| e.used.elapsed() < IDLE);
        if let Some(e) = copies.get_mut(media_id) {
            e.used = Instant::now();
            return Ok(e.copy.clone());
        }
        let copy = Arc::new(Copy {
            dir: scratch.create(format!("input-{media_id}")).await?,
            ready: tokio::sync::OnceCell::new(),
        });
        copies.insert(
            media_id.clone(),
            Entry {
                copy: copy.clone(),
                used: Instant::now(),
            },
        );
        Ok(copy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::scratch::ScratchSettings;
    use chrono::Utc;
    use mediaserver_core::{MediaKind, MediaOutputs, MediaStatus, UserId, Visibility};

    fn item(id: &MediaId) -> Media {
        Media {
            id: id.clone(),
            owner_id: UserId::new(),
            kind: MediaKind::Video,
            status: MediaStatus::Processing,
            title: "t".into(),
            filename: "a.mp4".into(),
            content_type: "video/mp4".into(),
            size: 5,
            sha256: String::new(),
            visibility: Visibility::Private,
            bucket: "b".into(),
            original_key: format!("originals/{id}/a.mp4"),
            duration_seconds: None,
            width: None,
            height: None,
            progress: 0,
            playable: false,
            error: None,
            outputs: MediaOutputs::default(),
            playback_generation: 0,
            clip: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    /// The whole job's download of an original in a local bucket is a hard link (the same
    /// file, no gigabytes copied), again over a link an earlier attempt left; a copy from a
    /// bucket without files never writes through such a link into the stored original.
    #[tokio::test]
    async fn a_local_original_is_linked_not_copied() {
        use std::os::unix::fs::MetadataExt;
        let ino = |p: &std::path::Path| std::fs::metadata(p).unwrap().ino();
        let tmp = tempfile::tempdir().unwrap();
        let m = item(&MediaId::new());
        let key = ObjectKey::new(m.original_key.clone()).unwrap();
        let local = mediaserver_storage::local(tmp.path(), "b", 5 * 1024 * 1024).unwrap();
        local
            .put_bytes(&key, bytes::Bytes::from_static(b"hello"))
            .await
            .unwrap();
        let stored = local.local_file(&key).await.unwrap().unwrap();
        let dest = tmp.path().join("input");
        for _ in 0..2 {
            crate::runner::in_process::download(local.as_ref(), &m, &dest)
                .await
                .unwrap();
            assert_eq!(ino(&dest), ino(&stored));
        }
        let memory = mediaserver_storage::memory("b", 5 * 1024 * 1024).unwrap();
        memory
            .put_bytes(&key, bytes::Bytes::from_static(b"other bytes"))
            .await
            .unwrap();
        crate::runner::in_process::download(memory.as_ref(), &m, &dest)
            .await
            .unwrap();
        assert_ne!(ino(&dest), ino(&stored));
        assert_eq!(std::fs::read(&dest).unwrap(), b"other bytes");
        assert_eq!(std::fs::read(&stored).unwrap(), b"hello");
    }

    #[tokio::test]
    async fn one_local_copy_per_item_kept_while_read() {
        let store = mediaserver_storage::memory("b", 5 * 1024 * 1024).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let scratch = Scratch::new(tmp.path().to_path_buf(), ScratchSettings::default());
        let inputs = Inputs::default();
        let m = item(&MediaId::new());
        let key = ObjectKey::new(m.original_key.clone()).unwrap();
        store
            .put_bytes(&key, bytes::Bytes::from_static(b"hello"))
            .await
            .unwrap();

        let (a, b) = tokio::join!(
            inputs.get(&m, store.as_ref(), &scratch),
            inputs.get(&m, store.as_ref(), &scratch)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        // The in-memory bucket presigns nothing: both read the one local copy.
        let Input::File(path) = a.input.clone() else {
            panic!("{:?}", a.input)
        };
        assert_eq!(a.input, b.input);
        assert_eq!(tokio::fs::read(&path).await.unwrap(), b"hello");
        // Deleting the original now shows no later part downloads it again.
        store.delete(&key).await.unwrap();
        let c = inputs.get(&m, store.as_ref(), &scratch).await.unwrap();
        assert_eq!(c.input, a.input);

        // Released: gone once the last reader is done, not before.
        inputs.release(&m.id).await;
        drop((b, c));
        assert!(path.exists());
        drop(a);
        assert!(!path.exists());
        assert!(inputs.get(&m, store.as_ref(), &scratch).await.is_err());
    }

    #[tokio::test]
    async fn a_split_hands_its_download_over() {
        let store = mediaserver_storage::memory("b", 5 * 1024 * 1024).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let scratch = Scratch::new(tmp.path().join("scratch"), ScratchSettings::default());
        tokio::fs::create_dir_all(scratch.root()).await.unwrap();
        let inputs = Inputs::default();
        let m = item(&MediaId::new());
        let downloaded = tmp.path().join("input");
        tokio::fs::write(&downloaded, b"split").await.unwrap();
        inputs.adopt(&m.id, &downloaded, &scratch).await.unwrap();
        // Nothing in the bucket: the copy is what the split downloaded.
        let held = inputs.get(&m, store.as_ref(), &scratch).await.unwrap();
        let Input::File(path) = &held.input else {
            panic!("{:?}", held.input)
        };
        assert_eq!(tokio::fs::read(path).await.unwrap(), b"split");
        assert!(!downloaded.exists());
    }
}
