//! `mediaserver reconcile` finds a chunked encode's leftover working files
//! (`media/{id}/chunks/`) of an item that is done with them — failed (a part published its
//! record after a sibling failed the item) or ready (the cleanup failed) — and leaves those of
//! an item still being worked on, and every other output.

use crate::common::{fixtures, read, TestServer};
use mediaserver_core::{layout, MediaId};
use mediaserver_storage::{ObjectKey, Storage};
use std::process::Command;
use std::time::Duration;

/// `mediaserver reconcile ARGS` on the server's data directory; its report.
fn reconcile(s: &TestServer, args: &[&str]) -> String {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mediaserver"));
    for (k, _) in std::env::vars() {
        if k.starts_with("STORAGE_") || k.starts_with("AWS_") || k.ends_with("_BUCKET") {
            c.env_remove(k);
        }
    }
    let out = c
        .env_remove("DATABASE_URL")
        .env_remove("JWT_SECRET")
        .arg("reconcile")
        .args(args)
        .env("DATA_DIR", s.dir.path())
        .env("LOG_LEVEL", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

async fn exists(store: &dyn Storage, key: &str) -> bool {
    store.head(&ObjectKey::new(key).unwrap()).await.is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_removes_chunk_leftovers_of_finished_items_only() {
    let s = TestServer::start().await;
    let token = s.user_token("leftovers@example.com").await;
    let failed = s.upload_ok(&token, "a.png", read(&fixtures().png)).await;
    let failed: MediaId = failed["id"].as_str().unwrap().parse().unwrap();
    let working = s.upload_ok(&token, "b.png", read(&fixtures().png)).await;
    let working: MediaId = working["id"].as_str().unwrap().parse().unwrap();
    // The first item fails for good (its job is the oldest); the second stays queued.
    let job = s
        .state
        .repo
        .claim_job("w", Duration::from_secs(60), chrono::Utc::now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.media_id, failed);
    s.state
        .repo
        .fail_job(&job.id, "w", "boom", None)
        .await
        .unwrap();

    let out = s.state.output_store.clone();
    let leftovers = [
        layout::chunk_plan(&failed),
        layout::chunk_record(&failed, 2),
    ];
    let kept = [
        layout::output_key(&failed, layout::THUMBNAIL),
        layout::chunk_plan(&working),
        layout::chunk_record(&working, 0),
    ];
    for k in leftovers.iter().chain(&kept) {
        out.put_bytes(&ObjectKey::new(k.clone()).unwrap(), b"{}".to_vec().into())
            .await
            .unwrap();
    }

    let dry = reconcile(&s, &["--dry-run", "--grace-seconds", "0"]);
    assert!(
        dry.contains("leftover chunked-encode files of finished items: 2"),
        "{dry}"
    );
    for k in &leftovers {
        assert!(dry.contains(k.as_str()), "{k} not reported: {dry}");
        assert!(exists(out.as_ref(), k).await, "a dry run removed {k}");
    }
    for k in &kept {
        assert!(!dry.contains(k.as_str()), "{k} reported: {dry}");
    }
    // The grace period protects what was written just now.
    let graced = reconcile(&s, &[]);
    assert!(
        graced.contains("leftover chunked-encode files of finished items: 0"),
        "{graced}"
    );

    let done = reconcile(&s, &["--grace-seconds", "0"]);
    assert!(
        done.contains("leftover chunked-encode files of finished items: 2"),
        "{done}"
    );
    for k in &leftovers {
        assert!(!exists(out.as_ref(), k).await, "{k} kept");
    }
    for k in &kept {
        assert!(exists(out.as_ref(), k).await, "{k} removed");
    }
    let again = reconcile(&s, &["--grace-seconds", "0"]);
    assert!(
        again.contains("leftover chunked-encode files of finished items: 0"),
        "{again}"
    );
}
