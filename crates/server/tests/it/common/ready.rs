//! The steps the end-to-end tests of each backend share: a server that says it is ready, its
//! first account (the admin) and a user, an upload taken through processing to `ready`, and a
//! multipart-sized upload read back whole and by range.

use super::{fixtures, read, sha256_hex, TestServer, PASSWORD};
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

    /// Registers the first account, which must become the admin, then signs in `email` (a
    /// user); returns the user's access token.
    pub async fn admin_then_user(&self, email: &str) -> String {
        let first: Value = self
            .register("admin@example.com", PASSWORD)
            .await
            .json()
            .await
            .expect("register json");
        assert_eq!(first["role"], "admin", "{first}");
        self.user_token(email).await
    }

    /// Uploads the test clip followed by 12 MiB (more than one 8 MiB part, so the provider's
    /// multipart path) as `big clip.mp4`, checks its SHA-256 and reads it back by range and
    /// whole; returns the item and the bytes.
    pub async fn upload_multipart_and_read_back(&self, token: &str) -> (Value, Vec<u8>) {
        let mut big = read(&fixtures().mp4);
        let head_len = big.len();
        big.extend((0..12 * 1024 * 1024u32).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8));
        let item = self.upload_ok(token, "big clip.mp4", big.clone()).await;
        assert_eq!(item["sha256"], sha256_hex(&big));
        let original = format!("/v1/media/{}/original", item["id"].as_str().expect("id"));
        let r = self
            .get(&original, token)
            .header("range", format!("bytes={head_len}-{}", head_len + 99))
            .send()
            .await
            .expect("range read");
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
        let part = r.bytes().await.expect("range body");
        assert!(
            part[..] == big[head_len..head_len + 100],
            "range bytes differ"
        );
        let whole = self
            .get(&original, token)
            .send()
            .await
            .expect("read")
            .bytes()
            .await
            .expect("body");
        assert_eq!(sha256_hex(&whole), sha256_hex(&big));
        (item, big)
    }
}
