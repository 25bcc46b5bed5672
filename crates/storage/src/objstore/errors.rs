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
    /// cause. An `Unavailable` message may reach clients, and object_store's text names the
    /// endpoint, bucket and multipart upload id: it says only what kind of failure it was,
    /// the full text stays in the cause (for the log).
    pub(crate) fn map(&self, err: object_store::Error, key: &str) -> StorageError {
        match err {
            object_store::Error::NotFound { .. } => StorageError::NotFound(key.to_string()),
            other => {
                if crate::error::is_full(&other) {
                    StorageError::full_from(self.cause(other))
                } else if is_unavailable(&other) {
                    StorageError::unavailable_from(unavailable_summary(&other), self.cause(other))
                } else {
                    let message = self.clean(other.to_string());
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

/// What kind of outage `err` (one [`is_unavailable`] accepts) is, in words that name no URL,
/// bucket, key or upload id.
fn unavailable_summary(err: &(dyn StdError + 'static)) -> String {
    const CONNECT: &str = "could not connect to the storage provider";
    const TIMEOUT: &str = "the storage provider did not answer in time";
    const BROKEN: &str = "the connection to the storage provider failed";
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(r) = e.downcast_ref::<reqwest::Error>() {
            if let Some(status) = r.status() {
                return format!("the storage provider answered {status}");
            }
            if r.is_timeout() {
                return TIMEOUT.into();
            }
            if r.is_connect() {
                return CONNECT.into();
            }
        }
        if let Some(h) = e.downcast_ref::<HttpError>() {
            match h.kind() {
                HttpErrorKind::Connect => return CONNECT.into(),
                HttpErrorKind::Timeout => return TIMEOUT.into(),
                HttpErrorKind::Request | HttpErrorKind::Interrupted => return BROKEN.into(),
                _ => {}
            }
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                ErrorKind::TimedOut => return TIMEOUT.into(),
                ErrorKind::ConnectionRefused | ErrorKind::AddrNotAvailable => {
                    return CONNECT.into()
                }
                ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::NotConnected => return BROKEN.into(),
                _ => {}
            }
        }
        if let Some(code) = unavailable_status(&e.to_string()) {
            return format!("the storage provider answered {code}");
        }
        current = e.source();
    }
    "the storage provider cannot serve requests right now".into()
}

/// The 5xx/429 status in object_store's rendered retry error, if there is one.
fn unavailable_status(text: &str) -> Option<u16> {
    text.match_indices(STATUS_MARKER).find_map(|(i, m)| {
        let code = text
            .get(i + m.len()..i + m.len() + 3)
            .and_then(|s| s.parse::<u16>().ok());
        code.filter(|c| matches!(c, 500..=599 | 429))
    })
}

fn status_text_is_unavailable(text: &str) -> bool {
    unavailable_status(text).is_some()
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
    fn unavailable_messages_name_no_endpoint_or_upload_id() {
        let r = Redactor::default();
        let err = object_store::Error::Generic {
            store: "S3",
            source: "Error performing PUT http://127.0.0.1:9000/b/k?partNumber=2&uploadId=XYZ \
                     in 1s - Server returned non-2xx status code: 503 Service Unavailable: "
                .into(),
        };
        let e = r.map(err, "k");
        let StorageError::Unavailable { message, source } = &e else {
            panic!("{e:?}");
        };
        assert_eq!(message, "the storage provider answered 503");
        // The details stay in the cause, for the log.
        assert!(source
            .as_ref()
            .is_some_and(|c| Chain(c.as_ref()).to_string().contains("uploadId=XYZ")));

        let io = std::io::Error::from(ErrorKind::ConnectionRefused);
        let err = object_store::Error::Generic {
            store: "S3",
            source: Box::new(io),
        };
        assert!(matches!(r.map(err, "k"),
            StorageError::Unavailable { message, .. } if message == "could not connect to the storage provider"));
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
