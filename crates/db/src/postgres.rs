//! PostgreSQL backend.

use crate::error::{self, DbError};
use crate::repo_impl::impl_repo;
use crate::shared;
use crate::Result;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, Postgres, Transaction};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, Notify};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Channel notified (empty payload) when a job may have become claimable.
pub const JOBS_CHANNEL: &str = "mediaserver_jobs";

/// At most this many already-arrived notifications are swallowed after a wake-up, so that a
/// burst of enqueues wakes an idle worker once rather than once per job.
const MAX_DRAINED: usize = 256;

#[derive(Debug, Clone)]
pub struct PgRepo {
    pub pool: PgPool,
    jobs: Arc<JobWaiters>,
    /// Whether items becoming ready or failed write webhook deliveries (`Webhooks`).
    webhook_outbox: Arc<std::sync::atomic::AtomicBool>,
}

/// State behind `wait_for_jobs`, shared by clones of the repo. One waiter at a time holds the
/// listener (created on first use, holding one pooled connection; dropped and recreated after
/// an error) and, on a notification, wakes every other waiter through `woken`.
#[derive(Debug, Default)]
struct JobWaiters {
    listener: Mutex<Option<PgListener>>,
    woken: Notify,
}

impl PgRepo {
    /// Connects to `url` (`postgres://…`); fails if the server cannot be reached. Does not
    /// migrate.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::open(url).await.map_err(|e| error::redact_err(e, url))
    }

    async fn open(url: &str) -> Result<Self> {
        let opts = PgConnectOptions::from_str(url)
            .map_err(Self::db_err)?
            .application_name("mediaserver");
        let pool = PgPoolOptions::new()
            .max_connections(10)
            // A connection whose transaction could not be ended must not serve another.
            .after_release(|conn, _| Box::pin(async move { Ok(!conn.is_in_transaction()) }))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(opts)
            .await
            .map_err(Self::db_err)?;
        Ok(Self {
            pool,
            jobs: Arc::default(),
            webhook_outbox: Arc::default(),
        })
    }

    /// READ COMMITTED; the shared code makes its writes conditional where races matter.
    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>> {
        self.pool.begin().await.map_err(Self::db_err)
    }

    /// Serialises "is this the first user?" decisions: SHARE ROW EXCLUSIVE conflicts with
    /// itself and with inserts, but not with plain reads. Released at commit/rollback.
    async fn lock_users(tx: &mut Transaction<'static, Postgres>) -> Result<()> {
        sqlx::query("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut **tx)
            .await
            .map_err(Self::db_err)?;
        Ok(())
    }

    fn ts(t: DateTime<Utc>) -> DateTime<Utc> {
        shared::ts(t)
    }

    /// Delivered to listeners when `tx` commits (and not at all if it rolls back).
    async fn notify_jobs(&self, tx: &mut Transaction<'static, Postgres>) -> Result<()> {
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(JOBS_CHANNEL)
            .execute(&mut **tx)
            .await
            .map_err(Self::db_err)?;
        Ok(())
    }

    async fn wait_jobs(&self, timeout: Duration) {
        // Every await below is cancel-safe (PgListener::recv included), so the timeout may
        // cut in anywhere.
        let _ = tokio::time::timeout(timeout, self.next_job_notification()).await;
    }

    /// Returns on the next notification, whether received by this waiter or by the one that
    /// holds the listener. If the listener cannot be set up or fails, waits forever (the
    /// caller's timeout ends it, and the next wait tries again) rather than spinning.
    async fn next_job_notification(&self) {
        // Registered before queuing for the lock, so a wake-up sent meanwhile is not missed.
        let woken = self.jobs.woken.notified();
        tokio::pin!(woken);
        // Biased: the leader wakes everyone and then releases the lock, so both branches can be
        // ready at once, and a woken waiter must return rather than wait for the next one.
        let mut slot = tokio::select! {
            biased;
            () = &mut woken => return,
            slot = self.jobs.listener.lock() => slot,
        };
        let listener = match slot.take() {
            Some(listener) => slot.insert(listener),
            None => match self.new_listener().await {
                Ok(listener) => slot.insert(listener),
                Err(e) => {
                    tracing::warn!(
                        error = %mediaserver_core::ErrorChain(&e),
                        "cannot listen for job notifications; polling"
                    );
                    return std::future::pending().await;
                }
            },
        };
        match listener.recv().await {
            Ok(_) => {
                for _ in 0..MAX_DRAINED {
                    if listener.next_buffered().is_none() {
                        break;
                    }
                }
                self.jobs.woken.notify_waiters();
            }
            Err(e) => {
                let e = Self::db_err(e);
                tracing::warn!(error = %mediaserver_core::ErrorChain(&e), "job notification listener failed");
                *slot = None;
                std::future::pending::<()>().await;
            }
        }
    }

    async fn new_listener(&self) -> Result<PgListener> {
        let mut listener = PgListener::connect_with(&self.pool)
            .await
            .map_err(Self::db_err)?;
        listener.listen(JOBS_CHANNEL).await.map_err(Self::db_err)?;
        Ok(listener)
    }

    /// The server minds its own disk; its errors say when it is full.
    fn check_space(&self) -> Result<()> {
        Ok(())
    }

    async fn run_migrations(&self) -> Result<()> {
        MIGRATOR.run(&self.pool).await.map_err(error::map_migrate)
    }

    fn db_err(e: sqlx::Error) -> DbError {
        error::map_sqlx(
            e,
            error::Classify {
                conflict_subject: |d: &dyn sqlx::error::DatabaseError| {
                    error::conflict_subject_pg(d.constraint())
                },
                // disk_full.
                is_full: |d: &dyn sqlx::error::DatabaseError| d.code().as_deref() == Some("53100"),
                is_unavailable: |d: &dyn sqlx::error::DatabaseError| {
                    let code = d.code().unwrap_or_default();
                    // 08: connection exception; 53: insufficient resources (e.g. too many
                    // connections); 57P0x: server shutting down / starting up.
                    code.starts_with("08") || code.starts_with("53") || code.starts_with("57P0")
                },
            },
        )
    }
}

impl_repo!(
    PgRepo,
    Postgres,
    PgRow,
    "postgres",
    " FOR UPDATE SKIP LOCKED"
);
// An item's output bytes: a field of its `outputs` JSON (stored as text).
crate::admin::impl_admin!(
    PgRepo,
    Postgres,
    PgRow,
    "(m.outputs::jsonb ->> 'bytes')::bigint"
);
