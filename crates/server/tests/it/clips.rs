//! Clips: `POST /v1/media/{id}/clips` makes a new item from a range of a ready one, cut
//! frame-accurately and processed like an upload; bad ranges are refused naming the problem; a
//! clip of a clip works; deleting the source leaves its clips.
//!
//! The source's frames carry their number as their brightness (luma = 7·n mod 256), so the
//! frame a clip starts with can be read back from what the server publishes.

use crate::common;

use common::{expect_error, fixtures, read, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::PathBuf;

const FPS: f64 = 25.0;

/// 4 s at 25 fps, 320x240, frame n's luma 7·n mod 256, with a tone.
fn numbered() -> PathBuf {
    common::ffmpeg_fixture(
        "numbered-frames.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=black:s=320x240:r=25:d=4,geq=lum='mod(N*7\\,256)':cb=128:cr=128",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=4",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "50",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
        ],
    )
}

/// Mean luma of the first frame of `url` (a file or an HTTP URL). Async: the server it reads
/// from runs on the test's own runtime.
async fn first_luma(url: &str) -> f64 {
    let out = tokio::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-i", url, "-frames:v", "1"])
        .args([
            "-vf",
            "signalstats,metadata=print:key=lavfi.signalstats.YAVG",
        ])
        .args(["-f", "null", "-"])
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    log.lines()
        .find_map(|l| l.split("lavfi.signalstats.YAVG=").nth(1))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no YAVG in {log}"))
}

async fn post_clip(s: &TestServer, token: &str, id: &str, body: Value) -> reqwest::Response {
    s.client
        .post(s.url(&format!("/v1/media/{id}/clips")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn ready(s: &TestServer, token: &str, path: &std::path::Path, name: &str) -> Value {
    s.upload_ready(token, name, read(path), 180).await
}

/// Waits for a clip and checks it is `seconds` long within one frame.
async fn ready_clip(s: &TestServer, token: &str, clip: &Value, seconds: f64) -> Value {
    let item = s.wait_done(token, clip["id"].as_str().unwrap(), 180).await;
    assert_eq!(item["status"], "ready", "{item}");
    let d = item["duration_seconds"].as_f64().unwrap();
    assert!(
        (d - seconds).abs() <= 1.0 / FPS + 1e-3,
        "a {seconds} s clip is {d} s: {item}"
    );
    item
}

#[tokio::test]
async fn a_clip_starts_on_the_frame_at_start_and_is_processed_like_an_upload() {
    let s = TestServer::start_with(&[("WORKERS", "1")]).await;
    let token = s.user_token("clipper@example.com").await;
    let source = ready(&s, &token, &numbered(), "numbered.mp4").await;
    let id = source["id"].as_str().unwrap();

    let r = post_clip(
        &s,
        &token,
        id,
        json!({"start_seconds": 1.3, "end_seconds": 2.5, "title": "The middle"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let clip: Value = r.json().await.unwrap();
    assert_ne!(clip["id"], source["id"]);
    assert_eq!(clip["owner_id"], source["owner_id"]);
    assert_eq!(clip["title"], "The middle");
    assert_eq!(clip["visibility"], "private");
    assert_eq!(clip["kind"], "video");

    let item = ready_clip(&s, &token, &clip, 1.2).await;
    assert!(item["thumbnail_url"].is_string(), "{item}");
    assert!(item["storyboard_url"].is_string(), "{item}");
    assert!(!item["renditions"].as_array().unwrap().is_empty());
    let downloads = item["downloads"].as_array().unwrap();
    assert!(!downloads.is_empty(), "{item}");
    // Its first frame is the source's first at or after 1.3 s: frame 33 (1.32 s).
    let url = s.url(downloads[0]["url"].as_str().unwrap());
    let url = format!("{url}?token={}", item["signed"]["token"].as_str().unwrap());
    let luma = first_luma(&url).await;
    let expected = (33.0 * 7.0) % 256.0;
    assert!(
        (luma - expected).abs() <= 3.0,
        "first frame luma {luma}, frame 33 has {expected} (32: {}, 34: {})",
        (32.0 * 7.0) % 256.0,
        (34.0 * 7.0) % 256.0
    );
}

#[tokio::test]
async fn bad_ranges_and_sources_are_refused_naming_the_problem() {
    let s = TestServer::start_with(&[("WORKERS", "1")]).await;
    let token = s.user_token("ranges@example.com").await;
    let other = s.user_token("viewer@example.com").await;
    let source = ready(&s, &token, &fixtures().mp4, "one-second.mp4").await;
    let id = source["id"].as_str().unwrap();
    let duration = source["duration_seconds"].as_f64().unwrap();

    for (body, needle) in [
        (
            json!({"start_seconds": -1, "end_seconds": 0.5}),
            "start_seconds: must be 0 or more",
        ),
        (
            json!({"start_seconds": 0.5, "end_seconds": 0.5}),
            "greater than start_seconds",
        ),
        (
            json!({"start_seconds": 0.6, "end_seconds": 0.2}),
            "greater than start_seconds",
        ),
        (
            json!({"start_seconds": duration + 1.0, "end_seconds": duration + 2.0}),
            "past the end",
        ),
        (
            json!({"start_seconds": 0.6, "end_seconds": duration + 0.5}),
            "end_seconds",
        ),
        (
            json!({"start_seconds": 0, "end_seconds": duration + 5.0}),
            "longer than the source",
        ),
        (
            json!({"start_seconds": 0, "end_seconds": 0.5, "extra": 1}),
            "extra",
        ),
        (json!({"start_seconds": 0}), "end_seconds"),
        (
            json!({"start_seconds": 0, "end_seconds": 0.5, "title": "a\u{7}b"}),
            "title",
        ),
    ] {
        let msg = expect_error(
            post_clip(&s, &token, id, body.clone()).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(msg.contains(needle), "{body}: {msg}");
    }
    // Someone who may not manage the item: as if it did not exist (even once it is public).
    let r = s
        .client
        .patch(s.url(&format!("/v1/media/{id}")))
        .bearer_auth(&token)
        .json(&json!({"visibility": "public"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let ok = json!({"start_seconds": 0.1, "end_seconds": 0.6});
    expect_error(
        post_clip(&s, &other, id, ok.clone()).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let r = s
        .client
        .post(s.url(&format!("/v1/media/{id}/clips")))
        .json(&ok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // An image has no range: a well-formed request this item cannot take.
    let image = ready(&s, &token, &fixtures().png, "frame.png").await;
    let msg = expect_error(
        post_clip(&s, &token, image["id"].as_str().unwrap(), ok.clone()).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(msg.contains("image"), "{msg}");
    // Nothing was made by any of those.
    let list: Value = s
        .get("/v1/media", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");
}

#[tokio::test]
async fn a_source_that_is_not_ready_cannot_be_clipped() {
    // No workers: the upload stays queued.
    let s = TestServer::start().await;
    let token = s.user_token("early@example.com").await;
    let item = s.upload_ok(&token, "clip.mp4", read(&fixtures().mp4)).await;
    let msg = expect_error(
        post_clip(
            &s,
            &token,
            item["id"].as_str().unwrap(),
            json!({"start_seconds": 0, "end_seconds": 0.5}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(msg.contains("only a ready item can be clipped"), "{msg}");
}

#[tokio::test]
async fn a_clip_of_a_clip_works_and_clips_outlive_their_source() {
    let s = TestServer::start_with(&[("WORKERS", "1")]).await;
    let token = s.user_token("chain@example.com").await;
    let source = ready(&s, &token, &numbered(), "numbered.mp4").await;
    let id = source["id"].as_str().unwrap();

    let r = post_clip(
        &s,
        &token,
        id,
        json!({"start_seconds": 0.5, "end_seconds": 3.5}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let first = ready_clip(&s, &token, &r.json().await.unwrap(), 3.0).await;
    assert_eq!(
        first["title"],
        format!("{} (clip)", source["title"].as_str().unwrap())
    );
    let first_id = first["id"].as_str().unwrap();

    let r = post_clip(
        &s,
        &token,
        first_id,
        json!({"start_seconds": 1.0, "end_seconds": 2.0}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let second = ready_clip(&s, &token, &r.json().await.unwrap(), 1.0).await;
    let second_id = second["id"].as_str().unwrap();

    // Deleting the source leaves both clips whole: their rows, originals and outputs.
    let r = s
        .client
        .delete(s.url(&format!("/v1/media/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    for clip in [first_id, second_id] {
        let item: Value = s
            .get(&format!("/v1/media/{clip}"), &token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(item["status"], "ready", "{item}");
        for path in ["original", "hls/master.m3u8", "downloads/audio"] {
            let r = s
                .get(&format!("/v1/media/{clip}/{path}"), &token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{clip}/{path}");
        }
    }
    // And the first clip can still be clipped.
    let r = post_clip(
        &s,
        &token,
        first_id,
        json!({"start_seconds": 0, "end_seconds": 0.5}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
}
