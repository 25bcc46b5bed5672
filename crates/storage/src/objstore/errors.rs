//! Mapping `object_store` errors onto [`StorageError`].
//!
//! `object_store` 0.12 does not expose its retry error type (it lives in a private module), so a
//! transport failure is recognised by walking the error's source chain: reqwest / `HttpError` /
//! `io::Error` kinds for connection problems and timeouts, and the retry error's rendered
//! "Server returned non-2xx status code: NNN" text for 5xx/429 responses that exhausted retries.

use crate::error::{Cause, Chain};
use crate::StorageError;
use object_store::client::{HttpError, HttpErrorKind};
use std::error::Error as StdError;
use std::fmt;
use std::io::ErrorKind;
use std::sync::Arc;

/// Rendered by object_store's `RequestError::Status`; the status code follows.
const STATUS_MARKER: &str = "status code: ";

/// Strings that must never reach an error message. Providers can echo request details (S3's
/// `SignatureDoesNotMatch` body includes the access key id), and builder errors can echo config.
#[derive(Clone, Default)]
pub(crate) struct Redactor(Arc<[String]>);

impl Redactor {
    pub(crate) fn new<I: IntoIterator<Item = Option<String>>>(secrets: I) -> Self {
        let list: Vec<String> = secrets
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect();
        Redactor(list.into())
    }

    pub(crate) fn clean(&self, msg: impl Into<String>) -> String {
        let mut msg = msg.into();
        for secret in self.0.iter() {
            if msg.contains(secret.as_str()) {
                msg = msg.replace(secret.as_str(), "[REDACTED]");
            }
        }
        msg
    }

    /// `err` as a [`StorageError`] cause: itself, unless its text (any cause's included) or its
    /// debug form names a secret; then the text of its chain without the secret stands in for
    /// it, so that nothing reachable through `source()` prints one.
    pub(crate) fn cause<E: StdError + Send + Sync + 'static>(&self, err: E) -> Cause {
        let text = Chain(&err).to_string();
        let debug = format!("{err:?}");
        if self
            .0
            .iter()
            .any(|s| text.contains(s.as_str()) || debug.contains(s.as_str()))
        {
            Box::new(Redacted(self.clean(text)))
        } else {
            Box::new(err)
        }
    }

    /// Maps an error from an operation on `key` (or a prefix, for listings). The message is
    /// the error's text without secrets; the error itself (or its redacted stand-in) is the
    /// cause.
    pub(crate) fn map(&self, err: object_store::Error, key: &str) -> StorageError {
        match err {
            object_store::Error::NotFound { .. } => StorageError::NotFound(key.to_string()),
            other => {
                let message = self.clean(other.to_string());
                if is_unavailable(&other) {
                    StorageError::unavailable_from(message, self.cause(other))
                } else {
                    StorageError::other_from(message, self.cause(other))
                }
            }
        }
    }

    /// Like [`Self::map`], for reads: on a filesystem, reading `a/b/c` where `a/b` is a file
    /// fails with ENOTDIR, which for a reader simply means the object does not exist.
    pub(crate) fn map_read(&self, err: object_store::Error, key: &str) -> StorageError {
        let mut current: Option<&(dyn StdError + 'static)> = Some(&err);
        while let Some(e) = current {
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == ErrorKind::NotADirectory)
            {
                return StorageError::NotFound(key.to_string());
            }
            current = e.source();
        }
        self.map(err, key)
    }
}

/// A cause whose text had a secret in it: its chain's text with the secret removed stands in
/// for it.
#[derive(Debug)]
struct Redacted(String);

impl fmt::Display for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for Redacted {}

/// Whether the error (or anything in its source chain) says the provider could not be reached or
/// answered with a server-side/throttling failure, i.e. a retry later may succeed.
pub(crate) fn is_unavailable(err: &(dyn StdError + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(r) = e.downcast_ref::<reqwest::Error>() {
            if r.is_connect() || r.is_timeout() || r.is_request() || r.is_body() {
                return true;
            }
            if r.status()
                .is_some_and(|s| s.is_server_error() || s.as_u16() == 429)
            {
                return true;
            }
        }
        if let Some(h) = e.downcast_ref::<HttpError>() {
            if matches!(
                h.kind(),
                HttpErrorKind::Connect
                    | HttpErrorKind::Request
                    | HttpErrorKind::Timeout
                    | HttpErrorKind::Interrupted
            ) {
                return true;
            }
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                ErrorKind::ConnectionRefused
                    | ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionAborted
                    | ErrorKind::NotConnected
                    | ErrorKind::TimedOut
                    | ErrorKind::AddrNotAvailable
            ) {
                return true;
            }
        }
        if status_text_is_unavailable(&e.to_string()) {
            return true;
        }
        current = e.source();
    }
    false
}

fn status_text_is_unavailable(text: &str) -> bool {
    text.match_indices(STATUS_MARKER).any(|(i, m)| {
        let code = text
            .get(i + m.len()..i + m.len() + 3)
            .and_then(|s| s.parse::<u16>().ok());
        matches!(code, Some(500..=599 | 429))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_rendered_status_codes() {
        assert!(status_text_is_unavailable(
            "Error performing GET http://x/b/k in 1s - Server returned non-2xx status code: 503 Service Unavailable: "
        ));
        assert!(status_text_is_unavailable(
            "Server returned non-2xx status code: 429 Too Many Requests"
        ));
        assert!(!status_text_is_unavailable(
            "Server returned non-2xx status code: 403 Forbidden"
        ));
        assert!(!status_text_is_unavailable("status code: 5"));
    }

    #[test]
    fn redacts_secrets() {
        let r = Redactor::new([Some("AKIDEXAMPLE".to_string()), None, Some(String::new())]);
        assert_eq!(
            r.clean("bad key AKIDEXAMPLE here"),
            "bad key [REDACTED] here"
        );
        assert_eq!(r.clean("nothing"), "nothing");
    }

    #[test]
    fn not_found_maps_to_key() {
        let r = Redactor::default();
        let err = object_store::Error::NotFound {
            path: "p".into(),
            source: "x".into(),
        };
        assert!(matches!(r.map(err, "k"), StorageError::NotFound(k) if k == "k"));
    }

    /// Every text an error shows: its message, each cause's, and the debug forms.
    fn everything(e: &StorageError) -> String {
        let mut all = format!("{e} {e:?}");
        let mut cause = e.source();
        while let Some(c) = cause {
            all.push_str(&format!(" {c} {c:?}"));
            cause = c.source();
        }
        all
    }

    #[test]
    fn causes_are_kept_without_secrets() {
        let r = Redactor::new([Some("AKIDEXAMPLE".to_string())]);
        let err = object_store::Error::Generic {
            store: "S3",
            source: "SignatureDoesNotMatch for AKIDEXAMPLE".into(),
        };
        let e = r.map(err, "k");
        assert!(
            matches!(&e, StorageError::Other { message, source: Some(_) } if message.contains("[REDACTED]")),
            "{e:?}"
        );
        assert!(
            !everything(&e).contains("AKIDEXAMPLE"),
            "{}",
            everything(&e)
        );

        // Without a secret the provider's own error is the cause, for callers to inspect.
        let err = object_store::Error::Generic {
            store: "S3",
            source: "access denied".into(),
        };
        let e = r.map(err, "k");
        assert!(
            e.source()
                .is_some_and(|c| c.downcast_ref::<object_store::Error>().is_some()),
            "{e:?}"
        );
    }
}
