//! Faults during processing, from outside: a worker SIGKILLed mid-transcode (two `mediaserver
//! worker` processes on one PostgreSQL and one S3 bucket), the database restarted while a job
//! runs, and object storage unreachable while a job runs. Each ends with a ready item whose
//! whole HLS and DASH output decodes end to end, and the outages use up no attempt.

use crate::backends::{fresh_bucket, fresh_postgres_database, required_env, Relay, JWT};
use crate::common;
use crate::workers::{bin, wait_processing};

use common::{config_with, long_clip, read, TestServer};
use mediaserver_api::AppState;
use mediaserver_core::JobStatus;
use mediaserver_storage::{ObjectMeta, S3Options};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The long clip: 40 s of 30 fps video and 48 kHz AAC.
const FRAMES: u64 = 40 * 30;
const SECONDS: f64 = 40.0;

/// Decodes the whole of `url` (a playlist or manifest served by the test server): the frames of
/// its first video and its first audio stream, counted by decoding every one of them.
async fn decoded_frames(url: &str) -> (u64, u64) {
    let mut frames = [0u64; 2];
    for (i, stream) in ["v:0", "a:0"].iter().enumerate() {
        let out = tokio::process::Command::new("ffprobe")
            .args(["-v", "error", "-count_frames", "-select_streams", stream])
            .args(["-show_entries", "stream=nb_read_frames", "-of", "json", url])
            .kill_on_drop(true)
            .output()
            .await
            .expect("ffprobe must be installed");
        assert!(
            out.status.success(),
            "ffprobe {url}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        frames[i] = v["streams"][0]["nb_read_frames"]
            .as_str()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{url} {stream}: {v}"));
    }
    (frames[0], frames[1])
}

/// The item is ready and both its HLS and its DASH output decode to the whole clip: every video
/// frame exactly once, and the audio's AAC frames (1024 samples at 48 kHz) to within the
/// encoder's priming and padding (a segment missing or repeated would be ~190 frames).
async fn assert_full_length(s: &TestServer, token: &str, id: &str, item: &Value) {
    assert_eq!(item["status"], "ready", "{item}");
    assert_eq!(item["playable"], true, "{item}");
    let duration = item["duration_seconds"].as_f64().unwrap();
    assert!((duration - SECONDS).abs() < 0.2, "{item}");
    let signed: Value = s
        .client
        .post(s.url(&format!("/v1/media/{id}/playback-token")))
        .bearer_auth(token)
        .json(&serde_json::json!({"ttl_seconds": 600}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let audio_frames = (SECONDS * 48_000.0 / 1024.0) as u64;
    for entry in ["hls", "dash"] {
        let (video, audio) = decoded_frames(&s.url(signed[entry].as_str().unwrap())).await;
        assert_eq!(video, FRAMES, "{entry}: video frames decoded");
        assert!(
            audio.abs_diff(audio_frames) <= 5,
            "{entry}: {audio} audio frames decoded, {audio_frames} expected"
        );
    }
}

fn worker_process(data_dir: &Path, env: &[(&str, &str)]) -> Child {
    bin()
        .arg("worker")
        .env("DATA_DIR", data_dir)
        .env("TRANSCODE_PRESET", "ultrafast")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The item's published segment objects (init and media segments), by key.
async fn published_segments(s: &TestServer, id: &str) -> BTreeMap<String, ObjectMeta> {
    s.state
        .output_store
        .list(&format!("media/{id}/stream/"))
        .await
        .unwrap()
        .into_iter()
        .filter(|o| o.key.ends_with(".m4s"))
        .map(|o| (o.key.clone(), o))
        .collect()
}

/// SIGKILL the worker encoding an item: another worker (another process on the same PostgreSQL
/// and S3) claims the job once the lease runs out, finishes it, and the item is complete. The
/// segments the killed worker had published stay as they were (same ETag, same last-modified):
/// the second attempt's encode proved them interchangeable with its own (identical init
/// segments) instead of deleting and uploading them again.
#[tokio::test]
async fn a_killed_workers_job_is_finished_by_another_keeping_what_was_published() {
    let endpoint = required_env("MEDIASERVER_TEST_S3_ENDPOINT");
    let db = fresh_postgres_database().await;
    let media_bucket = fresh_bucket(&endpoint).await;
    let output_bucket = fresh_bucket(&endpoint).await;
    let env = [
        ("DATABASE_URL", db.as_str()),
        ("STORAGE_PROVIDER", "AWSBucket"),
        ("STORAGE_ENDPOINT", &endpoint),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("MEDIA_BUCKET", &media_bucket),
        ("OUTPUT_BUCKET", &output_bucket),
        ("JWT_SECRET", JWT),
    ];
    let s = TestServer::start_with(&env).await;
    let token = s.user_token("me@example.com").await;
    let id = s.upload_ok(&token, "long.mp4", read(&long_clip())).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let media_id = id.parse().unwrap();

    // The default lease (JOB_LEASE_SECONDS unset): what the elapsed time below measures.
    let first_dir = tempfile::tempdir().unwrap();
    let mut first = worker_process(first_dir.path(), &env);
    wait_processing(&s, &token, &id).await;
    // Playable while encoding: every rendition has published segments.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let item: Value = s
            .get(&format!("/v1/media/{id}"), &token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if item["playable"] == true {
            break;
        }
        assert_ne!(item["status"], "ready", "finished before the kill: {item}");
        assert!(Instant::now() < deadline, "never playable: {item}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let second_dir = tempfile::tempdir().unwrap();
    let mut second = worker_process(second_dir.path(), &env);
    let jobs = s.state.repo.jobs_for_media(&media_id).await.unwrap();
    let killed_owner = jobs[0]
        .lease_owner
        .clone()
        .expect("the first worker's lease");

    let before = published_segments(&s, &id).await;
    first.kill().unwrap(); // SIGKILL: no chance to hand the job back
    first.wait().unwrap();
    let killed_at = Instant::now();
    assert!(
        before.keys().any(|k| k.contains("/chunk-")),
        "nothing published before the kill: {before:?}"
    );

    // Measured, not asserted: how long the job waited for another worker.
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let job = s.state.repo.get_job(&jobs[0].id).await.unwrap().unwrap();
        if job.lease_owner.as_ref().is_some_and(|o| *o != killed_owner) {
            eprintln!(
                "job claimed by another worker {:.1} s after the kill (attempt {})",
                killed_at.elapsed().as_secs_f64(),
                job.attempts
            );
            break;
        }
        assert!(Instant::now() < deadline, "never claimed again: {job:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let item = s.wait_done(&token, &id, 600).await;
    second.kill().ok();
    second.wait().ok();
    assert_full_length(&s, &token, &id, &item).await;
    let jobs = s.state.repo.jobs_for_media(&media_id).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(
        jobs[0].attempts, 2,
        "claimed by the killed worker, then by another"
    );

    let after = published_segments(&s, &id).await;
    for (key, earlier) in &before {
        let now = after
            .get(key)
            .unwrap_or_else(|| panic!("{key} was published before the kill and is gone"));
        assert_eq!(
            (&now.etag, now.last_modified),
            (&earlier.etag, earlier.last_modified),
            "{key} was published again"
        );
    }
}

/// A PostgreSQL server of this test's own (stopping the shared one would break the tests
/// running beside it), started the way scripts/services.sh starts the shared one.
struct PrivatePostgres {
    bindir: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
}

impl PrivatePostgres {
    fn start() -> PrivatePostgres {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL is not installed; run scripts/install-deps.sh")
            .flatten()
            .map(|e| e.path().join("bin"))
            .filter(|p| p.join("pg_ctl").exists())
            .collect();
        versions.sort_by_key(|p| {
            p.parent()
                .and_then(|v| v.file_name())
                .and_then(|v| v.to_str())
                .and_then(|v| v.parse::<u32>().ok())
        });
        let bindir = versions.pop().expect("no PostgreSQL server binaries");
        let dir = tempfile::tempdir().unwrap();
        let uid = Command::new("id").arg("-u").output().unwrap();
        let as_postgres = String::from_utf8_lossy(&uid.stdout).trim() == "0";
        if as_postgres {
            let ok = Command::new("chown")
                .arg("postgres:")
                .arg(dir.path())
                .status()
                .unwrap()
                .success();
            assert!(ok, "chown postgres");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = PrivatePostgres {
            bindir,
            dir,
            port,
            as_postgres,
        };
        let data = pg.dir.path().join("data");
        let ok = pg
            .command("initdb")
            .arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8"])
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok, "initdb failed");
        pg.up();
        pg
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bindir.join(program);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn pg_ctl(&self, args: &[&str]) -> bool {
        self.command("pg_ctl")
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .arg("-l")
            .arg(self.dir.path().join("server.log"))
            .args(args)
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .success()
    }

    fn up(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        assert!(self.pg_ctl(&["-w", "-o", &opts, "start"]), "pg_ctl start");
    }

    fn down(&self) {
        assert!(self.pg_ctl(&["-w", "-m", "fast", "stop"]), "pg_ctl stop");
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["-m", "immediate", "stop"]);
    }
}

/// The job scratch directories under `tmp` (`TEMP_DIR`).
fn scratch_dirs(tmp: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(tmp)
        .map(|d| d.flatten().map(|e| e.path()).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("job-"))
        })
        .collect()
}

/// PostgreSQL stops while a job encodes and stays down until the encode has ended, so the
/// result is ready to record while the database is gone. Once it is back the item becomes
/// ready — no server restart, no second attempt.
#[tokio::test]
async fn a_database_restart_mid_job_costs_no_attempt() {
    let pg = PrivatePostgres::start();
    let s = TestServer::start_with(&[
        ("DATABASE_URL", &pg.url()),
        ("JWT_SECRET", JWT),
        ("WORKERS", "1"),
        ("TRANSCODE_PRESET", "ultrafast"),
        ("JOB_LEASE_SECONDS", "3"),
    ])
    .await;
    assert_eq!(s.state.repo.backend(), "postgres");
    let token = s.user_token("me@example.com").await;
    let id = s.upload_ok(&token, "long.mp4", read(&long_clip())).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    wait_processing(&s, &token, &id).await;
    let tmp = s.dir.path().join("tmp");
    assert_eq!(scratch_dirs(&tmp).len(), 1, "the job's scratch directory");

    pg.down();
    // The runner is done (its scratch directory goes when it returns); what is left is to
    // record the result, which cannot happen before the database is back. The database stays
    // away for twice the pool's 5 s wait for a connection, so recording does not merely wait
    // for it but fails (a pause, not a bound).
    let deadline = Instant::now() + Duration::from_secs(300);
    while !scratch_dirs(&tmp).is_empty() {
        assert!(Instant::now() < deadline, "the encode never ended");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(10)).await;
    pg.up();

    let item = s.wait_done(&token, &id, 600).await;
    assert_full_length(&s, &token, &id, &item).await;
    let jobs = s
        .state
        .repo
        .jobs_for_media(&id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(
        jobs[0].attempts, 1,
        "the outage used up an attempt: {jobs:?}"
    );
    s.stop().await;
}

/// S3 becomes unreachable while a job encodes, so the attempt fails publishing; with a single
/// attempt allowed (`JOB_MAX_ATTEMPTS=1`) the job still goes back to the queue, and once S3 is
/// back the item becomes ready on that one attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storage_outage_mid_job_uses_up_no_attempt() {
    let endpoint = required_env("MEDIASERVER_TEST_S3_ENDPOINT");
    let bucket = fresh_bucket(&endpoint).await;
    let relay = Relay::start(&endpoint).await;
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(
        dir.path(),
        &[
            ("WORKERS", "1"),
            ("TRANSCODE_PRESET", "ultrafast"),
            ("JOB_MAX_ATTEMPTS", "1"),
            ("JOB_RETRY_BACKOFF_SECONDS", "1"),
        ],
    );
    let repo = mediaserver::open_database(&config).await.unwrap();
    // Few retries, so each request fails fast while the relay is cut.
    let store = mediaserver_storage::s3(S3Options {
        bucket,
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
    let id = s.upload_ok(&token, "long.mp4", read(&long_clip())).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let media_id = id.parse().unwrap();
    wait_processing(&s, &token, &id).await;

    relay.cut();
    // Restored once the failed attempt went back to the queue.
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let job = s.state.repo.jobs_for_media(&media_id).await.unwrap()[0].clone();
        assert_ne!(
            job.status,
            JobStatus::Failed,
            "the outage failed the item: {job:?}"
        );
        if job.status == JobStatus::Queued && job.last_error.is_some() {
            assert_eq!(job.attempts, 0, "{job:?}");
            assert!(
                job.last_error.as_deref().unwrap().contains("storage"),
                "{job:?}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the attempt never failed: {job:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    relay.restore();

    let item = s.wait_done(&token, &id, 600).await;
    assert_full_length(&s, &token, &id, &item).await;
    let jobs = s.state.repo.jobs_for_media(&media_id).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].attempts, 1, "{jobs:?}");
}
