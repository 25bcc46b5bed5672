//! `mediaserver reconcile` on Local storage and on S3 (moto): orphaned objects and stale
//! multipart uploads go, what items and uploads in progress refer to stays, items whose
//! original is gone are marked failed, and a dry run changes nothing. Also the storage outage
//! fault test: S3 gone mid-upload, then a reconcile leaves nothing orphaned.

use crate::common;

use common::{config_with, fixtures, read, TestServer};
use mediaserver_api::AppState;
use mediaserver_core::{layout, MediaId};
use mediaserver_ingest::{ReconcileOptions, MISSING_ORIGINAL};
use mediaserver_storage::{ObjectKey, S3Options, Storage};
use reqwest::StatusCode;
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

const TUS: (&str, &str) = ("Tus-Resumable", "1.0.0");
const JWT: &str = "test-secret-test-secret-test-secret-0000";

/// Runs `mediaserver reconcile ARGS` against the server's data directory and `env`; returns
/// its stdout (the report), failing on a non-zero exit.
fn reconcile(s: &TestServer, env: &[(&str, &str)], args: &[&str]) -> String {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mediaserver"));
    for (k, _) in std::env::vars() {
        if k.starts_with("STORAGE_") || k.starts_with("AWS_") || k.ends_with("_BUCKET") {
            c.env_remove(k);
        }
    }
    c.env_remove("DATABASE_URL").env_remove("JWT_SECRET");
    let out = c
        .arg("reconcile")
        .args(args)
        .env("DATA_DIR", s.dir.path())
        .env("LOG_LEVEL", "warn")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "reconcile {args:?} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn key(k: &str) -> ObjectKey {
    ObjectKey::new(k).unwrap()
}

async fn keys(store: &dyn Storage) -> Vec<String> {
    let mut keys: Vec<String> = store
        .list("")
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.key)
        .collect();
    keys.sort();
    keys
}

/// What a reconcile must find and what it must leave, set up on a running server.
struct Scene {
    token: String,
    /// An item with its original (kept).
    kept: String,
    /// An item whose original was deleted behind the server's back (marked failed).
    lost: String,
    /// Objects of items that do not exist (removed).
    orphans: Vec<String>,
    /// The key of a tus upload's original-to-be (its upload is in progress: kept).
    tus_prefix: String,
}

async fn scene(s: &TestServer) -> Scene {
    let token = s.user_token("owner@example.com").await;
    let kept = s.upload_ok(&token, "kept.png", read(&fixtures().png)).await;
    let lost = s.upload_ok(&token, "lost.png", read(&fixtures().png)).await;
    let lost_id: MediaId = lost["id"].as_str().unwrap().parse().unwrap();
    let lost_key = layout::original_key(&lost_id, "lost.png");
    s.state.media_store.delete(&key(&lost_key)).await.unwrap();

    // A tus upload half-way: its bytes are stored, its row says it is in progress.
    let mut clip = read(&fixtures().mp4);
    clip.resize(clip.len().max(6 * 1024 * 1024), 0);
    let r = s
        .client
        .post(s.url("/v1/uploads/"))
        .bearer_auth(&token)
        .header(TUS.0, TUS.1)
        .header("Upload-Length", clip.len().to_string())
        .header("Upload-Metadata", "filename Y2xpcC5tcDQ=")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let upload_id = location.trim_end_matches('/').rsplit('/').next().unwrap();
    let r = s
        .client
        .patch(s.url(&location))
        .bearer_auth(&token)
        .header(TUS.0, TUS.1)
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Offset", "0")
        .body(clip[..5 * 1024 * 1024 + 17].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let tus_prefix = layout::originals_prefix(&upload_id.parse().unwrap());

    // Objects of items that never were (a crash between storing and recording) or are gone.
    let ghost = MediaId::new();
    let orphans = vec![
        layout::original_key(&ghost, "ghost.png"),
        layout::output_key(&ghost, layout::THUMBNAIL),
        layout::output_key(&ghost, layout::HLS_MASTER),
    ];
    s.state
        .media_store
        .put_bytes(&key(&orphans[0]), read(&fixtures().png).into())
        .await
        .unwrap();
    for k in &orphans[1..] {
        s.state
            .output_store
            .put_bytes(&key(k), b"output".to_vec().into())
            .await
            .unwrap();
    }
    // Not a key this server makes: never judged.
    s.state
        .media_store
        .put_bytes(&key("dropbox/notes.txt"), b"mine".to_vec().into())
        .await
        .unwrap();
    Scene {
        token,
        kept: kept["id"].as_str().unwrap().to_string(),
        lost: lost_id.to_string(),
        orphans,
        tus_prefix,
    }
}

async fn item(s: &TestServer, token: &str, id: &str) -> Value {
    s.get(&format!("/v1/media/{id}"), token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Checks a dry run changes nothing and a real run removes exactly the orphans.
async fn check(s: &TestServer, env: &[(&str, &str)], scene: &Scene) {
    let media_before = keys(s.state.media_store.as_ref()).await;
    let output_before = keys(s.state.output_store.as_ref()).await;
    let dry = reconcile(s, env, &["--dry-run", "--grace-seconds", "0"]);
    assert!(dry.contains("dry run: nothing was changed"), "{dry}");
    for orphan in &scene.orphans {
        assert!(
            dry.contains(orphan.as_str()),
            "{orphan} not reported: {dry}"
        );
    }
    assert!(dry.contains(&scene.lost), "{dry}");
    assert!(!dry.contains(&scene.kept), "{dry}");
    assert!(!dry.contains(&scene.tus_prefix), "{dry}");
    assert_eq!(keys(s.state.media_store.as_ref()).await, media_before);
    assert_eq!(keys(s.state.output_store.as_ref()).await, output_before);
    assert_eq!(item(s, &scene.token, &scene.lost).await["status"], "queued");

    // The default grace period protects what was written just now.
    let graced = reconcile(s, env, &[]);
    assert!(
        graced.contains("orphaned objects (no media item or upload): 0"),
        "{graced}"
    );
    assert_eq!(keys(s.state.media_store.as_ref()).await, media_before);

    let done = reconcile(s, env, &["--grace-seconds", "0"]);
    assert!(
        done.contains("orphaned objects (no media item or upload): 3"),
        "{done}"
    );
    let media_after = keys(s.state.media_store.as_ref()).await;
    let output_after = keys(s.state.output_store.as_ref()).await;
    for orphan in &scene.orphans {
        assert!(
            !media_after.contains(orphan) && !output_after.contains(orphan),
            "{orphan} kept"
        );
    }
    let expected: Vec<String> = media_before
        .iter()
        .filter(|k| !scene.orphans.contains(k))
        .cloned()
        .collect();
    assert_eq!(media_after, expected, "something else was removed");
    assert!(media_after.contains(&"dropbox/notes.txt".to_string()));
    assert!(
        media_after.iter().any(|k| k.starts_with(&scene.tus_prefix))
            || s.state.media_store.provider() == "s3"
    );
    let kept = item(s, &scene.token, &scene.kept).await;
    assert_eq!(kept["status"], "queued", "{kept}");
    let lost = item(s, &scene.token, &scene.lost).await;
    assert_eq!(lost["status"], "failed", "{lost}");
    assert_eq!(lost["error"], MISSING_ORIGINAL, "{lost}");

    // Nothing left to do.
    let again = reconcile(s, env, &["--grace-seconds", "0"]);
    assert!(
        again.contains("orphaned objects (no media item or upload): 0"),
        "{again}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_on_local_storage() {
    let s = TestServer::start().await;
    let scene = scene(&s).await;
    check(&s, &[], &scene).await;
}

fn s3_env<'a>(endpoint: &'a str, media: &'a str, output: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("STORAGE_PROVIDER", "AWSBucket"),
        ("STORAGE_ENDPOINT", endpoint),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("MEDIA_BUCKET", media),
        ("OUTPUT_BUCKET", output),
        ("JWT_SECRET", JWT),
    ]
}

fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the suite with scripts/test.sh, which starts S3 (moto)")
    })
}

async fn fresh_bucket(endpoint: &str) -> String {
    let bucket = format!("r{}", &mediaserver_core::new_id().replace('-', "")[..20]);
    let r = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "create bucket: {}", r.status());
    bucket
}

/// Open multipart uploads of `bucket`, by key (moto answers unsigned requests).
async fn open_uploads(endpoint: &str, bucket: &str) -> Vec<String> {
    let xml = reqwest::get(format!("{endpoint}/{bucket}?uploads"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    xml.split("<Key>")
        .skip(1)
        .filter_map(|rest| rest.split("</Key>").next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_on_s3() {
    let endpoint = required_env("MEDIASERVER_TEST_S3_ENDPOINT");
    let media = fresh_bucket(&endpoint).await;
    let output = fresh_bucket(&endpoint).await;
    let env = s3_env(&endpoint, &media, &output);
    let s = TestServer::start_with(&env).await;
    let scene = scene(&s).await;
    // A writer that died mid-upload in each bucket (no abort ever came).
    for (store, k) in [
        (
            &s.state.media_store,
            layout::original_key(&MediaId::new(), "dead.mp4"),
        ),
        (
            &s.state.output_store,
            layout::output_key(&MediaId::new(), "stream/v0.mp4"),
        ),
    ] {
        let mut w = store.writer(&key(&k)).await.unwrap();
        w.write(vec![1u8; 9 * 1024 * 1024].into()).await.unwrap();
        std::mem::forget(w);
    }
    assert_eq!(
        open_uploads(&endpoint, &media).await.len(),
        2,
        "tus + dead writer"
    );
    assert_eq!(open_uploads(&endpoint, &output).await.len(), 1);

    check(&s, &env, &scene).await;
    // The tus upload in progress keeps its multipart upload; the dead writers' are gone.
    let left = open_uploads(&endpoint, &media).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].starts_with(&scene.tus_prefix), "{left:?}");
    assert!(open_uploads(&endpoint, &output).await.is_empty());
}

/// Fault test "storage outage": S3 goes away in the middle of a one-request upload. The client
/// gets a 503 JSON naming no internal URL, address or upload id; the failed abort leaves the
/// multipart upload open, and the process that knew about it is gone (a restart). Once S3 is
/// back, a reconcile leaves nothing orphaned: no open multipart upload, no object without a row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_outage_then_reconcile_leaves_nothing_orphaned() {
    let endpoint = required_env("MEDIASERVER_TEST_S3_ENDPOINT");
    let bucket = fresh_bucket(&endpoint).await;
    let relay = crate::backends::Relay::start(&endpoint).await;
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(dir.path(), &[]);
    let s3 = |endpoint: String| {
        mediaserver_storage::s3(S3Options {
            bucket: bucket.clone(),
            endpoint: Some(endpoint),
            access_key_id: Some("test".into()),
            secret_access_key: Some("test".into()),
            path_style: true,
            allow_http: true,
            max_retries: 1,
            retry_timeout: Duration::from_secs(2),
            ..Default::default()
        })
        .unwrap()
    };
    let repo = mediaserver::open_database(&config).await.unwrap();
    let store = s3(relay.url());
    let state = AppState::new(
        mediaserver::ingest(&config, repo.clone(), store.clone()),
        store,
        JWT.as_bytes(),
        mediaserver::api_settings(&config),
    );
    let s = TestServer::start_state(dir, &config, state).await;
    let token = s.user_token("me@example.com").await;

    // The body streams in: more than one 8 MiB part, then the outage, then the rest.
    let (mut tx, rx) = futures::channel::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let part =
        reqwest::multipart::Part::stream(reqwest::Body::wrap_stream(rx)).file_name("clip.mp4");
    let request = tokio::spawn(
        s.client
            .post(s.url("/v1/media"))
            .bearer_auth(&token)
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send(),
    );
    let mut head = read(&fixtures().mp4);
    head.extend(std::iter::repeat_n(7u8, 9 * 1024 * 1024));
    use futures::SinkExt;
    tx.send(Ok(head)).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while open_uploads(&endpoint, &bucket).await.is_empty() {
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
    let text = r.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    assert_eq!(body["error"]["code"], "unavailable", "{text}");
    let lower = text.to_lowercase();
    for leak in ["http://", "127.0.0.1", "uploadid", "upload id", &bucket] {
        assert!(
            !lower.contains(leak),
            "{leak:?} shown to the client: {text}"
        );
    }
    assert_eq!(
        open_uploads(&endpoint, &bucket).await.len(),
        1,
        "the abort failed too"
    );

    // The server goes away with its memory of the failed abort; S3 comes back.
    s.stop().await;
    relay.restore();
    let store = s3(endpoint.clone());
    let ingest = mediaserver::ingest(&config, repo, store.clone());
    let report = ingest
        .reconcile(
            store.as_ref(),
            ReconcileOptions {
                dry_run: false,
                grace: Duration::ZERO,
            },
        )
        .await
        .unwrap();
    assert_eq!(report.stale_uploads.len(), 1, "{report:?}");
    assert!(report.failures.is_empty(), "{report:?}");
    assert!(
        open_uploads(&endpoint, &bucket).await.is_empty(),
        "multipart upload left open"
    );
    assert!(
        store.list("").await.unwrap().is_empty(),
        "objects without a row"
    );
    let page = ingest
        .repo()
        .list_media(&mediaserver_core::MediaFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(page.is_empty(), "{page:?}");
}
