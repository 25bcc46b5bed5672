//! Object storage behind one trait. Providers: `Local` (a directory per bucket), `AWSBucket`
//! (any S3-compatible endpoint, including OCI's S3 compatibility API) and `Memory` (tests), built
//! on `object_store`; `OCIBucket` (OCI's native API, feature `oci`) on `mediaserver-oci`. Knows
//! nothing of HTTP or the database.

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

mod error;
mod key;
mod local_append;
mod local_read;
mod objstore;
#[cfg(feature = "oci")]
mod oci;
#[cfg(feature = "oci")]
mod oci_writer;
pub mod resumable;
mod s3;
mod writer;

pub use key::ObjectKey;
#[cfg(feature = "oci")]
pub use oci::{oci_bucket, OciBucketOptions, MIN_OCI_PART_SIZE};
pub use resumable::{AppendOutcome, ResumableState};
pub use s3::{s3, S3Options, MIN_S3_PART_SIZE};

/// Default multipart part size (and single-PUT threshold).
pub const DEFAULT_PART_SIZE: usize = 8 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("object not found: {0}")]
    NotFound(String),
    #[error("invalid object key: {0}")]
    InvalidKey(String),
    #[error("range {start}-{end} is outside the object (size {size})")]
    RangeNotSatisfiable { start: u64, end: u64, size: u64 },
    /// The data source handed to a write failed (client disconnect, size limit...). Carries the
    /// source's own error so callers can recognise what they raised.
    #[error("upload source failed: {0}")]
    Source(#[source] std::io::Error),
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("not supported by this storage provider: {0}")]
    NotSupported(&'static str),
    #[error("storage error: {0}")]
    Other(String),
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    pub key: String,
    pub size: u64,
    pub etag: Option<String>,
    pub last_modified: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutResult {
    pub size: u64,
    pub etag: Option<String>,
}

/// A stream of object bytes.
pub type ByteStream = BoxStream<'static, Result<Bytes>>;

/// A stream of bytes to write; an `Err` aborts the write and is returned as [`StorageError::Source`].
pub type SourceStream<'a> = BoxStream<'a, std::io::Result<Bytes>>;

/// An object being written in pieces. Memory stays bounded by a few parts whatever the total size:
/// small objects are buffered and written with one PUT, larger ones go multipart.
/// Dropping a writer without `finish` leaves nothing visible; call `abort` to also release any
/// multipart upload on the provider promptly.
#[async_trait]
pub trait ObjectWriter: Send {
    async fn write(&mut self, chunk: Bytes) -> Result<()>;
    async fn finish(self: Box<Self>) -> Result<PutResult>;
    async fn abort(self: Box<Self>) -> Result<()>;
}

/// Feeds `stream` into `w` and finishes it; a source or write error aborts the writer.
pub(crate) async fn write_all(
    mut w: Box<dyn ObjectWriter>,
    mut stream: SourceStream<'_>,
) -> Result<PutResult> {
    use futures::StreamExt;
    while let Some(chunk) = stream.next().await {
        let res = match chunk {
            Ok(c) => w.write(c).await,
            Err(e) => Err(StorageError::Source(e)),
        };
        if let Err(e) = res {
            let _ = w.abort().await;
            return Err(e);
        }
    }
    w.finish().await
}

/// Presigned URLs live at most this long (S3's cap; OCI PARs follow it).
const MAX_PRESIGN_EXPIRY: Duration = Duration::from_secs(7 * 24 * 3600);
/// Multipart providers allow 10,000 parts; a margin keeps large files clear of it.
const MAX_PARTS: u64 = 9_000;

pub(crate) fn check_presign_expiry(expires: Duration) -> Result<()> {
    if expires.is_zero() || expires > MAX_PRESIGN_EXPIRY {
        return Err(StorageError::Other(format!(
            "presign expiry must be between 1s and 7 days, got {expires:?}"
        )));
    }
    Ok(())
}

/// The part size for a file of `len` bytes: `part_size`, grown for very large files so the
/// upload stays under the provider's part limit.
pub(crate) fn file_part_size(len: u64, part_size: usize) -> usize {
    usize::try_from(len.div_ceil(MAX_PARTS))
        .unwrap_or(usize::MAX)
        .max(part_size)
}

pub(crate) fn not_satisfiable(range: &Range<u64>, size: u64) -> StorageError {
    StorageError::RangeNotSatisfiable {
        start: range.start,
        end: range.end,
        size,
    }
}

/// One bucket of one provider.
#[async_trait]
pub trait Storage: Send + Sync + std::fmt::Debug {
    /// Bucket name (for event matching and logs).
    fn bucket(&self) -> &str;
    /// Provider name for logs and metrics, e.g. "local", "s3", "memory", "oci".
    fn provider(&self) -> &'static str;

    /// Starts writing `key`; see [`ObjectWriter`].
    async fn writer(&self, key: &ObjectKey) -> Result<Box<dyn ObjectWriter>>;
    /// Writes a whole stream (multipart above the part size), aborting on a source error.
    async fn put_stream(&self, key: &ObjectKey, stream: SourceStream<'_>) -> Result<PutResult> {
        let w = self.writer(key).await?;
        write_all(w, stream).await
    }
    /// Writes a local file without reading it into memory.
    async fn put_file(&self, key: &ObjectKey, path: &Path) -> Result<PutResult>;
    async fn put_bytes(&self, key: &ObjectKey, data: Bytes) -> Result<PutResult> {
        let w = self.writer(key).await?;
        write_all(w, Box::pin(futures::stream::once(async { Ok(data) }))).await
    }

    async fn head(&self, key: &ObjectKey) -> Result<ObjectMeta>;
    async fn get_stream(&self, key: &ObjectKey) -> Result<(ObjectMeta, ByteStream)>;
    /// Streams the byte range `range` (end exclusive). A range starting at or past the end of the
    /// object is [`StorageError::RangeNotSatisfiable`]; an end past the object is clamped.
    async fn get_range_stream(
        &self,
        key: &ObjectKey,
        range: Range<u64>,
    ) -> Result<(ObjectMeta, ByteStream)>;
    /// Reads the byte range `range` into memory (for small reads).
    async fn read_at(&self, key: &ObjectKey, range: Range<u64>) -> Result<Bytes>;

    /// Every object under `prefix` (all pages).
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>>;
    /// Deletes one object; deleting a missing object succeeds.
    async fn delete(&self, key: &ObjectKey) -> Result<()>;
    /// Deletes every object under `prefix` (any count, batched); returns how many were deleted.
    async fn delete_prefix(&self, prefix: &str) -> Result<u64>;

    /// A URL a client can PUT to without credentials, where the provider has one.
    async fn presign_put(&self, key: &ObjectKey, expires: Duration) -> Result<url::Url>;
    /// A URL a client can GET from without credentials, where the provider has one.
    async fn presign_get(&self, key: &ObjectKey, expires: Duration) -> Result<url::Url>;

    /// Cheap reachability check for readiness probes.
    async fn check(&self) -> Result<()>;

    /// Starts a resumable upload of `key` (see [`resumable`]). Nothing is visible at `key`
    /// until [`Storage::resumable_finish`].
    async fn resumable_start(&self, _key: &ObjectKey) -> Result<ResumableState> {
        Err(StorageError::NotSupported("resumable uploads"))
    }
    /// Stores `data` after `state.offset`. The returned state is only valid once the caller
    /// has recorded it; until then `state` remains valid (a rejected append costs nothing).
    async fn resumable_append(
        &self,
        _key: &ObjectKey,
        _state: &ResumableState,
        _data: SourceStream<'_>,
    ) -> Result<AppendOutcome> {
        Err(StorageError::NotSupported("resumable uploads"))
    }
    /// Removes what `old` used and `new` (its recorded successor) does not.
    async fn resumable_release(
        &self,
        _key: &ObjectKey,
        _old: &ResumableState,
        _new: &ResumableState,
    ) -> Result<()> {
        Ok(())
    }
    /// Makes the uploaded bytes the object at `key`.
    async fn resumable_finish(
        &self,
        _key: &ObjectKey,
        _state: &ResumableState,
    ) -> Result<PutResult> {
        Err(StorageError::NotSupported("resumable uploads"))
    }
    /// Discards an unfinished upload (the provider's multipart upload included).
    async fn resumable_abort(&self, _key: &ObjectKey, _state: &ResumableState) -> Result<()> {
        Err(StorageError::NotSupported("resumable uploads"))
    }
}

/// A bucket name becomes a directory (Local) or a host label / path segment (S3): one plain
/// segment only.
fn validate_bucket(bucket: &str) -> Result<()> {
    ObjectKey::new(bucket)?;
    if bucket.contains('/') {
        return Err(StorageError::InvalidKey(format!(
            "bucket name contains '/': {bucket:?}"
        )));
    }
    Ok(())
}

fn validate_part_size(part_size: usize) -> Result<()> {
    if part_size == 0 {
        return Err(StorageError::Other(
            "part size must be greater than zero".into(),
        ));
    }
    Ok(())
}

/// A bucket stored as the directory `root/bucket` (created if missing).
pub fn local(root: &Path, bucket: &str, part_size: usize) -> Result<Arc<dyn Storage>> {
    validate_bucket(bucket)?;
    validate_part_size(part_size)?;
    let dir = root.join(bucket);
    let io_err =
        |e: std::io::Error| StorageError::Other(format!("local storage at {}: {e}", dir.display()));
    std::fs::create_dir_all(&dir).map_err(io_err)?;
    let dir = std::fs::canonicalize(&dir).map_err(io_err)?;
    let store = object_store::local::LocalFileSystem::new_with_prefix(&dir)
        .map_err(|e| StorageError::Other(e.to_string()))?
        // Remove directories emptied by deletes so deleted media leaves no trace.
        .with_automatic_cleanup(true);
    let store = Arc::new(store);
    Ok(Arc::new(objstore::ObjectStoreStorage {
        store: store.clone(),
        provider: objstore::Provider::Local {
            root: dir,
            fs: store,
        },
        bucket: bucket.to_string(),
        part_size,
        redactor: error::Redactor::default(),
    }))
}

/// An in-process bucket for tests; contents vanish with the last reference.
pub fn memory(bucket: &str, part_size: usize) -> Result<Arc<dyn Storage>> {
    validate_bucket(bucket)?;
    validate_part_size(part_size)?;
    let mem = Arc::new(object_store::memory::InMemory::new());
    Ok(Arc::new(objstore::ObjectStoreStorage {
        store: mem.clone(),
        provider: objstore::Provider::Memory { mem },
        bucket: bucket.to_string(),
        part_size,
        redactor: error::Redactor::default(),
    }))
}
