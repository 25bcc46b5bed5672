//! Formats people upload, end to end through the server: a broadcast MPEG-TS (576i MPEG-2,
//! AC-3 5.1) and a DNxHR MXF mezzanine are accepted (neither is a container `infer` knows) and
//! play over HLS and DASH as H.264 + stereo AAC; an MKV whose second audio track is in a codec
//! ffmpeg cannot decode is published without it and says so in `warnings`, on the item and in
//! the one-shot `mediaserver transcode` summary. (Every format's ladder is checked in detail by
//! the media crate's `tests/formats.rs`.)

use crate::common;
use crate::workers::bin;

use common::{ffprobe, read, TestServer};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;

/// `name` made by ffmpeg from `args` (inputs and codecs), 2 s long, in the test scratch dir —
/// a file of its own for every call, since tests making the same fixture run at once.
fn fixture(name: &str, args: &[&str]) -> PathBuf {
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "fixtures/formats-{}-{call}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let ok = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .args(["-t", "2"])
        .arg(&out)
        .status()
        .unwrap()
        .success();
    assert!(ok, "ffmpeg failed making {name}");
    out
}

fn broadcast_ts() -> PathBuf {
    fixture(
        "broadcast.ts",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=720x576:rate=50,interlace=scan=tff,setdar=4/3",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000,aformat=channel_layouts=5.1(side)",
            "-c:v",
            "mpeg2video",
            "-flags",
            "+ildct+ilme",
            "-top",
            "1",
            "-b:v",
            "2M",
            "-c:a",
            "ac3",
            "-f",
            "mpegts",
        ],
    )
}

fn dnxhr_mxf() -> PathBuf {
    fixture(
        "dnxhr.mxf",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x180:rate=25",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000",
            "-c:v",
            "dnxhd",
            "-profile:v",
            "dnxhr_lb",
            "-pix_fmt",
            "yuv422p",
            "-c:a",
            "pcm_s16le",
        ],
    )
}

/// English AAC, then Spanish in a codec nobody has: its Matroska codec id (PCM) rewritten to
/// an unknown one of the same length, so ffprobe lists the track and ffmpeg has no decoder.
fn second_track_without_a_decoder() -> PathBuf {
    let made = fixture(
        "two-tracks.mkv",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=660",
            "-map",
            "0:v",
            "-map",
            "1:a",
            "-map",
            "2:a",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-c:a:0",
            "aac",
            "-c:a:1",
            "pcm_s16le",
            "-metadata:s:a:0",
            "language=eng",
            "-metadata:s:a:1",
            "language=spa",
        ],
    );
    let mut bytes = std::fs::read(&made).unwrap();
    let id = b"A_PCM/INT/LIT";
    let at = bytes.windows(id.len()).position(|w| w == id).unwrap();
    bytes[at..at + id.len()].copy_from_slice(b"A_XXX/INT/LIT");
    let out = made.with_extension("no-decoder.mkv");
    std::fs::write(&out, bytes).unwrap();
    let _ = std::fs::remove_file(&made);
    out
}

/// Signed HLS and DASH URLs of a ready item.
async fn manifests(s: &TestServer, token: &str, id: &str) -> [String; 2] {
    let signed: Value = s
        .client
        .post(s.url(&format!("/v1/media/{id}/playback-token")))
        .bearer_auth(token)
        .json(&json!({"ttl_seconds": 600}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    [
        s.url(signed["hls"].as_str().unwrap()),
        s.url(signed["dash"].as_str().unwrap()),
    ]
}

/// What ffprobe finds over HTTP: every video stream H.264 4:2:0 8-bit, every audio stream
/// stereo AAC; returns (video streams, audio streams).
async fn check_playable(url: &str) -> (usize, usize) {
    let probed = ffprobe(url, "stream=codec_type,codec_name,pix_fmt,channels").await;
    let streams = probed["streams"].as_array().unwrap();
    let mut counts = (0, 0);
    for st in streams {
        match st["codec_type"].as_str() {
            Some("video") => {
                assert_eq!(
                    (&st["codec_name"], &st["pix_fmt"]),
                    (&json!("h264"), &json!("yuv420p")),
                    "{url}: {probed}"
                );
                counts.0 += 1;
            }
            Some("audio") => {
                assert_eq!(
                    (&st["codec_name"], &st["channels"]),
                    (&json!("aac"), &json!(2)),
                    "{url}: {probed}"
                );
                counts.1 += 1;
            }
            _ => {}
        }
    }
    counts
}

#[tokio::test]
async fn broadcast_and_mezzanine_formats_and_an_undecodable_track() {
    let s = TestServer::start_with(&[("WORKERS", "2"), ("TRANSCODE_PRESET", "ultrafast")]).await;
    let token = s.user_token("me@example.com").await;
    let ts = broadcast_ts();
    let mxf = dnxhr_mxf();
    let mkv = second_track_without_a_decoder();

    let mut ids = Vec::new();
    for (name, file) in [
        ("broadcast.ts", &ts),
        ("mezzanine.mxf", &mxf),
        ("tracks.mkv", &mkv),
    ] {
        let created = s.upload_ok(&token, name, read(file)).await;
        assert_eq!(created["kind"], "video", "{name}: {created}");
        ids.push(created["id"].as_str().unwrap().to_string());
    }
    for file in [&ts, &mxf, &mkv] {
        let _ = std::fs::remove_file(file);
    }

    // 576i with non-square pixels at 4:3: deinterlaced, square pixels, rungs up to 480p.
    let item = s.wait_done(&token, &ids[0], 180).await;
    assert_eq!(item["status"], "ready", "{item}");
    assert_eq!(item["source"]["codec"], "mpeg2video", "{item}");
    assert_eq!(item["source"]["interlaced"], true, "{item}");
    assert_eq!(item["source"]["fps"], 25.0, "{item}");
    assert_eq!(
        (&item["source"]["width"], &item["source"]["height"]),
        (&json!(768), &json!(576)),
        "{item}"
    );
    let d = item["duration_seconds"].as_f64().unwrap();
    assert!((d - 2.0).abs() < 0.1, "{item}");
    for url in manifests(&s, &token, &ids[0]).await {
        let (video, audio) = check_playable(&url).await;
        assert!(video >= 2 && audio >= 1, "{url}");
    }

    let item = s.wait_done(&token, &ids[1], 180).await;
    assert_eq!(item["status"], "ready", "{item}");
    assert_eq!(item["source"]["codec"], "dnxhd", "{item}");
    assert_eq!(item["source"]["pixel_format"], "yuv422p", "{item}");
    for url in manifests(&s, &token, &ids[1]).await {
        let (video, audio) = check_playable(&url).await;
        assert!(video >= 1 && audio >= 1, "{url}");
    }

    let item = s.wait_done(&token, &ids[2], 180).await;
    assert_eq!(item["status"], "ready", "{item}");
    assert_eq!(
        item["audio_tracks"],
        json!([{"id": 0, "language": "eng", "name": "English", "channels": 2, "default": true}]),
        "{item}"
    );
    let warnings = item["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{item}");
    assert!(warnings[0].as_str().unwrap().contains("spa"), "{item}");
    for url in manifests(&s, &token, &ids[2]).await {
        assert_eq!(check_playable(&url).await.1, 1, "{url}");
    }
}

/// The one-shot transcode (what job containers run) does the same.
#[tokio::test]
async fn the_one_shot_transcode_leaves_out_a_track_without_a_decoder() {
    let mkv = second_track_without_a_decoder();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let result = bin()
        .arg("transcode")
        .arg(&mkv)
        .arg(&out)
        .args(["--preset", "ultrafast"])
        .env("DATA_DIR", dir.path())
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&mkv);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let summary: Value = serde_json::from_slice(&result.stdout).unwrap();
    assert_eq!(
        summary["audio_tracks"].as_array().unwrap().len(),
        1,
        "{summary}"
    );
    assert_eq!(summary["audio_tracks"][0]["language"], "eng", "{summary}");
    let warnings = summary["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{summary}");
    assert!(warnings[0].as_str().unwrap().contains("spa"), "{summary}");
    let (video, audio) = check_playable(out.join("stream/master.m3u8").to_str().unwrap()).await;
    assert!(video >= 1 && audio == 1);
}
