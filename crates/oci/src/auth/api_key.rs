//! A user's API signing key, from a profile of the OCI config file.

use std::path::Path;

use async_trait::async_trait;

use super::config_file::{expand_home, ConfigFile, Profile};
use super::{AuthProvider, Credentials};
use crate::error::OciError;
use crate::key::PrivateKey;
use crate::region::Region;

/// Signs as `{tenancy}/{user}/{fingerprint}` with the profile's `key_file`.
#[derive(Debug, Clone)]
pub struct ApiKeyProvider {
    credentials: Credentials,
    tenancy: String,
    region: Option<Region>,
}

impl ApiKeyProvider {
    /// Loads `profile` from the config file at `path`: `user`, `tenancy`, `fingerprint`,
    /// `key_file` (with `~` expanded) and optional `pass_phrase` and `region`. The key must
    /// load and its fingerprint must be the configured one.
    pub fn from_config_file(path: &Path, profile: &str) -> Result<Self, OciError> {
        let cfg = ConfigFile::load(path)?;
        Self::from_profile(&cfg.profile(profile)?, path)
    }

    /// Same, from an already parsed profile (`path` is for messages).
    pub fn from_profile(p: &Profile, path: &Path) -> Result<Self, OciError> {
        let user = p.require("user")?;
        let tenancy = p.require("tenancy")?;
        let fingerprint = p.require("fingerprint")?;
        let key_file = expand_home(p.require("key_file")?);
        let region = match p.get("region") {
            Some(r) => Some(Region::lookup(r).map_err(|e| {
                let message = format!(
                    "OCI config file {}, profile [{}]: region: {e}",
                    path.display(),
                    p.name()
                );
                OciError::config_from(message, e)
            })?),
            None => None,
        };
        let key = PrivateKey::from_pem_file(&key_file, p.get("pass_phrase"))?;
        key.check_fingerprint(
            fingerprint,
            &format!(
                "{} (key_file of profile [{}] in {})",
                key_file.display(),
                p.name(),
                path.display()
            ),
        )?;
        Ok(Self::new(tenancy, user, key, region))
    }

    /// From parts; the keyId uses the key's own fingerprint.
    pub fn new(tenancy: &str, user: &str, key: PrivateKey, region: Option<Region>) -> Self {
        let key_id = format!("{tenancy}/{user}/{}", key.fingerprint());
        ApiKeyProvider {
            credentials: Credentials::new(key_id, key),
            tenancy: tenancy.to_string(),
            region,
        }
    }
}

#[async_trait]
impl AuthProvider for ApiKeyProvider {
    async fn credentials(&self) -> Result<Credentials, OciError> {
        Ok(self.credentials.clone())
    }

    fn principal(&self) -> String {
        format!("API key {}", self.credentials.key_id())
    }

    fn region(&self) -> Option<Region> {
        self.region
    }

    fn tenancy_id(&self) -> Option<String> {
        Some(self.tenancy.clone())
    }
}
