//! Playback over HTTP: HLS and DASH served from storage with the right types, ranges, caching
//! and CORS; visibility; playback tokens that survive relative URI resolution; bad paths.

use crate::common;

use common::{expect_error, fixtures, read, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

const FAST: &[(&str, &str)] = &[("WORKERS", "1"), ("TRANSCODE_PRESET", "ultrafast")];

async fn ready_video(s: &TestServer, token: &str) -> String {
    let id = s.upload_ok(token, "clip.mp4", read(&fixtures().mp4)).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(s.wait_done(token, &id, 120).await["status"], "ready");
    id
}

/// Resolves `uri` against the URL of the playlist it appeared in, as a player does.
fn resolve(base: &str, uri: &str) -> String {
    reqwest::Url::parse(base)
        .unwrap()
        .join(uri)
        .unwrap()
        .to_string()
}

/// Walks master → media playlists → init and first segment; returns the first segment's URL.
pub(crate) async fn walk_hls(
    client: &reqwest::Client,
    master_url: &str,
    auth: Option<&str>,
) -> String {
    let get = |url: String| {
        let mut r = client.get(url);
        if let Some(t) = auth {
            r = r.bearer_auth(t);
        }
        r
    };
    let r = get(master_url.to_string()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{master_url}");
    assert_eq!(r.headers()["content-type"], "application/vnd.apple.mpegurl");
    let master = r.text().await.unwrap();
    assert!(master.contains("#EXT-X-STREAM-INF"), "{master}");
    let playlist_uri = master
        .lines()
        .find(|l| !l.starts_with('#') && !l.is_empty())
        .unwrap();
    let playlist_url = resolve(master_url, playlist_uri);
    let playlist = get(playlist_url.clone())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let map = playlist
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-MAP:URI=\""))
        .map(|rest| rest.trim_end_matches('"').to_string())
        .expect("EXT-X-MAP");
    let r = get(resolve(&playlist_url, &map)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "init {map}");
    let segment = playlist
        .lines()
        .find(|l| !l.starts_with('#') && !l.is_empty())
        .unwrap();
    let segment_url = resolve(&playlist_url, segment);
    let r = get(segment_url.clone()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "segment {segment}");
    assert!(!r.bytes().await.unwrap().is_empty());
    segment_url
}

#[tokio::test]
async fn hls_and_dash_are_served_with_types_ranges_and_caching() {
    let s = TestServer::start_with(FAST).await;
    let token = s.user_token("me@example.com").await;
    let id = ready_video(&s, &token).await;
    let base = s.url(&format!("/v1/media/{id}"));

    let segment = walk_hls(&s.client, &format!("{base}/hls/master.m3u8"), Some(&token)).await;
    let r = s
        .client
        .get(&segment)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "video/iso.segment");
    assert!(r.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let size: u64 = r.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let r = s
        .client
        .get(&segment)
        .bearer_auth(&token)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    let r = s
        .client
        .get(&segment)
        .bearer_auth(&token)
        .header("range", "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.bytes().await.unwrap().len(), 100);
    let r = s
        .client
        .get(&segment)
        .bearer_auth(&token)
        .header("range", format!("bytes={}-", size + 10))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::RANGE_NOT_SATISFIABLE).await;
    let r = s
        .client
        .head(&segment)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-length"], size.to_string());

    let r = s
        .client
        .get(format!("{base}/hls/master.m3u8"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let cc = r.headers()["cache-control"].to_str().unwrap().to_string();
    // Revalidated every time: an uploaded caption track shows in the next manifest a player
    // loads.
    assert!(!cc.contains("immutable") && cc.contains("no-cache"), "{cc}");

    let r = s
        .client
        .get(format!("{base}/dash/manifest.mpd"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/dash+xml");
    assert!(r.text().await.unwrap().contains("<MPD"));
    for (path, ctype) in [
        ("thumbnail.jpg", "image/jpeg"),
        ("storyboard.vtt", "text/vtt; charset=utf-8"),
        ("storyboard.jpg", "image/jpeg"),
    ] {
        let r = s
            .client
            .get(format!("{base}/{path}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(r.headers()["content-type"], ctype, "{path}");
    }
    // A player on another origin may read it.
    let r = s
        .client
        .get(format!("{base}/hls/master.m3u8"))
        .bearer_auth(&token)
        .header("origin", "https://player.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], "*");

    // The item JSON carries the entry points.
    let item: Value = s
        .get(&format!("/v1/media/{id}"), &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        item["playback"]["dash"],
        format!("/v1/media/{id}/dash/manifest.mpd")
    );
    assert_eq!(
        item["storyboard_url"],
        format!("/v1/media/{id}/storyboard.vtt")
    );
    assert!(item["signed"]["hls"]
        .as_str()
        .unwrap()
        .starts_with("/v1/play/"));
}

#[tokio::test]
async fn private_items_play_with_a_token_and_not_without() {
    let s = TestServer::start_with(FAST).await;
    let alice = s.user_token("alice@example.com").await;
    let bob = s.user_token("bob@example.com").await;
    let id = ready_video(&s, &alice).await;
    let other = ready_video(&s, &alice).await;
    let master = format!("/v1/media/{id}/hls/master.m3u8");

    expect_error(
        s.client.get(s.url(&master)).send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_error(
        s.get(&master, &bob).send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;

    let r = s
        .client
        .post(s.url(&format!("/v1/media/{id}/playback-token")))
        .bearer_auth(&alice)
        .json(&json!({"ttl_seconds": 600}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let signed: Value = r.json().await.unwrap();
    let token = signed["token"].as_str().unwrap();
    // No login at all: the token in the path survives relative resolution down to segments.
    walk_hls(&s.client, &s.url(signed["hls"].as_str().unwrap()), None).await;
    let r = s
        .client
        .get(s.url(signed["dash"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // Also as ?token= on the item's own URLs.
    let r = s
        .client
        .get(s.url(&format!("{master}?token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // Another item's token, a tampered one, an expired one.
    let r = s
        .client
        .get(s.url(&format!("/v1/media/{other}/hls/master.m3u8?token={token}")))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::FORBIDDEN).await;
    let mut tampered = token.to_string();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let r = s
        .client
        .get(s.url(&format!("/v1/play/{tampered}/hls/master.m3u8")))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::UNAUTHORIZED).await;
    let short: Value = s
        .client
        .post(s.url(&format!("/v1/media/{id}/playback-token")))
        .bearer_auth(&alice)
        .json(&json!({"ttl_seconds": 1}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let r = s
        .client
        .get(s.url(short["hls"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    let msg = expect_error(r, StatusCode::UNAUTHORIZED).await;
    assert!(msg.contains("expired"), "{msg}");
    // Only the owner mints tokens; bad lifetimes are refused.
    let r = s
        .client
        .post(s.url(&format!("/v1/media/{id}/playback-token")))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::NOT_FOUND).await;
    let r = s
        .client
        .post(s.url(&format!("/v1/media/{id}/playback-token")))
        .bearer_auth(&alice)
        .json(&json!({"ttl_seconds": 0}))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn unlisted_and_public_items_and_the_public_listing() {
    let s = TestServer::start_with(FAST).await;
    let alice = s.user_token("alice@example.com").await;
    let public = ready_video(&s, &alice).await;
    let unlisted = s.upload_ok(&alice, "a.png", read(&fixtures().png)).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    s.upload_ok(&alice, "private.png", read(&fixtures().png))
        .await;
    assert_eq!(s.wait_done(&alice, &unlisted, 60).await["status"], "ready");
    for (id, vis) in [(&public, "public"), (&unlisted, "unlisted")] {
        let r = s
            .client
            .patch(s.url(&format!("/v1/media/{id}")))
            .bearer_auth(&alice)
            .json(&json!({"visibility": vis}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    // Anyone with the id.
    walk_hls(
        &s.client,
        &s.url(&format!("/v1/media/{public}/hls/master.m3u8")),
        None,
    )
    .await;
    let r = s
        .client
        .get(s.url(&format!("/v1/media/{unlisted}/variants/thumb.webp")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/webp");
    assert!(r.headers()["cache-control"]
        .to_str()
        .unwrap()
        .starts_with("public"));
    // Only public items are listed, to anyone.
    let page: Value = s
        .client
        .get(s.url("/v1/media/public"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![public.as_str()]);
    assert!(
        page["items"][0]["signed"].is_null(),
        "no tokens handed out to anonymous callers"
    );
}

#[tokio::test]
async fn bad_paths_queued_items_and_deleted_items_are_404() {
    let s = TestServer::start_with(FAST).await;
    let token = s.user_token("me@example.com").await;
    let id = ready_video(&s, &token).await;
    let signed: Value = s
        .client
        .post(s.url(&format!("/v1/media/{id}/playback-token")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let play = signed["hls"]
        .as_str()
        .unwrap()
        .trim_end_matches("/hls/master.m3u8")
        .to_string();
    for bad in [
        format!("/v1/media/{id}/hls/..%2F..%2Foriginals%2F{id}%2Fclip.mp4"),
        format!("/v1/media/{id}/hls/%2e%2e/%2e%2e/jwt-secret"),
        format!("/v1/media/{id}/hls/..%5c..%5cjwt-secret"),
        format!("/v1/media/{id}/dash/....//master.m3u8"),
        format!("{play}/hls/..%2F..%2F..%2Fjwt-secret"),
        format!("{play}/variants/..%2Fthumbnail.jpg"),
        format!("/v1/media/{id}/original.mp4"),
    ] {
        let r = s.get(&bad, &token).send().await.unwrap();
        expect_error(r, StatusCode::NOT_FOUND).await;
    }

    // Still queued: a JSON 404, not an empty playlist.
    let idle = TestServer::start().await;
    let t = idle.user_token("me@example.com").await;
    let queued = idle.upload_ok(&t, "clip.mp4", read(&fixtures().mp4)).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let msg = expect_error(
        idle.get(&format!("/v1/media/{queued}/hls/master.m3u8"), &t)
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(msg.contains("queued"), "{msg}");

    // Deleted: its segments are gone with it.
    let master = s
        .get(&format!("/v1/media/{id}/hls/master.m3u8"), &token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let playlist = master
        .lines()
        .find(|l| !l.starts_with('#') && !l.is_empty())
        .unwrap()
        .to_string();
    assert_eq!(
        s.client
            .delete(s.url(&format!("/v1/media/{id}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let r = s
        .get(&format!("/v1/media/{id}/hls/{playlist}"), &token)
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::NOT_FOUND).await;
    let r = s
        .client
        .get(s.url(&format!("{play}/hls/{playlist}")))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn public_base_url_redirects_segments() {
    let s = TestServer::start_with(&[
        ("WORKERS", "1"),
        ("TRANSCODE_PRESET", "ultrafast"),
        ("PUBLIC_BASE_URL", "https://cdn.example.com/media-bucket"),
    ])
    .await;
    let token = s.user_token("me@example.com").await;
    let id = ready_video(&s, &token).await;
    let master = s
        .get(&format!("/v1/media/{id}/hls/master.m3u8"), &token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let playlist_uri = master
        .lines()
        .find(|l| !l.starts_with('#') && !l.is_empty())
        .unwrap();
    let playlist = s
        .get(&format!("/v1/media/{id}/hls/{playlist_uri}"), &token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let segment = playlist
        .lines()
        .find(|l| !l.starts_with('#') && !l.is_empty())
        .unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client
        .get(s.url(&format!("/v1/media/{id}/hls/{segment}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(
        r.headers()["location"],
        format!("https://cdn.example.com/media-bucket/media/{id}/stream/{segment}")
    );
}
