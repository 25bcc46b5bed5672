//! `mediaserver-oci-standin`: a local stand-in for the OCI services `mediaserver-oci` talks to,
//! for tests only (`publish = false`, a dev-dependency of the crates whose tests use it): the
//! instance metadata service, the auth service's x509 federation, the Vault Secrets API, Object
//! Storage ([`objectstorage`]), Container Instances ([`container_instances`]), Streaming
//! ([`streaming`]) and OCIR's token exchange, all on one `127.0.0.1` port. It checks what the real services check — every
//! request's signature against the registered public key, the required signed headers, the date
//! (5 minutes), the body hash; federation additionally checks the certificate chain, the
//! keyId's tenancy and fingerprint and the session public key — and answers with OCI's status
//! codes and `{"code","message"}` bodies. It uses only `mediaserver-oci`'s public API.
//!
//! Other stand-ins reuse [`verify`]: [`KeyRegistry`] (keyId → public key; `insert_api_key`,
//! `verify`), [`verify_signature`]`(method, target, headers, body, key_lookup, &VerifyOptions)`
//! → [`Verified`] or a [`Rejection`] (status, OCI code, message), and [`error_response`] /
//! [`rejection_response`] for OCI-shaped error answers; [`Standin::issue_session_token`]
//! registers an `ST$` token for a key.
//!
//! ```no_run
//! # async fn f() -> Result<(), mediaserver_oci::OciError> {
//! use mediaserver_oci_standin::Standin;
//! let standin = Standin::start("ocid1.tenancy.oc1..standin", "us-ashburn-1").await?;
//! standin.put_secret("ocid1.vaultsecret.oc1.iad.jwt", b"s3cret");
//! let overrides = standin.overrides(); // metadata, auth and secrets endpoints point at it
//! # Ok(()) }
//! ```

pub mod certs;
pub mod container_instances;
pub mod objectstorage;
mod ocir;
pub mod streaming;
pub use ocir::OcirImage;
pub mod verify;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine as _;

pub use certs::InstanceIdentity;
pub use container_instances::ContainerInstancesStandin;
pub use objectstorage::ObjectStorageStandin;
pub use streaming::StreamingStandin;
pub use verify::{
    parse_authorization, verify_signature, KeyRegistry, Rejection, Verified, VerifyOptions,
};

use mediaserver_oci::{EndpointOverrides, OciError};

/// An OCI-style error answer: status, `{"code","message"}`, `opc-request-id`, and a `date`
/// from the stand-in's clock (so clients can detect skew).
pub fn error_response(
    status: u16,
    code: &str,
    message: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::json!({"code": code, "message": message}).to_string();
    (
        status,
        [
            ("content-type", "application/json".to_string()),
            ("opc-request-id", "standin/0000".to_string()),
            ("date", http_date(now)),
        ],
        body,
    )
        .into_response()
}

/// The answer for a [`Rejection`].
pub fn rejection_response(r: &Rejection, now: chrono::DateTime<chrono::Utc>) -> Response {
    error_response(r.status, r.code, &r.message, now)
}

fn http_date(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// An unsigned JWT with `claims` (the services that receive session tokens parse, not verify,
/// them in this stand-in).
pub fn make_jwt(claims: &serde_json::Value) -> String {
    let b = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    format!(
        "{}.{}.{}",
        b(br#"{"alg":"RS256","typ":"JWT","kid":"standin"}"#),
        b(claims.to_string().as_bytes()),
        b(b"standin-signature")
    )
}

struct Shared {
    keys: KeyRegistry,
    identity: InstanceIdentity,
    region: String,
    leaf_key_id: String,
    token_ttl_secs: AtomicI64,
    clock_offset_secs: AtomicI64,
    federation_calls: AtomicUsize,
    secret_reads: AtomicUsize,
    token_serial: AtomicU64,
    secrets: Mutex<HashMap<String, Vec<u8>>>,
    rejections: Mutex<Vec<Rejection>>,
    ocir: ocir::OcirState,
}

impl Shared {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
            + chrono::Duration::seconds(self.clock_offset_secs.load(Ordering::SeqCst))
    }

    fn reject(&self, r: Rejection) -> Response {
        let resp = rejection_response(&r, self.now());
        if let Ok(mut v) = self.rejections.lock() {
            v.push(r);
        }
        resp
    }

    fn issue_token(&self, public_key_der: Vec<u8>, ttl: i64, subject: &str) -> String {
        let now = self.now().timestamp();
        let serial = self.token_serial.fetch_add(1, Ordering::SeqCst);
        let token = make_jwt(&serde_json::json!({
            "sub": subject,
            "iat": now,
            "exp": now + ttl,
            "jti": format!("standin-{serial}"),
            "tenant": self.identity.tenancy,
            "res_tenant": self.identity.tenancy,
            "res_compartment": "ocid1.compartment.oc1..standin",
        }));
        self.keys.insert(format!("ST${token}"), public_key_der);
        token
    }
}

/// The running stand-in; stops when dropped.
pub struct Standin {
    url: String,
    shared: Arc<Shared>,
    object_storage: ObjectStorageStandin,
    container_instances: ContainerInstancesStandin,
    streaming: StreamingStandin,
    task: tokio::task::JoinHandle<()>,
}

impl Standin {
    /// Generates an instance identity for `tenancy` and serves on a free 127.0.0.1 port.
    pub async fn start(tenancy: &str, region: &str) -> Result<Standin, OciError> {
        let identity = InstanceIdentity::generate(tenancy)?;
        let fp = certs::sha256_fingerprint(&identity.leaf_cert_der);
        let leaf_key_id = format!("{tenancy}/fed-x509-sha256/{fp}");
        let keys = KeyRegistry::default();
        keys.insert(
            leaf_key_id.clone(),
            identity.leaf_key.public_key_der().to_vec(),
        );
        let shared = Arc::new(Shared {
            keys,
            identity,
            region: region.to_string(),
            leaf_key_id,
            token_ttl_secs: AtomicI64::new(1200),
            clock_offset_secs: AtomicI64::new(0),
            federation_calls: AtomicUsize::new(0),
            secret_reads: AtomicUsize::new(0),
            token_serial: AtomicU64::new(0),
            secrets: Mutex::new(HashMap::new()),
            rejections: Mutex::new(Vec::new()),
            ocir: ocir::OcirState::default(),
        });
        let clock: objectstorage::Clock = {
            let s = shared.clone();
            Arc::new(move || s.now())
        };
        let object_storage = ObjectStorageStandin::new(shared.keys.clone(), clock.clone());
        let container_instances =
            ContainerInstancesStandin::new(shared.keys.clone(), clock.clone());
        let streaming = StreamingStandin::new(shared.keys.clone(), clock);
        let app = Router::new()
            .route("/opc/v2/instance/region", get(metadata_region))
            .route("/opc/v2/identity/{file}", get(metadata_identity))
            .route("/v1/x509", post(federation))
            .route("/20190301/secretbundles/{id}", get(secret_bundle))
            .route("/20180419/docker/token", get(ocir::token))
            .route("/20160918/container/images", get(ocir::list_images))
            .route(
                "/20160918/container/images/{id}",
                axum::routing::delete(ocir::delete_image),
            )
            .with_state(shared.clone())
            .merge(object_storage.router())
            .merge(container_instances.router())
            .merge(streaming.router());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| OciError::config_from(format!("stand-in: cannot bind: {e}"), e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| OciError::config_from(format!("stand-in: {e}"), e))?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let url = format!("http://{addr}");
        object_storage.set_base_url(&url);
        streaming.set_base_url(&url);
        Ok(Standin {
            url,
            shared,
            object_storage,
            container_instances,
            streaming,
            task,
        })
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Endpoint overrides sending metadata, auth, secrets, Object Storage and Container
    /// Instances calls here.
    pub fn overrides(&self) -> EndpointOverrides {
        EndpointOverrides {
            metadata: Some(format!("{}/opc/v2", self.url)),
            auth: Some(self.url.clone()),
            secrets: Some(self.url.clone()),
            object_storage: Some(self.url.clone()),
            container_instances: Some(self.url.clone()),
            ..Default::default()
        }
    }

    /// The Object Storage stand-in (namespace [`objectstorage::NAMESPACE`]).
    pub fn object_storage(&self) -> &ObjectStorageStandin {
        &self.object_storage
    }

    /// The Streaming stand-in (GetStream names the stand-in itself as the messages endpoint).
    pub fn streaming(&self) -> &StreamingStandin {
        &self.streaming
    }

    /// The Container Instances stand-in.
    pub fn container_instances(&self) -> &ContainerInstancesStandin {
        &self.container_instances
    }

    pub fn keys(&self) -> &KeyRegistry {
        &self.shared.keys
    }

    pub fn identity(&self) -> &InstanceIdentity {
        &self.shared.identity
    }

    /// Lifetime of the session tokens federation issues from now on.
    pub fn set_token_ttl_secs(&self, secs: i64) {
        self.shared.token_ttl_secs.store(secs, Ordering::SeqCst);
    }

    /// Moves the stand-in's clock (positive: it runs ahead of the client).
    pub fn set_clock_offset_secs(&self, secs: i64) {
        self.shared.clock_offset_secs.store(secs, Ordering::SeqCst);
    }

    pub fn federation_calls(&self) -> usize {
        self.shared.federation_calls.load(Ordering::SeqCst)
    }

    pub fn secret_reads(&self) -> usize {
        self.shared.secret_reads.load(Ordering::SeqCst)
    }

    pub fn put_secret(&self, secret_id: &str, value: &[u8]) {
        if let Ok(mut m) = self.shared.secrets.lock() {
            m.insert(secret_id.to_string(), value.to_vec());
        }
    }

    /// Issues a session token for `public_key_der` (as a resource principal's RPST) and
    /// registers it as keyId `ST${token}`.
    pub fn issue_session_token(&self, public_key_der: &[u8], ttl_secs: i64) -> String {
        self.shared.issue_token(
            public_key_der.to_vec(),
            ttl_secs,
            "ocid1.resource.oc1..standin",
        )
    }

    /// Forgets every session token, as if they had been revoked: the next request signed
    /// with one gets a 401.
    pub fn revoke_session_tokens(&self) {
        self.shared.keys.retain(|k| !k.starts_with("ST$"));
    }

    /// The token OCIR's token exchange hands out from now on (else a generated one).
    pub fn set_ocir_token(&self, token: &str) {
        self.shared.ocir.set_token(token);
    }

    /// Tokens handed out by the OCIR token exchange.
    pub fn ocir_token_calls(&self) -> usize {
        self.shared.ocir.calls()
    }

    /// Registers a container image for the Artifacts API (ListContainerImages,
    /// DeleteContainerImage); returns its OCID.
    pub fn add_ocir_image(
        &self,
        compartment_id: &str,
        repository_name: &str,
        digest: &str,
        versions: &[&str],
    ) -> String {
        self.shared
            .ocir
            .add_image(compartment_id, repository_name, digest, versions)
    }

    /// From now on ListContainerImages lists a repository's images whatever `imageDigest`
    /// asks for, as an Artifacts API version without that filter does.
    pub fn ocir_ignore_digest_filter(&self) {
        self.shared.ocir.ignore_digest_filter();
    }

    /// The container images not deleted.
    pub fn ocir_images(&self) -> Vec<OcirImage> {
        self.shared.ocir.images()
    }

    /// (keyId, image OCID) of every accepted DeleteContainerImage.
    pub fn ocir_image_deletes(&self) -> Vec<(String, String)> {
        self.shared.ocir.deletes()
    }

    /// The keyIds that signed the OCIR token requests (session tokens shown as `ST$<session token>`).
    pub fn ocir_token_signers(&self) -> Vec<String> {
        self.shared.ocir.signers()
    }

    /// Every request refused so far.
    pub fn rejections(&self) -> Vec<Rejection> {
        self.shared
            .rejections
            .lock()
            .map(|v| v.clone())
            .unwrap_or_default()
    }
}

impl Drop for Standin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn metadata_auth_ok(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some("Bearer Oracle")
}

async fn metadata_region(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if !metadata_auth_ok(&headers) {
        return error_response(
            401,
            "NotAuthenticated",
            "metadata v2 needs Authorization: Bearer Oracle",
            s.now(),
        );
    }
    s.region.clone().into_response()
}

async fn metadata_identity(
    State(s): State<Arc<Shared>>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !metadata_auth_ok(&headers) {
        return error_response(
            401,
            "NotAuthenticated",
            "metadata v2 needs Authorization: Bearer Oracle",
            s.now(),
        );
    }
    let body = match file.as_str() {
        "cert.pem" => s.identity.leaf_cert_pem.clone(),
        "intermediate.pem" => s.identity.intermediate_cert_pem.clone(),
        "key.pem" => match s.identity.leaf_key.to_pkcs8_pem() {
            Ok(p) => p,
            Err(e) => return error_response(500, "InternalError", &e.to_string(), s.now()),
        },
        _ => return error_response(404, "NotFound", "no such metadata", s.now()),
    };
    body.into_response()
}

async fn federation(
    State(s): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let opts = VerifyOptions {
        required_headers: Some(
            [
                "date",
                "(request-target)",
                "content-length",
                "content-type",
                "x-content-sha256",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        ),
        now: s.now(),
        ..Default::default()
    };
    let target = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let verified = match s.keys.verify(&method, target, &headers, Some(&body), &opts) {
        Ok(v) => v,
        Err(r) => return s.reject(r),
    };
    if verified.key_id != s.leaf_key_id {
        return s.reject(Rejection::unauthenticated(
            "federation must be signed with the instance certificate's key",
        ));
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Req {
        certificate: String,
        public_key: String,
        #[serde(default)]
        intermediate_certificates: Vec<String>,
        purpose: Option<String>,
        fingerprint_algorithm: Option<String>,
    }
    let bad = |m: &str| {
        s.reject(Rejection {
            status: 400,
            code: "InvalidParameter",
            message: m.to_string(),
        })
    };
    let Ok(req) = serde_json::from_slice::<Req>(&body) else {
        return bad("the body is not an x509 federation request");
    };
    let b64 = base64::engine::general_purpose::STANDARD;
    if b64.decode(&req.certificate).ok().as_deref() != Some(&s.identity.leaf_cert_der[..]) {
        return s.reject(Rejection::unauthenticated(
            "the certificate is not this instance's",
        ));
    }
    if req.fingerprint_algorithm.as_deref() != Some("SHA256") {
        return bad("fingerprintAlgorithm must be SHA256 for a fed-x509-sha256 keyId");
    }
    if !matches!(req.purpose.as_deref(), None | Some("DEFAULT")) {
        return bad("purpose must be DEFAULT");
    }
    let chain_ok = req.intermediate_certificates.iter().any(|c| {
        b64.decode(c)
            .ok()
            .is_some_and(|der| certs::verify_issued_by(&s.identity.leaf_cert_der, &der).is_ok())
    });
    if !chain_ok {
        return s.reject(Rejection::unauthenticated(
            "no intermediate certificate in the request issued the certificate",
        ));
    }
    let Ok(public) = b64.decode(&req.public_key) else {
        return bad("publicKey is not base64");
    };
    use x509_cert::der::Decode;
    let rsa_oid = x509_cert::der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
    match x509_cert::spki::SubjectPublicKeyInfoRef::from_der(&public) {
        Ok(spki) if spki.algorithm.oid == rsa_oid => {}
        _ => return bad("publicKey is not an RSA SubjectPublicKeyInfo"),
    }
    s.federation_calls.fetch_add(1, Ordering::SeqCst);
    let ttl = s.token_ttl_secs.load(Ordering::SeqCst);
    let token = s.issue_token(public, ttl, "ocid1.instance.oc1.iad.standin");
    axum::Json(serde_json::json!({ "token": token })).into_response()
}

async fn secret_bundle(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let opts = VerifyOptions {
        now: s.now(),
        ..Default::default()
    };
    let target = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    if let Err(r) = s.keys.verify(&method, target, &headers, Some(&[]), &opts) {
        return s.reject(r);
    }
    s.secret_reads.fetch_add(1, Ordering::SeqCst);
    let value = s.secrets.lock().ok().and_then(|m| m.get(&id).cloned());
    match value {
        Some(v) => axum::Json(serde_json::json!({
            "secretId": id,
            "versionNumber": 1,
            "stages": ["CURRENT", "LATEST"],
            "secretBundleContent": {
                "contentType": "BASE64",
                "content": base64::engine::general_purpose::STANDARD.encode(v),
            },
        }))
        .into_response(),
        None => error_response(
            404,
            "NotAuthorizedOrNotFound",
            "Authorization failed or requested resource not found.",
            s.now(),
        ),
    }
}
