//! A registry with token auth (the distribution token spec, as OCIR, Docker Hub and GHCR
//! answer): docker-registry sends a Bearer challenge, a token service in the test checks the
//! HTTP Basic login and grants the scope asked for in a JWT signed with a key whose certificate
//! the registry trusts. `registry delete` must ask for `delete` on the repository; a login the
//! service grants only `pull` is refused with a message saying so.

use std::sync::{Arc, Mutex};

use crate::registry::{mediaserver_off_runtime, stderr, stdout};
use crate::registry_support::TestRegistry;
use base64::Engine as _;

const USER: &str = "ci";
const PASS: &str = "ci-password";
/// Logs in fine but may only pull.
const READER: &str = "reader";
const SERVICE: &str = "test-registry";
const ISSUER: &str = "test-token-issuer";

struct TokenService {
    key_pem: Vec<u8>,
    cert_der_b64: String,
    /// The `scope` of every token asked for, with the user.
    asked: Mutex<Vec<(String, String)>>,
}

async fn token(
    axum::extract::State(t): axum::extract::State<Arc<TokenService>>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let user = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| match s.split_once(':') {
            Some((u, p)) if (u == USER || u == READER) && p == PASS => Some(u.to_string()),
            _ => None,
        });
    let Some(user) = user else {
        return axum::http::StatusCode::UNAUTHORIZED.into_response();
    };
    if q.get("service").map(String::as_str) != Some(SERVICE) {
        return axum::http::StatusCode::BAD_REQUEST.into_response();
    }
    // `scope` may repeat; the query extractor keeps one, which is all these clients send.
    let scope = q.get("scope").cloned().unwrap_or_default();
    t.asked.lock().unwrap().push((user.clone(), scope.clone()));
    let mut access = Vec::new();
    if let Some(rest) = scope.strip_prefix("repository:") {
        if let Some((name, actions)) = rest.rsplit_once(':') {
            let actions: Vec<&str> = actions
                .split(',')
                .filter(|a| user == USER || *a == "pull")
                .collect();
            access
                .push(serde_json::json!({"type": "repository", "name": name, "actions": actions}));
        }
    }
    let now = chrono::Utc::now().timestamp();
    let claims = serde_json::json!({
        "iss": ISSUER, "sub": user, "aud": SERVICE, "exp": now + 300, "nbf": now - 10,
        "iat": now, "jti": format!("{now}-{}", t.asked.lock().unwrap().len()), "access": access,
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.x5c = Some(vec![t.cert_der_b64.clone()]);
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(&t.key_pem).unwrap();
    let jwt = jsonwebtoken::encode(&header, &claims, &key).unwrap();
    axum::Json(serde_json::json!({"token": jwt, "access_token": jwt, "expires_in": 300}))
        .into_response()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_asks_the_token_service_for_delete_rights() {
    let dir = tempfile::tempdir().unwrap();
    let (key, cert) = (dir.path().join("key.pem"), dir.path().join("cert.pem"));
    let out = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=test-token-issuer", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cert_pem = std::fs::read_to_string(&cert).unwrap();
    let der = pem_body(&cert_pem);
    let service = Arc::new(TokenService {
        key_pem: std::fs::read(&key).unwrap(),
        cert_der_b64: der,
        asked: Mutex::new(Vec::new()),
    });
    let app = axum::Router::new()
        .route("/token", axum::routing::get(token))
        .with_state(service.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let realm = format!("http://{}/token", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let (reg, digest) = tokio::task::spawn_blocking(move || {
        let reg = TestRegistry::start_with_token_auth(&realm, SERVICE, ISSUER, &cert_pem);
        let digest = reg.push(USER, PASS, "ns/app", "v1", b"token-auth image");
        (reg, digest)
    })
    .await
    .unwrap();
    let image = format!("{}/ns/app:v1", reg.host);

    // A reader gets a token, but without delete: refused, saying so; the image stays.
    let reader = [("OCIR_USERNAME", READER), ("OCIR_AUTH_TOKEN", PASS)];
    let out = mediaserver_off_runtime(&["registry", "delete", "--insecure", &image], &reader).await;
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("refused the login as user 'reader'"), "{err}");
    assert!(err.contains("the login needs delete rights"), "{err}");

    let writer = [("OCIR_USERNAME", USER), ("OCIR_AUTH_TOKEN", PASS)];
    let out = mediaserver_off_runtime(&["registry", "delete", "--insecure", &image], &writer).await;
    assert!(out.status.success(), "{}\n{}", stderr(&out), reg.log());
    assert_eq!(stdout(&out), digest);
    assert!(service.asked.lock().unwrap().contains(&(
        USER.to_string(),
        "repository:ns/app:delete,pull".to_string()
    )));
    let out =
        mediaserver_off_runtime(&["registry", "resolve", "--insecure", &image], &writer).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not found"), "{}", stderr(&out));
}

/// The base64 body of a PEM block (what `x5c` carries: standard base64 DER).
fn pem_body(pem: &str) -> String {
    pem.lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<String>()
}
