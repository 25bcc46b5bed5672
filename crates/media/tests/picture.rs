//! The picture of real-world sources: square pixels and the display aspect (anamorphic,
//! rotated), interlaced → progressive, HDR → SDR BT.709, variable → constant frame rate.
//! Sources are made with ffmpeg; every check reads the published rungs with ffprobe and ffmpeg
//! filters (idet, ssim, signalstats), never our own output description.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use mediaserver_media::ladder::{LadderRung, DEFAULT_LADDER};
use mediaserver_media::probe;
use mediaserver_media::transcode::{self, VideoOptions, VideoOutput};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

fn fast(ladder: &[LadderRung]) -> VideoOptions {
    VideoOptions {
        preset: "ultrafast".into(),
        timeout: Duration::from_secs(300),
        ladder: ladder.to_vec(),
        ..Default::default()
    }
}

fn rungs(heights: &[u32]) -> Vec<LadderRung> {
    heights
        .iter()
        .map(|&height| LadderRung {
            height,
            bitrate: 1_000_000,
        })
        .collect()
}

/// Transcodes and returns the output with each rung concatenated into a playable file.
async fn transcode(input: &Path, out: &Path, opts: &VideoOptions) -> (VideoOutput, Vec<PathBuf>) {
    let info = probe::probe(input, PROBE_TIMEOUT).await.unwrap();
    let result = transcode::video(input, out, &info, opts, |_| {})
        .await
        .unwrap();
    let stream = out.join("stream");
    let files = (0..result.renditions.len())
        .map(|i| {
            let playlist = read_media_playlist(&stream, &format!("media_{i}.m3u8"));
            let file = out.join(format!("rung-{i}.mp4"));
            concat_rendition(&stream, &playlist, &file);
            file
        })
        .collect();
    (result, files)
}

/// The first video stream's ffprobe fields.
fn video_stream(path: &Path) -> serde_json::Value {
    let j = ffprobe_json(path, &["-select_streams", "v:0", "-show_streams"]);
    j["streams"][0].clone()
}

/// Every rung: SAR 1:1 and a display aspect within 1 % of `aspect`; the MPD has one video set.
fn assert_square_and_aspect(out: &Path, files: &[PathBuf], aspect: f64) {
    for f in files {
        let s = video_stream(f);
        assert_eq!(s["sample_aspect_ratio"], "1:1", "{}: {s}", f.display());
        let (w, h) = (s["width"].as_f64().unwrap(), s["height"].as_f64().unwrap());
        let dar = w / h;
        assert!(
            (dar / aspect - 1.0).abs() <= 0.01,
            "{}: {w}x{h} is {dar}, source {aspect}",
            f.display()
        );
        assert!(
            s["side_data_list"]
                .as_array()
                .is_none_or(|l| l.iter().all(|sd| sd["rotation"].as_i64().unwrap_or(0) == 0)),
            "a rung still carries a rotation: {s}"
        );
    }
    let mpd = std::fs::read_to_string(out.join("stream/manifest.mpd")).unwrap();
    let doc = roxmltree::Document::parse(&mpd).unwrap();
    let video_sets: Vec<_> = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "AdaptationSet")
        .filter(|n| n.attribute("contentType") == Some("video"))
        .collect();
    assert_eq!(video_sets.len(), 1, "{mpd}");
    let reps = video_sets[0]
        .children()
        .filter(|n| n.tag_name().name() == "Representation")
        .count();
    assert_eq!(reps, files.len(), "{mpd}");
}

/// Mean SSIM of `a` against `b` (scaled to `a`'s size), over the frames at `at` seconds.
fn ssim_at(a: &Path, b: &Path, at: f64) -> f64 {
    let (w, h) = dimensions(a);
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-nostats"])
        .args(["-ss", &at.to_string(), "-i"])
        .arg(a)
        .args(["-ss", &at.to_string(), "-i"])
        .arg(b)
        .args([
            "-lavfi",
            &format!("[1:v]scale={w}:{h},format=yuv420p[r];[0:v]format=yuv420p[m];[m][r]ssim"),
            "-frames:v",
            "1",
            "-f",
            "null",
            "-",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let all = err
        .lines()
        .rev()
        .find_map(|l| l.split_once(" All:"))
        .unwrap_or_else(|| panic!("no SSIM: {err}"))
        .1;
    all.split_whitespace().next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn every_rung_has_square_pixels_and_the_source_aspect() {
    let dir = tempfile::tempdir().unwrap();
    // A 720p source: its 480p and 240p rungs (854x480, 426x240) are not exactly 16:9, which is
    // what used to come out with SAR 1280:1281.
    let input = make_video(dir.path(), "in.mp4", 1280, 720, 25, 1.0, true);
    let out = dir.path().join("out");
    let (result, files) = transcode(&input, &out, &fast(DEFAULT_LADDER)).await;
    let sizes: Vec<_> = result
        .renditions
        .iter()
        .map(|r| (r.width, r.height))
        .collect();
    assert_eq!(sizes, [(1280, 720), (854, 480), (640, 360), (426, 240)]);
    assert_eq!(
        (result.fps, result.hdr, result.interlaced),
        (25.0, None, false)
    );
    assert_square_and_aspect(&out, &files, 16.0 / 9.0);
    // The thumbnail too.
    let thumb = video_stream(&out.join("thumbnail.jpg"));
    assert!(
        thumb["sample_aspect_ratio"].is_null() || thumb["sample_aspect_ratio"] == "1:1",
        "{thumb}"
    );
}

#[tokio::test]
async fn anamorphic_pal_becomes_square_pixels() {
    for (sar, aspect) in [("16/15", 4.0 / 3.0), ("64/45", 16.0 / 9.0)] {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("pal.mp4");
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=720x576:rate=25:duration=1",
            "-vf",
            &format!("setsar={sar}"),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            input.to_str().unwrap(),
        ]);
        assert_eq!(
            video_stream(&input)["sample_aspect_ratio"],
            sar.replace('/', ":")
        );
        let out = dir.path().join("out");
        let (_, files) = transcode(&input, &out, &fast(&rungs(&[480, 240]))).await;
        assert_eq!(files.len(), 2);
        assert_square_and_aspect(&out, &files, aspect);
        // The picture is stretched, not cropped: it matches the source shown at its aspect.
        let ssim = ssim_at(&files[0], &input, 0.5);
        assert!(ssim > 0.9, "SAR {sar}: SSIM {ssim}");
    }
}

#[tokio::test]
async fn display_matrix_rotation_is_applied() {
    let dir = tempfile::tempdir().unwrap();
    let coded = make_video(dir.path(), "coded.mp4", 640, 360, 25, 1.0, false);
    // ffmpeg 5.1's mp4 muxer writes the `rotate` tag as the track's display matrix (ffprobe then
    // shows that many degrees counter-clockwise); `transpose`/flips make what a player shows,
    // to compare against.
    for (rotate, upright, shown) in [
        ("90", "transpose=cclock", (360, 640)),
        ("180", "hflip,vflip", (640, 360)),
        ("270", "transpose=clock", (360, 640)),
    ] {
        let input = dir.path().join(format!("phone-{rotate}.mp4"));
        ffmpeg(&[
            "-i",
            coded.to_str().unwrap(),
            "-c",
            "copy",
            "-metadata:s:v:0",
            &format!("rotate={rotate}"),
            input.to_str().unwrap(),
        ]);
        let s = video_stream(&input);
        assert_eq!(
            s["side_data_list"][0]["side_data_type"], "Display Matrix",
            "{s}"
        );
        assert_eq!(
            s["side_data_list"][0]["rotation"]
                .as_i64()
                .unwrap()
                .rem_euclid(360),
            rotate.parse::<i64>().unwrap(),
            "{s}"
        );
        let expected = dir.path().join(format!("upright-{rotate}.mp4"));
        ffmpeg(&[
            "-noautorotate",
            "-i",
            coded.to_str().unwrap(),
            "-vf",
            upright,
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            expected.to_str().unwrap(),
        ]);
        let out = dir.path().join(format!("out-{rotate}"));
        let (result, files) = transcode(&input, &out, &fast(DEFAULT_LADDER)).await;
        assert_eq!((result.width, result.height), shown);
        let (w, h) = (result.renditions[0].width, result.renditions[0].height);
        assert_eq!((w > h), (shown.0 > shown.1), "rotate {rotate}: {w}x{h}");
        assert_square_and_aspect(&out, &files, shown.0 as f64 / shown.1 as f64);
        let ssim = ssim_at(&files[0], &expected, 0.5);
        assert!(
            ssim > 0.9,
            "rotate {rotate}: SSIM {ssim} against the upright picture"
        );
    }
}

/// (TFF, BFF, progressive) of idet's multi-frame detection over the whole file.
fn idet(path: &Path) -> (u64, u64, u64) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-nostats", "-i"])
        .arg(path)
        .args(["-vf", "idet", "-an", "-f", "null", "-"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err
        .lines()
        .find_map(|l| l.split_once("Multi frame detection:"))
        .unwrap_or_else(|| panic!("no idet summary: {err}"))
        .1;
    let n = |k: &str| -> u64 {
        line.split_once(k)
            .unwrap()
            .1
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    (n("TFF:"), n("BFF:"), n("Progressive:"))
}

fn progressive_share((tff, bff, progressive): (u64, u64, u64)) -> f64 {
    progressive as f64 / (tff + bff + progressive).max(1) as f64
}

/// 50 fields/s of moving testsrc2 woven into 25 interlaced frames/s (`top` first or not).
fn make_interlaced(
    dir: &Path,
    name: &str,
    size: &str,
    seconds: u32,
    top: bool,
    flags: bool,
) -> PathBuf {
    let path = dir.join(name);
    let src = format!("testsrc2=size={size}:rate=50:duration={seconds}");
    let weave = if top {
        "tinterlace=interleave_top,setfield=tff"
    } else {
        "tinterlace=interleave_bottom,setfield=bff"
    };
    let mut args = vec!["-f", "lavfi", "-i", &src, "-vf", weave];
    let order = if top { "tff=1" } else { "bff=1" };
    if flags {
        // Interlaced H.264, as a camcorder or broadcast file carries it.
        args.extend([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-flags",
            "+ildct+ilme",
            "-x264opts",
            order,
            "-pix_fmt",
            "yuv420p",
        ]);
    } else {
        // MJPEG frames say nothing of fields: only idet can tell.
        args.extend(["-c:v", "mjpeg", "-q:v", "3", "-pix_fmt", "yuvj420p"]);
    }
    let p = path.to_string_lossy().into_owned();
    args.push(&p);
    ffmpeg(&args);
    path
}

#[tokio::test]
async fn interlaced_1080i_tff_and_bff_come_out_progressive_at_25() {
    for (top, order) in [(true, "tt"), (false, "bb")] {
        let dir = tempfile::tempdir().unwrap();
        let input = make_interlaced(dir.path(), "in.mp4", "1920x1080", 2, top, true);
        let s = video_stream(&input);
        assert_eq!(s["field_order"], order, "{s}");
        let before = idet(&input);
        assert!(progressive_share(before) < 0.5, "source idet {before:?}");
        let out = dir.path().join("out");
        let (result, files) = transcode(&input, &out, &fast(&rungs(&[1080, 360]))).await;
        assert_eq!(result.renditions.len(), 2);
        assert!(result.interlaced);
        assert_eq!(result.fps, 25.0);
        for f in &files {
            let seen = idet(f);
            assert!(
                progressive_share(seen) >= 0.95,
                "{order}: {} idet {seen:?}",
                f.display()
            );
            let s = video_stream(f);
            assert_eq!(s["r_frame_rate"], "25/1", "{s}");
            assert_ne!(s["field_order"], "tt");
            assert_ne!(s["field_order"], "bb");
        }
        let master = std::fs::read_to_string(out.join("stream/master.m3u8")).unwrap();
        assert!(master.contains("FRAME-RATE=25.000"), "{master}");
    }
}

#[tokio::test]
async fn interlacing_the_header_does_not_state_is_found_by_idet() {
    let dir = tempfile::tempdir().unwrap();
    // Five seconds: idet counts the first frame (which it has nothing before to compare with)
    // and the three after it, by hysteresis, as combed; 4 of 50 frames would be 92 %.
    let input = make_interlaced(dir.path(), "in.avi", "720x576", 5, true, false);
    let info = probe::probe(&input, PROBE_TIMEOUT).await.unwrap();
    assert_eq!(info.video.as_ref().unwrap().interlaced(), None);
    assert!(progressive_share(idet(&input)) < 0.5);
    let out = dir.path().join("out");
    let (result, files) = transcode(&input, &out, &fast(&rungs(&[576]))).await;
    assert!(result.interlaced);
    let seen = idet(&files[0]);
    assert!(progressive_share(seen) >= 0.95, "idet {seen:?}");
}

/// A 10-bit HEVC clip with an HDR transfer: testsrc2 (BT.709 SDR) converted by zimg into
/// BT.2020 with `transfer`, tagged as such by x265 (PQ with mastering-display metadata).
fn make_hdr(dir: &Path, transfer: &str) -> PathBuf {
    let path = dir.join(format!("{transfer}.mp4"));
    // A generous bitrate: the ladder caps each rung near the source's, and a starved source
    // would make the comparison about compression, not colour.
    let mut params =
        format!("crf=12:colorprim=bt2020:transfer={transfer}:colormatrix=bt2020nc:log-level=error");
    if transfer == "smpte2084" {
        params.push_str(
            ":hdr10=1:master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1):max-cll=1000,400",
        );
    }
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=640x360:rate=25:duration=2",
        "-vf",
        &format!(
            "zscale=tin=bt709:pin=bt709:min=bt709:t={transfer}:p=bt2020:m=bt2020nc:npl=100,format=yuv420p10le"
        ),
        "-c:v",
        "libx265",
        "-preset",
        "ultrafast",
        "-x265-params",
        &params,
        "-tag:v",
        "hvc1",
        path.to_str().unwrap(),
    ]);
    path
}

/// signalstats' mean saturation of the frame at `at` seconds.
fn saturation(path: &Path, at: f64) -> f64 {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-f", "lavfi", "-show_entries"])
        .args(["frame_tags=lavfi.signalstats.SATAVG", "-of", "csv=p=0"])
        .arg(format!(
            "movie={}:seek_point={at},signalstats",
            path.display()
        ))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .next()
        .unwrap_or_else(|| panic!("no SATAVG: {}", String::from_utf8_lossy(&out.stderr)))
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn hdr_hlg_and_pq_are_tone_mapped_to_bt709() {
    for (transfer, hdr) in [("arib-std-b67", "hlg"), ("smpte2084", "pq")] {
        let dir = tempfile::tempdir().unwrap();
        let input = make_hdr(dir.path(), transfer);
        let s = video_stream(&input);
        assert_eq!(
            (&s["codec_name"], &s["pix_fmt"], &s["color_transfer"]),
            (
                &serde_json::json!("hevc"),
                &serde_json::json!("yuv420p10le"),
                &serde_json::json!(transfer)
            ),
            "{s}"
        );
        let info = probe::probe(&input, PROBE_TIMEOUT).await.unwrap();
        assert_eq!(info.video.as_ref().unwrap().hdr().unwrap().as_str(), hdr);

        // The reference: ffmpeg's documented zscale + tonemap (Hable) to BT.709, at 640x360.
        let reference = dir.path().join("reference.mp4");
        ffmpeg(&[
            "-i",
            input.to_str().unwrap(),
            "-vf",
            "zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p",
            "-c:v",
            "libx264",
            "-crf",
            "10",
            "-preset",
            "ultrafast",
            reference.to_str().unwrap(),
        ]);
        let out = dir.path().join("out");
        let (result, files) = transcode(&input, &out, &fast(DEFAULT_LADDER)).await;
        assert_eq!(result.hdr.map(|h| h.as_str()), Some(hdr));
        for f in &files {
            let s = video_stream(f);
            for (key, want) in [
                ("color_primaries", "bt709"),
                ("color_transfer", "bt709"),
                ("color_space", "bt709"),
                ("pix_fmt", "yuv420p"),
            ] {
                assert_eq!(s[key], want, "{hdr} {}: {s}", f.display());
            }
        }
        let top = &files[0];
        assert_eq!(dimensions(top), (640, 360));
        let ssim = ssim_at(top, &reference, 1.0);
        assert!(ssim >= 0.9, "{hdr}: SSIM {ssim}");
        let (ours, theirs) = (saturation(top, 1.0), saturation(&reference, 1.0));
        assert!(
            (ours / theirs - 1.0).abs() <= 0.15,
            "{hdr}: mean saturation {ours} vs reference {theirs}"
        );
    }
}

/// Every packet of the first video stream lasts the same (constant frame rate); returns it.
fn constant_duration(path: &Path) -> f64 {
    let j = ffprobe_json(
        path,
        &["-select_streams", "v:0", "-show_entries", "packet=pts_time"],
    );
    let mut pts: Vec<f64> = j["packets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pts_time"].as_str().unwrap().parse().unwrap())
        .collect();
    pts.sort_by(f64::total_cmp);
    let steps: Vec<f64> = pts.windows(2).map(|w| w[1] - w[0]).collect();
    let first = steps[0];
    for s in &steps {
        assert!(
            (s - first).abs() < 0.002,
            "{}: steps {steps:?}",
            path.display()
        );
    }
    first
}

#[tokio::test]
async fn variable_frame_rate_becomes_constant_at_the_nominal_rate() {
    let dir = tempfile::tempdir().unwrap();
    // 30 fps with every fourth frame dropped and the rest jittered by up to 4 ms (timestamps
    // rewritten without re-encoding), as phones do.
    let cfr = dir.path().join("gaps.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=640x360:rate=30:duration=3",
        "-vf",
        "select='not(eq(mod(n\\,4)\\,3))'",
        "-fps_mode",
        "vfr",
        "-video_track_timescale",
        "90000",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        cfr.to_str().unwrap(),
    ]);
    let input = dir.path().join("vfr.mp4");
    ffmpeg(&[
        "-i",
        cfr.to_str().unwrap(),
        "-c",
        "copy",
        "-bsf:v",
        "setts=ts=PTS+if(mod(N\\,3)\\,400*sin(N)\\,0)",
        "-video_track_timescale",
        "90000",
        input.to_str().unwrap(),
    ]);
    let j = ffprobe_json(
        &input,
        &[
            "-select_streams",
            "v:0",
            "-show_entries",
            "packet=duration_time",
        ],
    );
    let durations: std::collections::BTreeSet<String> = j["packets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["duration_time"].as_str().unwrap().to_string())
        .collect();
    assert!(durations.len() > 3, "the source is not VFR: {durations:?}");
    let out = dir.path().join("out");
    let (_, files) = transcode(&input, &out, &fast(DEFAULT_LADDER)).await;
    assert_eq!(files.len(), 2);
    let mut keyframes = Vec::new();
    for f in &files {
        let step = constant_duration(f);
        assert!((step - 1.0 / 30.0).abs() < 0.001, "{}: {step}", f.display());
        keyframes.push(packets(f, "v").0);
    }
    assert_eq!(keyframes[0], keyframes[1]);
    assert_eq!(keyframes[0][..2], [0.0, 2.0]);
}

/// 120 fps is capped at 60 on the big rungs; rungs at or below 480p play 30 (half), their
/// keyframes still on the same instants as the 60 fps rung's, and both manifests say which
/// rung has which rate.
#[tokio::test]
async fn above_sixty_fps_is_capped_at_sixty_and_small_rungs_halved() {
    let dir = tempfile::tempdir().unwrap();
    let input = make_video(dir.path(), "in.mp4", 1280, 720, 120, 4.2, false);
    let out = dir.path().join("out");
    let (_, files) = transcode(&input, &out, &fast(&rungs(&[720, 480, 240]))).await;
    assert_eq!(files.len(), 3);
    let mut keyframes = Vec::new();
    for (f, fps) in files.iter().zip([60.0, 30.0, 30.0]) {
        let s = video_stream(f);
        assert_eq!(s["r_frame_rate"], format!("{fps}/1"), "{s}");
        assert!((constant_duration(f) - 1.0 / fps).abs() < 0.001);
        keyframes.push(packets(f, "v").0);
    }
    assert_eq!(keyframes[0][..3], [0.0, 2.0, 4.0]);
    assert!(
        keyframes.iter().all(|k| *k == keyframes[0]),
        "{keyframes:?}"
    );
    let master = std::fs::read_to_string(out.join("stream/master.m3u8")).unwrap();
    let rates: Vec<&str> = master
        .lines()
        .filter_map(|l| l.strip_prefix("#EXT-X-STREAM-INF:"))
        .map(|a| attr(a, "FRAME-RATE").unwrap())
        .collect();
    assert_eq!(rates, ["60.000", "30.000", "30.000"], "{master}");
    let mpd = std::fs::read_to_string(out.join("stream/manifest.mpd")).unwrap();
    let doc = roxmltree::Document::parse(&mpd).unwrap();
    let rates: Vec<_> = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "Representation")
        .map(|n| n.attribute("frameRate").unwrap_or(""))
        .collect();
    assert_eq!(rates, ["60/1", "30/1", "30/1"], "{mpd}");
}
