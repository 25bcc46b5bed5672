//! The `mediaserver` binary itself: help texts, configuration errors, migrate, user creation, and
//! `serve` starting on port 0 and stopping gracefully on SIGTERM.

use crate::common;

use common::PASSWORD;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mediaserver"));
    // Start from a clean slate: only what each test sets.
    for (k, _) in std::env::vars() {
        if matches!(
            k.as_str(),
            "PORT"
                | "HOST"
                | "DATA_DIR"
                | "DATABASE_URL"
                | "STORAGE_PROVIDER"
                | "JWT_SECRET"
                | "MAX_UPLOAD_BYTES"
                | "ALLOW_REGISTRATION"
        ) {
            c.env_remove(k);
        }
    }
    c
}

#[test]
fn every_subcommand_has_help() {
    for (args, expect) in [
        (vec!["--help"], "serve"),
        (vec!["serve", "--help"], "SIGTERM"),
        (vec!["migrate", "--help"], "migrations"),
        (vec!["reconcile", "--help"], "--dry-run"),
        (vec!["user", "--help"], "create"),
        (vec!["user", "create", "--help"], "--admin"),
    ] {
        let out = bin().args(&args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(expect), "{args:?}: {text}");
    }
}

#[test]
fn bad_configuration_names_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    for (var, value, expect) in [
        ("PORT", "eighty", "PORT"),
        ("STORAGE_PROVIDER", "floppy", "STORAGE_PROVIDER"),
        ("DATABASE_URL", "postgres://u@127.0.0.1:1/db", "JWT_SECRET"),
        ("MAX_UPLOAD_BYTES", "-5", "MAX_UPLOAD_BYTES"),
    ] {
        let out = bin()
            .arg("serve")
            .env("DATA_DIR", dir.path())
            .env(var, value)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{var}={value}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{var}={value}: {err}");
    }
}

#[test]
fn secrets_do_not_appear_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .arg("migrate")
        .env("DATA_DIR", dir.path())
        .env(
            "DATABASE_URL",
            "postgres://admin:hunter2-very-secret@127.0.0.1:1/db",
        )
        .env("JWT_SECRET", "jwt-secret-value-that-is-long-enough-000")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("hunter2"), "{all}");
    assert!(!all.contains("jwt-secret-value"), "{all}");
    assert!(all.contains("PostgreSQL"), "{all}");
}

struct Running {
    child: Child,
    url: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(dir: &std::path::Path) -> Running {
    let mut child = bin()
        .arg("serve")
        .env("DATA_DIR", dir)
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .env("LOG_LEVEL", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_string());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("server printed its address");
    Running {
        child,
        url: format!("http://{addr}"),
    }
}

/// Bound to all addresses, the start-up log gives a URL a browser can open, says where the API
/// docs are and, while no account exists, that the first one becomes admin.
#[tokio::test]
async fn startup_log_says_where_the_ui_and_docs_are() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = bin()
        .arg("serve")
        .env("DATA_DIR", dir.path())
        .env("HOST", "0.0.0.0")
        .env("PORT", "0")
        .env("WORKERS", "0")
        .env("LOG_LEVEL", "info")
        .env("NO_COLOR", "1")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut log = String::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !(log.contains("becomes the admin") && log.contains("/docs")) && Instant::now() < deadline
    {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            log.push_str(&line);
            log.push('\n');
        }
    }
    let port = log
        .split("listening on http://0.0.0.0:")
        .nth(1)
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .map(str::to_string);
    let running = Running {
        child,
        url: String::new(),
    };
    let port = port.unwrap_or_else(|| panic!("no address in: {log}"));
    assert!(
        log.contains(&format!("web UI: http://localhost:{port}/")),
        "{log}"
    );
    assert!(
        log.contains(&format!("http://localhost:{port}/docs")),
        "{log}"
    );
    assert!(log.contains("first account"), "{log}");
    assert!(log.contains("becomes the admin"), "{log}");
    drop(running);
}

fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "server did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn serve_with_embedded_defaults_then_stop_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    // An admin created from the command line before the server ever ran.
    let out = bin()
        .args(["user", "create", "--email", "Root@Example.com", "--admin"])
        .env("DATA_DIR", dir.path())
        .env("MEDIASERVER_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created admin user root@example.com"));
    let out = bin()
        .args(["migrate"])
        .env("DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());

    let mut server = serve(dir.path());
    let client = reqwest::Client::new();
    let health = client
        .get(format!("{}/healthz", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let login: serde_json::Value = client
        .post(format!("{}/v1/auth/login", server.url))
        .json(&serde_json::json!({"email": "root@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap().to_string();
    assert!(dir.path().join("mediaserver.db").exists());
    assert!(dir.path().join("jwt-secret").exists());

    sigterm(&server.child);
    let status = wait_exit(&mut server.child);
    assert!(status.success(), "exit status {status:?}");
    drop(server);

    // A restart keeps the generated secret, so the token still works.
    let server = serve(dir.path());
    let me = client
        .get(format!("{}/v1/auth/me", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
}
