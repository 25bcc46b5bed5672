//! Shared test harness: a real server on 127.0.0.1:0 with its own data directory, media fixtures
//! generated with ffmpeg, and small HTTP helpers.
#![allow(dead_code)]

use mediaserver::config::Config;
use mediaserver::Server;
use mediaserver_api::AppState;
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

mod ready;
pub use ready::start_ready;

pub const PASSWORD: &str = "correct horse battery";

pub struct TestServer {
    pub url: String,
    pub client: Client,
    pub state: AppState,
    pub dir: TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
    workers: tokio_util::sync::CancellationToken,
    worker_handle: Option<JoinHandle<()>>,
}

pub fn config_with(dir: &Path, env: &[(&str, &str)]) -> Config {
    let mut vars: HashMap<String, String> = HashMap::new();
    vars.insert("DATA_DIR".into(), dir.display().to_string());
    vars.insert("HOST".into(), "127.0.0.1".into());
    vars.insert("PORT".into(), "0".into());
    // Tests that want processing start workers themselves.
    vars.insert("WORKERS".into(), "0".into());
    // Most tests sign up several users; open sign-up is not the server's default. A test of the
    // default passes ("ALLOW_REGISTRATION", "") (empty counts as unset).
    vars.insert("ALLOW_REGISTRATION".into(), "true".into());
    for (k, v) in env {
        vars.insert(k.to_string(), v.to_string());
    }
    Config::from_lookup(|k| vars.get(k).cloned()).expect("valid test config")
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(&[]).await
    }

    pub async fn start_with(env: &[(&str, &str)]) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        Self::start_in(dir, env).await
    }

    /// Starts a server whose data directory is `dir` (reuse it to test restarts).
    pub async fn start_in(dir: TempDir, env: &[(&str, &str)]) -> TestServer {
        let config = config_with(dir.path(), env);
        let state = mediaserver::build_state(&config)
            .await
            .expect("build state");
        Self::start_state(dir, &config, state).await
    }

    /// Starts a server around an already built state (to inject a particular storage).
    pub async fn start_state(dir: TempDir, config: &Config, state: AppState) -> TestServer {
        let server = Server::bind(config, state.clone()).await.expect("bind");
        let addr = server.local_addr().expect("addr");
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(server.run(async {
            let _ = rx.await;
        }));
        let workers = tokio_util::sync::CancellationToken::new();
        let worker_handle = if config.jobs.workers > 0 {
            let pipeline = mediaserver::pipeline(config, &state)
                .await
                .expect("pipeline");
            Some(tokio::spawn(mediaserver::run_workers(
                pipeline,
                config.jobs.workers,
                "test-worker".to_string(),
                workers.clone().cancelled_owned(),
            )))
        } else {
            None
        };
        TestServer {
            url: format!("http://{addr}"),
            client: Client::new(),
            state,
            dir,
            shutdown: Some(tx),
            handle: Some(handle),
            workers,
            worker_handle,
        }
    }

    /// Stops the server gracefully and returns its data directory.
    pub async fn stop(mut self) -> TempDir {
        self.workers.cancel();
        if let Some(h) = self.worker_handle.take() {
            let _ = h.await;
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.expect("server task").expect("server result");
        }
        let dir = tempfile::tempdir().expect("tempdir");
        std::mem::replace(&mut self.dir, dir)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.url, path)
    }

    pub async fn register(&self, email: &str, password: &str) -> Response {
        self.client
            .post(self.url("/v1/auth/register"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("register request")
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.client
            .post(self.url("/v1/auth/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("login request")
    }

    /// Registers `email` and returns its access token.
    pub async fn user_token(&self, email: &str) -> String {
        let r = self.register(email, PASSWORD).await;
        assert_eq!(r.status(), StatusCode::CREATED, "register {email}");
        let r = self.login(email, PASSWORD).await;
        assert_eq!(r.status(), StatusCode::OK, "login {email}");
        let body: Value = r.json().await.expect("login json");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    /// Polls the item until `status` is ready or failed (or panics after `secs`).
    pub async fn wait_done(&self, token: &str, id: &str, secs: u64) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let item: Value = self
                .get(&format!("/v1/media/{id}"), token)
                .send()
                .await
                .expect("get media")
                .json()
                .await
                .expect("media json");
            if item["status"] == "ready" || item["status"] == "failed" {
                return item;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "item not done after {secs}s: {item}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }

    pub fn get(&self, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.client.get(self.url(path)).bearer_auth(token)
    }

    /// Uploads `bytes` as multipart field `file` named `filename`.
    pub async fn upload(&self, token: &str, filename: &str, bytes: Vec<u8>) -> Response {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(filename.to_string());
        let form = reqwest::multipart::Form::new().part("file", part);
        self.client
            .post(self.url("/v1/media"))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .expect("upload request")
    }

    /// Uploads and asserts 201; returns the item JSON.
    pub async fn upload_ok(&self, token: &str, filename: &str, bytes: Vec<u8>) -> Value {
        let r = self.upload(token, filename, bytes).await;
        let status = r.status();
        let body: Value = r.json().await.expect("upload json");
        assert_eq!(status, StatusCode::CREATED, "upload {filename}: {body}");
        body
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.workers.cancel();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Asserts the JSON error shape and status; returns the message.
pub async fn expect_error(r: Response, status: StatusCode) -> String {
    let got = r.status();
    let text = r.text().await.expect("body");
    assert_eq!(got, status, "unexpected status; body: {text}");
    let v: Value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("error body is not JSON: {text}"));
    assert!(v["error"]["code"].is_string(), "no error.code in {text}");
    v["error"]["message"]
        .as_str()
        .expect("error.message")
        .to_string()
}

/// Media fixtures generated once per test binary with ffmpeg's lavfi sources.
pub struct Fixtures {
    pub mp4: PathBuf,
    pub png: PathBuf,
    pub wav: PathBuf,
}

pub fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fixtures");
        std::fs::create_dir_all(&dir).expect("fixtures dir");
        let make = |name: &str, args: &[&str]| -> PathBuf {
            let out = dir.join(name);
            if !out.exists() {
                let tmp = dir.join(format!("tmp-{}-{name}", std::process::id()));
                let status = Command::new("ffmpeg")
                    .args(["-hide_banner", "-loglevel", "error", "-y"])
                    .args(args)
                    .arg(&tmp)
                    .status()
                    .expect("ffmpeg must be installed (scripts/install-deps.sh)");
                assert!(status.success(), "ffmpeg failed making {name}");
                std::fs::rename(&tmp, &out).expect("rename fixture");
            }
            out
        };
        Fixtures {
            mp4: make(
                "clip.mp4",
                &[
                    "-f",
                    "lavfi",
                    "-i",
                    "testsrc2=size=320x240:rate=25:duration=1",
                    "-f",
                    "lavfi",
                    "-i",
                    "sine=frequency=440:duration=1",
                    "-c:v",
                    "libx264",
                    "-preset",
                    "ultrafast",
                    "-pix_fmt",
                    "yuv420p",
                    "-c:a",
                    "aac",
                    "-shortest",
                ],
            ),
            png: make(
                "frame.png",
                &["-f", "lavfi", "-i", "testsrc2=size=64x48", "-frames:v", "1"],
            ),
            wav: make(
                "tone.wav",
                &["-f", "lavfi", "-i", "sine=frequency=440:duration=0.5"],
            ),
        }
    })
}

/// A clip long enough that its encode is still running when the test intervenes.
pub fn long_clip() -> PathBuf {
    static CLIP: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    CLIP.get_or_init(make_long_clip).clone()
}

fn make_long_clip() -> PathBuf {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fixtures/long-720p.mp4");
    std::fs::create_dir_all(out.parent().expect("fixture")).expect("fixture");
    if !out.exists() {
        let tmp = out.with_extension(format!("tmp{}.mp4", std::process::id()));
        let ok = Command::new("ffmpeg")
            .args([
                "-hide_banner",
                "-loglevel",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                "testsrc2=size=1280x720:rate=30:duration=40",
                "-f",
                "lavfi",
                "-i",
                "sine=frequency=300:duration=40",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                "aac",
                "-shortest",
            ])
            .arg(&tmp)
            .status()
            .expect("ffmpeg must be installed")
            .success();
        assert!(ok, "ffmpeg failed making the long clip");
        std::fs::rename(&tmp, &out).expect("fixture");
    }
    out
}

/// A 320x240 clip of exactly `frames` frames (25 fps, no sound): too short for a storyboard.
pub fn short_clip(frames: u32) -> PathBuf {
    let out =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("fixtures/frames-{frames}.mp4"));
    std::fs::create_dir_all(out.parent().expect("fixture")).expect("fixture");
    if !out.exists() {
        let tmp = out.with_extension(format!("tmp{}.mp4", std::process::id()));
        let ok = Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi"])
            .args(["-i", "testsrc2=size=320x240:rate=25", "-frames:v"])
            .arg(frames.to_string())
            .args([
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
            ])
            .arg(&tmp)
            .status()
            .expect("ffmpeg must be installed")
            .success();
        assert!(ok, "ffmpeg failed making a {frames}-frame clip");
        std::fs::rename(&tmp, &out).expect("fixture");
    }
    out
}

/// ffprobe's JSON for `url` (a file or an http URL: HLS, DASH, an image), `entries` as for
/// `-show_entries`. Async: the server it reads from runs on the test's own runtime.
pub async fn ffprobe(url: &str, entries: &str) -> Value {
    let out = tokio::process::Command::new("ffprobe")
        .args(["-v", "error", "-of", "json", "-show_entries", entries, url])
        .kill_on_drop(true)
        .output()
        .await
        .expect("ffprobe must be installed");
    assert!(
        out.status.success(),
        "ffprobe {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("ffprobe json")
}

/// Writes `key` and an OCI config file (`DEFAULT` profile, us-ashburn-1) naming it into `dir`;
/// returns the config file's path.
pub fn write_oci_config(
    dir: &Path,
    tenancy: &str,
    user: &str,
    key: &mediaserver_oci::PrivateKey,
) -> PathBuf {
    let key_file = dir.join("oci_api_key.pem");
    std::fs::write(&key_file, key.to_pkcs8_pem().expect("pem")).expect("write key");
    let path = dir.join("oci_config");
    std::fs::write(
        &path,
        format!(
            "[DEFAULT]\nuser={user}\nfingerprint={}\ntenancy={tenancy}\nregion=us-ashburn-1\nkey_file={}\n",
            key.fingerprint(),
            key_file.display()
        ),
    )
    .expect("write config");
    path
}

/// `len` bytes that sniff as MP4: the 1 s fixture padded with a trailing free-space box (MP4
/// readers skip it).
pub fn video(len: usize) -> Vec<u8> {
    let mut v = read(&fixtures().mp4);
    let pad = len.saturating_sub(v.len()).max(8);
    v.extend_from_slice(&(pad as u32).to_be_bytes());
    v.extend_from_slice(b"free");
    v.extend((0..pad - 8).map(|i| (i * 31 % 251) as u8));
    v
}

/// `fixtures/{name}` under the tests' scratch folder, made by ffmpeg from `args` (inputs,
/// filters, codecs; the output path comes last) the first time a test asks for it, and kept for
/// later runs. Tests asking at once wait for one another, and ffmpeg writes a temporary file that
/// is renamed into place, so nobody ever reads half a fixture.
pub fn ffmpeg_fixture(name: &str, args: &[&str]) -> PathBuf {
    static MAKING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("fixtures")
        .join(name);
    let _one_at_a_time = MAKING.lock().unwrap_or_else(|e| e.into_inner());
    if !out.exists() {
        std::fs::create_dir_all(out.parent().expect("fixtures dir")).expect("fixtures dir");
        let ext = out.extension().and_then(|e| e.to_str()).unwrap_or("mp4");
        let tmp = out.with_extension(format!("tmp{}.{ext}", std::process::id()));
        let ok = Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-y"])
            .args(args)
            .arg(&tmp)
            .status()
            .expect("ffmpeg must be installed")
            .success();
        assert!(ok, "ffmpeg failed making the fixture {name}");
        std::fs::rename(&tmp, &out).expect("rename fixture");
    }
    out
}

pub fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).expect("read fixture")
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
