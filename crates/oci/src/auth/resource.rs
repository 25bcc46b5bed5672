//! Resource principals, version 2.2: what OCI Functions and Container Instances put in the
//! environment. As in the OCI SDKs:
//! * `OCI_RESOURCE_PRINCIPAL_VERSION` must be `2.2`;
//! * `OCI_RESOURCE_PRINCIPAL_RPST` is the session token, or the absolute path of a file that
//!   holds it (re-read when the token nears expiry: the platform rotates it);
//! * `OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM` is the PEM key, or the absolute path of a file that
//!   holds it; `OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM_PASSPHRASE` is its pass phrase (inline), or
//!   the path of a file holding it when the key is a file;
//! * `OCI_RESOURCE_PRINCIPAL_REGION` is the region identifier (a region key is accepted).
//!
//! Requests are signed with keyId `ST${rpst}`.

use std::path::Path;

use async_trait::async_trait;
use tokio::sync::Mutex;

use super::token::{now_secs, TokenClaims};
use super::{AuthProvider, Credentials};
use crate::error::OciError;
use crate::key::PrivateKey;
use crate::region::Region;

const PRINCIPAL: &str = "resource principal";

/// The `OCI_RESOURCE_PRINCIPAL_*` variables. `Debug` hides the token, key and pass phrase.
#[derive(Clone, Default)]
pub struct ResourcePrincipalEnv {
    pub version: Option<String>,
    pub rpst: Option<String>,
    pub private_pem: Option<String>,
    pub private_pem_passphrase: Option<String>,
    pub region: Option<String>,
}

impl ResourcePrincipalEnv {
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        ResourcePrincipalEnv {
            version: get("OCI_RESOURCE_PRINCIPAL_VERSION"),
            rpst: get("OCI_RESOURCE_PRINCIPAL_RPST"),
            private_pem: get("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM"),
            private_pem_passphrase: get("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM_PASSPHRASE"),
            region: get("OCI_RESOURCE_PRINCIPAL_REGION"),
        }
    }
}

impl std::fmt::Debug for ResourcePrincipalEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shape = |v: &Option<String>| match v {
            None => "unset",
            Some(v) if Path::new(v.trim()).is_absolute() => "path",
            Some(_) => "inline",
        };
        f.debug_struct("ResourcePrincipalEnv")
            .field("version", &self.version)
            .field("rpst", &shape(&self.rpst))
            .field("private_pem", &shape(&self.private_pem))
            .field("region", &self.region)
            .finish()
    }
}

/// Where the token or key comes from.
#[derive(Clone)]
enum Source {
    Inline(String),
    File(std::path::PathBuf),
}

impl Source {
    fn new(v: &str) -> Self {
        let t = v.trim();
        if Path::new(t).is_absolute() {
            Source::File(t.into())
        } else {
            Source::Inline(v.to_string())
        }
    }

    fn read(&self, var: &str) -> Result<String, OciError> {
        match self {
            Source::Inline(v) => Ok(v.clone()),
            Source::File(p) => std::fs::read_to_string(p).map_err(|e| {
                OciError::principal_from(
                    PRINCIPAL,
                    format!(
                        "{var} names the file {}, which cannot be read: {e}",
                        p.display()
                    ),
                    e,
                )
            }),
        }
    }
}

struct State {
    credentials: Credentials,
    claims: TokenClaims,
}

/// Signs as the resource (Function, Container Instance) the process runs in.
pub struct ResourcePrincipalProvider {
    rpst: Source,
    key: Source,
    passphrase: Option<Source>,
    region: Region,
    state: Mutex<State>,
    /// The `res_tenant` claim of the current token, readable without awaiting.
    tenancy: std::sync::Mutex<Option<String>>,
}

impl ResourcePrincipalProvider {
    /// Validates the variables and loads the token and key once (so a bad setup fails at startup).
    pub fn from_env(env: &ResourcePrincipalEnv) -> Result<Self, OciError> {
        let missing = |var: &str| {
            OciError::principal(PRINCIPAL, format!("{var} is not set (OCI_AUTH=resource_principal reads the v2.2 variables that Functions and Container Instances provide)"))
        };
        match env.version.as_deref().map(str::trim) {
            Some("2.2") => {}
            Some(other) => {
                return Err(OciError::principal(
                    PRINCIPAL,
                    format!("OCI_RESOURCE_PRINCIPAL_VERSION is '{other}'; only 2.2 is supported"),
                ))
            }
            None => return Err(missing("OCI_RESOURCE_PRINCIPAL_VERSION")),
        }
        let rpst = Source::new(
            env.rpst
                .as_deref()
                .ok_or_else(|| missing("OCI_RESOURCE_PRINCIPAL_RPST"))?,
        );
        let key = Source::new(
            env.private_pem
                .as_deref()
                .ok_or_else(|| missing("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM"))?,
        );
        // The pass phrase is a file path exactly when the key is a file (the SDKs' rule).
        let passphrase = env.private_pem_passphrase.as_deref().map(|p| match key {
            Source::File(_) if Path::new(p.trim()).is_absolute() => Source::File(p.trim().into()),
            _ => Source::Inline(p.to_string()),
        });
        let region_raw = env
            .region
            .as_deref()
            .ok_or_else(|| missing("OCI_RESOURCE_PRINCIPAL_REGION"))?;
        let region = Region::lookup(region_raw).map_err(|e| {
            OciError::principal_from(PRINCIPAL, format!("OCI_RESOURCE_PRINCIPAL_REGION: {e}"), e)
        })?;
        let state = load(&rpst, &key, passphrase.as_ref())?;
        let tenancy = std::sync::Mutex::new(state.claims.claim("res_tenant").map(str::to_string));
        Ok(ResourcePrincipalProvider {
            rpst,
            key,
            passphrase,
            region,
            state: Mutex::new(state),
            tenancy,
        })
    }

    fn set_tenancy(&self, state: &State) {
        if let Ok(mut t) = self.tenancy.lock() {
            *t = state.claims.claim("res_tenant").map(str::to_string);
        }
    }

    /// The `res_compartment` claim of the current token (the resource's compartment).
    pub async fn compartment_id(&self) -> Option<String> {
        self.state
            .lock()
            .await
            .claims
            .claim("res_compartment")
            .map(str::to_string)
    }
}

fn load(rpst: &Source, key: &Source, passphrase: Option<&Source>) -> Result<State, OciError> {
    let token = rpst.read("OCI_RESOURCE_PRINCIPAL_RPST")?.trim().to_string();
    let claims = TokenClaims::parse(&token)
        .map_err(|m| OciError::principal(PRINCIPAL, format!("OCI_RESOURCE_PRINCIPAL_RPST: {m}")))?;
    let pass = match passphrase {
        Some(p) => Some(
            p.read("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM_PASSPHRASE")?
                .trim()
                .to_string(),
        ),
        None => None,
    };
    let pem = key.read("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM")?;
    let what = match key {
        Source::File(p) => format!("in {} (OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM)", p.display()),
        Source::Inline(_) => "from OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM".to_string(),
    };
    let key = PrivateKey::from_pem(pem.as_bytes(), pass.as_deref(), &what)?;
    Ok(State {
        credentials: Credentials::new(format!("ST${token}"), key),
        claims,
    })
}

#[async_trait]
impl AuthProvider for ResourcePrincipalProvider {
    async fn credentials(&self) -> Result<Credentials, OciError> {
        let mut state = self.state.lock().await;
        if state.claims.needs_refresh(now_secs()) {
            // Files are re-read: the platform writes a fresh token (and maybe key) before expiry.
            // Inline values cannot change; keep using them until the service says otherwise.
            if matches!(self.rpst, Source::File(_)) {
                *state = load(&self.rpst, &self.key, self.passphrase.as_ref())?;
                self.set_tenancy(&state);
            }
        }
        Ok(state.credentials.clone())
    }

    async fn refresh(&self) -> Result<(), OciError> {
        let fresh = load(&self.rpst, &self.key, self.passphrase.as_ref())?;
        self.set_tenancy(&fresh);
        *self.state.lock().await = fresh;
        Ok(())
    }

    fn refreshable(&self) -> bool {
        matches!(self.rpst, Source::File(_))
    }

    fn principal(&self) -> String {
        "session token of resource principal".to_string()
    }

    fn region(&self) -> Option<Region> {
        Some(self.region)
    }

    fn tenancy_id(&self) -> Option<String> {
        self.tenancy.lock().ok().and_then(|t| t.clone())
    }
}

impl std::fmt::Debug for ResourcePrincipalProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourcePrincipalProvider")
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}
