//! PostgreSQL backend.

use crate::repo_impl::impl_repo;
use crate::shared;
use crate::{DbError, Result};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, Transaction};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct PgRepo {
    pub pool: PgPool,
}

impl PgRepo {
    /// Connects to `url` (`postgres://…`); fails if the server cannot be reached. Does not
    /// migrate.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::open(url)
            .await
            .map_err(|e| shared::redact_err(e, url))
    }

    async fn open(url: &str) -> Result<Self> {
        let opts = PgConnectOptions::from_str(url)
            .map_err(Self::db_err)?
            .application_name("mediaserver");
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(opts)
            .await
            .map_err(Self::db_err)?;
        Ok(Self { pool })
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

    async fn run_migrations(&self) -> Result<()> {
        MIGRATOR.run(&self.pool).await.map_err(shared::map_migrate)
    }

    fn db_err(e: sqlx::Error) -> DbError {
        shared::map_sqlx(
            e,
            |d| shared::conflict_subject_pg(d.constraint()),
            |d| {
                let code = d.code().unwrap_or_default();
                // 08: connection exception; 53: insufficient resources (e.g. too many
                // connections); 57P0x: server shutting down / starting up.
                if code.starts_with("08") || code.starts_with("53") || code.starts_with("57P0") {
                    DbError::Unavailable(d.message().to_string())
                } else {
                    DbError::Other(d.message().to_string())
                }
            },
        )
    }
}

impl_repo!(PgRepo, Postgres, PgRow, "postgres");
