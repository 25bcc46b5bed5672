//! Fault tests: the disk under `DATA_DIR` filling up, and S3 going away mid-upload, each
//! followed by recovery without a restart.

use crate::common;

use common::{expect_error, fixtures, read, TestServer};
use reqwest::StatusCode;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

const TUS: (&str, &str) = ("Tus-Resumable", "1.0.0");
const MIB: usize = 1024 * 1024;

/// A tmpfs of `size` mounted on a fresh directory, unmounted when dropped (a failing test
/// included). Mounting needs root or CAP_SYS_ADMIN; without them the test fails saying so.
struct Tmpfs {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .output()
            .unwrap_or_else(|e| panic!("cannot run mount: {e}"));
        assert!(
            out.status.success(),
            "this test mounts a small tmpfs to fill a disk and needs root (or CAP_SYS_ADMIN) \
             to do so: mount -t tmpfs failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs {
            dir: Some(dir),
            path,
        }
    }

    /// The mounted directory, as the server's data directory (the tmpfs stays mounted).
    fn data_dir(&mut self) -> tempfile::TempDir {
        self.dir.take().expect("data dir taken once")
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: files the server still holds open must not keep the mount alive.
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.path)
            .status();
    }
}

/// Checkpoints the database's write-ahead log into the database file and empties it.
async fn truncate_wal(db: &Path) {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(busy, 0, "the checkpoint could not complete");
    conn.close().await.unwrap();
}

/// Writes zeros to `path` until the disk refuses more; returns how many bytes it took.
fn fill(path: &Path) -> u64 {
    use std::io::Write;
    let mut f = std::fs::File::create(path).unwrap();
    let block = vec![0u8; 64 * 1024];
    let mut written = 0u64;
    loop {
        match f.write(&block) {
            Ok(0) => break,
            Ok(n) => written += n as u64,
            Err(e) if e.kind() == std::io::ErrorKind::StorageFull => break,
            Err(e) => panic!("filling the disk: {e}"),
        }
    }
    let _ = f.sync_all();
    written
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

async fn readyz(s: &TestServer) -> (StatusCode, Value) {
    let r = s.client.get(s.url("/readyz")).send().await.unwrap();
    (r.status(), r.json().await.unwrap())
}

async fn tus_create(s: &TestServer, token: &str, length: usize) -> reqwest::Response {
    s.client
        .post(s.url("/v1/uploads/"))
        .bearer_auth(token)
        .header(TUS.0, TUS.1)
        .header("Upload-Length", length.to_string())
        .header("Upload-Metadata", "filename Y2xpcC5tcDQ=")
        .send()
        .await
        .unwrap()
}

async fn tus_patch(
    s: &TestServer,
    url: &str,
    token: &str,
    offset: usize,
    body: Vec<u8>,
) -> reqwest::Response {
    s.client
        .patch(url)
        .bearer_auth(token)
        .header(TUS.0, TUS.1)
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Offset", offset.to_string())
        .body(body)
        .send()
        .await
        .unwrap()
}

/// `DATA_DIR` (SQLite and Local storage) on a small disk that fills up: uploads answer 507 and
/// keep nothing, readiness says why, a tus DELETE gives the space back, and then uploads,
/// readiness and job claims all work again without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_full_is_507_and_recovers_without_a_restart() {
    let mut disk = Tmpfs::mount("8m");
    let root = disk.path.clone();
    let s = TestServer::start_in(disk.data_dir(), &[]).await;
    let token = s.user_token("full@example.com").await;
    let (status, body) = readyz(&s).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A tus upload holds 4 MiB of the disk; a filler file takes the rest.
    let mut clip = read(&fixtures().mp4);
    clip.resize(6 * MIB, 0);
    // A queued job: the claims while the disk is full have something to write.
    let waiting = s
        .upload_ok(&token, "first.png", read(&fixtures().png))
        .await;
    let r = tus_create(&s, &token, clip.len()).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let upload = s.url(r.headers()["location"].to_str().unwrap());
    let r = tus_patch(&s, &upload, &token, 0, clip[..4 * MIB].to_vec()).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // SQLite's write-ahead log keeps its size once grown, so small writes could still fit on
    // a full disk; start it empty, as it is on a fresh database, so that every commit needs
    // new space and meets the full disk (the case that left pooled connections wedged).
    truncate_wal(&root.join("mediaserver.db")).await;
    let filler = root.join("filler");
    fill(&filler);
    let before: Vec<PathBuf> = files_under(&root);
    let objects_before = s.state.media_store.list("").await.unwrap();

    // Full: a one-request upload is 507 JSON and keeps nothing.
    let msg = expect_error(
        s.upload(&token, "a.png", read(&fixtures().png)).await,
        StatusCode::INSUFFICIENT_STORAGE,
    )
    .await;
    assert!(msg.contains("nothing of this request was kept"), "{msg}");
    // So is the rest of the tus upload, and the bytes it got are not kept either.
    let r = tus_patch(&s, &upload, &token, 4 * MIB, clip[4 * MIB..].to_vec()).await;
    assert_eq!(r.status(), StatusCode::INSUFFICIENT_STORAGE);
    let r = s
        .client
        .head(&upload)
        .bearer_auth(&token)
        .header(TUS.0, TUS.1)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["upload-offset"], (4 * MIB).to_string().as_str());
    let page: Value = s
        .get("/v1/media", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "only the item from before: {page}");
    assert_eq!(items[0]["id"], waiting["id"], "{page}");
    assert_eq!(s.state.media_store.list("").await.unwrap(), objects_before);
    let mut after = files_under(&root);
    after.retain(|p| !p.to_string_lossy().contains("mediaserver.db"));
    let mut before_no_db = before.clone();
    before_no_db.retain(|p| !p.to_string_lossy().contains("mediaserver.db"));
    assert_eq!(
        after, before_no_db,
        "files left behind by the failed uploads"
    );

    // Writes of every kind meet the full disk (logins, new uploads, claims): each is refused
    // as a whole, and none may leave its database connection unusable afterwards.
    let mut refused = 0;
    for i in 0..16 {
        let r = s.login("full@example.com", common::PASSWORD).await;
        refused += usize::from(r.status() == StatusCode::INSUFFICIENT_STORAGE);
        assert!(
            matches!(
                r.status(),
                StatusCode::OK | StatusCode::INSUFFICIENT_STORAGE
            ),
            "login {i} on a full disk: {}",
            r.status()
        );
        let r = tus_create(&s, &token, 1000).await;
        assert!(
            matches!(
                r.status(),
                StatusCode::CREATED | StatusCode::INSUFFICIENT_STORAGE
            ),
            "tus create {i} on a full disk: {}",
            r.status()
        );
        let _ = s
            .state
            .repo
            .claim_job("fault-test", Duration::from_secs(30), chrono::Utc::now())
            .await;
    }

    assert!(refused > 0, "no database write met the full disk");
    // The API document says so: a client generated from it knows a login can be a 507.
    let doc: Value = s
        .client
        .get(s.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (path, method) in [("/v1/auth/login", "post"), ("/v1/uploads/", "post")] {
        assert!(
            doc["paths"][path][method]["responses"]["507"].is_object(),
            "{method} {path} does not declare the 507 it answers"
        );
    }

    // Readiness says the disk is full.
    let (status, body) = readyz(&s).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body.to_string().contains("full"), "{body}");

    // Deleting the tus upload gives its 4 MiB back.
    let free = |p: &Path| df_free(p);
    let free_before = free(&root);
    let r = s
        .client
        .delete(&upload)
        .bearer_auth(&token)
        .header(TUS.0, TUS.1)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::NO_CONTENT,
        "{}",
        r.text().await.unwrap()
    );
    assert!(
        free(&root) >= free_before + 3 * MIB as u64,
        "tus DELETE did not free the space"
    );

    // Everything works again, without a restart: readiness, uploads, and every pooled
    // connection (logins cycle through them) takes writes and claims jobs.
    let (status, body) = readyz(&s).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let item = s.upload_ok(&token, "b.png", read(&fixtures().png)).await;
    for i in 0..12 {
        let r = s.login("full@example.com", common::PASSWORD).await;
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "login {i} after the disk was freed"
        );
    }
    let mut claimed = Vec::new();
    for _ in 0..2 {
        let job = s
            .state
            .repo
            .claim_job("fault-test", Duration::from_secs(30), chrono::Utc::now())
            .await
            .expect("a worker can claim again")
            .expect("a queued job");
        claimed.push(job.media_id.to_string());
    }
    claimed.sort();
    let mut queued = vec![
        waiting["id"].as_str().unwrap().to_string(),
        item["id"].as_str().unwrap().to_string(),
    ];
    queued.sort();
    assert_eq!(claimed, queued);
    s.stop().await;
}

/// Free bytes on the filesystem holding `path` (as `df` would say).
fn df_free(path: &Path) -> u64 {
    let out = std::process::Command::new("df")
        .args(["-B1", "--output=avail"])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .unwrap()
}
