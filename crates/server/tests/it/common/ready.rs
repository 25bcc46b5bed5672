//! The steps most end-to-end tests start with: a server on some backend that says it is ready,
//! and an upload taken through processing to `ready`.

use super::TestServer;
use reqwest::StatusCode;
use serde_json::Value;

/// A server started with `env` (as [`TestServer::start_with`]) whose `/readyz` answers 200: its
/// database and storage are reachable.
pub async fn start_ready(env: &[(&str, &str)]) -> TestServer {
    let s = TestServer::start_with(env).await;
    let r = s
        .client
        .get(s.url("/readyz"))
        .send()
        .await
        .expect("/readyz");
    let status = r.status();
    assert_eq!(
        status,
        StatusCode::OK,
        "/readyz: {}",
        r.text().await.unwrap_or_default()
    );
    s
}

impl TestServer {
    /// Uploads `bytes` as `filename` (201), waits up to `secs` for its processing to end and
    /// returns the item, which must be ready.
    pub async fn upload_ready(
        &self,
        token: &str,
        filename: &str,
        bytes: Vec<u8>,
        secs: u64,
    ) -> Value {
        let item = self.upload_ok(token, filename, bytes).await;
        let id = item["id"].as_str().expect("item id");
        let done = self.wait_done(token, id, secs).await;
        assert_eq!(done["status"], "ready", "{filename}: {done}");
        done
    }
}
