//! tus 1.0.0 at /v1/uploads/ against the real server: the protocol's answers, every rejection
//! the issue names, persistence across a restart, and expiry removing the bytes.

use crate::common;

use base64::Engine;
use common::*;
use reqwest::{Response, StatusCode};
use sha1::Digest;

const TUS: (&str, &str) = ("Tus-Resumable", "1.0.0");
const OCTETS: (&str, &str) = ("Content-Type", "application/offset+octet-stream");

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

async fn create(s: &TestServer, token: &str, length: u64, metadata: &str) -> Response {
    s.client
        .post(s.url("/v1/uploads/"))
        .bearer_auth(token)
        .header(TUS.0, TUS.1)
        .header("Upload-Length", length.to_string())
        .header("Upload-Metadata", metadata)
        .send()
        .await
        .unwrap()
}

/// Creates an upload and returns its absolute URL.
async fn create_ok(s: &TestServer, token: &str, length: u64, filename: &str) -> String {
    let r = create(
        s,
        token,
        length,
        &format!("filename {},title {}", b64(filename), b64("My clip")),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.headers()["tus-resumable"], "1.0.0");
    assert!(r.headers().contains_key("upload-expires"));
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert!(loc.starts_with("/v1/uploads/"), "{loc}");
    s.url(&loc)
}

async fn patch(s: &TestServer, url: &str, token: &str, offset: u64, body: Vec<u8>) -> Response {
    s.client
        .patch(url)
        .bearer_auth(token)
        .header(TUS.0, TUS.1)
        .header(OCTETS.0, OCTETS.1)
        .header("Upload-Offset", offset.to_string())
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn head(s: &TestServer, url: &str, token: &str) -> Response {
    s.client
        .head(url)
        .bearer_auth(token)
        .header(TUS.0, TUS.1)
        .send()
        .await
        .unwrap()
}

fn offset_of(r: &Response) -> u64 {
    r.headers()["upload-offset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Uploads `data` in `chunk`-sized PATCHes and returns the media id from the last response.
async fn upload_all(s: &TestServer, url: &str, token: &str, data: &[u8], chunk: usize) -> String {
    let mut offset = 0usize;
    let mut media_id = None;
    while offset < data.len() {
        let end = (offset + chunk).min(data.len());
        let r = patch(s, url, token, offset as u64, data[offset..end].to_vec()).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "PATCH at {offset}");
        assert_eq!(offset_of(&r), end as u64);
        media_id = r
            .headers()
            .get("mediaserver-media-id")
            .map(|v| v.to_str().unwrap().to_string());
        offset = end;
    }
    media_id.expect("the last PATCH names the media item")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_advertises_version_extensions_and_limits() {
    let s = TestServer::start_with(&[("MAX_UPLOAD_BYTES", "123456789")]).await;
    let r = s
        .client
        .request(reqwest::Method::OPTIONS, s.url("/v1/uploads/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let h = r.headers();
    assert_eq!(h["tus-version"], "1.0.0");
    assert_eq!(h["tus-max-size"], "123456789");
    let ext = h["tus-extension"].to_str().unwrap();
    for e in [
        "creation",
        "creation-with-upload",
        "termination",
        "expiration",
        "checksum",
    ] {
        assert!(ext.split(',').any(|x| x == e), "{e} missing from {ext}");
    }
    assert!(h["tus-checksum-algorithm"]
        .to_str()
        .unwrap()
        .contains("sha1"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_upload_becomes_a_media_item_with_the_same_bytes() {
    let s = TestServer::start().await;
    let token = s.user_token("a@example.com").await;
    let data = video(3 * 1024 * 1024 + 777);
    let url = create_ok(&s, &token, data.len() as u64, "holiday clip.mp4").await;

    let r = head(&s, &url, &token).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(offset_of(&r), 0);
    assert_eq!(r.headers()["upload-length"], data.len().to_string());
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(r.headers()["upload-metadata"]
        .to_str()
        .unwrap()
        .contains(&b64("holiday clip.mp4")));

    let id = upload_all(&s, &url, &token, &data, 1024 * 1024).await;
    let item: serde_json::Value = s
        .get(&format!("/v1/media/{id}"), &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(item["kind"], "video");
    assert_eq!(item["status"], "queued");
    assert_eq!(item["title"], "My clip");
    assert_eq!(item["size"], data.len());
    assert_eq!(item["sha256"], sha256_hex(&data));
    let original = s
        .get(&format!("/v1/media/{id}/original"), &token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(original == data, "stored original differs");
    // HEAD after completion: done, and which item it became.
    let r = head(&s, &url, &token).await;
    assert_eq!(offset_of(&r), data.len() as u64);
    assert_eq!(r.headers()["mediaserver-media-id"], id.as_str());
    // Nothing but the original is left in the bucket's item folder.
    let files: Vec<_> = walk(&s.dir.path().join("storage/media"));
    assert_eq!(files.len(), 1, "{files:?}");
    s.stop().await;
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creation_with_upload_and_checksums() {
    let s = TestServer::start().await;
    let token = s.user_token("a@example.com").await;
    let data = read(&fixtures().png);
    // creation-with-upload: the whole file in the POST.
    let r = s
        .client
        .post(s.url("/v1/uploads/"))
        .bearer_auth(&token)
        .header(TUS.0, TUS.1)
        .header(OCTETS.0, OCTETS.1)
        .header("Upload-Length", data.len().to_string())
        .header("Upload-Metadata", format!("filename {}", b64("frame.png")))
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(offset_of(&r), data.len() as u64);
    let id = r.headers()["mediaserver-media-id"]
        .to_str()
        .unwrap()
        .to_string();
    let item = s
        .get(&format!("/v1/media/{id}"), &token)
        .send()
        .await
        .unwrap();
    assert_eq!(item.status(), StatusCode::OK);

    // Checksums: a wrong one is 460 and stores nothing; the right one is accepted.
    let data = video(300_000);
    let url = create_ok(&s, &token, data.len() as u64, "c.mp4").await;
    let part = data[..100_000].to_vec();
    let sha1 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(sha1::Sha1::digest(b));
    let send = |sum: String, body: Vec<u8>, offset: u64| {
        s.client
            .patch(&url)
            .bearer_auth(&token)
            .header(TUS.0, TUS.1)
            .header(OCTETS.0, OCTETS.1)
            .header("Upload-Offset", offset.to_string())
            .header("Upload-Checksum", sum)
            .body(body)
            .send()
    };
    let r = send(format!("sha1 {}", sha1(b"something else")), part.clone(), 0)
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 460);
    assert_eq!(offset_of(&head(&s, &url, &token).await), 0);
    let r = send(format!("sha1 {}", sha1(&part)), part.clone(), 0)
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(offset_of(&r), 100_000);
    let r = send(format!("crc32 {}", sha1(&part)), part.clone(), 100_000)
        .await
        .unwrap();
    let msg = expect_error(r, StatusCode::BAD_REQUEST).await;
    assert!(msg.contains("unsupported algorithm"), "{msg}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_errors() {
    let s = TestServer::start_with(&[("MAX_UPLOAD_BYTES", "1000000")]).await;
    let token = s.user_token("a@example.com").await;
    let other = s.user_token("b@example.com").await;
    let data = video(500_000);

    // Over the limit at creation → 413, and no upload exists.
    let msg = expect_error(
        create(&s, &token, 1_000_001, "").await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert!(msg.contains("MAX_UPLOAD_BYTES"), "{msg}");
    // Missing or bad token → 401.
    let r = s
        .client
        .post(s.url("/v1/uploads/"))
        .header(TUS.0, TUS.1)
        .header("Upload-Length", "10")
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::UNAUTHORIZED).await;
    expect_error(
        create(&s, "not-a-token", 10, "").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // Wrong protocol version → 412 naming ours.
    let r = s
        .client
        .post(s.url("/v1/uploads/"))
        .bearer_auth(&token)
        .header("Tus-Resumable", "0.2.2")
        .header("Upload-Length", "10")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["tus-version"], "1.0.0");
    expect_error(r, StatusCode::PRECONDITION_FAILED).await;
    // Missing length → 400.
    let r = s
        .client
        .post(s.url("/v1/uploads/"))
        .bearer_auth(&token)
        .header(TUS.0, TUS.1)
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::BAD_REQUEST).await;

    let url = create_ok(&s, &token, data.len() as u64, "v.mp4").await;
    // Wrong offset → 409.
    let r = patch(&s, &url, &token, 5, data[..100].to_vec()).await;
    let msg = expect_error(r, StatusCode::CONFLICT).await;
    assert!(msg.contains("HEAD"), "{msg}");
    // Wrong content type → 415.
    let r = s
        .client
        .patch(&url)
        .bearer_auth(&token)
        .header(TUS.0, TUS.1)
        .header("Content-Type", "application/octet-stream")
        .header("Upload-Offset", "0")
        .body(data[..100].to_vec())
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    // A body longer than what remains → 413, nothing stored.
    let r = patch(&s, &url, &token, 0, [data.clone(), vec![0; 10]].concat()).await;
    expect_error(r, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!(offset_of(&head(&s, &url, &token).await), 0);
    // Another user's upload does not exist for them.
    expect_error(
        patch(&s, &url, &other, 0, data[..100].to_vec()).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(head(&s, &url, &other).await.status(), StatusCode::NOT_FOUND);
    let r = s
        .client
        .delete(&url)
        .bearer_auth(&other)
        .header(TUS.0, TUS.1)
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::NOT_FOUND).await;

    // Termination: 204, then the upload is gone (PATCH → 404) and so are its bytes.
    assert_eq!(
        patch(&s, &url, &token, 0, data[..200_000].to_vec())
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let r = s
        .client
        .delete(&url)
        .bearer_auth(&token)
        .header(TUS.0, TUS.1)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    expect_error(
        patch(&s, &url, &token, 200_000, data[200_000..].to_vec()).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(head(&s, &url, &token).await.status(), StatusCode::NOT_FOUND);
    assert!(walk(&s.dir.path().join("storage/media")).is_empty());

    // Not media: refused from the first bytes (415) and discarded.
    let junk = vec![7u8; 200_000];
    let url = create_ok(&s, &token, junk.len() as u64, "notes.txt").await;
    expect_error(
        patch(&s, &url, &token, 0, junk).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    assert_eq!(head(&s, &url, &token).await.status(), StatusCode::NOT_FOUND);
    assert!(walk(&s.dir.path().join("storage/media")).is_empty());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_survives_a_restart() {
    let s = TestServer::start().await;
    let token = s.user_token("a@example.com").await;
    let data = video(2 * 1024 * 1024);
    let url = create_ok(&s, &token, data.len() as u64, "v.mp4").await;
    let path = url.trim_start_matches(&s.url).to_string();
    assert_eq!(
        patch(&s, &url, &token, 0, data[..1_234_567].to_vec())
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let dir = s.stop().await;

    let s = TestServer::start_in(dir, &[]).await;
    let url = s.url(&path);
    let r = head(&s, &url, &token).await;
    assert_eq!(offset_of(&r), 1_234_567);
    let id = upload_all_from(&s, &url, &token, &data, 1_234_567).await;
    let item = s
        .get(&format!("/v1/media/{id}"), &token)
        .send()
        .await
        .unwrap();
    let item: serde_json::Value = item.json().await.unwrap();
    assert_eq!(item["sha256"], sha256_hex(&data));
    s.stop().await;
}

async fn upload_all_from(
    s: &TestServer,
    url: &str,
    token: &str,
    data: &[u8],
    from: usize,
) -> String {
    let r = patch(s, url, token, from as u64, data[from..].to_vec()).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    r.headers()["mediaserver-media-id"]
        .to_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_upload_is_removed_with_its_bytes() {
    let s = TestServer::start_with(&[("UPLOAD_EXPIRY_SECONDS", "2")]).await;
    let token = s.user_token("a@example.com").await;
    let data = video(400_000);
    let url = create_ok(&s, &token, data.len() as u64, "v.mp4").await;
    assert_eq!(
        patch(&s, &url, &token, 0, data[..150_000].to_vec())
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert!(!walk(&s.dir.path().join("storage/media")).is_empty());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let gone = walk(&s.dir.path().join("storage/media")).is_empty();
        if gone {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "expired upload still on disk"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(head(&s, &url, &token).await.status(), StatusCode::NOT_FOUND);
    assert!(s
        .state
        .repo
        .expired_uploads(chrono::Utc::now(), 10)
        .await
        .unwrap()
        .is_empty());
    s.stop().await;
}

/// On S3 the bytes go up as multipart parts; a finished upload is one object, and an expired
/// one leaves neither objects nor an open multipart upload behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_multipart_upload_and_expiry() {
    let endpoint = std::env::var("MEDIASERVER_TEST_S3_ENDPOINT").expect(
        "MEDIASERVER_TEST_S3_ENDPOINT is not set: run the suite with scripts/test.sh, which starts S3",
    );
    let bucket = format!("t{}", &mediaserver_core::new_id().replace('-', "")[..20]);
    let http = reqwest::Client::new();
    assert!(http
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .unwrap()
        .status()
        .is_success());
    let s = TestServer::start_with(&[
        ("STORAGE_PROVIDER", "AWSBucket"),
        ("STORAGE_ENDPOINT", &endpoint),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("MEDIA_BUCKET", &bucket),
        ("JWT_SECRET", "test-secret-test-secret-test-secret-0000"),
        ("UPLOAD_EXPIRY_SECONDS", "3"),
    ])
    .await;
    let token = s.user_token("a@example.com").await;
    let listing = |q: &'static str| {
        let url = format!("{endpoint}/{bucket}{q}");
        let http = http.clone();
        async move { http.get(url).send().await.unwrap().text().await.unwrap() }
    };

    // 5 MiB + 1 MiB + rest: one full part, then a remainder kept aside until the end.
    let data = video(13 * 1024 * 1024 + 5);
    let url = create_ok(&s, &token, data.len() as u64, "big.mp4").await;
    let mut offset = 0;
    for len in [5 * 1024 * 1024, 1024 * 1024] {
        let r = patch(
            &s,
            &url,
            &token,
            offset as u64,
            data[offset..offset + len].to_vec(),
        )
        .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        offset += len;
    }
    assert!(
        listing("?uploads").await.contains("<UploadId>"),
        "a multipart upload is open"
    );
    let id = upload_all_from(&s, &url, &token, &data, offset).await;
    let item: serde_json::Value = s
        .get(&format!("/v1/media/{id}"), &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(item["sha256"], sha256_hex(&data));
    let objects = listing("?list-type=2").await;
    assert_eq!(objects.matches("<Key>").count(), 1, "{objects}");
    assert!(!listing("?uploads").await.contains("<UploadId>"));

    // An abandoned upload with a stored part and a pending remainder expires away.
    let url = create_ok(&s, &token, data.len() as u64, "abandoned.mp4").await;
    let r = patch(&s, &url, &token, 0, data[..6 * 1024 * 1024].to_vec()).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(listing("?uploads").await.contains("<UploadId>"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while listing("?uploads").await.contains("<UploadId>")
        || listing("?list-type=2").await.matches("<Key>").count() > 1
    {
        assert!(
            std::time::Instant::now() < deadline,
            "expired upload left bytes in S3"
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    assert_eq!(head(&s, &url, &token).await.status(), StatusCode::NOT_FOUND);
    s.stop().await;
}

/// Two replicas (two servers on one database and one storage): while a PATCH streams into one,
/// a PATCH for the same upload on the other waits and then gets 423 instead of writing the same
/// range; once the first has ended, the other replica continues the upload to the right bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_write_one_upload_one_request_at_a_time() {
    let a = TestServer::start().await;
    let config = config_with(a.dir.path(), &[]);
    let state = mediaserver::build_state(&config).await.unwrap();
    let b = TestServer::start_state(tempfile::tempdir().unwrap(), &config, state).await;
    let token = a.user_token("a@example.com").await;
    let data = video(3 * 1024 * 1024);
    let url_a = create_ok(&a, &token, data.len() as u64, "v.mp4").await;
    let url_b = b.url(url_a.trim_start_matches(&a.url));

    // Replica A receives the first half of a PATCH's body, and the rest is slow to come.
    let (mut tx, rx) = futures::channel::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    let slow = tokio::spawn({
        let (client, url, token) = (a.client.clone(), url_a.clone(), token.clone());
        async move {
            client
                .patch(url)
                .bearer_auth(token)
                .header(TUS.0, TUS.1)
                .header(OCTETS.0, OCTETS.1)
                .header("Upload-Offset", "0")
                .body(reqwest::Body::wrap_stream(rx))
                .send()
                .await
                .unwrap()
        }
    });
    use futures::SinkExt;
    tx.send(Ok(data[..500_000].to_vec())).await.unwrap();
    let partial_size = || {
        walk(a.dir.path())
            .iter()
            .find(|p| p.to_string_lossy().ends_with(".partial"))
            .and_then(|p| std::fs::metadata(p).ok())
            .map_or(0, |m| m.len())
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while partial_size() < 500_000 {
        assert!(std::time::Instant::now() < deadline, "A never wrote");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    // The client gave up on it and retries on replica B: told to come back later.
    let r = patch(&b, &url_b, &token, 0, data[..1_000_000].to_vec()).await;
    assert_eq!(r.status(), StatusCode::LOCKED);
    assert!(r.text().await.unwrap().contains("another request"));

    // A's request ends; B now takes the next request and completes the upload.
    tx.send(Ok(data[500_000..1_000_000].to_vec()))
        .await
        .unwrap();
    drop(tx);
    assert_eq!(slow.await.unwrap().status(), StatusCode::NO_CONTENT);
    let r = head(&b, &url_b, &token).await;
    assert_eq!(offset_of(&r), 1_000_000);
    let id = upload_all_from(&b, &url_b, &token, &data, 1_000_000).await;
    let item: serde_json::Value = b
        .get(&format!("/v1/media/{id}"), &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(item["sha256"], sha256_hex(&data));
    b.stop().await;
    a.stop().await;
}

/// A replica that died holding an upload's lease only delays the upload until the lease runs
/// out: the next request then takes it over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_replicas_lease_runs_out() {
    let s = TestServer::start().await;
    let token = s.user_token("a@example.com").await;
    let data = video(1024 * 1024);
    let url = create_ok(&s, &token, data.len() as u64, "v.mp4").await;
    let id = url.rsplit('/').next().unwrap().to_string();
    let now = chrono::Utc::now();
    assert!(s
        .state
        .repo
        .lease_upload(
            &id.parse().unwrap(),
            "crashed-replica",
            now + chrono::Duration::seconds(3),
            now
        )
        .await
        .unwrap());
    let started = std::time::Instant::now();
    let id2 = upload_all_from(&s, &url, &token, &data, 0).await;
    assert_eq!(id2, id);
    assert!(started.elapsed() >= std::time::Duration::from_secs(2));
    s.stop().await;
}

/// `MAX_PENDING_UPLOADS`: a user with that many unfinished (tus or direct) uploads gets a JSON
/// 409 naming the limit and what to do, and nothing is created; finishing or cancelling one
/// makes room. Other users are not affected.
#[tokio::test]
async fn pending_uploads_per_user_are_capped() {
    let s = TestServer::start_with(&[("MAX_PENDING_UPLOADS", "2")]).await;
    let token = s.user_token("me@example.com").await;
    let first = create_ok(&s, &token, 100, "a.mp4").await;
    let r = s
        .client
        .post(s.url("/v1/media/direct-upload"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"filename": "b.mp4", "size": 100}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);

    let r = create(&s, &token, 100, &format!("filename {}", b64("c.mp4"))).await;
    assert_eq!(r.headers()["content-type"], "application/json");
    let msg = expect_error(r, StatusCode::CONFLICT).await;
    assert!(msg.contains("MAX_PENDING_UPLOADS=2"), "{msg}");
    assert!(msg.contains("DELETE /v1/uploads/"), "{msg}");
    let r = s
        .client
        .post(s.url("/v1/media/direct-upload"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"filename": "d.mp4", "size": 100}))
        .send()
        .await
        .unwrap();
    let msg = expect_error(r, StatusCode::CONFLICT).await;
    assert!(msg.contains("MAX_PENDING_UPLOADS=2"), "{msg}");
    // Nothing was created by the refused requests.
    let keys = s.state.media_store.list("originals/").await.unwrap();
    assert!(
        keys.iter()
            .all(|o| !o.key.contains("c.mp4") && !o.key.contains("d.mp4")),
        "{keys:?}"
    );
    let me = s
        .state
        .repo
        .user_by_email("me@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.state.repo.count_active_uploads(&me.id).await.unwrap(), 2);

    // Someone else may still upload.
    let other = s.user_token("other@example.com").await;
    create_ok(&s, &other, 100, "e.mp4").await;

    // Cancelling one makes room.
    let r = s
        .client
        .delete(&first)
        .bearer_auth(&token)
        .header(TUS.0, TUS.1)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    create_ok(&s, &token, 100, "f.mp4").await;
}
