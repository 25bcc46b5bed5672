//! Service endpoints: built from the region and its realm, each overridable (private endpoints,
//! tests). The library takes override values as inputs; reading them from the environment is
//! the caller's choice ([`EndpointOverrides::from_env`] is there for that).

use crate::error::OciError;
use crate::region::Region;

/// Environment variable names of the per-service overrides.
pub const ENV_OBJECTSTORAGE: &str = "OCI_OBJECTSTORAGE_ENDPOINT";
pub const ENV_SECRETS: &str = "OCI_SECRETS_ENDPOINT";
pub const ENV_CONTAINER_INSTANCES: &str = "OCI_CONTAINER_INSTANCES_ENDPOINT";
pub const ENV_AUTH: &str = "OCI_AUTH_ENDPOINT";
pub const ENV_METADATA: &str = "OCI_METADATA_ENDPOINT";
pub const ENV_OCIR: &str = "OCIR_ENDPOINT";

/// The instance metadata service (v2; every call carries `Authorization: Bearer Oracle`).
pub const DEFAULT_METADATA_ENDPOINT: &str = "http://169.254.169.254/opc/v2";

/// Explicit endpoint base URLs; `None` means "derive from the region".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointOverrides {
    pub object_storage: Option<String>,
    pub secrets: Option<String>,
    pub container_instances: Option<String>,
    pub auth: Option<String>,
    pub metadata: Option<String>,
    pub ocir: Option<String>,
}

impl EndpointOverrides {
    /// Reads the overrides through `var` (e.g. a config map or `std::env::var`); empty values
    /// count as unset.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        EndpointOverrides {
            object_storage: get(ENV_OBJECTSTORAGE),
            secrets: get(ENV_SECRETS),
            container_instances: get(ENV_CONTAINER_INSTANCES),
            auth: get(ENV_AUTH),
            metadata: get(ENV_METADATA),
            ocir: get(ENV_OCIR),
        }
    }

    /// Reads the `OCI_*_ENDPOINT` / `OCIR_ENDPOINT` variables from the process environment.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Checks every override that is set; the error names the variable.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        for (var, v) in [
            (ENV_OBJECTSTORAGE, &self.object_storage),
            (ENV_SECRETS, &self.secrets),
            (ENV_CONTAINER_INSTANCES, &self.container_instances),
            (ENV_AUTH, &self.auth),
            (ENV_METADATA, &self.metadata),
            (ENV_OCIR, &self.ocir),
        ] {
            if let Some(v) = v {
                normalize(var, v).map_err(|e| {
                    let m = e.to_string();
                    (var, m.trim_start_matches(&format!("{var}: ")).to_string())
                })?;
            }
        }
        Ok(())
    }

    /// The metadata service base URL (needed before the region is known).
    pub fn metadata_endpoint(&self) -> Result<String, OciError> {
        match &self.metadata {
            Some(v) => normalize(ENV_METADATA, v),
            None => Ok(DEFAULT_METADATA_ENDPOINT.to_string()),
        }
    }
}

/// Resolved base URLs (scheme + host [+ port] [+ path prefix], no trailing slash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// `https://objectstorage.{region}.{domain}`
    pub object_storage: String,
    /// `https://secrets.vaults.{region}.oci.{domain}`
    pub secrets: String,
    /// `https://compute-containers.{region}.oci.{domain}`
    pub container_instances: String,
    /// `https://auth.{region}.{domain}` (x509 federation lives at `{auth}/v1/x509`)
    pub auth: String,
    /// `http://169.254.169.254/opc/v2`
    pub metadata: String,
    /// `https://{key}.ocir.io` in oc1, `https://ocir.{region}.oci.{domain}` elsewhere
    pub ocir: String,
}

impl Endpoints {
    /// Endpoints of `region`, with `overrides` taking precedence. An override must be an
    /// absolute http(s) URL; the error names the variable.
    pub fn resolve(region: &Region, overrides: &EndpointOverrides) -> Result<Self, OciError> {
        let pick = |var: &'static str, o: &Option<String>, default: String| match o {
            Some(v) => normalize(var, v),
            None => Ok(default),
        };
        Ok(Endpoints {
            object_storage: pick(
                ENV_OBJECTSTORAGE,
                &overrides.object_storage,
                region.endpoint("objectstorage"),
            )?,
            secrets: pick(
                ENV_SECRETS,
                &overrides.secrets,
                region.oci_endpoint("secrets.vaults"),
            )?,
            container_instances: pick(
                ENV_CONTAINER_INSTANCES,
                &overrides.container_instances,
                region.oci_endpoint("compute-containers"),
            )?,
            auth: pick(ENV_AUTH, &overrides.auth, region.endpoint("auth"))?,
            metadata: overrides.metadata_endpoint()?,
            ocir: pick(
                ENV_OCIR,
                &overrides.ocir,
                format!("https://{}", region.ocir_host()),
            )?,
        })
    }
}

fn normalize(var: &'static str, value: &str) -> Result<String, OciError> {
    let v = value.trim();
    let url = url::Url::parse(v)
        .map_err(|e| OciError::config_from(format!("{var}: '{v}' is not a URL ({e})"), e))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(OciError::config(format!(
            "{var}: '{v}' must be an http:// or https:// URL with a host"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(OciError::config(format!(
            "{var}: '{v}' must not carry a query or fragment"
        )));
    }
    Ok(v.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_come_from_region_and_realm() {
        let r = Region::lookup("uk-gov-london-1").unwrap();
        let e = Endpoints::resolve(&r, &EndpointOverrides::default()).unwrap();
        assert_eq!(
            e.object_storage,
            "https://objectstorage.uk-gov-london-1.oraclegovcloud.uk"
        );
        assert_eq!(
            e.secrets,
            "https://secrets.vaults.uk-gov-london-1.oci.oraclegovcloud.uk"
        );
        assert_eq!(
            e.container_instances,
            "https://compute-containers.uk-gov-london-1.oci.oraclegovcloud.uk"
        );
        assert_eq!(e.auth, "https://auth.uk-gov-london-1.oraclegovcloud.uk");
        assert_eq!(e.metadata, DEFAULT_METADATA_ENDPOINT);
        assert_eq!(e.ocir, "https://ocir.uk-gov-london-1.oci.oraclegovcloud.uk");
        let iad = Region::lookup("iad").unwrap();
        let e = Endpoints::resolve(&iad, &EndpointOverrides::default()).unwrap();
        assert_eq!(e.ocir, "https://iad.ocir.io");
    }

    #[test]
    fn overrides_win_and_are_validated() {
        let r = Region::lookup("iad").unwrap();
        let env = |name: &str| match name {
            ENV_SECRETS => Some("http://127.0.0.1:9000/".to_string()),
            ENV_AUTH => Some("   ".to_string()),
            _ => None,
        };
        let e = Endpoints::resolve(&r, &EndpointOverrides::from_lookup(env)).unwrap();
        assert_eq!(e.secrets, "http://127.0.0.1:9000");
        assert_eq!(e.auth, "https://auth.us-ashburn-1.oraclecloud.com");

        let bad = EndpointOverrides {
            object_storage: Some("objectstorage.example".into()),
            ..Default::default()
        };
        let err = Endpoints::resolve(&r, &bad).unwrap_err().to_string();
        assert!(err.contains(ENV_OBJECTSTORAGE), "{err}");
    }
}
