//! The database, with a SQLite (WAL), a PostgreSQL and a MySQL (MySQL 8 / MariaDB ≥ 10.6)
//! implementation, each with its own migrations. Knows nothing of HTTP.
//!
//! Its interface is a few small traits, one per kind of user: [`Accounts`] (the API's
//! authentication), [`MediaItems`] (the API and ingest), [`Processing`] and [`JobQueue`] (the
//! pipeline), [`Uploads`] (the API's upload endpoints), [`Admin`] (user administration, storage
//! used per user, invitations, the jobs view), [`Webhooks`] (the outbox: the pipeline sends, the
//! API lists and redelivers), [`TextTracks`] (uploaded captions and subtitles) and [`Database`] (startup and readiness).
//! [`Repo`] is their union, so wiring passes one [`DynRepo`]; a caller imports the traits whose
//! methods it calls.

mod accounts;
pub mod admin;
mod analytics;
mod chunks;
mod database;
mod error;
mod library;
mod media_items;
pub mod mysql;
pub mod postgres;
mod processing;
mod queue;
mod repo_impl;
mod rows;
mod shared;
pub mod sqlite;
mod text_tracks;
mod uploads;
mod webhooks;

pub use accounts::Accounts;
pub use admin::Admin;
pub use analytics::Analytics;
pub use chunks::{BoxFuture, ChunkQueue, PartCompleted};
pub use database::Database;
pub use error::{Cause, DbError, Result};
pub use media_items::{MediaItems, Recorded};
pub use processing::{MediaReady, Processing};
pub use queue::JobQueue;
pub use text_tracks::{TextTracks, UploadedTextTrack};
pub use uploads::Uploads;
pub use webhooks::Webhooks;

use std::sync::Arc;

/// Everything the database offers. Implemented for every type that implements all the facets.
pub trait Repo:
    Database
    + Accounts
    + MediaItems
    + Processing
    + JobQueue
    + ChunkQueue
    + Uploads
    + Admin
    + Webhooks
    + Analytics
    + TextTracks
{
}

impl<T> Repo for T where
    T: Database
        + Accounts
        + MediaItems
        + Processing
        + JobQueue
        + ChunkQueue
        + ChunkQueue
        + Uploads
        + Admin
        + Webhooks
        + Analytics
        + TextTracks
        + ?Sized
{
}

pub type DynRepo = Arc<dyn Repo>;

/// Opens the database named by `url` (`sqlite:...`, `postgres://...`, or `mysql://...` /
/// `mariadb://...`). Does not migrate.
pub async fn connect(url: &str) -> Result<DynRepo> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteRepo::connect(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgRepo::connect(url).await?))
    } else if url.starts_with("mysql://") || url.starts_with("mariadb://") {
        Ok(Arc::new(mysql::MySqlRepo::connect(url).await?))
    } else {
        Err(DbError::Other {
            context: "unsupported database URL scheme".into(),
            source: None,
        })
    }
}
