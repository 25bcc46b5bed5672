//! `mediaserver registry` with ARTIFACTS_REGISTRY_PROVIDER=GCP_ARTIFACT_REGISTRY: the OAuth
//! access token comes from a stand-in token service that verifies the RS256 assertion of a
//! service-account key (signature with an independent verifier, issuer, audience, scope) or
//! from a stand-in metadata server, and a real registry (docker-registry) takes it as the
//! password of `oauth2accesstoken`, as Artifact Registry does.

use std::sync::{Arc, Mutex};

use crate::registry::{mediaserver_off_runtime, stderr, stdout};
use crate::registry_support::TestRegistry;
use mediaserver_oci::PrivateKey;

const USER: &str = "ci";
const PASS: &str = "ci-password";

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
