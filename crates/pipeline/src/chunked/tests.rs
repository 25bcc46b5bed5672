//! Issue 15 §1 leftovers. Provisional playlists of a chunked item never go backwards: two parts
//! finishing close together, the one that listed fewer done chunks writing last, and a part
//! publishing after the assemble step began (on SQLite, and on PostgreSQL when
//! `MEDIASERVER_TEST_PG_URL` is set: `source scripts/services.sh && start_services`). A new
//! split does not trust records an earlier split left.

use super::{publish, records};
use crate::runner::RunContext;
use bytes::Bytes;
use mediaserver_core::{
    layout, JobId, JobKind, Media, MediaKind, NewOriginal, NewUser, ObjectSource,
};
use mediaserver_db::DynRepo;
use mediaserver_media::ladder::LadderRung;
use mediaserver_media::transcode::chunked::{self, ChunkOutput, ChunkSegment, ChunkStream};
use mediaserver_media::transcode::{LadderMode, VideoOptions};
use mediaserver_storage::{
    ByteStream, ObjectKey, ObjectMeta, ObjectWriter, PutResult, Result as StorageResult, Storage,
};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Delegates to `inner`; a listing of the chunk records returns only after `go` (having told
/// `listed`): a publisher held between "which parts are done" and its writes.
#[derive(Debug)]
struct HeldAfterListing {
    inner: Arc<dyn Storage>,
    listed: Arc<Notify>,
    go: Arc<Notify>,
}

#[async_trait::async_trait]
impl Storage for HeldAfterListing {
    fn bucket(&self) -> &str {
        self.inner.bucket()
    }
    fn provider(&self) -> &'static str {
        "held"
    }
    async fn writer(&self, key: &ObjectKey) -> StorageResult<Box<dyn ObjectWriter>> {
        self.inner.writer(key).await
    }
    async fn put_file(&self, key: &ObjectKey, path: &Path) -> StorageResult<PutResult> {
        self.inner.put_file(key, path).await
    }
    async fn put_bytes(&self, key: &ObjectKey, data: Bytes) -> StorageResult<PutResult> {
        self.inner.put_bytes(key, data).await
    }
    async fn head(&self, key: &ObjectKey) -> StorageResult<ObjectMeta> {
        self.inner.head(key).await
    }
    async fn get_stream(&self, key: &ObjectKey) -> StorageResult<(ObjectMeta, ByteStream)> {
        self.inner.get_stream(key).await
    }
    async fn get_range_stream(
        &self,
        key: &ObjectKey,
        range: Range<u64>,
    ) -> StorageResult<(ObjectMeta, ByteStream)> {
        self.inner.get_range_stream(key, range).await
    }
    async fn read_at(&self, key: &ObjectKey, range: Range<u64>) -> StorageResult<Bytes> {
        self.inner.read_at(key, range).await
    }
    async fn list(&self, prefix: &str) -> StorageResult<Vec<ObjectMeta>> {
        let listed = self.inner.list(prefix).await;
        if prefix.ends_with(layout::CHUNKS_DIR) {
            self.listed.notify_one();
            self.go.notified().await;
        }
        listed
    }
    async fn delete(&self, key: &ObjectKey) -> StorageResult<()> {
        self.inner.delete(key).await
    }
    async fn delete_prefix(&self, prefix: &str) -> StorageResult<u64> {
        self.inner.delete_prefix(prefix).await
    }
    async fn presign_put(&self, key: &ObjectKey, expires: Duration) -> StorageResult<reqwest::Url> {
        self.inner.presign_put(key, expires).await
    }
    async fn presign_get(&self, key: &ObjectKey, expires: Duration) -> StorageResult<reqwest::Url> {
        self.inner.presign_get(key, expires).await
    }
    async fn check(&self) -> StorageResult<()> {
        self.inner.check().await
    }
}

/// A fresh database: SQLite in `dir`, or a new PostgreSQL database.
async fn repo(postgres: bool, dir: &Path) -> Option<DynRepo> {
    let url = if postgres {
        use sqlx::{Connection, Executor};
        let admin = std::env::var("MEDIASERVER_TEST_PG_URL").ok()?;
        let name = format!("t_prov_{}", JobId::new().as_str().replace('-', "_"));
        let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap();
        conn.close().await.unwrap();
        let mut url = reqwest::Url::parse(&admin).unwrap();
        url.set_path(&format!("/{name}"));
        url.to_string()
    } else {
        format!("sqlite://{}", dir.join("db.sqlite").display())
    };
    let repo = mediaserver_db::connect(&url).await.unwrap();
    repo.migrate().await.unwrap();
    Some(repo)
}

/// An item split into `chunks` chunks, and its parts' jobs (claimed).
async fn split_item(repo: &DynRepo, chunks: u32) -> (Media, Vec<mediaserver_core::Job>) {
    let user = repo
        .create_user(NewUser {
            email: "me@example.com".into(),
            password_hash: "x".into(),
            role: None,
        })
        .await
        .unwrap();
    let id = mediaserver_core::MediaId::new();
    let (media, event) = NewOriginal {
        id: id.clone(),
        owner_id: user.id,
        kind: MediaKind::Video,
        content_type: "video/mp4".into(),
        filename: "clip.mp4".into(),
        title: None,
        size: 1,
        sha256: String::new(),
        bucket: "b".into(),
        key: format!("originals/{id}/clip.mp4"),
        etag: "e".into(),
        source: ObjectSource::Upload,
    }
    .into_records();
    repo.create_media_with_event(&media, &event, 3)
        .await
        .unwrap();
    let lease = Duration::from_secs(60);
    let whole = repo
        .claim_job("splitter", lease, chrono::Utc::now())
        .await
        .unwrap()
        .unwrap();
    assert!(repo
        .split_job(&whole.id, "splitter", chunks, 3)
        .await
        .unwrap());
    let mut parts = Vec::new();
    while let Some(j) = repo
        .claim_job(&format!("w{}", parts.len()), lease, chrono::Utc::now())
        .await
        .unwrap()
    {
        parts.push(j);
    }
    let media = repo.get_media(&id).await.unwrap().unwrap();
    (media, parts)
}

/// A `seconds` long 160x90 10 fps source (ffmpeg).
fn source(dir: &Path, seconds: u32) -> std::path::PathBuf {
    source_sized(dir, seconds, "160x90")
}

fn source_sized(dir: &Path, seconds: u32, size: &str) -> std::path::PathBuf {
    let src = dir.join("src.mp4");
    let made = std::process::Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
        ])
        .arg(format!("testsrc2=size={size}:rate=10:duration={seconds}"))
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-g", "20"])
        .arg(&src)
        .status()
        .unwrap();
    assert!(made.success());
    src
}

/// A real plan of a 6 s source in 2 s chunks, three chunks.
async fn plan(dir: &Path) -> chunked::ChunkedPlan {
    let src = source(dir, 6);
    let probe = mediaserver_media::probe::probe(&src, Duration::from_secs(30))
        .await
        .unwrap();
    let opts = VideoOptions {
        preset: "ultrafast".into(),
        ladder: vec![LadderRung {
            height: 90,
            bitrate: 100_000,
        }],
        segment_seconds: 2,
        keyframe_seconds: 2,
        ladder_mode: LadderMode::Fixed,
        ..Default::default()
    };
    let settings = chunked::ChunkSettings {
        chunk_seconds: 2,
        min_seconds: 1,
    };
    let plan = chunked::plan(&src, &probe, &opts, &settings, dir)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(plan.chunks(), 3);
    plan
}

/// Chunk `index`'s record: one stream, one 2 s segment (number index + 1).
fn record(index: u32) -> ChunkOutput {
    ChunkOutput {
        index,
        streams: vec![ChunkStream {
            stream: 0,
            codecs: "avc1.64000b".into(),
            timescale: 10,
            init_bytes: 1,
            segments: vec![ChunkSegment {
                number: index + 1,
                duration: 2.0,
                bytes: 1,
                t: u64::from(index) * 20,
                d: 20,
            }],
            encoder_tag: None,
            head: false,
        }],
        mpd: String::new(),
        files: Vec::new(),
        tiles: Vec::new(),
        wall_seconds: 1.0,
        cpu_seconds: None,
    }
}

/// The published video playlist's segment count.
async fn published_segments(store: &dyn Storage, media: &Media) -> usize {
    let key = ObjectKey::new(format!("{}stream/media_0.m3u8", media.outputs_prefix())).unwrap();
    let bytes = store
        .read_at(&key, 0..store.head(&key).await.unwrap().size)
        .await
        .unwrap();
    String::from_utf8_lossy(&bytes).matches("#EXTINF").count()
}

async fn a_shorter_prefix_written_late_does_not_win(postgres: bool) {
    let dir = tempfile::tempdir().unwrap();
    let Some(repo) = repo(postgres, dir.path()).await else {
        return;
    };
    let (media, parts) = split_item(&repo, 3).await;
    let job = |kind: JobKind, index: Option<u32>| -> JobId {
        parts
            .iter()
            .find(|j| j.kind == kind && j.chunk_index == index)
            .unwrap()
            .id
            .clone()
    };
    let store: Arc<dyn Storage> = mediaserver_storage::memory("b", 1024 * 1024).unwrap();
    let prefix = media.outputs_prefix();
    records::put(
        store.as_ref(),
        &prefix,
        layout::CHUNK_PLAN,
        &plan(dir.path()).await,
    )
    .await
    .unwrap();
    let (listed, go) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let held = RunContext {
        repo: repo.clone(),
        media_store: store.clone(),
        output_store: Arc::new(HeldAfterListing {
            inner: store.clone(),
            listed: listed.clone(),
            go: go.clone(),
        }),
    };
    let plain = RunContext {
        repo: repo.clone(),
        media_store: store.clone(),
        output_store: store.clone(),
    };

    // Chunk 0 done: its worker lists the records (chunk 0 alone) and is held there…
    records::put(
        store.as_ref(),
        &prefix,
        &layout::chunk_record_name(0),
        &record(0),
    )
    .await
    .unwrap();
    let first = {
        let (held, media, job) = (held.clone(), media.clone(), job(JobKind::Chunk, Some(0)));
        tokio::spawn(async move { publish::try_provisional(&held, &media, &job).await })
    };
    listed.notified().await;
    // …while chunk 1 finishes and its worker publishes the prefix of two chunks…
    records::put(
        store.as_ref(),
        &prefix,
        &layout::chunk_record_name(1),
        &record(1),
    )
    .await
    .unwrap();
    publish::try_provisional(&plain, &media, &job(JobKind::Chunk, Some(1)))
        .await
        .unwrap();
    assert_eq!(published_segments(store.as_ref(), &media).await, 2);
    // …then the first writes what it saw: it must not shorten the playlist.
    go.notify_one();
    first.await.unwrap().unwrap();
    assert_eq!(
        published_segments(store.as_ref(), &media).await,
        2,
        "the provisional playlist went backwards"
    );

    // Once the assemble step began, no provisional write lands (over its final playlists).
    records::put(
        store.as_ref(),
        &prefix,
        &layout::chunk_record_name(2),
        &record(2),
    )
    .await
    .unwrap();
    repo.end_provisional(&job(JobKind::Chunk, Some(2)))
        .await
        .unwrap();
    let final_text = "#EXTM3U\n#EXT-X-ENDLIST\n";
    let key = ObjectKey::new(format!("{prefix}stream/media_0.m3u8")).unwrap();
    store
        .put_bytes(&key, Bytes::from_static(final_text.as_bytes()))
        .await
        .unwrap();
    publish::try_provisional(&plain, &media, &job(JobKind::Chunk, Some(2)))
        .await
        .unwrap();
    let now = store
        .read_at(&key, 0..final_text.len() as u64)
        .await
        .unwrap();
    assert_eq!(&now[..], final_text.as_bytes());
}

#[tokio::test]
async fn a_shorter_prefix_written_late_does_not_win_sqlite() {
    a_shorter_prefix_written_late_does_not_win(false).await;
}

#[tokio::test]
async fn a_shorter_prefix_written_late_does_not_win_postgres() {
    a_shorter_prefix_written_late_does_not_win(true).await;
}

#[tokio::test]
async fn a_new_split_drops_the_records_of_an_earlier_one() {
    let dir = tempfile::tempdir().unwrap();
    // 4 s segments by default: 12 s make three chunks of one segment.
    let src = source(dir.path(), 12);
    let store: Arc<dyn Storage> = mediaserver_storage::memory("b", 1024 * 1024).unwrap();
    let prefix = "media/x/";
    // Chunk 1's record of an earlier split (published after its item failed).
    records::put(
        store.as_ref(),
        prefix,
        &layout::chunk_record_name(1),
        &record(1),
    )
    .await
    .unwrap();
    let settings = crate::process::ProcessSettings {
        preset: "ultrafast".into(),
        chunks: chunked::ChunkSettings {
            chunk_seconds: 4,
            min_seconds: 1,
        },
        ..Default::default()
    };
    let cancel = tokio_util::sync::CancellationToken::new();
    let chunks = super::split_at(
        &src,
        store.as_ref(),
        prefix,
        &settings,
        dir.path(),
        None,
        &cancel,
    )
    .await
    .unwrap();
    assert!(chunks.is_some_and(|n| n >= 2), "{chunks:?}");
    assert!(
        !super::part_done(store.as_ref(), prefix, super::Part::Chunk(1))
            .await
            .unwrap(),
        "the new split's chunk 1 reads as done from an earlier split's record"
    );
    assert!(store
        .head(&ObjectKey::new(format!("{prefix}{}", layout::CHUNK_PLAN)).unwrap())
        .await
        .is_ok());
}

/// Serves `file` with range requests to the first `good` requests, then answers 403 (as a
/// presigned URL does once it expired). Its URL.
async fn expiring_url(file: std::path::PathBuf, good: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let data = std::fs::read(&file).unwrap();
        let mut served = 0;
        while let Ok((mut conn, _)) = listener.accept().await {
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            served += 1;
            if served > good {
                let _ = conn
                    .write_all(
                        b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    )
                    .await;
                continue;
            }
            let head = String::from_utf8_lossy(&head).to_lowercase();
            let start: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("range: bytes="))
                .and_then(|r| r.split('-').next())
                .and_then(|n| n.trim().parse().ok())
                .unwrap_or(0)
                .min(data.len());
            let reply = format!(
                "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {start}-{}/{}\r\nAccept-Ranges: bytes\r\nConnection: close\r\n\r\n",
                data.len() - start,
                data.len() - 1,
                data.len()
            );
            let _ = conn.write_all(reply.as_bytes()).await;
            let _ = conn.write_all(&data[start..]).await;
        }
    });
    format!("http://{addr}/original.mp4")
}

/// A chunk reading the original over a URL that stops working after ffmpeg opened it (an
/// expired presigned URL) sees a "truncated" file: retried, not the item failed for good.
#[tokio::test]
async fn a_chunk_whose_url_expires_is_retried_not_failed() {
    let dir = tempfile::tempdir().unwrap();
    let src = source_sized(dir.path(), 12, "320x180");
    let store: Arc<dyn Storage> = mediaserver_storage::memory("b", 1024 * 1024).unwrap();
    let prefix = "media/x/";
    let settings = crate::process::ProcessSettings {
        preset: "ultrafast".into(),
        ladder_mode: LadderMode::Fixed,
        chunks: chunked::ChunkSettings {
            chunk_seconds: 4,
            min_seconds: 1,
        },
        ..Default::default()
    };
    let cancel = tokio_util::sync::CancellationToken::new();
    let chunks = super::split_at(
        &src,
        store.as_ref(),
        prefix,
        &settings,
        dir.path(),
        None,
        &cancel,
    )
    .await
    .unwrap();
    assert_eq!(chunks, Some(3));
    // Its URL works for the open, then expires before the seek to chunk 2's range.
    let url = expiring_url(src.clone(), 1).await;
    let err = super::encode_part(
        store.as_ref(),
        prefix,
        super::Part::Chunk(2),
        &chunked::Input::Url(url),
        dir.path(),
        &settings,
        &cancel,
        |_| {},
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.failure(),
        mediaserver_core::Failure::Transient,
        "an expired URL failed the item for good: {err}"
    );
    // With a URL that keeps working, the same chunk encodes.
    let url = expiring_url(src.clone(), usize::MAX).await;
    assert!(super::encode_part(
        store.as_ref(),
        prefix,
        super::Part::Chunk(2),
        &chunked::Input::Url(url),
        dir.path(),
        &settings,
        &cancel,
        |_| {},
    )
    .await
    .unwrap());
}

/// Takes the assemble job over as another worker (as one does when this worker's heartbeats
/// stopped reaching the database), then answers "ready" as if it had assembled it.
struct TakenOver {
    repo: DynRepo,
}

#[async_trait::async_trait]
impl crate::runner::JobRunner for TakenOver {
    async fn run(
        &self,
        job: &mediaserver_core::Job,
        _media: &Media,
        _ctx: &RunContext,
        _cancel: &tokio_util::sync::CancellationToken,
    ) -> Result<crate::runner::JobDone, crate::PipelineError> {
        let worker = job.lease_owner.clone().unwrap();
        assert!(self.repo.release_job(&job.id, &worker).await.unwrap());
        let other = self
            .repo
            .claim_job("other", Duration::from_secs(60), chrono::Utc::now())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(other.id, job.id);
        Ok(crate::runner::JobDone::Ready(mediaserver_db::MediaReady {
            duration_seconds: Some(6.0),
            width: Some(160),
            height: Some(90),
            playable: true,
            outputs: Default::default(),
        }))
    }
}

/// An assemble step that lost its job to another worker before recording it leaves the chunk
/// records to that worker (which reads them to assemble, then cleans up): deleting them would
/// fail the other's assembly, and with it the item.
#[tokio::test]
async fn an_assemble_taken_over_leaves_the_records_to_the_new_holder() {
    let dir = tempfile::tempdir().unwrap();
    let repo = repo(false, dir.path()).await.unwrap();
    let (media, parts) = split_item(&repo, 1).await;
    for (i, p) in parts.iter().enumerate() {
        repo.complete_part(&p.id, &format!("w{i}")).await.unwrap();
    }
    let store: Arc<dyn Storage> = mediaserver_storage::memory("b", 1024 * 1024).unwrap();
    let plan_key = ObjectKey::new(layout::chunk_plan(&media.id)).unwrap();
    store
        .put_bytes(&plan_key, Bytes::from_static(b"{}"))
        .await
        .unwrap();
    let pipeline = crate::worker::Pipeline {
        repo: repo.clone(),
        media_store: store.clone(),
        output_store: store.clone(),
        settings: Arc::new(crate::worker::WorkerSettings {
            lease: Duration::from_secs(60),
            idle_wait: Duration::from_millis(50),
            ..Default::default()
        }),
        webhooks: None,
        runner: Arc::new(TakenOver { repo: repo.clone() }),
    };
    let shutdown = tokio_util::sync::CancellationToken::new();
    let worker = {
        let (p, s) = (pipeline.clone(), shutdown.clone());
        tokio::spawn(async move { p.run_worker("first".into(), s).await })
    };
    // The worker recorded the item and is done with the job once "other" holds it and the
    // item is ready; then it stops at its next loop.
    loop {
        let m = repo.get_media(&media.id).await.unwrap().unwrap();
        if m.status == mediaserver_core::MediaStatus::Ready {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shutdown.cancel();
    worker.await.unwrap();
    assert!(
        store.head(&plan_key).await.is_ok(),
        "the chunk files were deleted under the worker now holding the assemble job"
    );
}
