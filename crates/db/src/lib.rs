//! The database behind one `Repo` trait, with a SQLite (WAL) and a PostgreSQL implementation,
//! each with its own migrations. Knows nothing of HTTP.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mediaserver_core::{
    ApiKey, Media, MediaFilter, MediaPatch, NewUser, ObjectEvent, RefreshOutcome, RefreshToken,
    User,
};
use std::sync::Arc;

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
    /// Inserts the media row and its "object created" event in one transaction.
    async fn create_media_with_event(&self, media: &Media, event: &ObjectEvent) -> Result<()>;
    async fn get_media(&self, id: &str) -> Result<Option<Media>>;
    /// Newest first (by id, which is time-ordered), at most `filter.limit` items.
    async fn list_media(&self, filter: &MediaFilter) -> Result<Vec<Media>>;
    /// Applies the patch, bumps `updated_at`; `None` if no such item.
    async fn update_media(&self, id: &str, patch: &MediaPatch) -> Result<Option<Media>>;
    /// Deletes the item and its events; returns whether it existed.
    async fn delete_media(&self, id: &str) -> Result<bool>;
    /// Events of one item, oldest first (used by the pipeline and tests).
    async fn events_for_media(&self, media_id: &str) -> Result<Vec<ObjectEvent>>;
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
mod repo_impl;
mod shared;
pub mod sqlite;
