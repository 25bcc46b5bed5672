//! [`DbError`], and how both backends map `sqlx` errors onto it. Each kind keeps its cause as
//! its `source`, so a log that prints the chain shows everything, while callers match on the
//! kind.

use mediaserver_core::ErrorChain;
use sqlx::error::{DatabaseError, ErrorKind};
use std::error::Error as StdError;

/// The underlying error of a [`DbError`] that is not always a `sqlx::Error`.
pub type Cause = Box<dyn StdError + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A unique constraint was violated (e.g. duplicate email); `subject` names what already
    /// exists ("email", "upload key", … or "record").
    #[error("already exists: {subject}")]
    Conflict {
        subject: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("not found")]
    NotFound,
    /// The database cannot be reached or cannot serve right now; a retry later may work.
    /// `reason` and the chain of `source` name no SQL and no credentials: the API tells clients
    /// the whole chain.
    #[error("database unavailable: {reason}")]
    Unavailable {
        reason: String,
        #[source]
        source: Option<Cause>,
    },
    /// The disk holding the database is full: the statement wrote nothing. Writes work again
    /// once space is freed (no restart needed).
    #[error("the database's disk is full")]
    Full(#[source] sqlx::Error),
    /// The schema could not be brought up to date (a migration failed, or the database was
    /// migrated by a newer version).
    #[error("migration failed")]
    Migration(#[source] sqlx::migrate::MigrateError),
    /// Anything else: a failed statement, stored data this code cannot read, a bad URL.
    /// `context` says what went wrong; the cause, if there is one, is `source`.
    #[error("database error: {context}")]
    Other {
        context: String,
        #[source]
        source: Option<Cause>,
    },
}

pub type Result<T, E = DbError> = std::result::Result<T, E>;

impl DbError {
    pub(crate) fn other(context: impl Into<String>, source: impl Into<Cause>) -> Self {
        DbError::Other {
            context: context.into(),
            source: Some(source.into()),
        }
    }

    fn unavailable(reason: impl Into<String>, source: Option<Cause>) -> Self {
        DbError::Unavailable {
            reason: reason.into(),
            source,
        }
    }
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

pub(crate) fn conflict_subject_pg(constraint: Option<&str>) -> &'static str {
    constraint
        .and_then(|c| CONFLICT_SUBJECTS.iter().find(|(pg, _, _)| *pg == c))
        .map_or("record", |(_, _, s)| s)
}

pub(crate) fn conflict_subject_sqlite(message: &str) -> &'static str {
    let cols = message.rsplit_once(": ").map_or("", |(_, c)| c.trim());
    CONFLICT_SUBJECTS
        .iter()
        .find(|(_, sqlite, _)| *sqlite == cols)
        .map_or("record", |(_, _, s)| s)
}

/// How a backend classifies its own database errors, for [`map_sqlx`].
pub(crate) struct Classify<C, F, U> {
    /// The subject of a unique violation.
    pub(crate) conflict_subject: C,
    /// Whether the error says the disk is full.
    pub(crate) is_full: F,
    /// Whether the error means the database cannot serve right now.
    pub(crate) is_unavailable: U,
}

/// Maps the parts of `sqlx::Error` that mean the same on both backends; database-specific
/// errors are classified by `classify`.
pub(crate) fn map_sqlx<C, F, U>(e: sqlx::Error, classify: Classify<C, F, U>) -> DbError
where
    C: FnOnce(&dyn DatabaseError) -> &'static str,
    F: FnOnce(&dyn DatabaseError) -> bool,
    U: FnOnce(&dyn DatabaseError) -> bool,
{
    let Classify {
        conflict_subject,
        is_full,
        is_unavailable,
    } = classify;
    use sqlx::Error as E;
    match e {
        // These say all there is to say; the reason names them.
        E::PoolTimedOut => DbError::unavailable("timed out waiting for a connection", None),
        E::PoolClosed => DbError::unavailable("connection pool closed", None),
        E::WorkerCrashed => DbError::unavailable("database worker crashed", None),
        E::Io(e) => DbError::unavailable("i/o error", Some(Box::new(e))),
        E::Tls(e) => DbError::unavailable("tls error", Some(e)),
        E::Migrate(e) => map_migrate(*e),
        E::RowNotFound => DbError::NotFound,
        // Configuration errors come from URL parsing; sqlx's messages name the offending
        // parameter, never the URL itself, so they carry no credentials.
        E::Configuration(e) => DbError::Other {
            context: "invalid database configuration".into(),
            source: Some(e),
        },
        E::Database(d) if d.kind() == ErrorKind::UniqueViolation => DbError::Conflict {
            subject: conflict_subject(&*d),
            source: E::Database(d),
        },
        E::Database(d) if is_full(&*d) => DbError::Full(E::Database(d)),
        // The server's own message is the reason (e.g. "sorry, too many clients already");
        // it is all the error holds that a client may see.
        E::Database(d) if is_unavailable(&*d) => DbError::unavailable(d.message(), None),
        other => DbError::other("query failed", other),
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
        ) => map_sqlx(inner, never()),
        other => DbError::Migration(other),
    }
}

/// A classification for errors that cannot come from the database itself.
#[allow(clippy::type_complexity)]
pub(crate) fn never() -> Classify<
    fn(&dyn DatabaseError) -> &'static str,
    fn(&dyn DatabaseError) -> bool,
    fn(&dyn DatabaseError) -> bool,
> {
    Classify {
        conflict_subject: |_| "record",
        is_full: |_| false,
        is_unavailable: |_| false,
    }
}

/// Free space on the filesystem holding `path`, for readiness: below `min_free` bytes the
/// database cannot be trusted to take a write. `Ok(())` when the filesystem cannot be asked.
pub(crate) fn check_free_space(path: &std::path::Path, min_free: u64) -> Result<()> {
    let Ok(stat) = rustix::fs::statvfs(path) else {
        return Ok(());
    };
    let free = stat.f_bavail.saturating_mul(stat.f_frsize);
    if free < min_free {
        return Err(DbError::Unavailable {
            reason: format!("the disk holding the database is full ({free} bytes free)"),
            source: None,
        });
    }
    Ok(())
}

/// A cause whose text had a secret in it: the text with the secret removed stands in for it.
#[derive(Debug)]
struct Redacted(String);

impl std::fmt::Display for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for Redacted {}

/// The password of `url` in the forms an error message could hold it: as written in the URL
/// (percent-encoded) and decoded.
fn passwords(url: &str) -> Vec<String> {
    let Some(raw) = url::Url::parse(url)
        .ok()
        .and_then(|u| u.password().map(str::to_owned))
    else {
        return Vec::new();
    };
    let decoded: String = url::form_urlencoded::parse(format!("p={raw}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    [raw, decoded]
        .into_iter()
        .filter(|pw| !pw.is_empty())
        .collect()
}

fn redact(msg: String, passwords: &[String]) -> String {
    passwords
        .iter()
        .fold(msg, |msg, pw| msg.replace(pw.as_str(), "***"))
}

/// A cause that would show a password is replaced by its chain's text without it; any other
/// cause is kept as it is.
fn redact_cause(source: Option<Cause>, passwords: &[String]) -> Option<Cause> {
    let source = source?;
    let text = ErrorChain(&*source).to_string();
    if passwords.iter().any(|pw| text.contains(pw.as_str())) {
        Some(Box::new(Redacted(redact(text, passwords))))
    } else {
        Some(source)
    }
}

/// Removes the password of `url`, if any, from an error met while connecting to it (defence
/// in depth). Connecting fails only as `Unavailable` or `Other`.
pub(crate) fn redact_err(e: DbError, url: &str) -> DbError {
    let passwords = passwords(url);
    if passwords.is_empty() {
        return e;
    }
    match e {
        DbError::Unavailable { reason, source } => DbError::Unavailable {
            reason: redact(reason, &passwords),
            source: redact_cause(source, &passwords),
        },
        DbError::Other { context, source } => DbError::Other {
            context: redact(context, &passwords),
            source: redact_cause(source, &passwords),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The API shows clients an `Unavailable` error with its causes: these are the texts they
    /// have always seen.
    #[test]
    fn unavailable_texts_name_the_reason_and_the_cause() {
        let timed_out = map_sqlx(sqlx::Error::PoolTimedOut, never());
        assert_eq!(
            ErrorChain(&timed_out).to_string(),
            "database unavailable: timed out waiting for a connection"
        );
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let io = map_sqlx(sqlx::Error::Io(refused), never());
        assert!(matches!(io, DbError::Unavailable { .. }), "{io:?}");
        assert_eq!(
            ErrorChain(&io).to_string(),
            "database unavailable: i/o error: refused"
        );
    }

    #[test]
    fn a_cause_showing_the_password_is_redacted_and_others_are_kept() {
        let url = "postgres://u:s3cr%40t@db.example/x";
        let leaky = DbError::Unavailable {
            reason: "i/o error".into(),
            source: Some("connecting as u:s3cr@t".into()),
        };
        let redacted = redact_err(leaky, url);
        assert_eq!(
            ErrorChain(&redacted).to_string(),
            "database unavailable: i/o error: connecting as u:***"
        );
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let kept = redact_err(map_sqlx(sqlx::Error::Io(io), never()), url);
        let DbError::Unavailable {
            source: Some(source),
            ..
        } = kept
        else {
            panic!("{kept:?}");
        };
        assert!(source.downcast_ref::<std::io::Error>().is_some());
    }
}
