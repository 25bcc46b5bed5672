//! Instance principals: the instance's identity certificate, its key and the intermediate
//! certificate come from the metadata service (`{metadata}/identity/cert.pem|key.pem|
//! intermediate.pem`, with `Authorization: Bearer Oracle`); the tenancy is the leaf
//! certificate's `opc-tenant:` (or `opc-identity:`) subject value. They are exchanged at
//! `POST {auth}/v1/x509` for a session token bound to an ephemeral RSA key:
//! `{"certificate", "publicKey", "intermediateCertificates", "purpose": "DEFAULT",
//! "fingerprintAlgorithm": "SHA256"}` signed by the leaf key as
//! `{tenancy}/fed-x509-sha256/{SHA-256 of the leaf DER, colon hex}` over
//! `date (request-target) content-length content-type x-content-sha256` (the federation call
//! signs no `host`). Requests are then signed as `ST${token}` with the ephemeral key.
//! This follows the OCI Go and Java SDKs (the Python SDK still sends the older SHA-1 form).

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use http::Method;
use tokio::sync::Mutex;
use x509_cert::der::{Decode, Encode};

use super::token::{now_secs, TokenClaims};
use super::{AuthProvider, Credentials};
use crate::endpoints::{EndpointOverrides, Endpoints};
use crate::error::{Cause, OciError};
use crate::key::{colon_hex, PrivateKey};
use crate::region::Region;
use crate::signer::{self, Body};

const PRINCIPAL: &str = "instance principal";
const FEDERATION_HEADERS: [&str; 5] = [
    "date",
    "(request-target)",
    "content-length",
    "content-type",
    "x-content-sha256",
];
const METADATA_TIMEOUT: Duration = Duration::from_secs(10);
const FEDERATION_TIMEOUT: Duration = Duration::from_secs(30);

fn fail(message: impl Into<String>) -> OciError {
    OciError::principal(PRINCIPAL, message)
}

/// [`fail`] because of `cause`.
fn fail_from(message: impl Into<String>, cause: impl Into<Cause>) -> OciError {
    OciError::principal_from(PRINCIPAL, message, cause)
}

/// The metadata service's identity material.
struct Identity {
    leaf_der: Vec<u8>,
    leaf_key: PrivateKey,
    intermediates_der: Vec<Vec<u8>>,
    tenancy: String,
}

struct Session {
    credentials: Credentials,
    claims: TokenClaims,
}

/// Signs as the compute instance the process runs on.
pub struct InstancePrincipalProvider {
    http: reqwest::Client,
    metadata: String,
    federation_url: String,
    region: Region,
    tenancy: String,
    session: Mutex<Option<Session>>,
}

impl InstancePrincipalProvider {
    /// Reads the region (unless given) and the identity from the metadata service and gets a
    /// first session token, so a broken setup fails here.
    pub async fn new(
        http: reqwest::Client,
        overrides: &EndpointOverrides,
        region: Option<Region>,
    ) -> Result<Self, OciError> {
        let metadata = overrides.metadata_endpoint()?;
        let region = match region {
            Some(r) => r,
            None => {
                let text = get_metadata(&http, &metadata, "instance/region").await?;
                let text = String::from_utf8_lossy(&text);
                Region::lookup(text.trim())
                    .map_err(|e| fail_from(format!("the metadata service's region: {e}"), e))?
            }
        };
        let federation_url = format!("{}/v1/x509", Endpoints::resolve(&region, overrides)?.auth);
        let identity = fetch_identity(&http, &metadata).await?;
        let provider = InstancePrincipalProvider {
            http,
            metadata,
            federation_url,
            region,
            tenancy: identity.tenancy.clone(),
            session: Mutex::new(None),
        };
        let session = provider.federate(identity).await?;
        *provider.session.lock().await = Some(session);
        Ok(provider)
    }

    async fn renew(&self) -> Result<Session, OciError> {
        // The certificate rotates too: fetch it again for every token, like the SDKs.
        let identity = fetch_identity(&self.http, &self.metadata).await?;
        if identity.tenancy != self.tenancy {
            return Err(fail(format!(
                "the tenancy in the instance certificate changed from {} to {}",
                self.tenancy, identity.tenancy
            )));
        }
        self.federate(identity).await
    }

    async fn federate(&self, identity: Identity) -> Result<Session, OciError> {
        let session_key = PrivateKey::generate()?;
        let b64 = |der: &[u8]| base64::engine::general_purpose::STANDARD.encode(der);
        let body = serde_json::json!({
            "certificate": b64(&identity.leaf_der),
            "publicKey": session_key.public_key_base64(),
            "intermediateCertificates": identity.intermediates_der.iter().map(|d| b64(d)).collect::<Vec<_>>(),
            "purpose": "DEFAULT",
            "fingerprintAlgorithm": "SHA256",
        })
        .to_string();
        let fingerprint = colon_hex(
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &identity.leaf_der).as_ref(),
        );
        let key_id = format!("{}/fed-x509-sha256/{fingerprint}", identity.tenancy);

        let mut req = self
            .http
            .post(&self.federation_url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .timeout(FEDERATION_TIMEOUT)
            .body(body.clone())
            .build()
            .map_err(|e| {
                fail_from(
                    format!("bad federation URL {}: {e}", self.federation_url),
                    e,
                )
            })?;
        let url = req.url().clone();
        signer::sign_with_headers(
            &Method::POST,
            &url,
            req.headers_mut(),
            Body::Bytes(body.as_bytes()),
            &key_id,
            &identity.leaf_key,
            &FEDERATION_HEADERS,
        )?;
        let resp = self
            .http
            .execute(req)
            .await
            .map_err(|e| OciError::Transport {
                url: self.federation_url.clone(),
                source: e,
            })?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        if !status.is_success() {
            let (code, message) = crate::client::error_fields(&text);
            return Err(fail(format!(
                "x509 federation at {} answered {} {code}: {message}",
                self.federation_url,
                status.as_u16()
            )));
        }
        #[derive(serde::Deserialize)]
        struct TokenResponse {
            token: String,
        }
        let token = serde_json::from_str::<TokenResponse>(&text)
            .map_err(|_| {
                fail(format!(
                    "x509 federation at {} answered without a token",
                    self.federation_url
                ))
            })?
            .token;
        let claims =
            TokenClaims::parse(&token).map_err(|m| fail(format!("x509 federation: {m}")))?;
        Ok(Session {
            credentials: Credentials::new(format!("ST${token}"), session_key),
            claims,
        })
    }
}

async fn get_metadata(http: &reqwest::Client, base: &str, path: &str) -> Result<Vec<u8>, OciError> {
    let url = format!("{base}/{path}");
    let resp = http
        .get(&url)
        .header(http::header::AUTHORIZATION, "Bearer Oracle")
        .timeout(METADATA_TIMEOUT)
        .send()
        .await
        .map_err(|e| {
            let message = format!(
                "the instance metadata service at {url} is unreachable ({e}); is this an OCI compute instance? (OCI_AUTH, OCI_METADATA_ENDPOINT)"
            );
            fail_from(message, e)
        })?;
    let status = resp.status();
    if !status.is_success() {
        return Err(fail(format!(
            "the instance metadata service answered {status} for {url}"
        )));
    }
    resp.bytes()
        .await
        .map(|b| b.to_vec())
        .map_err(|e| fail_from(format!("reading {url}: {e}"), e))
}

async fn fetch_identity(http: &reqwest::Client, metadata: &str) -> Result<Identity, OciError> {
    let cert_pem = get_metadata(http, metadata, "identity/cert.pem").await?;
    let key_pem = get_metadata(http, metadata, "identity/key.pem").await?;
    let intermediate_pem = get_metadata(http, metadata, "identity/intermediate.pem").await?;

    let leaf_der = certificates(&cert_pem, "identity/cert.pem")?
        .into_iter()
        .next()
        .ok_or_else(|| fail("identity/cert.pem holds no certificate"))?;
    let intermediates_der = certificates(&intermediate_pem, "identity/intermediate.pem")?;
    let leaf_key = PrivateKey::from_pem(
        &key_pem,
        None,
        "identity/key.pem of the instance metadata service",
    )?;

    let cert = x509_cert::Certificate::from_der(&leaf_der).map_err(|e| {
        fail_from(
            format!("identity/cert.pem is not an X.509 certificate: {e}"),
            e,
        )
    })?;
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| fail_from(format!("identity/cert.pem: {e}"), e))?;
    if spki != leaf_key.public_key_der() {
        return Err(fail("identity/key.pem is not the key of identity/cert.pem"));
    }
    let tenancy = tenancy_of(&cert).ok_or_else(|| {
        fail("the instance certificate names no tenancy (no opc-tenant: subject value)")
    })?;
    Ok(Identity {
        leaf_der,
        leaf_key,
        intermediates_der,
        tenancy,
    })
}

fn certificates(pem_bytes: &[u8], what: &str) -> Result<Vec<Vec<u8>>, OciError> {
    let blocks =
        pem::parse_many(pem_bytes).map_err(|e| fail_from(format!("{what} is not PEM: {e}"), e))?;
    Ok(blocks
        .into_iter()
        .filter(|b| b.tag() == "CERTIFICATE")
        .map(|b| b.contents().to_vec())
        .collect())
}

/// The `opc-tenant:` (or `opc-identity:`) value among the certificate's subject attributes.
pub(crate) fn tenancy_of(cert: &x509_cert::Certificate) -> Option<String> {
    for rdn in cert.tbs_certificate.subject.0.iter() {
        for atv in rdn.0.iter() {
            let text = atv.to_string();
            let Some((_, value)) = text.split_once('=') else {
                continue;
            };
            for prefix in ["opc-tenant:", "opc-identity:"] {
                if let Some(t) = value.strip_prefix(prefix) {
                    return Some(t.to_string());
                }
            }
        }
    }
    None
}

#[async_trait]
impl AuthProvider for InstancePrincipalProvider {
    async fn credentials(&self) -> Result<Credentials, OciError> {
        let mut session = self.session.lock().await;
        let fresh = match session.as_ref() {
            Some(s) if !s.claims.needs_refresh(now_secs()) => None,
            _ => Some(self.renew().await?),
        };
        if let Some(s) = fresh {
            *session = Some(s);
        }
        session
            .as_ref()
            .map(|s| s.credentials.clone())
            .ok_or_else(|| fail("no session token"))
    }

    async fn refresh(&self) -> Result<(), OciError> {
        let mut session = self.session.lock().await;
        *session = Some(self.renew().await?);
        Ok(())
    }

    fn refreshable(&self) -> bool {
        true
    }

    fn principal(&self) -> String {
        "session token of instance principal".to_string()
    }

    fn region(&self) -> Option<Region> {
        Some(self.region)
    }

    fn tenancy_id(&self) -> Option<String> {
        Some(self.tenancy.clone())
    }
}

impl std::fmt::Debug for InstancePrincipalProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstancePrincipalProvider")
            .field("region", &self.region)
            .field("tenancy", &self.tenancy)
            .field("federation_url", &self.federation_url)
            .finish_non_exhaustive()
    }
}
