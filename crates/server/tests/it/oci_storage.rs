//! `STORAGE_PROVIDER=OCIBucket` end to end: the server signs as an API key from an
//! `~/.oci/config`-format file and talks to the Object Storage stand-in, which verifies every
//! request's signature. Uploads (multipart form, tus, direct to a pre-authenticated request),
//! downloads with Range, processing, deletion, readiness; and startup errors that name the
//! problem.

use crate::common;

use base64::Engine as _;
use common::*;
use mediaserver_oci::PrivateKey;
use mediaserver_oci_standin::Standin;
use reqwest::StatusCode;
use serde_json::{json, Value};

const TENANCY: &str = "ocid1.tenancy.oc1..aaaaocibucket";
const USER: &str = "ocid1.user.oc1..aaaaocibucket";
const JWT: &str = "oci-bucket-test-secret-0123456789abcdef";
const MIB: usize = 1024 * 1024;

fn oci_env<'a>(standin: &'a Standin, config: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("STORAGE_PROVIDER", "OCIBucket"),
        ("MEDIA_BUCKET", "media"),
        ("OCI_AUTH", "api_key"),
        ("OCI_CONFIG_FILE", config),
        ("OCI_OBJECTSTORAGE_ENDPOINT", standin.url()),
        ("JWT_SECRET", JWT),
    ]
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

async fn original(s: &TestServer, token: &str, id: &str) -> Vec<u8> {
    let r = s
        .get(&format!("/v1/media/{id}/original"), token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.bytes().await.unwrap().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_lives_in_an_oci_bucket() {
    let standin = Standin::start(TENANCY, "us-ashburn-1").await.unwrap();
    let os = standin.object_storage().clone();
    os.create_bucket("media");
    os.set_list_page_size(5);
    let key = PrivateKey::generate().unwrap();
    standin.keys().insert_api_key(TENANCY, USER, &key);
    let cfg_dir = tempfile::tempdir().unwrap();
    let cfg = write_oci_config(cfg_dir.path(), TENANCY, USER, &key)
        .display()
        .to_string();
    let mut env = oci_env(&standin, &cfg);
    env.push(("WORKERS", "1"));
    let s = common::start_ready(&env).await;
    let token = s.user_token("oci@example.com").await;

    // A form upload, stored in the bucket, read back whole and by range, then processed.
    let mp4 = read(&fixtures().mp4);
    let item = s.upload_ok(&token, "clip one.mp4", mp4.clone()).await;
    let id = item["id"].as_str().unwrap().to_string();
    let stored = os
        .object("media", &format!("originals/{id}/clip one.mp4"))
        .expect("original in the bucket");
    assert!(stored == mp4, "bucket holds different bytes");
    assert!(original(&s, &token, &id).await == mp4);
    let r = s
        .get(&format!("/v1/media/{id}/original"), &token)
        .header("range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.bytes().await.unwrap().as_ref(), &mp4[10..20]);
    let done = s.wait_done(&token, &id, 120).await;
    assert_eq!(done["status"], "ready", "{done}");
    let outputs: Vec<String> = os
        .object_names("media")
        .into_iter()
        .filter(|n| n.starts_with(&format!("media/{id}/")))
        .collect();
    assert!(
        outputs.iter().any(|n| n.ends_with("master.m3u8")),
        "{outputs:?}"
    );
    let r = s
        .get(&format!("/v1/media/{id}/hls/master.m3u8"), &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().starts_with("#EXTM3U"));

    // tus: 11 MiB in 1 MiB PATCHes. OCI parts are at least 10 MiB, so the bytes wait as a
    // pending object until a part is full; the last part is the small remainder.
    let data = video(11 * MIB + 4321);
    let r = s
        .client
        .post(s.url("/v1/uploads/"))
        .bearer_auth(&token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", data.len().to_string())
        .header(
            "Upload-Metadata",
            format!("filename {}", b64("big clip.mp4")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let url = s.url(r.headers()["location"].to_str().unwrap());
    let mut tus_id = None;
    for (i, chunk) in data.chunks(MIB).enumerate() {
        let r = s
            .client
            .patch(&url)
            .bearer_auth(&token)
            .header("Tus-Resumable", "1.0.0")
            .header("Content-Type", "application/offset+octet-stream")
            .header("Upload-Offset", (i * MIB).to_string())
            .body(chunk.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "PATCH {i}");
        tus_id = r
            .headers()
            .get("mediaserver-media-id")
            .map(|v| v.to_str().unwrap().to_string());
        if i == 0 {
            assert_eq!(
                os.open_uploads("media"),
                1,
                "one multipart upload per tus upload"
            );
        }
    }
    let tus_id = tus_id.expect("the last PATCH names the item");
    let tus_key = format!("originals/{tus_id}/big clip.mp4");
    assert_eq!(os.object_part_count("media", &tus_key), Some(2));
    assert!(original(&s, &token, &tus_id).await == data);
    let left: Vec<String> = os
        .object_names("media")
        .into_iter()
        .filter(|n| n.starts_with(&format!("originals/{tus_id}/")))
        .collect();
    assert_eq!(left, vec![tus_key], "pending pieces removed");
    assert_eq!(os.open_uploads("media"), 0);

    // Direct upload: a pre-authenticated request the client PUTs to without credentials.
    let png = read(&fixtures().png);
    let r = s
        .client
        .post(s.url("/v1/media/direct-upload"))
        .bearer_auth(&token)
        .json(&json!({"filename": "frame.png", "size": png.len(), "title": "Direct"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let d: Value = r.json().await.unwrap();
    assert_eq!(d["target"], "presigned");
    assert_eq!(d["method"], "PUT");
    let put_url = d["upload_url"].as_str().unwrap();
    assert!(
        put_url.starts_with(&format!("{}/p/", standin.url())),
        "{put_url}"
    );
    let direct_id = d["id"].as_str().unwrap().to_string();
    let r = reqwest::Client::new()
        .put(put_url)
        .body(png.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = s
        .client
        .post(s.url(&format!("/v1/media/{direct_id}/complete")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let item: Value = r.json().await.unwrap();
    assert_eq!(item["kind"], "image");
    assert_eq!(item["sha256"], sha256_hex(&png));
    assert!(original(&s, &token, &direct_id).await == png);
    assert!(os.par_requests() >= 1);

    // Deleting an item removes its original and outputs (listed in 5-object pages).
    let r = s
        .client
        .delete(s.url(&format!("/v1/media/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let gone: Vec<String> = os
        .object_names("media")
        .into_iter()
        .filter(|n| n.contains(&id))
        .collect();
    assert!(gone.is_empty(), "{gone:?}");

    assert!(os.signed_requests() > 20);
    assert!(os.rejections().is_empty(), "{:?}", os.rejections());
    s.stop().await;
}

async fn startup_error(config: &mediaserver::config::Config) -> String {
    match mediaserver::build_state(config).await {
        Ok(_) => panic!("the server started"),
        Err(e) => format!("{e:#}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_errors_name_the_principal_and_the_bucket() {
    let standin = Standin::start(TENANCY, "us-ashburn-1").await.unwrap();
    standin.object_storage().create_bucket("media");
    let key = PrivateKey::generate().unwrap();
    let cfg_dir = tempfile::tempdir().unwrap();
    let cfg = write_oci_config(cfg_dir.path(), TENANCY, USER, &key)
        .display()
        .to_string();
    let data = tempfile::tempdir().unwrap();

    // The key is not registered: OCI answers 401, and the error says who signed.
    let config = config_with(data.path(), &oci_env(&standin, &cfg));
    let err = startup_error(&config).await;
    assert!(err.contains("OCIBucket"), "{err}");
    assert!(
        err.contains(&format!("API key {TENANCY}/{USER}/{}", key.fingerprint())),
        "{err}"
    );

    // Registered, but the bucket does not exist.
    standin.keys().insert_api_key(TENANCY, USER, &key);
    let mut env = oci_env(&standin, &cfg);
    env.push(("OUTPUT_BUCKET", "outputs"));
    env.push(("OCI_NAMESPACE", "standinns"));
    let config = config_with(data.path(), &env);
    let err = startup_error(&config).await;
    assert!(err.contains("bucket outputs not found"), "{err}");

    // A config file naming a key file that is not there.
    std::fs::remove_file(cfg_dir.path().join("oci_api_key.pem")).unwrap();
    let config = config_with(data.path(), &oci_env(&standin, &cfg));
    let err = startup_error(&config).await;
    assert!(err.contains("oci_api_key.pem"), "{err}");
}
