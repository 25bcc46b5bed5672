//! Real ffmpeg runs on small lavfi-made clips, checked with ffprobe.

// A panic is how a test reports failure; the workspace's unwrap/expect lints are for code that ships.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use mediaserver_media::ladder::{self, Rung};
use mediaserver_media::transcode::{self, Progress, VideoOptions, VideoOutput};
use mediaserver_media::{probe, CancellationToken, MediaError};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

fn fast() -> VideoOptions {
    VideoOptions {
        preset: "ultrafast".into(),
        timeout: Duration::from_secs(300),
        ..Default::default()
    }
}

/// Transcodes `input` and checks everything a player relies on; returns the output and the
/// planned rungs.
async fn transcode_and_verify(
    input: &Path,
    out: &Path,
    opts: &VideoOptions,
) -> (VideoOutput, Vec<Rung>) {
    let info = probe::probe(input, PROBE_TIMEOUT).await.unwrap();
    let v = info.video.clone().unwrap();
    let rungs = ladder::plan(&v, &opts.ladder);
    let result = transcode::video(input, out, &info, opts, |_| {})
        .await
        .unwrap();
    verify(out, &info, &rungs, &result);
    (result, rungs)
}

fn verify(out: &Path, info: &probe::ProbeInfo, rungs: &[Rung], result: &VideoOutput) {
    let v = info.video.as_ref().unwrap();
    let has_audio = info.audio.is_some();
    let stream = out.join("stream");
    let source_duration = info.duration.unwrap();

    assert_eq!(result.hls_master, "stream/master.m3u8");
    assert_eq!(result.dash_manifest, "stream/manifest.mpd");
    assert_eq!(result.audio, has_audio);
    assert_eq!((result.width, result.height), (v.width, v.height));
    assert!(
        (result.duration - source_duration).abs() <= 0.1,
        "{} vs {source_duration}",
        result.duration
    );
    assert_eq!(result.renditions.len(), rungs.len());

    // HLS master.
    let master = read_master(&stream);
    assert_eq!(master.variants.len(), rungs.len(), "{}", master.text);
    assert_eq!(master.audio_uri.is_some(), has_audio, "{}", master.text);
    for ((variant, rung), rendition) in master.variants.iter().zip(rungs).zip(&result.renditions) {
        let a = &variant.attrs;
        let bandwidth: u64 = a["BANDWIDTH"].parse().unwrap();
        assert!(bandwidth >= rung.maxrate, "{a:?}");
        assert_eq!(bandwidth, rendition.bandwidth);
        assert!(a["AVERAGE-BANDWIDTH"].parse::<u64>().unwrap() > 0);
        assert_eq!(a["RESOLUTION"], format!("{}x{}", rung.width, rung.height));
        assert_eq!(a["CODECS"], rendition.codecs);
        let codecs: Vec<&str> = a["CODECS"].split(',').collect();
        assert!(codecs[0].starts_with("avc1."), "{codecs:?}");
        if has_audio {
            assert_eq!(codecs.get(1), Some(&"mp4a.40.2"));
            assert_eq!(a.get("AUDIO").map(String::as_str), Some("audio"));
        } else {
            assert_eq!(codecs.len(), 1);
            assert!(!a.contains_key("AUDIO"));
        }
        assert!(
            rung.width <= v.width && rung.height <= v.height,
            "upscaled {rung:?}"
        );
        assert_eq!(
            (rendition.width, rendition.height),
            (rung.width, rung.height)
        );
    }

    // DASH: one video Representation per rung, the same segment counts as HLS.
    let mpd = read_mpd(&stream);
    let video_reps: Vec<_> = mpd.iter().filter(|r| r.1 == "video").collect();
    assert_eq!(video_reps.len(), rungs.len());
    assert_eq!(
        mpd.iter().filter(|r| r.1 == "audio").count(),
        usize::from(has_audio)
    );
    for rep in &mpd {
        let playlist = read_media_playlist(&stream, &format!("media_{}.m3u8", rep.0));
        assert_eq!(
            rep.5,
            playlist.segments.len(),
            "segment count of representation {}",
            rep.0
        );
    }

    // Every rung: planned size, duration, keyframes identical across rungs.
    let mut keyframes: Option<Vec<f64>> = None;
    for (i, (rung, rep)) in rungs.iter().zip(&video_reps).enumerate() {
        assert_eq!((rep.2, rep.3), (rung.width, rung.height));
        let playlist = read_media_playlist(&stream, &format!("media_{}.m3u8", rep.0));
        let joined = out.join(format!("check-{i}.mp4"));
        concat_rendition(&stream, &playlist, &joined);
        assert_eq!(dimensions(&joined), (rung.width, rung.height));
        let (keys, end) = packets(&joined, "v");
        assert!(
            (end - source_duration).abs() <= 0.1,
            "rung {i} lasts {end}, source {source_duration}"
        );
        assert_eq!(keys[0], 0.0);
        for pair in keys.windows(2) {
            assert!((pair[1] - pair[0] - 2.0).abs() < 0.05, "keyframes {keys:?}");
        }
        match &keyframes {
            None => keyframes = Some(keys),
            Some(first) => assert_eq!(first, &keys, "rung {i} keyframes differ"),
        }
        std::fs::remove_file(&joined).unwrap();
    }

    if let Some(uri) = &master.audio_uri {
        let playlist = read_media_playlist(&stream, uri);
        let joined = out.join("check-audio.mp4");
        concat_rendition(&stream, &playlist, &joined);
        let j = ffprobe_json(&joined, &["-show_streams"]);
        let s = &j["streams"][0];
        assert_eq!(s["codec_name"], "aac");
        assert_eq!(s["profile"], "LC");
        assert_eq!(s["channels"], 2);
        assert_eq!(s["sample_rate"], "48000");
        let (_, end) = packets(&joined, "a");
        assert!((end - source_duration).abs() <= 0.1, "audio lasts {end}");
        std::fs::remove_file(&joined).unwrap();
    }

    // Thumbnail and storyboard.
    let (tw, th) = dimensions(&out.join(&result.thumbnail));
    assert!(tw <= 1280 && tw <= v.width.max(2));
    let aspect = v.width as f64 / v.height as f64;
    assert!(
        (tw as f64 / th as f64 - aspect).abs() < 0.05,
        "thumbnail {tw}x{th}"
    );
    // Under half a second there is no storyboard (`very_short_videos…` checks that case).
    let (Some(image), Some(vtt)) = (&result.storyboard_image, &result.storyboard_vtt) else {
        assert!(
            source_duration < 0.5,
            "no storyboard for {source_duration}s"
        );
        assert!(result.storyboard_image.is_none() && result.storyboard_vtt.is_none());
        return;
    };
    let (sw, sh) = dimensions(&out.join(image));
    let vtt = std::fs::read_to_string(out.join(vtt)).unwrap();
    assert!(vtt.starts_with("WEBVTT\n\n"));
    let cues: Vec<&str> = vtt.lines().filter(|l| l.contains("#xywh=")).collect();
    assert!(!cues.is_empty() && cues.len() <= 100);
    for cue in cues {
        let xywh: Vec<u32> = cue
            .strip_prefix("storyboard.jpg#xywh=")
            .unwrap()
            .split(',')
            .map(|n| n.parse().unwrap())
            .collect();
        assert!(
            xywh[0] + xywh[2] <= sw && xywh[1] + xywh[3] <= sh,
            "{cue} outside {sw}x{sh}"
        );
    }
    assert!(vtt.contains(" --> "));
}

#[tokio::test]
async fn landscape_1080p_with_audio() {
    let dir = tempfile::tempdir().unwrap();
    let input = make_video(dir.path(), "in.mp4", 1920, 1080, 30, 2.0, true);
    let (out, rungs) = transcode_and_verify(&input, &dir.path().join("out"), &fast()).await;
    let names: Vec<_> = rungs.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["1080p", "720p", "480p", "360p", "240p"]);
    assert_eq!(
        dimensions(&dir.path().join("out/thumbnail.jpg")),
        (1280, 720)
    );
    assert!(out.audio);
}

#[tokio::test]
async fn portrait_with_progress() {
    let dir = tempfile::tempdir().unwrap();
    let input = make_video(dir.path(), "in.mp4", 720, 1280, 30, 3.0, true);
    let info = probe::probe(&input, PROBE_TIMEOUT).await.unwrap();
    let rungs = ladder::plan(info.video.as_ref().unwrap(), ladder::DEFAULT_LADDER);
    assert_eq!((rungs[0].width, rungs[0].height), (720, 1280));
    let reports: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let sink = reports.clone();
    let out = dir.path().join("out");
    let result = transcode::video(&input, &out, &info, &fast(), move |p| {
        sink.lock().unwrap().push(p)
    })
    .await
    .unwrap();
    verify(&out, &info, &rungs, &result);
    let reports = reports.lock().unwrap();
    assert!(!reports.is_empty());
    let fractions: Vec<f64> = reports.iter().map(|p| p.fraction).collect();
    assert!(fractions.windows(2).all(|w| w[0] <= w[1]), "{fractions:?}");
    assert_eq!(*fractions.last().unwrap(), 1.0);
    assert!(fractions.iter().all(|f| (0.0..=1.0).contains(f)));
    assert!(reports.last().unwrap().out_time_seconds > 2.5);
}

#[tokio::test]
async fn rotated_phone_video_is_portrait() {
    let dir = tempfile::tempdir().unwrap();
    let coded = make_video(dir.path(), "coded.mp4", 640, 360, 30, 2.0, true);
    let input = dir.path().join("phone.mp4");
    ffmpeg(&[
        "-i",
        coded.to_str().unwrap(),
        "-c",
        "copy",
        "-metadata:s:v:0",
        "rotate=270",
        input.to_str().unwrap(),
    ]);
    let info = probe::probe(&input, PROBE_TIMEOUT).await.unwrap();
    let v = info.video.as_ref().unwrap();
    assert_eq!((v.width, v.height, v.rotation), (360, 640, 90));
    let (_, rungs) = transcode_and_verify(&input, &dir.path().join("out"), &fast()).await;
    let sizes: Vec<_> = rungs.iter().map(|r| (r.width, r.height)).collect();
    assert_eq!(sizes, [(360, 640), (240, 426)]);
}

#[tokio::test]
async fn tiny_source_gets_one_rung_at_its_size() {
    let dir = tempfile::tempdir().unwrap();
    let input = make_video(dir.path(), "in.mp4", 160, 120, 25, 2.0, true);
    let (out, rungs) = transcode_and_verify(&input, &dir.path().join("out"), &fast()).await;
    assert_eq!(rungs.len(), 1);
    assert_eq!(
        (out.renditions[0].width, out.renditions[0].height),
        (160, 120)
    );
    assert_eq!(out.renditions[0].name, "120p");
}

#[tokio::test]
async fn sixty_fps_keeps_two_second_keyframes() {
    let dir = tempfile::tempdir().unwrap();
    let input = make_video(dir.path(), "in.mp4", 640, 360, 60, 3.0, true);
    let (out, rungs) = transcode_and_verify(&input, &dir.path().join("out"), &fast()).await;
    assert_eq!(rungs.len(), 2);
    let master = std::fs::read_to_string(dir.path().join("out/stream/master.m3u8")).unwrap();
    // 360p and 240p: rungs at or below 480p play 60 fps sources at 30.
    assert!(master.contains("FRAME-RATE=30.000"), "{master}");
    // Keyframes at 0 and 2 s (checked equal across rungs by verify).
    let playlist = read_media_playlist(&dir.path().join("out/stream"), "media_0.m3u8");
    let joined = dir.path().join("r0.mp4");
    concat_rendition(&dir.path().join("out/stream"), &playlist, &joined);
    assert_eq!(packets(&joined, "v").0, vec![0.0, 2.0]);
    assert!(out.audio);
}

#[tokio::test]
async fn video_without_audio_has_no_audio_rendition() {
    let dir = tempfile::tempdir().unwrap();
    let input = make_video(dir.path(), "in.mp4", 320, 240, 30, 2.0, false);
    let (out, _) = transcode_and_verify(&input, &dir.path().join("out"), &fast()).await;
    assert!(!out.audio);
    let master = std::fs::read_to_string(dir.path().join("out/stream/master.m3u8")).unwrap();
    assert!(!master.contains("EXT-X-MEDIA"), "{master}");
    assert!(!master.contains("mp4a"), "{master}");
}

/// The preset under test: the default `veryfast` really produces H.264 High.
#[tokio::test]
async fn default_preset_is_high_profile() {
    let dir = tempfile::tempdir().unwrap();
    let input = make_video(dir.path(), "in.mp4", 320, 240, 30, 1.0, true);
    let opts = VideoOptions {
        timeout: Duration::from_secs(300),
        ..Default::default()
    };
    assert_eq!(opts.preset, "veryfast");
    let (out, _) = transcode_and_verify(&input, &dir.path().join("out"), &opts).await;
    assert!(
        out.renditions[0].codecs.starts_with("avc1.64"),
        "{:?}",
        out.renditions
    );
    let playlist = read_media_playlist(&dir.path().join("out/stream"), "media_0.m3u8");
    let joined = dir.path().join("r0.mp4");
    concat_rendition(&dir.path().join("out/stream"), &playlist, &joined);
    let j = ffprobe_json(&joined, &["-show_streams", "-select_streams", "v"]);
    assert_eq!(j["streams"][0]["profile"], "High");
}

#[tokio::test]
async fn timeout_kills_ffmpeg() {
    let dir = tempfile::tempdir().unwrap();
    let input = make_video(dir.path(), "in.mp4", 640, 360, 30, 10.0, true);
    let info = probe::probe(&input, PROBE_TIMEOUT).await.unwrap();
    let out = dir.path().join("out-timeout");
    let opts = VideoOptions {
        preset: "medium".into(),
        timeout: Duration::from_millis(300),
        ..Default::default()
    };
    let started = Instant::now();
    let err = transcode::video(&input, &out, &info, &opts, |_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::Timeout { .. }), "{err}");
    assert!(!err.is_permanent());
    assert!(started.elapsed() < Duration::from_secs(5));
    let left = processes_mentioning(out.to_str().unwrap());
    assert!(left.is_empty(), "still running: {left:?}");
}

#[tokio::test]
async fn cancellation_kills_ffmpeg() {
    let dir = tempfile::tempdir().unwrap();
    let input = make_video(dir.path(), "in.mp4", 640, 360, 30, 10.0, true);
    let info = probe::probe(&input, PROBE_TIMEOUT).await.unwrap();
    let out = dir.path().join("out-cancel");
    let cancel = CancellationToken::new();
    let opts = VideoOptions {
        preset: "medium".into(),
        cancel: cancel.clone(),
        ..fast()
    };
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        cancel.cancel();
    });
    let err = transcode::video(&input, &out, &info, &opts, |_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::Cancelled), "{err}");
    assert!(processes_mentioning(out.to_str().unwrap()).is_empty());
}

/// ffprobe can open a truncated file whose index is at the front; the decode then runs dry.
#[tokio::test]
async fn truncated_faststart_mp4_is_unusable() {
    let dir = tempfile::tempdir().unwrap();
    let good = make_video(dir.path(), "good.mp4", 320, 240, 30, 3.0, true);
    let fs = dir.path().join("fs.mp4");
    ffmpeg(&[
        "-i",
        good.to_str().unwrap(),
        "-c",
        "copy",
        "-movflags",
        "+faststart",
        fs.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&fs).unwrap();
    let cut = dir.path().join("cut.mp4");
    std::fs::write(&cut, &bytes[..bytes.len() * 3 / 10]).unwrap();
    let err = match probe::probe(&cut, PROBE_TIMEOUT).await {
        Err(e) => e,
        Ok(info) => transcode::video(&cut, &dir.path().join("out"), &info, &fast(), |_| {})
            .await
            .unwrap_err(),
    };
    assert!(err.is_permanent(), "{err}");
}

/// One frame, and five with sound: shorter than a storyboard interval, so no storyboard, but
/// everything else as for any video.
#[tokio::test]
async fn very_short_videos_have_everything_but_a_storyboard() {
    for (frames, audio) in [(1, false), (5, true)] {
        let dir = tempfile::tempdir().unwrap();
        let input = make_frames(dir.path(), "in.mp4", 320, 240, frames, audio);
        let info = probe::probe(&input, PROBE_TIMEOUT).await.unwrap();
        let rungs = ladder::plan(info.video.as_ref().unwrap(), ladder::DEFAULT_LADDER);
        let out = dir.path().join("out");
        let result = transcode::video(&input, &out, &info, &fast(), |_| {})
            .await
            .unwrap_or_else(|e| panic!("{frames} frame(s): {e}"));
        verify(&out, &info, &rungs, &result);
        assert_eq!(result.storyboard_vtt, None);
        assert_eq!(dimensions(&out.join("thumbnail.jpg")), (320, 240));
        for name in ["storyboard.jpg", "storyboard.vtt", ".storyboard-tiles"] {
            assert!(!out.join(name).exists(), "{frames} frame(s): {name}");
        }
    }
}

/// Every video packet overwritten with noise (the container and the audio intact): ffprobe
/// reads the file, ffmpeg cannot decode a frame. That is the input's fault, said in words.
#[tokio::test]
async fn undecodable_video_frames_are_unusable() {
    let dir = tempfile::tempdir().unwrap();
    let good = make_video(dir.path(), "good.mp4", 320, 240, 25, 2.0, true);
    let mut bytes = std::fs::read(&good).unwrap();
    let packets = ffprobe_json(
        &good,
        &["-select_streams", "v:0", "-show_entries", "packet=pos,size"],
    );
    for p in packets["packets"].as_array().unwrap() {
        let pos: usize = p["pos"].as_str().unwrap().parse().unwrap();
        let size: usize = p["size"].as_str().unwrap().parse().unwrap();
        for (i, b) in bytes[pos..pos + size].iter_mut().enumerate() {
            *b = ((pos + i) * 7919 % 251) as u8;
        }
    }
    let bad = dir.path().join("bad.mp4");
    std::fs::write(&bad, bytes).unwrap();
    let info = probe::probe(&bad, PROBE_TIMEOUT).await.unwrap();
    let err = transcode::video(&bad, &dir.path().join("out"), &info, &fast(), |_| {})
        .await
        .unwrap_err();
    assert!(err.is_permanent(), "{err}");
    let text = err.to_string();
    assert!(text.contains("not a video ffmpeg can read"), "{text}");
    assert!(!text.contains('/') && !text.contains("0x"), "{text}");
}
