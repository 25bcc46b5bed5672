//! Registry calls through `oci-client` (the OCI distribution client): a tag's manifest digest
//! and a repository's tags, with errors that say what was refused or missing.

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::Client;

use super::auth::RegistryCredentials;
use super::reference::ImageReference;
use super::RegistryError;

/// Tags asked for per page; registries may return fewer.
const TAGS_PAGE: usize = 500;
/// A bound on pages, against a registry that keeps answering the same page.
const MAX_TAG_PAGES: usize = 1000;

/// A registry client for one set of credentials (`oci-client` remembers the first login per
/// registry, so other credentials need another client).
pub struct RegistryClient {
    pub(super) client: Client,
    pub(super) credentials: RegistryCredentials,
    pub(super) insecure: bool,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient")
            .field("credentials", &self.credentials)
            .finish()
    }
}

impl RegistryClient {
    /// `insecure`: plain HTTP (a registry on the loopback, a test registry).
    pub fn new(credentials: RegistryCredentials, insecure: bool) -> Self {
        let config = ClientConfig {
            protocol: if insecure {
                ClientProtocol::Http
            } else {
                ClientProtocol::Https
            },
            connect_timeout: Some(std::time::Duration::from_secs(10)),
            read_timeout: Some(std::time::Duration::from_secs(60)),
            ..Default::default()
        };
        RegistryClient {
            client: Client::new(config),
            credentials,
            insecure,
        }
    }

    /// The manifest digest `image` names: for a tag, what the tag points at now (the digest of
    /// the manifest or, for multi-platform images, the index); a reference that already
    /// carries a digest is checked against the registry. No tag means `latest`.
    pub async fn resolve(&self, image: &ImageReference) -> Result<String, RegistryError> {
        let reference = image.to_client_reference();
        let auth = self.credentials.to_client_auth();
        let digest = self
            .client
            .fetch_manifest_digest(&reference, &auth)
            .await
            .map_err(|e| self.error(image, Target::Manifest, e))?;
        Ok(digest)
    }

    /// Every tag of `image`'s repository (its tag or digest is ignored), in the registry's
    /// order (lexical for the CNCF distribution registry), following pagination: page after
    /// page from the last tag seen, until one brings nothing new (a registry may return fewer
    /// than asked for and still have more, so a short page does not end the list).
    pub async fn tags(&self, image: &ImageReference) -> Result<Vec<String>, RegistryError> {
        let reference = image.to_client_reference();
        let auth = self.credentials.to_client_auth();
        let mut tags: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..MAX_TAG_PAGES {
            let last = tags.last().cloned();
            let page = self
                .client
                .list_tags(&reference, &auth, Some(TAGS_PAGE), last.as_deref())
                .await
                .map_err(|e| self.error(image, Target::Repository, e))?;
            let before = tags.len();
            for t in page.tags {
                if seen.insert(t.clone()) {
                    tags.push(t);
                }
            }
            if tags.len() == before {
                break;
            }
        }
        Ok(tags)
    }

    pub(super) fn error(
        &self,
        image: &ImageReference,
        target: Target,
        e: OciDistributionError,
    ) -> RegistryError {
        let registry = image.registry().to_string();
        let what = match target {
            Target::Manifest => match (image.tag(), image.digest()) {
                (_, Some(d)) => format!("manifest {d} of repository {}", image.repository()),
                (Some(t), None) => format!("tag '{t}' of repository {}", image.repository()),
                (None, None) => format!("tag 'latest' of repository {}", image.repository()),
            },
            Target::Repository => format!("repository {}", image.repository()),
        };
        match e {
            OciDistributionError::UnauthorizedError { .. }
            | OciDistributionError::AuthenticationFailure(_) => RegistryError::Unauthorized {
                registry,
                login: self.credentials.describe(),
                hint: unauthorized_hint(image, &self.credentials),
            },
            OciDistributionError::RegistryError { envelope, .. } => {
                let not_found = envelope.errors.iter().any(|x| {
                    matches!(
                        x.code,
                        OciErrorCode::ManifestUnknown
                            | OciErrorCode::NameUnknown
                            | OciErrorCode::NotFound
                            | OciErrorCode::BlobUnknown
                    )
                });
                let denied = envelope
                    .errors
                    .iter()
                    .any(|x| matches!(x.code, OciErrorCode::Denied | OciErrorCode::Unauthorized));
                let detail = envelope
                    .errors
                    .iter()
                    .map(|x| {
                        let code = serde_json::to_value(&x.code)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_string))
                            .unwrap_or_default();
                        format!("{code}: {}", x.message)
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                if not_found {
                    RegistryError::NotFound {
                        registry,
                        what,
                        detail,
                    }
                } else if denied {
                    RegistryError::Unauthorized {
                        registry,
                        login: self.credentials.describe(),
                        hint: format!("access denied ({detail})"),
                    }
                } else {
                    RegistryError::Registry {
                        registry,
                        message: format!("{what}: {detail}"),
                        source: None,
                    }
                }
            }
            OciDistributionError::ServerError {
                code: 404, message, ..
            } => RegistryError::NotFound {
                registry,
                what,
                detail: message.chars().take(200).collect(),
            },
            OciDistributionError::ServerError { code, message, .. } => RegistryError::Registry {
                registry,
                message: format!(
                    "{what}: HTTP {code}: {}",
                    message.chars().take(200).collect::<String>()
                ),
                source: None,
            },
            OciDistributionError::RequestError(err) => {
                let chain = error_chain(&err);
                // rustls' words for an HTTP answer to a TLS hello.
                let hint = if chain.contains("InvalidContentType")
                    || chain.contains("corrupt message")
                {
                    " (the registry does not speak HTTPS: for a plain-HTTP registry use --insecure)"
                } else {
                    ""
                };
                RegistryError::Registry {
                    registry,
                    message: format!("cannot reach the registry: {chain}{hint}"),
                    source: Some(Box::new(err)),
                }
            }
            other => RegistryError::Registry {
                registry,
                message: format!("{what}: {other}"),
                source: Some(Box::new(other)),
            },
        }
    }
}

pub(super) enum Target {
    Manifest,
    Repository,
}

fn unauthorized_hint(image: &ImageReference, creds: &RegistryCredentials) -> String {
    match (creds, image.namespace()) {
        (RegistryCredentials::Anonymous, _) => {
            "the registry wants credentials: give a user name and password (OCIR: \
             <namespace>/<user> and an auth token) or use an OCI principal"
                .into()
        }
        (RegistryCredentials::Basic { username, .. }, Some(ns))
            if !username.starts_with(&format!("{ns}/")) && username != "BEARER_TOKEN" =>
        {
            format!(
                "check the password (an auth token on OCIR); the user name does not start with \
                 the image's tenancy namespace '{ns}/'"
            )
        }
        (RegistryCredentials::Basic { .. }, _) => {
            "check the user name and password (on OCIR: <namespace>/<user> and an auth token, \
             not the console password)"
                .into()
        }
        (RegistryCredentials::OciToken { .. }, _) => {
            "the token was issued but the registry refused it: check the principal's policies \
             (read repos) and that the token came from this registry's region"
                .into()
        }
    }
}

/// `reqwest` errors say little at the top level ("error sending request"); the cause says why.
pub(super) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
