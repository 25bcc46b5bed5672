//! The content-adaptive ladder (`LADDER_MODE`), through the one-shot `mediaserver transcode`:
//! easy and hard content get different bitrates, the manifests' bandwidths are what the segments
//! measure, a rung that comes out like the next one up is dropped, and `fixed` keeps the ladder's
//! bitrates and every rung.

use crate::common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The ladder's 360p and 240p rungs, in bits/s (a 640x360 source gets these two).
const RUNG_360: u64 = 800_000;
const RUNG_240: u64 = 400_000;

/// Near-static: colour bars (one still picture for 4 s).
fn easy() -> PathBuf {
    common::ffmpeg_fixture(
        "ladder-easy.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "smptebars=s=640x360:r=30:d=4",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "10",
            "-pix_fmt",
            "yuv420p",
        ],
    )
}

/// Hard: the test pattern under strong temporal noise, stored at a high bitrate.
fn hard() -> PathBuf {
    common::ffmpeg_fixture(
        "ladder-hard.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=640x360:r=30:d=4,noise=alls=60:allf=t+u",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "10",
            "-pix_fmt",
            "yuv420p",
        ],
    )
}

/// Hard content whose own bitrate is low: the plan caps both rungs at 1.1× the source's bitrate,
/// so the 240p rung comes out as large as the 360p one.
fn starved() -> PathBuf {
    common::ffmpeg_fixture(
        "ladder-starved.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=640x360:r=30:d=4,noise=alls=60:allf=t+u",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-b:v",
            "150k",
            "-maxrate",
            "160k",
            "-bufsize",
            "160k",
            "-pix_fmt",
            "yuv420p",
        ],
    )
}

/// `mediaserver transcode SRC DIR/out` with only `env` set; returns the output directory.
fn transcode(src: &Path, dir: &Path, env: &[(&str, &str)]) -> PathBuf {
    let out = dir.join("out");
    let mut c = Command::new(env!("CARGO_BIN_EXE_mediaserver"));
    c.env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        c.env("PATH", path);
    }
    let result = c
        .arg("transcode")
        .arg(src)
        .arg(&out)
        .args(["--preset", "ultrafast"])
        .env("DATA_DIR", dir)
        .env("DOWNLOAD_RENDITIONS", "none")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    out
}

#[derive(Debug)]
struct Variant {
    bandwidth: u64,
    average: u64,
    height: u32,
    /// Output stream number (`media_N.m3u8`).
    stream: usize,
}

fn variants(out: &Path) -> Vec<Variant> {
    let master = std::fs::read_to_string(out.join("stream/master.m3u8")).unwrap();
    let mut found = Vec::new();
    let mut lines = master.lines();
    while let Some(line) = lines.next() {
        let Some(attrs) = line.strip_prefix("#EXT-X-STREAM-INF:") else {
            continue;
        };
        let attr = |name: &str| -> String {
            attrs
                .split(',')
                .find_map(|a| a.strip_prefix(&format!("{name}=")))
                .unwrap_or_else(|| panic!("{name} missing in {attrs}"))
                .to_string()
        };
        let uri = lines.next().unwrap();
        let stream = uri
            .strip_prefix("media_")
            .and_then(|u| u.strip_suffix(".m3u8"))
            .unwrap()
            .parse()
            .unwrap();
        found.push(Variant {
            bandwidth: attr("BANDWIDTH").parse().unwrap(),
            average: attr("AVERAGE-BANDWIDTH").parse().unwrap(),
            height: attr("RESOLUTION")
                .split_once('x')
                .unwrap()
                .1
                .parse()
                .unwrap(),
            stream,
        });
    }
    found
}

/// (peak, average) bits/s of stream `n`, from its segment files and the playlist's durations.
fn measured(out: &Path, n: usize) -> (u64, u64) {
    let dir = out.join("stream");
    let playlist = std::fs::read_to_string(dir.join(format!("media_{n}.m3u8"))).unwrap();
    let mut segments = Vec::new();
    let mut duration = None;
    for line in playlist.lines() {
        if let Some(d) = line.strip_prefix("#EXTINF:") {
            duration = Some(d.trim_end_matches(',').parse::<f64>().unwrap());
        } else if !line.starts_with('#') && !line.is_empty() {
            let bytes = std::fs::metadata(dir.join(line)).unwrap().len();
            segments.push((bytes as f64 * 8.0, duration.take().unwrap()));
        }
    }
    assert!(!segments.is_empty(), "{playlist}");
    let bits: f64 = segments.iter().map(|s| s.0).sum();
    let seconds: f64 = segments.iter().map(|s| s.1).sum();
    let peak = segments
        .iter()
        .filter(|s| s.1 >= 1.0)
        .map(|s| s.0 / s.1)
        .fold(0.0, f64::max);
    (peak as u64, (bits / seconds) as u64)
}

/// Video representation id → bandwidth in the MPD.
fn mpd_bandwidths(out: &Path) -> HashMap<usize, u64> {
    let mpd = std::fs::read_to_string(out.join("stream/manifest.mpd")).unwrap();
    let doc = roxmltree::Document::parse(&mpd).unwrap();
    doc.descendants()
        .filter(|n| n.tag_name().name() == "AdaptationSet")
        .filter(|n| n.attribute("contentType") == Some("video"))
        .flat_map(|set| {
            set.children()
                .filter(|n| n.tag_name().name() == "Representation")
        })
        .map(|r| {
            (
                r.attribute("id").unwrap().parse().unwrap(),
                r.attribute("bandwidth").unwrap().parse().unwrap(),
            )
        })
        .collect()
}

fn within_10_percent(stated: u64, measured: u64) -> bool {
    (stated as f64 - measured as f64).abs() <= measured as f64 * 0.10
}

/// Every variant's HLS and DASH bandwidths are the segments' measured peak and average.
fn assert_measured_bandwidths(out: &Path) -> Vec<(Variant, u64)> {
    let mpd = mpd_bandwidths(out);
    let vs = variants(out);
    assert_eq!(mpd.len(), vs.len(), "{mpd:?} {vs:?}");
    vs.into_iter()
        .map(|v| {
            let (peak, average) = measured(out, v.stream);
            assert!(within_10_percent(v.bandwidth, peak), "{v:?}: peak {peak}");
            assert!(
                within_10_percent(v.average, average),
                "{v:?}: average {average}"
            );
            let dash = mpd[&v.stream];
            assert!(
                within_10_percent(dash, peak),
                "MPD {dash} for {v:?}: peak {peak}"
            );
            (v, average)
        })
        .collect()
}

#[test]
fn easy_and_hard_content_get_different_bitrates_and_measured_bandwidths() {
    // The default is adaptive.
    let dir = tempfile::tempdir().unwrap();
    let easy_out = transcode(&easy(), &dir.path().join("easy"), &[]);
    let hard_out = transcode(&hard(), &dir.path().join("hard"), &[]);
    let easy = assert_measured_bandwidths(&easy_out);
    let hard = assert_measured_bandwidths(&hard_out);
    let heights = |v: &[(Variant, u64)]| v.iter().map(|(v, _)| v.height).collect::<Vec<_>>();
    // Still bars cost about the same at 240p as at 360p (keyframes and boxes): that rung may go.
    assert_eq!(heights(&easy)[0], 360);
    assert_eq!(heights(&hard), [360, 240]);
    // Still colour bars need a small part of what noise does at the same size…
    let (easy_avg, hard_avg) = (easy[0].1, hard[0].1);
    assert!(
        easy_avg * 4 < hard_avg,
        "360p: easy {easy_avg} b/s, hard {hard_avg} b/s"
    );
    for (h, hard_avg) in &hard {
        // …and noise gets about the ladder's rate: the cap, plus what the encoder's initial
        // buffer (a third of 1.5 s of the rate) allows over these 4 s, plus the MP4 boxes.
        let rung = if h.height == 360 { RUNG_360 } else { RUNG_240 };
        assert!(*hard_avg <= rung * 6 / 5, "{h:?}: {hard_avg}");
        assert!(*hard_avg >= rung / 2, "{h:?}: {hard_avg}");
    }
}

#[test]
fn a_rung_as_large_as_the_next_one_up_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let out = transcode(
        &starved(),
        &dir.path().join("adaptive"),
        &[("LADDER_MODE", "adaptive")],
    );
    let kept = assert_measured_bandwidths(&out);
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0].0.height, 360);
    // Nothing of the dropped rung is left to publish.
    let leftovers: Vec<String> = std::fs::read_dir(out.join("stream"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.starts_with("init-1") || f.starts_with("chunk-1-") || f == "media_1.m3u8")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // The summary lists only what was published.
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("transcode.json")).unwrap()).unwrap();
    assert_eq!(
        summary["renditions"].as_array().unwrap().len(),
        1,
        "{summary}"
    );

    // The fixed ladder keeps both.
    let out = transcode(
        &starved(),
        &dir.path().join("fixed"),
        &[("LADDER_MODE", "fixed")],
    );
    assert_eq!(variants(&out).len(), 2);
}

#[test]
fn fixed_mode_keeps_the_ladder_bitrates_and_its_bandwidth_rule() {
    let dir = tempfile::tempdir().unwrap();
    let fixed = transcode(
        &easy(),
        &dir.path().join("easy"),
        &[("LADDER_MODE", "fixed")],
    );
    let easy_variants = variants(&fixed);
    assert_eq!(easy_variants.len(), 2, "{easy_variants:?}");
    let mpd = mpd_bandwidths(&fixed);
    for v in &easy_variants {
        // As before: both rungs stay, and BANDWIDTH is at least the rung's maxrate (1.07× the
        // bitrate ffmpeg wrote in the MPD; the source's own tiny bitrate caps these rungs)
        // however little the segments hold.
        let (peak, _) = measured(&fixed, v.stream);
        let target = mpd[&v.stream];
        assert!(v.bandwidth > peak, "{v:?}: peak {peak}");
        assert!(v.bandwidth >= target * 107 / 100, "{v:?}: {mpd:?}");
    }
    // Hard content: an average-bitrate encode at the rung's bitrate.
    let fixed = transcode(
        &hard(),
        &dir.path().join("hard"),
        &[("LADDER_MODE", "fixed")],
    );
    let mpd = mpd_bandwidths(&fixed);
    for v in variants(&fixed) {
        let rung = if v.height == 360 { RUNG_360 } else { RUNG_240 };
        assert_eq!(mpd[&v.stream], rung, "{mpd:?}");
        let (_, average) = measured(&fixed, v.stream);
        assert!(
            average >= rung * 8 / 10 && average <= rung * 115 / 100,
            "{v:?}: {average}"
        );
    }
}

/// The same as [`starved`], 12 s long: three segments, so progressive publishing uploads some
/// of the 240p rung's before the encode ends and the rung is dropped.
fn starved_long() -> PathBuf {
    common::ffmpeg_fixture(
        "ladder-starved-12s.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=640x360:r=30:d=12,noise=alls=60:allf=t+u",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-b:v",
            "150k",
            "-maxrate",
            "160k",
            "-bufsize",
            "160k",
            "-pix_fmt",
            "yuv420p",
        ],
    )
}

#[tokio::test]
async fn a_dropped_rungs_published_segments_are_deleted() {
    let s = common::TestServer::start_with(&[("WORKERS", "1"), ("TRANSCODE_PRESET", "ultrafast")])
        .await;
    let token = s.user_token("ladder@example.com").await;
    let id = s
        .upload_ok(&token, "starved.mp4", common::read(&starved_long()))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let item = s.wait_done(&token, &id, 240).await;
    assert_eq!(item["status"], "ready", "{item}");
    assert_eq!(item["renditions"].as_array().unwrap().len(), 1, "{item}");
    let objects: Vec<String> = s
        .state
        .output_store
        .list(&format!("media/{id}/stream/"))
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.key.to_string())
        .collect();
    assert!(
        objects.iter().any(|k| k.ends_with("/chunk-0-00003.m4s")),
        "{objects:?}"
    );
    let of_dropped: Vec<&String> = objects
        .iter()
        .filter(|k| {
            let name = k.rsplit('/').next().unwrap();
            name.starts_with("init-1.") || name.starts_with("chunk-1-") || name == "media_1.m3u8"
        })
        .collect();
    assert!(of_dropped.is_empty(), "{of_dropped:?}");
}
