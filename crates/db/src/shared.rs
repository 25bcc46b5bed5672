//! Helpers shared by the SQLite and PostgreSQL backends: timestamp normalisation and parsing of
//! enum, id and JSON columns. Error mapping is in `error.rs`; the shared queries are with their traits.

use crate::DbError;
use chrono::{DateTime, Datelike, SubsecRound, Utc};
use mediaserver_core::MediaOutputs;
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
/// [`parse_column`] for a nullable column.
pub(crate) fn parse_optional<T: FromStr>(
    value: Option<String>,
    column: &str,
) -> Result<Option<T>, DbError>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    value.map(|v| parse_column(&v, column)).transpose()
}

pub(crate) fn parse_outputs(json: &str) -> Result<MediaOutputs, DbError> {
    serde_json::from_str(json).map_err(|e| DbError::other("bad outputs in database", e))
}

pub(crate) fn outputs_json(outputs: &MediaOutputs) -> Result<String, DbError> {
    serde_json::to_string(outputs).map_err(|e| DbError::other("encoding outputs", e))
}

/// Error recorded when a job's lease expired on its last allowed attempt.
pub(crate) fn lease_expired_error(attempts: i32) -> String {
    let plural = if attempts == 1 { "" } else { "s" };
    format!(
        "processing stopped: the worker stopped responding (lease expired) after {attempts} \
         attempt{plural}"
    )
}

/// Parses a text column into its type (an enum, a typed id): a value this server would not have
/// written is a database error, not a panic.
pub(crate) fn parse_column<T: FromStr>(value: &str, column: &str) -> Result<T, DbError>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    T::from_str(value).map_err(|e| DbError::other(format!("bad {column} in database"), e))
}

/// A job's `chunk_index` column: a negative one was not written by this server.
pub(crate) fn chunk_index(value: Option<i32>) -> Result<Option<u32>, DbError> {
    value
        .map(|v| {
            u32::try_from(v).map_err(|_| DbError::Other {
                context: format!("bad chunk index in database: {v}"),
                source: None,
            })
        })
        .transpose()
}
