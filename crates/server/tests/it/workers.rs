//! Separate `mediaserver worker` processes sharing the database and storage with the server:
//! a killed worker's job is finished by another after its lease expires; SIGTERM is graceful.
//! Also webhooks and the one-shot `mediaserver transcode`.

use crate::common;

use common::{fixtures, long_clip, read, TestServer};
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub(crate) fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mediaserver"));
    for k in [
        "DATABASE_URL",
        "STORAGE_PROVIDER",
        "WORKERS",
        "PORT",
        "HOST",
        "JWT_SECRET",
    ] {
        c.env_remove(k);
    }
    c
}

fn spawn_worker(data_dir: &Path) -> Child {
    bin()
        .arg("worker")
        .env("DATA_DIR", data_dir)
        .env("TRANSCODE_PRESET", "ultrafast")
        .env("JOB_LEASE_SECONDS", "3")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn children_of(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // Fields after the parenthesised command name: state, ppid, ...
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(pid) {
            found.push(child);
        }
    }
    found
}

pub(crate) async fn wait_processing(s: &TestServer, token: &str, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let item: Value = s
            .get(&format!("/v1/media/{id}"), token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if item["status"] == "processing" && item["progress"].as_i64().unwrap_or(0) > 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "never started processing: {item}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_killed_workers_job_is_finished_by_another_after_the_lease_expires() {
    let s = TestServer::start_with(&[("JOB_LEASE_SECONDS", "3")]).await;
    let token = s.user_token("me@example.com").await;
    let id = s.upload_ok(&token, "long.mp4", read(&long_clip())).await["id"]
        .as_str()
        .unwrap()
        .to_string();

    let mut first = spawn_worker(s.dir.path());
    wait_processing(&s, &token, &id).await;
    let encoders = children_of(first.id());
    assert!(!encoders.is_empty(), "no ffmpeg running under the worker");
    first.kill().unwrap(); // SIGKILL: no chance to hand the job back
    first.wait().unwrap();
    // Its encoder dies with it instead of burning CPU for a job another worker will take.
    let deadline = Instant::now() + Duration::from_secs(5);
    while encoders
        .iter()
        .any(|pid| Path::new(&format!("/proc/{pid}")).exists())
    {
        assert!(
            Instant::now() < deadline,
            "orphaned encoder still running: {encoders:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let mut second = spawn_worker(s.dir.path());
    let item = s.wait_done(&token, &id, 300).await;
    second.kill().ok();
    second.wait().ok();
    assert_eq!(item["status"], "ready", "{item}");
    let jobs = s
        .state
        .repo
        .jobs_for_media(&id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(
        jobs[0].attempts, 2,
        "claimed by the killed worker, then by the second"
    );
}

/// The scratch directories (`TEMP_DIR`, here `$DATA_DIR/tmp`) of jobs, oldest change first.
fn job_scratch(tmp: &Path) -> Vec<std::path::PathBuf> {
    let mut dirs: Vec<_> = std::fs::read_dir(tmp)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    dirs.retain(|p: &std::path::PathBuf| {
        p.is_dir() && p.file_name().unwrap().to_string_lossy().starts_with("job-")
    });
    dirs
}

/// Sets the modification time of `path` and everything under it to `age` ago.
fn backdate(path: &Path, age: Duration) {
    let when = std::time::SystemTime::now() - age;
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap().flatten() {
            backdate(&entry.path(), age);
        }
    }
    std::fs::File::open(path)
        .unwrap()
        .set_modified(when)
        .unwrap();
}

#[tokio::test]
async fn a_killed_workers_scratch_is_swept_by_the_next_worker() {
    let s = TestServer::start_with(&[("JOB_LEASE_SECONDS", "3")]).await;
    let token = s.user_token("me@example.com").await;
    let id = s.upload_ok(&token, "long.mp4", read(&long_clip())).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let tmp = s.dir.path().join("tmp");

    let mut first = spawn_worker(s.dir.path());
    wait_processing(&s, &token, &id).await;
    first.kill().unwrap(); // SIGKILL: nothing of it runs any more
    first.wait().unwrap();
    let left = job_scratch(&tmp);
    assert_eq!(left.len(), 1, "{left:?}");
    let dead = left[0].clone();
    assert!(dead.join("input").is_file());
    // Long dead: older than any lease.
    backdate(&dead, Duration::from_secs(3600));
    // Not ours to judge: another program's old directory, and a job directory that changed
    // just now (another worker's live job).
    let foreign = tmp.join("not-a-job");
    std::fs::create_dir(&foreign).unwrap();
    backdate(&foreign, Duration::from_secs(3600));
    let live = tmp.join(format!("job-{}-a1b2c3", mediaserver_core::new_id()));
    std::fs::create_dir(&live).unwrap();
    std::fs::write(live.join("input"), b"live").unwrap();

    let log = s.dir.path().join("second.log");
    let mut second = bin()
        .arg("worker")
        .env("DATA_DIR", s.dir.path())
        .env("TRANSCODE_PRESET", "ultrafast")
        .env("JOB_LEASE_SECONDS", "3")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while dead.exists() {
        assert!(
            Instant::now() < deadline,
            "{} was not swept",
            dead.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let item = s.wait_done(&token, &id, 300).await;
    second.kill().ok();
    second.wait().ok();
    assert_eq!(item["status"], "ready", "{item}");
    assert!(foreign.is_dir() && live.join("input").is_file());
    let log = std::fs::read_to_string(&log).unwrap();
    let name = dead.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        log.lines()
            .any(|l| l.contains("stale scratch") && l.contains(&name)),
        "the removal is not logged: {log}"
    );
}

#[tokio::test]
async fn sigterm_lets_the_worker_finish_or_hand_back_its_job() {
    let s = TestServer::start().await;
    let token = s.user_token("me@example.com").await;
    let id = s.upload_ok(&token, "long.mp4", read(&long_clip())).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut worker = spawn_worker(s.dir.path());
    wait_processing(&s, &token, &id).await;
    let killed = Command::new("kill")
        .args(["-TERM", &worker.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(st) = worker.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline, "worker ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status:?}");
    let job = &s
        .state
        .repo
        .jobs_for_media(&id.parse().unwrap())
        .await
        .unwrap()[0];
    assert!(
        matches!(
            job.status,
            mediaserver_core::JobStatus::Done | mediaserver_core::JobStatus::Queued
        ),
        "job left as {:?}",
        job.status
    );
    if job.status == mediaserver_core::JobStatus::Queued {
        assert_eq!(job.attempts, 0, "a handed-back attempt does not count");
    }
    // Scratch files are gone either way.
    let tmp = s.dir.path().join("tmp");
    let leftovers: Vec<_> = std::fs::read_dir(&tmp)
        .map(|d| d.flatten().collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
}

#[tokio::test]
async fn webhooks_are_signed_and_retried() {
    use axum::http::{HeaderMap, StatusCode};
    type Seen = Arc<Mutex<Vec<(HeaderMap, String)>>>;
    let seen: Seen = Arc::default();
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(
                |axum::extract::State(seen): axum::extract::State<Seen>,
                 headers: HeaderMap,
                 body: String| async move {
                    let mut v = seen.lock().unwrap();
                    v.push((headers, body));
                    // The first delivery fails, so the sender has to retry.
                    if v.len() == 1 {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::OK
                    }
                },
            ),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let url = format!("http://{addr}/hook");
    let s = TestServer::start_with(&[
        ("WORKERS", "1"),
        ("TRANSCODE_PRESET", "ultrafast"),
        ("WEBHOOK_URL", &url),
        ("WEBHOOK_SECRET", "hook-secret"),
        ("WEBHOOK_RETRY_BACKOFF_SECONDS", "1"),
    ])
    .await;
    let token = s.user_token("me@example.com").await;
    let id = s
        .upload_ok(&token, "frame.png", read(&fixtures().png))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(s.wait_done(&token, &id, 60).await["status"], "ready");

    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.lock().unwrap().len() < 2 {
        assert!(Instant::now() < deadline, "webhook not retried");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (headers, body) = seen.lock().unwrap()[1].clone();
    assert_eq!(headers["x-mediaserver-event"], "media.ready");
    let event: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["type"], "media.ready");
    assert_eq!(event["data"]["id"], id.as_str());
    assert_eq!(event["data"]["status"], "ready");
    // Verify the signature the way a receiver would.
    let sig = headers["x-mediaserver-signature"].to_str().unwrap();
    let (t, v1) = sig.split_once(',').unwrap();
    let t = t.strip_prefix("t=").unwrap();
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"hook-secret").unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    assert_eq!(
        v1.strip_prefix("v1=").unwrap(),
        hex::encode(mac.finalize().into_bytes())
    );
}

#[test]
fn transcode_one_shot_writes_outputs_and_reports_unusable_input() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = |src: &Path, dest: &Path| {
        bin()
            .args(["transcode"])
            .arg(src)
            .arg(dest)
            .args(["--preset", "ultrafast"])
            .env("DATA_DIR", dir.path())
            .output()
            .unwrap()
    };
    let result = run(&fixtures().mp4, &out);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let summary: Value = serde_json::from_slice(&result.stdout).unwrap();
    assert_eq!(summary["kind"], "video");
    assert_eq!(summary["hls"], "stream/master.m3u8");
    assert!(out.join("stream/master.m3u8").exists());
    assert!(out.join("stream/manifest.mpd").exists());
    assert!(out.join("thumbnail.jpg").exists());
    // The summary is also written next to the outputs (the job runner reads it from there).
    let written: Value =
        serde_json::from_slice(&std::fs::read(out.join("transcode.json")).unwrap()).unwrap();
    assert_eq!(written, summary);

    let junk = dir.path().join("junk.mp4");
    std::fs::write(
        &junk,
        (0..50_000u32)
            .map(|i| (i * 7919 % 251) as u8)
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    let result = run(&junk, &dir.path().join("junk-out"));
    assert_eq!(
        result.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let missing = run(&dir.path().join("missing.mp4"), &dir.path().join("x"));
    assert_eq!(missing.status.code(), Some(1));
}

#[tokio::test]
async fn transcode_one_shot_reads_and_writes_s3() {
    let endpoint = std::env::var("MEDIASERVER_TEST_S3_ENDPOINT")
        .expect("MEDIASERVER_TEST_S3_ENDPOINT is not set: run the suite with scripts/test.sh");
    let bucket = format!("t{}", &mediaserver_core::new_id().replace('-', "")[..16]);
    reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .unwrap();
    let store = mediaserver_storage::s3(mediaserver_storage::S3Options {
        bucket: bucket.clone(),
        endpoint: Some(endpoint.clone()),
        access_key_id: Some("test".into()),
        secret_access_key: Some("test".into()),
        path_style: true,
        ..Default::default()
    })
    .unwrap();
    let key = mediaserver_storage::ObjectKey::new("in/clip.mp4").unwrap();
    store
        .put_bytes(&key, read(&fixtures().mp4).into())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let result = bin()
        .args([
            "transcode",
            &format!("s3://{bucket}/in/clip.mp4"),
            &format!("s3://{bucket}/out/clip"),
            "--preset",
            "ultrafast",
        ])
        .env("DATA_DIR", dir.path())
        .env("STORAGE_ENDPOINT", &endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let keys: Vec<String> = store
        .list("out/clip/")
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.key)
        .collect();
    assert!(
        keys.contains(&"out/clip/stream/master.m3u8".to_string()),
        "{keys:?}"
    );
    assert!(
        keys.contains(&"out/clip/stream/manifest.mpd".to_string()),
        "{keys:?}"
    );
}
