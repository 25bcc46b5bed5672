//! What `GCPBucket` sends as credentials, seen by a recording endpoint: nothing with an endpoint
//! and no credentials (as emulators expect), a bearer JWT that the service-account key signed
//! with a key (given as JSON text or as an application-credentials file), on object_store's
//! requests and on the JSON API's alike. And the error a refusal becomes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use common::service_account_key;
use mediaserver_storage::{GcsOptions, ObjectKey, Storage, StorageError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// (method, path, authorization header)
type Seen = (Method, String, Option<String>);

#[derive(Clone, Default)]
struct Recorder {
    seen: Arc<Mutex<Vec<Seen>>>,
    refuse: bool,
}

async fn handle(State(rec): State<Recorder>, req: Request) -> Response {
    let auth = req
        .headers()
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_string());
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    rec.seen
        .lock()
        .unwrap()
        .push((method.clone(), path.clone(), auth));
    if rec.refuse {
        return (StatusCode::FORBIDDEN, "{\"error\":{\"code\":403}}").into_response();
    }
    if path.starts_with("/upload/storage/v1/") {
        return (
            [("content-type", "application/json")],
            r#"{"name":"x","generation":"1"}"#,
        )
            .into_response();
    }
    // object_store's XML listing (the readiness check).
    let mut h = HeaderMap::new();
    h.insert("content-type", "application/xml".parse().unwrap());
    (
        h,
        "<ListBucketResult><KeyCount>0</KeyCount></ListBucketResult>",
    )
        .into_response()
}

async fn recorder(refuse: bool) -> (String, Recorder) {
    let rec = Recorder {
        refuse,
        ..Default::default()
    };
    let app = axum::Router::new().fallback(handle).with_state(rec.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), rec)
}

fn opts(endpoint: &str) -> GcsOptions {
    GcsOptions {
        bucket: "bkt".into(),
        endpoint: Some(endpoint.to_string()),
        max_retries: 0,
        retry_timeout: Duration::from_secs(10),
        ..Default::default()
    }
}

/// Writes one small object and runs the readiness check: one JSON API request, one of
/// object_store's.
async fn exercise(s: &Arc<dyn Storage>) {
    s.put_bytes(
        &ObjectKey::new("a/b.txt").unwrap(),
        Bytes::from_static(b"hi"),
    )
    .await
    .expect("put");
    s.check().await.expect("check");
}

fn seen(rec: &Recorder) -> Vec<Seen> {
    rec.seen.lock().unwrap().clone()
}

#[tokio::test]
async fn an_endpoint_without_credentials_sends_no_authorization() {
    let (endpoint, rec) = recorder(false).await;
    let s = mediaserver_storage::gcs(opts(&endpoint)).unwrap();
    exercise(&s).await;
    let seen = seen(&rec);
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(
        seen[0].1.starts_with("/upload/storage/v1/b/bkt/o"),
        "{seen:?}"
    );
    assert_eq!(seen[1].1, "/bkt", "{seen:?}");
    assert!(seen.iter().all(|(_, _, a)| a.is_none()), "{seen:?}");
}

fn assert_signed_by(seen: &[Seen], public_pem: &str) {
    use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
    assert_eq!(seen.len(), 2, "{seen:?}");
    for (_, path, auth) in seen {
        let token = auth
            .as_deref()
            .and_then(|a| a.strip_prefix("Bearer "))
            .unwrap_or_else(|| panic!("no bearer token on {path}: {auth:?}"));
        let mut v = Validation::new(Algorithm::RS256);
        v.validate_aud = false;
        v.required_spec_claims.clear();
        let key = DecodingKey::from_rsa_pem(public_pem.as_bytes()).unwrap();
        let claims = decode::<serde_json::Value>(token, &key, &v)
            .unwrap_or_else(|e| panic!("token on {path} not signed by the key: {e}"))
            .claims;
        assert_eq!(
            claims["iss"], "mediaserver@mediaserver-test.iam.gserviceaccount.com",
            "{claims}"
        );
    }
}

#[tokio::test]
async fn a_service_account_key_signs_every_request() {
    let (endpoint, rec) = recorder(false).await;
    let (key, public_pem) = service_account_key();
    let s = mediaserver_storage::gcs(GcsOptions {
        service_account_key: Some(key),
        ..opts(&endpoint)
    })
    .unwrap();
    exercise(&s).await;
    assert_signed_by(&seen(&rec), &public_pem);
}

#[tokio::test]
async fn an_application_credentials_file_signs_every_request() {
    let (endpoint, rec) = recorder(false).await;
    let (key, public_pem) = service_account_key();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("adc.json");
    std::fs::write(&file, key).unwrap();
    let s = mediaserver_storage::gcs(GcsOptions {
        application_credentials: Some(file),
        ..opts(&endpoint)
    })
    .unwrap();
    exercise(&s).await;
    assert_signed_by(&seen(&rec), &public_pem);
}

#[tokio::test]
async fn a_refused_write_is_an_error_without_the_key() {
    let (endpoint, _rec) = recorder(true).await;
    let (key, _) = service_account_key();
    let private = serde_json::from_str::<serde_json::Value>(&key).unwrap()["private_key"]
        .as_str()
        .unwrap()
        .to_string();
    let s = mediaserver_storage::gcs(GcsOptions {
        service_account_key: Some(key),
        ..opts(&endpoint)
    })
    .unwrap();
    let err = s
        .put_bytes(&ObjectKey::new("a").unwrap(), Bytes::from_static(b"x"))
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::Other { .. }), "{err:?}");
    let chain = format!("{err:?} {err}");
    assert!(chain.contains("403"), "{chain}");
    assert!(!chain.contains(&private[40..80]), "{chain}");
}
