//! Playback answers small files of ready items from memory and trusts a ready item's row for a
//! moment (see `http::playback_cache`). What a user depends on: repeated requests are answered
//! exactly like the first (ranges, validators, HEAD), a change made through this server —
//! delete, switch to private — applies to the very next request, and a change made by another
//! process sharing the database applies within `PLAYBACK_CACHE_TTL`.

use crate::common;

use common::{expect_error, fixtures, read, TestServer};
use mediaserver_core::{MediaPatch, Visibility};
use reqwest::StatusCode;
use serde_json::json;

const FAST: &[(&str, &str)] = &[("WORKERS", "1"), ("TRANSCODE_PRESET", "ultrafast")];

async fn ready_public_video(s: &TestServer, token: &str) -> String {
    let id = s.upload_ok(token, "clip.mp4", read(&fixtures().mp4)).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(s.wait_done(token, &id, 120).await["status"], "ready");
    set_visibility(s, token, &id, "public").await;
    id
}

async fn set_visibility(s: &TestServer, token: &str, id: &str, visibility: &str) {
    let r = s
        .client
        .patch(s.url(&format!("/v1/media/{id}")))
        .bearer_auth(token)
        .json(&json!({ "visibility": visibility }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

async fn anonymous(s: &TestServer, path: &str) -> reqwest::Response {
    s.client.get(s.url(path)).send().await.unwrap()
}

#[tokio::test]
async fn repeated_requests_are_answered_like_the_first() {
    let s = TestServer::start_with(FAST).await;
    let token = s.user_token("me@example.com").await;
    let id = ready_public_video(&s, &token).await;

    for file in [
        "hls/master.m3u8",
        "hls/media_0.m3u8",
        "dash/manifest.mpd",
        "storyboard.vtt",
    ] {
        let path = format!("/v1/media/{id}/{file}");
        let first = anonymous(&s, &path).await;
        assert_eq!(first.status(), StatusCode::OK, "{file}");
        let etag = first.headers()["etag"].to_str().unwrap().to_string();
        let ctype = first.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_string();
        let cc = first.headers()["cache-control"]
            .to_str()
            .unwrap()
            .to_string();
        let body = first.bytes().await.unwrap();
        assert!(body.len() > 10, "{file}");

        for _ in 0..3 {
            let again = anonymous(&s, &path).await;
            assert_eq!(again.status(), StatusCode::OK, "{file}");
            assert_eq!(again.headers()["etag"], etag.as_str(), "{file}");
            assert_eq!(again.headers()["content-type"], ctype.as_str(), "{file}");
            assert_eq!(again.headers()["cache-control"], cc.as_str(), "{file}");
            assert_eq!(again.headers()["access-control-allow-origin"], "*");
            assert!(again.headers().contains_key("x-request-id"));
            assert_eq!(again.bytes().await.unwrap(), body, "{file}");
        }

        let r = s
            .client
            .get(s.url(&path))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED, "{file}");
        assert!(r.bytes().await.unwrap().is_empty());

        let r = s
            .client
            .get(s.url(&path))
            .header("range", "bytes=2-9")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT, "{file}");
        assert_eq!(
            r.headers()["content-range"],
            format!("bytes 2-9/{}", body.len()).as_str()
        );
        assert_eq!(r.bytes().await.unwrap(), body.slice(2..10), "{file}");

        let r = s
            .client
            .get(s.url(&path))
            .header("range", "bytes=-4")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT, "{file}");
        assert_eq!(r.bytes().await.unwrap(), body.slice(body.len() - 4..));

        // A stale If-Range: the whole file.
        let r = s
            .client
            .get(s.url(&path))
            .header("range", "bytes=2-9")
            .header("if-range", "\"old\"")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{file}");
        assert_eq!(r.bytes().await.unwrap(), body);

        let r = s
            .client
            .get(s.url(&path))
            .header("range", format!("bytes={}-", body.len()))
            .send()
            .await
            .unwrap();
        expect_error(r, StatusCode::RANGE_NOT_SATISFIABLE).await;

        let r = s.client.head(s.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{file}");
        assert_eq!(
            r.headers()["content-length"],
            body.len().to_string().as_str()
        );
        assert_eq!(r.headers()["etag"], etag.as_str());
        assert!(r.bytes().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn changes_through_this_server_apply_to_the_next_request() {
    let s = TestServer::start_with(FAST).await;
    let token = s.user_token("me@example.com").await;
    let id = ready_public_video(&s, &token).await;
    let playlist = format!("/v1/media/{id}/hls/media_0.m3u8");
    let signed: serde_json::Value = s
        .client
        .post(s.url(&format!("/v1/media/{id}/playback-token")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let signed_playlist = signed["hls"]
        .as_str()
        .unwrap()
        .replace("master.m3u8", "media_0.m3u8");
    for _ in 0..3 {
        assert_eq!(anonymous(&s, &playlist).await.status(), StatusCode::OK);
        assert_eq!(
            anonymous(&s, &signed_playlist).await.status(),
            StatusCode::OK
        );
    }

    // Private: strangers are refused at once, and so are the tokens handed out while it was
    // public (issue 12, defect 3); the owner still plays.
    set_visibility(&s, &token, &id, "private").await;
    expect_error(anonymous(&s, &playlist).await, StatusCode::NOT_FOUND).await;
    let r = s.get(&playlist, &token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["cache-control"]
        .to_str()
        .unwrap()
        .starts_with("private"));
    expect_error(anonymous(&s, &signed_playlist).await, StatusCode::NOT_FOUND).await;
    // A token minted while private plays.
    let signed: serde_json::Value = s
        .client
        .post(s.url(&format!("/v1/media/{id}/playback-token")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let signed_playlist = signed["hls"]
        .as_str()
        .unwrap()
        .replace("master.m3u8", "media_0.m3u8");
    assert_eq!(
        anonymous(&s, &signed_playlist).await.status(),
        StatusCode::OK
    );

    // Public again: open again at once, and shared caches may keep it again.
    set_visibility(&s, &token, &id, "public").await;
    let r = anonymous(&s, &playlist).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["cache-control"]
        .to_str()
        .unwrap()
        .starts_with("public"));

    // Deleted: gone for everyone on the next request, by every path.
    let r = s
        .client
        .delete(s.url(&format!("/v1/media/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    expect_error(anonymous(&s, &playlist).await, StatusCode::NOT_FOUND).await;
    expect_error(
        s.get(&playlist, &token).send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_error(anonymous(&s, &signed_playlist).await, StatusCode::NOT_FOUND).await;
    expect_error(
        anonymous(&s, &format!("/v1/media/{id}/hls/master.m3u8")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn changes_by_another_process_apply_within_the_cache_ttl() {
    let s = TestServer::start_with(FAST).await;
    let token = s.user_token("me@example.com").await;
    let id = ready_public_video(&s, &token).await;
    let playlist = format!("/v1/media/{id}/hls/media_0.m3u8");
    for _ in 0..3 {
        assert_eq!(anonymous(&s, &playlist).await.status(), StatusCode::OK);
    }
    let settle = mediaserver_api::PLAYBACK_CACHE_TTL + std::time::Duration::from_millis(300);

    // Written straight to the database, as another replica would: this server is not told.
    s.state
        .repo
        .update_media(
            &id.parse().unwrap(),
            &MediaPatch {
                title: None,
                visibility: Some(Visibility::Private),
            },
        )
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(settle).await;
    expect_error(anonymous(&s, &playlist).await, StatusCode::NOT_FOUND).await;

    s.state
        .repo
        .update_media(
            &id.parse().unwrap(),
            &MediaPatch {
                title: None,
                visibility: Some(Visibility::Public),
            },
        )
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(settle).await;
    assert_eq!(anonymous(&s, &playlist).await.status(), StatusCode::OK);

    assert!(s
        .state
        .repo
        .delete_media(&id.parse().unwrap())
        .await
        .unwrap());
    tokio::time::sleep(settle).await;
    expect_error(anonymous(&s, &playlist).await, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn a_signed_url_in_use_stops_working_when_its_token_expires() {
    let s = TestServer::start_with(FAST).await;
    let token = s.user_token("me@example.com").await;
    let id = ready_public_video(&s, &token).await;
    set_visibility(&s, &token, &id, "private").await;
    let short: serde_json::Value = s
        .client
        .post(s.url(&format!("/v1/media/{id}/playback-token")))
        .bearer_auth(&token)
        .json(&json!({ "ttl_seconds": 1 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let playlist = short["hls"]
        .as_str()
        .unwrap()
        .replace("master.m3u8", "media_0.m3u8");
    // Accepted (and remembered as verified) while valid, via the path and via ?token=.
    let query = format!(
        "/v1/media/{id}/hls/media_0.m3u8?token={}",
        short["token"].as_str().unwrap()
    );
    for _ in 0..3 {
        assert_eq!(anonymous(&s, &playlist).await.status(), StatusCode::OK);
        assert_eq!(anonymous(&s, &query).await.status(), StatusCode::OK);
    }
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    for path in [&playlist, &query] {
        let msg = expect_error(anonymous(&s, path).await, StatusCode::UNAUTHORIZED).await;
        assert!(msg.contains("expired"), "{msg}");
    }
}

/// A file of a ready item too large to keep in memory (here a 200 KiB storyboard) is answered
/// from storage for HEAD, ranges and revalidation alike.
#[tokio::test]
async fn a_large_file_answers_head_ranges_and_revalidation() {
    let s = TestServer::start_with(FAST).await;
    let token = s.user_token("me@example.com").await;
    let id = ready_public_video(&s, &token).await;
    let big: Vec<u8> = (0..200 * 1024).map(|i| (i % 251) as u8).collect();
    let key = mediaserver_storage::ObjectKey::new(format!("media/{id}/storyboard.jpg")).unwrap();
    s.state
        .output_store
        .put_bytes(&key, big.clone().into())
        .await
        .unwrap();
    let path = s.url(&format!("/v1/media/{id}/storyboard.jpg"));

    let head = s.client.head(&path).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(
        head.headers()["content-length"],
        big.len().to_string().as_str()
    );
    let etag = head.headers()["etag"].to_str().unwrap().to_string();

    let part = s
        .client
        .get(&path)
        .header("range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.bytes().await.unwrap(), &big[100..200]);

    let same = s
        .client
        .get(&path)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), StatusCode::NOT_MODIFIED);

    let whole = s.client.get(&path).send().await.unwrap();
    assert_eq!(whole.headers()["etag"], etag.as_str());
    assert_eq!(whole.bytes().await.unwrap(), big);
}
