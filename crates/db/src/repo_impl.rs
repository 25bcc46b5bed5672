//! The backend-independent implementation of every facet of [`Repo`](crate::Repo), expanded
//! once per backend by [`impl_repo!`] so that every query is written once. The SQL uses
//! `$1, $2, …` placeholders, which sqlx-sqlite accepts too (as numbered parameters). Each
//! facet's queries are in the file that defines its trait; row mapping is in `rows.rs`.
//!
//! A backend type invoking [`impl_repo!`] must provide these inherent items:
//! - `async fn begin_write(&self) -> Result<Transaction<'static, DB>>`: a transaction that may
//!   read and then write without losing a race (SQLite: `BEGIN IMMEDIATE`);
//! - `async fn lock_users(tx) -> Result<()>`: serialises "is this the first user?" decisions;
//! - `async fn run_migrations(&self) -> Result<()>`;
//! - `fn check_space(&self) -> Result<()>`: readiness's check that the database's disk has room;
//! - `fn db_err(e: sqlx::Error) -> DbError`;
//! - `fn ts(t: DateTime<Utc>) -> impl Encode + Type`: how a timestamp is bound (every
//!   timestamp written or compared goes through it);
//! - `async fn notify_jobs(&self, tx) -> Result<()>`: wakes `wait_for_jobs` once `tx` commits;
//! - `async fn wait_jobs(&self, timeout: Duration)`: the body of `wait_for_jobs`;
//! - a field `webhook_outbox: Arc<AtomicBool>` (see `Webhooks::record_webhooks`).

/// Expands every facet of `Repo` for `$repo` (a struct with a `pool` field of
/// `sqlx::Pool<$db>`), whose rows are `$row`. `$lock` is the row-locking clause for the
/// queue's candidate `SELECT`s (see `queue.rs`).
macro_rules! impl_repo {
    ($repo:ty, $db:ty, $row:ty, $backend:literal, $lock:literal) => {
        $crate::rows::impl_rows!($repo, $row);
        $crate::database::impl_database!($repo, $backend);
        $crate::accounts::impl_accounts!($repo, $db);
        $crate::media_items::impl_media_items!($repo);
        $crate::processing::impl_processing!($repo, $db);
        $crate::queue::impl_queue!($repo, $db, $lock);
        $crate::chunks::impl_chunks!($repo, $db, ::sqlx);
        $crate::uploads::impl_uploads!($repo, $row);
        $crate::webhooks::impl_webhooks!($repo, $db, $row, $lock);
        $crate::analytics::impl_analytics!($repo);
        $crate::text_tracks::impl_text_tracks!($repo, $row);
    };
}
pub(crate) use impl_repo;
