//! The stills' seeks against real ffmpeg (the arithmetic's unit tests are in `stills.rs`).

use super::*;
use crate::ladder::LadderRung;
use crate::transcode::chunked::{plan, ChunkSettings};
use crate::transcode::video::TILES_DIR;
use crate::transcode::VideoOptions;
use std::time::Duration;

/// Every still of a long source with x264's default keyframe interval (250 frames, 8.3 s) by
/// seeks, eight inputs to a process, each span's chain ending after its last still. Each input
/// of a batch used to be decoded to the end of the file (`-frames:v` with the picked frames
/// passed through did not stop it): 106,983 frames decoded for 18,000 in the source. (Through
/// the rest job this shows only where its seeks are many and far from the end, which its share
/// of the stills — the last chunk's — no longer is.)
#[tokio::test]
async fn the_seeks_stop_after_their_last_frame() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("long-gop.mp4");
    let seconds = 600;
    let made = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i"])
        .arg(format!("testsrc2=size=320x180:rate=30:duration={seconds}"))
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(&src)
        .status()
        .unwrap();
    assert!(made.success());
    let probe = crate::probe::probe(&src, Duration::from_secs(60))
        .await
        .unwrap();
    let opts = VideoOptions {
        ladder: vec![LadderRung {
            height: 180,
            bitrate: 300_000,
        }],
        segment_seconds: 2,
        keyframe_seconds: 2,
        ..Default::default()
    };
    let halves = ChunkSettings {
        chunk_seconds: 300,
        min_seconds: 10,
    };
    let plan = plan(&src, &probe, &opts, &halves, dir.path())
        .await
        .unwrap()
        .unwrap();
    let input = Input::from(src.as_path());
    let budget = Budget::new(Duration::from_secs(600), Default::default());
    let tail = last_frame(&input, &plan, None, &budget)
        .await
        .unwrap()
        .unwrap();
    let v = plan.video().unwrap();
    let layout = Layout::new(plan.probe.media_duration(), v.width, v.height);
    let out = dir.path().join("out");
    std::fs::create_dir_all(out.join(TILES_DIR)).unwrap();
    let made = make(
        &input, &out, &plan, &layout, &tail, plan.first, None, &budget,
    )
    .await
    .unwrap()
    .expect("every still came out of its seek");
    let frames = seconds * 30;
    println!(
        "the seeks decoded {} of the source's {frames} frames",
        made.cost.decoded
    );
    // Half a keyframe interval on average before each of the ~100 stills: about 13,500.
    assert!(
        made.cost.decoded < frames,
        "{} of {frames}",
        made.cost.decoded
    );
    assert!(
        made.total > 90 && made.tiles.len() == made.total as usize,
        "{made:?}"
    );
}
