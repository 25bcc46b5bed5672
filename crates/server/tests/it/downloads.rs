//! MP4/M4A downloads: made by the pipeline from the published rungs, listed on the item, served
//! as attachments named after the title with playback's access rules and Range; made again for
//! an item without them by `mediaserver backfill-downloads`; written by `mediaserver transcode`.

use crate::common;

use common::{expect_error, ffprobe, TestServer};
use mediaserver_core::{layout, MediaId};
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE, RANGE};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A 640x360 clip with sound, 3 s: two rungs (360p and 240p), so highest and lowest differ.
fn clip() -> PathBuf {
    common::ffmpeg_fixture(
        "downloads-360p.mp4",
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

/// The four-character types of a file's top-level boxes, in order.
fn top_level_boxes(bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at + 8 <= bytes.len() {
        let size = match u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) {
            1 => u64::from_be_bytes(bytes[at + 8..at + 16].try_into().unwrap()) as usize,
            0 => bytes.len() - at,
            n => n as usize,
        };
        assert!(size >= 8, "a box of size {size}");
        out.push(String::from_utf8_lossy(&bytes[at + 4..at + 8]).into_owned());
        at += size;
    }
    assert_eq!(at, bytes.len(), "the boxes cover the file");
    out
}

/// Checks a downloaded file: `moov` before `mdat`, the streams' codecs and size, the duration.
async fn check_file(path: &Path, expect_video: Option<(u64, u64)>, duration: f64) {
    let bytes = std::fs::read(path).unwrap();
    let boxes = top_level_boxes(&bytes);
    let moov = boxes.iter().position(|b| b == "moov").expect("moov");
    let mdat = boxes.iter().position(|b| b == "mdat").expect("mdat");
    assert!(moov < mdat, "faststart: {boxes:?}");
    let p = path.to_str().unwrap();
    let probe = ffprobe(
        p,
        "stream=codec_type,codec_name,width,height:format=duration",
    )
    .await;
    let streams: Vec<(String, String, u64, u64)> = probe["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["codec_type"].as_str().unwrap().into(),
                s["codec_name"].as_str().unwrap().into(),
                s["width"].as_u64().unwrap_or(0),
                s["height"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let mut want = Vec::new();
    if let Some((w, h)) = expect_video {
        want.push(("video".to_string(), "h264".to_string(), w, h));
    }
    want.push(("audio".into(), "aac".into(), 0, 0));
    assert_eq!(streams, want, "{}", path.display());
    let got: f64 = probe["format"]["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (got - duration).abs() <= 0.1,
        "{}: {got} s, the item {duration} s",
        path.display()
    );
}

async fn ready_video(s: &TestServer, token: &str) -> Value {
    s.upload_ready(token, "clip.mp4", std::fs::read(clip()).unwrap(), 180)
        .await
}

#[tokio::test]
async fn videos_get_faststart_mp4s_and_an_m4a_served_as_named_attachments() {
    let s = TestServer::start_with(&[("WORKERS", "1")]).await;
    let token = s.user_token("dl@example.com").await;
    let item = ready_video(&s, &token).await;
    let id = item["id"].as_str().unwrap().to_string();
    // A hostile title: quotes, CJK, a path.
    let title = "../\"東京\" trip/..\\x";
    let r = s
        .client
        .patch(s.url(&format!("/v1/media/{id}")))
        .bearer_auth(&token)
        .json(&json!({"title": title, "visibility": "public"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let item: Value = s
        .get(&format!("/v1/media/{id}"), &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let renditions = item["renditions"].as_array().unwrap();
    assert!(renditions.len() >= 2, "{item}");
    let (highest, lowest) = (&renditions[0], renditions.last().unwrap());
    let downloads = item["downloads"].as_array().unwrap();
    let names: Vec<&str> = downloads
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            highest["name"].as_str().unwrap(),
            lowest["name"].as_str().unwrap(),
            "audio"
        ],
        "{item}"
    );
    let duration = item["duration_seconds"].as_f64().unwrap();
    let dir = tempfile::tempdir().unwrap();

    for (d, rung) in downloads.iter().zip([Some(highest), Some(lowest), None]) {
        let name = d["name"].as_str().unwrap();
        let url = d["url"].as_str().unwrap();
        assert_eq!(url, format!("/v1/media/{id}/downloads/{name}"));
        // Public: no login needed.
        let r = s.client.get(s.url(url)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{url}");
        let ext = if rung.is_some() { "mp4" } else { "m4a" };
        assert_eq!(
            r.headers()[CONTENT_TYPE],
            if rung.is_some() {
                "video/mp4"
            } else {
                "audio/mp4"
            }
        );
        let cd = r.headers()[CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .to_string();
        let stem_utf8 = "%E6%9D%B1%E4%BA%AC%20trip..x";
        let (ascii, utf8) = match rung {
            Some(_) => (
                format!("__ trip..x ({name}).{ext}"),
                format!("{stem_utf8}%20%28{name}%29.{ext}"),
            ),
            None => ("__ trip..x.m4a".to_string(), format!("{stem_utf8}.m4a")),
        };
        assert_eq!(
            cd,
            format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{utf8}"),
        );
        let body = r.bytes().await.unwrap();
        assert_eq!(body.len() as u64, d["bytes"].as_u64().unwrap(), "{d}");
        let file = dir.path().join(format!("{name}.{ext}"));
        std::fs::write(&file, &body).unwrap();
        let size = rung.map(|r| (r["width"].as_u64().unwrap(), r["height"].as_u64().unwrap()));
        if let Some((w, h)) = size {
            assert_eq!(
                (d["width"].as_u64(), d["height"].as_u64()),
                (Some(w), Some(h))
            );
        }
        check_file(&file, size, duration).await;

        // A byte range is exactly that slice.
        let r = s
            .client
            .get(s.url(url))
            .header(RANGE, "bytes=100-1123")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(
            r.headers()["content-range"],
            format!("bytes 100-1123/{}", body.len()).as_str()
        );
        assert_eq!(&r.bytes().await.unwrap()[..], &body[100..1124]);
    }

    let msg = expect_error(
        s.client
            .get(s.url(&format!("/v1/media/{id}/downloads/1080p")))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(msg.contains("no such download"), "{msg}");
    for bad in ["..%2F..%2Foriginal", "audio.m4a", "%2E%2E"] {
        let r = s
            .client
            .get(s.url(&format!("/v1/media/{id}/downloads/{bad}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{bad}");
    }
}

#[tokio::test]
async fn private_downloads_need_the_owner_or_a_playback_token() {
    let s = TestServer::start_with(&[("WORKERS", "1")]).await;
    let token = s.user_token("owner@example.com").await;
    let other = s.user_token("other@example.com").await;
    let item = ready_video(&s, &token).await;
    assert_eq!(item["visibility"], "private");
    let id = item["id"].as_str().unwrap();
    let url = format!("/v1/media/{id}/downloads/audio");

    let r = s.client.get(s.url(&url)).send().await.unwrap();
    expect_error(r, StatusCode::NOT_FOUND).await;
    let r = s.get(&url, &other).send().await.unwrap();
    expect_error(r, StatusCode::NOT_FOUND).await;
    let r = s.get(&url, &token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    let signed: Value = s
        .client
        .post(s.url(&format!("/v1/media/{id}/playback-token")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let play = signed["token"].as_str().unwrap();
    for url in [
        format!("/v1/play/{play}/downloads/audio"),
        format!("/v1/media/{id}/downloads/audio?token={play}"),
    ] {
        let r = s.client.get(s.url(&url)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{url}");
        assert!(r.headers()[CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment; "));
    }
    // A token for this item opens nothing of another's.
    let theirs = s
        .upload_ok(&other, "x.mp4", std::fs::read(clip()).unwrap())
        .await;
    let theirs = theirs["id"].as_str().unwrap();
    let r = s
        .client
        .get(s.url(&format!("/v1/media/{theirs}/downloads/audio?token={play}")))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::FORBIDDEN).await;
}

fn cli(s: &TestServer, args: &[&str]) -> String {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mediaserver"));
    for (k, _) in std::env::vars() {
        if k.starts_with("STORAGE_") || k.starts_with("AWS_") || k.ends_with("_BUCKET") {
            c.env_remove(k);
        }
    }
    let out = c
        .env_remove("DATABASE_URL")
        .env_remove("JWT_SECRET")
        .args(args)
        .env("DATA_DIR", s.dir.path())
        .env("LOG_LEVEL", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{args:?}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[tokio::test]
async fn backfill_makes_the_downloads_of_an_item_that_lost_them() {
    let s = TestServer::start_with(&[("WORKERS", "1")]).await;
    let token = s.user_token("old@example.com").await;
    let item = ready_video(&s, &token).await;
    let id: MediaId = item["id"].as_str().unwrap().parse().unwrap();
    let before = s.state.repo.get_media(&id).await.unwrap().unwrap();
    assert_eq!(before.outputs.downloads.len(), 3);

    // As if processed before downloads existed: no files, nothing recorded.
    let store = s.state.output_store.clone();
    let prefix = format!("{}{}", layout::outputs_prefix(&id), layout::DOWNLOADS_DIR);
    assert_eq!(store.delete_prefix(&prefix).await.unwrap(), 3);
    let mut outputs = before.outputs.clone();
    outputs.bytes -= outputs.downloads.iter().map(|d| d.bytes).sum::<i64>();
    outputs.downloads.clear();
    assert!(s.state.repo.set_ready_outputs(&id, &outputs).await.unwrap());
    let item: Value = s
        .get(&format!("/v1/media/{id}"), &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(item["downloads"], json!([]));

    let dry = cli(&s, &["backfill-downloads", "--dry-run"]);
    assert!(dry.contains("items without downloads: 1"), "{dry}");
    assert!(dry.contains(id.as_str()), "{dry}");
    assert!(store.list(&prefix).await.unwrap().is_empty());
    let unchanged = s.state.repo.get_media(&id).await.unwrap().unwrap();
    assert!(unchanged.outputs.downloads.is_empty());

    let report = cli(&s, &["backfill-downloads"]);
    assert!(report.contains("items given downloads: 1"), "{report}");
    let after = s.state.repo.get_media(&id).await.unwrap().unwrap();
    assert_eq!(after.outputs.downloads, before.outputs.downloads);
    assert_eq!(after.outputs.bytes, before.outputs.bytes);
    assert_eq!(store.list(&prefix).await.unwrap().len(), 3);

    let url = format!(
        "/v1/media/{id}/downloads/{}",
        after.outputs.downloads[0].name
    );
    let r = s.get(&url, &token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.mp4");
    std::fs::write(&file, r.bytes().await.unwrap()).unwrap();
    let d = &after.outputs.downloads[0];
    check_file(
        &file,
        Some((d.width as u64, d.height as u64)),
        after.duration_seconds.unwrap(),
    )
    .await;

    // Nothing left to do: a second run changes nothing.
    let again = cli(&s, &["backfill-downloads"]);
    assert!(again.contains("items given downloads: 0"), "{again}");
}

#[tokio::test]
async fn the_one_shot_transcode_writes_downloads_and_lists_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let result = Command::new(env!("CARGO_BIN_EXE_mediaserver"))
        .arg("transcode")
        .arg(clip())
        .arg(&out)
        .args(["--preset", "ultrafast"])
        .env("DATA_DIR", dir.path())
        .env("DOWNLOAD_RENDITIONS", "lowest")
        .env("LOG_LEVEL", "warn")
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let summary: Value = serde_json::from_slice(&result.stdout).unwrap();
    let downloads = summary["downloads"].as_array().unwrap();
    let lowest = summary["renditions"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    let names: Vec<&str> = downloads
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [lowest["name"].as_str().unwrap(), "audio"],
        "{summary}"
    );
    let duration = summary["duration_seconds"].as_f64().unwrap();
    for d in downloads {
        let path = out.join(d["path"].as_str().unwrap());
        let size = (d["width"] != 0)
            .then(|| (d["width"].as_u64().unwrap(), d["height"].as_u64().unwrap()));
        check_file(&path, size, duration).await;
    }
    assert!(!out.join(".remux").exists());
}
