//! Helpers shared by the SQLite and PostgreSQL backends: timestamp normalisation, enum and JSON
//! parsing, and error mapping. The shared queries themselves are in `repo_impl.rs` and
//! `queue.rs`.

use crate::DbError;
use chrono::{DateTime, Datelike, SubsecRound, Utc};
use mediaserver_core::MediaOutputs;
use sqlx::error::{DatabaseError, ErrorKind};
use std::str::FromStr;

/// Both backends store microseconds (PostgreSQL rounds anything finer), so every timestamp is
/// truncated before it is written: what is read back is then the same on both backends.
pub(crate) fn ts(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

pub(crate) fn now() -> DateTime<Utc> {
    ts(Utc::now())
}

/// SQLite keeps timestamps as TEXT and the queue compares them in SQL (`run_after <= $1`), so
/// every timestamp is written in one fixed-width form, `YYYY-MM-DDTHH:MM:SS.ffffff+00:00`, whose
/// byte order is time order. (sqlx's own encoding drops or shortens the fraction, and its
/// ordering would hang on details such as never writing a `Z` suffix.) Years outside 0–9999
/// cannot be written in this form and are clamped.
pub(crate) fn sqlite_ts(t: DateTime<Utc>) -> String {
    match t.year() {
        y if y > 9999 => "9999-12-31T23:59:59.999999+00:00".to_string(),
        y if y < 0 => "0000-01-01T00:00:00.000000+00:00".to_string(),
        _ => ts(t).format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string(),
    }
}

/// Parses the `outputs` JSON column; a malformed document is a database error, not a panic.
pub(crate) fn parse_outputs(json: &str) -> Result<MediaOutputs, DbError> {
    serde_json::from_str(json).map_err(|e| DbError::Other(format!("bad outputs in database: {e}")))
}

pub(crate) fn outputs_json(outputs: &MediaOutputs) -> Result<String, DbError> {
    serde_json::to_string(outputs).map_err(|e| DbError::Other(format!("encoding outputs: {e}")))
}

/// Error recorded when a job's lease expired on its last allowed attempt.
pub(crate) fn lease_expired_error(attempts: i32) -> String {
    let plural = if attempts == 1 { "" } else { "s" };
    format!(
        "processing stopped: the worker stopped responding (lease expired) after {attempts} \
         attempt{plural}"
    )
}

pub(crate) fn parse_enum<T: FromStr>(value: &str, column: &str) -> Result<T, DbError>
where
    T::Err: std::fmt::Display,
{
    T::from_str(value).map_err(|e| DbError::Other(format!("bad {column} in database: {e}")))
}

/// Unique constraints by PostgreSQL constraint name and by SQLite column list (as in
/// "UNIQUE constraint failed: users.email"), with the subject reported in `DbError::Conflict`.
const CONFLICT_SUBJECTS: &[(&str, &str, &str)] = &[
    ("users_pkey", "users.id", "user"),
    ("users_email_key", "users.email", "email"),
    ("refresh_tokens_pkey", "refresh_tokens.id", "refresh token"),
    (
        "refresh_tokens_token_hash_key",
        "refresh_tokens.token_hash",
        "refresh token",
    ),
    ("api_keys_pkey", "api_keys.id", "api key"),
    ("api_keys_key_hash_key", "api_keys.key_hash", "api key"),
    ("media_pkey", "media.id", "media"),
    ("object_events_pkey", "object_events.id", "object event"),
    (
        "object_events_bucket_key_etag_key",
        "object_events.bucket, object_events.key, object_events.etag",
        "object event",
    ),
    ("jobs_pkey", "jobs.id", "job"),
    ("uploads_pkey", "uploads.id", "upload"),
    ("uploads_key_key", "uploads.key", "upload key"),
];

pub(crate) fn conflict_subject_pg(constraint: Option<&str>) -> String {
    constraint
        .and_then(|c| CONFLICT_SUBJECTS.iter().find(|(pg, _, _)| *pg == c))
        .map_or("record", |(_, _, s)| s)
        .to_string()
}

pub(crate) fn conflict_subject_sqlite(message: &str) -> String {
    let cols = message.rsplit_once(": ").map_or("", |(_, c)| c.trim());
    CONFLICT_SUBJECTS
        .iter()
        .find(|(_, sqlite, _)| *sqlite == cols)
        .map_or("record", |(_, _, s)| s)
        .to_string()
}

/// Maps the parts of `sqlx::Error` that mean the same on both backends; database-specific
/// errors go to `database`, which sees only errors that are not unique violations.
pub(crate) fn map_sqlx(
    e: sqlx::Error,
    conflict_subject: impl FnOnce(&dyn DatabaseError) -> String,
    database: impl FnOnce(&dyn DatabaseError) -> DbError,
) -> DbError {
    use sqlx::Error as E;
    match e {
        E::PoolTimedOut => DbError::Unavailable("timed out waiting for a connection".into()),
        E::PoolClosed => DbError::Unavailable("connection pool closed".into()),
        E::WorkerCrashed => DbError::Unavailable("database worker crashed".into()),
        E::Io(e) => DbError::Unavailable(format!("i/o error: {e}")),
        E::Tls(e) => DbError::Unavailable(format!("tls error: {e}")),
        E::Migrate(e) => map_migrate(*e),
        E::RowNotFound => DbError::NotFound,
        // Configuration errors come from URL parsing; sqlx's messages name the offending
        // parameter, never the URL itself, so they carry no credentials.
        E::Configuration(e) => DbError::Other(format!("invalid database configuration: {e}")),
        E::Database(d) if d.kind() == ErrorKind::UniqueViolation => {
            DbError::Conflict(conflict_subject(&*d))
        }
        E::Database(d) => database(&*d),
        other => DbError::Other(other.to_string()),
    }
}

/// A migration that cannot reach the database is reported as unavailability, not as a broken
/// migration, so that callers can tell "retry later" from "fix the schema".
pub(crate) fn map_migrate(e: sqlx::migrate::MigrateError) -> DbError {
    use sqlx::migrate::MigrateError as M;
    match e {
        M::Execute(
            inner @ (sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed),
        ) => DbError::Unavailable(inner.to_string()),
        other => DbError::Migration(other.to_string()),
    }
}

/// Removes the password of `url`, if any, from `msg` (defence in depth for connect errors).
pub(crate) fn redact(msg: String, url: &str) -> String {
    let Some(raw) = url::Url::parse(url)
        .ok()
        .and_then(|u| u.password().map(str::to_owned))
    else {
        return msg;
    };
    // The URL holds it percent-encoded; an error message could hold either form.
    let decoded: String = url::form_urlencoded::parse(format!("p={raw}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    [raw, decoded]
        .iter()
        .filter(|pw| !pw.is_empty())
        .fold(msg, |msg, pw| msg.replace(pw.as_str(), "***"))
}

pub(crate) fn redact_err(e: DbError, url: &str) -> DbError {
    match e {
        DbError::Conflict(m) => DbError::Conflict(redact(m, url)),
        DbError::NotFound => DbError::NotFound,
        DbError::Unavailable(m) => DbError::Unavailable(redact(m, url)),
        DbError::Migration(m) => DbError::Migration(redact(m, url)),
        DbError::Other(m) => DbError::Other(redact(m, url)),
    }
}
