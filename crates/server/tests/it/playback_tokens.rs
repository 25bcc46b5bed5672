//! Who gets playback tokens and when they stop working (issue 12, defect 3). Tokens go only to
//! whoever may manage an item (its owner, an admin); anonymous item JSON carries none. Making an
//! item private revokes every token minted before that moment — by path (`/v1/play/{token}/…`)
//! and as `?token=`, playlists and segments alike; tokens minted while it is private keep
//! working until they expire, the item is deleted, or it is made private again after being
//! public. Another replica sees the switch within `PLAYBACK_CACHE_TTL`.

use crate::common;

use common::{config_with, expect_error, fixtures, read, TestServer};
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

async fn item_json(s: &TestServer, id: &str, caller: Option<&str>) -> Value {
    let mut r = s.client.get(s.url(&format!("/v1/media/{id}")));
    if let Some(t) = caller {
        r = r.bearer_auth(t);
    }
    let r = r.send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// An explicit token from `POST /v1/media/{id}/playback-token`.
async fn mint(s: &TestServer, owner: &str, id: &str) -> String {
    let r = s
        .client
        .post(s.url(&format!("/v1/media/{id}/playback-token")))
        .bearer_auth(owner)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    v["token"].as_str().unwrap().to_string()
}

/// The files a player fetches, relative to the item: master, a media playlist, its first
/// segment, the DASH manifest.
async fn player_files(s: &TestServer, owner: &str, id: &str) -> Vec<String> {
    let playlist = s
        .get(&format!("/v1/media/{id}/hls/media_0.m3u8"), owner)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let segment = playlist
        .lines()
        .find(|l| !l.starts_with('#') && !l.is_empty())
        .expect("a segment")
        .to_string();
    vec![
        "hls/master.m3u8".into(),
        "hls/media_0.m3u8".into(),
        format!("hls/{segment}"),
        "dash/manifest.mpd".into(),
    ]
}

/// Every way `token` can be presented for `file`, with no login: in the path and as `?token=`.
fn token_urls(id: &str, token: &str, file: &str) -> [String; 2] {
    [
        format!("/v1/play/{token}/{file}"),
        format!("/v1/media/{id}/{file}?token={token}"),
    ]
}

async fn plays(s: &TestServer, id: &str, token: &str, files: &[String]) {
    for file in files {
        for url in token_urls(id, token, file) {
            let r = s.client.get(s.url(&url)).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{url}");
        }
    }
}

async fn refused(s: &TestServer, id: &str, token: &str, files: &[String]) {
    for file in files {
        for url in token_urls(id, token, file) {
            let r = s.client.get(s.url(&url)).send().await.unwrap();
            // Like a missing item: the holder learns nothing more.
            expect_error(r, StatusCode::NOT_FOUND).await;
        }
    }
}

#[tokio::test]
async fn only_whoever_manages_an_item_gets_tokens_in_its_json() {
    let s = TestServer::start_with(FAST).await;
    let admin = s.user_token("admin@example.com").await;
    let owner = s.user_token("owner@example.com").await;
    let stranger = s.user_token("stranger@example.com").await;
    let id = ready_video(&s, &owner).await;
    for visibility in ["public", "unlisted"] {
        set_visibility(&s, &owner, &id, visibility).await;
        let anonymous = item_json(&s, &id, None).await;
        assert!(
            anonymous["signed"].is_null(),
            "{visibility}: anonymous JSON mints a token: {}",
            anonymous["signed"]
        );
        // It needs none: the plain URLs play.
        let r = s
            .client
            .get(s.url(anonymous["playback"]["hls"].as_str().unwrap()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let other = item_json(&s, &id, Some(&stranger)).await;
        assert!(other["signed"].is_null(), "{visibility}: another user");
        for manager in [&owner, &admin] {
            let v = item_json(&s, &id, Some(manager)).await;
            assert!(
                v["signed"]["hls"]
                    .as_str()
                    .unwrap()
                    .starts_with("/v1/play/"),
                "{visibility}: {v}"
            );
        }
    }
}

#[tokio::test]
async fn making_an_item_private_revokes_the_tokens_minted_before() {
    let s = TestServer::start_with(FAST).await;
    let owner = s.user_token("owner@example.com").await;
    let id = ready_video(&s, &owner).await;
    let files = player_files(&s, &owner, &id).await;
    set_visibility(&s, &owner, &id, "public").await;

    // Tokens handed out while it is public: the one in the owner's item JSON and an explicit
    // one. Both work (and are remembered as verified).
    let implicit = item_json(&s, &id, Some(&owner)).await["signed"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let shared = mint(&s, &owner, &id).await;
    plays(&s, &id, &implicit, &files).await;
    plays(&s, &id, &shared, &files).await;

    // Private: neither plays any more, playlists nor segments, by path nor by query.
    set_visibility(&s, &owner, &id, "private").await;
    refused(&s, &id, &implicit, &files).await;
    refused(&s, &id, &shared, &files).await;
    // Public again does not bring them back as tokens (the plain URLs are open anyway).
    set_visibility(&s, &owner, &id, "unlisted").await;
    set_visibility(&s, &owner, &id, "private").await;
    refused(&s, &id, &shared, &files).await;

    // A token the owner mints while it is private is what private sharing is for: it plays,
    // and keeps playing while the item stays private.
    let private_share = mint(&s, &owner, &id).await;
    plays(&s, &id, &private_share, &files).await;
    let title = s
        .client
        .patch(s.url(&format!("/v1/media/{id}")))
        .bearer_auth(&owner)
        .json(&json!({ "title": "renamed" }))
        .send()
        .await
        .unwrap();
    assert_eq!(title.status(), StatusCode::OK);
    // Saying "private" again while it is private changes nothing.
    set_visibility(&s, &owner, &id, "private").await;
    plays(&s, &id, &private_share, &files).await;
    // The owner's own JSON keeps giving working URLs while private.
    let own = item_json(&s, &id, Some(&owner)).await["signed"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    plays(&s, &id, &own, &files).await;

    // Made private again after being public: revoked too.
    set_visibility(&s, &owner, &id, "public").await;
    set_visibility(&s, &owner, &id, "private").await;
    refused(&s, &id, &private_share, &files).await;
    refused(&s, &id, &own, &files).await;

    // Deleted: every token is gone with it.
    let last = mint(&s, &owner, &id).await;
    plays(&s, &id, &last, &files).await;
    let r = s
        .client
        .delete(s.url(&format!("/v1/media/{id}")))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    refused(&s, &id, &last, &files).await;
}

/// Two replicas on one database: the switch made through one reaches playback on the other
/// within `PLAYBACK_CACHE_TTL` (its item rows are trusted that long).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_replica_stops_honouring_revoked_tokens_within_the_cache_ttl() {
    let a = TestServer::start_with(FAST).await;
    let config = config_with(a.dir.path(), &[]);
    let state = mediaserver::build_state(&config).await.unwrap();
    let b = TestServer::start_state(tempfile::tempdir().unwrap(), &config, state).await;
    let owner = a.user_token("owner@example.com").await;
    let id = ready_video(&a, &owner).await;
    let files = player_files(&a, &owner, &id).await;
    set_visibility(&a, &owner, &id, "public").await;
    let token = item_json(&a, &id, Some(&owner)).await["signed"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    // Replica B has the item's row and the token in its caches.
    plays(&b, &id, &token, &files).await;

    set_visibility(&a, &owner, &id, "private").await;
    tokio::time::sleep(mediaserver_api::PLAYBACK_CACHE_TTL + std::time::Duration::from_millis(300))
        .await;
    refused(&b, &id, &token, &files).await;
    refused(&a, &id, &token, &files).await;
}
