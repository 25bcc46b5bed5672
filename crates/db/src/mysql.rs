//! MySQL backend (MySQL ≥ 8.0.21 / HeatWave, MariaDB ≥ 10.6), over sqlx's MySQL driver.
//!
//! The statements are those of the other backends, ported per facet in `mysql/` (MySQL has no
//! `RETURNING` on UPDATE and no `$n` placeholders; see `mysql/sql.rs`). Sessions run READ
//! COMMITTED, like PostgreSQL's default, with `ANSI_QUOTES` (double quotes name columns, as in
//! the shared statements), `NO_BACKSLASH_ESCAPES` (a backslash in a literal is itself, as the
//! `LIKE … ESCAPE '\'` of the library's search needs) and strict mode (a value too long for
//! its column is an error, not silently cut). The queue claims with
//! `SELECT … FOR UPDATE SKIP LOCKED` then updates the row it locked; there is no cross-process
//! notification, so workers poll as on SQLite.

/// `rows::event_cols!` with `key` quoted (a reserved word in MySQL; `ANSI_QUOTES` is on).
macro_rules! event_cols {
    () => {
        "id, media_id, source, bucket, \"key\", etag, size, created_at"
    };
}
/// `uploads::upload_cols!` with `key` quoted.
macro_rules! upload_cols {
    () => {
        "id, owner_id, protocol, filename, title, \"key\", length, \"offset\", state, \
         metadata, status, expires_at, created_at, updated_at"
    };
}
/// `admin::usage_cols!` for MySQL: sums cast to SIGNED (MySQL has no BIGINT cast), an item's
/// output bytes read from its `outputs` JSON with `JSON_VALUE`.
macro_rules! usage_cols {
    () => {
        "(SELECT COUNT(*) FROM media m WHERE m.owner_id = u.id) AS media_count, \
         (SELECT CAST(COALESCE(SUM(m.size), 0) AS SIGNED) FROM media m \
          WHERE m.owner_id = u.id) AS originals_bytes, \
         (SELECT CAST(COALESCE(SUM(up.length), 0) AS SIGNED) FROM uploads up \
          WHERE up.owner_id = u.id AND up.status = 'active') AS pending_bytes, \
         (SELECT CAST(COALESCE(SUM(CAST(JSON_VALUE(m.outputs, '$.bytes') AS SIGNED)), 0) \
          AS SIGNED) FROM media m WHERE m.owner_id = u.id) AS outputs_bytes"
    };
}

mod accounts;
mod admin;
mod analytics;
mod chunks;
mod media_items;
mod processing;
mod queue;
mod rows;
pub(crate) mod sql;
mod text_tracks;
mod uploads;
mod webhooks;

use crate::error::{self, DbError};
use crate::shared;
use crate::Result;
use chrono::{DateTime, Utc};
use sqlx::mysql::{MySqlConnectOptions, MySqlDatabaseError, MySqlPool, MySqlPoolOptions};
use sqlx::{Connection, Executor, MySql, Transaction};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/mysql");

/// `wait_for_jobs` sleeps at most this long: MySQL has no LISTEN/NOTIFY, so a worker in
/// another process polls at this interval.
pub const JOB_POLL_INTERVAL: Duration = Duration::from_millis(500);

const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Set on every new connection (see the module's documentation).
const SESSION_SQL_MODE: &str = "SET SESSION sql_mode = \
     CONCAT(@@sql_mode, ',ANSI_QUOTES,NO_BACKSLASH_ESCAPES,STRICT_TRANS_TABLES')";
const SESSION_ISOLATION: &str = "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED";

#[derive(Debug, Clone)]
pub struct MySqlRepo {
    pub pool: MySqlPool,
    /// Wakes this repo's waiting workers as soon as a job is enqueued through it; anyone else
    /// polls (as on SQLite).
    job_signal: std::sync::Arc<tokio::sync::Notify>,
    /// Whether items becoming ready or failed write webhook deliveries (`Webhooks`).
    webhook_outbox: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl MySqlRepo {
    /// Connects to `url` (`mysql://…` or `mariadb://…`); fails if the server cannot be
    /// reached. Does not migrate.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::open(url).await.map_err(|e| error::redact_err(e, url))
    }

    async fn open(url: &str) -> Result<Self> {
        // sqlx reads the URL's parts, whatever its scheme; `mariadb://` is the same protocol.
        let url = match url.strip_prefix("mariadb://") {
            Some(rest) => format!("mysql://{rest}"),
            None => url.to_owned(),
        };
        let opts = MySqlConnectOptions::from_str(&url).map_err(Self::db_err)?;
        let pool = MySqlPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(SESSION_SQL_MODE).await?;
                    conn.execute(SESSION_ISOLATION).await?;
                    Ok(())
                })
            })
            // A connection whose transaction could not be ended must not serve another.
            .after_release(|conn, _| Box::pin(async move { Ok(!conn.is_in_transaction()) }))
            .connect_with(opts)
            .await
            .map_err(Self::db_err)?;
        Ok(Self {
            pool,
            job_signal: Default::default(),
            webhook_outbox: Default::default(),
        })
    }

    /// READ COMMITTED; the statements make their writes conditional where races matter, and
    /// lock the rows they read before deciding (`FOR UPDATE`).
    async fn begin_write(&self) -> Result<Transaction<'static, MySql>> {
        self.pool.begin().await.map_err(Self::db_err)
    }

    /// Serialises "is this the first user?" decisions on the `users` row of `app_locks`
    /// (migration 0001): MySQL's table locks would end the transaction.
    async fn lock_users(tx: &mut Transaction<'static, MySql>) -> Result<()> {
        sql::query("SELECT name FROM app_locks WHERE name = 'users' FOR UPDATE")
            .fetch_optional(&mut **tx)
            .await
            .map_err(Self::db_err)?;
        Ok(())
    }

    /// DATETIME(6) keeps microseconds; the value bound is UTC (the session's time zone is
    /// `+00:00`, which sqlx sets).
    fn ts(t: DateTime<Utc>) -> DateTime<Utc> {
        shared::ts(t)
    }

    /// Wakes this repo's waiting workers; others poll (see [`JOB_POLL_INTERVAL`]). Signalled
    /// before the enqueuing transaction commits: a woken claim that finds nothing yet simply
    /// polls again.
    async fn notify_jobs(&self, _tx: &mut Transaction<'static, MySql>) -> Result<()> {
        self.job_signal.notify_waiters();
        Ok(())
    }

    async fn wait_jobs(&self, timeout: Duration) {
        tokio::select! {
            _ = self.job_signal.notified() => {}
            _ = tokio::time::sleep(timeout.min(JOB_POLL_INTERVAL)) => {}
        }
    }

    /// The server minds its own disk; its errors say when it is full.
    fn check_space(&self) -> Result<()> {
        Ok(())
    }

    async fn run_migrations(&self) -> Result<()> {
        MIGRATOR.run(&self.pool).await.map_err(error::map_migrate)
    }

    fn db_err(e: sqlx::Error) -> DbError {
        let number = |d: &dyn sqlx::error::DatabaseError| {
            d.try_downcast_ref::<MySqlDatabaseError>()
                .map_or(0, MySqlDatabaseError::number)
        };
        error::map_sqlx(
            e,
            error::Classify {
                conflict_subject: |d: &dyn sqlx::error::DatabaseError| {
                    conflict_subject(d.message())
                },
                is_full: |d: &dyn sqlx::error::DatabaseError| {
                    match number(d) {
                        // ER_DISK_FULL, ER_RECORD_FILE_FULL ("the table is full": InnoDB's
                        // tablespace could not grow).
                        1021 | 1114 => true,
                        // ER_GET_ERRNO / ER_ERROR_ON_WRITE with errno 28 (ENOSPC).
                        1030 | 3 | 1026 => names_enospc(d.message()),
                        _ => false,
                    }
                },
                is_unavailable: |d: &dyn sqlx::error::DatabaseError| {
                    matches!(
                        number(d),
                        // Too many connections, shutting down, lock wait timeout, deadlock
                        // (the transaction was rolled back: a retry may work), connection
                        // killed (MariaDB), read-only server or transaction (a failover in
                        // progress: HeatWave, replicas).
                        1040 | 1053 | 1205 | 1213 | 1927 | 1290 | 1792 | 1836
                    )
                },
            },
        )
    }

    /// [`Self::db_err`] for a statement inserting into `table`: a clash of its primary key
    /// (which the server names only `PRIMARY`) is a conflict about `subject`.
    fn insert_err(subject: &'static str) -> impl Fn(sqlx::Error) -> DbError {
        move |e| match Self::db_err(e) {
            DbError::Conflict {
                subject: "record",
                source,
            } if clash_key(&source).as_deref() == Some("PRIMARY") => {
                DbError::Conflict { subject, source }
            }
            other => other,
        }
    }

    /// Whether `e` is a clash on the unique key named `key` (an insert that another
    /// transaction, or an earlier request, already made).
    fn is_clash_on(e: &sqlx::Error, key: &str) -> bool {
        clash_key(e).is_some_and(|k| k == key)
    }
}

crate::database::impl_database!(MySqlRepo, "mysql");

/// The unique key a duplicate-entry error names, without the `table.` prefix MySQL 8 adds
/// ("Duplicate entry 'x' for key 'users.users_email_key'"; MariaDB: "… for key
/// 'users_email_key'").
fn clash_key(e: &sqlx::Error) -> Option<String> {
    let sqlx::Error::Database(d) = e else {
        return None;
    };
    if d.kind() != sqlx::error::ErrorKind::UniqueViolation {
        return None;
    }
    key_in_message(d.message()).map(str::to_owned)
}

fn key_in_message(message: &str) -> Option<&str> {
    let (_, quoted) = message.rsplit_once(" for key '")?;
    let key = quoted.strip_suffix('\'')?;
    Some(key.rsplit_once('.').map_or(key, |(_, k)| k))
}

/// Whether a storage-engine or file error names errno 28 (ENOSPC): "Got error 28 … from
/// storage engine", "(Errcode: 28 …)". Only the number after those words counts: a file name
/// or another errno with the digits 28 in it (`#sql_1283_0.MAI`, error 128) is not a full disk.
fn names_enospc(message: &str) -> bool {
    ["error ", "Errcode: ", "errno: "].iter().any(|word| {
        message.match_indices(word).any(|(at, w)| {
            let digits: String = message[at + w.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits == "28"
        })
    })
}

/// The subject of a unique violation, by the key's name (the unique keys are named after
/// PostgreSQL's constraints; a primary key is `PRIMARY`, see [`MySqlRepo::insert_err`]).
fn conflict_subject(message: &str) -> &'static str {
    error::conflict_subject_pg(key_in_message(message))
}

#[cfg(test)]
mod tests {
    use super::{key_in_message, names_enospc};

    #[test]
    fn only_errno_28_is_a_full_disk() {
        for full in [
            "Got error 28 \"No space left on device\" from storage engine InnoDB",
            "Error writing file './ibtmp1' (Errcode: 28 \"No space left on device\")",
            "Got error 28 from storage engine",
        ] {
            assert!(names_enospc(full), "{full}");
        }
        for other in [
            "Got error 128 \"Too many active concurrent transactions\" from storage engine InnoDB",
            "Error writing file '/tmp/#sql_1283_0.MAI' (Errcode: 13 \"Permission denied\")",
            "Error on delete of '/var/lib/mysql/t_28/x.ibd' (Errcode: 2 \"No such file\")",
        ] {
            assert!(!names_enospc(other), "{other}");
        }
    }

    #[test]
    fn the_clashing_key_is_read_from_both_servers_messages() {
        let mysql = "Duplicate entry 'a@b' for key 'users.users_email_key'";
        let mariadb = "Duplicate entry 'a@b' for key 'users_email_key'";
        assert_eq!(key_in_message(mysql), Some("users_email_key"));
        assert_eq!(key_in_message(mariadb), Some("users_email_key"));
        assert_eq!(
            key_in_message("Duplicate entry 'x' for key 'PRIMARY'"),
            Some("PRIMARY")
        );
        assert_eq!(key_in_message("something else"), None);
    }
}
