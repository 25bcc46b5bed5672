//! The crate's one error type. Messages name the input that was wrong (a region, a file, a
//! profile, a secret OCID) and never carry key material, pass phrases or session tokens.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum OciError {
    /// A region that is neither a known identifier nor a known three-letter key.
    #[error("unknown OCI region '{input}': expected a region identifier such as us-ashburn-1 or a region key such as IAD")]
    UnknownRegion { input: String },

    /// A bad setting: an environment variable, an endpoint override, a config file entry.
    #[error("{0}")]
    Config(String),

    /// A private key file that does not exist or cannot be read.
    #[error("cannot read private key file {path}: {message}")]
    KeyFile { path: PathBuf, message: String },

    /// A private key that cannot be used (not PEM, not RSA, encrypted without a pass phrase...).
    #[error("private key {what}: {message}")]
    Key { what: String, message: String },

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

    /// Any other non-success answer from an OCI service.
    #[error("{url}: OCI answered {status} {code}: {message}{}", opc_request_id.as_deref().map(|id| format!(" (opc-request-id {id})")).unwrap_or_default())]
    Service {
        url: String,
        status: u16,
        code: String,
        message: String,
        opc_request_id: Option<String>,
    },

    /// The instance metadata service, the federation endpoint or a token was not usable.
    #[error("{principal}: {message}")]
    Principal {
        principal: &'static str,
        message: String,
    },

    /// A Vault secret could not be read; names the secret.
    #[error("cannot read secret {secret_id} from OCI Vault: {message}")]
    Secret { secret_id: String, message: String },
}

impl OciError {
    pub(crate) fn key(what: impl Into<String>, message: impl Into<String>) -> Self {
        OciError::Key {
            what: what.into(),
            message: message.into(),
        }
    }
}

pub type Result<T, E = OciError> = std::result::Result<T, E>;
