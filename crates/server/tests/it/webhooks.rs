//! Durable webhooks, from outside: the real `mediaserver serve` binary, a receiver that is down
//! when the item becomes ready, the server SIGKILLed and started again, then the receiver comes
//! up and gets the delivery exactly once, signed; the admin endpoints list deliveries with their
//! attempts and redeliver with the same event id.

use crate::common::{self, fixtures, read, PASSWORD};
use axum::http::{HeaderMap, StatusCode};
use reqwest::Client;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SECRET: &str = "hook-secret-value";

struct Serving {
    child: Child,
    url: String,
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `mediaserver serve` on port 0 over `data_dir`, with one worker and webhooks to `hook`,
/// retried every second.
fn serve(data_dir: &Path, hook: &str) -> Serving {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mediaserver"));
    for (k, _) in std::env::vars() {
        if k.starts_with("WEBHOOK_")
            || matches!(
                k.as_str(),
                "DATABASE_URL" | "STORAGE_PROVIDER" | "JWT_SECRET" | "PORT" | "HOST"
            )
        {
            cmd.env_remove(k);
        }
    }
    let mut child = cmd
        .arg("serve")
        .env("DATA_DIR", data_dir)
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .env("WORKERS", "1")
        .env("TRANSCODE_PRESET", "ultrafast")
        .env("ALLOW_REGISTRATION", "true")
        .env("WEBHOOK_URL", hook)
        .env("WEBHOOK_SECRET", SECRET)
        .env("WEBHOOK_RETRY_BACKOFF_SECONDS", "1")
        .env("WEBHOOK_RETRY_BACKOFF_MAX_SECONDS", "1")
        .env("LOG_LEVEL", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            assert!(
                !line.contains(SECRET),
                "the webhook secret was logged: {line}"
            );
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_string());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("server printed its address");
    Serving {
        child,
        url: format!("http://{addr}"),
    }
}

async fn login(c: &Client, url: &str, email: &str) -> String {
    let r = c
        .post(format!("{url}/v1/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn register(c: &Client, url: &str, email: &str) -> String {
    let r = c
        .post(format!("{url}/v1/auth/register"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "register {email}");
    login(c, url, email).await
}

async fn get_json(c: &Client, url: &str, token: &str) -> (StatusCode, Value) {
    let r = c.get(url).bearer_auth(token).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Polls `f` until it returns `Some`, for up to `secs`.
async fn until<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "gave up waiting: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

type Seen = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A receiver on `addr` that records every request and answers 200.
async fn receiver(addr: SocketAddr) -> Seen {
    let seen: Seen = Arc::default();
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(
                |axum::extract::State(seen): axum::extract::State<Seen>,
                 headers: HeaderMap,
                 body: String| async move {
                    seen.lock().unwrap().push((headers, body));
                    StatusCode::NO_CONTENT
                },
            ),
        )
        .with_state(seen.clone());
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_reuseaddr(true).unwrap();
    socket.bind(addr).unwrap();
    let listener = socket.listen(64).unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    seen
}

/// Checks the signature the way a receiver would; returns the event.
fn verified(headers: &HeaderMap, body: &str) -> Value {
    let sig = headers["x-mediaserver-signature"].to_str().unwrap();
    let (t, v1) = sig.split_once(',').unwrap();
    let t = t.strip_prefix("t=").unwrap();
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    assert_eq!(
        v1.strip_prefix("v1=").unwrap(),
        hex::encode(mac.finalize().into_bytes()),
        "bad signature"
    );
    serde_json::from_str(body).unwrap()
}

#[tokio::test]
async fn a_delivery_survives_a_crash_and_arrives_once_when_the_receiver_comes_up() {
    // A port nobody listens on yet: the receiver is down.
    let hook_addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let hook = format!("http://{hook_addr}/hook");
    let dir = tempfile::tempdir().unwrap();
    let c = Client::new();

    let first = serve(dir.path(), &hook);
    let admin = register(&c, &first.url, "admin@example.com").await;
    let part = reqwest::multipart::Part::bytes(read(&fixtures().png)).file_name("frame.png");
    let r = c
        .post(format!("{}/v1/media", first.url))
        .bearer_auth(&admin)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let media_id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    until(120, "item ready", || async {
        let (_, item) = get_json(&c, &format!("{}/v1/media/{media_id}", first.url), &admin).await;
        (item["status"] == "ready").then_some(())
    })
    .await;

    // The delivery is pending, and the failed attempt against the down receiver is recorded.
    let delivery = until(60, "a failed attempt recorded", || async {
        let (status, page) = get_json(
            &c,
            &format!("{}/v1/webhooks/deliveries?status=pending", first.url),
            &admin,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        page["items"]
            .as_array()
            .and_then(|items| items.first().cloned())
            .filter(|d| d["attempts"].as_i64().unwrap_or(0) >= 1)
    })
    .await;
    assert_eq!(delivery["event"], "media.ready", "{delivery}");
    assert_eq!(delivery["media_id"], media_id.as_str(), "{delivery}");
    assert_eq!(delivery["status"], "pending", "{delivery}");
    assert!(delivery["last_error"].is_string(), "{delivery}");
    let delivery_id = delivery["id"].as_str().unwrap().to_string();

    // Crash: no chance to flush anything held in memory.
    drop(first);

    let second = serve(dir.path(), &hook);
    let admin = login(&c, &second.url, "admin@example.com").await;
    let seen = receiver(hook_addr).await;
    let (headers, body) = until(60, "the delivery after the restart", || async {
        seen.lock().unwrap().first().cloned()
    })
    .await;
    let event = verified(&headers, &body);
    assert_eq!(headers["x-mediaserver-event"], "media.ready");
    assert_eq!(event["type"], "media.ready");
    assert_eq!(event["id"], delivery_id.as_str(), "event id = delivery id");
    assert_eq!(event["data"]["id"], media_id.as_str());
    assert_eq!(event["data"]["status"], "ready");

    let one = format!("{}/v1/webhooks/deliveries/{delivery_id}", second.url);
    let detail = until(30, "delivered", || async {
        let (_, d) = get_json(&c, &one, &admin).await;
        (d["status"] == "delivered").then_some(d)
    })
    .await;
    assert_eq!(seen.lock().unwrap().len(), 1, "delivered exactly once");
    let attempts = detail["attempt_log"].as_array().unwrap().clone();
    assert!(attempts.len() >= 2, "{detail}");
    let last = attempts.last().unwrap();
    assert_eq!(last["status_code"], 204, "{detail}");
    assert!(last["duration_ms"].is_u64(), "{detail}");
    assert!(last["attempted_at"].is_string(), "{detail}");
    let refused = &attempts[0];
    assert!(refused["status_code"].is_null(), "{detail}");
    assert!(
        refused["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{detail}"
    );
    assert!(!detail.to_string().contains(SECRET));

    // Listed as delivered, not as pending or failed.
    for (filter, expect) in [("delivered", 1), ("pending", 0), ("failed", 0)] {
        let (status, page) = get_json(
            &c,
            &format!("{}/v1/webhooks/deliveries?status={filter}", second.url),
            &admin,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            page["items"].as_array().unwrap().len(),
            expect,
            "{filter}: {page}"
        );
    }

    // Only admins see or resend deliveries.
    let user = register(&c, &second.url, "user@example.com").await;
    for r in [
        c.get(format!("{}/v1/webhooks/deliveries", second.url))
            .bearer_auth(&user)
            .send()
            .await
            .unwrap(),
        c.get(&one).bearer_auth(&user).send().await.unwrap(),
        c.post(format!("{one}/redeliver"))
            .bearer_auth(&user)
            .send()
            .await
            .unwrap(),
    ] {
        common::expect_error(r, StatusCode::FORBIDDEN).await;
    }
    let r = c
        .get(format!("{}/v1/webhooks/deliveries?status=lost", second.url))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    let message = common::expect_error(r, StatusCode::BAD_REQUEST).await;
    assert!(message.contains("status"), "{message}");
    let r = c
        .post(format!(
            "{}/v1/webhooks/deliveries/{media_id}/redeliver",
            second.url
        ))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    common::expect_error(r, StatusCode::NOT_FOUND).await;

    // Redelivery sends the same event again, with the same id.
    let r = c
        .post(format!("{one}/redeliver"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let (headers, body) = until(30, "the redelivery", || async {
        seen.lock().unwrap().get(1).cloned()
    })
    .await;
    let again = verified(&headers, &body);
    assert_eq!(again["id"], delivery_id.as_str());
    assert_eq!(again["data"], event["data"]);
    let detail = until(30, "redelivered", || async {
        let (_, d) = get_json(&c, &one, &admin).await;
        (d["status"] == "delivered" && d["attempts"].as_u64() == Some(attempts.len() as u64 + 1))
            .then_some(d)
    })
    .await;
    assert_eq!(seen.lock().unwrap().len(), 2, "{detail}");
}
