//! A chunked item records the same `encode` report a single job does (issue 14 §3 for issue
//! 15's chunked encodes): every rung's settings, bytes equal to the published segments, the
//! summed cost of its parts, and quality scores that agree with the same source encoded as one
//! job (on a server that does not chunk it); `/metrics` counts it by codec.
//!
//! Kept cheap: the 20 s 640x360 clip in 8 s chunks, the `ultrafast` preset, in-process workers.

use crate::chunked::{single_job_item, twenty_seconds};
use crate::common::TestServer;
use crate::quality::{counter, ffmpeg_version, metrics, published_bytes};
use mediaserver_core::JobKind;
use serde_json::{json, Value};

fn entry<'a>(encode: &'a Value, name: &str) -> &'a Value {
    encode["renditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no encode entry for {name}: {encode}"))
}

#[tokio::test]
async fn a_chunked_item_records_the_encode_report_a_single_job_would() {
    let source = twenty_seconds();
    let s = TestServer::start_with(&[
        ("WORKERS", "1"),
        ("TRANSCODE_PRESET", "ultrafast"),
        ("CHUNK_SECONDS", "8"),
        ("CHUNK_MIN_SECONDS", "10"),
    ])
    .await;
    let token = s.user_token("chunkreport@example.com").await;
    let before = metrics(&s).await;
    let id = s
        .upload_ok(&token, "clip.mp4", crate::common::read(&source))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let item = s.wait_done(&token, &id, 300).await;
    assert_eq!(item["status"], "ready", "{item}");
    // It was chunked: three chunk jobs and an assemble job recorded it.
    let jobs = s
        .state
        .repo
        .jobs_for_media(&id.parse().unwrap())
        .await
        .unwrap();
    let chunks = jobs.iter().filter(|j| j.kind == JobKind::Chunk).count();
    assert_eq!(chunks, 3, "{jobs:?}");
    assert!(jobs.iter().any(|j| j.kind == JobKind::Assemble), "{jobs:?}");

    let encode = &item["encode"];
    assert!(
        encode.is_object(),
        "a chunked item has no encode report: {item}"
    );
    assert_eq!(
        encode["ffmpeg_version"],
        json!(ffmpeg_version()),
        "{encode}"
    );
    assert_eq!(encode["runner"]["kind"], "in-process", "{encode}");
    let wall = encode["wall_seconds"].as_f64().unwrap();
    let cpu = encode["cpu_seconds"].as_f64().unwrap();
    assert!(wall > 0.0 && cpu > 0.0, "{encode}");
    // The parts ran as jobs of their own: the time from the split to the report, besides the
    // work summed over the parts.
    let elapsed = encode["elapsed_seconds"]
        .as_f64()
        .unwrap_or_else(|| panic!("{encode}"));
    assert!(elapsed > 0.0, "{encode}");
    let sampling = &encode["quality"];
    assert!(sampling["windows"].as_u64().unwrap() >= 1, "{encode}");
    assert!(
        sampling["sampled_seconds"].as_f64().unwrap() > 0.0,
        "{encode}"
    );
    // The sampling costs a small part of the encode (issue 14: under 10 %).
    let quality_cpu = sampling["cpu_seconds"].as_f64().unwrap();
    assert!(quality_cpu < 0.1 * cpu, "{encode}");

    let single = single_job_item(&source).await.1["encode"].clone();
    assert_eq!(single["elapsed_seconds"], Value::Null, "{single}");
    let renditions = item["renditions"].as_array().unwrap();
    assert_eq!(
        encode["renditions"].as_array().unwrap().len(),
        single["renditions"].as_array().unwrap().len(),
        "the same rungs as one job: {encode}\n{single}"
    );
    let mut h264_bytes = 0;
    for r in renditions {
        let name = r["name"].as_str().unwrap();
        let e = entry(encode, name);
        let one = entry(&single, name);
        // The settings one job gives the rung, and x264's own record of them.
        for field in [
            "codec",
            "encoder",
            "encoder_version",
            "encoder_settings",
            "preset",
            "profile",
            "crf",
            "bitrate",
            "maxrate",
            "bufsize",
            "gop",
            "fps",
            "filter",
            "head_crf",
            "head_seconds",
        ] {
            assert_eq!(e[field], one[field], "{name} {field}: {e}\n{one}");
        }
        assert_eq!(e["preset"], "ultrafast");
        // The first segment is the head's, published while the split planned.
        assert_eq!(e["head_seconds"], 2, "{e}");
        // The published segments, fetched through playback.
        let bytes = e["bytes"].as_u64().unwrap();
        assert_eq!(bytes, published_bytes(&s, &token, &item, r).await, "{name}");
        h264_bytes += bytes;

        // Measured as one job measures it, and about as good.
        assert_eq!(e["quality"], r["quality"], "{name}");
        let (ssim, psnr) = (
            e["quality"]["ssim"]
                .as_f64()
                .unwrap_or_else(|| panic!("{e}")),
            e["quality"]["psnr"].as_f64().unwrap(),
        );
        assert!(ssim > 0.5 && ssim <= 1.0, "{e}");
        assert!(psnr > 20.0 && psnr < 100.0, "{e}");
        let (one_ssim, one_psnr) = (
            one["quality"]["ssim"].as_f64().unwrap(),
            one["quality"]["psnr"].as_f64().unwrap(),
        );
        assert!((ssim - one_ssim).abs() <= 0.003, "{name}: {e}\n{one}");
        assert!((psnr - one_psnr).abs() <= 0.5, "{name}: {e}\n{one}");
    }
    assert_eq!(
        single["quality"]["windows"], sampling["windows"],
        "the same sampling: {single}\n{encode}"
    );

    // /metrics counts the chunked encode by codec (at least ours: the process's totals).
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
}
