//! `VIDEO_CODECS`: AV1 and HEVC renditions beside H.264, checked from outside: the item's
//! renditions, what ffprobe finds behind the served HLS playlists, the CODECS of the master and
//! the MPD (one adaptation set per codec), segment boundaries shared with H.264, and downloads
//! that stay H.264.

use crate::common;

use common::{ffprobe, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// 640x360 with sound, 3 s: two rungs (360p, 240p) per codec.
fn clip() -> PathBuf {
    common::ffmpeg_fixture(
        "codecs-360p.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360:rate=25:duration=3",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=3",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
        ],
    )
}

/// (media playlist, CODECS) of every variant of a master playlist, in order.
fn variants(master: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = master.lines();
    while let Some(line) = lines.next() {
        if let Some(attrs) = line.strip_prefix("#EXT-X-STREAM-INF:") {
            let codecs = attrs.split("CODECS=\"").nth(1).unwrap();
            let codecs = codecs[..codecs.find('"').unwrap()].to_string();
            out.push((lines.next().unwrap().to_string(), codecs));
        }
    }
    out
}

#[tokio::test]
async fn av1_and_hevc_renditions_probe_as_named_in_both_manifests() {
    let s = TestServer::start_with(&[
        ("WORKERS", "1"),
        ("TRANSCODE_PRESET", "ultrafast"),
        ("VIDEO_CODECS", "h264,av1,hevc"),
        ("AV1_PRESET", "12"),
        ("HEVC_PRESET", "ultrafast"),
    ])
    .await;
    let token = s.user_token("codecs@example.com").await;
    let item = s
        .upload_ready(&token, "clip.mp4", std::fs::read(clip()).unwrap(), 300)
        .await;
    let id = item["id"].as_str().unwrap().to_string();
    let r = s
        .client
        .patch(s.url(&format!("/v1/media/{id}")))
        .bearer_auth(&token)
        .json(&json!({"visibility": "public"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // The item names each rendition's codec, H.264's first.
    let renditions = item["renditions"].as_array().unwrap();
    let named: Vec<(&str, &str)> = renditions
        .iter()
        .map(|r| (r["name"].as_str().unwrap(), r["codec"].as_str().unwrap()))
        .collect();
    assert_eq!(
        named,
        [
            ("360p", "h264"),
            ("240p", "h264"),
            ("360p", "av1"),
            ("240p", "av1"),
            ("360p", "hevc"),
            ("240p", "hevc"),
        ],
        "{item}"
    );
    // Each codec's rendition has its own measured quality and its own encode record (the
    // same name exists once per codec), with the encoder that made it.
    for r in renditions {
        let ssim = r["quality"]["ssim"].as_f64();
        assert!(ssim.is_some_and(|s| s > 0.5 && s <= 1.0), "{r}");
    }
    let encodes = item["encode"]["renditions"].as_array().unwrap();
    let encoders: Vec<(&str, &str, &str)> = encodes
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap(),
                e["codec"].as_str().unwrap(),
                e["encoder"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        encoders,
        [
            ("360p", "h264", "libx264"),
            ("240p", "h264", "libx264"),
            ("360p", "av1", "libsvtav1"),
            ("240p", "av1", "libsvtav1"),
            ("360p", "hevc", "libx265"),
            ("240p", "hevc", "libx265"),
        ],
        "{item}"
    );
    let bytes = |e: &Value| e["bytes"].as_i64().unwrap();
    assert!(encodes.iter().all(|e| bytes(e) > 0), "{item}");

    let base = s.url(&format!("/v1/media/{id}"));
    let master = s
        .client
        .get(format!("{base}/hls/master.m3u8"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let variants = variants(&master);
    assert_eq!(variants.len(), renditions.len(), "{master}");
    let mpd = s
        .client
        .get(format!("{base}/dash/manifest.mpd"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let doc = roxmltree::Document::parse(&mpd).unwrap();
    // Representation id → (its adaptation set, codecs, SegmentTimeline).
    let mut reps = BTreeMap::new();
    let video_sets = doc
        .descendants()
        .filter(|n| n.attribute("contentType") == Some("video"));
    for (set, node) in video_sets.enumerate() {
        for rep in node.children().filter(|n| n.has_tag_name("Representation")) {
            let timeline: Vec<(Option<&str>, Option<&str>, Option<&str>)> = rep
                .descendants()
                .filter(|n| n.has_tag_name("S"))
                .map(|s| (s.attribute("t"), s.attribute("d"), s.attribute("r")))
                .collect();
            reps.insert(
                rep.attribute("id").unwrap().to_string(),
                (set, rep.attribute("codecs").unwrap(), timeline),
            );
        }
    }
    assert_eq!(reps.len(), renditions.len(), "{mpd}");

    let mut set_of = BTreeMap::new();
    let mut h264_timeline = None;
    for (rendition, (playlist, codecs)) in renditions.iter().zip(&variants) {
        let codec = rendition["codec"].as_str().unwrap();
        assert_eq!(rendition["codecs"].as_str().unwrap(), codecs, "{master}");
        let (video, audio) = codecs.split_once(',').unwrap();
        assert_eq!(audio, "mp4a.40.2");
        // The segments behind the playlist, as served.
        let probe = ffprobe(
            &format!("{base}/hls/{playlist}"),
            "stream=codec_type,codec_name,codec_tag_string,width,height",
        )
        .await;
        let stream = &probe["streams"][0];
        let (name, tag, prefix) = match codec {
            "h264" => ("h264", "avc1", "avc1."),
            "av1" => ("av1", "av01", "av01.0."),
            // Main profile with its tier and level, not ffmpeg's bare `hvc1`.
            _ => ("hevc", "hvc1", "hvc1.1.6.L"),
        };
        assert_eq!(stream["codec_name"], name, "{playlist}: {probe}");
        assert_eq!(stream["codec_tag_string"], tag, "{playlist}: {probe}");
        assert_eq!(stream["width"], rendition["width"]);
        assert!(video.starts_with(prefix), "{video}");
        // The MPD names the same codecs; one set per codec; every timeline is H.264's.
        let id = playlist
            .strip_prefix("media_")
            .and_then(|p| p.strip_suffix(".m3u8"))
            .unwrap();
        let (set, mpd_codecs, timeline) = &reps[id];
        assert_eq!(mpd_codecs, &video, "{mpd}");
        let h264 = h264_timeline.get_or_insert_with(|| timeline.clone());
        assert_eq!(timeline, h264, "representation {id}: {mpd}");
        assert_eq!(*set_of.entry(codec).or_insert(*set), *set, "{mpd}");
    }
    let sets: std::collections::BTreeSet<_> = set_of.values().collect();
    assert_eq!(sets.len(), 3, "{mpd}");

    // Downloads stay H.264: one MP4 per picked H.264 rung, and the audio.
    let downloads: Vec<&str> = item["downloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(downloads, ["360p", "240p", "audio"], "{item}");
}

#[tokio::test]
async fn h264_alone_by_default() {
    let s = TestServer::start_with(&[("WORKERS", "1"), ("TRANSCODE_PRESET", "ultrafast")]).await;
    let token = s.user_token("h264@example.com").await;
    let item = s
        .upload_ok(&token, "clip.mp4", std::fs::read(clip()).unwrap())
        .await;
    let item = s.wait_done(&token, item["id"].as_str().unwrap(), 180).await;
    let codecs: Vec<&Value> = item["renditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["codec"])
        .collect();
    assert_eq!(codecs, [&json!("h264"), &json!("h264")], "{item}");
}
