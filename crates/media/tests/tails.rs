//! No stream ends on a sliver (issue 15 §2, `transcode/tail.rs`): ffmpeg's dash muxer cuts a
//! stream that runs a few milliseconds past a cut into a last segment of a frame or two, which
//! hls.js never loads (playback then never ends). For short clips of several lengths — one
//! job with and without progressive packaging (2 s and 4 s cuts), audio only, and a chunked
//! encode — every stream's last segment is at least half a second, and the playlists and the
//! MPD state the durations the media has (ffprobe on each segment).

// A panic is how a test reports failure; the workspace's unwrap/expect lints are for code that ships.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod chunked_support;
mod common;

use chunked_support::run_chunked;
use common::*;
use mediaserver_media::ladder::LadderRung;
use mediaserver_media::probe;
use mediaserver_media::transcode::{self, AudioOptions, LadderMode, PackagingUpdate, VideoOptions};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

fn opts() -> VideoOptions {
    VideoOptions {
        preset: "ultrafast".into(),
        timeout: Duration::from_secs(300),
        ladder: vec![LadderRung {
            height: 180,
            bitrate: 300_000,
        }],
        ladder_mode: LadderMode::Fixed,
        ..Default::default()
    }
}

/// `video()` with progressive packaging (2 s first segment, audio cut every 2 s) or without
/// (4 s cuts); returns every file reported while encoding with its bytes then.
async fn encode(input: &Path, out: &Path, progressive: bool) -> HashMap<String, Vec<u8>> {
    let info = probe::probe(input, PROBE_TIMEOUT).await.unwrap();
    if !progressive {
        transcode::video(input, out, &info, &opts(), |_| {})
            .await
            .unwrap();
        return HashMap::new();
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel::<PackagingUpdate>(4);
    let options = VideoOptions {
        packaging: Some(tx),
        ..opts()
    };
    let collector = {
        let out = out.to_path_buf();
        tokio::spawn(async move {
            let mut seen = HashMap::new();
            while let Some(update) = rx.recv().await {
                for f in update.ready_files {
                    let bytes = std::fs::read(out.join(&f)).unwrap();
                    seen.insert(f, bytes);
                }
            }
            seen
        })
    };
    transcode::video(input, out, &info, &options, |_| {})
        .await
        .unwrap();
    drop(options);
    collector.await.unwrap()
}

/// Every media playlist under `stream`: its last segment is not a sliver, each segment's media
/// lasts what its `EXTINF` says (within a frame), and the MPD's timeline says the same.
fn check(stream: &Path, what: &str) {
    let xml = std::fs::read_to_string(stream.join("manifest.mpd")).unwrap();
    let mpd = mpd_durations(&xml);
    // The MPD states the media's length (its longest stream's segments) and its longest
    // segment to the millisecond: ffmpeg's tenths cut 8.08 s to PT8.0S and dash.js then took
    // the stream for ended 0.08 s early (issue 15 §2).
    let total = mpd
        .values()
        .map(|d| d.iter().sum::<f64>())
        .fold(0.0, f64::max);
    let longest = mpd.values().flatten().copied().fold(0.0, f64::max);
    for (attr, want) in [
        ("mediaPresentationDuration", total),
        ("maxSegmentDuration", longest),
    ] {
        let stated = mpd_attr_seconds(&xml, attr);
        assert!(
            (stated - want).abs() <= 1e-3 + 1e-9,
            "{what}: {attr} is {stated} s, the segments say {want} s"
        );
    }
    let mut playlists: Vec<String> = std::fs::read_dir(stream)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("media_") && n.ends_with(".m3u8"))
        .collect();
    playlists.sort();
    assert!(!playlists.is_empty(), "{what}: no media playlists");
    for name in playlists {
        let id = name
            .trim_start_matches("media_")
            .trim_end_matches(".m3u8")
            .to_string();
        let playlist = read_media_playlist(stream, &name);
        let d: Vec<f64> = playlist.segments.iter().map(|s| s.1).collect();
        println!("{what} {name}: {d:?}");
        if d.len() > 1 {
            assert!(
                *d.last().unwrap() >= 0.5,
                "{what} {name}: a last segment of {d:?}"
            );
        }
        let timeline = &mpd[&id];
        assert_eq!(
            timeline.len(),
            d.len(),
            "{what} {name}: MPD {timeline:?}, playlist {d:?}"
        );
        for (a, b) in timeline.iter().zip(&d) {
            assert!(
                (a - b).abs() < 2e-3,
                "{what} {name}: MPD {timeline:?}, playlist {d:?}"
            );
        }
        // Each segment on its own (init + segment): the span of its packets.
        let init = std::fs::read(stream.join(&playlist.init)).unwrap();
        for (uri, extinf) in &playlist.segments {
            let file = stream.join(format!("{uri}.probe.mp4"));
            let mut bytes = init.clone();
            bytes.extend(std::fs::read(stream.join(uri)).unwrap());
            std::fs::write(&file, bytes).unwrap();
            let (span, frame) = span(&file);
            std::fs::remove_file(&file).unwrap();
            assert!(
                (span - extinf).abs() <= frame + 1e-3,
                "{what} {uri}: the media lasts {span} s, EXTINF {extinf}"
            );
        }
    }
}

/// The MPD element's ISO 8601 duration attribute `name` (`PT[nH][nM]n[.n]S`) in seconds.
fn mpd_attr_seconds(xml: &str, name: &str) -> f64 {
    let doc = roxmltree::Document::parse(xml).unwrap();
    let value = doc.root_element().attribute(name).unwrap();
    let mut rest = value.strip_prefix("PT").unwrap();
    let mut seconds = 0.0;
    for (unit, scale) in [('H', 3600.0), ('M', 60.0), ('S', 1.0)] {
        if let Some(i) = rest.find(unit) {
            seconds += rest[..i].parse::<f64>().unwrap() * scale;
            rest = &rest[i + 1..];
        }
    }
    assert!(rest.is_empty(), "{name}=\"{value}\"");
    seconds
}

/// (last packet's end − first packet's start, one packet's duration) of the one stream of
/// `file`.
fn span(file: &Path) -> (f64, f64) {
    let j = ffprobe_json(file, &["-show_entries", "packet=pts_time,duration_time"]);
    let (mut first, mut end, mut frame) = (f64::MAX, f64::MIN, 0.0f64);
    for p in j["packets"].as_array().unwrap() {
        let pts: f64 = p["pts_time"].as_str().unwrap().parse().unwrap();
        let dur: f64 = p["duration_time"]
            .as_str()
            .map_or(0.0, |d| d.parse().unwrap());
        first = first.min(pts);
        end = end.max(pts + dur);
        frame = frame.max(dur);
    }
    (end - first, frame)
}

/// The clip of the embed test (6 s: at 2 s cuts the audio ended on one 21 ms AAC frame) and
/// one a frame and a half past 8 s (at 4 s cuts the video ended on a one-frame segment, the
/// audio on three AAC frames), each with and without progressive packaging.
#[tokio::test]
async fn one_job_ends_on_no_sliver() {
    let dir = tempfile::tempdir().unwrap();
    for seconds in [6.0, 8.05] {
        let input = make_video(
            dir.path(),
            &format!("in-{seconds}.mp4"),
            320,
            180,
            30,
            seconds,
            true,
        );
        for progressive in [true, false] {
            let what = format!("{seconds} s, progressive {progressive}");
            let out = dir.path().join(format!("out-{seconds}-{progressive}"));
            let reported = encode(&input, &out, progressive).await;
            check(&out.join("stream"), &what);
            // What progressive publishing reported is what stays: a segment a fold grew was
            // never reported before it.
            for (f, bytes) in &reported {
                assert_eq!(
                    std::fs::read(out.join(f)).ok().as_ref(),
                    Some(bytes),
                    "{what}: {f} changed or went after it was reported"
                );
            }
        }
    }
}

/// Audio only, 4 s cuts, a few AAC frames past 8 s.
#[tokio::test]
async fn audio_only_ends_on_no_sliver() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.m4a");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000:duration=8.05",
        "-c:a",
        "aac",
        input.to_str().unwrap(),
    ]);
    let info = probe::probe(&input, PROBE_TIMEOUT).await.unwrap();
    let out = dir.path().join("out");
    let options = AudioOptions {
        timeout: Duration::from_secs(120),
        ..Default::default()
    };
    transcode::audio(&input, &out, &info, &options, |_| {})
        .await
        .unwrap();
    check(&out.join("stream"), "audio only");
}

/// A chunked encode (2 s segments, 8 s chunks) of a clip a frame and a half past 16 s: its last
/// chunk and its rest job's audio fold their tails as a single job does, and the result is
/// still the single job's.
#[tokio::test]
async fn chunked_ends_on_no_sliver() {
    let dir = tempfile::tempdir().unwrap();
    let src = make_video(dir.path(), "src.mp4", 320, 180, 30, 16.05, true);
    let probe = probe::probe(&src, PROBE_TIMEOUT).await.unwrap();
    let opts = VideoOptions {
        segment_seconds: 2,
        keyframe_seconds: 2,
        ..opts()
    };
    let single_dir = dir.path().join("single");
    let single = transcode::video(&src, &single_dir, &probe, &opts, |_| {})
        .await
        .unwrap();
    check(&single_dir.join("stream"), "single job");
    let c = run_chunked(&src, &probe, &opts, &dir.path().join("chunked"), None).await;
    assert!(c.plan.chunks() >= 2, "{:?}", c.plan.ranges);
    check(&c.published.join("stream"), "chunked");
    chunked_support::compare(dir.path(), &src, &single_dir, &single, &c, 16.05);
}
