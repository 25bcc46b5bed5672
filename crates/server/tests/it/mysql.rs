//! The server on MySQL (MariaDB here, started by scripts/services.sh): an upload is
//! transcoded by the in-process worker through the MySQL queue and played back.

use crate::common;

use common::{fixtures, read};
use reqwest::StatusCode;
use serde_json::Value;

/// A fresh database on the test server of `MEDIASERVER_TEST_MYSQL_URL`; `None` (the test is
/// skipped, with a message) when it is not set outside CI. Under CI it must be set.
async fn fresh_mysql_database() -> Option<String> {
    use sqlx::{Connection, Executor};
    let Ok(admin) = std::env::var("MEDIASERVER_TEST_MYSQL_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "MEDIASERVER_TEST_MYSQL_URL is not set under CI: scripts/services.sh must start MariaDB"
        );
        eprintln!(
            "skipped: MEDIASERVER_TEST_MYSQL_URL is not set (run scripts/test.sh, or \
             `source scripts/services.sh && start_mysql`)"
        );
        return None;
    };
    let name = format!("api_{}", mediaserver_core::new_id().replace('-', ""));
    let mut conn = sqlx::MySqlConnection::connect(&admin)
        .await
        .expect("connect to test MySQL");
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    let mut url = url::Url::parse(&admin).unwrap();
    url.set_path(&format!("/{name}"));
    Some(url.into())
}

#[tokio::test]
async fn upload_transcode_and_playback_on_mysql() {
    let Some(db) = fresh_mysql_database().await else {
        return;
    };
    let s = common::start_ready(&[
        ("DATABASE_URL", &db),
        ("JWT_SECRET", crate::backends::JWT),
        ("WORKERS", "1"),
        ("TRANSCODE_PRESET", "ultrafast"),
    ])
    .await;
    assert_eq!(s.state.repo.backend(), "mysql");

    // The first account is the admin (the users lock of migration 0001).
    let token = s.admin_then_user("Me@Example.com").await;

    let item = s
        .upload_ready(&token, "clip.mp4", read(&fixtures().mp4), 120)
        .await;
    let id = item["id"].as_str().unwrap().to_string();
    assert_eq!(item["playable"], true);
    assert_eq!(
        (item["width"].as_i64(), item["height"].as_i64()),
        (Some(320), Some(240))
    );
    let jobs = s
        .state
        .repo
        .jobs_for_media(&id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].attempts, 1);

    // Played back over HTTP: the master playlist, a media playlist and its first segment.
    let master_path = item["playback"]["hls"].as_str().unwrap().to_string();
    let r = s.get(&master_path, &token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let master = r.text().await.unwrap();
    assert!(master.starts_with("#EXTM3U"), "{master}");
    let base = master_path.rsplit_once('/').unwrap().0.to_string();
    let variant = master
        .lines()
        .find(|l| !l.starts_with('#') && !l.is_empty())
        .expect("a variant playlist");
    let r = s
        .get(&format!("{base}/{variant}"), &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let playlist = r.text().await.unwrap();
    let variant_base = format!("{base}/{variant}");
    let variant_base = variant_base.rsplit_once('/').unwrap().0;
    let segment = playlist
        .lines()
        .find(|l| !l.starts_with('#') && !l.is_empty())
        .expect("a segment");
    let r = s
        .get(&format!("{variant_base}/{segment}"), &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(!r.bytes().await.unwrap().is_empty());

    // The library lists it, and deleting it takes its rows (jobs, events) with it.
    let page: Value = s
        .get("/v1/media", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"][0]["id"], id.as_str());
    let r = s
        .client
        .delete(s.url(&format!("/v1/media/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(s
        .state
        .repo
        .jobs_for_media(&id.parse().unwrap())
        .await
        .unwrap()
        .is_empty());
}
