//! `mediaserver upload` (the real binary) against a real server: ids printed per file,
//! resuming after the CLI is SIGKILLed mid-file, riding out a server restart, `--wait` printing
//! playback URLs that play, and clear errors (no/bad token, unreachable server, not media, too
//! large).

use crate::common;

use common::*;
use reqwest::StatusCode;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

/// The CLI with none of the caller's MEDIASERVER_* settings.
fn cli(server: &str, token: Option<&str>, state: Option<&Path>) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_mediaserver"));
    for var in [
        "MEDIASERVER_TOKEN",
        "MEDIASERVER_URL",
        "MEDIASERVER_UPLOAD_STATE",
    ] {
        c.env_remove(var);
    }
    c.args(["upload", "--server", server])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(t) = token {
        c.env("MEDIASERVER_TOKEN", t);
    }
    if let Some(p) = state {
        c.arg("--state-file").arg(p);
    }
    c
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A long-lived API key for a new account: what users are told to upload with.
async fn api_key(s: &TestServer, email: &str) -> String {
    let token = s.user_token(email).await;
    let r = s
        .client
        .post(s.url("/v1/api-keys"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    v["key"].as_str().unwrap().to_string()
}

/// A video of about `len` bytes (the 1 s fixture padded with a `free` box, which MP4 readers
/// skip), written to `dir`.
fn video_file(dir: &Path, name: &str, len: usize) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, video(len)).unwrap();
    p
}

fn copy_fixture(from: &Path, dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::copy(from, &p).unwrap();
    p
}

/// `FILE<TAB>ID` lines → (file, id).
fn ids(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .filter(|l| !l.starts_with(' '))
        .map(|l| {
            let mut f = l.split('\t');
            (
                f.next().unwrap().to_string(),
                f.next().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

async fn item(s: &TestServer, token: &str, id: &str) -> Value {
    let r = s
        .get(&format!("/v1/media/{id}"), token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "item {id}");
    r.json().await.unwrap()
}

async fn original_sha256(s: &TestServer, token: &str, id: &str) -> String {
    let bytes = s
        .get(&format!("/v1/media/{id}/original"), token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    sha256_hex(&bytes)
}

/// The upload URLs the resume file holds.
fn recorded_uploads(state: &Path) -> Vec<String> {
    let Ok(bytes) = std::fs::read(state) else {
        return Vec::new();
    };
    let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    v["uploads"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["upload_url"].as_str().map(str::to_string))
        .collect()
}

async fn head_offset(s: &TestServer, url: &str, token: &str) -> Option<u64> {
    let r = s
        .client
        .head(url)
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .ok()?;
    r.headers()
        .get("upload-offset")?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// Waits until the CLI has recorded its upload and the server holds more than `min` bytes of
/// it; returns the upload URL.
async fn wait_for_progress(s: &TestServer, state: &Path, token: &str, min: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(
            Instant::now() < deadline,
            "the upload never got past {min} bytes"
        );
        if let Some(url) = recorded_uploads(state).pop() {
            if head_offset(s, &url, token).await.unwrap_or(0) > min {
                return url;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every upload the server knows of (any state): none expires within a year.
async fn server_uploads(s: &TestServer) -> usize {
    let far = chrono::Utc::now() + chrono::Duration::days(365);
    s.state.repo.expired_uploads(far, 1000).await.unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_files_and_prints_an_id_per_file() {
    let s = TestServer::start().await;
    let key = api_key(&s, "me@example.com").await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state/uploads.json");
    let png = copy_fixture(&fixtures().png, dir.path(), "frame.png");
    let mp4 = video_file(dir.path(), "holiday clip.mp4", 3 * 1024 * 1024 + 123);

    let out = cli(&s.url, Some(&key), Some(&state))
        .args(["--chunk-size", "1M"])
        .arg(&png)
        .arg(&mp4)
        .output()
        .await
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let lines = ids(&stdout);
    assert_eq!(lines.len(), 2, "{stdout}");
    for ((file, id), source) in lines.iter().zip([&png, &mp4]) {
        assert_eq!(file, &source.display().to_string());
        let it = item(&s, &key, id).await;
        let bytes = std::fs::read(source).unwrap();
        assert_eq!(it["sha256"], sha256_hex(&bytes), "{it}");
        assert_eq!(it["size"], bytes.len());
        assert_eq!(
            it["filename"].as_str().unwrap(),
            source.file_name().unwrap().to_str().unwrap()
        );
        assert_eq!(original_sha256(&s, &key, id).await, sha256_hex(&bytes));
    }
    assert_eq!(item(&s, &key, &lines[1].1).await["kind"], "video");
    // Not a terminal: plain progress lines on stderr, nothing left to resume.
    assert!(stderr.contains("holiday clip.mp4: uploaded"), "{stderr}");
    assert!(recorded_uploads(&state).is_empty());

    // --json: one object per file; the token may also come from --token.
    let out = cli(&s.url, None, Some(&state))
        .args(["--json", "--quiet", "--token", &key, "--title", "Framed"])
        .arg(&png)
        .output()
        .await
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "--quiet: {stderr}");
    let v: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["file"], png.display().to_string());
    let id = v["media_id"].as_str().unwrap();
    assert_eq!(item(&s, &key, id).await["title"], "Framed");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumes_after_the_cli_is_killed_mid_file() {
    let s = TestServer::start().await;
    let key = api_key(&s, "me@example.com").await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("uploads.json");
    let len = 16 * 1024 * 1024;
    let file = video_file(dir.path(), "long.mp4", len);
    let source = std::fs::read(&file).unwrap();

    // 512 KiB chunks at 2 MiB/s: about 8 s for the whole file; killed after a few chunks.
    let mut child = cli(&s.url, Some(&key), Some(&state))
        .args(["--chunk-size", "512K", "--limit-rate", "2M"])
        .arg(&file)
        .spawn()
        .unwrap();
    let url = wait_for_progress(&s, &state, &key, 1024 * 1024).await;
    child.start_kill().unwrap();
    let killed = child.wait_with_output().await.unwrap();
    assert_eq!(killed.status.code(), None, "SIGKILLed");
    let at = head_offset(&s, &url, &key).await.unwrap();
    assert!(at > 0 && at < source.len() as u64, "offset {at}");
    assert_eq!(recorded_uploads(&state), vec![url.clone()]);

    // Same command again (without the rate limit): continues from the server's offset.
    let out = cli(&s.url, Some(&key), Some(&state))
        .args(["--chunk-size", "512K"])
        .arg(&file)
        .output()
        .await
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!("resuming at {at} bytes")),
        "{stderr}"
    );
    let lines = ids(&stdout);
    assert_eq!(lines.len(), 1, "{stdout}");
    let id = &lines[0].1;
    // The upload that was interrupted is the one that completed (its id is the item's), and
    // the server never saw a second one.
    assert!(url.ends_with(&format!("/v1/uploads/{id}")), "{url} vs {id}");
    assert_eq!(server_uploads(&s).await, 1);
    assert_eq!(original_sha256(&s, &key, id).await, sha256_hex(&source));
    assert_eq!(item(&s, &key, id).await["sha256"], sha256_hex(&source));
    assert!(recorded_uploads(&state).is_empty());

    // The entry is gone once complete: the same file again is a new item.
    let out = cli(&s.url, Some(&key), Some(&state))
        .arg("--quiet")
        .arg(&file)
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_ne!(&ids(&text(&out).0)[0].1, id);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rides_out_a_server_restart() {
    let s = TestServer::start().await;
    let key = api_key(&s, "me@example.com").await;
    let port = s.url.rsplit(':').next().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("uploads.json");
    let file = video_file(dir.path(), "v.mp4", 8 * 1024 * 1024);
    let source = std::fs::read(&file).unwrap();

    let child = cli(&s.url, Some(&key), Some(&state))
        .args(["--chunk-size", "256K", "--limit-rate", "2M"])
        .arg(&file)
        .spawn()
        .unwrap();
    let url = wait_for_progress(&s, &state, &key, 512 * 1024).await;
    // Down for a moment, back on the same address with the same data.
    let data = s.stop().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let s = TestServer::start_in(data, &[("PORT", port.as_str())]).await;

    let out = tokio::time::timeout(Duration::from_secs(90), child.wait_with_output())
        .await
        .expect("the CLI finished")
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains("retrying in"), "{stderr}");
    let id = &ids(&stdout)[0].1;
    assert!(url.ends_with(id.as_str()), "{url} vs {id}");
    assert_eq!(original_sha256(&s, &key, id).await, sha256_hex(&source));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_prints_playback_urls_once_ready() {
    let s = TestServer::start_with(&[("WORKERS", "1"), ("TRANSCODE_PRESET", "ultrafast")]).await;
    let key = api_key(&s, "me@example.com").await;
    let dir = tempfile::tempdir().unwrap();
    let png = copy_fixture(&fixtures().png, dir.path(), "frame.png");
    let mp4 = copy_fixture(&fixtures().mp4, dir.path(), "clip.mp4");

    // The resume file's location may also come from the environment.
    let mut cmd = cli(&s.url, Some(&key), None);
    cmd.env("MEDIASERVER_UPLOAD_STATE", dir.path().join("env.json"));
    let out = tokio::time::timeout(
        Duration::from_secs(180),
        cmd.arg("--wait").arg(&png).arg(&mp4).output(),
    )
    .await
    .expect("--wait returned")
    .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");

    // FILE<TAB>ID<TAB>ready, then indented LABEL<TAB>URL lines.
    let mut urls: Vec<(String, String, String)> = Vec::new();
    let mut current = String::new();
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix("  ") {
            let (label, url) = rest.split_once('\t').unwrap();
            urls.push((current.clone(), label.to_string(), url.to_string()));
        } else {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 3, "{line}");
            assert_eq!(f[2], "ready", "{line}");
            current = f[0].to_string();
        }
    }
    let find = |file: &Path, label: &str| -> String {
        urls.iter()
            .find(|(f, l, _)| f == &file.display().to_string() && l == label)
            .unwrap_or_else(|| panic!("no {label} for {}: {stdout}", file.display()))
            .2
            .clone()
    };
    let get = |url: String, auth: bool| {
        let mut r = s.client.get(url);
        if auth {
            r = r.bearer_auth(&key);
        }
        async move {
            let r = r.send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.text().await.unwrap()
        }
    };
    // Uploads are private: the URLs printed are the signed ones, which play without a header
    // (a player sends none); the plain ones are listed as needing a token, and do.
    let hls = find(&mp4, "hls");
    assert!(hls.starts_with(&s.url) && hls.ends_with("/hls/master.m3u8"));
    assert!(hls.contains("/v1/play/"), "{hls}");
    assert!(get(hls, false).await.starts_with("#EXTM3U"));
    assert!(get(find(&mp4, "dash"), false).await.contains("<MPD"));
    let plain = find(&mp4, "hls (needs a bearer token)");
    assert!(plain.contains("/v1/media/"), "{plain}");
    let r = s.client.get(&plain).send().await.unwrap();
    assert!(r.status().is_client_error(), "{plain}: {}", r.status());
    assert!(get(plain, true).await.starts_with("#EXTM3U"));
    for label in ["large.webp", "thumbnail"] {
        let url = find(&png, label);
        let r = s.client.get(&url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{label} {url}");
    }
    assert!(dir.path().join("env.json").exists());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_clear_and_set_the_exit_code() {
    let s = TestServer::start_with(&[("MAX_UPLOAD_BYTES", "2000000")]).await;
    let key = api_key(&s, "me@example.com").await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("uploads.json");
    let png = copy_fixture(&fixtures().png, dir.path(), "frame.png");

    // No token at all: a configuration error, before any request.
    let out = cli(&s.url, None, Some(&state))
        .arg(&png)
        .output()
        .await
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--token") && stderr.contains("MEDIASERVER_TOKEN"),
        "{stderr}"
    );

    // A token the server refuses: says what to do, never echoes the token.
    let bogus = "msk_this-is-not-a-real-key-4f9a2c";
    let out = cli(&s.url, Some(bogus), Some(&state))
        .arg(&png)
        .output()
        .await
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("401"), "{stderr}");
    assert!(stderr.contains("MEDIASERVER_TOKEN"), "{stderr}");
    assert!(stderr.contains("/v1/api-keys"), "{stderr}");
    assert!(!stdout.contains(bogus) && !stderr.contains(bogus));

    // Nobody listening.
    let out = cli("http://127.0.0.1:1", Some(&key), Some(&state))
        .arg(&png)
        .output()
        .await
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot reach the server at http://127.0.0.1:1"),
        "{stderr}"
    );
    assert!(!stderr.contains(&key));

    // Not media, too large, missing: each named; the good file still goes up.
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "just some text, clearly not a video ".repeat(200)).unwrap();
    let big = video_file(dir.path(), "big.mp4", 3_000_000);
    let out = cli(&s.url, Some(&key), Some(&state))
        .arg("--json")
        .arg(&notes)
        .arg(&big)
        .arg(dir.path().join("missing.mp4"))
        .arg(&png)
        .output()
        .await
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let rows: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 4, "{stdout}");
    let err = |i: usize| rows[i]["error"].as_str().unwrap_or_default().to_string();
    assert!(err(0).contains("not accepted as media"), "{}", err(0));
    assert!(
        err(0).contains("not an image, video or audio"),
        "{}",
        err(0)
    );
    assert!(
        err(1).contains("2000000 bytes") && err(1).contains("MAX_UPLOAD_BYTES"),
        "{}",
        err(1)
    );
    assert!(err(2).contains("No such file"), "{}", err(2));
    assert!(rows[3]["media_id"].is_string(), "{stdout}");
    assert!(stderr.contains("notes.txt"), "{stderr}");
    // Nothing left to resume: the refused upload was discarded by the server.
    assert!(recorded_uploads(&state).is_empty());
    s.stop().await;
}

#[tokio::test]
async fn help_has_examples_and_exit_codes() {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_mediaserver"))
        .args(["upload", "--help"])
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for expect in [
        "Examples:",
        "mediaserver upload --server",
        "MEDIASERVER_TOKEN",
        "--wait",
        "--chunk-size",
        "--limit-rate",
        "Exit codes",
    ] {
        assert!(help.contains(expect), "{expect}: {help}");
    }
    // Usage errors are clap's: exit code 2.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_mediaserver"))
        .args(["upload", "--server", "not a url", "x.mp4"])
        .env("MEDIASERVER_TOKEN", "t")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--server"));
}
