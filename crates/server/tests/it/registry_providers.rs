//! `mediaserver registry tag|image|delete` per provider: deletes by tag and by digest in a real
//! registry (docker-registry, deletes enabled, images pushed by skopeo); ECR's login through
//! GetAuthorizationToken on a moto that checks SigV4 signatures and IAM policies, whose
//! `AWS:<password>` the test registry is set up to accept;
//! Artifact Registry's OAuth token from a stand-in token service that verifies the RS256
//! assertion (signature, issuer, audience, scope) and from a stand-in metadata server; and
//! OCIR's delete through the Artifacts API of the OCI stand-in, which verifies signatures.

use std::sync::{Arc, Mutex};

use crate::registry::{mediaserver, mediaserver_off_runtime, stderr, stdout};
use crate::registry_support::TestRegistry;
use mediaserver_oci::PrivateKey;
use mediaserver_oci_standin::Standin;

const USER: &str = "ci";
const PASS: &str = "ci-password";

fn creds() -> [(&'static str, &'static str); 2] {
    [("OCIR_USERNAME", USER), ("OCIR_AUTH_TOKEN", PASS)]
}

#[test]
fn image_describes_and_delete_removes_by_tag_and_by_digest() {
    let reg = TestRegistry::start(&[(USER, PASS)]);
    let v1 = reg.push_created(
        USER,
        PASS,
        "ns/app",
        "v1",
        b"one",
        Some("2026-01-02T03:04:05Z"),
    );
    let v2 = reg.push(USER, PASS, "ns/app", "v2", b"two");
    assert_eq!(reg.push(USER, PASS, "ns/app", "latest", b"two"), v2);
    let repo = format!("{}/ns/app", reg.host);

    // get image: digest, platform, config digest, sizes as skopeo pushed them.
    let out = mediaserver(
        &["registry", "image", "--insecure", &format!("{repo}:v1")],
        &creds(),
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let info: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(info["digest"], v1.as_str());
    assert_eq!(info["platforms"], serde_json::json!(["linux/amd64"]));
    assert_eq!(info["created"], "2026-01-02T03:04:05Z");
    let manifest = skopeo_raw(&format!("{repo}:v1"));
    assert_eq!(info["config_digest"], manifest["config"]["digest"]);
    assert_eq!(info["total_size"], image_size(&manifest));

    // get tag from the configured repository (GENERIC), and the short IMAGE form.
    let generic = [
        ("ARTIFACTS_REGISTRY_PROVIDER", "GENERIC"),
        ("ARTIFACTS_REPOSITORY", repo.as_str()),
        ("OCIR_USERNAME", USER),
        ("OCIR_AUTH_TOKEN", PASS),
    ];
    let out = mediaserver(&["registry", "tag", "v9"], &generic, None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{repo}:v9"));

    // Delete by tag: v1's manifest goes, v2 stays.
    let out = mediaserver(&["registry", "delete", "--insecure", "v1"], &generic, None);
    assert!(out.status.success(), "{}\n{}", stderr(&out), reg.log());
    assert_eq!(stdout(&out), v1);
    assert!(!reg.has_manifest(USER, PASS, "ns/app", &v1));
    assert!(reg.has_manifest(USER, PASS, "ns/app", &v2));

    // Delete by digest: the manifest and both tags on it go.
    let by_digest = format!("{repo}@{v2}");
    let out = mediaserver(
        &["registry", "delete", "--insecure", &by_digest],
        &creds(),
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), v2);
    assert!(!reg.has_manifest(USER, PASS, "ns/app", &v2));
    let out = mediaserver(
        &[
            "registry",
            "resolve",
            "--insecure",
            &format!("{repo}:latest"),
        ],
        &creds(),
        None,
    );
    assert_eq!(out.status.code(), Some(1));

    // Again: not found, exit 1; a wrong password: refused, not leaked.
    let out = mediaserver(
        &["registry", "delete", "--insecure", &by_digest],
        &creds(),
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("not found in registry"),
        "{}",
        stderr(&out)
    );
    let out = mediaserver(
        &["registry", "delete", "--insecure", &by_digest],
        &[("OCIR_USERNAME", USER), ("OCIR_AUTH_TOKEN", "wrong-pass")],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("refused the login"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("wrong-pass"));
}

fn skopeo_raw(image: &str) -> serde_json::Value {
    let out = std::process::Command::new("skopeo")
        .args([
            "--insecure-policy",
            "inspect",
            "--raw",
            "--tls-verify=false",
        ])
        .arg(format!("--creds={USER}:{PASS}"))
        .arg(format!("docker://{image}"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn image_size(manifest: &serde_json::Value) -> u64 {
    manifest["config"]["size"].as_u64().unwrap()
        + manifest["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["size"].as_u64().unwrap())
            .sum::<u64>()
}

#[test]
fn image_of_an_index_lists_its_platforms_and_sums_its_images() {
    let reg = TestRegistry::start(&[(USER, PASS)]);
    let digest = reg.push_index(
        USER,
        PASS,
        "ns/multi",
        "v1",
        &[
            ("linux", "amd64", b"amd64 build", "2026-01-01T00:00:00Z"),
            ("linux", "arm64", b"arm64 build", "2026-02-01T00:00:00Z"),
        ],
    );
    let repo = format!("{}/ns/multi", reg.host);
    let out = mediaserver(
        &["registry", "image", "--insecure", &format!("{repo}:v1")],
        &creds(),
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let info: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(info["digest"], digest.as_str());
    assert_eq!(
        info["media_type"],
        "application/vnd.oci.image.index.v1+json"
    );
    assert_eq!(
        info["platforms"],
        serde_json::json!(["linux/amd64", "linux/arm64"])
    );
    assert_eq!(info["config_digest"], serde_json::Value::Null);
    // The newest of its images.
    assert_eq!(info["created"], "2026-02-01T00:00:00Z");
    let index = skopeo_raw(&format!("{repo}:v1"));
    let total: u64 = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            image_size(&skopeo_raw(&format!(
                "{repo}@{}",
                m["digest"].as_str().unwrap()
            )))
        })
        .sum();
    assert_eq!(info["total_size"], total);

    let out = mediaserver(
        &["registry", "delete", "--insecure", &format!("{repo}:v1")],
        &creds(),
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), digest);
    assert!(!reg.has_manifest(USER, PASS, "ns/multi", &digest));
}

/// moto's account and the password its GetAuthorizationToken hands out for it.
const MOTO_ACCOUNT: &str = "123456789012";
const MOTO_ECR_PASSWORD: &str = "123456789012-auth-token";

/// A moto server of its own that, after `free_actions` unchecked calls, checks every request
/// the way IAM does: the SigV4 signature (recomputed by botocore inside moto with the
/// access key's secret) and the user's policies.
struct AuthMoto {
    url: String,
    child: std::process::Child,
}

impl Drop for AuthMoto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl AuthMoto {
    fn start(free_actions: u32) -> AuthMoto {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .env("INITIAL_NO_AUTH_ACTION_COUNT", free_actions.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 -m moto.server (scripts/install-deps.sh installs moto)");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "moto did not start");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        AuthMoto {
            url: format!("http://127.0.0.1:{port}"),
            child,
        }
    }

    /// An IAM query call while calls are still free (moto routes by the credential scope).
    async fn iam(&self, params: &[(&str, &str)]) -> String {
        let mut form = vec![("Version", "2010-05-08")];
        form.extend_from_slice(params);
        let resp = reqwest::Client::new()
            .post(format!("{}/", self.url))
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKIAFREE/20250101/us-east-1/iam/aws4_request, \
                 SignedHeaders=host, Signature=00",
            )
            .form(&form)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{params:?}: {}", resp.status());
        resp.text().await.unwrap()
    }
}

fn xml_text(xml: &str, tag: &str) -> String {
    let doc = roxmltree::Document::parse(xml).unwrap();
    doc.descendants()
        .find(|n| n.has_tag_name(tag))
        .and_then(|n| n.text())
        .unwrap_or_else(|| panic!("no {tag} in {xml}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecr_logs_in_with_the_token_from_a_sigv4_signed_get_authorization_token() {
    // Three free calls make a user allowed to ask for ECR tokens; every call after is checked.
    let moto = AuthMoto::start(3);
    moto.iam(&[("Action", "CreateUser"), ("UserName", "ci")])
        .await;
    let key = moto
        .iam(&[("Action", "CreateAccessKey"), ("UserName", "ci")])
        .await;
    let (key_id, secret) = (
        xml_text(&key, "AccessKeyId"),
        xml_text(&key, "SecretAccessKey"),
    );
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}]}"#;
    moto.iam(&[
        ("Action", "PutUserPolicy"),
        ("UserName", "ci"),
        ("PolicyName", "ecr-login"),
        ("PolicyDocument", policy),
    ])
    .await;

    // The registry takes what ECR would: user AWS with the token's password.
    let reg = TestRegistry::start(&[(USER, PASS), ("AWS", MOTO_ECR_PASSWORD)]);
    let digest = reg.push(USER, PASS, "mediaserver", "v1", b"ecr image");
    let ecr = [
        ("ARTIFACTS_REGISTRY_PROVIDER", "AWS_ECR"),
        ("AWS_ACCOUNT_ID", MOTO_ACCOUNT),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_DOCKER_REPOSITORY_NAME", "mediaserver"),
        ("AWS_ACCESS_KEY_ID", key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", secret.as_str()),
        ("AWS_ECR_ENDPOINT", moto.url.as_str()),
    ];

    let out = mediaserver_off_runtime(&["registry", "tag", "v1"], &ecr).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/mediaserver:v1"
    );

    let mut env = ecr.to_vec();
    env.push(("ARTIFACTS_REGISTRY_HOST", reg.host.as_str()));
    let out = mediaserver_off_runtime(&["registry", "image", "--insecure", "v1"], &env).await;
    assert!(out.status.success(), "{}\n{}", stderr(&out), reg.log());
    let info: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(info["digest"], digest.as_str());

    // A wrong secret: moto's signature check refuses it; the secret is not printed.
    let wrong: Vec<_> = env
        .iter()
        .map(|&(k, v)| {
            if k == "AWS_SECRET_ACCESS_KEY" {
                (k, "wrong-secret-value")
            } else {
                (k, v)
            }
        })
        .collect();
    let out = mediaserver_off_runtime(&["registry", "image", "--insecure", "v1"], &wrong).await;
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("as AWS access key {key_id}")),
        "{err}"
    );
    assert!(err.contains("SignatureDoesNotMatch"), "{err}");
    assert!(!err.contains("wrong-secret-value"), "{err}");

    let out = mediaserver_off_runtime(&["registry", "delete", "--insecure", "v1"], &env).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!reg.has_manifest(USER, PASS, "mediaserver", &digest));

    // Without AWS keys there is no ECR login: said before anything is sent.
    let no_keys: Vec<_> = env
        .iter()
        .copied()
        .filter(|(k, _)| !k.starts_with("AWS_ACCESS") && !k.starts_with("AWS_SECRET"))
        .collect();
    let out = mediaserver_off_runtime(&["registry", "image", "--insecure", "v1"], &no_keys).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("AWS_ACCESS_KEY_ID"),
        "{}",
        stderr(&out)
    );
}

/// What the stand-in Google token service saw and hands out.
#[derive(Default)]
struct Google {
    /// client_email → public key PEM of the service-account keys it knows.
    keys: Mutex<Vec<(String, String)>>,
    /// The verified claims of each accepted assertion.
    accepted: Mutex<Vec<serde_json::Value>>,
    metadata_calls: Mutex<usize>,
    token_uri: Mutex<String>,
}

const ACCESS_TOKEN: &str = "ya29.standin-access-token";

async fn start_google(state: Arc<Google>) -> String {
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::IntoResponse;
    use axum::routing::{get, post};

    async fn token(
        State(g): State<Arc<Google>>,
        axum::Form(form): axum::Form<std::collections::HashMap<String, String>>,
    ) -> axum::response::Response {
        let refuse = |why: &str| {
            (
                StatusCode::BAD_REQUEST,
                axum::Json(serde_json::json!({"error": "invalid_grant", "error_description": why})),
            )
                .into_response()
        };
        if form.get("grant_type").map(String::as_str)
            != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
        {
            return refuse("grant_type");
        }
        let Some(assertion) = form.get("assertion") else {
            return refuse("no assertion");
        };
        let Ok(header) = jsonwebtoken::decode_header(assertion) else {
            return refuse("not a JWT");
        };
        if header.alg != jsonwebtoken::Algorithm::RS256 {
            return refuse("alg");
        }
        let token_uri = g.token_uri.lock().unwrap().clone();
        let keys = g.keys.lock().unwrap().clone();
        for (email, pem) in keys {
            let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
            v.set_audience(&[token_uri.as_str()]);
            v.set_issuer(&[email.as_str()]);
            v.set_required_spec_claims(&["exp", "iat", "aud", "iss"]);
            let key = jsonwebtoken::DecodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
            if let Ok(data) = jsonwebtoken::decode::<serde_json::Value>(assertion, &key, &v) {
                if data.claims["scope"] != "https://www.googleapis.com/auth/cloud-platform" {
                    return refuse("scope");
                }
                g.accepted.lock().unwrap().push(data.claims);
                return axum::Json(serde_json::json!({
                    "access_token": ACCESS_TOKEN, "expires_in": 3599, "token_type": "Bearer"
                }))
                .into_response();
            }
        }
        refuse("Invalid JWT Signature.")
    }

    async fn metadata(
        State(g): State<Arc<Google>>,
        headers: HeaderMap,
    ) -> axum::response::Response {
        if headers.get("metadata-flavor").and_then(|v| v.to_str().ok()) != Some("Google") {
            return StatusCode::FORBIDDEN.into_response();
        }
        *g.metadata_calls.lock().unwrap() += 1;
        axum::Json(serde_json::json!({
            "access_token": ACCESS_TOKEN, "expires_in": 3599, "token_type": "Bearer"
        }))
        .into_response()
    }

    let app = axum::Router::new()
        .route("/token", post(token))
        .route(
            "/computeMetadata/v1/instance/service-accounts/default/token",
            get(metadata),
        )
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    *state.token_uri.lock().unwrap() = format!("{url}/token");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

fn key_file(
    dir: &std::path::Path,
    name: &str,
    email: &str,
    key: &PrivateKey,
    token_uri: &str,
) -> String {
    let json = serde_json::json!({
        "type": "service_account",
        "project_id": "proj-1",
        "private_key_id": "k1",
        "private_key": key.to_pkcs8_pem().unwrap(),
        "client_email": email,
        "token_uri": token_uri,
    });
    let path = dir.join(name);
    std::fs::write(&path, json.to_string()).unwrap();
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn artifact_registry_logs_in_with_an_oauth_token_from_a_key_or_the_metadata_server() {
    let google = Arc::new(Google::default());
    let url = start_google(google.clone()).await;
    let token_uri = format!("{url}/token");
    let reg = TestRegistry::start(&[(USER, PASS), ("oauth2accesstoken", ACCESS_TOKEN)]);
    let digest = reg.push(USER, PASS, "proj-1/images/mediaserver", "v1", b"ar image");

    const EMAIL: &str = "ci@proj-1.iam.gserviceaccount.com";
    let known = PrivateKey::generate().unwrap();
    google
        .keys
        .lock()
        .unwrap()
        .push((EMAIL.into(), known.public_key_pem()));
    let dir = tempfile::tempdir().unwrap();
    let good = key_file(dir.path(), "good.json", EMAIL, &known, &token_uri);
    let stranger = key_file(
        dir.path(),
        "stranger.json",
        EMAIL,
        &PrivateKey::generate().unwrap(),
        &token_uri,
    );

    let base = vec![
        ("ARTIFACTS_REGISTRY_PROVIDER", "GCP_ARTIFACT_REGISTRY"),
        ("GCP_REGION", "europe-west4"),
        ("GCP_PROJECT_ID", "proj-1"),
        ("GCP_DOCKER_REPOSITORY_NAME", "images"),
    ];
    let out = mediaserver_off_runtime(&["registry", "tag", "v1"], &base).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "europe-west4-docker.pkg.dev/proj-1/images/mediaserver:v1"
    );

    let mut env = base.clone();
    env.push(("ARTIFACTS_REGISTRY_HOST", reg.host.as_str()));
    let mut with_key = env.clone();
    with_key.push(("GOOGLE_APPLICATION_CREDENTIALS", good.as_str()));
    let out = mediaserver_off_runtime(&["registry", "image", "--insecure", "v1"], &with_key).await;
    assert!(out.status.success(), "{}\n{}", stderr(&out), reg.log());
    let info: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(info["digest"], digest.as_str());
    {
        let accepted = google.accepted.lock().unwrap();
        assert_eq!(accepted.len(), 1);
        assert_eq!(accepted[0]["iss"], EMAIL);
        assert_eq!(accepted[0]["aud"], token_uri.as_str());
    }

    // A key the token service does not know: refused, naming the account.
    let mut with_stranger = env.clone();
    with_stranger.push(("GOOGLE_APPLICATION_CREDENTIALS", stranger.as_str()));
    let out =
        mediaserver_off_runtime(&["registry", "image", "--insecure", "v1"], &with_stranger).await;
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains(&format!("service account {EMAIL}")), "{err}");
    assert!(err.contains("invalid_grant"), "{err}");
    assert_eq!(google.accepted.lock().unwrap().len(), 1);

    // No key file: the metadata server's token; delete with it.
    let mut with_metadata = env.clone();
    with_metadata.push(("GCE_METADATA_HOST", url.as_str()));
    let out =
        mediaserver_off_runtime(&["registry", "delete", "--insecure", "v1"], &with_metadata).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), digest);
    assert_eq!(*google.metadata_calls.lock().unwrap(), 1);
    assert!(!reg.has_manifest(USER, PASS, "proj-1/images/mediaserver", &digest));
}

const TENANCY: &str = "ocid1.tenancy.oc1..aaaaregistryproviders";
const OCI_USER: &str = "ocid1.user.oc1..aaaaregistryproviders";
const COMPARTMENT: &str = "ocid1.compartment.oc1..aaaaimages";
const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ocir_deletes_through_the_signed_artifacts_api() {
    let standin = Standin::start(TENANCY, "us-ashburn-1").await.unwrap();
    let v1 = standin.add_ocir_image(COMPARTMENT, "app", D1, &["v1", "stable"]);
    let v2 = standin.add_ocir_image(COMPARTMENT, "app", D2, &["v2"]);
    standin.add_ocir_image(COMPARTMENT, "other", D1, &["v1"]);

    let dir = tempfile::tempdir().unwrap();
    let key = PrivateKey::generate().unwrap();
    let cfg = crate::common::write_oci_config(dir.path(), TENANCY, OCI_USER, &key);
    let cfg = cfg.display().to_string();
    let env = [
        ("OCI_AUTH", "api_key"),
        ("OCI_CONFIG_FILE", cfg.as_str()),
        ("OCI_ARTIFACTS_ENDPOINT", standin.url()),
        ("OCI_COMPARTMENT_ID", COMPARTMENT),
    ];
    let by_tag = ["registry", "delete", "iad.ocir.io/ns/app:v1"];

    // The key is not known to OCI: refused, naming the principal; nothing deleted.
    let out = mediaserver_off_runtime(&by_tag, &env).await;
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("ListContainerImages for iad.ocir.io/ns/app:v1"),
        "{err}"
    );
    assert!(
        err.contains(&format!("{TENANCY}/{OCI_USER}/{}", key.fingerprint())),
        "{err}"
    );
    assert_eq!(standin.ocir_images().len(), 3);

    standin.keys().insert_api_key(TENANCY, OCI_USER, &key);
    let out = mediaserver_off_runtime(&by_tag, &env).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), D1);
    let key_id = format!("{TENANCY}/{OCI_USER}/{}", key.fingerprint());
    assert_eq!(standin.ocir_image_deletes(), [(key_id.clone(), v1)]);

    // By digest; the other repository's image with the same digest stays.
    let out = mediaserver_off_runtime(
        &["registry", "delete", &format!("iad.ocir.io/ns/app@{D2}")],
        &env,
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), D2);
    assert_eq!(standin.ocir_image_deletes()[1], (key_id, v2));
    let left = standin.ocir_images();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].repository_name, "other");

    // Gone: not found. No compartment: said before anything is sent.
    let out = mediaserver_off_runtime(&by_tag, &env).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not found"), "{}", stderr(&out));
    let out = mediaserver_off_runtime(&by_tag, &env[..3]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("OCI_CONTAINER_REPOSITORY_COMPARTMENT_ID"),
        "{}",
        stderr(&out)
    );
}
