//! Direct uploads: a presigned PUT straight to a real S3 server (moto), completed by an S3 event
//! notification or by `POST /v1/media/{id}/complete`; and the one-time server URL for `Local`.

use crate::common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

const JWT: &str = "test-secret-test-secret-test-secret-0000";
const EVENTS: &str = "events-secret-for-tests";

async fn start_direct(s: &TestServer, token: &str, filename: &str, size: usize) -> Value {
    let r = s
        .client
        .post(s.url("/v1/media/direct-upload"))
        .bearer_auth(token)
        .json(&json!({"filename": filename, "size": size, "title": "Direct"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

async fn complete(s: &TestServer, token: &str, id: &str) -> reqwest::Response {
    s.client
        .post(s.url(&format!("/v1/media/{id}/complete")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn fresh_bucket(endpoint: &str) -> String {
    let bucket = format!("d{}", &mediaserver_core::new_id().replace('-', "")[..20]);
    let r = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    bucket
}

async fn s3_server() -> (TestServer, String) {
    let endpoint = std::env::var("MEDIASERVER_TEST_S3_ENDPOINT").expect(
        "MEDIASERVER_TEST_S3_ENDPOINT is not set: run the suite with scripts/test.sh, which starts S3",
    );
    let bucket = fresh_bucket(&endpoint).await;
    let s = TestServer::start_with(&[
        ("STORAGE_PROVIDER", "AWSBucket"),
        ("STORAGE_ENDPOINT", &endpoint),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("MEDIA_BUCKET", &bucket),
        ("JWT_SECRET", JWT),
        ("EVENTS_SECRET", EVENTS),
    ])
    .await;
    (s, bucket)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_put_to_s3_completed_by_the_complete_call() {
    let (s, _bucket) = s3_server().await;
    let token = s.user_token("a@example.com").await;
    let data = read(&fixtures().mp4);
    let d = start_direct(&s, &token, "clip.mp4", data.len()).await;
    assert_eq!(d["target"], "presigned");
    assert_eq!(d["method"], "PUT");
    let id = d["id"].as_str().unwrap();
    let url = d["upload_url"].as_str().unwrap();
    assert!(url.contains("X-Amz-Signature"), "{url}");

    // Nothing there yet: a clear 409, and the upload stays usable.
    let msg = expect_error(complete(&s, &token, id).await, StatusCode::CONFLICT).await;
    assert!(msg.contains("PUT the file"), "{msg}");
    // Someone else cannot complete it.
    let other = s.user_token("b@example.com").await;
    expect_error(complete(&s, &other, id).await, StatusCode::NOT_FOUND).await;

    let r = reqwest::Client::new()
        .put(url)
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "PUT to the bucket: {}", r.status());
    let r = complete(&s, &token, id).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let item: Value = r.json().await.unwrap();
    assert_eq!(item["id"], id);
    assert_eq!(item["kind"], "video");
    assert_eq!(item["title"], "Direct");
    assert_eq!(item["sha256"], sha256_hex(&data));
    // Completing again is harmless.
    let r = complete(&s, &token, id).await;
    assert_eq!(r.status(), StatusCode::OK);
    let items: Value = s
        .get("/v1/media", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(items["items"].as_array().unwrap().len(), 1);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_put_completed_by_an_s3_event_and_size_is_checked() {
    let (s, bucket) = s3_server().await;
    let _admin = s.user_token("admin@example.com").await;
    let token = s.user_token("a@example.com").await;
    let data = read(&fixtures().png);
    let d = start_direct(&s, &token, "frame.png", data.len()).await;
    let id = d["id"].as_str().unwrap().to_string();
    let url = d["upload_url"].as_str().unwrap();
    let r = reqwest::Client::new()
        .put(url)
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let key = format!("originals/{id}/frame.png");
    let event = json!({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": data.len()}}}]});
    let r = s
        .client
        .post(s.url("/v1/events/object-storage"))
        .bearer_auth(EVENTS)
        .json(&event)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["results"][0]["result"], "created", "{body}");
    assert_eq!(body["results"][0]["media_id"], id.as_str(), "{body}");
    // The item is the uploader's (not the events owner's), under the promised id.
    let item: Value = s
        .get(&format!("/v1/media/{id}"), &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(item["kind"], "image");
    assert_eq!(item["sha256"], sha256_hex(&data));
    // The client's own complete call afterwards just returns it.
    assert_eq!(complete(&s, &token, &id).await.status(), StatusCode::OK);

    // A PUT of the wrong size is refused at completion, naming both sizes.
    let d = start_direct(&s, &token, "frame2.png", data.len() + 10).await;
    let url = d["upload_url"].as_str().unwrap();
    reqwest::Client::new()
        .put(url)
        .body(data.clone())
        .send()
        .await
        .unwrap();
    let msg = expect_error(
        complete(&s, &token, d["id"].as_str().unwrap()).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(msg.contains(&data.len().to_string()), "{msg}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_storage_gets_a_one_time_server_url() {
    let s = TestServer::start_with(&[("MAX_UPLOAD_BYTES", "10000000")]).await;
    let token = s.user_token("a@example.com").await;
    let data = read(&fixtures().wav);
    let r = s
        .client
        .post(s.url("/v1/media/direct-upload"))
        .bearer_auth(&token)
        .json(&json!({"filename": "x.wav", "size": 10_000_001}))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::PAYLOAD_TOO_LARGE).await;

    let d = start_direct(&s, &token, "tone.wav", data.len()).await;
    assert_eq!(d["target"], "server");
    let id = d["id"].as_str().unwrap();
    let url = d["upload_url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&s.url), "{url}");
    // A wrong secret, or a short body, is refused and keeps nothing.
    let forged = format!("{}x", url);
    let r = s
        .client
        .put(&forged)
        .body(data.clone())
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::FORBIDDEN).await;
    let r = s
        .client
        .put(&url)
        .body(data[..100].to_vec())
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::BAD_REQUEST).await;
    expect_error(complete(&s, &token, id).await, StatusCode::CONFLICT).await;

    let r = s.client.put(&url).body(data.clone()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // One time only.
    let r = s.client.put(&url).body(data.clone()).send().await.unwrap();
    expect_error(r, StatusCode::FORBIDDEN).await;
    let r = complete(&s, &token, id).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let item: Value = r.json().await.unwrap();
    assert_eq!(item["kind"], "audio");
    assert_eq!(item["sha256"], sha256_hex(&data));
    s.stop().await;
}

/// A tus upload on S3 keeps a remainder smaller than a part as a `….pending.{start}-{len}`
/// object next to its key; its bucket event must not turn those bytes into an item.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bucket_event_for_a_tus_remainder_is_skipped() {
    let (s, bucket) = s3_server().await;
    let _admin = s.user_token("admin@example.com").await;
    let token = s.user_token("a@example.com").await;
    let data = read(&fixtures().png);
    use base64::Engine;
    let name = base64::engine::general_purpose::STANDARD.encode("frame.png");
    let r = s
        .client
        .post(s.url("/v1/uploads/"))
        .bearer_auth(&token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", (data.len() + 100).to_string())
        .header("Upload-Metadata", format!("filename {name}"))
        .header("Content-Type", "application/offset+octet-stream")
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let id = location.rsplit('/').next().unwrap();
    let key = format!("originals/{id}/frame.png.pending.0-{}", data.len());
    let event = json!({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": data.len()}}}]});
    let r = s
        .client
        .post(s.url("/v1/events/object-storage"))
        .bearer_auth(EVENTS)
        .json(&event)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["results"][0]["result"], "skipped", "{body}");
    let admin_items: Value = s
        .get("/v1/media", &_admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        admin_items["items"].as_array().unwrap().is_empty(),
        "{admin_items}"
    );
    s.stop().await;
}
