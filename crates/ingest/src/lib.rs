//! Ingest: turning bytes in the media bucket into media items. Every way an original arrives ends
//! here — a one-request upload streamed through the server, a tus or direct upload once its last
//! byte is in, an object announced by a bucket event or found by `mediaserver watch` — and is
//! recorded the same way: the kind sniffed from the stored bytes (never the name), the media row,
//! its "object created" event and a queued processing job in one transaction. Also discarding
//! what will not be recorded, and sweeping expired uploads.
//!
//! Every step is safe to repeat, so a crash half-way is finished by the next request, event or
//! sweep instead of leaving an orphan. Knows nothing of HTTP (the API maps [`IngestError`] to
//! responses) or of ffmpeg.

mod bucket;
mod clips;
mod error;
mod locks;
mod quota;
mod reconcile;
mod streamed;
mod uploads;

pub use bucket::IngestOutcome;
pub use clips::NewClip;
pub use error::{BoxError, IngestError, IngestResult};
pub use locks::{UploadGuard, LEASE, WAIT};
pub use reconcile::{ReconcileOptions, ReconcileReport, MISSING_ORIGINAL};
pub use streamed::StoredUpload;
pub use uploads::{upload_key, upload_state, NewUpload, STALE_UPLOAD_AGE, STALE_UPLOAD_SWEEP};

use futures::StreamExt;
use mediaserver_core::sniff::{sniff, Sniffed, SNIFF_LEN};
use mediaserver_core::{layout, safe_filename, MediaId, RetryPolicy, UploadId};
use mediaserver_db::DynRepo;
use mediaserver_storage::{ObjectKey, Storage};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The ingest service: one per process, shared by the HTTP handlers, the upload sweeper and
/// `mediaserver watch`. Cheap to clone.
#[derive(Clone)]
pub struct Ingest(Arc<Inner>);

struct Inner {
    repo: DynRepo,
    /// Where originals go (`MEDIA_BUCKET`).
    media_store: Arc<dyn Storage>,
    /// Recorded on each job when it is queued (see [`RetryPolicy`]).
    max_attempts: i32,
    locks: locks::UploadLocks,
    /// Bytes one user may store (`USER_QUOTA_BYTES`); `u64::MAX`: no limit. Set once at wiring
    /// (see [`Ingest::with_user_quota`]).
    quota: std::sync::atomic::AtomicU64,
}

impl Ingest {
    pub fn new(repo: DynRepo, media_store: Arc<dyn Storage>, retry: &RetryPolicy) -> Self {
        Ingest(Arc::new(Inner {
            repo,
            media_store,
            max_attempts: retry.max_attempts,
            locks: Default::default(),
            quota: std::sync::atomic::AtomicU64::new(u64::MAX),
        }))
    }

    pub fn repo(&self) -> &DynRepo {
        &self.0.repo
    }

    pub fn media_store(&self) -> &Arc<dyn Storage> {
        &self.0.media_store
    }

    /// Waits up to `wait` until the caller may write to upload `id`, whichever replica holds it
    /// now ([`IngestError::Locked`] after that). See the `locks` module.
    pub async fn lock_upload(
        &self,
        id: &UploadId,
        wait: std::time::Duration,
    ) -> IngestResult<UploadGuard> {
        self.0.locks.lock(&self.0.repo, id, wait).await
    }

    /// Queues a `failed` item again with a new job of fresh attempts (the same
    /// [`RetryPolicy`] as a new upload). `false` if the item is not `failed`.
    pub async fn retry_failed(&self, id: &MediaId) -> IngestResult<bool> {
        let requeued = self
            .0
            .repo
            .retry_failed_media(id, self.0.max_attempts)
            .await?;
        if requeued {
            tracing::info!(media_id = %id, "failed item queued again");
        }
        Ok(requeued)
    }

    fn max_attempts(&self) -> i32 {
        self.0.max_attempts
    }

    fn store(&self) -> &dyn Storage {
        self.0.media_store.as_ref()
    }
}

/// Where a new original goes: a fresh id (the media item's to be, and its upload's if it has
/// one) and its key.
#[derive(Debug, Clone)]
pub struct PlannedOriginal {
    pub id: MediaId,
    /// The client's file name, made safe to be part of a key.
    pub filename: String,
    pub key: ObjectKey,
}

impl PlannedOriginal {
    pub fn new(client_filename: &str) -> IngestResult<Self> {
        let id = MediaId::new();
        let filename = safe_filename(client_filename);
        let key = ObjectKey::new(layout::original_key(&id, &filename))
            .map_err(IngestError::UnusableFilename)?;
        Ok(PlannedOriginal { id, filename, key })
    }
}

/// The kind of the stored object `key` (`size` bytes), from its leading bytes.
async fn sniff_stored(
    store: &dyn Storage,
    key: &ObjectKey,
    size: u64,
) -> IngestResult<Option<Sniffed>> {
    let head = store.read_at(key, 0..size.min(SNIFF_LEN as u64)).await?;
    Ok(sniff(&head))
}

/// SHA-256 (hex) of a stored object, read in one streaming pass.
async fn hash_stored(store: &dyn Storage, key: &ObjectKey) -> IngestResult<String> {
    let (_, mut stream) = store.get_stream(key).await?;
    let mut hasher = Sha256::new();
    while let Some(chunk) = stream.next().await {
        hasher.update(&chunk?);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Bytes of originals received (`/metrics`).
fn record_upload_bytes(bytes: u64) {
    metrics::counter!("media_uploaded_bytes_total").increment(bytes);
}
