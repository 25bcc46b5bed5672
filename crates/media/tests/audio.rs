//! Audio-only ladders from a real mp3 with cover art.

// A panic is how a test reports failure; the workspace's unwrap/expect lints are for code that ships.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use mediaserver_media::probe;
use mediaserver_media::transcode::{self, AudioOptions};
use std::time::Duration;

#[tokio::test]
async fn mp3_with_cover_gets_two_aac_renditions() {
    let dir = tempfile::tempdir().unwrap();
    let cover = dir.path().join("cover.png");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=200x200",
        "-frames:v",
        "1",
        cover.to_str().unwrap(),
    ]);
    let input = dir.path().join("song.mp3");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=3",
        "-i",
        cover.to_str().unwrap(),
        "-map",
        "0:a",
        "-map",
        "1:v",
        "-c:a",
        "libmp3lame",
        "-b:a",
        "128k",
        "-c:v",
        "png",
        "-disposition:v",
        "attached_pic",
        "-id3v2_version",
        "3",
        input.to_str().unwrap(),
    ]);
    let info = probe::probe(&input, Duration::from_secs(30)).await.unwrap();
    assert!(info.video.is_none());
    let duration = info.duration.unwrap();

    let out = dir.path().join("out");
    let mut fractions = Vec::new();
    let result = transcode::audio(&input, &out, &info, &AudioOptions::default(), |p| {
        fractions.push(p.fraction)
    })
    .await
    .unwrap();
    assert_eq!(fractions.last(), Some(&1.0));
    assert_eq!(result.hls_master, "stream/master.m3u8");
    assert_eq!(result.dash_manifest, "stream/manifest.mpd");
    assert!(
        (result.duration - duration).abs() <= 0.1,
        "{} vs {duration}",
        result.duration
    );
    let names: Vec<_> = result.renditions.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["128k", "64k"]);

    let stream = out.join("stream");
    let master = read_master(&stream);
    assert_eq!(master.variants.len(), 2);
    assert!(master.audio_uri.is_none());
    for (variant, (rendition, bitrate)) in master
        .variants
        .iter()
        .zip(result.renditions.iter().zip([128_000u64, 64_000]))
    {
        assert_eq!(variant.attrs["CODECS"], "mp4a.40.2");
        assert!(!variant.attrs.contains_key("RESOLUTION"));
        let bandwidth: u64 = variant.attrs["BANDWIDTH"].parse().unwrap();
        assert!(bandwidth >= bitrate);
        assert_eq!(bandwidth, rendition.bandwidth);
        let playlist = read_media_playlist(&stream, &variant.uri);
        let joined = out.join("check.mp4");
        concat_rendition(&stream, &playlist, &joined);
        let j = ffprobe_json(&joined, &["-show_streams"]);
        assert_eq!(j["streams"].as_array().unwrap().len(), 1, "only audio");
        let s = &j["streams"][0];
        assert_eq!(s["codec_name"], "aac");
        assert_eq!(s["channels"], 2);
        assert_eq!(s["sample_rate"], "48000");
        let (_, end) = packets(&joined, "a");
        assert!((end - duration).abs() <= 0.1, "{end}");
    }
    let mpd = read_mpd(&stream);
    assert_eq!(mpd.len(), 2);
    for rep in &mpd {
        assert_eq!(rep.1, "audio");
        let playlist = read_media_playlist(&stream, &format!("media_{}.m3u8", rep.0));
        assert_eq!(rep.5, playlist.segments.len());
    }
}

#[tokio::test]
async fn video_only_file_has_no_audio_to_transcode() {
    let dir = tempfile::tempdir().unwrap();
    let input = make_video(dir.path(), "silent.mp4", 160, 120, 10, 1.0, false);
    let info = probe::probe(&input, Duration::from_secs(30)).await.unwrap();
    let err = transcode::audio(
        &input,
        &dir.path().join("out"),
        &info,
        &AudioOptions::default(),
        |_| {},
    )
    .await
    .unwrap_err();
    assert!(err.is_permanent(), "{err}");
}
