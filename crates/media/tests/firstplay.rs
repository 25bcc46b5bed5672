//! First play (issue 15 §2): with progressive packaging the first segment is one keyframe
//! interval long, and with the adaptive ladder the head — that first segment of every stream at
//! the default CRFs — is reported before the main encode starts. Checked from outside: what was
//! reported first stays published byte for byte, the playlists and the MPD state the durations
//! the media has, and every packet of every rung and of the audio runs on without a gap across
//! the head/body border.

// A panic is how a test reports failure; the workspace's unwrap/expect lints are for code that ships.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use mediaserver_media::ladder::LadderRung;
use mediaserver_media::probe;
use mediaserver_media::transcode::{self, LadderMode, PackagingUpdate, VideoOptions};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

fn rungs(heights: &[u32]) -> Vec<LadderRung> {
    heights
        .iter()
        .map(|&height| LadderRung {
            height,
            bitrate: height as u64 * 2_000,
        })
        .collect()
}

fn opts(mode: LadderMode) -> VideoOptions {
    VideoOptions {
        preset: "ultrafast".into(),
        timeout: Duration::from_secs(300),
        ladder: rungs(&[360, 180]),
        ladder_mode: mode,
        ..Default::default()
    }
}

/// One update as it arrived, with the bytes of each reported file at that moment.
struct Seen {
    update: PackagingUpdate,
    bytes: HashMap<String, Vec<u8>>,
}

/// Runs `video()` with progressive packaging, collecting every update.
async fn encode_collecting(
    input: &Path,
    out: &Path,
    options: VideoOptions,
) -> (transcode::VideoOutput, Vec<Seen>) {
    let info = probe::probe(input, PROBE_TIMEOUT).await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<PackagingUpdate>(4);
    let options = VideoOptions {
        packaging: Some(tx),
        ..options
    };
    let collector = {
        let out = out.to_path_buf();
        tokio::spawn(async move {
            let mut seen = Vec::new();
            while let Some(update) = rx.recv().await {
                let bytes = update
                    .ready_files
                    .iter()
                    .map(|f| (f.clone(), std::fs::read(out.join(f)).unwrap()))
                    .collect();
                seen.push(Seen { update, bytes });
            }
            seen
        })
    };
    let result = transcode::video(input, out, &info, &options, |_| {})
        .await
        .unwrap();
    drop(options);
    (result, collector.await.unwrap())
}

fn extinf(text: &str) -> Vec<f64> {
    text.lines()
        .filter_map(|l| l.strip_prefix("#EXTINF:"))
        .map(|d| d.trim_end_matches(',').parse().unwrap())
        .collect()
}

/// Every packet's (pts, dts, duration — 0 where ffprobe gives none, key) of the one stream in
/// `file`, in decode order.
fn all_packets(file: &Path) -> Vec<(f64, f64, f64, bool)> {
    let j = ffprobe_json(
        file,
        &[
            "-show_entries",
            "packet=pts_time,dts_time,duration_time,flags",
        ],
    );
    j["packets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let num = |k: &str| {
                p[k].as_str()
                    .unwrap_or_else(|| panic!("{}: no {k} in {p}", file.display()))
                    .parse::<f64>()
                    .unwrap()
            };
            (
                num("pts_time"),
                num("dts_time"),
                p["duration_time"]
                    .as_str()
                    .map_or(0.0, |d| d.parse().unwrap()),
                p["flags"].as_str().unwrap().contains('K'),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_head_plays_on_into_the_body_without_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    let input = make_video(dir.path(), "in.mp4", 640, 360, 30, 11.0, true);
    head_case(dir.path(), &input, 11, &[360, 180]).await;
}

/// A 60 fps source: the small rung runs at half the rate, its head has half the frames.
#[tokio::test]
async fn the_head_of_a_half_rate_rung_too() {
    let dir = tempfile::tempdir().unwrap();
    let input = make_video(dir.path(), "in.mp4", 1280, 720, 60, 9.0, true);
    head_case(dir.path(), &input, 9, &[720, 360]).await;
}

/// 25i (50 fields, top first): deinterlaced before the split, as the main encode does.
#[tokio::test]
async fn the_head_of_an_interlaced_source_too() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.mp4");
    let p = input.to_string_lossy().into_owned();
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=640x360:rate=50:duration=9",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000:duration=9",
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
        "-c:a",
        "aac",
        &p,
    ]);
    head_case(dir.path(), &input, 9, &[360, 180]).await;
}

async fn head_case(dir: &Path, input: &Path, seconds: u32, heights: &[u32]) {
    let out = dir.join("out");
    let options = VideoOptions {
        ladder: rungs(heights),
        ..opts(LadderMode::Adaptive)
    };
    let (result, seen) = encode_collecting(input, &out, options).await;
    let stream = out.join("stream");
    let streams = result.renditions.len() + 1;
    assert_eq!(
        result.renditions.len(),
        heights.len(),
        "{:?}",
        result.renditions
    );
    let video_segments = 1 + (seconds - 2).div_ceil(4) as usize;
    let audio_segments = seconds.div_ceil(2) as usize;

    // The first update is the head of every stream but the top rung: init and first segment,
    // one-segment EVENT playlists (target duration: the later segments'), the top rung's
    // playlist with no segment yet, and the master naming every rung (the top rung's codecs
    // from its one-frame run). The second is the top rung's head.
    let head = &seen[0].update;
    let master = head
        .master
        .as_deref()
        .expect("the first update has the master");
    assert_eq!(head.playlists.len(), streams);
    let top = &seen[1].update;
    assert_eq!(top.playlists.len(), 1, "{top:?}");
    for s in 0..streams {
        let update = if s == 0 { top } else { head };
        assert!(update.ready_files.contains(&format!("stream/init-{s}.m4s")));
        assert!(update
            .ready_files
            .contains(&format!("stream/chunk-{s}-00001.m4s")));
    }
    // The top rung's CODECS as the final master names them (from its init segment).
    let resolution = format!(
        "RESOLUTION={}x{},",
        result.renditions[0].width, result.renditions[0].height
    );
    let codecs_of = |m: &str| -> String {
        let line = m
            .lines()
            .find(|l| l.contains(&resolution))
            .unwrap_or_else(|| panic!("{resolution}: {m}"));
        line.split("CODECS=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string()
    };
    let final_master = std::fs::read_to_string(stream.join("master.m3u8")).unwrap();
    assert_eq!(codecs_of(master), codecs_of(&final_master), "{master}");
    let audio_playlist = format!("stream/media_{}.m3u8", streams - 1);
    for (path, text) in head.playlists.iter().chain(&top.playlists) {
        assert!(text.contains("#EXT-X-PLAYLIST-TYPE:EVENT\n"), "{text}");
        // The later segments' length: 4 s of video, audio cut every 2 s throughout.
        let target = if *path == audio_playlist { 2 } else { 4 };
        assert!(
            text.contains(&format!("#EXT-X-TARGETDURATION:{target}\n")),
            "{path}: {text}"
        );
        let d = extinf(text);
        if path == "stream/media_0.m3u8" && !std::ptr::eq(text, &top.playlists[0].1) {
            assert!(
                d.is_empty(),
                "the top rung's playlist before its head: {text}"
            );
            continue;
        }
        assert_eq!(d.len(), 1, "{path}: {text}");
        assert!(d[0] > 1.8 && d[0] <= 2.0 + 1e-6, "{path}: {d:?}");
    }
    // Nothing reported twice, the master once, and what players got first is what stays.
    let mut reported = std::collections::BTreeSet::new();
    for s in &seen {
        for (f, bytes) in &s.bytes {
            assert!(reported.insert(f.clone()), "{f} reported twice");
            assert_eq!(&std::fs::read(out.join(f)).unwrap(), bytes, "{f} changed");
        }
    }
    assert!(seen[1..].iter().all(|s| s.update.master.is_none()));
    assert!(
        !out.join(".head").exists(),
        "the head's scratch folder is removed"
    );

    // The finished playlists and MPD: a 2 s first segment, then 4 s ones, in every stream,
    // and the MPD says what the playlists say.
    let mpd = mpd_durations(&std::fs::read_to_string(stream.join("manifest.mpd")).unwrap());
    for s in 0..streams {
        let playlist = read_media_playlist(&stream, &format!("media_{s}.m3u8"));
        let d: Vec<f64> = playlist.segments.iter().map(|x| x.1).collect();
        if s < streams - 1 {
            assert!(
                playlist.text.contains("#EXT-X-TARGETDURATION:4\n"),
                "{}",
                playlist.text
            );
            assert_eq!(d.len(), video_segments, "stream {s}: {d:?}");
            assert!((d[0] - 2.0).abs() < 1e-3, "{d:?}");
            let whole = &d[1..d.len() - 1];
            assert!(whole.iter().all(|d| (d - 4.0).abs() < 1e-3), "{d:?}");
        } else {
            // Whole AAC frames, every 2 s.
            assert!(
                playlist.text.contains("#EXT-X-TARGETDURATION:2\n"),
                "{}",
                playlist.text
            );
            assert_eq!(d.len(), audio_segments, "stream {s}: {d:?}");
            let whole = &d[..d.len() - 1];
            assert!(whole.iter().all(|d| (d - 2.0).abs() < 0.03), "{d:?}");
        }
        let timeline = &mpd[&s.to_string()];
        assert_eq!(timeline.len(), d.len(), "stream {s}: {timeline:?} {d:?}");
        for (a, b) in timeline.iter().zip(&d) {
            assert!(
                (a - b).abs() < 2e-3,
                "stream {s}: MPD {timeline:?}, playlist {d:?}"
            );
        }

        // Every packet across the border: decode timestamps rising by one frame (or one AAC
        // frame), presentation times covering the timeline without a gap.
        let joined = dir.join(format!("joined-{s}.mp4"));
        concat_rendition(&stream, &playlist, &joined);
        let packets = all_packets(&joined);
        let step = packets[1].2;
        assert!(step > 0.0, "stream {s}: {:?}", &packets[..2]);
        for w in packets.windows(2) {
            assert!(
                (w[1].1 - w[0].1 - step).abs() < 1e-4,
                "stream {s}: dts {} → {} (step {step})",
                w[0].1,
                w[1].1
            );
        }
        let mut pts: Vec<f64> = packets.iter().map(|p| p.0).collect();
        pts.sort_by(f64::total_cmp);
        assert!(
            pts[0].abs() < 1e-3 || s == streams - 1,
            "stream {s} starts at {}",
            pts[0]
        );
        for w in pts.windows(2) {
            assert!(
                (w[1] - w[0] - step).abs() < 1e-4,
                "stream {s}: pts {} → {}",
                w[0],
                w[1]
            );
        }
        let total: f64 = d.iter().sum();
        assert!((pts.len() as f64 * step - total).abs() < 0.05, "stream {s}");
        if s < streams - 1 {
            // Keyframes at 0, 2, then every segment.
            let keys: Vec<f64> = packets.iter().filter(|p| p.3).map(|p| p.0).collect();
            let expect: Vec<f64> = [0.0, 2.0, 6.0, 10.0]
                .into_iter()
                .filter(|t| *t < seconds as f64)
                .collect();
            assert_eq!(keys.len(), expect.len(), "{keys:?}");
            for (k, e) in keys.iter().zip(expect) {
                assert!((k - e).abs() < 1e-3, "{keys:?}");
            }
        }
    }

    // The report: the head's CRF and the main encode's settings, per rung.
    for rung in &result.encode.rungs {
        assert_eq!(rung.head_seconds, Some(2), "{rung:?}");
        let head_crf = rung.head_crf.unwrap();
        let crf = rung.crf.unwrap();
        let settings = rung.encoder_settings.as_deref().unwrap();
        assert!(
            settings.contains(&format!(" crf={crf}.0 ")),
            "{crf}: {settings}"
        );
        let first = std::fs::read(out.join(format!(
            "stream/chunk-{}-00001.m4s",
            rung.playlist.trim_start_matches("stream/media_").trim_end_matches(".m3u8")
        )))
        .unwrap();
        let (_, head_settings) = transcode::encoder_tag(&first).unwrap();
        assert!(
            head_settings.contains(&format!(" crf={head_crf}.0 ")),
            "{head_crf}: {head_settings}"
        );
    }
}

#[tokio::test]
async fn fixed_ladder_short_first_segment_and_none_without_packaging() {
    let dir = tempfile::tempdir().unwrap();
    let input = make_video(dir.path(), "in.mp4", 640, 360, 30, 9.0, true);
    let out = dir.path().join("out");
    // Fixed ladder: no probe, so no head; the first segment is short all the same.
    let (result, seen) = encode_collecting(&input, &out, opts(LadderMode::Fixed)).await;
    assert_eq!(seen.iter().filter(|s| s.update.master.is_some()).count(), 1);
    for s in 0..result.renditions.len() {
        let d: Vec<f64> = read_media_playlist(&out.join("stream"), &format!("media_{s}.m3u8"))
            .segments
            .iter()
            .map(|x| x.1)
            .collect();
        assert!(
            (d[0] - 2.0).abs() < 1e-3 && (d[1] - 4.0).abs() < 1e-3,
            "{s}: {d:?}"
        );
    }
    assert!(result.encode.rungs.iter().all(|r| r.head_crf.is_none()));

    // Without progressive packaging nothing plays before the end: the segments are as before.
    let info = probe::probe(&input, PROBE_TIMEOUT).await.unwrap();
    let plain = dir.path().join("plain");
    transcode::video(&input, &plain, &info, &opts(LadderMode::Fixed), |_| {})
        .await
        .unwrap();
    let d: Vec<f64> = read_media_playlist(&plain.join("stream"), "media_0.m3u8")
        .segments
        .iter()
        .map(|x| x.1)
        .collect();
    assert!((d[0] - 4.0).abs() < 1e-3, "{d:?}");
}
