//! Container registries, OCIR first: validated image references ([`ImageReference`]),
//! credentials ([`RegistryCredentials`]: user name + auth token, or a token exchanged with an
//! OCI-signed request) and the calls mediaserver makes ([`RegistryClient::resolve`] a tag
//! to its manifest digest, [`RegistryClient::tags`], [`RegistryClient::image`] in `image.rs`),
//! over `oci-client`; [`RegistryClient::delete`] (`delete.rs`) is the distribution API's
//! manifest DELETE, written here because `oci-client` has none.
//!
//! Providers (`ARTIFACTS_REGISTRY_PROVIDER`): `provider.rs` ([`RegistryProvider`], each one's
//! reference form in [`RepositoryLocation`]), `ecr.rs` (GetAuthorizationToken, SigV4),
//! `artifact_registry.rs` (Google OAuth tokens: JWT bearer grant or metadata server),
//! `ocir_delete.rs` (OCIR deletes through the signed Artifacts API).
//!
//! ```no_run
//! # async fn f() -> Result<(), mediaserver_oci::registry::RegistryError> {
//! use mediaserver_oci::registry::{ImageReference, RegistryClient, RegistryCredentials, RegistrySecret};
//! let image = ImageReference::ocir("IAD", "axaxnpcrorw5", "mediaserver", Some("latest"))?;
//! let creds = RegistryCredentials::basic(&image, "axaxnpcrorw5/jane@example.com", RegistrySecret::new("auth token"))?;
//! let digest = RegistryClient::new(creds, false).resolve(&image).await?;
//! let pinned = image.with_digest(&digest)?;
//! # Ok(()) }
//! ```

mod artifact_registry;
mod auth;
mod client;
mod delete;
mod ecr;
mod image;
mod ocir_delete;
mod provider;
mod reference;

pub use artifact_registry::{
    metadata_login, service_account_login, ServiceAccountKey, CLOUD_PLATFORM_SCOPE,
    DEFAULT_METADATA_HOST, JWT_BEARER_GRANT, OAUTH_TOKEN_USER,
};
pub use ecr::{ecr_api_endpoint, ecr_login, AwsCredentials};
pub use image::ImageInfo;
pub use ocir_delete::{artifacts_endpoint, ocir_delete, ARTIFACTS_API};
pub use provider::{RegistryProvider, RepositoryLocation};

pub use auth::{
    exchange_oci_token, login, token_endpoint, validate_ocir_username, LoginOptions, OciTokenMode,
    RegistryCredentials, RegistrySecret, BEARER_TOKEN_USER, OCIR_TOKEN_PATH,
};
pub use client::RegistryClient;
pub use reference::{is_ocir_host, ImageReference, Part, ReferenceError};

use crate::error::{Cause, OciError};

/// An HTTP client for the token exchange: rustls, bounded connect and request times.
pub fn http_client() -> Result<reqwest::Client, RegistryError> {
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .map_err(|e| RegistryError::config_from(format!("cannot build the HTTP client: {e}"), e))
}

impl From<ReferenceError> for RegistryError {
    fn from(e: ReferenceError) -> Self {
        RegistryError::Reference(Box::new(e))
    }
}

/// Registry failures. Messages name the registry and what was asked for, never a password or
/// token; nor does the underlying error kept as `source` where there is one.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(transparent)]
    Reference(#[from] Box<ReferenceError>),

    /// Bad or missing credentials settings.
    #[error("{message}")]
    Config {
        message: String,
        #[source]
        source: Option<Cause>,
    },

    /// 401/denied from the registry.
    #[error("registry {registry} refused the login {login} (401 Unauthorized): {hint}")]
    Unauthorized {
        registry: String,
        login: String,
        hint: String,
    },

    /// The tag, manifest or repository does not exist.
    #[error("{what} not found in registry {registry}{}", if detail.is_empty() { String::new() } else { format!(" ({detail})") })]
    NotFound {
        registry: String,
        what: String,
        detail: String,
    },

    /// The OCI-signed token exchange failed (the source names the principal on a 401).
    #[error("OCIR token exchange at {url} failed: {source}")]
    TokenExchange {
        url: String,
        #[source]
        source: Box<OciError>,
    },

    /// An OCI API call (the Artifacts API) failed.
    #[error("{what}: {source}")]
    OciApi {
        what: String,
        #[source]
        source: Box<OciError>,
    },

    /// Anything else the registry said, or could not be reached (then `source` says why).
    #[error("registry {registry}: {message}")]
    Registry {
        registry: String,
        message: String,
        #[source]
        source: Option<Cause>,
    },
}

impl RegistryError {
    /// [`RegistryError::Config`] with nothing underneath.
    pub fn config(message: impl Into<String>) -> Self {
        RegistryError::Config {
            message: message.into(),
            source: None,
        }
    }

    /// [`RegistryError::Config`] because of `cause`.
    pub fn config_from(message: impl Into<String>, cause: impl Into<Cause>) -> Self {
        RegistryError::Config {
            message: message.into(),
            source: Some(cause.into()),
        }
    }
}
