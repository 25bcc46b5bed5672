//! The same server on the scaled-out backends — a real PostgreSQL and a real S3 server (moto) —
//! and what happens when storage is unreachable.

use crate::common;

use common::{config_with, expect_error, fixtures, read, sha256_hex, TestServer, PASSWORD};
use mediaserver_api::AppState;
use mediaserver_storage::S3Options;
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

const JWT: &str = "test-secret-test-secret-test-secret-0000";

fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: run the suite with scripts/test.sh, which starts PostgreSQL and S3"
        )
    })
}

async fn fresh_postgres_database() -> String {
    use sqlx::Connection;
    let admin = required_env("MEDIASERVER_TEST_PG_URL");
    let name = format!("api_{}", uuid_like());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("connect to test PostgreSQL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let base = admin.rsplit_once('/').unwrap().0;
    format!("{base}/{name}")
}

fn uuid_like() -> String {
    mediaserver_core::new_id().replace('-', "")
}

async fn fresh_bucket(endpoint: &str) -> String {
    let bucket = format!("b{}", &uuid_like()[..20]);
    let r = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "create bucket: {}", r.status());
    bucket
}

/// PostgreSQL cannot store a NUL at all: every text field must refuse control characters before
/// the database sees them, with the same 400 as on SQLite.
#[tokio::test]
async fn api_control_characters_are_refused_on_postgres() {
    let db = fresh_postgres_database().await;
    let s = TestServer::start_with(&[
        ("DATABASE_URL", &db),
        ("JWT_SECRET", JWT),
        ("EVENTS_SECRET", crate::api_hardening::EVENTS),
    ])
    .await;
    assert_eq!(s.state.repo.backend(), "postgres");
    crate::api_hardening::control_characters_are_refused_in_every_text_field(&s).await;
}

#[tokio::test]
async fn full_stack_on_postgres_and_s3() {
    let endpoint = required_env("MEDIASERVER_TEST_S3_ENDPOINT");
    let db = fresh_postgres_database().await;
    let media_bucket = fresh_bucket(&endpoint).await;
    let output_bucket = fresh_bucket(&endpoint).await;
    let s = TestServer::start_with(&[
        ("DATABASE_URL", &db),
        ("STORAGE_PROVIDER", "AWSBucket"),
        ("STORAGE_ENDPOINT", &endpoint),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("MEDIA_BUCKET", &media_bucket),
        ("OUTPUT_BUCKET", &output_bucket),
        ("JWT_SECRET", JWT),
    ])
    .await;
    assert_eq!(s.state.repo.backend(), "postgres");
    let ready = s.client.get(s.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);

    let first: Value = s
        .register("admin@example.com", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["role"], "admin");
    let token = s.user_token("me@example.com").await;

    // Larger than one 8 MiB part, so it goes up as an S3 multipart upload.
    let mut big = read(&fixtures().mp4);
    let head_len = big.len();
    big.extend((0..12 * 1024 * 1024u32).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8));
    let item = s.upload_ok(&token, "big clip.mp4", big.clone()).await;
    let id = item["id"].as_str().unwrap().to_string();
    assert_eq!(item["sha256"], sha256_hex(&big));
    assert_eq!(item["kind"], "video");
    assert_eq!(
        s.state
            .repo
            .events_for_media(&id.parse().unwrap())
            .await
            .unwrap()[0]
            .bucket,
        media_bucket
    );

    let r = s
        .get(&format!("/v1/media/{id}/original"), &token)
        .header("range", format!("bytes={head_len}-{}", head_len + 99))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        r.bytes().await.unwrap().to_vec(),
        big[head_len..head_len + 100]
    );
    let whole = s
        .get(&format!("/v1/media/{id}/original"), &token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(sha256_hex(&whole), sha256_hex(&big));

    let key = mediaserver_storage::ObjectKey::new(format!("media/{id}/hls/master.m3u8")).unwrap();
    s.state
        .output_store
        .put_bytes(&key, bytes::Bytes::from_static(b"#EXTM3U\n"))
        .await
        .unwrap();
    let r = s
        .client
        .delete(s.url(&format!("/v1/media/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(s
        .state
        .media_store
        .list(&format!("originals/{id}/"))
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .state
        .output_store
        .list(&format!("media/{id}/"))
        .await
        .unwrap()
        .is_empty());
    let page: Value = s
        .get("/v1/media", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(page["items"].as_array().unwrap().is_empty());

    // Non-media is refused on this stack too, leaving the bucket empty.
    expect_error(
        s.upload(&token, "x.mp4", b"plain text".repeat(50)).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    assert!(s.state.media_store.list("").await.unwrap().is_empty());
}

#[tokio::test]
async fn storage_unreachable_during_upload_is_503_and_nothing_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(dir.path(), &[]);
    let repo = mediaserver::open_database(&config).await.unwrap();
    // Nothing listens on port 1.
    let unreachable = mediaserver_storage::s3(S3Options {
        bucket: "media".into(),
        endpoint: Some("http://127.0.0.1:1".into()),
        access_key_id: Some("test".into()),
        secret_access_key: Some("test".into()),
        path_style: true,
        allow_http: true,
        max_retries: 1,
        retry_timeout: Duration::from_secs(2),
        ..Default::default()
    })
    .unwrap();
    let state = AppState::new(
        mediaserver::ingest(&config, repo, unreachable.clone()),
        unreachable,
        JWT.as_bytes(),
        mediaserver::api_settings(&config),
    );
    let s = TestServer::start_state(dir, &config, state).await;
    let token = s.user_token("me@example.com").await;

    let msg = expect_error(
        s.upload(&token, "a.png", read(&fixtures().png)).await,
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    assert!(msg.contains("storage unavailable"), "{msg}");
    assert!(!msg.contains("test"), "credentials in error: {msg}");
    let page: Value = s
        .get("/v1/media", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(page["items"].as_array().unwrap().is_empty());

    let ready = s.client.get(s.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["database"], "ok");
    assert_ne!(body["media_storage"], "ok");
}
