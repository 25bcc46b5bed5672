//! tus and direct uploads, from their start to their media item: the upload row that names
//! where the original will be, turning a finished upload into a media item (kind sniffed from
//! the stored bytes, media row + event + job in one transaction, exactly as a one-request
//! upload), discarding unfinished ones, and sweeping expired uploads.

use crate::error::{IngestError, IngestResult};
use crate::{hash_stored, sniff_stored, Ingest, PlannedOriginal};
use chrono::{DateTime, Utc};
use mediaserver_core::sniff::{sniff, SNIFF_LEN};
use mediaserver_core::ErrorChain;
use mediaserver_core::{
    Media, MediaId, NewOriginal, ObjectSource, Upload, UploadProtocol, UploadStatus, UserId,
};
use mediaserver_db::{DbError, Recorded};
use mediaserver_storage::{ObjectKey, ResumableState, Storage, StorageError};
use std::sync::Arc;
use std::time::Duration;

/// How long the sweeper waits for an upload a request is writing to (it comes back later).
const SWEEP_WAIT: Duration = Duration::from_millis(100);
/// Expired uploads removed per sweep.
const SWEEP_BATCH: i64 = 500;
/// A multipart upload no upload row owns and started this long ago belongs to a writer that
/// is gone: a one-request upload streaming for a day is not expected.
pub const STALE_UPLOAD_AGE: Duration = Duration::from_secs(24 * 3600);
/// How often the sweeper lists the buckets' open multipart uploads.
pub const STALE_UPLOAD_SWEEP: Duration = Duration::from_secs(3600);

/// What a client declared when it started an upload.
#[derive(Debug, Clone)]
pub struct NewUpload {
    pub owner_id: UserId,
    pub title: Option<String>,
    /// The file's size in bytes.
    pub length: u64,
    /// tus `Upload-Metadata`, echoed back on HEAD.
    pub metadata: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// Where the upload's original goes.
pub fn upload_key(upload: &Upload) -> IngestResult<ObjectKey> {
    ObjectKey::new(upload.key.clone()).map_err(IngestError::InvalidUploadKey)
}

/// A resumable upload's provider state, as recorded.
pub fn upload_state(upload: &Upload) -> IngestResult<ResumableState> {
    serde_json::from_str(&upload.state).map_err(IngestError::UploadState)
}

impl Ingest {
    /// Starts a resumable (tus) upload of `original`: the provider's resumable write, then the
    /// upload row (the write is abandoned if the row cannot be stored). Refused past the
    /// owner's quota; the row then reserves `new.length` of it until the upload ends.
    pub async fn start_resumable(
        &self,
        original: PlannedOriginal,
        new: NewUpload,
    ) -> IngestResult<Upload> {
        self.check_quota(&new.owner_id, new.length).await?;
        let rs = self.store().resumable_start(&original.key).await?;
        let upload = upload_row(
            original,
            new,
            UploadProtocol::Tus,
            serde_json::to_string(&rs).map_err(IngestError::UploadState)?,
        );
        if let Err(e) = self.repo().create_upload(&upload).await {
            let _ = self
                .store()
                .resumable_abort(&upload_key(&upload)?, &rs)
                .await;
            return Err(e.into());
        }
        Ok(upload)
    }

    /// Records a direct upload: the client PUTs `original` itself, with `state` (the one-time
    /// URL's secret digest, if any) recorded on the upload. Refused past the owner's quota.
    pub async fn start_direct(
        &self,
        original: PlannedOriginal,
        new: NewUpload,
        state: String,
    ) -> IngestResult<Upload> {
        self.check_quota(&new.owner_id, new.length).await?;
        let upload = upload_row(original, new, UploadProtocol::Direct, state);
        self.repo().create_upload(&upload).await?;
        Ok(upload)
    }

    /// Refuses a tus upload whose first bytes (`head`, at least [`SNIFF_LEN`] of them unless the
    /// body was shorter) are not media, discarding it, before gigabytes of it are stored.
    pub async fn check_first_bytes(&self, upload: &Upload, head: &[u8]) -> IngestResult<()> {
        if head.len() >= SNIFF_LEN && sniff(head).is_none() {
            self.discard_upload(upload).await;
            return Err(IngestError::NotMedia { discarded: true });
        }
        Ok(())
    }

    /// Makes a tus upload's stored bytes its original, then records the media item (see
    /// [`Self::record_upload`]).
    pub async fn finish_resumable(
        &self,
        upload: &Upload,
        sha256: Option<String>,
    ) -> IngestResult<Media> {
        self.finish_storage(upload).await?;
        self.record_upload(upload, sha256).await
    }

    /// Makes the uploaded bytes of a tus upload the original at `upload.key` (idempotent: an
    /// upload finished before a crash is recognised by the object being there at full size).
    async fn finish_storage(&self, upload: &Upload) -> IngestResult<()> {
        let key = upload_key(upload)?;
        let rs = upload_state(upload)?;
        match self.store().resumable_finish(&key, &rs).await {
            Ok(_) => Ok(()),
            Err(e) => match self.store().head(&key).await {
                Ok(meta) if meta.size == upload.length as u64 => Ok(()),
                _ => Err(e.into()),
            },
        }
    }

    /// Creates the media item for an upload whose original is complete in storage, then marks
    /// the upload complete. A file that is not media is deleted along with the upload.
    /// `sha256`: the digest of the bytes if the caller computed it on the way in; otherwise the
    /// stored object is read back to compute it.
    pub async fn record_upload(
        &self,
        upload: &Upload,
        sha256: Option<String>,
    ) -> IngestResult<Media> {
        let repo = self.repo();
        let store = self.store();
        let media_id = MediaId::from(upload.id.clone());
        if let Some(media) = repo.get_media(&media_id).await? {
            // Recorded before a crash; only the upload's own status is behind.
            repo.complete_upload(&upload.id, upload.length).await?;
            return Ok(media);
        }
        let key = upload_key(upload)?;
        let meta = match store.head(&key).await {
            Ok(m) => m,
            Err(StorageError::NotFound(_)) => {
                return Err(IngestError::NotUploaded {
                    key: upload.key.clone(),
                })
            }
            Err(e) => return Err(e.into()),
        };
        if meta.size != upload.length as u64 {
            return Err(IngestError::SizeMismatch {
                stored: meta.size,
                declared: upload.length,
            });
        }
        if meta.size == 0 {
            self.discard_upload(upload).await;
            return Err(IngestError::Empty);
        }
        let Some(sniffed) = sniff_stored(store, &key, meta.size).await? else {
            self.discard_upload(upload).await;
            return Err(IngestError::NotMedia { discarded: true });
        };
        let sha256 = match sha256 {
            Some(s) => s,
            // Bytes that arrived through other processes (or before a restart) are hashed here,
            // from storage.
            None => hash_stored(store, &key).await?,
        };
        let (media, event) = NewOriginal {
            id: media_id.clone(),
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
                UploadProtocol::Tus => ObjectSource::Tus,
                UploadProtocol::Direct => ObjectSource::Direct,
            },
        }
        .into_records();
        // `Duplicate` means a bucket event for this very object recorded it first (through this
        // same function, so under this id): either way the item exists now.
        let _: Recorded = repo
            .create_media_with_event(&media, &event, self.0.max_attempts)
            .await?;
        repo.complete_upload(&upload.id, upload.length).await?;
        crate::record_upload_bytes(meta.size);
        tracing::info!(media_id = %media.id, kind = %media.kind, size = media.size, protocol = %upload.protocol, "upload complete");
        Ok(repo.get_media(&media_id).await?.unwrap_or(media))
    }

    /// Removes an unfinished upload: its bytes (the provider's multipart upload included) and
    /// its row. Errors are logged; the sweep retries what is left.
    pub async fn discard_upload(&self, upload: &Upload) {
        let released = match upload.status {
            // The original now belongs to the media item.
            UploadStatus::Complete => Ok(()),
            UploadStatus::Active => self.release_bytes(upload).await,
        };
        match released {
            Ok(()) => {
                if let Err(e) = self.repo().delete_upload(&upload.id).await {
                    tracing::warn!(upload_id = %upload.id, error = %ErrorChain(&e), "could not delete an upload row");
                }
            }
            Err(e) => {
                tracing::warn!(upload_id = %upload.id, error = %ErrorChain(&e), "could not release an upload's bytes; will retry")
            }
        }
    }

    /// Discards an upload at its owner's request (tus DELETE): its bytes, then its row. The
    /// bytes go even when the write lease cannot be taken because the disk is full (the lease
    /// is a database write): freeing them is what gives the space back, and no other request
    /// can be recording progress meanwhile, since that is a database write too.
    pub async fn terminate_upload(&self, upload: &Upload, wait: Duration) -> IngestResult<()> {
        let _guard = match self.lock_upload(&upload.id, wait).await {
            Ok(guard) => Some(guard),
            Err(IngestError::Db(DbError::Full(e))) => {
                tracing::warn!(upload_id = %upload.id, error = %ErrorChain(&e), "disk full: discarding the upload without its lease");
                None
            }
            Err(e) => return Err(e),
        };
        if upload.status == UploadStatus::Active {
            self.release_bytes(upload).await?;
        }
        self.repo().delete_upload(&upload.id).await?;
        Ok(())
    }

    async fn release_bytes(&self, upload: &Upload) -> IngestResult<()> {
        let key = upload_key(upload)?;
        let store = self.store();
        match upload.protocol {
            UploadProtocol::Tus => {
                let rs = upload_state(upload)?;
                store.resumable_abort(&key, &rs).await?;
                // A finish that happened just before a crash left the object itself.
                store.delete(&key).await?;
            }
            UploadProtocol::Direct => store.delete(&key).await?,
        }
        Ok(())
    }

    /// Removes expired uploads (up to a batch per call); returns how many were looked at.
    /// First it retries the aborts of multipart uploads that failed while storage was down
    /// (see `Storage::retry_failed_aborts`); a failure there is logged, and retried next time.
    pub async fn sweep_expired(&self) -> IngestResult<usize> {
        match self.store().retry_failed_aborts().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                count = n,
                "aborted multipart uploads left by a storage outage"
            ),
            Err(e) => {
                tracing::warn!(error = %ErrorChain(&e), "multipart uploads left by a storage outage are still not aborted; will retry")
            }
        }
        let repo = self.repo();
        let batch = repo.expired_uploads(Utc::now(), SWEEP_BATCH).await?;
        for listed in &batch {
            // Not while a request is writing to it; and only if it is still expired once locked
            // (a PATCH that just finished moved its expiry).
            let Ok(_guard) = self.lock_upload(&listed.id, SWEEP_WAIT).await else {
                continue;
            };
            let Some(upload) = repo.get_upload(&listed.id).await? else {
                continue;
            };
            if upload.expires_at > Utc::now() {
                continue;
            }
            if upload.status == UploadStatus::Active && upload.offset == upload.length {
                // Fully received but not recorded (a crash during completion): finish it.
                if self.finish_resumable(&upload, None).await.is_ok() {
                    let _ = repo.delete_upload(&upload.id).await;
                    continue;
                }
            }
            self.discard_upload(&upload).await;
        }
        Ok(batch.len())
    }

    /// Sweeps expired uploads every `interval` until the task is aborted; at start and every
    /// [`STALE_UPLOAD_SWEEP`] after, also aborts the multipart uploads older than
    /// [`STALE_UPLOAD_AGE`] that a dead process left open in the media bucket or in
    /// `output_store` (those of this process whose abort failed are retried every sweep).
    pub fn spawn_sweeper(
        &self,
        interval: Duration,
        output_store: Arc<dyn Storage>,
    ) -> tokio::task::JoinHandle<()> {
        let ingest = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut last_stale_sweep: Option<tokio::time::Instant> = None;
            loop {
                tick.tick().await;
                if last_stale_sweep.is_none_or(|t| t.elapsed() >= STALE_UPLOAD_SWEEP) {
                    last_stale_sweep = Some(tokio::time::Instant::now());
                    let stores = [ingest.store(), output_store.as_ref()];
                    match ingest.abort_stale_uploads(&stores, STALE_UPLOAD_AGE).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(count = n, "aborted stale multipart uploads"),
                        Err(e) => {
                            tracing::warn!(error = %ErrorChain(&e), "looking for stale multipart uploads failed; will retry")
                        }
                    }
                }
                match ingest.sweep_expired().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(count = n, "removed expired uploads"),
                    Err(e) => {
                        tracing::warn!(error = %ErrorChain(&e), "sweeping expired uploads failed")
                    }
                }
            }
        })
    }
}

fn upload_row(
    original: PlannedOriginal,
    new: NewUpload,
    protocol: UploadProtocol,
    state: String,
) -> Upload {
    let now = Utc::now();
    Upload {
        id: original.id.into(),
        owner_id: new.owner_id,
        protocol,
        filename: original.filename,
        title: new.title,
        key: original.key.to_string(),
        length: new.length as i64,
        offset: 0,
        state,
        metadata: new.metadata,
        status: UploadStatus::Active,
        expires_at: new.expires_at,
        created_at: now,
        updated_at: now,
    }
}
