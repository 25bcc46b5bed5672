//! Not a timed test: what the chunked rest job alone costs on a long source, printed. Run with
//! `cargo test -p mediaserver-media --test chunked_rest_cost -- --ignored --nocapture`
//! (`CHUNKED_REST_SECONDS`, default 600, and `CHUNKED_REST_SIZE`, default 1920x1080, change
//! the generated source: testsrc2 at 30 fps, a keyframe every 2 s, a sine track).

// A panic is how a test reports failure; the workspace's unwrap/expect lints are for code that ships.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use mediaserver_media::probe;
use mediaserver_media::transcode::chunked::{self, ChunkSettings, Input};
use mediaserver_media::transcode::{LadderMode, VideoOptions};
use std::time::Duration;

#[tokio::test]
#[ignore]
async fn rest_cost() {
    let seconds: u32 = std::env::var("CHUNKED_REST_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let size = std::env::var("CHUNKED_REST_SIZE").unwrap_or_else(|_| "1920x1080".into());
    let dir = tempfile::tempdir().unwrap();
    // CHUNKED_REST_SOURCE: an existing file instead (e.g. bench/chunked.sh's, whose keyframes
    // are x264's default 250 frames apart).
    let (src, what) = match std::env::var("CHUNKED_REST_SOURCE") {
        Ok(path) => (std::path::PathBuf::from(&path), path),
        Err(_) => (
            dir.path().join("src.mp4"),
            format!("{seconds} s {size} 30 fps, {} frames", seconds * 30),
        ),
    };
    if !src.exists() {
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            &format!("testsrc2=size={size}:rate=30:duration={seconds}"),
            "-f",
            "lavfi",
            "-i",
            &format!("sine=frequency=440:sample_rate=48000:duration={seconds}"),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "60",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-ac",
            "2",
            src.to_str().unwrap(),
        ]);
    }
    let probe = probe::probe(&src, Duration::from_secs(60)).await.unwrap();
    let o = VideoOptions {
        preset: "veryfast".into(),
        ladder_mode: LadderMode::Fixed,
        timeout: Duration::from_secs(7200),
        ..Default::default()
    };
    let settings = ChunkSettings {
        chunk_seconds: 60,
        min_seconds: 10,
    };
    let plan = chunked::plan(&src, &probe, &o, &settings, dir.path())
        .await
        .unwrap()
        .expect("a chunked plan");
    let t = std::time::Instant::now();
    let rest = chunked::encode_rest(
        &Input::from(src.as_path()),
        &dir.path().join("rest"),
        &plan,
        &o,
        |_| {},
    )
    .await
    .unwrap();
    let wall = t.elapsed().as_secs_f64();
    // Read through JSON: the record's fields differ between versions.
    let record = serde_json::to_value(&rest).unwrap();
    println!(
        "source {what}: rest job wall {wall:.1} s, ffmpeg cpu {:.1} s, \
         video frames decoded {} (null: all of them)",
        rest.cpu_seconds.unwrap_or(0.0),
        record["video_frames_decoded"],
    );
    assert!(!rest.tiles.is_empty() && rest.audio.len() == 1);
}
