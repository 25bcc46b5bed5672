//! One behavioural suite run against every provider: Local (temp dir), Memory, real S3 (moto
//! at `MEDIASERVER_TEST_S3_ENDPOINT`; the S3 variants fail if it is unset), GCPBucket (the
//! fake-gcs-server emulator at `MEDIASERVER_TEST_GCS_ENDPOINT`, signed with a service-account
//! key so that signed URLs are exercised; likewise required) and OCIBucket against
//! the in-process Object Storage stand-in, which verifies every request's signature (and small
//! list pages, so pagination is exercised). The OCIBucket cases need the `oci` feature.

// A panic is how a test reports failure; the workspace's unwrap/expect lints are for code that ships.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bytes::Bytes;
use common::*;
use futures::{StreamExt, TryStreamExt};
#[cfg(feature = "oci")]
use mediaserver_oci_standin::Standin;
use mediaserver_storage::{ObjectKey, Storage, StorageError, MIN_S3_PART_SIZE};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Local,
    Memory,
    S3,
    Gcs,
    #[cfg(feature = "oci")]
    Oci,
}

impl Kind {
    /// Providers with presigned URLs (S3's, OCI's pre-authenticated requests).
    fn presigns(self) -> bool {
        match self {
            Kind::S3 | Kind::Gcs => true,
            #[cfg(feature = "oci")]
            Kind::Oci => true,
            Kind::Local | Kind::Memory => false,
        }
    }
}

struct Fixture {
    s: Arc<dyn Storage>,
    kind: Kind,
    /// S3 endpoint and bucket, for out-of-band checks.
    s3: Option<(String, String)>,
    /// GCS emulator endpoint and bucket, for out-of-band checks.
    gcs: Option<(String, String)>,
    /// The OCI stand-in and bucket, for out-of-band checks.
    #[cfg(feature = "oci")]
    oci: Option<OciStandin>,
    _dir: Option<tempfile::TempDir>,
}

#[cfg(feature = "oci")]
struct OciStandin {
    standin: Standin,
    bucket: String,
}

#[cfg(feature = "oci")]
impl Drop for OciStandin {
    /// Every request the provider made must have passed the stand-in's signature checks.
    fn drop(&mut self) {
        let rejected = self.standin.object_storage().rejections();
        if !std::thread::panicking() {
            assert!(rejected.is_empty(), "requests refused: {rejected:?}");
        }
    }
}

impl Fixture {
    /// Multipart uploads still open in the bucket, on the providers that have them (S3 and
    /// OCI); 0 elsewhere.
    async fn open_uploads(&self) -> usize {
        if let Some((endpoint, bucket)) = &self.s3 {
            return open_multipart_uploads(endpoint, bucket).await;
        }
        if let Some((endpoint, bucket)) = &self.gcs {
            return gcs_open_uploads(endpoint, bucket).await;
        }
        #[cfg(feature = "oci")]
        if let Some(o) = &self.oci {
            return o.standin.object_storage().open_uploads(&o.bucket);
        }
        0
    }
}

#[cfg(feature = "oci")]
const OCI_TENANCY: &str = "ocid1.tenancy.oc1..aaaaconformance";
#[cfg(feature = "oci")]
const OCI_USER: &str = "ocid1.user.oc1..aaaaconformance";

/// An OCIBucket signed with a freshly generated API key the stand-in knows.
#[cfg(feature = "oci")]
async fn oci_fixture(part: usize) -> (Arc<dyn Storage>, OciStandin) {
    use mediaserver_oci::auth::ApiKeyProvider;
    use mediaserver_oci::{Endpoints, OciClient, PrivateKey, Region};
    let standin = Standin::start(OCI_TENANCY, "us-ashburn-1")
        .await
        .expect("stand-in");
    let bucket = "conformance".to_string();
    standin.object_storage().create_bucket(&bucket);
    // Small pages: listings and prefix deletes must follow nextStartWith.
    standin.object_storage().set_list_page_size(100);
    let key = PrivateKey::generate().expect("key");
    standin.keys().insert_api_key(OCI_TENANCY, OCI_USER, &key);
    let region = Region::lookup("us-ashburn-1").expect("region");
    let endpoints = Endpoints::resolve(&region, &standin.overrides()).expect("endpoints");
    let auth = ApiKeyProvider::new(OCI_TENANCY, OCI_USER, key, Some(region));
    let client = OciClient::new(reqwest::Client::new(), Arc::new(auth), region, endpoints);
    let s = mediaserver_storage::oci_bucket(
        client,
        mediaserver_storage::OciBucketOptions {
            // Looked up through GetNamespace.
            namespace: None,
            bucket: bucket.clone(),
            part_size: part,
        },
    )
    .await
    .expect("oci bucket");
    (s, OciStandin { standin, bucket })
}

/// The smallest part size each provider accepts, so multipart paths are exercised cheaply.
fn small_part(kind: Kind) -> usize {
    match kind {
        Kind::S3 | Kind::Gcs => MIN_S3_PART_SIZE,
        #[cfg(feature = "oci")]
        Kind::Oci => mediaserver_storage::MIN_OCI_PART_SIZE,
        _ => MIB,
    }
}

async fn fixture(kind: Kind) -> Fixture {
    let part = small_part(kind);
    match kind {
        Kind::Local => {
            let dir = tempfile::tempdir().expect("tempdir");
            let s = mediaserver_storage::local(dir.path(), "bucket", part).expect("local");
            Fixture {
                s,
                kind,
                s3: None,
                gcs: None,
                #[cfg(feature = "oci")]
                oci: None,
                _dir: Some(dir),
            }
        }
        Kind::Memory => Fixture {
            s: mediaserver_storage::memory("bucket", part).expect("memory"),
            kind,
            s3: None,
            gcs: None,
            #[cfg(feature = "oci")]
            oci: None,
            _dir: None,
        },
        Kind::S3 => {
            let endpoint = s3_endpoint();
            let bucket = unique_bucket();
            create_bucket(&endpoint, &bucket).await;
            let s = mediaserver_storage::s3(s3_options(&endpoint, &bucket, part)).expect("s3");
            Fixture {
                s,
                kind,
                s3: Some((endpoint, bucket)),
                gcs: None,
                #[cfg(feature = "oci")]
                oci: None,
                _dir: None,
            }
        }
        Kind::Gcs => {
            let endpoint = gcs_endpoint();
            let bucket = unique_bucket();
            create_gcs_bucket(&endpoint, &bucket).await;
            let s = mediaserver_storage::gcs(mediaserver_storage::GcsOptions {
                bucket: bucket.clone(),
                endpoint: Some(endpoint.clone()),
                service_account_key: Some(service_account_key().0),
                part_size: part,
                max_retries: 2,
                retry_timeout: Duration::from_secs(30),
                ..Default::default()
            })
            .expect("gcs");
            Fixture {
                s,
                kind,
                s3: None,
                gcs: Some((endpoint, bucket)),
                #[cfg(feature = "oci")]
                oci: None,
                _dir: None,
            }
        }
        #[cfg(feature = "oci")]
        Kind::Oci => {
            let (s, oci) = oci_fixture(part).await;
            Fixture {
                s,
                kind,
                s3: None,
                gcs: None,
                oci: Some(oci),
                _dir: None,
            }
        }
    }
}

fn key(k: &str) -> ObjectKey {
    ObjectKey::new(k).expect("valid key")
}

fn assert_not_found<T: std::fmt::Debug>(r: Result<T, StorageError>, k: &str) {
    match r {
        Err(StorageError::NotFound(got)) => assert_eq!(got, k),
        other => panic!("expected NotFound({k}), got {other:?}"),
    }
}

fn assert_range_error<T: std::fmt::Debug>(
    r: Result<T, StorageError>,
    start: u64,
    end: u64,
    size: u64,
) {
    match r {
        Err(StorageError::RangeNotSatisfiable {
            start: s,
            end: e,
            size: z,
        }) => assert_eq!((s, e, z), (start, end, size)),
        other => panic!("expected RangeNotSatisfiable({start}-{end}/{size}), got {other:?}"),
    }
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod local { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(super::fixture(super::Kind::Local).await).await } )* }
        mod memory { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(super::fixture(super::Kind::Memory).await).await } )* }
        mod s3 { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(super::fixture(super::Kind::S3).await).await } )* }
        mod gcs { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(super::fixture(super::Kind::Gcs).await).await } )* }
        #[cfg(feature = "oci")]
        mod oci { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(super::fixture(super::Kind::Oci).await).await } )* }
    };
}

conformance!(
    zero_byte_object,
    large_object_multipart,
    put_file_round_trip,
    read_at_bounds,
    range_stream,
    head_size_and_etag,
    prefix_delete_many,
    missing_object_is_not_found,
    local_file_only_where_objects_are_files,
    unusual_keys_round_trip,
    rejected_keys,
    source_error_aborts,
    presign,
    check_ok,
    resumable_across_appends,
    resumable_rejected_append_keeps_old_state,
    resumable_abort_leaves_nothing,
    open_uploads_of_a_dead_writer_are_listed_and_aborted,
);

async fn zero_byte_object(f: Fixture) {
    let k = key("empty/zero.bin");
    let put = f.s.put_bytes(&k, Bytes::new()).await.expect("put");
    assert_eq!(put.size, 0);
    assert_eq!(f.s.head(&k).await.expect("head").size, 0);
    let (meta, stream) = f.s.get_stream(&k).await.expect("get");
    assert_eq!(meta.size, 0);
    assert!(collect(stream).await.is_empty());
    assert_range_error(f.s.read_at(&k, 0..1).await, 0, 1, 0);
    assert_range_error(
        f.s.get_range_stream(&k, 0..10).await.map(|(m, _)| m),
        0,
        10,
        0,
    );
    // A writer that never saw a byte also produces an empty object.
    let k2 = key("empty/writer.bin");
    let w = f.s.writer(&k2).await.expect("writer");
    assert_eq!(w.finish().await.expect("finish").size, 0);
    let listed: Vec<_> =
        f.s.list("empty")
            .await
            .expect("list")
            .into_iter()
            .map(|m| (m.key, m.size))
            .collect();
    assert_eq!(listed.len(), 2, "{listed:?}");
}

async fn large_object_multipart(f: Fixture) {
    let data = random_bytes(20 * MIB, 1);
    let k = key("big/object.bin");
    let put =
        f.s.put_stream(&k, chunked(data.clone(), 256 * 1024).boxed())
            .await
            .expect("put_stream");
    assert_eq!(put.size, data.len() as u64);
    let meta = f.s.head(&k).await.expect("head");
    assert_eq!(meta.size, data.len() as u64);
    if f.kind == Kind::S3 {
        // S3 multipart ETags end in "-<parts>": proves the multipart path produced the object.
        let etag = meta.etag.clone().expect("etag");
        assert!(
            etag.trim_matches('"').ends_with("-4"),
            "expected a 4-part multipart etag, got {etag}"
        );
    }
    #[cfg(feature = "oci")]
    if let Some(o) = &f.oci {
        // 20 MiB in 10 MiB parts: the multipart path produced the object.
        let parts = o
            .standin
            .object_storage()
            .object_part_count(&o.bucket, k.as_str());
        assert_eq!(parts, Some(2));
    }
    let (meta2, stream) = f.s.get_stream(&k).await.expect("get");
    assert_eq!(meta2.size, data.len() as u64);
    assert_eq!(
        hash_stream(stream).await,
        (data.len() as u64, sha256(&data))
    );
    // One chunk far larger than a part goes through the same bounded path.
    let k2 = key("big/one-chunk.bin");
    f.s.put_bytes(&k2, data.clone()).await.expect("put_bytes");
    let (_, stream) = f.s.get_stream(&k2).await.expect("get");
    assert_eq!(hash_stream(stream).await.1, sha256(&data));
}

async fn put_file_round_trip(f: Fixture) {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, len) in [
        ("small.bin", 1000usize),
        ("large.bin", 2 * small_part(f.kind) + 12345),
    ] {
        let data = random_bytes(len, len as u64);
        let file = dir.path().join(name);
        std::fs::write(&file, &data).expect("write file");
        let k = key(&format!("files/{name}"));
        let put = f.s.put_file(&k, &file).await.expect("put_file");
        assert_eq!(put.size, len as u64);
        let (_, stream) = f.s.get_stream(&k).await.expect("get");
        assert_eq!(hash_stream(stream).await, (len as u64, sha256(&data)));
    }
    let missing =
        f.s.put_file(&key("files/missing"), &dir.path().join("nope"))
            .await;
    assert!(
        matches!(missing, Err(StorageError::Source(_))),
        "{missing:?}"
    );
}

async fn read_at_bounds(f: Fixture) {
    let data = random_bytes(1000, 2);
    let k = key("ranges/obj.bin");
    f.s.put_bytes(&k, data.clone()).await.expect("put");
    assert_eq!(
        f.s.read_at(&k, 0..1).await.expect("first"),
        data.slice(0..1)
    );
    assert_eq!(
        f.s.read_at(&k, 999..1000).await.expect("last"),
        data.slice(999..1000)
    );
    assert_eq!(
        f.s.read_at(&k, 100..300).await.expect("middle"),
        data.slice(100..300)
    );
    assert_eq!(
        f.s.read_at(&k, 990..5000).await.expect("clamped"),
        data.slice(990..1000)
    );
    assert!(f
        .s
        .read_at(&k, 10..10)
        .await
        .expect("empty range")
        .is_empty());
    assert_range_error(f.s.read_at(&k, 1000..1001).await, 1000, 1001, 1000);
    assert_range_error(f.s.read_at(&k, 5000..6000).await, 5000, 6000, 1000);
    assert_range_error(f.s.read_at(&k, 1000..1000).await, 1000, 1000, 1000);
}

async fn range_stream(f: Fixture) {
    let data = random_bytes(3 * MIB + 17, 3);
    let k = key("ranges/stream.bin");
    f.s.put_bytes(&k, data.clone()).await.expect("put");
    let (meta, stream) = f.s.get_range_stream(&k, 100..200).await.expect("range");
    assert_eq!(
        meta.size,
        data.len() as u64,
        "meta describes the whole object"
    );
    assert_eq!(collect(stream).await, data.slice(100..200));
    let start = (MIB + 5) as u64;
    let (_, stream) =
        f.s.get_range_stream(&k, start..u64::MAX)
            .await
            .expect("open-ended");
    assert_eq!(hash_stream(stream).await.1, sha256(&data[start as usize..]));
    let size = data.len() as u64;
    assert_range_error(
        f.s.get_range_stream(&k, size..size + 1)
            .await
            .map(|(m, _)| m),
        size,
        size + 1,
        size,
    );
}

async fn head_size_and_etag(f: Fixture) {
    let k = key("meta/obj.txt");
    let put =
        f.s.put_bytes(&k, Bytes::from_static(b"hello world"))
            .await
            .expect("put");
    let meta = f.s.head(&k).await.expect("head");
    assert_eq!(meta.key, "meta/obj.txt");
    assert_eq!(meta.size, 11);
    let etag = meta.etag.clone().expect("head etag");
    if let Some(put_etag) = &put.etag {
        assert_eq!(put_etag, &etag);
    }
    f.s.put_bytes(&k, Bytes::from_static(b"something else"))
        .await
        .expect("overwrite");
    let meta2 = f.s.head(&k).await.expect("head");
    assert_eq!(meta2.size, 14);
    assert_ne!(
        meta2.etag.expect("etag"),
        etag,
        "etag must change with content"
    );
}

async fn prefix_delete_many(f: Fixture) {
    const N: usize = 1500;
    let s = f.s.clone();
    futures::stream::iter(0..N)
        .map(|i| {
            let s = s.clone();
            async move {
                // Some nested, so Local also walks subdirectories.
                let k = if i % 3 == 0 {
                    format!("doomed/sub/{i:05}")
                } else {
                    format!("doomed/{i:05}")
                };
                s.put_bytes(&key(&k), Bytes::from(format!("{i}"))).await
            }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<_>>()
        .await
        .expect("puts");
    let keep = ["doomed-not/a", "doomedx", "keep/doomed/b"];
    for k in keep {
        f.s.put_bytes(&key(k), Bytes::from_static(b"keep"))
            .await
            .expect("put keeper");
    }
    assert_eq!(f.s.list("doomed/").await.expect("list").len(), N);
    let started = Instant::now();
    assert_eq!(
        f.s.delete_prefix("doomed/").await.expect("delete_prefix"),
        N as u64
    );
    eprintln!("{:?}: deleted {N} in {:?}", f.kind, started.elapsed());
    assert!(f.s.list("doomed").await.expect("list").is_empty());
    let left: BTreeSet<_> =
        f.s.list("")
            .await
            .expect("list all")
            .into_iter()
            .map(|m| m.key)
            .collect();
    assert_eq!(left, keep.iter().map(|k| k.to_string()).collect());
    assert_eq!(f.s.delete_prefix("doomed").await.expect("nothing left"), 0);
    assert!(matches!(
        f.s.delete_prefix("").await,
        Err(StorageError::InvalidKey(_))
    ));
    assert!(matches!(
        f.s.delete_prefix("/").await,
        Err(StorageError::InvalidKey(_))
    ));
}

async fn missing_object_is_not_found(f: Fixture) {
    let k = key("nowhere/missing.bin");
    assert_not_found(f.s.head(&k).await, "nowhere/missing.bin");
    assert_not_found(
        f.s.get_stream(&k).await.map(|(m, _)| m),
        "nowhere/missing.bin",
    );
    assert_not_found(f.s.read_at(&k, 0..10).await, "nowhere/missing.bin");
    assert_not_found(
        f.s.get_range_stream(&k, 0..10).await.map(|(m, _)| m),
        "nowhere/missing.bin",
    );
    f.s.delete(&k)
        .await
        .expect("deleting a missing object succeeds");
    assert!(f.s.list("nowhere").await.expect("list").is_empty());
}

/// A local bucket names the object's file (the pipeline links an original instead of copying
/// it), with its bytes; no other provider has one, and no missing object does.
async fn local_file_only_where_objects_are_files(f: Fixture) {
    let k = key("originals/a/clip.mp4");
    f.s.put_bytes(&k, Bytes::from_static(b"the original"))
        .await
        .expect("put");
    let file = f.s.local_file(&k).await.expect("local_file");
    match f.kind {
        Kind::Local => {
            let path = file.expect("a local bucket's object is a file");
            assert_eq!(std::fs::read(path).unwrap(), b"the original");
        }
        _ => assert_eq!(file, None),
    }
    let missing = f.s.local_file(&key("originals/a/missing.mp4")).await;
    assert_eq!(missing.expect("local_file"), None);
}

async fn unusual_keys_round_trip(f: Fixture) {
    let keys = [
        "with space/é ü 日本.mov",
        "a b/c  d.txt",
        "emoji/🎬 clip.mp4",
        "punct/it's (1) & +,;=@!$.txt",
        "pct/100% done.txt",
        "hash/take #2.txt",
    ];
    for (i, k) in keys.iter().enumerate() {
        f.s.put_bytes(&key(k), Bytes::from(format!("{i}")))
            .await
            .unwrap_or_else(|e| panic!("put {k:?}: {e}"));
        assert_eq!(
            f.s.read_at(&key(k), 0..10).await.expect("read"),
            Bytes::from(format!("{i}"))
        );
        assert_eq!(f.s.head(&key(k)).await.expect("head").key, *k);
    }
    // A key below an existing object is simply absent (on disk that is ENOTDIR).
    assert_not_found(f.s.head(&key("a b/c  d.txt/x")).await, "a b/c  d.txt/x");
    assert_not_found(
        f.s.read_at(&key("a b/c  d.txt/x"), 0..1).await,
        "a b/c  d.txt/x",
    );
    let reserved =
        f.s.put_bytes(&key("hash/clip#1"), Bytes::from_static(b"x"))
            .await;
    if f.kind == Kind::Local {
        assert!(
            matches!(reserved, Err(StorageError::InvalidKey(_))),
            "{reserved:?}"
        );
    } else {
        reserved.expect("'#<digits>' names are fine off the local filesystem");
        f.s.delete(&key("hash/clip#1")).await.expect("delete");
    }
    let listed: BTreeSet<_> =
        f.s.list("")
            .await
            .expect("list")
            .into_iter()
            .map(|m| m.key)
            .collect();
    assert_eq!(listed, keys.iter().map(|k| k.to_string()).collect());
    let sub: Vec<_> =
        f.s.list("with space")
            .await
            .expect("list")
            .into_iter()
            .map(|m| m.key)
            .collect();
    assert_eq!(sub, vec![keys[0].to_string()]);
    if f.kind.presigns() {
        let url =
            f.s.presign_get(&key(keys[0]), Duration::from_secs(60))
                .await
                .expect("presign");
        assert_eq!(
            reqwest::get(url)
                .await
                .expect("get")
                .text()
                .await
                .expect("body"),
            "0"
        );
    }
}

async fn rejected_keys(f: Fixture) {
    for bad in [
        "../etc/passwd",
        "a/../b",
        "/abs/path",
        "ctl\u{1}char",
        "new\nline",
        "a//b",
        "back\\slash",
    ] {
        assert!(
            matches!(ObjectKey::new(bad), Err(StorageError::InvalidKey(_))),
            "{bad:?} accepted"
        );
        assert!(
            matches!(f.s.list(bad).await, Err(StorageError::InvalidKey(_))),
            "list({bad:?}) accepted"
        );
        assert!(
            matches!(
                f.s.delete_prefix(bad).await,
                Err(StorageError::InvalidKey(_))
            ),
            "delete_prefix({bad:?})"
        );
    }
}

async fn source_error_aborts(f: Fixture) {
    let part = small_part(f.kind);
    for (name, before_error) in [("small", 1000usize), ("multipart", 2 * part + 1000)] {
        let k = key(&format!("aborted/{name}.bin"));
        let data = random_bytes(before_error, 4);
        let failing = chunked(data, 64 * 1024)
            .chain(futures::stream::iter([Err(std::io::Error::other(
                "client went away",
            ))]))
            .boxed();
        match f.s.put_stream(&k, failing).await {
            Err(StorageError::Source(e)) => assert_eq!(e.to_string(), "client went away"),
            other => panic!("expected Source error, got {other:?}"),
        }
        assert_not_found(f.s.head(&k).await, k.as_str());
    }
    // Explicit abort of a writer that already started a multipart upload.
    let k = key("aborted/writer.bin");
    let mut w = f.s.writer(&k).await.expect("writer");
    w.write(random_bytes(part + 1, 5)).await.expect("write");
    w.abort().await.expect("abort");
    assert_not_found(f.s.head(&k).await, k.as_str());
    assert!(f.s.list("aborted").await.expect("list").is_empty());
    assert_eq!(
        f.open_uploads().await,
        0,
        "aborted uploads must be released"
    );
    if let Some(dir) = &f._dir {
        // Local multipart staging files (`name#N`) are hidden from listings; check the disk.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let files = files_under(&dir.path().join("bucket"));
        assert!(files.is_empty(), "left behind: {files:?}");
    }
}

/// A process that died mid-write leaves its multipart upload open, out of reach of its
/// in-memory abort list: the bucket's listing finds it, and aborting it releases its parts.
async fn open_uploads_of_a_dead_writer_are_listed_and_aborted(f: Fixture) {
    let part = small_part(f.kind);
    let k = key("dead/writer.bin");
    let mut w = f.s.writer(&k).await.expect("writer");
    w.write(random_bytes(part + 1, 6)).await.expect("write");
    // As if the process had died: no abort, not even the one dropping it would start.
    std::mem::forget(w);
    let open = f.s.list_open_uploads().await.expect("list open uploads");
    if f.kind == Kind::Local {
        // The staging file the dead writer left (hidden from listings) is the open upload.
        assert_eq!(open.len(), 1, "{open:?}");
        assert_eq!(open[0].key, "dead/writer.bin");
        f.s.abort_open_upload(&open[0]).await.expect("abort");
        f.s.abort_open_upload(&open[0]).await.expect("abort again");
        assert!(f.s.list_open_uploads().await.unwrap().is_empty());
        let dir = f._dir.as_ref().unwrap().path().join("bucket");
        assert!(files_under(&dir).is_empty(), "{:?}", files_under(&dir));
    } else if f.kind != Kind::Memory {
        assert_eq!(f.open_uploads().await, 1);
        assert_eq!(open.len(), 1, "{open:?}");
        assert_eq!(open[0].key, "dead/writer.bin");
        // (moto reports every upload as started on 2010-11-10, so its age is not checked.)
        f.s.abort_open_upload(&open[0]).await.expect("abort");
        // Aborting one that is gone already is not an error.
        f.s.abort_open_upload(&open[0]).await.expect("abort again");
        assert_eq!(f.open_uploads().await, 0, "the upload is still open");
        assert!(f.s.list_open_uploads().await.unwrap().is_empty());
    } else {
        assert!(open.is_empty(), "{open:?}");
    }
}

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
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

async fn presign(f: Fixture) {
    let k = key("presigned/file name.bin");
    let ttl = Duration::from_secs(300);
    if !f.kind.presigns() {
        assert!(matches!(
            f.s.presign_put(&k, ttl).await,
            Err(StorageError::NotSupported(_))
        ));
        assert!(matches!(
            f.s.presign_get(&k, ttl).await,
            Err(StorageError::NotSupported(_))
        ));
        return;
    }
    let data = random_bytes(70_000, 6);
    let client = reqwest::Client::new();
    let put_url = f.s.presign_put(&k, ttl).await.expect("presign put");
    if f.kind == Kind::S3 {
        assert!(
            put_url.query().unwrap_or("").contains("X-Amz-Signature"),
            "{put_url}"
        );
    } else if f.kind == Kind::Gcs {
        // A V4 signed URL, signed locally with the service-account key.
        let q = put_url.query().unwrap_or("");
        assert!(q.contains("X-Goog-Signature"), "{put_url}");
        assert!(q.contains("X-Goog-Algorithm=GOOG4-RSA-SHA256"), "{put_url}");
    } else {
        // A pre-authenticated request: the token is in the path, no signature needed.
        assert!(put_url.path().starts_with("/p/"), "{put_url}");
        let denied = client.get(put_url.clone()).send().await.expect("get");
        assert_eq!(denied.status(), 404, "a write PAR must not allow reads");
    }
    let resp = client
        .put(put_url)
        .body(data.clone())
        .send()
        .await
        .expect("presigned put");
    assert!(
        resp.status().is_success(),
        "presigned PUT: {}",
        resp.status()
    );
    assert_eq!(f.s.read_at(&k, 0..u64::MAX).await.expect("read back"), data);
    let get_url = f.s.presign_get(&k, ttl).await.expect("presign get");
    let resp = client.get(get_url).send().await.expect("presigned get");
    assert!(
        resp.status().is_success(),
        "presigned GET: {}",
        resp.status()
    );
    assert_eq!(resp.bytes().await.expect("body"), data);
    assert!(
        f.s.presign_get(&k, Duration::from_secs(8 * 24 * 3600))
            .await
            .is_err(),
        "over 7 days"
    );
}

async fn check_ok(f: Fixture) {
    f.s.check().await.expect("check");
    assert!(!format!("{:?}", f.s).contains("testing-secret-key"));
    assert_eq!(
        f.s.provider(),
        match f.kind {
            Kind::Local => "local",
            Kind::Memory => "memory",
            Kind::S3 => "s3",
            Kind::Gcs => "gcs",
            #[cfg(feature = "oci")]
            Kind::Oci => "oci",
        }
    );
}

#[test]
fn gcs_requires_endpoint_variable() {
    assert!(
        std::env::var(GCS_ENDPOINT_VAR).is_ok_and(|v| !v.is_empty()),
        "{GCS_ENDPOINT_VAR} is not set; the GCS conformance tests cannot run"
    );
}

#[test]
fn s3_requires_endpoint_variable() {
    // Guard against the suite silently passing without S3: the variable must be present.
    assert!(
        std::env::var(ENDPOINT_VAR).is_ok_and(|v| !v.is_empty()),
        "{ENDPOINT_VAR} is not set; the S3 conformance tests cannot run"
    );
}

async fn keys_under(f: &Fixture, prefix: &str) -> Vec<String> {
    let list = f.s.list(prefix).await.expect("list");
    list.into_iter().map(|m| m.key).collect()
}

/// Chunk sizes that exercise every path: below the provider's minimum part, exactly one part,
/// and a streamed body spanning several parts; the state goes through JSON between appends, as
/// it does through the database.
async fn resumable_across_appends(f: Fixture) {
    use mediaserver_storage::ResumableState;
    let part = small_part(f.kind).max(MIN_S3_PART_SIZE);
    let data = random_bytes(3 * part + part / 2 + 123, 11);
    let k = key("originals/r1/clip é.mp4");
    let mut state = f.s.resumable_start(&k).await.expect("start");
    let mut pos = 0usize;
    for len in [1000usize, part, 100, part + part / 2, 50_000] {
        let chunk = data.slice(pos..pos + len);
        let out =
            f.s.resumable_append(&k, &state, chunked(chunk, 64 * 1024).boxed())
                .await
                .expect("append");
        assert!(out.source_error.is_none());
        assert_eq!(out.state.offset, (pos + len) as u64);
        f.s.resumable_release(&k, &state, &out.state)
            .await
            .expect("release");
        let json = serde_json::to_string(&out.state).expect("json");
        state = serde_json::from_str::<ResumableState>(&json).expect("from json");
        pos += len;
        assert_not_found(f.s.head(&k).await, k.as_str());
    }
    let rest = data.slice(pos..);
    let out =
        f.s.resumable_append(&k, &state, chunked(rest, 64 * 1024).boxed())
            .await
            .expect("append");
    f.s.resumable_release(&k, &state, &out.state)
        .await
        .expect("release");
    let put = f.s.resumable_finish(&k, &out.state).await.expect("finish");
    assert_eq!(put.size, data.len() as u64);
    let got = f.s.read_at(&k, 0..data.len() as u64).await.expect("read");
    assert!(got == data, "content differs");
    // Nothing but the object itself remains.
    assert_eq!(keys_under(&f, "originals/r1").await, vec![k.to_string()]);
    assert_eq!(f.open_uploads().await, 0);
}

/// A caller that refuses an append (bad checksum) keeps the old state, and the next append
/// from it produces the right object: nothing the old state refers to was changed.
async fn resumable_rejected_append_keeps_old_state(f: Fixture) {
    let good = random_bytes(300_000, 12);
    let bad = random_bytes(300_000, 13);
    let k = key("originals/r2/a.bin");
    let s0 = f.s.resumable_start(&k).await.expect("start");
    let s1 =
        f.s.resumable_append(&k, &s0, chunked(good.slice(..100_000), 10_000).boxed())
            .await
            .expect("a1")
            .state;
    // Rejected: state not recorded.
    let _ =
        f.s.resumable_append(&k, &s1, chunked(bad.clone(), 10_000).boxed())
            .await
            .expect("a2");
    // A broken-off source keeps what arrived.
    let broken = chunked(good.slice(100_000..150_000), 10_000)
        .chain(futures::stream::iter([Err(std::io::Error::other(
            "connection reset",
        ))]))
        .boxed();
    let out = f.s.resumable_append(&k, &s1, broken).await.expect("a3");
    assert_eq!(
        out.source_error.map(|e| e.to_string()).as_deref(),
        Some("connection reset")
    );
    assert_eq!(out.state.offset, 150_000);
    f.s.resumable_release(&k, &s1, &out.state)
        .await
        .expect("release");
    let s3 =
        f.s.resumable_append(
            &k,
            &out.state,
            chunked(good.slice(150_000..), 10_000).boxed(),
        )
        .await
        .expect("a4")
        .state;
    f.s.resumable_release(&k, &out.state, &s3)
        .await
        .expect("release");
    f.s.resumable_finish(&k, &s3).await.expect("finish");
    let got = f.s.read_at(&k, 0..good.len() as u64).await.expect("read");
    assert!(got == good, "content differs");
    // The never-recorded append's pending object went with the finish.
    assert_eq!(keys_under(&f, "originals/r2").await, vec![k.to_string()]);
}

async fn resumable_abort_leaves_nothing(f: Fixture) {
    let part = small_part(f.kind).max(MIN_S3_PART_SIZE);
    let k = key("originals/r3/a.bin");
    let s0 = f.s.resumable_start(&k).await.expect("start");
    let s1 =
        f.s.resumable_append(
            &k,
            &s0,
            chunked(random_bytes(part + 1000, 14), 64 * 1024).boxed(),
        )
        .await
        .expect("append")
        .state;
    // An append whose state was never recorded (a crash before the database write).
    f.s.resumable_append(&k, &s1, chunked(random_bytes(5000, 15), 1000).boxed())
        .await
        .expect("unrecorded append");
    f.s.resumable_abort(&k, &s1).await.expect("abort");
    assert!(f.s.list("originals").await.expect("list").is_empty());
    assert_eq!(f.open_uploads().await, 0, "multipart upload not aborted");
    if let Some(dir) = &f._dir {
        let files = files_under(&dir.path().join("bucket"));
        assert!(files.is_empty(), "left behind: {files:?}");
    }
}
