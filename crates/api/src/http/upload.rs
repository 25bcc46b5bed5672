//! Upload ingestion: stream the body to storage while hashing and counting, decide the kind from
//! the leading bytes, then write the media row and its "object created" event in one transaction.
//! Memory stays bounded whatever the file size; a rejected upload leaves nothing behind.

use crate::error::{ApiError, ApiResult};
use crate::AppState;
use bytes::{Bytes, BytesMut};

use futures::{Stream, StreamExt};
use mediaserver_core::layout;
use mediaserver_core::sniff::{sniff, Sniffed, SNIFF_LEN};
use mediaserver_core::{new_id, safe_filename, Media, NewOriginal};
use mediaserver_db::Recorded;
use mediaserver_storage::{ObjectKey, ObjectWriter, StorageError};
use sha2::{Digest, Sha256};

/// An original that is in storage but not yet recorded in the database.
pub struct StoredUpload {
    pub id: String,
    pub key: ObjectKey,
    pub filename: String,
    pub sniffed: Sniffed,
    pub size: u64,
    pub sha256: String,
    pub etag: Option<String>,
}

fn too_large(max: u64) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "the file is larger than this server's upload limit of {max} bytes (MAX_UPLOAD_BYTES)"
    ))
}

fn storage_error(e: StorageError) -> ApiError {
    match e {
        StorageError::Unavailable(m) => ApiError::Unavailable(format!(
            "storage unavailable, nothing was kept; retry later ({m})"
        )),
        other => other.into(),
    }
}

fn interrupted(e: impl std::fmt::Display) -> ApiError {
    ApiError::BadRequest(format!(
        "the upload was interrupted before it completed: {e}"
    ))
}

/// Streams `body` into the media bucket as a new original (see `layout::original_key`).
pub async fn store_upload<S, E>(
    state: &AppState,
    filename: &str,
    body: S,
) -> ApiResult<StoredUpload>
where
    S: Stream<Item = Result<Bytes, E>> + Send,
    E: std::fmt::Display,
{
    let max = state.settings.max_upload_bytes;
    let mut body = std::pin::pin!(body);

    // Gather enough leading bytes to recognise the format before touching storage.
    let mut head = BytesMut::new();
    let mut ended = false;
    while head.len() < SNIFF_LEN {
        match body.next().await {
            Some(Ok(chunk)) => head.extend_from_slice(&chunk),
            Some(Err(e)) => return Err(interrupted(e)),
            None => {
                ended = true;
                break;
            }
        }
        if head.len() as u64 > max {
            return Err(too_large(max));
        }
    }
    if head.is_empty() {
        return Err(ApiError::BadRequest("the upload is empty (0 bytes)".into()));
    }
    let sniffed = sniff(&head).ok_or_else(|| {
        ApiError::UnsupportedMediaType(
            "the file is not an image, video or audio file this server can process \
             (its type is decided from its contents, not its name)"
                .into(),
        )
    })?;

    let id = new_id();
    let filename = safe_filename(filename);
    let key = ObjectKey::new(layout::original_key(&id, &filename))
        .map_err(|e| ApiError::BadRequest(format!("unusable file name: {e}")))?;
    let mut writer = state
        .media_store
        .writer(&key)
        .await
        .map_err(storage_error)?;

    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let head = head.freeze();
    let result: ApiResult<()> = async {
        hasher.update(&head);
        size += head.len() as u64;
        writer.write(head).await.map_err(storage_error)?;
        if ended {
            return Ok(());
        }
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(interrupted)?;
            size += chunk.len() as u64;
            if size > max {
                return Err(too_large(max));
            }
            hasher.update(&chunk);
            writer.write(chunk).await.map_err(storage_error)?;
        }
        Ok(())
    }
    .await;
    if let Err(e) = result {
        abort(writer).await;
        return Err(e);
    }
    let put = writer.finish().await.map_err(storage_error)?;
    crate::metrics::record_upload_bytes(size);
    Ok(StoredUpload {
        id,
        key,
        filename,
        sniffed,
        size,
        sha256: hex::encode(hasher.finalize()),
        etag: put.etag,
    })
}

async fn abort(writer: Box<dyn ObjectWriter>) {
    if let Err(e) = writer.abort().await {
        tracing::warn!(error = %e, "could not abort a rejected upload");
    }
}

/// Removes an original whose upload will not be recorded.
pub async fn discard(state: &AppState, stored: &StoredUpload) {
    if let Err(e) = state.media_store.delete(&stored.key).await {
        tracing::error!(key = %stored.key, error = %e, "could not delete the object of a failed upload");
    }
}

/// Records a stored upload: the media row, its "object created" event and the processing job,
/// in one transaction.
/// On failure the object is deleted so nothing is orphaned.
pub async fn commit(
    state: &AppState,
    owner_id: &str,
    stored: StoredUpload,
    title: Option<String>,
) -> ApiResult<Media> {
    let (media, event) = NewOriginal {
        id: stored.id.clone(),
        owner_id: owner_id.to_string(),
        kind: stored.sniffed.kind,
        content_type: stored.sniffed.content_type.clone(),
        filename: stored.filename.clone(),
        title,
        size: stored.size as i64,
        sha256: stored.sha256.clone(),
        bucket: state.media_store.bucket().to_string(),
        key: stored.key.to_string(),
        etag: stored.etag.clone().unwrap_or_else(|| stored.sha256.clone()),
        source: "upload".into(),
    }
    .into_records();
    match state
        .repo
        .create_media_with_event(&media, &event, state.settings.job_max_attempts)
        .await
    {
        Ok(Recorded::Created) => {}
        Ok(Recorded::Duplicate { .. }) => {
            // The key embeds a fresh id, so this means something else wrote the same object.
            discard(state, &stored).await;
            return Err(ApiError::Conflict(
                "this upload was already recorded".into(),
            ));
        }
        Err(e) => {
            discard(state, &stored).await;
            return Err(e.into());
        }
    }
    tracing::info!(media_id = %media.id, kind = %media.kind, size = media.size, "media uploaded");
    Ok(media)
}

pub const MAX_TITLE_CHARS: usize = 200;

pub fn check_title(title: &str) -> ApiResult<()> {
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(ApiError::BadRequest(format!(
            "title: must be at most {MAX_TITLE_CHARS} characters"
        )));
    }
    Ok(())
}
