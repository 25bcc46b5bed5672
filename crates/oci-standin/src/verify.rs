//! What OCI's front door checks on every signed request, for stand-ins: the `authorization`
//! header's form, that the required headers are signed and present, that the date is within
//! five minutes, that `x-content-sha256`/`content-length` match the body, and that the
//! signature verifies with the public key registered for the keyId.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_lc_rs::signature;
use base64::Engine as _;
use http::{HeaderMap, Method};

use mediaserver_oci::signer::{self, is_object_storage_upload};
use mediaserver_oci::PrivateKey;

/// A refused request: the status and OCI error body a stand-in should answer with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl Rejection {
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Rejection {
            status: 401,
            code: "NotAuthenticated",
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Rejection {
            status: 400,
            code: "InvalidParameter",
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

/// An accepted signature.
#[derive(Debug, Clone)]
pub struct Verified {
    pub key_id: String,
    pub signed_headers: Vec<String>,
}

/// How strict to be.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Headers that must be among the signed ones; `None` applies OCI's per-method rules.
    pub required_headers: Option<Vec<String>>,
    /// Largest accepted distance between the request's date and `now`.
    pub max_skew_secs: i64,
    /// The stand-in's idea of the current time.
    pub now: chrono::DateTime<chrono::Utc>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            required_headers: None,
            max_skew_secs: mediaserver_oci::client::MAX_CLOCK_SKEW_SECS,
            now: chrono::Utc::now(),
        }
    }
}

/// The parameters of `Signature version="1",keyId="…",algorithm="…",headers="…",signature="…"`.
pub fn parse_authorization(value: &str) -> Result<HashMap<String, String>, Rejection> {
    let rest = value.strip_prefix("Signature ").ok_or_else(|| {
        Rejection::unauthenticated("the authorization header is not an OCI Signature")
    })?;
    let mut params = HashMap::new();
    let mut s = rest.trim();
    while !s.is_empty() {
        let (name, after) = s
            .split_once("=\"")
            .ok_or_else(|| Rejection::unauthenticated("malformed Signature parameters"))?;
        let (val, after) = after
            .split_once('"')
            .ok_or_else(|| Rejection::unauthenticated("unterminated Signature parameter"))?;
        params.insert(name.trim().to_string(), val.to_string());
        s = after.trim_start_matches(',').trim();
    }
    Ok(params)
}

/// Verifies a request as OCI does. `target` is the path and query as received; `body` is
/// `None` when the caller streams it (the hash is then not checked here). `public_key_for`
/// maps a keyId to a SubjectPublicKeyInfo DER.
pub fn verify_signature(
    method: &Method,
    target: &str,
    headers: &HeaderMap,
    body: Option<&[u8]>,
    public_key_for: impl Fn(&str) -> Option<Vec<u8>>,
    opts: &VerifyOptions,
) -> Result<Verified, Rejection> {
    let auth = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| Rejection::unauthenticated("the authorization header is missing"))?;
    let p = parse_authorization(auth)?;
    let get = |k: &str| {
        p.get(k).map(String::as_str).ok_or_else(|| {
            Rejection::unauthenticated(format!("the Signature has no {k} parameter"))
        })
    };
    if get("version")? != "1" {
        return Err(Rejection::unauthenticated("unsupported signature version"));
    }
    if get("algorithm")? != "rsa-sha256" {
        return Err(Rejection::unauthenticated(
            "unsupported signature algorithm",
        ));
    }
    let key_id = get("keyId")?.to_string();
    let signed: Vec<String> = get("headers")?
        .split(' ')
        .map(str::to_ascii_lowercase)
        .collect();

    let path = target.split('?').next().unwrap_or(target);
    let required: Vec<String> = match &opts.required_headers {
        Some(r) => r.clone(),
        None => {
            let mut r = vec!["(request-target)".to_string(), "host".to_string()];
            let body_method = matches!(*method, Method::POST | Method::PUT | Method::PATCH);
            if body_method && !is_object_storage_upload(method, path) {
                r.extend(signer::BODY_HEADERS.iter().map(|s| s.to_string()));
            }
            r
        }
    };
    for r in &required {
        if !signed.contains(r) {
            return Err(Rejection::unauthenticated(format!(
                "the signature must cover the '{r}' header"
            )));
        }
    }
    let date_header = if signed.iter().any(|h| h == "x-date") {
        "x-date"
    } else {
        "date"
    };
    if !signed.iter().any(|h| h == date_header) {
        return Err(Rejection::unauthenticated(
            "the signature must cover the 'date' header",
        ));
    }
    for h in signed.iter().filter(|h| *h != "(request-target)") {
        if !headers.contains_key(h.as_str()) {
            return Err(Rejection::unauthenticated(format!(
                "signed header '{h}' is missing from the request"
            )));
        }
    }

    let date = headers
        .get(date_header)
        .and_then(|v| v.to_str().ok())
        .and_then(signer::parse_http_date)
        .ok_or_else(|| Rejection::unauthenticated("the date header is not an HTTP date"))?;
    let skew = (opts.now.timestamp() - date.timestamp()).abs();
    if skew > opts.max_skew_secs {
        return Err(Rejection::unauthenticated(format!(
            "the request date is {skew} seconds away from the server's clock; the maximum allowed clock skew is {} seconds",
            opts.max_skew_secs
        )));
    }

    if let Some(body) = body {
        if signed.iter().any(|h| h == "x-content-sha256") {
            let sent = headers
                .get("x-content-sha256")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if sent != signer::content_sha256(body) {
                return Err(Rejection::bad_request(
                    "x-content-sha256 does not match the body",
                ));
            }
        }
        if signed.iter().any(|h| h == "content-length") {
            let sent = headers
                .get("content-length")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if sent != body.len().to_string() {
                return Err(Rejection::bad_request(
                    "content-length does not match the body",
                ));
            }
        }
    }

    let public =
        public_key_for(&key_id).ok_or_else(|| Rejection::unauthenticated("unknown keyId"))?;
    let names: Vec<&str> = signed.iter().map(String::as_str).collect();
    let signing_string = signer::signing_string(method, target, headers, &names)
        .map_err(|e| Rejection::unauthenticated(e.to_string()))?;
    let sig = base64::engine::general_purpose::STANDARD
        .decode(get("signature")?)
        .map_err(|_| Rejection::unauthenticated("the signature is not base64"))?;
    signature::UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &public)
        .verify(signing_string.as_bytes(), &sig)
        .map_err(|_| Rejection::unauthenticated("the signature does not verify"))?;
    Ok(Verified {
        key_id,
        signed_headers: signed,
    })
}

/// keyId → public key (SubjectPublicKeyInfo DER), shared by a stand-in's handlers.
#[derive(Clone, Default)]
pub struct KeyRegistry(Arc<Mutex<HashMap<String, Vec<u8>>>>);

impl KeyRegistry {
    pub fn insert(&self, key_id: impl Into<String>, public_key_der: Vec<u8>) {
        if let Ok(mut m) = self.0.lock() {
            m.insert(key_id.into(), public_key_der);
        }
    }

    pub fn remove(&self, key_id: &str) {
        if let Ok(mut m) = self.0.lock() {
            m.remove(key_id);
        }
    }

    /// Registers a user's API key; returns its keyId `{tenancy}/{user}/{fingerprint}`.
    pub fn insert_api_key(&self, tenancy: &str, user: &str, key: &PrivateKey) -> String {
        let key_id = format!("{tenancy}/{user}/{}", key.fingerprint());
        self.insert(key_id.clone(), key.public_key_der().to_vec());
        key_id
    }

    /// Keeps only the keyIds for which `keep` is true.
    pub fn retain(&self, keep: impl Fn(&str) -> bool) {
        if let Ok(mut m) = self.0.lock() {
            m.retain(|k, _| keep(k));
        }
    }

    pub fn get(&self, key_id: &str) -> Option<Vec<u8>> {
        self.0.lock().ok().and_then(|m| m.get(key_id).cloned())
    }

    /// [`verify_signature`] against this registry.
    pub fn verify(
        &self,
        method: &Method,
        target: &str,
        headers: &HeaderMap,
        body: Option<&[u8]>,
        opts: &VerifyOptions,
    ) -> Result<Verified, Rejection> {
        verify_signature(method, target, headers, body, |k| self.get(k), opts)
    }
}

impl std::fmt::Debug for KeyRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.lock().map(|m| m.len()).unwrap_or(0);
        write!(f, "KeyRegistry({n} keys)")
    }
}
