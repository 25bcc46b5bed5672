//! The media API over real HTTP: uploads streamed to storage, kinds sniffed from bytes, limits,
//! listing, changes, deletes and range reads of originals.

use crate::common;

use common::{expect_error, fixtures, read, sha256_hex, TestServer};
use mediaserver_storage::ObjectKey;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn stored_keys(s: &TestServer, prefix: &str) -> Vec<String> {
    s.state
        .media_store
        .list(prefix)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.key)
        .collect()
}

#[tokio::test]
async fn multipart_upload_stores_the_original_and_an_event() {
    let s = TestServer::start().await;
    let token = s.user_token("me@example.com").await;
    let bytes = read(&fixtures().mp4);
    let part = reqwest::multipart::Part::bytes(bytes.clone()).file_name("../../holiday clip.mp4");
    let form = reqwest::multipart::Form::new()
        .part("file", part)
        .text("title", "Holiday");
    let r = s
        .client
        .post(s.url("/v1/media"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let item: Value = r.json().await.unwrap();
    assert_eq!(item["kind"], "video");
    assert_eq!(item["status"], "queued");
    assert_eq!(item["title"], "Holiday");
    assert_eq!(item["filename"], "holiday clip.mp4");
    assert_eq!(item["content_type"], "video/mp4");
    assert_eq!(item["visibility"], "private");
    assert_eq!(item["size"], bytes.len() as u64);
    assert_eq!(item["sha256"], sha256_hex(&bytes));
    assert_eq!(item["playable"], false);
    let id = item["id"].as_str().unwrap();

    assert_eq!(
        stored_keys(&s, &format!("originals/{id}/")).await,
        vec![format!("originals/{id}/holiday clip.mp4")]
    );
    let events = s
        .state
        .repo
        .events_for_media(&id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].key, format!("originals/{id}/holiday clip.mp4"));
    assert_eq!(events[0].bucket, "media");

    let original = s
        .get(&format!("/v1/media/{id}/original"), &token)
        .send()
        .await
        .unwrap();
    assert_eq!(original.status(), StatusCode::OK);
    assert_eq!(original.headers()["content-type"], "video/mp4");
    assert_eq!(original.bytes().await.unwrap().to_vec(), bytes);
}

#[tokio::test]
async fn raw_body_uploads_detect_images_and_audio_from_bytes() {
    let s = TestServer::start().await;
    let token = s.user_token("me@example.com").await;
    // Misleading names and content types do not matter.
    for (path, name, kind, ctype) in [
        (&fixtures().png, "photo.mp3", "image", "image/png"),
        (&fixtures().wav, "song.jpg", "audio", "audio/x-wav"),
    ] {
        let r = s
            .client
            .post(s.url(&format!("/v1/media?filename={name}")))
            .bearer_auth(&token)
            .header("content-type", "application/octet-stream")
            .body(read(path))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let item: Value = r.json().await.unwrap();
        assert_eq!(item["kind"], kind, "{name}");
        assert_eq!(item["content_type"], ctype, "{name}");
        assert_eq!(item["filename"], name);
    }
}

#[tokio::test]
async fn non_media_empty_and_oversized_uploads_keep_nothing() {
    let s = TestServer::start_with(&[("MAX_UPLOAD_BYTES", "200000")]).await;
    let token = s.user_token("me@example.com").await;

    let text = b"just some text that has been renamed to look like a video".repeat(100);
    let msg = expect_error(
        s.upload(&token, "movie.mp4", text).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    assert!(msg.contains("not an image, video or audio"), "{msg}");

    let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap()[..100_000].to_vec();
    expect_error(
        s.upload(&token, "movie.mp4", exe).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;

    let msg = expect_error(
        s.upload(&token, "empty.mp4", Vec::new()).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(msg.contains("empty"), "{msg}");

    // A real MP4 header followed by padding, larger than the limit: refused by Content-Length...
    let mut big = read(&fixtures().mp4);
    big.resize(600_000, 0);
    let msg = expect_error(
        s.upload(&token, "big.mp4", big.clone()).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert!(msg.contains("MAX_UPLOAD_BYTES"), "{msg}");
    // ...and, without a declared length, while streaming.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        big.chunks(16 * 1024).map(|c| Ok(c.to_vec())).collect();
    let body = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
    let r = s
        .client
        .post(s.url("/v1/media?filename=big.mp4"))
        .bearer_auth(&token)
        .body(body)
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::PAYLOAD_TOO_LARGE).await;

    assert!(stored_keys(&s, "").await.is_empty(), "objects left behind");
    let page: Value = s
        .get("/v1/media", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn listing_paginates_filters_and_scopes_to_the_owner() {
    let s = TestServer::start().await;
    let admin = s.user_token("admin@example.com").await;
    let alice = s.user_token("alice@example.com").await;
    let bob = s.user_token("bob@example.com").await;
    let png = read(&fixtures().png);
    let wav = read(&fixtures().wav);
    let mut alice_ids = Vec::new();
    for i in 0..23 {
        let (name, bytes) = if i % 4 == 0 {
            (format!("a{i}.wav"), wav.clone())
        } else {
            (format!("a{i}.png"), png.clone())
        };
        alice_ids.push(
            s.upload_ok(&alice, &name, bytes).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    s.upload_ok(&bob, "b.png", png.clone()).await;

    // Pages of 10, newest first, no gaps or repeats.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/media?limit=10&cursor={c}"),
            None => "/v1/media?limit=10".to_string(),
        };
        let page: Value = s
            .get(&path, &alice)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        pages += 1;
        for item in page["items"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let mut expected = alice_ids.clone();
    expected.reverse();
    assert_eq!(seen, expected);

    let audio: Value = s
        .get("/v1/media?kind=audio&limit=100", &alice)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(audio["items"].as_array().unwrap().len(), 6);
    assert!(audio["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["kind"] == "audio"));
    let uploaded: Value = s
        .get("/v1/media?status=queued&limit=100", &alice)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(uploaded["items"].as_array().unwrap().len(), 23);
    let ready: Value = s
        .get("/v1/media?status=ready", &alice)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["items"].as_array().unwrap().len(), 0);

    let bobs: Value = s
        .get("/v1/media", &bob)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bobs["items"].as_array().unwrap().len(), 1);
    let all: Value = s
        .get("/v1/media?limit=100", &admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all["items"].as_array().unwrap().len(), 24);

    for bad in [
        "limit=0",
        "limit=101",
        "limit=x",
        "kind=movie",
        "status=done",
        "cursor=../x",
    ] {
        expect_error(
            s.get(&format!("/v1/media?{bad}"), &alice)
                .send()
                .await
                .unwrap(),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    expect_error(
        s.client.get(s.url("/v1/media")).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn other_peoples_items_and_unknown_ids_are_404() {
    let s = TestServer::start().await;
    let admin = s.user_token("admin@example.com").await;
    let alice = s.user_token("alice@example.com").await;
    let bob = s.user_token("bob@example.com").await;
    let id = s.upload_ok(&alice, "a.png", read(&fixtures().png)).await["id"]
        .as_str()
        .unwrap()
        .to_string();

    for path in [
        format!("/v1/media/{id}"),
        format!("/v1/media/{id}/original"),
    ] {
        expect_error(
            s.get(&path, &bob).send().await.unwrap(),
            StatusCode::NOT_FOUND,
        )
        .await;
        expect_error(
            s.client.get(s.url(&path)).send().await.unwrap(),
            StatusCode::NOT_FOUND,
        )
        .await;
        assert_eq!(
            s.get(&path, &admin).send().await.unwrap().status(),
            StatusCode::OK
        );
    }
    let r = s
        .client
        .patch(s.url(&format!("/v1/media/{id}")))
        .bearer_auth(&bob)
        .json(&json!({"title": "mine"}))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::NOT_FOUND).await;
    let r = s
        .client
        .delete(s.url(&format!("/v1/media/{id}")))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::NOT_FOUND).await;
    for unknown in [
        "0190f3a0-0000-7000-8000-000000000000",
        "not-an-id",
        "..%2F..%2Fetc",
    ] {
        expect_error(
            s.get(&format!("/v1/media/{unknown}"), &alice)
                .send()
                .await
                .unwrap(),
            StatusCode::NOT_FOUND,
        )
        .await;
    }
    // Still there for its owner.
    assert_eq!(
        s.get(&format!("/v1/media/{id}"), &alice)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn patch_changes_title_and_visibility() {
    let s = TestServer::start().await;
    let alice = s.user_token("alice@example.com").await;
    let bob = s.user_token("bob@example.com").await;
    let id = s.upload_ok(&alice, "a.png", read(&fixtures().png)).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let url = s.url(&format!("/v1/media/{id}"));

    let r = s
        .client
        .patch(&url)
        .bearer_auth(&alice)
        .json(&json!({"title": "Sunset", "visibility": "unlisted"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let item: Value = r.json().await.unwrap();
    assert_eq!(item["title"], "Sunset");
    assert_eq!(item["visibility"], "unlisted");
    assert!(item["updated_at"].as_str().unwrap() >= item["created_at"].as_str().unwrap());
    // Unlisted: anyone with the id can read it.
    assert_eq!(
        s.get(&format!("/v1/media/{id}"), &bob)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    for bad in [
        json!({"visibility": "secret"}),
        json!({"title": ""}),
        json!({"title": "x".repeat(201)}),
        json!({"owner_id": "x"}),
    ] {
        let r = s
            .client
            .patch(&url)
            .bearer_auth(&alice)
            .json(&bad)
            .send()
            .await
            .unwrap();
        expect_error(r, StatusCode::BAD_REQUEST).await;
    }
    let r = s
        .client
        .patch(&url)
        .bearer_auth(&alice)
        .header("content-type", "application/json")
        .body("{oops")
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn delete_removes_rows_and_every_object() {
    let s = TestServer::start().await;
    let token = s.user_token("me@example.com").await;
    let id = s.upload_ok(&token, "clip.mp4", read(&fixtures().mp4)).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let keep = s.upload_ok(&token, "keep.png", read(&fixtures().png)).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Stand-ins for processing outputs under the item's output prefix.
    for name in ["hls/master.m3u8", "hls/720p/seg-0001.m4s", "thumbnail.jpg"] {
        let key = ObjectKey::new(format!("media/{id}/{name}")).unwrap();
        s.state
            .output_store
            .put_bytes(&key, bytes::Bytes::from_static(b"x"))
            .await
            .unwrap();
    }
    let r = s
        .client
        .delete(s.url(&format!("/v1/media/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    expect_error(
        s.get(&format!("/v1/media/{id}"), &token)
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_error(
        s.get(&format!("/v1/media/{id}/original"), &token)
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(stored_keys(&s, &format!("originals/{id}/"))
        .await
        .is_empty());
    assert!(stored_keys(&s, &format!("media/{id}/")).await.is_empty());
    assert!(s
        .state
        .repo
        .events_for_media(&id.parse().unwrap())
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        stored_keys(&s, &format!("originals/{keep}/")).await.len(),
        1
    );
    let r = s
        .client
        .delete(s.url(&format!("/v1/media/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn originals_support_ranges_etags_and_head() {
    let s = TestServer::start().await;
    let token = s.user_token("me@example.com").await;
    let bytes = read(&fixtures().mp4);
    let size = bytes.len();
    let id = s.upload_ok(&token, "clip.mp4", bytes.clone()).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/v1/media/{id}/original");

    let r = s
        .get(&path, &token)
        .header("range", "bytes=0-0")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.headers()["content-range"], format!("bytes 0-0/{size}"));
    assert_eq!(r.bytes().await.unwrap().to_vec(), bytes[..1]);

    let r = s
        .get(&path, &token)
        .header("range", format!("bytes={}-", size - 1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.bytes().await.unwrap().to_vec(), bytes[size - 1..]);

    let r = s
        .get(&path, &token)
        .header("range", "bytes=100-1099")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-length"], "1000");
    assert_eq!(r.bytes().await.unwrap().to_vec(), bytes[100..1100]);

    let r = s
        .get(&path, &token)
        .header("range", "bytes=-500")
        .send()
        .await
        .unwrap();
    assert_eq!(r.bytes().await.unwrap().to_vec(), bytes[size - 500..]);

    let r = s
        .get(&path, &token)
        .header("range", "bytes=999999999-")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-range"], format!("bytes */{size}"));
    expect_error(r, StatusCode::RANGE_NOT_SATISFIABLE).await;

    let r = s.get(&path, &token).send().await.unwrap();
    assert_eq!(r.headers()["accept-ranges"], "bytes");
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(etag, format!("\"{}\"", sha256_hex(&bytes)));
    let r = s
        .get(&path, &token)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    assert!(r.bytes().await.unwrap().is_empty());
    let r = s
        .get(&path, &token)
        .header("if-none-match", "\"other\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    let r = s
        .client
        .head(s.url(&path))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-length"], size.to_string());
    assert!(r.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn api_keys_can_upload() {
    let s = TestServer::start().await;
    let token = s.user_token("me@example.com").await;
    let key: Value = s
        .client
        .post(s.url("/v1/api-keys"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let item = s
        .upload_ok(key["key"].as_str().unwrap(), "a.png", read(&fixtures().png))
        .await;
    let me: Value = s
        .get("/v1/auth/me", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(item["owner_id"], me["id"]);
}

/// `POST /v1/media/{id}/retry`: a failed item goes back to `queued` with a new job of fresh
/// attempts (owner or admin); anything else is 409, another user's item 404.
#[tokio::test]
async fn a_failed_item_can_be_retried_by_its_owner_or_an_admin() {
    use chrono::Utc;
    use mediaserver_core::{JobStatus, MediaId};
    use std::time::Duration;
    let s = TestServer::start().await;
    let admin = s.user_token("admin@example.com").await;
    let owner = s.user_token("owner@example.com").await;
    let other = s.user_token("other@example.com").await;
    let item = s.upload_ok(&owner, "clip.mp4", read(&fixtures().mp4)).await;
    let id = item["id"].as_str().unwrap().to_string();
    let media_id: MediaId = id.parse().unwrap();
    let retry = |token: Option<&str>| {
        let r = s.client.post(s.url(&format!("/v1/media/{id}/retry")));
        match token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
        .send()
    };

    // Not failed (queued): 409, naming the status.
    let msg = expect_error(retry(Some(&owner)).await.unwrap(), StatusCode::CONFLICT).await;
    assert!(msg.contains("queued"), "{msg}");

    // Its job fails for good (as a worker records it).
    let fail_for_good = || async {
        let job = s
            .state
            .repo
            .claim_job("w", Duration::from_secs(60), Utc::now())
            .await
            .unwrap()
            .expect("a queued job");
        assert_eq!(job.media_id, media_id);
        s.state
            .repo
            .fail_job(&job.id, "w", "the file is damaged", None)
            .await
            .unwrap();
    };
    fail_for_good().await;
    let failed: Value = s
        .get(&format!("/v1/media/{id}"), &owner)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(failed["status"], "failed", "{failed}");

    expect_error(retry(None).await.unwrap(), StatusCode::UNAUTHORIZED).await;
    expect_error(retry(Some(&other)).await.unwrap(), StatusCode::NOT_FOUND).await;

    let r = retry(Some(&owner)).await.unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["id"], id.as_str());
    assert_eq!(body["status"], "queued", "{body}");
    assert!(body["error"].is_null(), "{body}");
    let jobs = s.state.repo.jobs_for_media(&media_id).await.unwrap();
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    assert_eq!(jobs[0].status, JobStatus::Failed);
    assert_eq!(jobs[1].status, JobStatus::Queued);
    assert_eq!(jobs[1].attempts, 0);
    // The retry policy's attempts (JOB_MAX_ATTEMPTS, 3 by default).
    assert_eq!(jobs[1].max_attempts, 3);
    // Queued again: a second retry is 409 until it fails again.
    expect_error(retry(Some(&owner)).await.unwrap(), StatusCode::CONFLICT).await;

    // An admin may retry anyone's failed item; the new job is claimable.
    fail_for_good().await;
    let r = retry(Some(&admin)).await.unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(
        s.state.repo.jobs_for_media(&media_id).await.unwrap().len(),
        3
    );

    // In the API document.
    let doc: Value = s
        .client
        .get(s.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let op = &doc["paths"]["/v1/media/{id}/retry"]["post"];
    for code in ["202", "404", "409"] {
        assert!(op["responses"][code].is_object(), "{op}");
    }
}
