//! OCI Vault secrets: `GET {secrets}/20190301/secretbundles/{secretId}` returns the current
//! version with its content base64-encoded in `secretBundleContent.content`.

use std::fmt;

use crate::client::OciClient;
use crate::error::{Cause, OciError};
use crate::signer::BodySigning;

/// A secret's bytes. `Debug` never shows them.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(Vec<u8>);

impl SecretValue {
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The value as UTF-8 text, without the trailing newline editors and `echo` leave.
    pub fn into_string(self) -> Result<String, std::string::FromUtf8Error> {
        let mut s = String::from_utf8(self.0)?;
        while s.ends_with('\n') || s.ends_with('\r') {
            s.pop();
        }
        Ok(s)
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretValue(*** {} bytes)", self.0.len())
    }
}

/// Checks the shape of a secret OCID (`ocid1.vaultsecret.<realm>.<region>.<id>`) so a typo is
/// reported as such instead of as a 404.
pub fn validate_secret_ocid(id: &str) -> Result<(), String> {
    if !id.starts_with("ocid1.vaultsecret.") {
        return Err(format!(
            "'{id}' is not a secret OCID (expected ocid1.vaultsecret.…)"
        ));
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return Err(format!("'{id}' contains characters an OCID never has"));
    }
    Ok(())
}

/// Reads the current version of a secret. Every failure names the secret.
pub async fn read_secret(client: &OciClient, secret_id: &str) -> Result<SecretValue, OciError> {
    let secret_id = secret_id.trim();
    let named = |message: String| OciError::Secret {
        secret_id: secret_id.to_string(),
        message,
        source: None,
    };
    let named_from = |message: String, cause: Cause| OciError::Secret {
        secret_id: secret_id.to_string(),
        message,
        source: Some(cause),
    };
    validate_secret_ocid(secret_id).map_err(named)?;
    let url = format!(
        "{}/20190301/secretbundles/{secret_id}",
        client.endpoints().secrets
    );
    let req = client
        .http()
        .get(&url)
        .header(http::header::ACCEPT, "application/json")
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| named_from(format!("bad Secrets endpoint {url}: {e}"), e.into()))?;
    let resp = client
        .execute_checked(req, BodySigning::Auto)
        .await
        .map_err(|e| named_from(e.to_string(), e.into()))?;
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Bundle {
        secret_bundle_content: Content,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Content {
        content_type: Option<String>,
        content: String,
    }
    let text = resp
        .text()
        .await
        .map_err(|e| named_from(format!("reading the answer: {e}"), e.into()))?;
    // The parsers' own errors are left out here and below: they can quote the content.
    let bundle: Bundle = serde_json::from_str(&text).map_err(|_| {
        named("the answer is not a secret bundle (no secretBundleContent.content)".into())
    })?;
    if let Some(t) = bundle.secret_bundle_content.content_type.as_deref() {
        if t != "BASE64" {
            return Err(named(format!(
                "unsupported content type {t} (expected BASE64)"
            )));
        }
    }
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(bundle.secret_bundle_content.content.trim())
        .map_err(|_| named("the secret content is not valid base64".into()))?;
    Ok(SecretValue(bytes))
}

/// [`read_secret`] as UTF-8 text (trailing newline removed), failing when it is empty.
pub async fn read_secret_string(client: &OciClient, secret_id: &str) -> Result<String, OciError> {
    let value = read_secret(client, secret_id).await?;
    // The UTF-8 error is left out: it carries the bytes.
    let text = value.into_string().map_err(|_| OciError::Secret {
        secret_id: secret_id.trim().to_string(),
        message: "the secret is not UTF-8 text".into(),
        source: None,
    })?;
    if text.is_empty() {
        return Err(OciError::Secret {
            secret_id: secret_id.trim().to_string(),
            message: "the secret is empty".into(),
            source: None,
        });
    }
    Ok(text)
}
