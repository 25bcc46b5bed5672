//! Cutting clips: the first frame is the source's first frame at or after `start`, and the clip
//! is `end - start` long within one frame. The source's frames carry their number as their
//! brightness (luma = 7·n mod 256), so the frame a clip starts with can be read back.

// A panic is how a test reports failure; the workspace's unwrap/expect lints are for code that ships.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use mediaserver_media::transcode::cut;
use mediaserver_media::CancellationToken;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const FPS: f64 = 25.0;

/// (pts, mean luma) of the first video frames of `path`.
fn frames(path: &Path) -> Vec<(f64, f64)> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-f", "lavfi", "-i"])
        .arg(format!("movie={},signalstats", path.display()))
        .args([
            "-show_entries",
            "frame=pts_time:frame_tags=lavfi.signalstats.YAVG",
            "-of",
            "csv=p=0",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (t, y) = l.split_once(',')?;
            Some((t.parse().ok()?, y.parse().ok()?))
        })
        .collect()
}

fn numbered_source(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("numbered.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=black:s=160x120:r=25:d=4,geq=lum='mod(N*7\\,256)':cb=128:cr=128",
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
        path.to_str().unwrap(),
    ]);
    path
}

#[tokio::test]
async fn a_cut_starts_on_the_frame_at_start_and_lasts_end_minus_start() {
    let dir = tempfile::tempdir().unwrap();
    let src = numbered_source(dir.path());
    // 1.3 s is between frames 32 (1.28 s) and 33 (1.32 s), past the keyframe at 0 s: the
    // decoder must run from the keyframe and drop what comes before.
    for (start, end) in [(1.3, 2.5), (0.0, 1.0), (2.04, 3.96)] {
        let out = dir.path().join(format!("cut-{start}.mkv"));
        cut(
            &src,
            &out,
            start,
            end,
            true,
            Duration::from_secs(60),
            CancellationToken::new(),
        )
        .await
        .unwrap();
        let frames = frames(&out);
        let first = (start * FPS - 1e-6).ceil();
        let expected_luma = (first * 7.0) % 256.0;
        assert!(
            (frames[0].1 - expected_luma).abs() <= 2.0,
            "{start}..{end}: first frame luma {} (frame {first} has {expected_luma})",
            frames[0].1
        );
        let json = ffprobe_json(&out, &["-show_format", "-show_streams"]);
        let duration: f64 = json["format"]["duration"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (duration - (end - start)).abs() <= 1.0 / FPS + 1e-3,
            "{start}..{end}: {duration} s"
        );
        let shown = frames.len() as f64 / FPS;
        assert!(
            (shown - (end - start)).abs() <= 1.0 / FPS + 1e-3,
            "{start}..{end}: {} frames",
            frames.len()
        );
        let kinds: Vec<&str> = json["streams"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["codec_type"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["video", "audio"]);
    }
}

#[tokio::test]
async fn bad_ranges_are_refused_before_ffmpeg_runs() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("none.mp4");
    for (start, end) in [(-1.0, 2.0), (2.0, 2.0), (3.0, 1.0), (f64::NAN, 1.0)] {
        let e = cut(
            &src,
            &dir.path().join("x.mkv"),
            start,
            end,
            true,
            Duration::from_secs(5),
            CancellationToken::new(),
        )
        .await
        .unwrap_err();
        assert!(e.is_permanent(), "{e}");
    }
}
