//! End to end through the queue: uploads become jobs, in-process workers publish HLS + DASH,
//! thumbnails, storyboards and image variants to storage; failures carry their reason.

use crate::common;

use common::{ffprobe, fixtures, read, short_clip, TestServer};
use mediaserver_storage::ObjectKey;
use serde_json::Value;

const FAST: &[(&str, &str)] = &[("WORKERS", "1"), ("TRANSCODE_PRESET", "ultrafast")];

async fn object_text(s: &TestServer, key: &str) -> String {
    let key = ObjectKey::new(key.to_string()).unwrap();
    let bytes = s
        .state
        .output_store
        .read_at(&key, 0..10_000_000)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

async fn exists(s: &TestServer, key: &str) -> bool {
    s.state
        .output_store
        .head(&ObjectKey::new(key.to_string()).unwrap())
        .await
        .is_ok()
}

#[tokio::test]
async fn uploaded_video_becomes_ready_with_hls_dash_thumbnail_and_storyboard() {
    let s = TestServer::start_with(FAST).await;
    let token = s.user_token("me@example.com").await;
    let id = s.upload_ok(&token, "clip.mp4", read(&fixtures().mp4)).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let item = s.wait_done(&token, &id, 120).await;
    assert_eq!(item["status"], "ready", "{item}");
    assert_eq!(item["progress"], 100);
    assert_eq!(item["playable"], true);
    assert_eq!(item["width"], 320);
    assert_eq!(item["height"], 240);
    assert!(
        (item["duration_seconds"].as_f64().unwrap() - 1.0).abs() < 0.1,
        "{item}"
    );
    let renditions = item["renditions"].as_array().unwrap();
    assert!(!renditions.is_empty());
    assert!(renditions
        .iter()
        .all(|r| r["height"].as_i64().unwrap() <= 240));
    assert!(renditions
        .iter()
        .any(|r| r["codecs"].as_str().unwrap().contains("avc1")));
    assert_eq!(
        item["playback"]["hls"],
        format!("/v1/media/{id}/hls/master.m3u8")
    );
    assert_eq!(
        item["thumbnail_url"],
        format!("/v1/media/{id}/thumbnail.jpg")
    );

    // The packaged outputs are in the output bucket, and the manifests reference existing objects.
    let master = object_text(&s, &format!("media/{id}/stream/master.m3u8")).await;
    assert!(master.starts_with("#EXTM3U"), "{master}");
    for line in master
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let playlist_key = format!("media/{id}/stream/{line}");
        let playlist = object_text(&s, &playlist_key).await;
        for uri in playlist
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            assert!(
                exists(&s, &format!("media/{id}/stream/{uri}")).await,
                "missing {uri}"
            );
        }
    }
    let mpd = object_text(&s, &format!("media/{id}/stream/manifest.mpd")).await;
    assert!(mpd.contains("<MPD"), "{mpd}");
    for name in ["thumbnail.jpg", "storyboard.vtt", "storyboard.jpg"] {
        assert!(
            exists(&s, &format!("media/{id}/{name}")).await,
            "missing {name}"
        );
    }
    let jobs = s
        .state
        .repo
        .jobs_for_media(&id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].attempts, 1);
}

/// A 1-frame and a 5-frame clip: too short for a storyboard tile, still a video — ready on the
/// first attempt with a thumbnail, HLS and DASH (checked by ffprobe through the server), and
/// no storyboard.
#[tokio::test]
async fn very_short_videos_become_ready_without_a_storyboard() {
    // A quick retry, so that a failing attempt shows as a second one rather than a long wait.
    let s = TestServer::start_with(&[
        ("WORKERS", "1"),
        ("TRANSCODE_PRESET", "ultrafast"),
        ("JOB_RETRY_BACKOFF_SECONDS", "1"),
    ])
    .await;
    let token = s.user_token("me@example.com").await;
    for frames in [1, 5] {
        let name = format!("{frames}-frames.mp4");
        let id = s.upload_ok(&token, &name, read(&short_clip(frames))).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let item = s.wait_done(&token, &id, 120).await;
        assert_eq!(item["status"], "ready", "{frames} frame(s): {item}");
        assert_eq!(item["playable"], true, "{item}");
        assert_eq!(
            (item["width"].as_i64(), item["height"].as_i64()),
            (Some(320), Some(240))
        );
        assert_eq!(
            item["thumbnail_url"],
            format!("/v1/media/{id}/thumbnail.jpg")
        );
        assert!(item["storyboard_url"].is_null(), "{item}");
        let jobs = s
            .state
            .repo
            .jobs_for_media(&id.parse().unwrap())
            .await
            .unwrap();
        assert_eq!(jobs[0].attempts, 1, "{frames} frame(s): retried");

        let r = s
            .get(&format!("/v1/media/{id}/storyboard.vtt"), &token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        for name in ["storyboard.vtt", "storyboard.jpg"] {
            assert!(!exists(&s, &format!("media/{id}/{name}")).await, "{name}");
        }

        // What a player gets, read by ffprobe over HTTP.
        let signed: Value = s
            .client
            .post(s.url(&format!("/v1/media/{id}/playback-token")))
            .bearer_auth(&token)
            .json(&serde_json::json!({"ttl_seconds": 600}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for entry in ["hls", "dash"] {
            let url = s.url(signed[entry].as_str().unwrap());
            let probed = ffprobe(&url, "stream=codec_name,width,height").await;
            let video = probed["streams"]
                .as_array()
                .unwrap()
                .iter()
                .find(|st| st["codec_name"] == "h264")
                .unwrap_or_else(|| panic!("{entry}: no h264 stream in {probed}"));
            assert_eq!(
                (video["width"].as_i64(), video["height"].as_i64()),
                (Some(320), Some(240)),
                "{entry}"
            );
        }
        let thumb = ffprobe(
            &s.url(signed["thumbnail"].as_str().unwrap()),
            "stream=codec_name,width,height",
        )
        .await;
        assert_eq!(thumb["streams"][0]["codec_name"], "mjpeg", "{thumb}");
        assert_eq!(thumb["streams"][0]["width"], 320, "{thumb}");
    }
}

/// A truncated MP4 (its header still sniffs as video): the item's error says what is wrong
/// with the file, in words, without the worker's scratch paths (those go to the log).
#[tokio::test]
async fn a_failed_items_error_names_no_internal_path() {
    let s = TestServer::start_with(FAST).await;
    let token = s.user_token("me@example.com").await;
    let mut bytes = read(&fixtures().mp4);
    bytes.truncate(bytes.len() / 2);
    let id = s.upload_ok(&token, "cut.mp4", bytes).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let item = s.wait_done(&token, &id, 60).await;
    assert_eq!(item["status"], "failed", "{item}");
    let error = item["error"].as_str().unwrap();
    for internal in ["/", "tmp", "job-", "file:", "0x"] {
        assert!(
            !error.contains(internal),
            "{internal:?} in the error: {error}"
        );
    }
    assert!(error.contains("truncated"), "{error}");
}

#[tokio::test]
async fn images_and_audio_are_processed_too() {
    let s = TestServer::start_with(FAST).await;
    let token = s.user_token("me@example.com").await;
    let img = s
        .upload_ok(&token, "frame.png", read(&fixtures().png))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let snd = s.upload_ok(&token, "tone.wav", read(&fixtures().wav)).await["id"]
        .as_str()
        .unwrap()
        .to_string();

    let item = s.wait_done(&token, &img, 60).await;
    assert_eq!(item["status"], "ready", "{item}");
    let names: Vec<String> = item["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["url"].as_str().unwrap().to_string())
        .collect();
    for expected in ["thumb.jpg", "thumb.webp", "large.jpg", "large.webp"] {
        assert!(names.iter().any(|n| n.ends_with(expected)), "{names:?}");
    }
    assert_eq!(item["width"], 64);

    let item = s.wait_done(&token, &snd, 60).await;
    assert_eq!(item["status"], "ready", "{item}");
    let renditions = item["renditions"].as_array().unwrap();
    assert_eq!(renditions.len(), 2, "{item}");
    assert!(renditions.iter().all(|r| r["codecs"] == "mp4a.40.2"));
    assert!(exists(&s, &format!("media/{snd}/stream/master.m3u8")).await);
}

#[tokio::test]
async fn truncated_video_fails_with_a_reason_and_no_retry() {
    let s = TestServer::start_with(FAST).await;
    let token = s.user_token("me@example.com").await;
    let mut bytes = read(&fixtures().mp4);
    bytes.truncate(bytes.len() * 3 / 10);
    let id = s.upload_ok(&token, "broken.mp4", bytes).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let item = s.wait_done(&token, &id, 60).await;
    assert_eq!(item["status"], "failed", "{item}");
    let error = item["error"].as_str().unwrap();
    assert!(!error.is_empty());
    let jobs = s
        .state
        .repo
        .jobs_for_media(&id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(jobs[0].attempts, 1, "an unusable input is not retried");
    assert!(s
        .state
        .output_store
        .list(&format!("media/{id}/"))
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn deleting_a_ready_item_removes_its_outputs() {
    let s = TestServer::start_with(FAST).await;
    let token = s.user_token("me@example.com").await;
    let id = s.upload_ok(&token, "clip.mp4", read(&fixtures().mp4)).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(s.wait_done(&token, &id, 120).await["status"], "ready");
    assert!(!s
        .state
        .output_store
        .list(&format!("media/{id}/"))
        .await
        .unwrap()
        .is_empty());
    let r = s
        .client
        .delete(s.url(&format!("/v1/media/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(s
        .state
        .output_store
        .list(&format!("media/{id}/"))
        .await
        .unwrap()
        .is_empty());
    let v: Value = s
        .get("/v1/media", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(v["items"].as_array().unwrap().is_empty());
}
