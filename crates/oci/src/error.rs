//! The crate's one error type. Messages name the input that was wrong (a region, a file, a
//! profile, a secret OCID) and never carry key material, pass phrases or session tokens.
//! Where an underlying error (i/o, a parser, reqwest, another `OciError`) caused it, that error
//! is kept as `source` beside the message, which already says what it says: the same rule
//! holds for it (no key material, no URL with a query).

use std::path::PathBuf;

/// The underlying error of an [`OciError`].
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum OciError {
    /// A region that is neither a known identifier nor a known three-letter key.
    #[error("unknown OCI region '{input}': expected a region identifier such as us-ashburn-1 or a region key such as IAD")]
    UnknownRegion { input: String },

    /// A bad setting: an environment variable, an endpoint override, a config file entry (or a
    /// request that cannot be built from them).
    #[error("{message}")]
    Config {
        message: String,
        #[source]
        source: Option<Cause>,
    },

    /// A private key file that does not exist or cannot be read.
    #[error("cannot read private key file {path}: {message}")]
    KeyFile {
        path: PathBuf,
        message: String,
        #[source]
        source: std::io::Error,
    },

    /// A private key that cannot be used (not PEM, not RSA, encrypted without a pass phrase...).
    #[error("private key {what}: {message}")]
    Key {
        what: String,
        message: String,
        #[source]
        source: Option<Cause>,
    },

    /// The pass phrase does not decrypt the key.
    #[error("private key {what}: wrong pass phrase (the key could not be decrypted with it)")]
    WrongPassPhrase { what: String },

    /// The configured fingerprint is not the fingerprint of the configured key.
    #[error("the fingerprint configured ({configured}) does not match the private key {what}, whose public key fingerprint is {actual}")]
    FingerprintMismatch {
        configured: String,
        actual: String,
        what: String,
    },

    /// A request that cannot be signed as given (unknown method, streaming body without a hash).
    #[error("cannot sign request: {0}")]
    Signing(String),

    /// The request never got an HTTP answer.
    #[error("request to {url} failed: {source}")]
    Transport {
        url: String,
        #[source]
        source: reqwest::Error,
    },

    /// 401 from an OCI service. `principal` says which identity signed, without secrets.
    #[error("{url}: OCI rejected the request signed as {principal} (401 {code}: {message}){}", if *clock_skew { "; the local clock may be skewed: OCI rejects requests whose Date is more than 5 minutes off" } else { "" })]
    NotAuthenticated {
        url: String,
        principal: String,
        code: String,
        message: String,
        clock_skew: bool,
    },

    /// Any other non-success answer from an OCI service; also an answer that is not what the
    /// API documents (status 502, code `MalformedAnswer`), whose parser's error is `source`.
    #[error("{url}: OCI answered {status} {code}: {message}{}", opc_request_id.as_deref().map(|id| format!(" (opc-request-id {id})")).unwrap_or_default())]
    Service {
        url: String,
        status: u16,
        code: String,
        message: String,
        opc_request_id: Option<String>,
        #[source]
        source: Option<Cause>,
    },

    /// The instance metadata service, the federation endpoint or a token was not usable.
    #[error("{principal}: {message}")]
    Principal {
        principal: &'static str,
        message: String,
        #[source]
        source: Option<Cause>,
    },

    /// A Vault secret could not be read; names the secret. When the request failed, `source`
    /// is that `OciError` (a transport error, a 401, a 404...).
    #[error("cannot read secret {secret_id} from OCI Vault: {message}")]
    Secret {
        secret_id: String,
        message: String,
        #[source]
        source: Option<Cause>,
    },
}

impl OciError {
    /// The service could not be reached or said it cannot serve now (a transport failure,
    /// 429, 500, 503, 504): an outage rather than a problem with the request, so a caller may
    /// wait and repeat it unchanged. A 502 that is our parser's verdict on the answer
    /// (`MalformedAnswer`) is not one.
    pub fn is_unavailable(&self) -> bool {
        match self {
            OciError::Transport { .. } => true,
            OciError::Service { status, code, .. } => {
                matches!(status, 429 | 500 | 503 | 504)
                    || (*status == 502 && code != "MalformedAnswer")
            }
            _ => false,
        }
    }

    /// [`OciError::Config`] with nothing underneath.
    pub fn config(message: impl Into<String>) -> Self {
        OciError::Config {
            message: message.into(),
            source: None,
        }
    }

    /// [`OciError::Config`] because of `cause`.
    pub fn config_from(message: impl Into<String>, cause: impl Into<Cause>) -> Self {
        OciError::Config {
            message: message.into(),
            source: Some(cause.into()),
        }
    }

    /// [`OciError::Key`] with nothing underneath.
    pub(crate) fn key(what: impl Into<String>, message: impl Into<String>) -> Self {
        OciError::Key {
            what: what.into(),
            message: message.into(),
            source: None,
        }
    }

    /// [`OciError::Key`] because of `cause` (a parser's error: it shows no key material).
    pub(crate) fn key_from(
        what: impl Into<String>,
        message: impl Into<String>,
        cause: impl Into<Cause>,
    ) -> Self {
        OciError::Key {
            what: what.into(),
            message: message.into(),
            source: Some(cause.into()),
        }
    }

    /// [`OciError::Principal`] with nothing underneath.
    pub(crate) fn principal(principal: &'static str, message: impl Into<String>) -> Self {
        OciError::Principal {
            principal,
            message: message.into(),
            source: None,
        }
    }

    /// [`OciError::Principal`] because of `cause`.
    pub(crate) fn principal_from(
        principal: &'static str,
        message: impl Into<String>,
        cause: impl Into<Cause>,
    ) -> Self {
        OciError::Principal {
            principal,
            message: message.into(),
            source: Some(cause.into()),
        }
    }
}

pub type Result<T, E = OciError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn service(status: u16, code: &str) -> OciError {
        OciError::Service {
            url: "https://compute.example".into(),
            status,
            code: code.into(),
            message: "m".into(),
            opc_request_id: None,
            source: None,
        }
    }

    #[test]
    fn only_a_service_that_cannot_serve_now_is_unavailable() {
        for e in [
            service(503, "ServiceUnavailable"),
            service(500, "InternalServerError"),
            service(429, "TooManyRequests"),
            service(504, "GatewayTimeout"),
            service(502, "BadGateway"),
        ] {
            assert!(e.is_unavailable(), "{e}");
        }
        for e in [
            service(400, "InvalidParameter"),
            service(404, "NotAuthorizedOrNotFound"),
            service(409, "Conflict"),
            service(502, "MalformedAnswer"),
            OciError::config("bad"),
        ] {
            assert!(!e.is_unavailable(), "{e}");
        }
    }
}
