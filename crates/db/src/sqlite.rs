//! SQLite backend: one file in WAL mode, `synchronous=NORMAL`, foreign keys on.

use crate::error::{self, DbError};
use crate::repo_impl::impl_repo;
use crate::shared;
use crate::Result;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Connection, Sqlite, Transaction};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// `wait_for_jobs` on SQLite sleeps at most this long (or the caller's timeout, if shorter):
/// there is no cross-process notification, so a worker in another process polls at this interval.
pub const JOB_POLL_INTERVAL: Duration = Duration::from_millis(500);

/// How long a statement waits for another connection's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// Free space below which readiness reports the database's disk full (see `check_space`).
const MIN_FREE_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Clone)]
pub struct SqliteRepo {
    pub pool: SqlitePool,
    /// The directory holding the database file (`None` in memory), for readiness.
    dir: Option<std::path::PathBuf>,
    /// Wakes this repo's waiting workers as soon as a job is enqueued through it (uploads and
    /// workers usually share a process, and a repo, in the embedded setup); anyone else polls.
    /// Signalled before the enqueuing transaction commits, which is fine: the woken claim's
    /// `BEGIN IMMEDIATE` waits for that commit. Per repo, not per process, so that separate
    /// databases in one process (tests) do not wake each other.
    job_signal: std::sync::Arc<tokio::sync::Notify>,
    /// Whether items becoming ready or failed write webhook deliveries (`Webhooks`).
    webhook_outbox: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl SqliteRepo {
    /// Opens (creating if missing, with its parent directory) the database named by `url`,
    /// e.g. `sqlite:///var/lib/mediaserver/db.sqlite` or `sqlite::memory:`. Does not migrate.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::open(url).await.map_err(|e| error::redact_err(e, url))
    }

    async fn open(url: &str) -> Result<Self> {
        let opts = SqliteConnectOptions::from_str(url)
            .map_err(Self::db_err)?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool_opts = SqlitePoolOptions::new()
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_release(|conn, _| {
                Box::pin(async move {
                    // Waits for the ROLLBACK a dropped transaction queued, then asks whether it
                    // worked: when the disk fills, SQLite can end a transaction itself (its
                    // COMMIT failed with SQLITE_FULL) and the ROLLBACK then fails too, leaving
                    // sqlx counting a transaction that is gone. Such a connection would refuse
                    // every later BEGIN until a restart: close it instead.
                    conn.ping().await?;
                    Ok(!conn.is_in_transaction())
                })
            });
        let mut dir = None;
        let (opts, pool_opts) = if url.contains(":memory:") || url.contains("mode=memory") {
            // An in-memory database lives as long as its connection: keep exactly one, forever.
            let pool_opts = pool_opts
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
            (opts, pool_opts)
        } else {
            if let Some(parent) = opts.get_filename().parent() {
                let parent = if parent.as_os_str().is_empty() {
                    std::path::Path::new(".")
                } else {
                    parent
                };
                std::fs::create_dir_all(parent).map_err(|e| DbError::Unavailable {
                    // Only met while connecting (at startup), never by an HTTP request.
                    reason: format!("creating database directory {}", parent.display()),
                    source: Some(Box::new(e)),
                })?;
                dir = Some(parent.to_path_buf());
            }
            let opts = opts
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal);
            (opts, pool_opts.max_connections(8))
        };
        let pool = pool_opts.connect_with(opts).await.map_err(Self::db_err)?;
        Ok(Self {
            pool,
            dir,
            job_signal: Default::default(),
            webhook_outbox: Default::default(),
        })
    }

    /// `BEGIN IMMEDIATE` takes the write lock up front (waiting up to the busy timeout), so a
    /// transaction that reads and then writes cannot fail with SQLITE_BUSY half-way or act on
    /// a stale read. It also serialises first-user registration.
    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(Self::db_err)
    }

    /// Nothing to do: `begin_write` already holds the database's single write lock.
    async fn lock_users(_tx: &mut Transaction<'static, Sqlite>) -> Result<()> {
        Ok(())
    }

    /// Every timestamp is bound as fixed-width text, so SQL comparisons are time order.
    fn ts(t: DateTime<Utc>) -> String {
        shared::sqlite_ts(t)
    }

    /// Wakes this repo's waiting workers; others poll (see [`JOB_POLL_INTERVAL`]).
    async fn notify_jobs(&self, _tx: &mut Transaction<'static, Sqlite>) -> Result<()> {
        self.job_signal.notify_waiters();
        Ok(())
    }

    async fn wait_jobs(&self, timeout: Duration) {
        tokio::select! {
            _ = self.job_signal.notified() => {}
            _ = tokio::time::sleep(timeout.min(JOB_POLL_INTERVAL)) => {}
        }
    }

    /// Readiness: SQLite needs room on its disk for every write (WAL frames, then the
    /// checkpoint); with less than this free, writes are about to fail with SQLITE_FULL.
    fn check_space(&self) -> Result<()> {
        match &self.dir {
            Some(dir) => error::check_free_space(dir, MIN_FREE_BYTES),
            None => Ok(()),
        }
    }

    async fn run_migrations(&self) -> Result<()> {
        MIGRATOR.run(&self.pool).await.map_err(error::map_migrate)
    }

    fn db_err(e: sqlx::Error) -> DbError {
        // sqlx reports the extended result code; the primary code is its low byte.
        let primary = |d: &dyn sqlx::error::DatabaseError| {
            d.code().and_then(|c| c.parse::<i32>().ok()).unwrap_or(0) & 0xff
        };
        error::map_sqlx(
            e,
            error::Classify {
                conflict_subject: |d: &dyn sqlx::error::DatabaseError| {
                    error::conflict_subject_sqlite(d.message())
                },
                // SQLITE_FULL.
                is_full: |d: &dyn sqlx::error::DatabaseError| primary(d) == 13,
                // BUSY, LOCKED, IOERR, CANTOPEN: the database is there but not usable right
                // now.
                is_unavailable: |d: &dyn sqlx::error::DatabaseError| {
                    matches!(primary(d), 5 | 6 | 10 | 14)
                },
            },
        )
    }
}

impl_repo!(SqliteRepo, Sqlite, SqliteRow, "sqlite", "");
// An item's output bytes: a field of its `outputs` JSON (SQLite's JSON1 functions).
crate::admin::impl_admin!(
    SqliteRepo,
    Sqlite,
    SqliteRow,
    "json_extract(m.outputs, '$.bytes')"
);
