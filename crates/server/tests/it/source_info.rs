//! The item says what its source video was (`source`): codec, display size, published frame
//! rate, HDR transfer, interlacing, rotation and pixel format, each checked against what ffprobe
//! reads from the uploaded file itself; the one-shot `mediaserver transcode` summary carries it
//! too.

use crate::common;
use crate::workers::bin;

use common::{ffprobe, read, TestServer};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str, args: &[&str]) -> PathBuf {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("fixtures/source-{}-{name}", std::process::id()));
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let ok = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25"])
        .args(["-t", "2"])
        .args(args)
        .arg(&out)
        .status()
        .unwrap()
        .success();
    assert!(ok, "ffmpeg failed making {name}");
    out
}

/// A phone-style HDR clip: HEVC 10-bit, BT.2020, hybrid log-gamma.
fn hlg_hevc() -> PathBuf {
    fixture(
        "hlg.mp4",
        &[
            "-c:v",
            "libx265",
            "-preset",
            "ultrafast",
            "-x265-params",
            "log-level=error",
            "-pix_fmt",
            "yuv420p10le",
            "-color_primaries",
            "bt2020",
            "-color_trc",
            "arib-std-b67",
            "-colorspace",
            "bt2020nc",
            "-tag:v",
            "hvc1",
        ],
    )
}

/// An ordinary SDR H.264 clip, held upright: ffmpeg 5.1's mp4 muxer turns the `rotate` tag into
/// the track's display matrix when remuxing (an encode drops the tag).
fn rotated_h264() -> PathBuf {
    let coded = fixture(
        "coded.mp4",
        &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ],
    );
    let out = coded.with_file_name(format!("source-{}-rotated.mp4", std::process::id()));
    let ok = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-i"])
        .arg(&coded)
        .args(["-c", "copy", "-metadata:s:v:0", "rotate=90"])
        .arg(&out)
        .status()
        .unwrap()
        .success();
    assert!(ok, "ffmpeg failed rotating the clip");
    let _ = std::fs::remove_file(&coded);
    out
}

/// The first video stream of `file` as ffprobe reports it.
async fn probe_video(file: &Path) -> Value {
    let probed = ffprobe(
        file.to_str().unwrap(),
        "stream=codec_type,codec_name,width,height,pix_fmt,color_transfer,field_order,r_frame_rate:stream_side_data_list",
    )
    .await;
    probed["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codec_type"] == "video")
        .unwrap_or_else(|| panic!("no video stream: {probed}"))
        .clone()
}

/// ffprobe prints the display matrix counter-clockwise; the item records the clockwise turn.
fn clockwise(stream: &Value) -> i64 {
    let ccw = stream["side_data_list"]
        .as_array()
        .and_then(|l| l.iter().find_map(|sd| sd["rotation"].as_i64()))
        .unwrap_or(0);
    (-ccw).rem_euclid(360)
}

#[tokio::test]
async fn the_openapi_document_describes_the_source() {
    let s = TestServer::start().await;
    let doc: Value = s
        .client
        .get(s.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let schemas = &doc["components"]["schemas"];
    let mut props: Vec<&str> = schemas["SourceView"]["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("no SourceView: {schemas}"))
        .keys()
        .map(String::as_str)
        .collect();
    props.sort_unstable();
    assert_eq!(
        props,
        [
            "codec",
            "fps",
            "hdr",
            "height",
            "interlaced",
            "pixel_format",
            "rotation",
            "width"
        ]
    );
    assert_eq!(schemas["Hdr"]["enum"], json!(["pq", "hlg"]), "{schemas}");
    assert!(
        schemas["MediaView"]["properties"]["source"].is_object(),
        "{schemas}"
    );
}

#[tokio::test]
async fn the_item_records_its_source_video() {
    let s = TestServer::start_with(&[("WORKERS", "2"), ("TRANSCODE_PRESET", "ultrafast")]).await;
    let token = s.user_token("me@example.com").await;
    let hlg = hlg_hevc();
    let rotated = rotated_h264();

    // What the files are, independently of the server.
    let hlg_probe = probe_video(&hlg).await;
    assert_eq!(
        (
            &hlg_probe["codec_name"],
            &hlg_probe["pix_fmt"],
            &hlg_probe["color_transfer"],
            &hlg_probe["r_frame_rate"],
        ),
        (
            &json!("hevc"),
            &json!("yuv420p10le"),
            &json!("arib-std-b67"),
            &json!("25/1")
        ),
        "{hlg_probe}"
    );
    let rotated_probe = probe_video(&rotated).await;
    assert_eq!(clockwise(&rotated_probe) % 180, 90, "{rotated_probe}");
    assert_eq!(
        (&rotated_probe["width"], &rotated_probe["height"]),
        (&json!(320), &json!(240))
    );

    let mut ids = Vec::new();
    for (name, file) in [("hlg.mp4", &hlg), ("rotated.mp4", &rotated)] {
        let created = s.upload_ok(&token, name, read(file)).await;
        ids.push(created["id"].as_str().unwrap().to_string());
    }

    let item = s.wait_done(&token, &ids[0], 180).await;
    assert_eq!(item["status"], "ready", "{item}");
    assert_eq!(
        item["source"],
        json!({
            "codec": hlg_probe["codec_name"],
            "width": 320,
            "height": 240,
            "fps": 25.0,
            "hdr": "hlg",
            "interlaced": false,
            "rotation": 0,
            "pixel_format": hlg_probe["pix_fmt"],
        }),
        "{item}"
    );

    // Display size: the coded 320x240 turned a quarter, as a player shows it.
    let item = s.wait_done(&token, &ids[1], 180).await;
    assert_eq!(item["status"], "ready", "{item}");
    assert_eq!(
        item["source"],
        json!({
            "codec": rotated_probe["codec_name"],
            "width": 240,
            "height": 320,
            "fps": 25.0,
            "hdr": null,
            "interlaced": false,
            "rotation": clockwise(&rotated_probe),
            "pixel_format": rotated_probe["pix_fmt"],
        }),
        "{item}"
    );
    let _ = std::fs::remove_file(&rotated);

    // The one-shot transcode (what job containers run) reports the same, and writes it into the
    // summary the job runner reads back onto the item.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let result = bin()
        .arg("transcode")
        .arg(&hlg)
        .arg(&out)
        .args(["--preset", "ultrafast"])
        .env("DATA_DIR", dir.path())
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&hlg);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let summary: Value = serde_json::from_slice(&result.stdout).unwrap();
    assert_eq!(summary["source"]["hdr"], "hlg", "{summary}");
    assert_eq!(summary["source"]["codec"], "hevc", "{summary}");
    assert_eq!(
        summary["source"]["pixel_format"], "yuv420p10le",
        "{summary}"
    );
    assert_eq!(summary["audio_tracks"], json!([]), "{summary}");
    let written: Value =
        serde_json::from_slice(&std::fs::read(out.join("transcode.json")).unwrap()).unwrap();
    assert_eq!(written, summary);
}
