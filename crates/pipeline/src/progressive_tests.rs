//! The publisher against a recording in-memory store and an in-memory SQLite repo.

use super::*;
use mediaserver_core::{MediaKind, NewOriginal, NewUser};
use mediaserver_storage::{
    ByteStream, ObjectMeta, ObjectWriter, PutResult, Result as StorageResult, StorageError,
};
use std::ops::Range;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

/// Delegates to a memory store, logging successful puts in order (with the text of byte puts);
/// puts of a key ending in `fail_on` fail.
#[derive(Debug)]
struct Recording {
    inner: Arc<dyn Storage>,
    log: Mutex<Vec<(String, String)>>,
    fail_on: Option<&'static str>,
}

impl Recording {
    fn put(&self, key: &ObjectKey) -> StorageResult<()> {
        if self.fail_on.is_some_and(|f| key.as_str().ends_with(f)) {
            return Err(StorageError::unavailable("injected"));
        }
        Ok(())
    }

    /// Keys put so far, in order.
    fn log(&self) -> Vec<String> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// (key, text) of every put so far, in order (empty text for file puts).
    fn texts(&self) -> Vec<(String, String)> {
        self.log.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl Storage for Recording {
    fn bucket(&self) -> &str {
        self.inner.bucket()
    }
    fn provider(&self) -> &'static str {
        "recording"
    }
    async fn writer(&self, key: &ObjectKey) -> StorageResult<Box<dyn ObjectWriter>> {
        self.inner.writer(key).await
    }
    async fn put_file(&self, key: &ObjectKey, path: &Path) -> StorageResult<PutResult> {
        self.put(key)?;
        let r = self.inner.put_file(key, path).await?;
        let entry = (key.as_str().to_string(), String::new());
        self.log.lock().unwrap().push(entry);
        Ok(r)
    }
    async fn put_bytes(&self, key: &ObjectKey, data: Bytes) -> StorageResult<PutResult> {
        self.put(key)?;
        let text = String::from_utf8_lossy(&data).into_owned();
        let r = self.inner.put_bytes(key, data).await?;
        self.log
            .lock()
            .unwrap()
            .push((key.as_str().to_string(), text));
        Ok(r)
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
        self.inner.list(prefix).await
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

struct Setup {
    store: Arc<Recording>,
    repo: DynRepo,
    media_id: mediaserver_core::MediaId,
    publisher: ProgressivePublisher,
    _dir: tempfile::TempDir,
}

const SEGMENTS: &[&str] = &[
    "init-0.m4s",
    "chunk-0-00001.m4s",
    "chunk-0-00002.m4s",
    "init-1.m4s",
    "chunk-1-00001.m4s",
];

async fn setup(fail_on: Option<&'static str>) -> Setup {
    setup_with(fail_on, &[]).await
}

/// With `earlier` (stream file, bytes) published by an earlier attempt.
async fn setup_with(fail_on: Option<&'static str>, earlier: &[(&str, &[u8])]) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let stream = dir.path().join("stream");
    std::fs::create_dir_all(&stream).unwrap();
    for name in SEGMENTS {
        std::fs::write(stream.join(name), name.as_bytes()).unwrap();
    }
    let repo = mediaserver_db::connect("sqlite::memory:").await.unwrap();
    repo.migrate().await.unwrap();
    let user = repo
        .create_user(NewUser {
            email: "me@example.com".into(),
            password_hash: "x".into(),
            role: None,
        })
        .await
        .unwrap();
    let media_id = mediaserver_core::MediaId::new();
    let (media, event) = NewOriginal {
        id: media_id.clone(),
        owner_id: user.id,
        kind: MediaKind::Video,
        content_type: "video/mp4".into(),
        filename: "clip.mp4".into(),
        title: None,
        size: 1,
        sha256: String::new(),
        bucket: "b".into(),
        key: format!("originals/{media_id}/clip.mp4"),
        etag: "e".into(),
        source: mediaserver_core::ObjectSource::Upload,
    }
    .into_records();
    repo.create_media_with_event(&media, &event, 3)
        .await
        .unwrap();

    let store = Arc::new(Recording {
        inner: mediaserver_storage::memory("b", 5 * 1024 * 1024).unwrap(),
        log: Mutex::default(),
        fail_on,
    });
    let mut earlier_sizes = HashMap::new();
    for (name, bytes) in earlier {
        let rel = format!("stream/{name}");
        let key = ObjectKey::new(format!("media/{media_id}/{rel}")).unwrap();
        store
            .inner
            .put_bytes(&key, Bytes::copy_from_slice(bytes))
            .await
            .unwrap();
        earlier_sizes.insert(rel, bytes.len() as u64);
    }
    let (_tx, progress) = watch::channel(0.4);
    let publisher = ProgressivePublisher::start(Target {
        store: store.clone(),
        repo: repo.clone(),
        media_id: media_id.clone(),
        prefix: format!("media/{media_id}/"),
        out_dir: dir.path().to_path_buf(),
        progress,
        earlier: earlier_sizes,
    });
    Setup {
        store,
        repo,
        media_id,
        publisher,
        _dir: dir,
    }
}

fn playlist(segments: &[&str]) -> String {
    let mut text = String::from("#EXTM3U\n#EXT-X-MAP:URI=\"init-0.m4s\"\n");
    for s in segments {
        text.push_str(&format!("#EXTINF:4.0,\n{s}\n"));
    }
    text
}

fn update(files: &[&str], playlists: &[(&str, String)], master: bool) -> PackagingUpdate {
    PackagingUpdate {
        ready_files: files.iter().map(|f| format!("stream/{f}")).collect(),
        playlists: playlists
            .iter()
            .map(|(p, t)| (format!("stream/{p}"), t.clone()))
            .collect(),
        master: master.then(|| "#EXTM3U\nmedia_0.m3u8\nmedia_1.m3u8\n".to_string()),
    }
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn files_then_playlists_then_master_then_playable() {
    let s = setup(None).await;
    let tx = s.publisher.sender().unwrap();
    let store = s.store.clone();
    let media_0 = playlist(&["chunk-0-00001.m4s"]);
    tx.send(update(&SEGMENTS[..2], &[("media_0.m3u8", media_0)], false))
        .await
        .unwrap();
    wait_for("the first playlist", || {
        store.log().iter().any(|k| k.ends_with("media_0.m3u8"))
    })
    .await;
    // Back to back: these two may go out merged. A file reported again is not uploaded again.
    let media_1 = playlist(&["chunk-1-00001.m4s"]).replace("init-0", "init-1");
    tx.send(update(
        &["init-1.m4s", "chunk-1-00001.m4s", "chunk-0-00001.m4s"],
        &[("media_1.m3u8", media_1)],
        true,
    ))
    .await
    .unwrap();
    let media_0 = playlist(&["chunk-0-00001.m4s", "chunk-0-00002.m4s"]);
    tx.send(update(
        &["chunk-0-00002.m4s"],
        &[("media_0.m3u8", media_0)],
        false,
    ))
    .await
    .unwrap();
    wait_for("the last playlist", || {
        store
            .texts()
            .iter()
            .any(|(k, t)| k.ends_with("media_0.m3u8") && t.contains("chunk-0-00002"))
    })
    .await;
    let published = s.publisher.finish().await;
    assert!(published.playable);
    assert_eq!(published.files.len(), SEGMENTS.len());

    let log = s.store.log();
    let at = |name: &str| {
        log.iter()
            .position(|k| k.ends_with(&format!("stream/{name}")))
            .unwrap_or_else(|| panic!("{name} never uploaded: {log:?}"))
    };
    for name in SEGMENTS {
        let n = log
            .iter()
            .filter(|k| k.ends_with(&format!("/{name}")))
            .count();
        assert_eq!(n, 1, "{name} uploaded {n} times");
    }
    // Every playlist version went up after everything it names, the master after them.
    for (i, (key, text)) in s.store.texts().iter().enumerate() {
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert!(at(line) < i, "{key} before {line}: {log:?}");
        }
    }
    assert!(at("master.m3u8") > at("media_1.m3u8"));
    let media = s.repo.get_media(&s.media_id).await.unwrap().unwrap();
    assert!(media.playable);
    assert_eq!(media.progress, 38);
}

#[tokio::test]
async fn an_upload_error_stops_before_anything_names_the_missing_file() {
    let s = setup(Some("chunk-1-00001.m4s")).await;
    let tx = s.publisher.sender().unwrap();
    let store = s.store.clone();
    let media_0 = playlist(&["chunk-0-00001.m4s"]);
    tx.send(update(&SEGMENTS[..2], &[("media_0.m3u8", media_0)], false))
        .await
        .unwrap();
    wait_for("the first playlist", || {
        store.log().iter().any(|k| k.ends_with("media_0.m3u8"))
    })
    .await;
    let media_1 = playlist(&["chunk-1-00001.m4s"]).replace("init-0", "init-1");
    tx.send(update(
        &["init-1.m4s", "chunk-1-00001.m4s"],
        &[("media_1.m3u8", media_1)],
        true,
    ))
    .await
    .unwrap();
    // The publisher gives up (dropping its receiver) at the failed upload.
    wait_for("the publisher to stop", || tx.is_closed()).await;
    let published = s.publisher.finish().await;
    assert!(!published.playable);
    let log = s.store.log();
    assert!(log.iter().any(|k| k.ends_with("media_0.m3u8")), "{log:?}");
    assert!(
        !log.iter()
            .any(|k| k.ends_with("media_1.m3u8") || k.ends_with("master.m3u8")),
        "{log:?}"
    );
    assert!(published.files.contains_key("stream/init-1.m4s"));
    assert!(!published.files.contains_key("stream/chunk-1-00001.m4s"));
    let media = s.repo.get_media(&s.media_id).await.unwrap().unwrap();
    assert!(!media.playable);
}

#[tokio::test]
async fn dropping_the_publisher_stops_it() {
    let s = setup(None).await;
    let tx = s.publisher.sender().unwrap();
    drop(s.publisher);
    wait_for("the receiver to go", || tx.is_closed()).await;
    assert!(tx.try_send(PackagingUpdate::default()).is_err());
}

#[tokio::test]
async fn an_earlier_attempts_segments_are_kept_only_behind_an_identical_init_segment() {
    // Stream 0's init is ours byte for byte: its published segment stays, whatever its bytes
    // (x264 is not bit-exact between runs). Stream 1's init differs: all of it is replaced.
    let s = setup_with(
        None,
        &[
            ("init-0.m4s", b"init-0.m4s"),
            ("chunk-0-00001.m4s", b"earlier encode"),
            ("init-1.m4s", b"other settings"),
            ("chunk-1-00001.m4s", b"earlier encode"),
        ],
    )
    .await;
    let tx = s.publisher.sender().unwrap();
    let media_0 = playlist(&["chunk-0-00001.m4s", "chunk-0-00002.m4s"]);
    let media_1 = playlist(&["chunk-1-00001.m4s"]).replace("init-0", "init-1");
    tx.send(update(
        SEGMENTS,
        &[("media_0.m3u8", media_0), ("media_1.m3u8", media_1)],
        true,
    ))
    .await
    .unwrap();
    let store = s.store.clone();
    wait_for("the master", || {
        store.log().iter().any(|k| k.ends_with("master.m3u8"))
    })
    .await;
    let published = s.publisher.finish().await;
    assert_eq!(published.kept, 2);
    assert_eq!(published.files.len(), SEGMENTS.len());
    assert_eq!(published.files["stream/chunk-0-00001.m4s"], 17);
    let log = s.store.log();
    let put = |name: &str| log.iter().any(|k| k.ends_with(&format!("/stream/{name}")));
    assert!(!put("init-0.m4s") && !put("chunk-0-00001.m4s"), "{log:?}");
    assert!(put("chunk-0-00002.m4s") && put("init-1.m4s") && put("chunk-1-00001.m4s"));
    let read = |name: &str| {
        let store = s.store.clone();
        let key = ObjectKey::new(format!("media/{}/stream/{name}", s.media_id)).unwrap();
        async move { store.read_at(&key, 0..14).await.unwrap() }
    };
    assert_eq!(&read("chunk-0-00001.m4s").await[..], b"earlier encode");
    assert_eq!(&read("chunk-1-00001.m4s").await[..], b"chunk-1-00001.");
}
