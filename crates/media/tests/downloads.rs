//! Downloads remuxed from the published rungs: real ffmpeg on small lavfi clips, checked with
//! ffprobe and by reading the files' top-level boxes.

// A panic is how a test reports failure; the workspace's unwrap/expect lints are for code that ships.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use mediaserver_media::transcode::{
    self, make_downloads, AudioOptions, DownloadRenditions, VideoOptions,
};
use mediaserver_media::{probe, CancellationToken};
use std::path::Path;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(120);

/// The four-character types of a file's top-level boxes, in order.
fn top_level_boxes(path: &Path) -> Vec<String> {
    let bytes = std::fs::read(path).unwrap();
    let mut out = Vec::new();
    let mut at = 0usize;
    while at + 8 <= bytes.len() {
        let size32 = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as u64;
        let kind = String::from_utf8_lossy(&bytes[at + 4..at + 8]).into_owned();
        let size = match size32 {
            1 => u64::from_be_bytes(bytes[at + 8..at + 16].try_into().unwrap()),
            0 => (bytes.len() - at) as u64,
            n => n,
        };
        assert!(size >= 8, "box {kind} of size {size}");
        out.push(kind);
        at += size as usize;
    }
    assert_eq!(at, bytes.len(), "boxes cover the file");
    out
}

/// (codec type, codec name, width, height) of every stream, and the container's duration.
fn streams(path: &Path) -> (Vec<(String, String, u64, u64)>, f64) {
    let j = ffprobe_json(path, &["-show_streams", "-show_format"]);
    let streams = j["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["codec_type"].as_str().unwrap().to_string(),
                s["codec_name"].as_str().unwrap().to_string(),
                s["width"].as_u64().unwrap_or(0),
                s["height"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let duration = j["format"]["duration"].as_str().unwrap().parse().unwrap();
    (streams, duration)
}

fn assert_faststart(path: &Path) {
    let boxes = top_level_boxes(path);
    let moov = boxes.iter().position(|b| b == "moov").expect("a moov");
    let mdat = boxes.iter().position(|b| b == "mdat").expect("an mdat");
    assert!(moov < mdat, "moov before mdat: {boxes:?}");
    assert!(
        !boxes.iter().any(|b| b == "moof"),
        "not fragmented: {boxes:?}"
    );
}

#[tokio::test]
async fn video_downloads_are_faststart_h264_aac_mp4s_of_the_rungs() {
    let dir = tempfile::tempdir().unwrap();
    let input = make_video(dir.path(), "in.mp4", 640, 360, 25, 3.0, true);
    let info = probe::probe(&input, TIMEOUT).await.unwrap();
    let out = dir.path().join("out");
    let opts = VideoOptions {
        preset: "ultrafast".into(),
        ..Default::default()
    };
    let video = transcode::video(&input, &out, &info, &opts, |_| {})
        .await
        .unwrap();
    assert!(video.renditions.len() >= 2, "{:?}", video.renditions);

    let made = make_downloads(
        &out,
        DownloadRenditions::default(),
        TIMEOUT,
        CancellationToken::new(),
    )
    .await
    .unwrap();
    let highest = &video.renditions[0];
    let lowest = video.renditions.last().unwrap();
    let names: Vec<&str> = made.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(
        names,
        [highest.name.as_str(), lowest.name.as_str(), "audio"]
    );
    assert!(!out.join(".remux").exists(), "scratch removed");

    for (d, rung) in made.iter().zip([highest, lowest]) {
        let path = out.join(&d.path);
        assert_eq!(d.path, format!("downloads/{}.mp4", rung.name));
        assert_eq!(d.bytes, std::fs::metadata(&path).unwrap().len());
        assert_eq!((d.width, d.height), (rung.width, rung.height));
        assert_faststart(&path);
        let (streams, duration) = streams(&path);
        assert_eq!(
            streams,
            vec![
                (
                    "video".into(),
                    "h264".into(),
                    rung.width as u64,
                    rung.height as u64
                ),
                ("audio".into(), "aac".into(), 0, 0),
            ]
        );
        assert!(
            (duration - video.duration).abs() <= 0.1,
            "{duration} vs {}",
            video.duration
        );
    }
    let m4a = made.last().unwrap();
    assert_eq!(m4a.path, "downloads/audio.m4a");
    let path = out.join(&m4a.path);
    assert_faststart(&path);
    let (streams, duration) = streams(&path);
    assert_eq!(streams, vec![("audio".into(), "aac".into(), 0, 0)]);
    assert!((duration - video.duration).abs() <= 0.1, "{duration}");

    // `all` makes every rung; `none` nothing.
    let all = make_downloads(
        &out,
        DownloadRenditions::All,
        TIMEOUT,
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(all.len(), video.renditions.len() + 1);
    let none = make_downloads(
        &out,
        DownloadRenditions::None,
        TIMEOUT,
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert!(none.is_empty());
}

#[tokio::test]
async fn a_silent_video_gets_video_only_mp4s_and_no_m4a() {
    let dir = tempfile::tempdir().unwrap();
    let input = make_video(dir.path(), "silent.mp4", 320, 240, 25, 2.0, false);
    let info = probe::probe(&input, TIMEOUT).await.unwrap();
    let out = dir.path().join("out");
    let opts = VideoOptions {
        preset: "ultrafast".into(),
        ..Default::default()
    };
    transcode::video(&input, &out, &info, &opts, |_| {})
        .await
        .unwrap();
    let made = make_downloads(
        &out,
        DownloadRenditions::Pick {
            highest: true,
            lowest: false,
        },
        TIMEOUT,
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(made.len(), 1, "{made:?}");
    let (streams, _) = streams(&out.join(&made[0].path));
    assert_eq!(streams.len(), 1);
    assert_eq!(streams[0].1, "h264");
}

#[tokio::test]
async fn audio_items_get_an_m4a_of_the_best_rendition() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.wav");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=3",
        input.to_str().unwrap(),
    ]);
    let info = probe::probe(&input, TIMEOUT).await.unwrap();
    let out = dir.path().join("out");
    let audio = transcode::audio(&input, &out, &info, &AudioOptions::default(), |_| {})
        .await
        .unwrap();
    let made = make_downloads(
        &out,
        DownloadRenditions::default(),
        TIMEOUT,
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(made.len(), 1, "{made:?}");
    assert_eq!(made[0].name, "audio");
    let path = out.join(&made[0].path);
    assert_faststart(&path);
    let (streams, duration) = streams(&path);
    assert_eq!(streams, vec![("audio".into(), "aac".into(), 0, 0)]);
    assert!((duration - audio.duration).abs() <= 0.1, "{duration}");
    // The 128k rendition, not the 64k one.
    let bit_rate: u64 = ffprobe_json(&path, &["-show_format"])["format"]["bit_rate"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(bit_rate > 96_000, "{bit_rate}");
}

#[tokio::test]
async fn images_and_empty_directories_get_none() {
    let dir = tempfile::tempdir().unwrap();
    let made = make_downloads(
        dir.path(),
        DownloadRenditions::All,
        TIMEOUT,
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert!(made.is_empty());
}
