//! `STORAGE_PROVIDER=GCPBucket` end to end, on the GCS emulator the test script starts
//! (fake-gcs-server at `MEDIASERVER_TEST_GCS_ENDPOINT`, reached unauthenticated as an endpoint
//! without credentials is): upload (one request, and a composite multipart one) → transcode →
//! playback, deletion emptying both buckets, and `mediaserver transcode` between `gs://` URLs.

use crate::backends::{required_env, JWT};
use crate::common;

use common::{fixtures, read};
use reqwest::StatusCode;
use serde_json::Value;
use std::process::Command;

async fn fresh_gcs_bucket(endpoint: &str) -> String {
    let bucket = format!("g{}", &mediaserver_core::new_id().replace('-', "")[..20]);
    let r = reqwest::Client::new()
        .post(format!("{endpoint}/storage/v1/b"))
        .json(&serde_json::json!({ "name": bucket }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "create bucket: {}", r.status());
    bucket
}

/// Every object name in `bucket`, read from the emulator's JSON API directly (so staging
/// parts, which the provider hides, are seen too).
async fn all_objects(endpoint: &str, bucket: &str) -> Vec<String> {
    let v: Value = reqwest::get(format!("{endpoint}/storage/v1/b/{bucket}/o"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|o| o["name"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn upload_transcode_playback_and_delete_on_gcs() {
    let endpoint = required_env("MEDIASERVER_TEST_GCS_ENDPOINT");
    let media_bucket = fresh_gcs_bucket(&endpoint).await;
    let output_bucket = fresh_gcs_bucket(&endpoint).await;
    let s = common::start_ready(&[
        ("STORAGE_PROVIDER", "GCPBucket"),
        ("STORAGE_ENDPOINT", &endpoint),
        ("MEDIA_BUCKET", &media_bucket),
        ("OUTPUT_BUCKET", &output_bucket),
        ("JWT_SECRET", JWT),
        ("WORKERS", "1"),
        ("TRANSCODE_PRESET", "ultrafast"),
    ])
    .await;
    assert_eq!(s.state.media_store.provider(), "gcs");
    let token = s.user_token("me@example.com").await;

    // Transcoded and played back.
    let clip = read(&fixtures().mp4);
    let item = s.upload_ready(&token, "clip.mp4", clip.clone(), 180).await;
    let id = item["id"].as_str().unwrap().to_string();
    let base = s.url(&format!("/v1/media/{id}"));
    let segment =
        crate::playback::walk_hls(&s.client, &format!("{base}/hls/master.m3u8"), Some(&token))
            .await;
    let r = s
        .client
        .get(&segment)
        .bearer_auth(&token)
        .header("range", "bytes=0-9")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.bytes().await.unwrap().len(), 10);
    let outputs = all_objects(&endpoint, &output_bucket).await;
    assert!(
        outputs
            .iter()
            .any(|k| k.starts_with(&format!("media/{id}/"))),
        "{outputs:?}"
    );

    // Larger than one 8 MiB part: a composite upload, read back whole and by range.
    let (big_item, _) = s.upload_multipart_and_read_back(&token).await;
    let big_id = big_item["id"].as_str().unwrap().to_string();
    // No multipart parts left behind once the object is composed.
    let originals = all_objects(&endpoint, &media_bucket).await;
    assert!(
        originals
            .iter()
            .all(|k| !k.starts_with(".mediaserver-uploads/")),
        "{originals:?}"
    );
    let _ = s.wait_done(&token, &big_id, 180).await;

    // Deleting the items empties both buckets.
    for id in [&id, &big_id] {
        let r = s
            .client
            .delete(s.url(&format!("/v1/media/{id}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }
    assert_eq!(
        all_objects(&endpoint, &media_bucket).await,
        Vec::<String>::new()
    );
    assert_eq!(
        all_objects(&endpoint, &output_bucket).await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn the_one_shot_transcode_reads_and_writes_gs_urls() {
    let endpoint = required_env("MEDIASERVER_TEST_GCS_ENDPOINT");
    let bucket = fresh_gcs_bucket(&endpoint).await;
    let r = reqwest::Client::new()
        .post(format!("{endpoint}/upload/storage/v1/b/{bucket}/o"))
        .query(&[("uploadType", "media"), ("name", "in/clip.mp4")])
        .body(read(&fixtures().mp4))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "seed: {}", r.status());
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mediaserver"))
        .arg("transcode")
        .arg(format!("gs://{bucket}/in/clip.mp4"))
        .arg(format!("gs://{bucket}/out/"))
        .args(["--preset", "ultrafast"])
        .env("DATA_DIR", dir.path())
        .env("STORAGE_ENDPOINT", &endpoint)
        .env_remove("STORAGE_PROVIDER")
        .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
        .env_remove("GOOGLE_SERVICE_ACCOUNT_KEY")
        .env("LOG_LEVEL", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        !summary["renditions"].as_array().unwrap().is_empty(),
        "{summary}"
    );
    let names = all_objects(&endpoint, &bucket).await;
    for want in [
        "out/transcode.json",
        "out/stream/master.m3u8",
        "out/stream/manifest.mpd",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} missing: {names:?}");
    }
    // An unknown bucket is an error naming the URL, not a panic.
    let bad = Command::new(env!("CARGO_BIN_EXE_mediaserver"))
        .arg("transcode")
        .arg("gs://no-such-bucket-here/in.mp4")
        .arg(dir.path().join("o"))
        .env("DATA_DIR", dir.path())
        .env("STORAGE_ENDPOINT", &endpoint)
        .env("LOG_LEVEL", "warn")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
}
