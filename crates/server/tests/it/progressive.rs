//! Playable within seconds: while the ladder encodes, the worker publishes finished segments and
//! growing EVENT playlists and marks the item playable long before it is ready; a failed
//! attempt takes everything back.

use crate::common;

use common::{read, TestServer};
use mediaserver_storage::ObjectKey;
use serde_json::Value;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const FAST: &[(&str, &str)] = &[("WORKERS", "1"), ("TRANSCODE_PRESET", "ultrafast")];

/// 30 s of 1280x720 with audio, `moov` first (so a truncated copy still probes as 30 s).
fn clip() -> PathBuf {
    common::ffmpeg_fixture(
        "progressive-720p.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1280x720:rate=30:duration=30",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=300:duration=30",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-movflags",
            "+faststart",
            "-shortest",
        ],
    )
}

async fn item(s: &TestServer, token: &str, id: &str) -> Value {
    s.get(&format!("/v1/media/{id}"), token)
        .send()
        .await
        .expect("get media")
        .json()
        .await
        .expect("media json")
}

async fn text(s: &TestServer, key: &str) -> String {
    let key = ObjectKey::new(key.to_string()).expect("key");
    let bytes = s
        .state
        .output_store
        .read_at(&key, 0..10_000_000)
        .await
        .unwrap_or_else(|e| panic!("{key:?}: {e}"));
    String::from_utf8(bytes.to_vec()).expect("utf-8 playlist")
}

async fn exists(s: &TestServer, key: &str) -> bool {
    s.state
        .output_store
        .head(&ObjectKey::new(key.to_string()).expect("key"))
        .await
        .is_ok()
}

/// Every URI a playlist references: URI lines and `URI="…"` attributes.
fn uris(playlist: &str) -> Vec<String> {
    let mut out: Vec<String> = playlist
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    for l in playlist.lines() {
        if let Some(uri) = l.split("URI=\"").nth(1).and_then(|r| r.split('"').next()) {
            out.push(uri.to_string());
        }
    }
    out
}

/// Reads the published master and its media playlists; asserts every reference resolves.
/// Returns the media playlists' texts.
async fn published_playlists(s: &TestServer, id: &str) -> Vec<String> {
    let base = format!("media/{id}/stream/");
    let master = text(s, &format!("{base}master.m3u8")).await;
    assert!(master.starts_with("#EXTM3U"), "{master}");
    let mut playlists = Vec::new();
    for uri in uris(&master) {
        let playlist = text(s, &format!("{base}{uri}")).await;
        for segment in uris(&playlist) {
            assert!(
                exists(s, &format!("{base}{segment}")).await,
                "{uri} references missing {segment}"
            );
        }
        playlists.push(playlist);
    }
    assert!(playlists.len() >= 2, "{master}");
    playlists
}

#[tokio::test]
async fn playable_while_processing_then_ready() {
    let s = TestServer::start_with(FAST).await;
    let token = s.user_token("me@example.com").await;
    let bytes = read(&clip());
    let id = s.upload_ok(&token, "long.mp4", bytes).await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let uploaded = Instant::now();

    let deadline = uploaded + Duration::from_secs(300);
    let (playable_after, at_playable) = loop {
        let it = item(&s, &token, &id).await;
        assert_ne!(it["status"], "failed", "{it}");
        assert_ne!(
            it["status"], "ready",
            "ready before it was ever playable: {it}"
        );
        if it["playable"] == true {
            assert_eq!(it["status"], "processing", "{it}");
            break (uploaded.elapsed(), it);
        }
        assert!(Instant::now() < deadline, "never playable: {it}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        at_playable["progress"].as_i64().unwrap_or(100) < 95,
        "{at_playable}"
    );

    // What a player finds right now: a master, growing EVENT playlists, every object present
    // (the top rung's, whose head comes right after the others', may have no segment yet: then
    // no init segment either).
    let playlists = published_playlists(&s, &id).await;
    let empty = playlists.iter().filter(|p| !p.contains("#EXTINF:")).count();
    assert!(
        empty <= 1,
        "more than the top rung's playlist empty: {playlists:?}"
    );
    for playlist in playlists {
        assert!(
            playlist.contains("#EXT-X-PLAYLIST-TYPE:EVENT"),
            "{playlist}"
        );
        assert!(!playlist.contains("#EXT-X-ENDLIST"), "{playlist}");
        assert_eq!(
            playlist.contains("#EXT-X-MAP:URI="),
            playlist.contains("#EXTINF:"),
            "{playlist}"
        );
    }
    // And over HTTP, as a player sees it: the entry point works, is not cached, DASH waits.
    assert_eq!(
        at_playable["playback"]["hls"],
        format!("/v1/media/{id}/hls/master.m3u8")
    );
    let r = s
        .get(&format!("/v1/media/{id}/hls/master.m3u8"), &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-cache");
    let master = r.text().await.unwrap();
    let variant = master
        .lines()
        .find(|l| !l.starts_with('#') && !l.is_empty())
        .unwrap()
        .to_string();
    let r = s
        .get(&format!("/v1/media/{id}/hls/{variant}"), &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("#EXT-X-PLAYLIST-TYPE:EVENT"));
    let r = s
        .get(&format!("/v1/media/{id}/dash/manifest.mpd"), &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(item(&s, &token, &id).await["status"], "processing");

    // Progress moves while encoding (it once sat at 0 until the very end).
    let mut progress_seen = 0;
    loop {
        let it = item(&s, &token, &id).await;
        if it["status"] != "processing" {
            break;
        }
        progress_seen = progress_seen.max(it["progress"].as_i64().unwrap_or(0));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(progress_seen > 0, "progress stayed at 0 while processing");

    let done = s.wait_done(&token, &id, 600).await;
    let ready_after = uploaded.elapsed();
    assert_eq!(done["status"], "ready", "{done}");
    assert_eq!(done["playable"], true);
    for playlist in published_playlists(&s, &id).await {
        assert!(playlist.contains("#EXT-X-PLAYLIST-TYPE:VOD"), "{playlist}");
        assert!(
            playlist.trim_end().ends_with("#EXT-X-ENDLIST"),
            "{playlist}"
        );
    }
    let master = text(&s, &format!("media/{id}/stream/master.m3u8")).await;
    assert!(
        master.contains("AVERAGE-BANDWIDTH="),
        "final master: {master}"
    );
    assert!(exists(&s, &format!("media/{id}/stream/manifest.mpd")).await);
    eprintln!(
        "progressive: 30 s 720p clip, upload→playable {:.1} s, upload→ready {:.1} s",
        playable_after.as_secs_f64(),
        ready_after.as_secs_f64()
    );
}

#[tokio::test]
async fn a_failed_attempt_takes_back_what_it_published() {
    let s = TestServer::start_with(FAST).await;
    let token = s.user_token("me@example.com").await;
    // The index says 30 s, the data ends halfway: the encode runs (and publishes) for a while,
    // then the job fails as truncated.
    let mut bytes = read(&clip());
    bytes.truncate(bytes.len() / 2);
    let id = s.upload_ok(&token, "cut.mp4", bytes).await["id"]
        .as_str()
        .expect("id")
        .to_string();

    let deadline = Instant::now() + Duration::from_secs(300);
    let mut was_playable = false;
    let done = loop {
        let it = item(&s, &token, &id).await;
        was_playable |= it["playable"] == true;
        if it["status"] == "failed" || it["status"] == "ready" {
            break it;
        }
        assert!(Instant::now() < deadline, "not done: {it}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(done["status"], "failed", "{done}");
    assert!(
        was_playable,
        "the first half should have been published: {done}"
    );
    assert_eq!(done["playable"], false, "{done}");
    let left = s
        .state
        .output_store
        .list(&format!("media/{id}/"))
        .await
        .expect("list");
    assert!(left.is_empty(), "left behind: {left:?}");
}
