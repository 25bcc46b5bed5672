//! Resumable uploads: an object written by a series of appends that may come from different
//! processes (a server restart, another replica) and days apart. All progress lives in a
//! serialisable [`ResumableState`] that the caller keeps durably (the database); storage holds
//! only the bytes.
//!
//! Two strategies:
//! - **append** (`Local`): bytes are appended to `{key}.partial` and renamed onto `key` at the end.
//!   An append first truncates the file to the state's offset, so bytes written after the last
//!   acknowledged state (a crash, a rejected checksum) are dropped.
//! - **multipart** (S3-style providers, OCI): each append uploads parts to one provider multipart
//!   upload. Providers want parts of at least their minimum size (S3: 5 MiB, OCI: 10 MiB)
//!   except the last, but clients send chunks of any size, so a remainder smaller than that is
//!   kept as a *pending* object `{key}.pending.{start}-{len}` and prepended to the next append. An append never changes
//!   anything the previous state refers to (new parts get new numbers, a new pending object gets a
//!   new name), so a caller that rejects an append simply keeps the old state; superseded pending
//!   objects are removed by [`Storage::resumable_release`], any left by an append whose state was
//!   never recorded (a crash, a database error) when the upload finishes or is aborted.

use crate::error::Chain;
use crate::{ObjectKey, PutResult, Result, SourceStream, Storage, StorageError};
use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

/// Everything needed to continue or finish a resumable upload. Stored by the caller as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResumableState {
    /// Bytes durably stored so far.
    pub offset: u64,
    #[serde(flatten)]
    pub mode: ResumableMode,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum ResumableMode {
    Append,
    Multipart {
        upload_id: String,
        parts: Vec<PartRecord>,
        /// Bytes after the last part, not yet big enough to be a part.
        pending: Option<Pending>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartRecord {
    /// 1-based, as S3 numbers parts.
    pub number: u32,
    pub etag: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub key: String,
    pub size: u64,
}

/// Result of one append: the state to record, and the source's error if the data stream broke
/// off (what arrived before the break is stored and counted in `state.offset`).
#[derive(Debug)]
pub struct AppendOutcome {
    pub state: ResumableState,
    pub source_error: Option<std::io::Error>,
}

/// A provider's multipart upload API, resumable by upload id from any process. Also what the
/// writer's [`IdUpload`](crate::writer::IdUpload) drives.
#[async_trait]
pub(crate) trait MultipartParts: Send + Sync {
    /// The provider's smallest part but the last (S3: 5 MiB, OCI's native API: 10 MiB).
    fn min_part_size(&self) -> usize;
    async fn create(&self, key: &ObjectKey) -> Result<String>;
    /// Uploads part `number` (1-based) and returns its ETag.
    async fn put_part(
        &self,
        key: &ObjectKey,
        upload_id: &str,
        number: u32,
        data: Bytes,
    ) -> Result<String>;
    async fn complete(
        &self,
        key: &ObjectKey,
        upload_id: &str,
        parts: &[PartRecord],
    ) -> Result<PutResult>;
    async fn abort(&self, key: &ObjectKey, upload_id: &str) -> Result<()>;
}

/// The path of the growing file of an append-mode upload.
pub(crate) fn partial_key(key: &ObjectKey) -> Result<ObjectKey> {
    ObjectKey::new(format!("{key}.partial"))
}

fn pending_key(key: &ObjectKey, start: u64, len: u64) -> Result<ObjectKey> {
    ObjectKey::new(format!("{key}.pending.{start}-{len}"))
}

pub(crate) async fn multipart_start(
    parts: &dyn MultipartParts,
    key: &ObjectKey,
) -> Result<ResumableState> {
    Ok(ResumableState {
        offset: 0,
        mode: ResumableMode::Multipart {
            upload_id: parts.create(key).await?,
            parts: Vec::new(),
            pending: None,
        },
    })
}

/// Appends `data` to a multipart-mode upload (see the module docs). `part_size` is the size
/// parts are cut at while streaming (at least the provider's minimum part); at the end of the
/// stream a remainder of at least that minimum also becomes a part, a smaller one the pending
/// object.
pub(crate) async fn multipart_append(
    store: &dyn Storage,
    parts_api: &dyn MultipartParts,
    key: &ObjectKey,
    state: &ResumableState,
    mut data: SourceStream<'_>,
    part_size: usize,
) -> Result<AppendOutcome> {
    let ResumableMode::Multipart {
        upload_id,
        parts,
        pending,
    } = &state.mode
    else {
        return Err(StorageError::other("not a multipart upload state"));
    };
    let min_part = parts_api.min_part_size();
    let part_size = part_size.max(min_part);
    let mut parts = parts.clone();
    let mut offset = state.offset;
    let mut buf = BytesMut::new();
    if let Some(p) = pending {
        let pkey = ObjectKey::new(p.key.clone())?;
        buf.extend_from_slice(&store.read_at(&pkey, 0..p.size).await?);
        if buf.len() as u64 != p.size {
            return Err(StorageError::other(format!(
                "pending bytes of {key} are missing ({} of {} bytes)",
                buf.len(),
                p.size
            )));
        }
    }
    let start_of_buf = |offset: u64, buf: &BytesMut| offset - buf.len() as u64;
    let mut source_error = None;
    while let Some(chunk) = data.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                source_error = Some(e);
                break;
            }
        };
        offset += chunk.len() as u64;
        buf.extend_from_slice(&chunk);
        while buf.len() >= part_size {
            let part = buf.split_to(part_size).freeze();
            upload_part(parts_api, key, upload_id, &mut parts, part).await?;
        }
    }
    if buf.len() >= min_part {
        let part = buf.split().freeze();
        upload_part(parts_api, key, upload_id, &mut parts, part).await?;
    }
    let pending = if buf.is_empty() {
        None
    } else {
        let start = start_of_buf(offset, &buf);
        let pkey = pending_key(key, start, buf.len() as u64)?;
        let size = buf.len() as u64;
        store.put_bytes(&pkey, buf.freeze()).await?;
        Some(Pending {
            key: pkey.to_string(),
            size,
        })
    };
    Ok(AppendOutcome {
        state: ResumableState {
            offset,
            mode: ResumableMode::Multipart {
                upload_id: upload_id.clone(),
                parts,
                pending,
            },
        },
        source_error,
    })
}

async fn upload_part(
    api: &dyn MultipartParts,
    key: &ObjectKey,
    upload_id: &str,
    parts: &mut Vec<PartRecord>,
    data: Bytes,
) -> Result<()> {
    let number = parts.len() as u32 + 1;
    let size = data.len() as u64;
    let etag = api.put_part(key, upload_id, number, data).await?;
    parts.push(PartRecord { number, etag, size });
    Ok(())
}

/// Uploads the pending remainder as the last part and completes the upload onto `key`.
pub(crate) async fn multipart_finish(
    store: &dyn Storage,
    api: &dyn MultipartParts,
    key: &ObjectKey,
    state: &ResumableState,
) -> Result<PutResult> {
    let ResumableMode::Multipart {
        upload_id,
        parts,
        pending,
    } = &state.mode
    else {
        return Err(StorageError::other("not a multipart upload state"));
    };
    let mut parts = parts.clone();
    if let Some(p) = pending {
        let pkey = ObjectKey::new(p.key.clone())?;
        let data = store.read_at(&pkey, 0..p.size).await?;
        upload_part(api, key, upload_id, &mut parts, data).await?;
    }
    let mut put = if parts.is_empty() {
        // Zero bytes: providers refuse an empty multipart completion.
        api.abort(key, upload_id).await?;
        store.put_bytes(key, Bytes::new()).await?
    } else {
        api.complete(key, upload_id, &parts).await?
    };
    put.size = state.offset;
    // The object is complete: a failed clean-up must not fail the upload (the caller would
    // retry a finish that can no longer succeed). What is left is named `{key}.pending.*`.
    if let Err(e) = delete_pending(store, key, pending.as_ref()).await {
        tracing::warn!(key = %key, error = %Chain(&e), "could not delete an upload's pending objects");
    }
    Ok(put)
}

pub(crate) async fn multipart_abort(
    store: &dyn Storage,
    api: &dyn MultipartParts,
    key: &ObjectKey,
    state: &ResumableState,
) -> Result<()> {
    let ResumableMode::Multipart {
        upload_id, pending, ..
    } = &state.mode
    else {
        return Err(StorageError::other("not a multipart upload state"));
    };
    match api.abort(key, upload_id).await {
        Ok(()) | Err(StorageError::NotFound(_)) => {}
        Err(e) => return Err(e),
    }
    delete_pending(store, key, pending.as_ref()).await
}

/// Deletes every pending object of `key`, not only the recorded one: an append whose state was
/// never recorded (rejected, lost its compare-and-set, or met a database error that may or may
/// not have committed it) leaves its own pending object, which only the end of the upload can
/// safely remove.
async fn delete_pending(
    store: &dyn Storage,
    key: &ObjectKey,
    recorded: Option<&Pending>,
) -> Result<()> {
    if let Some(p) = recorded {
        store.delete(&ObjectKey::new(p.key.clone())?).await?;
    }
    // Listing needs a folder; a key at the bucket's top level has only its recorded one.
    let Some((dir, _)) = key.as_str().rsplit_once('/') else {
        return Ok(());
    };
    let prefix = format!("{key}.pending.");
    for meta in store.list(dir).await? {
        if meta.key.starts_with(&prefix) {
            match store.delete(&ObjectKey::new(meta.key)?).await {
                Ok(()) | Err(StorageError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

/// Deletes what `old` referred to and `new` no longer does (a superseded pending object).
pub(crate) async fn release(
    store: &dyn Storage,
    old: &ResumableState,
    new: &ResumableState,
) -> Result<()> {
    let pending_of = |s: &ResumableState| match &s.mode {
        ResumableMode::Multipart { pending, .. } => pending.as_ref().map(|p| p.key.clone()),
        ResumableMode::Append => None,
    };
    if let Some(old_key) = pending_of(old) {
        if pending_of(new).as_deref() != Some(old_key.as_str()) {
            store.delete(&ObjectKey::new(old_key)?).await?;
        }
    }
    Ok(())
}
