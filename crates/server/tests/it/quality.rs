//! Every encoded item says how good each rendition came out (`renditions[].quality`) and how it
//! was made (`encode`: ffmpeg's version, the encoder's, each rung's parameters and bytes, where
//! it ran, its wall and CPU seconds), checked against ffmpeg itself and against the published
//! files fetched through playback; `/metrics` counts the cost by codec.

use crate::common::{ffmpeg_fixture, read, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::process::Command;

/// 4 s of moving testsrc2 at 640x360 with sound: two rungs (360p, 240p).
fn clip() -> std::path::PathBuf {
    ffmpeg_fixture(
        "quality-640x360.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360:rate=30:duration=4",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=4",
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

/// `ffmpeg -version`'s version word.
pub(crate) fn ffmpeg_version() -> String {
    let out = Command::new("ffmpeg").arg("-version").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace().nth(2).unwrap().to_string()
}

pub(crate) async fn metrics(s: &TestServer) -> String {
    s.client
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// A counter's value in a Prometheus text page (0 when it is not there yet).
pub(crate) fn counter(page: &str, series: &str) -> f64 {
    page.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// GET `url` (absolute path on the server) as `token`, the body's bytes.
async fn fetch(s: &TestServer, url: &str, token: &str) -> Vec<u8> {
    let r = s.get(url, token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{url}");
    r.bytes().await.unwrap().to_vec()
}

/// `uri` relative to the playlist at `base`.
fn resolve(base: &str, uri: &str) -> String {
    let dir = &base[..base.rfind('/').unwrap() + 1];
    format!("{dir}{uri}")
}

/// The bytes of the init and media segments of the variant of `width`x`height` with `codecs`,
/// fetched through playback.
pub(crate) async fn published_bytes(
    s: &TestServer,
    token: &str,
    item: &Value,
    rendition: &Value,
) -> u64 {
    let master_url = item["playback"]["hls"].as_str().unwrap();
    let master = String::from_utf8(fetch(s, master_url, token).await).unwrap();
    let resolution = format!("RESOLUTION={}x{}", rendition["width"], rendition["height"]);
    let codecs = format!("CODECS=\"{}\"", rendition["codecs"].as_str().unwrap());
    let mut lines = master.lines();
    let mut media = None;
    while let Some(line) = lines.next() {
        if line.starts_with("#EXT-X-STREAM-INF:")
            && line.contains(&resolution)
            && line.contains(&codecs)
        {
            media = lines.next().map(|u| resolve(master_url, u));
        }
    }
    let media_url = media.unwrap_or_else(|| panic!("no variant for {rendition} in {master}"));
    let playlist = String::from_utf8(fetch(s, &media_url, token).await).unwrap();
    let mut uris: Vec<String> = playlist
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    let init = playlist
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-MAP:URI=\""))
        .map(|rest| rest.trim_end_matches('"').to_string())
        .unwrap();
    uris.push(init);
    let mut total = 0;
    for uri in uris {
        total += fetch(s, &resolve(&media_url, &uri), token).await.len() as u64;
    }
    total
}

#[tokio::test]
async fn every_rendition_has_its_quality_and_the_item_its_encode() {
    let s = TestServer::start_with(&[("WORKERS", "1"), ("TRANSCODE_PRESET", "ultrafast")]).await;
    let token = s.user_token("quality@example.com").await;
    let before = metrics(&s).await;
    let id = s.upload_ok(&token, "clip.mp4", read(&clip())).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let item = s.wait_done(&token, &id, 180).await;
    assert_eq!(item["status"], "ready", "{item}");

    let renditions = item["renditions"].as_array().unwrap();
    assert_eq!(renditions.len(), 2, "{item}");
    for r in renditions {
        let q = &r["quality"];
        let ssim = q["ssim"].as_f64().unwrap_or_else(|| panic!("{r}"));
        let psnr = q["psnr"].as_f64().unwrap();
        assert!(ssim > 0.5 && ssim <= 1.0, "{r}");
        assert!(psnr > 20.0 && psnr < 100.0, "{r}");
        // This ffmpeg has no libvmaf.
        assert_eq!(q["vmaf"], Value::Null, "{r}");
    }

    let encode = &item["encode"];
    assert_eq!(
        encode["ffmpeg_version"],
        json!(ffmpeg_version()),
        "{encode}"
    );
    assert_eq!(encode["runner"]["kind"], "in-process");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(encode["runner"]["host"], json!(host.trim()));
    assert!(encode["wall_seconds"].as_f64().unwrap() > 0.0, "{encode}");
    let cpu = encode["cpu_seconds"].as_f64().unwrap();
    assert!(cpu > 0.0, "{encode}");
    let sampling = &encode["quality"];
    assert!(sampling["windows"].as_u64().unwrap() >= 1, "{encode}");
    assert!(sampling["sampled_seconds"].as_f64().unwrap() > 0.0);
    assert_eq!(sampling["vmaf"], false);

    let mut h264_bytes = 0;
    for r in renditions {
        let name = r["name"].as_str().unwrap();
        let e = encode["renditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("no encode entry for {name}: {encode}"));
        assert_eq!(e["quality"], r["quality"]);
        assert_eq!(
            (&e["codec"], &e["encoder"]),
            (&json!("h264"), &json!("libx264"))
        );
        assert_eq!(e["preset"], "ultrafast");
        let version = e["encoder_version"].as_str().unwrap();
        assert!(version.starts_with("x264 core "), "{e}");
        // x264's own record of what it was asked.
        let settings = e["encoder_settings"].as_str().unwrap();
        let maxrate_kbps = e["maxrate"].as_i64().unwrap() / 1000;
        assert!(
            settings.contains(&format!("vbv_maxrate={maxrate_kbps} ")),
            "{e}"
        );
        // A quality target (the adaptive ladder) or an average bitrate, as x264 says.
        match e["crf"].as_u64() {
            Some(crf) => {
                assert_eq!(e["bitrate"], 0, "{e}");
                assert!(settings.contains(&format!(" crf={crf}.")), "{e}");
            }
            None => {
                let kbps = e["bitrate"].as_i64().unwrap() / 1000;
                assert!(settings.contains(&format!(" bitrate={kbps} ")), "{e}");
            }
        }
        let bytes = e["bytes"].as_u64().unwrap();
        assert_eq!(bytes, published_bytes(&s, &token, &item, r).await, "{name}");
        h264_bytes += bytes;
    }

    // /metrics (the process's totals, which other tests' servers share: at least ours).
    let after = metrics(&s).await;
    let bytes_series = "encode_output_bytes_total{codec=\"h264\"}";
    let cpu_series = "encode_cpu_milliseconds_total{codec=\"h264\"}";
    assert!(
        counter(&after, bytes_series) >= counter(&before, bytes_series) + h264_bytes as f64,
        "{after}"
    );
    assert!(
        counter(&after, cpu_series) >= counter(&before, cpu_series) + (cpu * 1000.0).floor(),
        "{after}"
    );

    // Someone who may only watch sees the scores but not where and how it was made.
    let r = s
        .client
        .patch(s.url(&format!("/v1/media/{id}")))
        .bearer_auth(&token)
        .json(&json!({"visibility": "public"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let other = s.user_token("viewer@example.com").await;
    let seen: Value = s
        .get(&format!("/v1/media/{id}"), &other)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(seen["encode"], Value::Null, "{seen}");
    assert_eq!(seen["renditions"], item["renditions"], "{seen}");
}

#[tokio::test]
async fn the_openapi_document_describes_quality_and_encode() {
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
    assert!(
        schemas["RenditionView"]["properties"]["quality"].is_object(),
        "{schemas}"
    );
    assert!(
        schemas["MediaView"]["properties"]["encode"].is_object(),
        "{schemas}"
    );
    for (schema, field) in [
        ("Quality", "ssim"),
        ("EncodeReport", "ffmpeg_version"),
        ("RenditionEncode", "encoder_settings"),
        ("EncodeRunner", "image"),
        ("QualitySampling", "cpu_seconds"),
    ] {
        assert!(
            schemas[schema]["properties"][field].is_object(),
            "{schema}.{field}: {schemas}"
        );
    }
}
