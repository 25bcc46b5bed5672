//! Clips: a new item made from a range of another's original. The clip gets its own copy of the
//! source's original (a storage copy, streamed) and the range on its row; its job cuts the range
//! (frame-accurately) before processing it like any upload. Owning its original, a clip outlives
//! its source, and a clip of a clip is just a clip of that copy.

use crate::{Ingest, IngestError, IngestResult};
use futures::StreamExt;
use mediaserver_core::{
    layout, safe_filename, Clip, Media, MediaId, NewOriginal, ObjectSource, UserId,
};
use mediaserver_db::Recorded;
use mediaserver_storage::{ObjectKey, StorageError};

/// What a clip is made of.
#[derive(Debug, Clone)]
pub struct NewClip<'a> {
    pub source: &'a Media,
    pub owner_id: UserId,
    /// `None` or blank: the source's title with " (clip)".
    pub title: Option<String>,
    pub start_seconds: f64,
    pub end_seconds: f64,
}

impl Ingest {
    /// Copies the source's original for the clip and records the clip (row with its range,
    /// event, job) in one transaction; on any failure the copy is deleted. The copy counts
    /// toward the owner's quota.
    pub async fn create_clip(&self, clip: NewClip<'_>) -> IngestResult<Media> {
        let source = clip.source;
        let size = u64::try_from(source.size).unwrap_or(0);
        self.check_quota(&clip.owner_id, size).await?;
        let id = MediaId::new();
        let filename = safe_filename(&source.filename);
        let key = ObjectKey::new(layout::original_key(&id, &filename))
            .map_err(IngestError::UnusableFilename)?;
        let from = ObjectKey::new(source.original_key.clone()).map_err(IngestError::UnusableKey)?;
        let store = self.media_store().clone();
        let (_, body) = match store.get_stream(&from).await {
            Err(StorageError::NotFound(_)) => return Err(IngestError::SourceMissing),
            other => other?,
        };
        let body = body
            .map(|chunk| chunk.map_err(std::io::Error::other))
            .boxed();
        let put = match store.put_stream(&key, body).await {
            Ok(put) => put,
            Err(e) => {
                // A failed write leaves nothing, but a half-finished provider might.
                let _ = store.delete(&key).await;
                return Err(IngestError::NotStored(e));
            }
        };
        let title = clip
            .title
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| format!("{} (clip)", source.title));
        let (mut media, event) = NewOriginal {
            id: id.clone(),
            owner_id: clip.owner_id,
            kind: source.kind,
            content_type: source.content_type.clone(),
            filename,
            title: Some(title),
            size: put.size as i64,
            sha256: source.sha256.clone(),
            bucket: store.bucket().to_string(),
            key: key.to_string(),
            etag: put.etag.unwrap_or_else(|| id.to_string()),
            source: ObjectSource::Upload,
        }
        .into_records();
        media.clip = Some(Clip {
            source_id: source.id.clone(),
            start_seconds: clip.start_seconds,
            end_seconds: clip.end_seconds,
        });
        let recorded = self
            .repo()
            .create_media_with_event(&media, &event, self.max_attempts())
            .await;
        match recorded {
            Ok(Recorded::Created) => {
                tracing::info!(media_id = %media.id, source = %source.id, "clip queued");
                Ok(media)
            }
            other => {
                if let Err(e) = store.delete(&key).await {
                    tracing::error!(%key, error = %mediaserver_core::ErrorChain(&e), "could not delete the copy of an unrecorded clip");
                }
                match other {
                    Err(e) => Err(e.into()),
                    _ => Err(IngestError::AlreadyRecorded),
                }
            }
        }
    }
}
