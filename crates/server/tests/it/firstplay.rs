//! First play (issue 15 §2): with the adaptive ladder the item is `playable` before the main
//! encode has written anything past the first segment: the master's every variant and audio
//! playlist holds a 2 s first segment (the head, encoded beside the complexity probe), and
//! those segments are what stays published once the item is ready.

use crate::common;

use common::{read, TestServer};
use mediaserver_storage::ObjectKey;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// 20 s of 1280x720 with audio.
fn clip() -> PathBuf {
    common::ffmpeg_fixture(
        "firstplay-720p.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1280x720:rate=30:duration=20",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=300:duration=20",
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

async fn bytes(s: &TestServer, key: &str) -> Vec<u8> {
    let key = ObjectKey::new(key.to_string()).expect("key");
    s.state
        .output_store
        .read_at(&key, 0..100_000_000)
        .await
        .unwrap_or_else(|e| panic!("{key:?}: {e}"))
        .to_vec()
}

async fn text(s: &TestServer, key: &str) -> String {
    String::from_utf8(bytes(s, key).await).expect("utf-8 playlist")
}

/// The playlists a master names: variant URI lines and `URI="…"` attributes.
fn playlists(master: &str) -> Vec<String> {
    let mut out: Vec<String> = master
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    for l in master.lines().filter(|l| l.starts_with("#EXT-X-MEDIA:")) {
        if let Some(uri) = l.split("URI=\"").nth(1).and_then(|r| r.split('"').next()) {
            out.push(uri.to_string());
        }
    }
    out
}

/// (segment URI, EXTINF) of a media playlist.
fn segments(playlist: &str) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    let mut pending = None;
    for l in playlist.lines() {
        if let Some(d) = l.strip_prefix("#EXTINF:") {
            pending = d.trim_end_matches(',').parse().ok();
        } else if !l.starts_with('#') && !l.trim().is_empty() {
            out.push((l.to_string(), pending.take().expect("EXTINF")));
        }
    }
    out
}

#[tokio::test]
async fn playable_with_every_rungs_short_first_segment_before_the_body() {
    let s = TestServer::start_with(&[
        ("WORKERS", "1"),
        ("TRANSCODE_PRESET", "ultrafast"),
        ("LADDER_MODE", "adaptive"),
    ])
    .await;
    let token = s.user_token("me@example.com").await;
    let id = s.upload_ok(&token, "clip.mp4", read(&clip())).await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let it = item(&s, &token, &id).await;
        assert_ne!(it["status"], "failed", "{it}");
        assert_ne!(
            it["status"], "ready",
            "ready before it was ever playable: {it}"
        );
        if it["playable"] == true {
            break;
        }
        assert!(Instant::now() < deadline, "never playable: {it}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // What a player finds now: every playlist of the master starts with a 2 s segment (the
    // top rung's, listed first, right after the others': until then its playlist is live and
    // empty), and the body is not done (EVENT playlists, the item still processing).
    let base = format!("media/{id}/stream/");
    let master = text(&s, &format!("{base}master.m3u8")).await;
    let names = playlists(&master);
    assert!(names.len() >= 3, "several rungs and audio: {master}");
    let mut first = HashMap::new();
    for name in &names {
        let mut playlist = text(&s, &format!("{base}{name}")).await;
        while name == &names[0] && segments(&playlist).is_empty() {
            assert!(
                playlist.contains("#EXT-X-PLAYLIST-TYPE:EVENT"),
                "{playlist}"
            );
            assert!(Instant::now() < deadline, "the top rung's head never came");
            tokio::time::sleep(Duration::from_millis(50)).await;
            playlist = text(&s, &format!("{base}{name}")).await;
        }
        assert!(
            playlist.contains("#EXT-X-PLAYLIST-TYPE:EVENT"),
            "{playlist}"
        );
        assert!(!playlist.contains("#EXT-X-ENDLIST"), "{playlist}");
        let segs = segments(&playlist);
        let (uri, d) = segs.first().unwrap_or_else(|| panic!("{name}: {playlist}"));
        assert!((d - 2.0).abs() < 0.05, "{name}: first segment {d} s");
        first.insert(uri.clone(), bytes(&s, &format!("{base}{uri}")).await);
    }

    let ready = loop {
        let it = item(&s, &token, &id).await;
        assert_ne!(it["status"], "failed", "{it}");
        if it["status"] == "ready" {
            break it;
        }
        assert!(Instant::now() < deadline, "never ready: {it}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // The encode report says the first segment's CRF beside the rest's, per rung.
    let renditions = ready["encode"]["renditions"]
        .as_array()
        .expect("encode report");
    assert!(!renditions.is_empty(), "{ready}");
    for r in renditions {
        assert_eq!(r["head_seconds"], 2, "{r}");
        assert!(
            r["head_crf"].as_i64().is_some() && r["crf"].as_i64().is_some(),
            "{r}"
        );
    }
    // The first segments players got are the published ones; the video's later segments are
    // 4 s long.
    for (uri, got) in &first {
        assert!(
            bytes(&s, &format!("{base}{uri}")).await == *got,
            "{uri} changed"
        );
    }
    let master = text(&s, &format!("{base}master.m3u8")).await;
    let video = playlists(&master)
        .into_iter()
        .find(|n| !master.contains(&format!("URI=\"{n}\"")))
        .expect("a variant");
    let d: Vec<f64> = segments(&text(&s, &format!("{base}{video}")).await)
        .iter()
        .map(|x| x.1)
        .collect();
    assert_eq!(d.len(), 6, "{d:?}");
    assert!((d[0] - 2.0).abs() < 1e-3, "{d:?}");
    assert!(d[1..5].iter().all(|d| (d - 4.0).abs() < 1e-3), "{d:?}");
}
