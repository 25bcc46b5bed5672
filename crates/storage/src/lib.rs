//! Object storage behind one trait, [`Storage`]. Knows nothing of HTTP or the database.
//!
//! Providers, one module each:
//! - [`local()`] (`local/`): a directory per bucket;
//! - [`s3()`] (`s3.rs`): any S3-compatible endpoint, including OCI's S3 compatibility API;
//! - [`gcs()`] (`gcs/`): Google Cloud Storage (or an emulator), writes over its JSON API;
//! - `memory()` (`memory.rs`, feature `memory`): an in-process bucket for tests;
//! - `oci_bucket()` (`oci/`, feature `oci`): OCI's native Object Storage API, signed by
//!   `mediaserver-oci`.
//!
//! The first four run on `object_store` through one implementation (`objstore/`). Every
//! provider writes through the one multipart writer (`writer.rs`) and keeps resumable uploads
//! in the same way (`resumable.rs`); a provider only supplies its part operations.

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

mod aws_sign;
mod error;
mod gcs;
mod key;
mod local;
#[cfg(feature = "memory")]
mod memory;
mod objstore;
#[cfg(feature = "oci")]
mod oci;
pub mod resumable;
mod s3;
mod s3_uploads;
mod writer;

pub use aws_sign::{aws_signer, AwsSigner};
pub use error::{Result, StorageError};
pub use gcs::{gcs, GcsOptions};
pub use key::ObjectKey;
pub use local::local;
#[cfg(feature = "memory")]
pub use memory::memory;
#[cfg(feature = "oci")]
pub use oci::{oci_bucket, OciBucketOptions, MIN_OCI_PART_SIZE};
pub use resumable::{AppendOutcome, ResumableState};
pub use s3::{s3, S3Options, MIN_S3_PART_SIZE};

/// Default multipart part size (and single-PUT threshold).
pub const DEFAULT_PART_SIZE: usize = 8 * 1024 * 1024;

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

/// A multipart upload the provider holds open (started, neither completed nor aborted): its
/// parts are stored, and billed, though no object shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenUpload {
    pub key: String,
    pub upload_id: String,
    pub initiated: chrono::DateTime<chrono::Utc>,
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

/// Presigned URLs live at most this long (S3's cap; OCI PARs follow it).
const MAX_PRESIGN_EXPIRY: Duration = Duration::from_secs(7 * 24 * 3600);

pub(crate) fn check_presign_expiry(expires: Duration) -> Result<()> {
    if expires.is_zero() || expires > MAX_PRESIGN_EXPIRY {
        return Err(StorageError::other(format!(
            "presign expiry must be between 1s and 7 days, got {expires:?}"
        )));
    }
    Ok(())
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
        writer::write_all(w, stream).await
    }
    /// Writes a local file without reading it into memory.
    async fn put_file(&self, key: &ObjectKey, path: &Path) -> Result<PutResult>;
    async fn put_bytes(&self, key: &ObjectKey, data: Bytes) -> Result<PutResult> {
        let w = self.writer(key).await?;
        writer::write_all(w, Box::pin(futures::stream::once(async { Ok(data) }))).await
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

    /// The object's file on this machine, where the provider keeps objects as files (`local`):
    /// a reader on the same filesystem may link it instead of copying it. `None` elsewhere, or
    /// when there is no such object.
    async fn local_file(&self, _key: &ObjectKey) -> Result<Option<std::path::PathBuf>> {
        Ok(None)
    }

    /// Cheap reachability check for readiness probes.
    async fn check(&self) -> Result<()>;

    /// Aborts again the multipart uploads of this process's writers whose abort failed (the
    /// provider was down when the write failed), so their parts do not stay stored. Those that
    /// fail again are kept for the next call. Returns how many were aborted.
    async fn retry_failed_aborts(&self) -> Result<usize> {
        Ok(0)
    }

    /// Every multipart upload the provider holds open in this bucket, whoever started it (a
    /// process that died mid-write leaves its uploads here, where [`Self::retry_failed_aborts`]
    /// cannot see them). Local lists the staging files a dead writer left (`{key}#{n}`,
    /// hidden from [`Self::list`]); Memory has none.
    async fn list_open_uploads(&self) -> Result<Vec<OpenUpload>> {
        Ok(Vec::new())
    }

    /// Aborts one upload [`Self::list_open_uploads`] returned; one already gone succeeds.
    async fn abort_open_upload(&self, _upload: &OpenUpload) -> Result<()> {
        Ok(())
    }

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
