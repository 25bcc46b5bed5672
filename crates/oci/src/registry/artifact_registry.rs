//! Google Artifact Registry logins: an OAuth 2 access token, which the registry takes as the
//! password of the user `oauth2accesstoken`. The token comes from a service-account key
//! (the JWT bearer grant, RFC 7523: an RS256 assertion signed with the key, posted to the
//! key's `token_uri`) or from the metadata server of the VM or pod. The assertion is signed
//! with this crate's RSA key type (RSASSA-PKCS1-v1_5 over SHA-256 is RS256), so no JWT crate
//! is needed for three base64 segments.

use base64::Engine as _;

use super::auth::{RegistryCredentials, RegistrySecret};
use super::RegistryError;
use crate::key::{PrivateKey, SigningKey as _};

/// The registry user name for an OAuth access token.
pub const OAUTH_TOKEN_USER: &str = "oauth2accesstoken";
/// The scope asked for: Artifact Registry reads and deletes are under cloud-platform.
pub const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
/// The JWT bearer grant type.
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Google's metadata server (`GCE_METADATA_HOST` overrides the host).
pub const DEFAULT_METADATA_HOST: &str = "metadata.google.internal";

/// The fields of a service-account key file that the grant needs.
#[derive(serde::Deserialize)]
pub struct ServiceAccountKey {
    pub client_email: String,
    private_key: String,
    pub private_key_id: Option<String>,
    pub token_uri: String,
}

impl std::fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("client_email", &self.client_email)
            .field("token_uri", &self.token_uri)
            .finish_non_exhaustive()
    }
}

impl ServiceAccountKey {
    /// Parses a key file's JSON; `what` names it in errors.
    pub fn parse(json: &[u8], what: &str) -> Result<Self, RegistryError> {
        let key: ServiceAccountKey = serde_json::from_slice(json).map_err(|e| {
            RegistryError::config_from(
                format!("{what} is not a service-account key file (client_email, private_key, token_uri): {e}"),
                e,
            )
        })?;
        Ok(key)
    }
}

/// Exchanges a JWT signed with `key` for an access token at the key's `token_uri`.
pub async fn service_account_login(
    http: &reqwest::Client,
    key: &ServiceAccountKey,
) -> Result<RegistryCredentials, RegistryError> {
    let private = PrivateKey::from_pem(key.private_key.as_bytes(), None, "of the service account")
        .map_err(|e| {
            RegistryError::config_from(format!("service account {}: {e}", key.client_email), e)
        })?;
    let now = chrono::Utc::now().timestamp();
    let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    let mut header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
    if let Some(kid) = &key.private_key_id {
        header["kid"] = serde_json::Value::String(kid.clone());
    }
    let claims = serde_json::json!({
        "iss": key.client_email,
        "scope": CLOUD_PLATFORM_SCOPE,
        "aud": key.token_uri,
        "iat": now,
        "exp": now + 3600,
    });
    let signing_input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = private
        .sign_rsa_sha256(signing_input.as_bytes())
        .map_err(|e| RegistryError::config_from(format!("signing the token request: {e}"), e))?;
    let assertion = format!("{signing_input}.{}", b64(&signature));
    let resp = http
        .post(&key.token_uri)
        .form(&[("grant_type", JWT_BEARER_GRANT), ("assertion", &assertion)])
        .send()
        .await;
    token_answer(
        resp,
        &key.token_uri,
        &format!("service account {}", key.client_email),
    )
    .await
}

/// Asks the metadata server at `host` (see [`DEFAULT_METADATA_HOST`]) for the default service
/// account's access token.
pub async fn metadata_login(
    http: &reqwest::Client,
    host: &str,
) -> Result<RegistryCredentials, RegistryError> {
    let base = if host.starts_with("http://") || host.starts_with("https://") {
        host.trim_end_matches('/').to_string()
    } else {
        format!("http://{}", host.trim_end_matches('/'))
    };
    let url = format!("{base}/computeMetadata/v1/instance/service-accounts/default/token");
    let resp = http
        .get(&url)
        .header("Metadata-Flavor", "Google")
        .send()
        .await;
    token_answer(resp, &url, "the metadata server's default service account").await
}

async fn token_answer(
    resp: Result<reqwest::Response, reqwest::Error>,
    url: &str,
    who: &str,
) -> Result<RegistryCredentials, RegistryError> {
    let failed = |message: String| RegistryError::Registry {
        registry: format!("OAuth token service {url}"),
        message,
        source: None,
    };
    let resp = resp.map_err(|e| failed(format!("cannot reach it: {}", e.without_url())))?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    if !status.is_success() {
        // The answer names the error (invalid_grant…), never the assertion.
        return Err(RegistryError::Unauthorized {
            registry: format!("OAuth token service {url}"),
            login: format!("as {who}"),
            hint: format!(
                "HTTP {}: {}",
                status.as_u16(),
                text.chars().take(300).collect::<String>()
            ),
        });
    }
    #[derive(serde::Deserialize)]
    struct Answer {
        access_token: String,
    }
    let a: Answer = serde_json::from_str(&text)
        .map_err(|e| failed(format!("the answer carries no access_token ({e})")))?;
    Ok(RegistryCredentials::Basic {
        username: OAUTH_TOKEN_USER.into(),
        password: RegistrySecret::new(a.access_token),
    })
}
