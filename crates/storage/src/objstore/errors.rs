//! Mapping `object_store` errors onto [`StorageError`].
//!
//! `object_store` 0.12 does not expose its retry error type (it lives in a private module), so a
//! transport failure is recognised by walking the error's source chain: reqwest / `HttpError` /
//! `io::Error` kinds for connection problems and timeouts, and the retry error's rendered
//! "Server returned non-2xx status code: NNN" text for 5xx/429 responses that exhausted retries.

use crate::StorageError;
use object_store::client::{HttpError, HttpErrorKind};
use std::error::Error as StdError;
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

    /// Maps an error from an operation on `key` (or a prefix, for listings).
    pub(crate) fn map(&self, err: object_store::Error, key: &str) -> StorageError {
        match err {
            object_store::Error::NotFound { .. } => StorageError::NotFound(key.to_string()),
            other if is_unavailable(&other) => {
                StorageError::Unavailable(self.clean(other.to_string()))
            }
            other => StorageError::Other(self.clean(other.to_string())),
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
}
