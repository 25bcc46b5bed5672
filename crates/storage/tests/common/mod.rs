//! Helpers shared by the storage integration tests.
#![allow(dead_code)]

use bytes::Bytes;
use futures::{Stream, StreamExt};
use mediaserver_storage::{ByteStream, S3Options, Storage};
use rand::{RngCore, SeedableRng};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;

pub const ENDPOINT_VAR: &str = "MEDIASERVER_TEST_S3_ENDPOINT";
pub const MIB: usize = 1024 * 1024;

/// The S3 server the test script started. Missing is a failure, not a skip: a silently skipped
/// S3 suite would hide regressions in the provider that matters most in production.
pub fn s3_endpoint() -> String {
    match std::env::var(ENDPOINT_VAR) {
        Ok(v) if !v.is_empty() => v.trim_end_matches('/').to_string(),
        _ => panic!(
            "{ENDPOINT_VAR} is not set: the S3 tests need an S3 server (moto). Run them via the test \
             script, or `source scripts/services.sh && start_s3` first."
        ),
    }
}

pub fn unique_bucket() -> String {
    format!("ms-test-{:016x}", rand::random::<u64>())
}

/// Creates a bucket with an unsigned request (moto accepts it; object_store cannot create buckets).
pub async fn create_bucket(endpoint: &str, bucket: &str) {
    let resp = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("cannot reach S3 server at {endpoint}: {e}"));
    assert!(
        resp.status().is_success(),
        "creating bucket {bucket}: {}",
        resp.status()
    );
}

pub fn s3_options(endpoint: &str, bucket: &str, part_size: usize) -> S3Options {
    S3Options {
        bucket: bucket.to_string(),
        endpoint: Some(endpoint.to_string()),
        region: "us-east-1".into(),
        path_style: true,
        access_key_id: Some("testing-key-id".into()),
        secret_access_key: Some("testing-secret-key".into()),
        part_size,
        max_retries: 2,
        retry_timeout: Duration::from_secs(30),
        ..Default::default()
    }
}

pub async fn new_s3(part_size: usize) -> Arc<dyn Storage> {
    let endpoint = s3_endpoint();
    let bucket = unique_bucket();
    create_bucket(&endpoint, &bucket).await;
    mediaserver_storage::s3(s3_options(&endpoint, &bucket, part_size)).expect("s3 storage")
}

pub fn random_bytes(len: usize, seed: u64) -> Bytes {
    let mut v = vec![0u8; len];
    rand::rngs::StdRng::seed_from_u64(seed).fill_bytes(&mut v);
    Bytes::from(v)
}

pub fn sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Splits `data` into a source stream of `chunk`-sized pieces.
pub fn chunked(
    data: Bytes,
    chunk: usize,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    let pieces: Vec<_> = (0..data.len())
        .step_by(chunk)
        .map(|i| Ok(data.slice(i..(i + chunk).min(data.len()))))
        .collect();
    futures::stream::iter(pieces)
}

/// Hashes a byte stream without holding it in memory; returns (length, sha256).
pub async fn hash_stream(mut s: ByteStream) -> (u64, String) {
    let mut h = Sha256::new();
    let mut n = 0u64;
    while let Some(chunk) = s.next().await {
        let chunk = chunk.expect("stream chunk");
        n += chunk.len() as u64;
        h.update(&chunk);
    }
    (n, hex::encode(h.finalize()))
}

pub async fn collect(mut s: ByteStream) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(chunk) = s.next().await {
        out.extend_from_slice(&chunk.expect("stream chunk"));
    }
    out
}

/// Number of multipart uploads still open in `bucket` (moto answers unsigned requests).
pub async fn open_multipart_uploads(endpoint: &str, bucket: &str) -> usize {
    let body = reqwest::get(format!("{endpoint}/{bucket}?uploads"))
        .await
        .expect("list uploads")
        .text()
        .await
        .expect("body");
    body.matches("<Upload>").count()
}

pub const GCS_ENDPOINT_VAR: &str = "MEDIASERVER_TEST_GCS_ENDPOINT";

/// The GCS emulator (fake-gcs-server) the test script started; missing is a failure, as for S3.
pub fn gcs_endpoint() -> String {
    match std::env::var(GCS_ENDPOINT_VAR) {
        Ok(v) if !v.is_empty() => v.trim_end_matches('/').to_string(),
        _ => panic!(
            "{GCS_ENDPOINT_VAR} is not set: the GCS tests need fake-gcs-server. Run them via the \
             test script, or `source scripts/services.sh && start_gcs` first."
        ),
    }
}

/// Creates a bucket through the emulator's JSON API (object_store cannot create buckets).
pub async fn create_gcs_bucket(endpoint: &str, bucket: &str) {
    let resp = reqwest::Client::new()
        .post(format!("{endpoint}/storage/v1/b"))
        .json(&serde_json::json!({ "name": bucket }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("cannot reach the GCS emulator at {endpoint}: {e}"));
    assert!(
        resp.status().is_success(),
        "creating bucket {bucket}: {}",
        resp.status()
    );
}

/// A service-account key with a freshly generated RSA key, as GCS's console hands them out.
/// Returns (key JSON, public key PEM).
pub fn service_account_key() -> (String, String) {
    let key = mediaserver_oci::PrivateKey::generate().expect("key");
    let json = serde_json::json!({
        "type": "service_account",
        "project_id": "mediaserver-test",
        "private_key_id": "0123456789abcdef",
        "private_key": key.to_pkcs8_pem().expect("pem"),
        "client_email": "mediaserver@mediaserver-test.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    });
    (json.to_string(), key.public_key_pem())
}

/// Object names under the GCS provider's staging prefix, read out of band (the emulator's JSON
/// API, unauthenticated): the parts of multipart uploads still open.
pub async fn gcs_staging_objects(endpoint: &str, bucket: &str) -> Vec<String> {
    let v: serde_json::Value = reqwest::Client::new()
        .get(format!("{endpoint}/storage/v1/b/{bucket}/o"))
        .query(&[("prefix", ".mediaserver-uploads/")])
        .send()
        .await
        .expect("list staging")
        .json()
        .await
        .expect("json");
    v["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|o| o["name"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// How many staging uploads (distinct upload ids) are open in `bucket`.
pub async fn gcs_open_uploads(endpoint: &str, bucket: &str) -> usize {
    let ids: std::collections::BTreeSet<String> = gcs_staging_objects(endpoint, bucket)
        .await
        .into_iter()
        .filter_map(|n| n.split('/').nth(1).map(String::from))
        .collect();
    ids.len()
}
