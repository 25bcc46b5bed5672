//! Registry credentials: a user name and password (on OCIR `<namespace>/<user>` or
//! `<namespace>/oracleidentitycloudservice/<user>` with an auth token), or a short-lived token
//! from OCIR's `GET /20180419/docker/token` signed by an OCI principal (API key, instance or
//! resource principal), which the registry takes as the password of the user `BEARER_TOKEN`.

use std::fmt;

use crate::auth::AuthSettings;
use crate::client::OciClient;
use crate::endpoints::{EndpointOverrides, ENV_OCIR};
use crate::error::OciError;
use crate::signer::BodySigning;

use super::reference::{is_ocir_host, ImageReference};
use super::RegistryError;

/// Where OCIR exchanges a signed request for a registry token.
pub const OCIR_TOKEN_PATH: &str = "/20180419/docker/token";

/// The user name OCIR expects with a token from [`OCIR_TOKEN_PATH`].
pub const BEARER_TOKEN_USER: &str = "BEARER_TOKEN";

/// A password or token. `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct RegistrySecret(String);

impl RegistrySecret {
    pub fn new(s: impl Into<String>) -> Self {
        RegistrySecret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RegistrySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How to log in to a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryCredentials {
    Anonymous,
    /// A user name and password (an auth token on OCIR).
    Basic {
        username: String,
        password: RegistrySecret,
    },
    /// A token from OCIR's signed token exchange; `principal` names who signed (no secret).
    OciToken {
        token: RegistrySecret,
        principal: String,
    },
}

impl RegistryCredentials {
    /// A user name and password; on an OCIR host the user name must have OCIR's form.
    pub fn basic(
        image: &ImageReference,
        username: &str,
        password: RegistrySecret,
    ) -> Result<Self, RegistryError> {
        let username = username.trim();
        if username.is_empty() {
            return Err(RegistryError::config("the registry user name is empty"));
        }
        if password.expose().is_empty() {
            return Err(RegistryError::config(format!(
                "no password for registry user '{username}' (an auth token on OCIR)"
            )));
        }
        if image.ocir_region().is_some() {
            validate_ocir_username(username)?;
        }
        Ok(RegistryCredentials::Basic {
            username: username.to_string(),
            password,
        })
    }

    /// Who logs in, for messages.
    pub fn describe(&self) -> String {
        match self {
            RegistryCredentials::Anonymous => "anonymously".into(),
            RegistryCredentials::Basic { username, .. } => format!("as user '{username}'"),
            RegistryCredentials::OciToken { principal, .. } => {
                format!("with an OCIR token for {principal}")
            }
        }
    }

    pub(crate) fn to_client_auth(&self) -> oci_client::secrets::RegistryAuth {
        use oci_client::secrets::RegistryAuth;
        match self {
            RegistryCredentials::Anonymous => RegistryAuth::Anonymous,
            RegistryCredentials::Basic { username, password } => {
                RegistryAuth::Basic(username.clone(), password.expose().to_string())
            }
            RegistryCredentials::OciToken { token, .. } => {
                RegistryAuth::Basic(BEARER_TOKEN_USER.into(), token.expose().to_string())
            }
        }
    }
}

/// OCIR user names: `<namespace>/<user>`, `<namespace>/oracleidentitycloudservice/<user>`
/// (federated through IDCS), `<namespace>/<identity domain>/<user>`, or `BEARER_TOKEN`.
pub fn validate_ocir_username(username: &str) -> Result<(), RegistryError> {
    if username == BEARER_TOKEN_USER {
        return Ok(());
    }
    let parts: Vec<&str> = username.split('/').collect();
    let form = "OCIR user names are <tenancy namespace>/<user name>, or \
                <tenancy namespace>/oracleidentitycloudservice/<user name> for users federated \
                through Oracle Identity Cloud Service";
    if parts.len() < 2 || parts.len() > 3 || parts.iter().any(|p| p.trim().is_empty()) {
        return Err(RegistryError::config(format!(
            "registry user name '{username}': {form}"
        )));
    }
    let ns = parts[0];
    if !ns
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(RegistryError::config(format!(
            "registry user name '{username}': '{ns}' is not a tenancy namespace (lower-case \
             letters and digits, e.g. axaxnpcrorw5: `oci os ns get`); {form}"
        )));
    }
    Ok(())
}

/// The base URL of the token exchange for `image`: `OCIR_ENDPOINT` when set, else the image's
/// own registry (`https://`, or `http://` when `insecure`).
pub fn token_endpoint(
    image: &ImageReference,
    overrides: &EndpointOverrides,
    insecure: bool,
) -> String {
    match overrides.ocir.as_deref().map(str::trim) {
        Some(o) if !o.is_empty() => o.trim_end_matches('/').to_string(),
        _ => format!(
            "{}://{}",
            if insecure { "http" } else { "https" },
            image.registry()
        ),
    }
}

/// Exchanges a request signed by `client`'s principal at `{base}/20180419/docker/token` for a
/// registry token (`{"token": …}`).
pub async fn exchange_oci_token(
    client: &OciClient,
    base: &str,
) -> Result<RegistryCredentials, RegistryError> {
    let url = format!("{}{OCIR_TOKEN_PATH}", base.trim_end_matches('/'));
    let failed = |source: OciError| RegistryError::TokenExchange {
        url: url.clone(),
        source: Box::new(source),
    };
    let req = client
        .http()
        .get(&url)
        .header(http::header::ACCEPT, "application/json")
        .build()
        .map_err(|e| {
            failed(OciError::config_from(
                format!("not a usable URL ({e}); check {ENV_OCIR}"),
                e,
            ))
        })?;
    let resp = client
        .execute_checked(req, BodySigning::Auto)
        .await
        .map_err(failed)?;
    #[derive(serde::Deserialize)]
    struct TokenAnswer {
        token: Option<String>,
        access_token: Option<String>,
    }
    let body = resp.bytes().await.map_err(|e| {
        failed(OciError::Transport {
            url: url.clone(),
            source: e,
        })
    })?;
    let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|e| {
        failed(OciError::config_from(
            format!("the answer is not a token document: {e}"),
            e,
        ))
    })?;
    let token = answer
        .token
        .or(answer.access_token)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| failed(OciError::config("the answer carries no token")))?;
    Ok(RegistryCredentials::OciToken {
        token: RegistrySecret::new(token),
        principal: client.auth().principal(),
    })
}

/// When to use the OCI-signed token exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OciTokenMode {
    /// For OCIR hosts, when no user name is given.
    #[default]
    Auto,
    /// Whenever no user name is given (a registry behind `OCIR_ENDPOINT`, tests).
    Always,
    /// Never: anonymous without a user name.
    Never,
}

/// What a caller knows about how to log in.
#[derive(Debug, Clone, Default)]
pub struct LoginOptions {
    pub username: Option<String>,
    pub password: Option<RegistrySecret>,
    pub oci_token: OciTokenMode,
    /// Plain HTTP to the registry (and to the token exchange when it is the registry's).
    pub insecure: bool,
}

/// Picks and prepares the credentials for `image`: a user name and password when given; else
/// (per [`OciTokenMode`]) a token exchanged with the principal `oci` describes; else anonymous.
/// `oci` is only connected when the exchange is used.
pub async fn login(
    image: &ImageReference,
    opts: &LoginOptions,
    oci: &AuthSettings,
    http: &reqwest::Client,
) -> Result<RegistryCredentials, RegistryError> {
    if let Some(user) = opts.username.as_deref().filter(|u| !u.trim().is_empty()) {
        let password = opts.password.clone().ok_or_else(|| {
            RegistryError::config(format!(
                "no password for registry user '{}': give the auth token on standard input \
                 (--password-stdin) or in OCIR_AUTH_TOKEN",
                user.trim()
            ))
        })?;
        return RegistryCredentials::basic(image, user, password);
    }
    let exchange = match opts.oci_token {
        OciTokenMode::Always => true,
        OciTokenMode::Auto => is_ocir_host(image.registry()) || oci.overrides.ocir.is_some(),
        OciTokenMode::Never => false,
    };
    if !exchange {
        return Ok(RegistryCredentials::Anonymous);
    }
    let mut settings = oci.clone();
    if settings.region.is_none() {
        settings.region = image.ocir_region();
    }
    let client = OciClient::connect(&settings, http.clone())
        .await
        .map_err(|e| RegistryError::TokenExchange {
            url: format!(
                "{}{OCIR_TOKEN_PATH}",
                token_endpoint(image, &oci.overrides, opts.insecure)
            ),
            source: Box::new(e),
        })?;
    exchange_oci_token(
        &client,
        &token_endpoint(image, &oci.overrides, opts.insecure),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ocir_user_names() {
        for ok in [
            "axaxnpcrorw5/jane.doe@example.com",
            "axaxnpcrorw5/oracleidentitycloudservice/jane.doe@example.com",
            "ns/Default/jane",
            "BEARER_TOKEN",
        ] {
            validate_ocir_username(ok).unwrap();
        }
        for bad in ["jane", "/jane", "ns/", "a/b/c/d", "MyTenancy/jane"] {
            let e = validate_ocir_username(bad).unwrap_err().to_string();
            assert!(e.contains(&format!("'{bad}'")), "{e}");
            assert!(e.contains("oracleidentitycloudservice"), "{e}");
        }
    }

    #[test]
    fn basic_credentials_check_the_user_only_on_ocir() {
        let ocir = ImageReference::parse("iad.ocir.io/ns/app:1").unwrap();
        let other = ImageReference::parse("127.0.0.1:5000/ns/app:1").unwrap();
        let pw = RegistrySecret::new("tok");
        assert!(RegistryCredentials::basic(&ocir, "jane", pw.clone()).is_err());
        assert!(RegistryCredentials::basic(&other, "jane", pw.clone()).is_ok());
        let e = RegistryCredentials::basic(&other, "jane", RegistrySecret::new(""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no password"), "{e}");
        let c =
            RegistryCredentials::basic(&ocir, "ns/jane", RegistrySecret::new("s3cr3t")).unwrap();
        assert!(!format!("{c:?}").contains("s3cr3t"));
    }

    #[test]
    fn token_endpoint_follows_the_override_or_the_image() {
        let img = ImageReference::parse("fra.ocir.io/ns/app:1").unwrap();
        assert_eq!(
            token_endpoint(&img, &EndpointOverrides::default(), false),
            "https://fra.ocir.io"
        );
        let o = EndpointOverrides {
            ocir: Some("http://127.0.0.1:9/".into()),
            ..Default::default()
        };
        assert_eq!(token_endpoint(&img, &o, false), "http://127.0.0.1:9");
    }
}
