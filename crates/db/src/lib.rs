//! The database behind one `Repo` trait, with a SQLite (WAL) and a PostgreSQL implementation,
//! each with its own migrations. Knows nothing of HTTP.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mediaserver_core::{
    ApiKey, Job, Media, MediaFilter, MediaOutputs, MediaPatch, NewUser, ObjectEvent,
    RefreshOutcome, RefreshToken, Upload, User,
};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A unique constraint was violated (e.g. duplicate email); names the constraint's subject.
    #[error("already exists: {0}")]
    Conflict(String),
    #[error("not found")]
    NotFound,
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("database error: {0}")]
    Other(String),
}

pub type Result<T, E = DbError> = std::result::Result<T, E>;

#[async_trait]
pub trait Repo: Send + Sync + std::fmt::Debug {
    /// "sqlite" or "postgres".
    fn backend(&self) -> &'static str;
    /// Applies pending migrations (idempotent).
    async fn migrate(&self) -> Result<()>;
    /// Cheap round trip for readiness probes.
    async fn ping(&self) -> Result<()>;

    // --- users
    /// Inserts a user. With `role: None` the user is admin iff no user exists yet (decided in the
    /// same transaction). Duplicate email (case-insensitive) → `Conflict`.
    async fn create_user(&self, user: NewUser) -> Result<User>;
    async fn user_by_id(&self, id: &str) -> Result<Option<User>>;
    /// Case-insensitive lookup.
    async fn user_by_email(&self, email: &str) -> Result<Option<User>>;
    /// The oldest admin, if any.
    async fn first_admin(&self) -> Result<Option<User>>;

    // --- refresh tokens
    async fn insert_refresh_token(&self, token: &RefreshToken) -> Result<()>;
    /// Atomically: if `old_hash` names a live (unrevoked, unexpired at `now`) token, revoke it and
    /// insert `new` for the same user → `Rotated`. If it names a revoked token → revoke all of
    /// that user's tokens → `Reused`. Otherwise `Invalid` (and `new` is not stored).
    /// `new.user_id` is ignored; the stored token's user is used.
    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new: &RefreshToken,
        now: DateTime<Utc>,
    ) -> Result<RefreshOutcome>;
    /// Revokes one token by hash; returns whether a live token was revoked.
    async fn revoke_refresh_token(&self, hash: &str) -> Result<bool>;
    async fn revoke_user_refresh_tokens(&self, user_id: &str) -> Result<u64>;

    // --- API keys
    async fn insert_api_key(&self, key: &ApiKey) -> Result<()>;
    /// The (unrevoked) key's owner, by hash.
    async fn user_by_api_key_hash(&self, hash: &str) -> Result<Option<User>>;

    // --- media
    /// In one transaction: inserts the media row (with `status` as given, normally `queued`), its
    /// "object created" event, and a queued job for it (`max_attempts` as given).
    /// If an event with the same `(bucket, key, etag)` already exists, nothing is inserted and
    /// `Duplicate` names the media item of the existing event — so a notification delivered
    /// twice makes one item and one job.
    async fn create_media_with_event(
        &self,
        media: &Media,
        event: &ObjectEvent,
        max_attempts: i32,
    ) -> Result<Recorded>;
    async fn get_media(&self, id: &str) -> Result<Option<Media>>;
    /// Newest first (by id, which is time-ordered), at most `filter.limit` items.
    async fn list_media(&self, filter: &MediaFilter) -> Result<Vec<Media>>;
    /// Applies the patch, bumps `updated_at`; `None` if no such item.
    async fn update_media(&self, id: &str, patch: &MediaPatch) -> Result<Option<Media>>;
    /// Deletes the item and its events; returns whether it existed.
    async fn delete_media(&self, id: &str) -> Result<bool>;
    /// Events of one item, oldest first (used by the pipeline and tests).
    async fn events_for_media(&self, media_id: &str) -> Result<Vec<ObjectEvent>>;

    // --- processing results
    /// Sets `status = processing`, `progress = 0`, clears `error`.
    async fn mark_media_processing(&self, id: &str) -> Result<()>;
    /// Sets `progress` (0–100) and, optionally, `playable`.
    async fn set_media_progress(
        &self,
        id: &str,
        progress: i32,
        playable: Option<bool>,
    ) -> Result<()>;
    /// Sets `status = ready`, `progress = 100`, `playable` as given, probe facts and outputs.
    async fn mark_media_ready(&self, id: &str, ready: &MediaReady) -> Result<()>;
    /// Sets `status = failed` and `error`.
    async fn mark_media_failed(&self, id: &str, error: &str) -> Result<()>;

    // --- the job queue
    /// Claims the oldest claimable job: `queued` with `run_after <= now`, or `running` with an
    /// expired lease (a worker died). Sets `running`, `lease_owner = worker`,
    /// `lease_expires_at = now + lease`, `attempts += 1`. A job whose lease expired when it had
    /// already used all its attempts is not returned but marked `failed` (and its media item
    /// failed with "worker stopped responding …"). Safe under concurrency: two workers never
    /// claim the same job (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite: one `UPDATE … RETURNING`).
    async fn claim_job(
        &self,
        worker: &str,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<Job>>;
    /// Extends the lease if `worker` still holds it; `false` means the lease was lost.
    async fn heartbeat_job(
        &self,
        job_id: &str,
        worker: &str,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    /// Marks the job `done` if `worker` holds it.
    async fn complete_job(&self, job_id: &str, worker: &str) -> Result<bool>;
    /// Records a failed attempt by `worker`. With `retry_at` and attempts left, the job returns to
    /// `queued` with `run_after = retry_at`; otherwise it becomes `failed` and its media item
    /// `failed` with `error`, in the same transaction. Returns the job's new status.
    async fn fail_job(
        &self,
        job_id: &str,
        worker: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<mediaserver_core::JobStatus>;
    /// Hands a job back (graceful shutdown): `queued`, claimable now, the attempt not counted.
    async fn release_job(&self, job_id: &str, worker: &str) -> Result<bool>;
    async fn get_job(&self, job_id: &str) -> Result<Option<Job>>;
    async fn jobs_for_media(&self, media_id: &str) -> Result<Vec<Job>>;
    // --- uploads in progress
    /// Inserts an upload; a duplicate id or key → `Conflict`.
    async fn create_upload(&self, upload: &Upload) -> Result<()>;
    async fn get_upload(&self, id: &str) -> Result<Option<Upload>>;
    /// The upload that will store its original at `key` (direct uploads completed by a bucket
    /// event).
    async fn upload_by_key(&self, key: &str) -> Result<Option<Upload>>;
    /// Records progress if the upload is `active` and still at `expected_offset`; `false`
    /// means another request moved it (or it completed or vanished) first.
    async fn record_upload_progress(
        &self,
        id: &str,
        expected_offset: i64,
        offset: i64,
        state: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<bool>;
    /// Marks an `active` upload `complete` at `offset`; `false` if it was not active.
    async fn complete_upload(&self, id: &str, offset: i64) -> Result<bool>;
    /// Takes or renews the upload's write lease for `writer` until `until`; `false` while
    /// another writer's lease has not run out at `now` (or the upload does not exist). Replicas
    /// use it so that one request at a time writes to an upload.
    async fn lease_upload(
        &self,
        id: &str,
        writer: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    /// Extends the lease `writer` holds; `false` if it no longer holds it (given back, or run
    /// out and taken by another). Never takes a free lease: a renewal racing the release must
    /// not bring it back.
    async fn renew_upload_lease(
        &self,
        id: &str,
        writer: &str,
        until: DateTime<Utc>,
    ) -> Result<bool>;
    /// Gives the lease back if `writer` still holds it.
    async fn release_upload_lease(&self, id: &str, writer: &str) -> Result<()>;
    async fn delete_upload(&self, id: &str) -> Result<bool>;
    /// Uploads whose `expires_at` is at or before `now`, oldest first.
    async fn expired_uploads(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<Upload>>;

    /// Waits until a job may have become claimable (PostgreSQL: `LISTEN/NOTIFY` on insert and
    /// release) or `timeout` passes (SQLite: no notification; returns after `timeout` or
    /// [`sqlite::JOB_POLL_INTERVAL`] (500 ms), whichever is shorter). Spurious wake-ups are fine.
    async fn wait_for_jobs(&self, timeout: Duration);
}

/// Result of [`Repo::create_media_with_event`].
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    Created,
    /// The event was already recorded; nothing was inserted.
    Duplicate {
        media_id: Option<String>,
    },
}

/// What a finished processing run records on the item.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaReady {
    pub duration_seconds: Option<f64>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub playable: bool,
    pub outputs: MediaOutputs,
}

pub type DynRepo = Arc<dyn Repo>;

/// Opens the database named by `url` (`sqlite:...` or `postgres://...`). Does not migrate.
pub async fn connect(url: &str) -> Result<DynRepo> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteRepo::connect(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgRepo::connect(url).await?))
    } else {
        Err(DbError::Other("unsupported database URL scheme".into()))
    }
}

pub mod postgres;
mod queue;
mod repo_impl;
mod rows;
mod shared;
pub mod sqlite;
mod uploads;
