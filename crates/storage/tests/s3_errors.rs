//! S3 failure modes: unreachable endpoints, server errors and missing buckets must surface as
//! `Unavailable` (the HTTP layer answers 503), quickly and without leaking credentials.

// A panic is how a test reports failure; the workspace's unwrap/expect lints are for code that ships.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bytes::Bytes;
use common::*;
use mediaserver_storage::{ObjectKey, StorageError, MIN_S3_PART_SIZE};
use std::time::{Duration, Instant};

fn key(k: &str) -> ObjectKey {
    ObjectKey::new(k).expect("valid key")
}

/// Every text an error shows: its own, each cause's, and their debug forms.
fn everything(e: &(dyn std::error::Error + 'static)) -> String {
    let mut all = String::new();
    let mut next = Some(e);
    while let Some(c) = next {
        all.push_str(&format!(" {c} {c:?}"));
        next = c.source();
    }
    all
}

fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

#[tokio::test]
async fn s3_unreachable_endpoint_is_unavailable() {
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let opts = mediaserver_storage::S3Options {
        max_retries: 1,
        retry_timeout: Duration::from_secs(2),
        ..s3_options(&endpoint, "bucket", MIN_S3_PART_SIZE)
    };
    let s = mediaserver_storage::s3(opts).expect("s3");
    let started = Instant::now();
    for r in [
        s.head(&key("k")).await.map(|_| ()),
        s.check().await,
        s.put_bytes(&key("k"), Bytes::from_static(b"x"))
            .await
            .map(|_| ()),
        s.list("p").await.map(|_| ()),
    ] {
        match r {
            Err(StorageError::Unavailable {
                message: msg,
                source,
            }) => {
                assert!(
                    !msg.contains("testing-secret-key") && !msg.contains("testing-key-id"),
                    "{msg}"
                );
                // Nor anything a log could print: the causes and their debug forms.
                let cause = source.expect("the transport error is kept as the cause");
                let all = everything(&*cause);
                assert!(
                    !all.contains("testing-secret-key") && !all.contains("testing-key-id"),
                    "{all}"
                );
            }
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn s3_server_errors_are_unavailable() {
    // A server that answers every request with 503 after the retries run out.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new()
        .fallback(|| async { (axum::http::StatusCode::SERVICE_UNAVAILABLE, "slow down") });
    tokio::spawn(async move { axum::serve(listener, app).await });
    let opts = mediaserver_storage::S3Options {
        max_retries: 1,
        retry_timeout: Duration::from_secs(2),
        ..s3_options(&format!("http://{addr}"), "bucket", MIN_S3_PART_SIZE)
    };
    let s = mediaserver_storage::s3(opts).expect("s3");
    let r = s.read_at(&key("k"), 0..10).await;
    assert!(matches!(r, Err(StorageError::Unavailable { .. })), "{r:?}");
    let r = s.check().await;
    assert!(matches!(r, Err(StorageError::Unavailable { .. })), "{r:?}");
}

#[tokio::test]
async fn s3_missing_bucket_fails_check() {
    let s = mediaserver_storage::s3(s3_options(
        &s3_endpoint(),
        &unique_bucket(),
        MIN_S3_PART_SIZE,
    ))
    .expect("s3");
    let r = s.check().await;
    assert!(matches!(r, Err(StorageError::Unavailable { .. })), "{r:?}");
}
