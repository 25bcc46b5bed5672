//! What tus and direct uploads share once the bytes are in the bucket: turning a finished upload
//! into a media item (kind sniffed from the stored bytes, media row + event + job in one
//! transaction, exactly as `POST /v1/media`), discarding unfinished ones, and sweeping expired
//! uploads. Every step is safe to repeat, so a crash half-way is finished by the next request
//! or sweep instead of leaving an orphan.

use crate::error::{ApiError, ApiResult};
use crate::AppState;
use futures::StreamExt;
use mediaserver_core::sniff::{sniff, SNIFF_LEN};
use mediaserver_core::{Media, NewOriginal, Upload, UploadProtocol, UploadStatus};
use mediaserver_db::{DynRepo, Recorded};
use mediaserver_storage::{ObjectKey, ResumableState, Storage, StorageError};
use sha2::{Digest, Sha256};
use std::time::Duration;

pub fn object_key(upload: &Upload) -> ApiResult<ObjectKey> {
    ObjectKey::new(upload.key.clone())
        .map_err(|e| ApiError::Internal(format!("stored upload key is invalid: {e}")))
}

pub fn storage_state(upload: &Upload) -> ApiResult<ResumableState> {
    serde_json::from_str(&upload.state)
        .map_err(|e| ApiError::Internal(format!("stored upload state is unreadable: {e}")))
}

fn not_media() -> ApiError {
    ApiError::UnsupportedMediaType(
        "the file is not an image, video or audio file this server can process \
         (its type is decided from its contents, not its name); the upload was discarded"
            .into(),
    )
}

/// Makes the uploaded bytes of a tus upload the original at `upload.key` (idempotent: an
/// upload finished before a crash is recognised by the object being there at full size).
pub async fn finish_storage(state: &AppState, upload: &Upload) -> ApiResult<()> {
    let key = object_key(upload)?;
    let rs = storage_state(upload)?;
    match state.media_store.resumable_finish(&key, &rs).await {
        Ok(_) => Ok(()),
        Err(e) => match state.media_store.head(&key).await {
            Ok(meta) if meta.size == upload.length as u64 => Ok(()),
            _ => Err(e.into()),
        },
    }
}

/// Creates the media item for an upload whose original is complete in storage, then marks the
/// upload complete. A file that is not media is deleted along with the upload (415).
/// `sha256`: the digest of the bytes if the caller computed it on the way in; otherwise the
/// stored object is read back to compute it.
pub async fn create_media(
    state: &AppState,
    upload: &Upload,
    sha256: Option<String>,
) -> ApiResult<Media> {
    create_media_with(
        &state.repo,
        state.media_store.as_ref(),
        state.settings.job_max_attempts,
        upload,
        sha256,
    )
    .await
}

/// [`create_media`] for callers without an `AppState` (bucket events).
pub async fn create_media_with(
    repo: &DynRepo,
    store: &dyn Storage,
    max_attempts: i32,
    upload: &Upload,
    sha256: Option<String>,
) -> ApiResult<Media> {
    if let Some(media) = repo.get_media(&upload.id).await? {
        // Recorded before a crash; only the upload's own status is behind.
        repo.complete_upload(&upload.id, upload.length).await?;
        return Ok(media);
    }
    let key = object_key(upload)?;
    let meta = match store.head(&key).await {
        Ok(m) => m,
        Err(StorageError::NotFound(_)) => {
            return Err(ApiError::Conflict(format!(
                "nothing has been uploaded to {} yet; PUT the file to the upload URL first",
                upload.key
            )))
        }
        Err(e) => return Err(e.into()),
    };
    if meta.size != upload.length as u64 {
        return Err(ApiError::Conflict(format!(
            "the uploaded object has {} bytes but the upload declared {}; upload the whole file again",
            meta.size, upload.length
        )));
    }
    if meta.size == 0 {
        discard_with(repo, store, upload).await;
        return Err(ApiError::BadRequest("the upload is empty (0 bytes)".into()));
    }
    let head = store
        .read_at(&key, 0..meta.size.min(SNIFF_LEN as u64))
        .await?;
    let Some(sniffed) = sniff(&head) else {
        discard_with(repo, store, upload).await;
        return Err(not_media());
    };
    let sha256 = match sha256 {
        Some(s) => s,
        None => {
            // Bytes that arrived through other processes (or before a restart) are hashed
            // here, from storage, in one streaming pass.
            let (_, mut stream) = store.get_stream(&key).await?;
            let mut hasher = Sha256::new();
            while let Some(chunk) = stream.next().await {
                hasher.update(&chunk?);
            }
            hex::encode(hasher.finalize())
        }
    };
    let (media, event) = NewOriginal {
        id: upload.id.clone(),
        owner_id: upload.owner_id.clone(),
        kind: sniffed.kind,
        content_type: sniffed.content_type,
        filename: upload.filename.clone(),
        title: upload.title.clone(),
        size: meta.size as i64,
        etag: meta
            .etag
            .clone()
            .map(|e| e.trim_matches('"').to_string())
            .unwrap_or_else(|| sha256.clone()),
        sha256,
        bucket: store.bucket().to_string(),
        key: upload.key.clone(),
        source: match upload.protocol {
            UploadProtocol::Tus => "tus".into(),
            UploadProtocol::Direct => "direct".into(),
        },
    }
    .into_records();
    // `Duplicate` means a bucket event for this very object recorded it first (through this same
    // function, so under this id): either way the item exists now.
    let _: Recorded = repo
        .create_media_with_event(&media, &event, max_attempts)
        .await?;
    repo.complete_upload(&upload.id, upload.length).await?;
    crate::metrics::record_upload_bytes(meta.size);
    tracing::info!(media_id = %media.id, kind = %media.kind, size = media.size, protocol = %upload.protocol, "upload complete");
    Ok(repo.get_media(&upload.id).await?.unwrap_or(media))
}

/// Removes an unfinished upload: its bytes (the provider's multipart upload included) and its
/// row. Errors are logged; the sweep retries what is left.
pub async fn discard(state: &AppState, upload: &Upload) {
    discard_with(&state.repo, state.media_store.as_ref(), upload).await
}

async fn discard_with(repo: &DynRepo, store: &dyn Storage, upload: &Upload) {
    let released = match upload.status {
        // The original now belongs to the media item.
        UploadStatus::Complete => Ok(()),
        UploadStatus::Active => release_bytes(repo, store, upload).await,
    };
    match released {
        Ok(()) => {
            if let Err(e) = repo.delete_upload(&upload.id).await {
                tracing::warn!(upload_id = %upload.id, error = %e, "could not delete an upload row");
            }
        }
        Err(e) => {
            tracing::warn!(upload_id = %upload.id, error = %e, "could not release an upload's bytes; will retry")
        }
    }
}

async fn release_bytes(repo: &DynRepo, store: &dyn Storage, upload: &Upload) -> ApiResult<()> {
    let key = object_key(upload)?;
    if repo.get_media(&upload.id).await?.is_some() {
        return Ok(());
    }
    match upload.protocol {
        UploadProtocol::Tus => {
            let rs = storage_state(upload)?;
            store.resumable_abort(&key, &rs).await?;
            // A finish that happened just before a crash left the object itself.
            store.delete(&key).await?;
        }
        UploadProtocol::Direct => store.delete(&key).await?,
    }
    Ok(())
}

/// Removes expired uploads (up to a batch per call); returns how many.
pub async fn sweep_expired(state: &AppState) -> ApiResult<usize> {
    let batch = state.repo.expired_uploads(chrono::Utc::now(), 500).await?;
    for listed in &batch {
        // Not while a request is writing to it; and only if it is still expired once locked (a
        // PATCH that just finished moved its expiry).
        let Ok(_guard) = state
            .uploads_in_flight
            .lock(&state.repo, &listed.id, Duration::from_millis(100))
            .await
        else {
            continue;
        };
        let Some(upload) = state.repo.get_upload(&listed.id).await? else {
            continue;
        };
        if upload.expires_at > chrono::Utc::now() {
            continue;
        }
        let upload = &upload;
        if upload.status == UploadStatus::Active && upload.offset == upload.length {
            // Fully received but not recorded (a crash during completion): finish it.
            if finish_storage(state, upload).await.is_ok()
                && create_media(state, upload, None).await.is_ok()
            {
                let _ = state.repo.delete_upload(&upload.id).await;
                continue;
            }
        }
        discard(state, upload).await;
    }
    Ok(batch.len())
}

/// Sweeps expired uploads every `interval` until the process ends.
pub fn spawn_sweeper(state: AppState, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match sweep_expired(&state).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(count = n, "removed expired uploads"),
                Err(e) => tracing::warn!(error = %e, "sweeping expired uploads failed"),
            }
        }
    })
}
