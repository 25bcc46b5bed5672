//! The crate's one error type. `Unavailable` and `Other` keep the provider's, reqwest's or the
//! filesystem's error as their `source` beside a message that already says what happened, so a
//! log that prints the chain shows everything and a caller can inspect the cause instead of
//! the text. Neither the message nor anything reachable through `source()` names a secret: a
//! cause whose text would is replaced by a redacted stand-in (`objstore::errors::Redactor`).

use std::error::Error as StdError;
use std::fmt;
use std::ops::Range;

/// The underlying error of an [`StorageError::Unavailable`] or [`StorageError::Other`].
pub type Cause = Box<dyn StdError + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("object not found: {0}")]
    NotFound(String),
    #[error("invalid object key: {0}")]
    InvalidKey(String),
    #[error("range {start}-{end} is outside the object (size {size})")]
    RangeNotSatisfiable { start: u64, end: u64, size: u64 },
    /// The data source handed to a write failed (client disconnect, size limit...). Carries the
    /// source's own error so callers can recognise what they raised.
    #[error("upload source failed: {0}")]
    Source(#[source] std::io::Error),
    /// The provider cannot be reached or cannot serve right now (connection refused, timeout,
    /// 5xx/429 after retries, missing bucket); a retry later may work. `message` says what
    /// kind of failure in words that name no endpoint, bucket or upload id (readiness shows
    /// it); the provider's full error is the `source`, for the log.
    #[error("storage unavailable: {message}")]
    Unavailable {
        message: String,
        #[source]
        source: Option<Cause>,
    },
    /// The disk under the storage is full (ENOSPC, a quota): nothing of the write was kept.
    /// Writes work again once space is freed. `message` names no path; the i/o error is the
    /// `source`.
    #[error("storage full: {message}")]
    Full {
        message: String,
        #[source]
        source: Option<Cause>,
    },
    #[error("not supported by this storage provider: {0}")]
    NotSupported(&'static str),
    /// Anything else: a refused request, a bad setting, a local i/o failure.
    #[error("storage error: {message}")]
    Other {
        message: String,
        #[source]
        source: Option<Cause>,
    },
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

impl StorageError {
    /// [`StorageError::Unavailable`] with nothing underneath.
    pub fn unavailable(message: impl Into<String>) -> Self {
        StorageError::Unavailable {
            message: message.into(),
            source: None,
        }
    }

    /// [`StorageError::Unavailable`] because of `cause`, which must not print a secret.
    pub fn unavailable_from(message: impl Into<String>, cause: impl Into<Cause>) -> Self {
        StorageError::Unavailable {
            message: message.into(),
            source: Some(cause.into()),
        }
    }

    /// [`StorageError::Other`] with nothing underneath.
    pub fn other(message: impl Into<String>) -> Self {
        StorageError::Other {
            message: message.into(),
            source: None,
        }
    }

    /// [`StorageError::Other`] because of `cause`, which must not print a secret.
    pub fn other_from(message: impl Into<String>, cause: impl Into<Cause>) -> Self {
        StorageError::Other {
            message: message.into(),
            source: Some(cause.into()),
        }
    }

    /// [`StorageError::Full`] because of `cause`.
    pub(crate) fn full_from(cause: impl Into<Cause>) -> Self {
        StorageError::Full {
            message: "no space left on the disk holding the data".into(),
            source: Some(cause.into()),
        }
    }

    /// `range` does not start inside an object of `size` bytes.
    pub(crate) fn not_satisfiable(range: &Range<u64>, size: u64) -> Self {
        StorageError::RangeNotSatisfiable {
            start: range.start,
            end: range.end,
            size,
        }
    }
}

/// Whether an i/o error says the disk (or the user's quota) is full.
pub(crate) fn is_full_io(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    )
}

/// Whether `err` or anything in its source chain is an i/o error saying the disk is full.
pub(crate) fn is_full(err: &(dyn StdError + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(e) = current {
        if e.downcast_ref::<std::io::Error>().is_some_and(is_full_io) {
            return true;
        }
        current = e.source();
    }
    false
}

/// Displays an error followed by those of its causes whose text it does not already contain:
/// `outer: cause: root cause`, for logs and for checking a chain for secrets.
/// (`mediaserver_core::ErrorChain` does the same for the other crates; storage is a leaf crate
/// that must not depend on core, and this is a dozen lines.)
pub(crate) struct Chain<'a>(pub(crate) &'a (dyn StdError + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = self.0.to_string();
        let mut cause = self.0.source();
        while let Some(e) = cause {
            let more = e.to_string();
            if !text.contains(&more) {
                text.push_str(": ");
                text.push_str(&more);
            }
            cause = e.source();
        }
        f.write_str(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_unchanged_and_causes_kept() {
        let e = StorageError::other_from("reading k: boom", std::io::Error::other("boom"));
        assert_eq!(e.to_string(), "storage error: reading k: boom");
        assert_eq!(e.source().map(|s| s.to_string()).as_deref(), Some("boom"));
        let e = StorageError::unavailable("down");
        assert_eq!(e.to_string(), "storage unavailable: down");
        assert!(e.source().is_none());
    }

    #[test]
    fn chain_prints_each_cause_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] StorageError);
        let e = Outer(StorageError::other_from(
            "reading k: boom",
            std::io::Error::other("boom"),
        ));
        assert_eq!(
            Chain(&e).to_string(),
            "outer: storage error: reading k: boom"
        );
    }
}
