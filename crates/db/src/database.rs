//! [`Database`]: which backend, its migrations and a readiness round trip — what the binary's
//! startup and the readiness probe need — and its implementation, expanded once per backend by
//! [`impl_database!`].

use crate::Result;
use async_trait::async_trait;

#[async_trait]
pub trait Database: Send + Sync + std::fmt::Debug {
    /// "sqlite", "postgres" or "mysql".
    fn backend(&self) -> &'static str;
    /// Applies pending migrations (idempotent).
    async fn migrate(&self) -> Result<()>;
    /// Cheap round trip for readiness probes; also fails when the database's disk is full.
    async fn ping(&self) -> Result<()>;
}

/// Expands [`Database`] for `$repo`, which reports itself as `$backend`.
macro_rules! impl_database {
    ($repo:ty, $backend:literal) => {
        #[::async_trait::async_trait]
        impl $crate::Database for $repo {
            fn backend(&self) -> &'static str {
                $backend
            }

            async fn migrate(&self) -> $crate::Result<()> {
                self.run_migrations().await
            }

            async fn ping(&self) -> $crate::Result<()> {
                self.check_space()?;
                ::sqlx::query("SELECT 1")
                    .execute(&self.pool)
                    .await
                    .map_err(Self::db_err)?;
                Ok(())
            }
        }
    };
}
pub(crate) use impl_database;
