//! Who signs: the [`AuthProvider`] trait and its three providers, chosen by `OCI_AUTH`.
//!
//! * [`ApiKeyProvider`] — a user's API key from the `~/.oci/config` format
//!   (keyId `{tenancy}/{user}/{fingerprint}`).
//! * [`InstancePrincipalProvider`] — the compute instance itself: the metadata service's
//!   certificate and key are exchanged at the x509 federation endpoint for a session token
//!   bound to an ephemeral key (keyId `ST${token}`), refreshed before it expires.
//! * [`ResourcePrincipalProvider`] — a Function or Container Instance: the v2.2 environment
//!   variables carry the session token and its key (keyId `ST${rpst}`), re-read when the token
//!   nears expiry.

mod api_key;
pub mod config_file;
mod instance;
mod resource;
pub(crate) mod token;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;

pub use api_key::ApiKeyProvider;
pub use instance::InstancePrincipalProvider;
pub use resource::{ResourcePrincipalEnv, ResourcePrincipalProvider};

use crate::endpoints::EndpointOverrides;
use crate::error::OciError;
use crate::key::PrivateKey;
use crate::region::Region;
use crate::signer::{self, BodySigning};

/// Which kind of principal signs requests (`OCI_AUTH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthKind {
    #[default]
    ApiKey,
    InstancePrincipal,
    ResourcePrincipal,
}

impl FromStr for AuthKind {
    type Err = OciError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "api_key" | "apikey" => Ok(AuthKind::ApiKey),
            "instance_principal" => Ok(AuthKind::InstancePrincipal),
            "resource_principal" => Ok(AuthKind::ResourcePrincipal),
            _ => Err(OciError::config(format!(
                "OCI_AUTH: unknown value '{s}'; expected api_key, instance_principal or resource_principal"
            ))),
        }
    }
}

impl fmt::Display for AuthKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthKind::ApiKey => "api_key",
            AuthKind::InstancePrincipal => "instance_principal",
            AuthKind::ResourcePrincipal => "resource_principal",
        })
    }
}

/// Everything needed to build a provider and find the services, as read from the environment
/// (`OCI_AUTH`, `OCI_CONFIG_FILE`, `OCI_PROFILE`, `OCI_REGION`, the endpoint overrides and, for
/// resource principals, the `OCI_RESOURCE_PRINCIPAL_*` variables).
#[derive(Debug, Clone, Default)]
pub struct AuthSettings {
    pub kind: AuthKind,
    /// `OCI_CONFIG_FILE`; `~/.oci/config` when unset.
    pub config_file: Option<PathBuf>,
    /// `OCI_PROFILE`; `DEFAULT` when unset.
    pub profile: Option<String>,
    /// `OCI_REGION`; wins over the region the principal knows (config file, metadata, RP env).
    pub region: Option<Region>,
    pub overrides: EndpointOverrides,
    /// The `OCI_RESOURCE_PRINCIPAL_*` variables (only read for resource principals).
    pub resource_principal: resource::ResourcePrincipalEnv,
}

impl AuthSettings {
    /// Reads the settings through `var`; every error names its variable.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, OciError> {
        let get = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let kind = match get("OCI_AUTH") {
            Some(v) => v.parse()?,
            None => AuthKind::default(),
        };
        let region = match get("OCI_REGION") {
            Some(v) => Some(
                Region::lookup(&v)
                    .map_err(|e| OciError::config_from(format!("OCI_REGION: {e}"), e))?,
            ),
            None => None,
        };
        Ok(AuthSettings {
            kind,
            config_file: get("OCI_CONFIG_FILE").map(|p| config_file::expand_home(p.trim())),
            profile: get("OCI_PROFILE").map(|p| p.trim().to_string()),
            region,
            overrides: EndpointOverrides::from_lookup(&var),
            resource_principal: resource::ResourcePrincipalEnv::from_lookup(&var),
        })
    }

    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, OciError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

/// A keyId and the key that signs under it, for one or more requests.
#[derive(Clone)]
pub struct Credentials {
    key_id: String,
    key: PrivateKey,
}

impl Credentials {
    pub fn new(key_id: impl Into<String>, key: PrivateKey) -> Self {
        Credentials {
            key_id: key_id.into(),
            key,
        }
    }

    /// The keyId (for session tokens this contains the token: never log it).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn key(&self) -> &PrivateKey {
        &self.key
    }

    /// Signs a reqwest request in place (see [`signer::sign_reqwest`]).
    pub fn sign_reqwest(
        &self,
        req: &mut reqwest::Request,
        body: BodySigning,
    ) -> Result<(), OciError> {
        signer::sign_reqwest(req, &self.key_id, &self.key, body)
    }

    /// Signs an `http::Request` with an absolute URI in place (see [`signer::sign_http`]).
    pub fn sign_http<B: AsRef<[u8]>>(
        &self,
        req: &mut http::Request<B>,
        body: BodySigning,
    ) -> Result<(), OciError> {
        signer::sign_http(req, &self.key_id, &self.key, body)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key_id = if self.key_id.starts_with("ST$") {
            "ST$<session token>"
        } else {
            &self.key_id
        };
        f.debug_struct("Credentials")
            .field("key_id", &key_id)
            .field("key", &self.key)
            .finish()
    }
}

/// A source of signing credentials. Implementations refresh short-lived credentials
/// themselves before handing them out; [`AuthProvider::refresh`] forces it (after a 401).
#[async_trait]
pub trait AuthProvider: Send + Sync + fmt::Debug {
    /// Credentials valid for at least the next few minutes.
    async fn credentials(&self) -> Result<Credentials, OciError>;

    /// Drops cached credentials and fetches new ones. Providers whose credentials cannot
    /// change (API keys) do nothing.
    async fn refresh(&self) -> Result<(), OciError> {
        Ok(())
    }

    /// Whether [`AuthProvider::refresh`] can yield different credentials (worth a retry).
    fn refreshable(&self) -> bool {
        false
    }

    /// Which principal this is, for error messages: never contains a secret or a token.
    fn principal(&self) -> String;

    /// The region the principal belongs to, when it knows one.
    fn region(&self) -> Option<Region>;

    /// The tenancy OCID, when known.
    fn tenancy_id(&self) -> Option<String>;
}

/// Builds the provider `settings.kind` names. Instance principals talk to the metadata and
/// auth services here, so a misconfigured principal fails at startup.
pub async fn provider_from_settings(
    settings: &AuthSettings,
    http: &reqwest::Client,
) -> Result<Arc<dyn AuthProvider>, OciError> {
    Ok(match settings.kind {
        AuthKind::ApiKey => {
            let path = settings
                .config_file
                .clone()
                .unwrap_or_else(config_file::default_path);
            let profile = settings
                .profile
                .as_deref()
                .unwrap_or(config_file::DEFAULT_PROFILE);
            Arc::new(ApiKeyProvider::from_config_file(&path, profile)?)
        }
        AuthKind::InstancePrincipal => Arc::new(
            InstancePrincipalProvider::new(http.clone(), &settings.overrides, settings.region)
                .await?,
        ),
        AuthKind::ResourcePrincipal => Arc::new(ResourcePrincipalProvider::from_env(
            &settings.resource_principal,
        )?),
    })
}
