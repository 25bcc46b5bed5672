//! Proves the S3 provider's requests are acceptable to OCI's S3 compatibility API: a reverse
//! proxy in front of the real S3 server (moto) rejects, as OCI does, aws-chunked/streaming
//! payloads and multi-object deletes without Content-MD5 or an x-amz-checksum header.

// A panic is how a test reports failure; the workspace's unwrap/expect lints are for code that ships.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use common::*;
use futures::StreamExt;
use mediaserver_storage::{ObjectKey, MIN_S3_PART_SIZE};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    query: String,
    content_sha256: Option<String>,
    transfer_encoding: Option<String>,
    rejected: Option<&'static str>,
}

struct Proxy {
    upstream: String,
    client: reqwest::Client,
    seen: Mutex<Vec<Seen>>,
}

fn header(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// OCI's rules, as far as this test is concerned.
fn oci_rejects(method: &str, query: &str, h: &HeaderMap) -> Option<&'static str> {
    if header(h, "content-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("aws-chunked"))
    {
        return Some("Content-Encoding: aws-chunked");
    }
    if header(h, "x-amz-content-sha256").is_some_and(|v| v.starts_with("STREAMING-")) {
        return Some("streaming payload signature");
    }
    let is_delete = query
        .split('&')
        .any(|p| p == "delete" || p.starts_with("delete="));
    let has_checksum = [
        "content-md5",
        "x-amz-checksum-sha256",
        "x-amz-checksum-crc32c",
    ]
    .iter()
    .any(|n| h.contains_key(*n));
    if method == "POST" && is_delete && !has_checksum {
        return Some("multi-object delete without Content-MD5 or checksum");
    }
    None
}

async fn forward(State(p): State<Arc<Proxy>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let method = parts.method.to_string();
    let query = parts.uri.query().unwrap_or("").to_string();
    let rejected = oci_rejects(&method, &query, &parts.headers);
    p.seen.lock().expect("lock").push(Seen {
        method: method.clone(),
        query: query.clone(),
        content_sha256: header(&parts.headers, "x-amz-content-sha256"),
        transfer_encoding: header(&parts.headers, "transfer-encoding"),
        rejected,
    });
    if let Some(why) = rejected {
        return Response::builder()
            .status(StatusCode::BAD_REQUEST)
            .body(Body::from(why))
            .expect("response");
    }
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .expect("request body");
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/");
    let mut out = p
        .client
        .request(
            parts.method.clone(),
            format!("{}{path_and_query}", p.upstream),
        )
        .body(body);
    for (name, value) in &parts.headers {
        if !matches!(
            name.as_str(),
            "host" | "content-length" | "transfer-encoding" | "connection"
        ) {
            out = out.header(name, value);
        }
    }
    let resp = out.send().await.expect("upstream");
    let mut builder = Response::builder().status(resp.status());
    for (name, value) in resp.headers() {
        if !matches!(name.as_str(), "transfer-encoding" | "connection") {
            builder = builder.header(name, value);
        }
    }
    let bytes = resp.bytes().await.expect("upstream body");
    builder.body(Body::from(bytes)).expect("response")
}

async fn start_proxy(upstream: String) -> (String, Arc<Proxy>) {
    let proxy = Arc::new(Proxy {
        upstream,
        client: reqwest::Client::new(),
        seen: Mutex::new(Vec::new()),
    });
    let app = axum::Router::new()
        .fallback(forward)
        .with_state(proxy.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), proxy)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_rejects_what_oci_rejects() {
    // The proxy itself must bite, or the real test below proves nothing.
    let (url, proxy) = start_proxy(s3_endpoint()).await;
    let client = reqwest::Client::new();
    let chunked = client
        .put(format!("{url}/b/k"))
        .header("content-encoding", "aws-chunked")
        .body("x")
        .send()
        .await
        .expect("send");
    assert_eq!(chunked.status(), 400);
    let streaming = client
        .put(format!("{url}/b/k"))
        .header("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
        .body("x")
        .send()
        .await
        .expect("send");
    assert_eq!(streaming.status(), 400);
    let delete = client
        .post(format!("{url}/b?delete"))
        .body("<Delete/>")
        .send()
        .await
        .expect("send");
    assert_eq!(delete.status(), 400);
    assert_eq!(
        proxy
            .seen
            .lock()
            .expect("lock")
            .iter()
            .filter(|s| s.rejected.is_some())
            .count(),
        3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_provider_passes_oci_rules() {
    let upstream = s3_endpoint();
    let bucket = unique_bucket();
    create_bucket(&upstream, &bucket).await;
    let (url, proxy) = start_proxy(upstream).await;
    let s = mediaserver_storage::s3(s3_options(&url, &bucket, MIN_S3_PART_SIZE)).expect("s3");
    let key = |k: &str| ObjectKey::new(k).expect("key");

    let small = random_bytes(10_000, 7);
    s.put_bytes(&key("oci/small.bin"), small.clone())
        .await
        .expect("small put");
    let big = random_bytes(2 * MIN_S3_PART_SIZE + 4321, 8);
    let put = s
        .put_stream(&key("oci/big.bin"), chunked(big.clone(), 100_000).boxed())
        .await
        .expect("multipart put");
    assert_eq!(put.size, big.len() as u64);

    assert_eq!(
        s.read_at(&key("oci/small.bin"), 0..u64::MAX)
            .await
            .expect("get small"),
        small
    );
    let (_, stream) = s.get_stream(&key("oci/big.bin")).await.expect("get big");
    assert_eq!(hash_stream(stream).await.1, sha256(&big));
    for i in 0..5 {
        s.put_bytes(&key(&format!("oci/more/{i}")), Bytes::from_static(b"x"))
            .await
            .expect("put");
    }
    assert_eq!(s.delete_prefix("oci").await.expect("delete_prefix"), 7);
    assert!(s.list("oci").await.expect("list").is_empty());

    let seen = proxy.seen.lock().expect("lock").clone();
    let rejected: Vec<_> = seen.iter().filter(|r| r.rejected.is_some()).collect();
    assert!(rejected.is_empty(), "OCI would reject: {rejected:?}");
    // Make sure the interesting requests really went through the proxy.
    let parts: Vec<_> = seen
        .iter()
        .filter(|r| r.method == "PUT" && r.query.contains("partNumber="))
        .collect();
    assert_eq!(parts.len(), 3, "expected 3 UploadPart requests: {seen:?}");
    assert!(seen.iter().any(|r| r.method == "POST"
        && r.query
            .split('&')
            .any(|q| q == "delete" || q.starts_with("delete="))));
    for r in seen.iter().filter(|r| r.method == "PUT") {
        let sha = r.content_sha256.as_deref().unwrap_or("");
        assert!(
            sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
            "PUT not signed with a payload hash: {r:?}"
        );
        assert!(
            r.transfer_encoding.is_none(),
            "PUT sent with Transfer-Encoding: {r:?}"
        );
    }
}
