//! The same server on the scaled-out backends — a real PostgreSQL and a real S3 server (moto) —
//! and what happens when storage is unreachable.

use crate::common;

use common::{config_with, expect_error, fixtures, read, TestServer};
use mediaserver_api::AppState;
use mediaserver_storage::S3Options;
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

pub(crate) const JWT: &str = "test-secret-test-secret-test-secret-0000";

pub(crate) fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: run the suite with scripts/test.sh, which starts PostgreSQL and S3"
        )
    })
}

pub(crate) async fn fresh_postgres_database() -> String {
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

pub(crate) async fn fresh_bucket(endpoint: &str) -> String {
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
    let s = common::start_ready(&[
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

    let token = s.admin_then_user("me@example.com").await;

    // Larger than one 8 MiB part, so it goes up as an S3 multipart upload.
    let (item, _) = s.upload_multipart_and_read_back(&token).await;
    let id = item["id"].as_str().unwrap().to_string();
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

/// A TCP relay in front of the test S3 server that can be cut (every open connection dropped,
/// new ones refused) and restored, to simulate an outage in the middle of a request.
pub(crate) struct Relay {
    addr: std::net::SocketAddr,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    cut: std::sync::Arc<std::sync::Mutex<tokio_util::sync::CancellationToken>>,
}

impl Relay {
    pub(crate) async fn start(target: &str) -> Relay {
        use std::sync::atomic::Ordering;
        let target = target
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let cut = std::sync::Arc::new(std::sync::Mutex::new(
            tokio_util::sync::CancellationToken::new(),
        ));
        let (up2, cut2) = (up.clone(), cut.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !up2.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is closed at once
                }
                let token = cut2.lock().unwrap().clone();
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = token.cancelled() => {}
                    }
                });
            }
        });
        Relay { addr, up, cut }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(crate) fn cut(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        let mut token = self.cut.lock().unwrap();
        token.cancel();
        *token = tokio_util::sync::CancellationToken::new();
    }

    pub(crate) fn restore(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// What moto reports as open multipart uploads of `bucket` (moto answers unsigned requests).
async fn open_multipart_uploads(endpoint: &str, bucket: &str) -> usize {
    reqwest::get(format!("{endpoint}/{bucket}?uploads"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .matches("<UploadId>")
        .count()
}

/// S3 goes away in the middle of a multipart upload: the client gets a 503 whose JSON names no
/// internal URL, address or upload id (those go to the log), and the multipart upload whose
/// abort failed is aborted by the upload sweeper once S3 is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_outage_mid_upload_is_503_without_internal_details() {
    let endpoint = required_env("MEDIASERVER_TEST_S3_ENDPOINT");
    let bucket = fresh_bucket(&endpoint).await;
    let relay = Relay::start(&endpoint).await;
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(dir.path(), &[]);
    let repo = mediaserver::open_database(&config).await.unwrap();
    let store = mediaserver_storage::s3(S3Options {
        bucket: bucket.clone(),
        endpoint: Some(relay.url()),
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
        mediaserver::ingest(&config, repo, store.clone()),
        store,
        JWT.as_bytes(),
        mediaserver::api_settings(&config),
    );
    let s = TestServer::start_state(dir, &config, state).await;
    let token = s.user_token("me@example.com").await;

    // The body streams in: more than one 8 MiB part, then the outage, then the rest.
    let (tx, rx) = futures::channel::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let part =
        reqwest::multipart::Part::stream(reqwest::Body::wrap_stream(rx)).file_name("big clip.mp4");
    let request = s
        .client
        .post(s.url("/v1/media"))
        .bearer_auth(&token)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send();
    let request = tokio::spawn(request);
    let mut head = read(&fixtures().mp4);
    head.extend(std::iter::repeat_n(7u8, 9 * 1024 * 1024));
    let mut tx = tx;
    use futures::SinkExt;
    tx.send(Ok(head)).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while open_multipart_uploads(&endpoint, &bucket).await == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no multipart upload started"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    relay.cut();
    for _ in 0..3 {
        if tx.send(Ok(vec![9u8; 4 * 1024 * 1024])).await.is_err() {
            break;
        }
    }
    drop(tx);
    let r = request.await.unwrap().unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    assert_eq!(body["error"]["code"], "unavailable", "{text}");
    let lower = text.to_lowercase();
    for leak in ["http://", "127.0.0.1", "uploadid", "upload id", &bucket] {
        assert!(
            !lower.contains(leak),
            "{leak:?} shown to the client: {text}"
        );
    }
    assert!(text.contains("storage unavailable"), "{text}");

    // The abort failed too: the multipart upload is still open. Once S3 is back, the upload
    // sweeper aborts it.
    assert_eq!(open_multipart_uploads(&endpoint, &bucket).await, 1);
    s.state.ingest.sweep_expired().await.unwrap();
    assert_eq!(
        open_multipart_uploads(&endpoint, &bucket).await,
        1,
        "aborted while S3 is down?"
    );
    relay.restore();
    s.state.ingest.sweep_expired().await.unwrap();
    assert_eq!(
        open_multipart_uploads(&endpoint, &bucket).await,
        0,
        "the sweeper left the multipart upload open"
    );
    assert!(s.state.media_store.list("").await.unwrap().is_empty());
}

/// `USER_QUOTA_BYTES` on PostgreSQL and S3: a chunked upload (no declared length) that passes the
/// quota after more than one 8 MiB part went up is refused with 413, and its multipart upload is
/// aborted: nothing is left in the bucket, no item, no usage. Deleting the user (admin API) then
/// empties the bucket of their items.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_on_postgres_and_s3_keeps_nothing_and_user_deletion_empties_the_bucket() {
    let endpoint = required_env("MEDIASERVER_TEST_S3_ENDPOINT");
    let db = fresh_postgres_database().await;
    let bucket = fresh_bucket(&endpoint).await;
    let quota = 20 * 1024 * 1024;
    let s = TestServer::start_with(&[
        ("DATABASE_URL", &db),
        ("STORAGE_PROVIDER", "AWSBucket"),
        ("STORAGE_ENDPOINT", &endpoint),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("MEDIA_BUCKET", &bucket),
        ("OUTPUT_BUCKET", &bucket),
        ("JWT_SECRET", JWT),
        ("USER_QUOTA_BYTES", &quota.to_string()),
    ])
    .await;
    let admin = s.user_token("admin@example.com").await;
    let user = s.user_token("me@example.com").await;
    let png = read(&fixtures().png);
    s.upload_ok(&user, "a.png", png.clone()).await;

    let mut big = read(&fixtures().mp4);
    big.extend(std::iter::repeat_n(7u8, 24 * 1024 * 1024));
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        big.chunks(1024 * 1024).map(|c| Ok(c.to_vec())).collect();
    let r = s
        .client
        .post(s.url("/v1/media?filename=big.mp4"))
        .bearer_auth(&user)
        .header("content-type", "application/octet-stream")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    let msg = expect_error(r, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert!(msg.contains("USER_QUOTA_BYTES"), "{msg}");
    assert_eq!(open_multipart_uploads(&endpoint, &bucket).await, 0);
    let keys: Vec<String> = s
        .state
        .media_store
        .list("")
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.key)
        .collect();
    assert_eq!(keys.len(), 1, "only the first upload's original: {keys:?}");
    let me: Value = s
        .get("/v1/auth/me", &user)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["storage"]["used_bytes"], png.len() as u64, "{me}");

    let id = me["id"].as_str().unwrap();
    let r = s
        .client
        .delete(s.url(&format!("/v1/admin/users/{id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(s.state.media_store.list("").await.unwrap().is_empty());
}
