//! What a newcomer meets at the terminal: `upload` finds a local server by itself, the logs are
//! plain text unless a person watches them on a terminal (or JSON for a log shipper), and
//! `transcode` shows a progress bar on a terminal and nothing but the summary otherwise.

use crate::common;

use common::*;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binary with none of the caller's settings that these tests care about.
fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mediaserver"));
    for var in [
        "PORT",
        "HOST",
        "DATA_DIR",
        "DATABASE_URL",
        "STORAGE_PROVIDER",
        "JWT_SECRET",
        "LOG_LEVEL",
        "LOG_FORMAT",
        "NO_COLOR",
        "MEDIASERVER_URL",
        "MEDIASERVER_TOKEN",
    ] {
        c.env_remove(var);
    }
    c
}

/// `cmd` (a shell command line) run under a pseudo-terminal with `script`, as a person at a
/// terminal would run it: what the terminal showed.
fn on_a_terminal(cmd: &str, env: &[(&str, &str)]) -> String {
    let mut c = Command::new("script");
    c.args(["-qec", cmd, "/dev/null"])
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("script (util-linux) is installed");
    assert!(
        out.status.success(),
        "{cmd}: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn quoted(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', r"'\''"))
}

/// `serve` on port 0 until its start-up lines are out; what it logged (stderr, piped).
fn startup_log(dir: &Path, env: &[(&str, &str)]) -> String {
    let mut cmd = bin();
    cmd.arg("serve")
        .env("DATA_DIR", dir)
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .env("WORKERS", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    struct Kill(Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _child = Kill(child);
    let mut log = String::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !log.contains("becomes the admin") && Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            log.push_str(&line);
            log.push('\n');
        }
    }
    assert!(
        log.contains("becomes the admin"),
        "no start-up lines: {log}"
    );
    log
}

/// A log file or journald gets no colour codes; LOG_FORMAT=json gives one JSON object a line.
#[test]
fn logs_are_plain_text_off_a_terminal_and_json_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let log = startup_log(dir.path(), &[("LOG_LEVEL", "info")]);
    assert!(!log.contains('\x1b'), "ANSI codes in a piped log: {log:?}");
    assert!(log.contains("web UI: http://127.0.0.1:"), "{log}");

    let log = startup_log(dir.path(), &[("LOG_LEVEL", "info"), ("LOG_FORMAT", "json")]);
    let mut messages = Vec::new();
    for line in log.lines() {
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(v["level"].is_string() && v["timestamp"].is_string(), "{v}");
        messages.push(v["fields"]["message"].as_str().unwrap_or("").to_string());
    }
    assert!(
        messages.iter().any(|m| m.starts_with("web UI: http://")),
        "{messages:?}"
    );
    assert!(!log.contains('\x1b'), "{log:?}");

    let out = bin().args(["--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("LOG_FORMAT=json"), "{help}");
}

/// On a terminal the same log is coloured (the one place colour helps).
#[test]
fn logs_are_coloured_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    // `migrate` logs nothing at info; at debug sqlx's migration lines appear.
    let cmd = format!(
        "{} migrate",
        quoted(Path::new(env!("CARGO_BIN_EXE_mediaserver")))
    );
    let shown = on_a_terminal(
        &cmd,
        &[
            ("DATA_DIR", &dir.path().display().to_string()),
            ("LOG_LEVEL", "debug"),
        ],
    );
    assert!(shown.contains("migrations applied"), "{shown}");
    assert!(
        shown.contains("\x1b["),
        "no colour on a terminal: {shown:?}"
    );
}

/// `transcode` writes only its JSON summary when stderr is not a terminal (a job's log stays
/// clean), and a progress bar when it is.
#[test]
fn transcode_shows_progress_only_on_a_terminal() {
    let clip = short_clip(100);
    let dir = tempfile::tempdir().unwrap();

    let out = bin()
        .arg("transcode")
        .arg(&clip)
        .arg(dir.path().join("piped"))
        .args(["--preset", "ultrafast"])
        .env("DATA_DIR", dir.path())
        .env("LOG_LEVEL", "warn")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let summary: Value = serde_json::from_slice(&out.stdout).expect("stdout is the summary");
    assert_eq!(summary["kind"], "video", "{summary}");
    assert!(
        !stderr.contains('\r') && !stderr.contains('\x1b') && !stderr.contains('%'),
        "progress drawn off a terminal: {stderr:?}"
    );

    let cmd = format!(
        "{} transcode {} {} --preset ultrafast",
        quoted(Path::new(env!("CARGO_BIN_EXE_mediaserver"))),
        quoted(&clip),
        quoted(&dir.path().join("tty")),
    );
    let shown = on_a_terminal(
        &cmd,
        &[
            ("DATA_DIR", &dir.path().display().to_string()),
            ("LOG_LEVEL", "warn"),
        ],
    );
    assert!(shown.contains("transcoding video"), "{shown:?}");
    assert!(shown.contains('%'), "{shown:?}");
    assert!(dir.path().join("tty/transcode.json").exists());
}

/// Without `--server` (or MEDIASERVER_URL) `upload` talks to http://localhost:3000, where
/// `mediaserver serve` listens by default.
#[test]
fn upload_defaults_to_the_local_server() {
    let out = bin().args(["upload", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("[default: http://localhost:3000]"), "{help}");
    // No --server: not a usage error about it; the command goes on to the next thing it needs.
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("frame.png");
    std::fs::copy(&fixtures().png, &png).unwrap();
    let out = bin()
        .arg("upload")
        .arg(&png)
        .arg("--state-file")
        .arg(dir.path().join("state.json"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("--server"), "{stderr}");
    assert!(stderr.contains("MEDIASERVER_TOKEN"), "{stderr}");
}
