//! Quality and provenance of real encodes: the sampled scores against ffmpeg's own whole-file
//! comparison, a starved rung against a generous one, sources whose picture chain changes the
//! frames (half rate, interlaced), and what the encode records (bytes, encoder tag, CPU time).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use mediaserver_media::ladder::LadderRung;
use mediaserver_media::process::Budget;
use mediaserver_media::transcode::{self, VideoOptions, VideoOutput};
use mediaserver_media::{probe, quality, CancellationToken};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn ladder(rungs: &[(u32, u64)]) -> VideoOptions {
    VideoOptions {
        preset: "ultrafast".into(),
        timeout: Duration::from_secs(300),
        ladder: rungs
            .iter()
            .map(|&(height, kbps)| LadderRung {
                height,
                bitrate: kbps * 1000,
            })
            .collect(),
        ..Default::default()
    }
}

async fn encode_and_measure(
    input: &Path,
    out: &Path,
    opts: &VideoOptions,
) -> (VideoOutput, quality::Measured) {
    let info = probe::probe(input, Duration::from_secs(30)).await.unwrap();
    let result = transcode::video(input, out, &info, opts, |_| {})
        .await
        .unwrap();
    let budget = Budget::new(Duration::from_secs(300), CancellationToken::new());
    let measured = quality::measure(
        input,
        info.video.as_ref().unwrap(),
        out,
        &result.encode.rungs,
        false,
        &budget,
    )
    .await
    .unwrap();
    assert!(
        !out.join(".quality").exists(),
        "the scratch folder is removed"
    );
    (result, measured)
}

/// ffmpeg's own SSIM of a whole rung against the whole source through `reference` filters.
fn whole_file_ssim(out: &Path, playlist: &str, source: &Path, reference: &str) -> f64 {
    let stream = out.join("stream");
    let parsed = read_media_playlist(&stream, playlist);
    let joined = out.join(format!("{playlist}.mp4"));
    concat_rendition(&stream, &parsed, &joined);
    let graph = format!(
        "[0:v]settb=AVTB,setpts=PTS-STARTPTS[d];[1:v]{reference},settb=AVTB,setpts=PTS-STARTPTS[r];[d][r]ssim=shortest=1"
    );
    let output = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-i"])
        .arg(&joined)
        .arg("-i")
        .arg(source)
        .args(["-filter_complex", &graph, "-f", "null", "-"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let all = stderr
        .lines()
        .find_map(|l| l.split("All:").nth(1))
        .unwrap_or_else(|| panic!("no SSIM in {stderr}"));
    all.split_whitespace().next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_starved_rung_scores_lower_than_a_generous_one_and_both_match_ffmpeg() {
    let dir = tempfile::tempdir().unwrap();
    let input = make_video(dir.path(), "in.mp4", 640, 360, 30, 6.0, false);
    let out = dir.path().join("out");
    let (result, measured) =
        encode_and_measure(&input, &out, &ladder(&[(360, 2000), (240, 60)])).await;
    assert_eq!(measured.scores.len(), 2);
    assert_eq!(measured.windows, 1);
    assert!(measured.sampled_seconds > 0.0 && measured.sampled_seconds <= 1.0);
    let good = measured.scores[0].unwrap();
    let starved = measured.scores[1].unwrap();
    for s in [good, starved] {
        assert!(s.ssim > 0.0 && s.ssim <= 1.0, "{s:?}");
        assert!(s.psnr > 10.0 && s.psnr < 100.0, "{s:?}");
        assert_eq!(s.vmaf, None);
    }
    assert!(good.ssim > starved.ssim, "{good:?} vs {starved:?}");
    assert!(good.psnr > starved.psnr + 3.0, "{good:?} vs {starved:?}");

    // The sampled scores are the whole file's, within what sampling can differ by.
    for (i, s) in [good, starved].iter().enumerate() {
        let rung = &result.encode.rungs[i];
        let whole = whole_file_ssim(&out, &format!("media_{i}.m3u8"), &input, &rung.filter);
        assert!(
            (whole - s.ssim).abs() < 0.03,
            "{}: sampled {} vs whole {whole}",
            rung.name,
            s.ssim
        );
    }

    // What the encode recorded of itself.
    let encode = &result.encode;
    assert!(encode.wall_seconds > 0.0);
    assert!(encode.cpu_seconds.unwrap() > 0.0, "{encode:?}");
    assert!(measured.cpu_seconds.unwrap() > 0.0);
    for (i, rung) in encode.rungs.iter().enumerate() {
        assert_eq!(rung.name, result.renditions[i].name);
        assert_eq!(rung.encoder, "libx264");
        let version = rung.encoder_version.as_deref().unwrap();
        assert!(version.starts_with("x264 core "), "{version}");
        let settings = rung.encoder_settings.as_deref().unwrap();
        // x264 reports the rate control it was given.
        assert!(
            settings.contains(&format!("vbv_maxrate={}", rung.maxrate / 1000)),
            "{settings}"
        );
        let stream = out.join("stream");
        let playlist = read_media_playlist(&stream, &format!("media_{i}.m3u8"));
        let mut bytes = std::fs::metadata(stream.join(&playlist.init))
            .unwrap()
            .len();
        for (segment, _) in &playlist.segments {
            bytes += std::fs::metadata(stream.join(segment)).unwrap().len();
        }
        assert_eq!(rung.bytes, bytes, "{}", rung.name);
    }
    assert_eq!(encode.rungs[0].bitrate, 2_000_000);
    assert!(encode.rungs[1]
        .filter
        .ends_with("scale=426:240,setsar=1,format=yuv420p"));
}

#[tokio::test]
async fn half_rate_and_interlaced_rungs_are_compared_with_what_the_encoder_was_fed() {
    let dir = tempfile::tempdir().unwrap();
    // 50 fps: the 240p rung plays 25 fps; pairing it with every source frame would score
    // every other frame against its neighbour.
    let fast = make_video(dir.path(), "fast.mp4", 320, 240, 50, 3.0, false);
    let (result, measured) =
        encode_and_measure(&fast, &dir.path().join("fast"), &ladder(&[(240, 1500)])).await;
    assert_eq!(result.encode.rungs[0].fps, 25.0);
    let s = measured.scores[0].unwrap();
    assert!(s.ssim > 0.95, "{s:?}");

    // 50 fields/s woven into 25 interlaced frames/s: the rungs are deinterlaced.
    let woven = dir.path().join("woven.mp4");
    let woven_arg = woven.to_string_lossy().into_owned();
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=50:duration=3",
        "-vf",
        "tinterlace=interleave_top,setfield=tff",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-flags",
        "+ildct+ilme",
        "-x264opts",
        "tff=1",
        "-pix_fmt",
        "yuv420p",
        &woven_arg,
    ]);
    let (result, measured) =
        encode_and_measure(&woven, &dir.path().join("woven"), &ladder(&[(240, 1500)])).await;
    assert!(result.interlaced);
    assert!(result.encode.rungs[0].filter.starts_with("bwdif="));
    let s = measured.scores[0].unwrap();
    assert!(s.ssim > 0.95, "{s:?}");
}
