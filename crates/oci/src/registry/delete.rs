//! Deleting a manifest through the distribution API (`DELETE /v2/<name>/manifests/<digest>`),
//! which `oci-client` does not offer: a tag is first resolved to its digest (registries delete
//! manifests, and with them every tag that points there). Credentials go as HTTP Basic; a
//! registry that answers with a Bearer challenge gets a token for `repository:<name>:delete`
//! from its realm first, as `docker` and `crane` do.

use base64::Engine as _;
use reqwest::StatusCode;

use super::auth::{RegistryCredentials, BEARER_TOKEN_USER};
use super::client::RegistryClient;
use super::reference::ImageReference;
use super::RegistryError;

const MANIFEST_TYPES: &str = "application/vnd.oci.image.index.v1+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.docker.distribution.manifest.v2+json";

impl RegistryClient {
    /// Deletes the manifest `image` names (its digest, or what its tag points at now) and
    /// returns the digest deleted.
    pub async fn delete(&self, image: &ImageReference) -> Result<String, RegistryError> {
        let digest = match image.digest() {
            Some(d) => d.to_string(),
            None => self.resolve(image).await?,
        };
        let http = super::http_client()?;
        let url = format!(
            "{}://{}/v2/{}/manifests/{digest}",
            if self.insecure { "http" } else { "https" },
            image.registry(),
            image.repository()
        );
        let basic = self.basic_header();
        let send = |auth: Option<String>| {
            let mut req = http
                .delete(&url)
                .header(http::header::ACCEPT, MANIFEST_TYPES);
            if let Some(a) = auth {
                req = req.header(http::header::AUTHORIZATION, a);
            }
            req.send()
        };
        let mut resp = send(basic.clone())
            .await
            .map_err(|e| self.transport(image, e))?;
        if resp.status() == StatusCode::UNAUTHORIZED {
            let challenge = resp
                .headers()
                .get(http::header::WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .and_then(BearerChallenge::parse);
            if let Some(c) = challenge {
                let token = self.bearer_token(&http, image, &c, basic.clone()).await?;
                resp = send(Some(format!("Bearer {token}")))
                    .await
                    .map_err(|e| self.transport(image, e))?;
            }
        }
        let status = resp.status();
        let body: String = resp
            .text()
            .await
            .unwrap_or_default()
            .chars()
            .take(300)
            .collect();
        let what = format!("manifest {digest} of repository {}", image.repository());
        match status {
            s if s.is_success() => Ok(digest),
            StatusCode::NOT_FOUND => Err(RegistryError::NotFound {
                registry: image.registry().to_string(),
                what,
                detail: String::new(),
            }),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(RegistryError::Unauthorized {
                registry: image.registry().to_string(),
                login: self.credentials.describe(),
                hint: format!(
                    "deleting {what} was refused (HTTP {}): the login needs delete rights",
                    status.as_u16()
                ),
            }),
            StatusCode::METHOD_NOT_ALLOWED => Err(RegistryError::Registry {
                registry: image.registry().to_string(),
                message: format!(
                    "deleting {what}: the registry does not allow deletes (HTTP 405; the CNCF \
                     registry needs REGISTRY_STORAGE_DELETE_ENABLED=true)"
                ),
                source: None,
            }),
            s => Err(RegistryError::Registry {
                registry: image.registry().to_string(),
                message: format!("deleting {what}: HTTP {}: {body}", s.as_u16()),
                source: None,
            }),
        }
    }

    fn basic_header(&self) -> Option<String> {
        let (user, pass) = match &self.credentials {
            RegistryCredentials::Anonymous => return None,
            RegistryCredentials::Basic { username, password } => {
                (username.as_str(), password.expose())
            }
            RegistryCredentials::OciToken { token, .. } => (BEARER_TOKEN_USER, token.expose()),
        };
        Some(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
        ))
    }

    async fn bearer_token(
        &self,
        http: &reqwest::Client,
        image: &ImageReference,
        c: &BearerChallenge,
        basic: Option<String>,
    ) -> Result<String, RegistryError> {
        let scope = format!("repository:{}:delete,pull", image.repository());
        let mut req = http.get(&c.realm).query(&[("scope", scope.as_str())]);
        if let Some(s) = &c.service {
            req = req.query(&[("service", s.as_str())]);
        }
        if let Some(b) = basic {
            req = req.header(http::header::AUTHORIZATION, b);
        }
        let resp = req.send().await.map_err(|e| self.transport(image, e))?;
        if !resp.status().is_success() {
            return Err(RegistryError::Unauthorized {
                registry: image.registry().to_string(),
                login: self.credentials.describe(),
                hint: format!(
                    "the token service refused a delete token (HTTP {})",
                    resp.status().as_u16()
                ),
            });
        }
        #[derive(serde::Deserialize)]
        struct Answer {
            token: Option<String>,
            access_token: Option<String>,
        }
        let a: Answer = resp.json().await.map_err(|e| self.transport(image, e))?;
        a.token
            .or(a.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| RegistryError::Registry {
                registry: image.registry().to_string(),
                message: "the token service answered without a token".into(),
                source: None,
            })
    }

    fn transport(&self, image: &ImageReference, e: reqwest::Error) -> RegistryError {
        // reqwest's message repeats the URL; the registry is named already.
        let e = e.without_url();
        RegistryError::Registry {
            registry: image.registry().to_string(),
            message: format!(
                "cannot reach the registry: {}",
                super::client::error_chain(&e)
            ),
            source: Some(Box::new(e)),
        }
    }
}

/// `WWW-Authenticate: Bearer realm="…",service="…",scope="…"`.
#[derive(Debug, PartialEq, Eq)]
struct BearerChallenge {
    realm: String,
    service: Option<String>,
}

impl BearerChallenge {
    fn parse(header: &str) -> Option<Self> {
        let rest = header.trim();
        let (scheme, params) = rest.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let mut realm = None;
        let mut service = None;
        let mut s = params.trim();
        while !s.is_empty() {
            let (key, after) = s.split_once('=')?;
            let key = key.trim().trim_start_matches(',').trim();
            let after = after.trim_start();
            let (value, next) = if let Some(q) = after.strip_prefix('"') {
                let end = q.find('"')?;
                (&q[..end], &q[end + 1..])
            } else {
                let end = after.find(',').unwrap_or(after.len());
                (&after[..end], &after[end..])
            };
            match key.to_ascii_lowercase().as_str() {
                "realm" => realm = Some(value.to_string()),
                "service" => service = Some(value.to_string()),
                _ => {}
            }
            s = next.trim_start().trim_start_matches(',').trim_start();
        }
        Some(BearerChallenge {
            realm: realm.filter(|r| r.starts_with("https://") || r.starts_with("http://"))?,
            service,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenges_are_parsed() {
        let c = BearerChallenge::parse(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull""#,
        )
        .unwrap();
        assert_eq!(c.realm, "https://auth.docker.io/token");
        assert_eq!(c.service.as_deref(), Some("registry.docker.io"));
        assert_eq!(
            BearerChallenge::parse(r#"Basic realm="x""#),
            None,
            "not a bearer challenge"
        );
        assert_eq!(BearerChallenge::parse(r#"Bearer service="x""#), None);
    }
}
