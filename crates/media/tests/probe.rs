//! ffprobe parsing over committed fixtures, and real probes of broken inputs.

// A panic is how a test reports failure; the workspace's unwrap/expect lints are for code that ships.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use mediaserver_media::probe::{self, ProbeInfo};
use mediaserver_media::MediaError;
use std::path::Path;
use std::time::{Duration, Instant};

fn fixture(name: &str) -> ProbeInfo {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/probe")
        .join(name);
    probe::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn landscape_1080p_with_audio() {
    let p = fixture("landscape_1080p.mp4.json");
    assert_eq!(p.format_name, "mov,mp4,m4a,3gp,3g2,mj2");
    assert!((p.duration.unwrap() - 2.0).abs() < 0.05);
    assert!(p.size > 0);
    assert!(p.bit_rate.unwrap() > 0);
    assert!(!p.is_still_image());
    let v = p.video.unwrap();
    assert_eq!(
        (v.index, v.codec.as_str(), v.width, v.height, v.rotation),
        (0, "h264", 1920, 1080, 0)
    );
    assert_eq!(v.fps, 30.0);
    assert_eq!(v.pix_fmt, "yuv420p");
    assert_eq!(v.duration, Some(2.0));
    assert!(v.bit_rate.unwrap() > 100_000);
    let a = p.audio.unwrap();
    assert_eq!(
        (a.index, a.codec.as_str(), a.channels, a.sample_rate),
        (1, "aac", 1, 48000)
    );
    assert!(a.bit_rate.unwrap() > 100_000);
}

#[test]
fn portrait() {
    let v = fixture("portrait_720x1280.mp4.json").video.unwrap();
    assert_eq!((v.width, v.height, v.rotation), (720, 1280, 0));
}

#[test]
fn rotated_phone_reports_display_size() {
    let p = fixture("rotated_phone.mp4.json");
    let v = p.video.unwrap();
    // Coded 1280x720 with a -90° display matrix: shown upright as 720x1280.
    assert_eq!((v.width, v.height, v.rotation), (720, 1280, 90));
    assert!(p.audio.is_some());
}

#[test]
fn audio_with_cover_art_has_no_video() {
    for name in ["audio_cover.mp3.json", "audio_cover.m4a.json"] {
        let p = fixture(name);
        assert!(p.video.is_none(), "{name}: cover art is not video");
        let a = p.audio.unwrap();
        assert_eq!(a.index, 0, "{name}");
        assert!((p.duration.unwrap() - 3.0).abs() < 0.1, "{name}");
        assert!(a.sample_rate > 0 && a.channels > 0, "{name}");
    }
    assert_eq!(fixture("audio_cover.mp3.json").audio.unwrap().codec, "mp3");
    assert_eq!(fixture("audio_cover.m4a.json").audio.unwrap().codec, "aac");
}

#[test]
fn png_is_a_still_image() {
    let p = fixture("image.png.json");
    assert!(p.is_still_image());
    assert_eq!(p.format_name, "png_pipe");
    let v = p.video.unwrap();
    assert_eq!((v.codec.as_str(), v.width, v.height), ("png", 640, 480));
    assert!(p.audio.is_none());
}

async fn probe_err(path: &Path) -> MediaError {
    let started = Instant::now();
    let e = probe::probe(path, Duration::from_secs(30))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    // What a failed item records: no scratch path of ours, no ffmpeg context addresses.
    if e.is_permanent() {
        let text = e.to_string();
        assert!(!text.contains('/') && !text.contains("0x"), "{text}");
    }
    e
}

#[tokio::test]
async fn truncated_mp4_is_unusable() {
    let dir = tempfile::tempdir().unwrap();
    let good = common::make_video(dir.path(), "good.mp4", 320, 240, 30, 2.0, true);
    let bytes = std::fs::read(&good).unwrap();
    let cut = dir.path().join("cut.mp4");
    std::fs::write(&cut, &bytes[..bytes.len() * 3 / 10]).unwrap();
    let e = probe_err(&cut).await;
    assert!(e.is_permanent(), "{e}");
    assert!(
        e.to_string().contains("moov atom not found") || e.to_string().contains("Invalid data"),
        "{e}"
    );
    // The untouched file probes fine.
    let ok = probe::probe(&good, Duration::from_secs(30)).await.unwrap();
    assert_eq!(ok.video.unwrap().width, 320);
}

#[tokio::test]
async fn random_bytes_are_unusable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("random.mp4");
    // A fixed xorshift stream: "random" without a dependency, and reproducible.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let bytes: Vec<u8> = (0..64 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(&path, bytes).unwrap();
    let e = probe_err(&path).await;
    assert!(matches!(e, MediaError::Unusable(_)), "{e}");
}

#[tokio::test]
async fn empty_file_is_unusable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.mp4");
    std::fs::write(&path, b"").unwrap();
    let e = probe_err(&path).await;
    assert!(matches!(e, MediaError::Unusable(_)), "{e}");
}

#[tokio::test]
async fn missing_file_is_io_not_unusable() {
    let e = probe_err(Path::new("/definitely/not/here.mp4")).await;
    assert!(matches!(e, MediaError::Io(_)), "{e}");
}

#[tokio::test]
async fn text_file_is_unusable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.mp4");
    std::fs::write(&path, "just some text, not a video\n".repeat(100)).unwrap();
    let e = probe_err(&path).await;
    assert!(e.is_permanent(), "{e}");
}
