//! The one [`ObjectWriter`], shared by every provider. Objects up to the part size are buffered
//! and written with one PUT; past it the writer switches to a multipart upload, cutting parts of
//! exactly the part size and keeping at most [`MAX_PARTS_IN_FLIGHT`] uploading at once, so
//! memory stays around (1 + MAX_PARTS_IN_FLIGHT) × part size whatever the object size. Any
//! failure, an explicit abort, or dropping the writer unfinished aborts the multipart upload.
//!
//! A provider only supplies its part operations for one object, a [`PartTarget`]: the
//! `object_store` providers hand over `object_store`'s own multipart upload (`objstore/parts.rs`);
//! a provider whose multipart API is addressed by upload id — the `MultipartParts` that
//! resumable uploads use too — gets its upload from `IdUpload` (OCI).
//!
//! An abort that fails (the provider is down: the very moment aborts are needed) would leave
//! the upload's parts stored and billed for good; the upload is kept instead in its storage's
//! [`PendingAborts`], which [`crate::Storage::retry_failed_aborts`] (the upload sweeper) retries
//! until the provider accepts it. The list lives in memory: what a process that exits first
//! leaves is found in the bucket itself ([`crate::Storage::list_open_uploads`], which ingest's
//! sweeper and `mediaserver reconcile` use).

use crate::error::Chain;
use crate::resumable::{MultipartParts, PartRecord};
use crate::{ObjectKey, ObjectWriter, PutResult, Result, SourceStream, StorageError};
use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures::future::BoxFuture;
use futures::StreamExt;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::task::JoinSet;

/// Part uploads allowed to run concurrently.
const MAX_PARTS_IN_FLIGHT: usize = 2;
/// Multipart providers allow 10,000 parts; a margin keeps large files clear of it.
const MAX_PARTS: u64 = 9_000;
/// Read size of [`put_file`]: large enough to keep syscalls rare, small enough not to matter.
const FILE_READ_CHUNK: usize = 8 * 1024 * 1024;

/// Where a writer puts one object.
#[async_trait]
pub(crate) trait PartTarget: Send + Sync {
    /// Writes the whole object with one request; returns its ETag.
    async fn put(&self, data: Bytes) -> Result<Option<String>>;
    /// Starts a multipart upload of the object.
    async fn start(&self) -> Result<Box<dyn PartUpload>>;
}

/// A multipart upload in progress.
#[async_trait]
pub(crate) trait PartUpload: Send + 'static {
    /// Starts uploading the next part (parts are numbered in call order). The returned future
    /// does the work; later parts may start before it completes.
    fn put_part(&mut self, data: Bytes) -> BoxFuture<'static, Result<()>>;
    /// Makes the parts the object, once every part future has completed; returns its ETag.
    async fn complete(&mut self) -> Result<Option<String>>;
    /// Discards the upload and its parts.
    async fn abort(&mut self) -> Result<()>;
}

/// Multipart uploads whose abort failed, waiting to be aborted again (see the module docs).
#[derive(Clone, Default)]
pub(crate) struct PendingAborts(Arc<Mutex<Vec<Parked>>>);

/// An upload waiting in [`PendingAborts`], with its object's key.
type Parked = (String, Box<dyn PartUpload>);

impl PendingAborts {
    fn park(&self, key: String, upload: Box<dyn PartUpload>) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((key, upload));
    }

    /// Aborts every parked upload once more; those that fail again stay parked. Returns how
    /// many were aborted, or the first failure (after trying them all).
    pub(crate) async fn retry(&self) -> Result<usize> {
        let parked = std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        let mut aborted = 0;
        let mut first_error = None;
        for (key, mut upload) in parked {
            match upload.abort().await {
                Ok(()) | Err(StorageError::NotFound(_)) => aborted += 1,
                Err(e) => {
                    first_error.get_or_insert(e);
                    self.park(key, upload);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(aborted),
        }
    }
}

struct Multipart {
    upload: Box<dyn PartUpload>,
    in_flight: JoinSet<Result<()>>,
}

pub(crate) struct PartWriter {
    target: Box<dyn PartTarget>,
    key: String,
    part_size: usize,
    size: u64,
    pending: BytesMut,
    multipart: Option<Multipart>,
    /// Where an upload goes whose abort failed.
    failed_aborts: PendingAborts,
}

impl PartWriter {
    pub(crate) fn new(
        target: Box<dyn PartTarget>,
        key: &ObjectKey,
        part_size: usize,
        failed_aborts: PendingAborts,
    ) -> Self {
        PartWriter {
            target,
            key: key.to_string(),
            part_size,
            size: 0,
            pending: BytesMut::new(),
            multipart: None,
            failed_aborts,
        }
    }

    fn no_upload(&self) -> StorageError {
        StorageError::other(format!("no multipart upload of {}", self.key))
    }

    /// Starts part `data` in the background once fewer than the limit are in flight.
    async fn send_part(&mut self, data: Bytes) -> Result<()> {
        let Some(mp) = self.multipart.as_mut() else {
            return Err(self.no_upload());
        };
        while mp.in_flight.len() >= MAX_PARTS_IN_FLIGHT {
            reap_one(mp, &self.key).await?;
        }
        mp.in_flight.spawn(mp.upload.put_part(data));
        Ok(())
    }

    /// Sends every complete part buffered (or arriving in `chunk`) as a part.
    async fn flush_parts(&mut self, mut chunk: Bytes) -> Result<()> {
        // Whole parts straight from the chunk when nothing is pending: no copy.
        while self.pending.is_empty() && chunk.len() >= self.part_size {
            let part = chunk.split_to(self.part_size);
            self.send_part(part).await?;
        }
        self.pending.extend_from_slice(&chunk);
        while self.pending.len() >= self.part_size {
            let part = self.pending.split_to(self.part_size).freeze();
            self.send_part(part).await?;
        }
        Ok(())
    }

    async fn finish_multipart(&mut self) -> Result<Option<String>> {
        let rest = self.pending.split().freeze();
        if !rest.is_empty() {
            self.send_part(rest).await?;
        }
        let Some(mp) = self.multipart.as_mut() else {
            return Err(self.no_upload());
        };
        while !mp.in_flight.is_empty() {
            reap_one(mp, &self.key).await?;
        }
        let etag = mp.upload.complete().await?;
        self.multipart = None;
        Ok(etag)
    }

    async fn abort_multipart(&mut self) -> Result<()> {
        let Some(mut mp) = self.multipart.take() else {
            return Ok(());
        };
        settle(&mut mp.in_flight).await;
        match mp.upload.abort().await {
            Ok(()) | Err(StorageError::NotFound(_)) => Ok(()),
            Err(e) => {
                self.failed_aborts.park(self.key.clone(), mp.upload);
                Err(e)
            }
        }
    }
}

/// How long an abort waits for the part uploads in flight to end on their own.
const SETTLE: std::time::Duration = std::time::Duration::from_secs(30);

/// Lets the part uploads in flight end (for [`SETTLE`] at most, then cancels them) before an
/// abort: a cancelled request the service has already received can still land after the
/// abort — a GCS staging object, an S3 part — and leave the upload open.
async fn settle(in_flight: &mut JoinSet<Result<()>>) {
    let drained = tokio::time::timeout(SETTLE, async {
        while in_flight.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        in_flight.abort_all();
        while in_flight.join_next().await.is_some() {}
    }
}

/// Waits for one part upload.
async fn reap_one(mp: &mut Multipart, key: &str) -> Result<()> {
    match mp.in_flight.join_next().await {
        Some(Ok(result)) => result,
        Some(Err(join)) => Err(StorageError::other_from(
            format!("part upload of {key} stopped: {join}"),
            join,
        )),
        None => Ok(()),
    }
}

#[async_trait]
impl ObjectWriter for PartWriter {
    async fn write(&mut self, chunk: Bytes) -> Result<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        self.size += chunk.len() as u64;
        if self.multipart.is_none() {
            if self.pending.len() + chunk.len() <= self.part_size {
                self.pending.extend_from_slice(&chunk);
                return Ok(());
            }
            // Too big for one PUT: switch to multipart; what was buffered goes first.
            let upload = self.target.start().await?;
            self.multipart = Some(Multipart {
                upload,
                in_flight: JoinSet::new(),
            });
        }
        self.flush_parts(chunk).await
    }

    async fn finish(mut self: Box<Self>) -> Result<PutResult> {
        let etag = if self.multipart.is_none() {
            let data = self.pending.split().freeze();
            self.target.put(data).await?
        } else {
            match self.finish_multipart().await {
                Ok(etag) => etag,
                Err(e) => {
                    let _ = self.abort_multipart().await;
                    return Err(e);
                }
            }
        };
        Ok(PutResult {
            size: self.size,
            etag,
        })
    }

    async fn abort(mut self: Box<Self>) -> Result<()> {
        self.abort_multipart().await
    }
}

impl Drop for PartWriter {
    /// An unfinished multipart upload is invisible but keeps its parts (and costs storage)
    /// until aborted: abort it in the background.
    fn drop(&mut self) {
        let Some(Multipart {
            mut upload,
            mut in_flight,
        }) = self.multipart.take()
        else {
            return;
        };
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            // Dropping the set cancels the part uploads still running.
            drop(in_flight);
            self.failed_aborts.park(self.key.clone(), upload);
            return;
        };
        let key = self.key.clone();
        let failed_aborts = self.failed_aborts.clone();
        rt.spawn(async move {
            settle(&mut in_flight).await;
            match upload.abort().await {
                Ok(()) | Err(StorageError::NotFound(_)) => {}
                Err(e) => {
                    tracing::warn!(key, error = %Chain(&e), "could not abort an abandoned multipart upload; will retry");
                    failed_aborts.park(key, upload);
                }
            }
        });
    }
}

/// A [`PartUpload`] over a provider's upload-id API: numbers the parts and collects their ETags
/// for the commit. OCI and GCS need it (the other `object_store` backends bring their own upload).
pub(crate) struct IdUpload {
    parts: Arc<dyn MultipartParts>,
    key: ObjectKey,
    upload_id: String,
    next_part: u32,
    done: Arc<Mutex<Vec<PartRecord>>>,
}

impl IdUpload {
    pub(crate) async fn start(parts: Arc<dyn MultipartParts>, key: ObjectKey) -> Result<Self> {
        let upload_id = parts.create(&key).await?;
        Ok(IdUpload {
            parts,
            key,
            upload_id,
            next_part: 1,
            done: Arc::default(),
        })
    }
}

#[async_trait]
impl PartUpload for IdUpload {
    fn put_part(&mut self, data: Bytes) -> BoxFuture<'static, Result<()>> {
        let number = self.next_part;
        self.next_part += 1;
        let parts = self.parts.clone();
        let key = self.key.clone();
        let upload_id = self.upload_id.clone();
        let done = self.done.clone();
        Box::pin(async move {
            let size = data.len() as u64;
            let etag = parts.put_part(&key, &upload_id, number, data).await?;
            let record = PartRecord { number, etag, size };
            done.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(record);
            Ok(())
        })
    }

    async fn complete(&mut self) -> Result<Option<String>> {
        let mut done =
            std::mem::take(&mut *self.done.lock().unwrap_or_else(PoisonError::into_inner));
        // Parts finish in any order; the commit lists them in order.
        done.sort_by_key(|p| p.number);
        let put = self
            .parts
            .complete(&self.key, &self.upload_id, &done)
            .await?;
        Ok(put.etag)
    }

    async fn abort(&mut self) -> Result<()> {
        self.parts.abort(&self.key, &self.upload_id).await
    }
}

/// Feeds `stream` into `w` and finishes it; a source or write error aborts the writer.
pub(crate) async fn write_all(
    mut w: Box<dyn ObjectWriter>,
    mut stream: SourceStream<'_>,
) -> Result<PutResult> {
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

/// Writes the local file `path` through the writer `writer(part_size)` makes, `part_size` grown
/// for very large files so the upload stays under the provider's part limit.
pub(crate) async fn put_file(
    path: &Path,
    part_size: usize,
    writer: impl FnOnce(usize) -> Result<Box<dyn ObjectWriter>>,
) -> Result<PutResult> {
    let f = tokio::fs::File::open(path)
        .await
        .map_err(StorageError::Source)?;
    let len = f.metadata().await.map_err(StorageError::Source)?.len();
    let part_size = file_part_size(len, part_size);
    let stream = tokio_util::io::ReaderStream::with_capacity(f, part_size.min(FILE_READ_CHUNK));
    write_all(writer(part_size)?, Box::pin(stream)).await
}

/// The part size for a file of `len` bytes: `part_size`, grown for very large files so the
/// upload stays under the provider's part limit.
fn file_part_size(len: u64, part_size: usize) -> usize {
    usize::try_from(len.div_ceil(MAX_PARTS))
        .unwrap_or(usize::MAX)
        .max(part_size)
}

pub(crate) fn validate_part_size(part_size: usize) -> Result<()> {
    if part_size == 0 {
        return Err(StorageError::other("part size must be greater than zero"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// A multipart upload whose abort fails while `down` is set.
    struct Flaky {
        down: Arc<AtomicBool>,
        aborted: Arc<AtomicUsize>,
    }

    #[async_trait]
    impl PartUpload for Flaky {
        fn put_part(&mut self, _data: Bytes) -> BoxFuture<'static, Result<()>> {
            Box::pin(async { Ok(()) })
        }
        async fn complete(&mut self) -> Result<Option<String>> {
            Ok(None)
        }
        async fn abort(&mut self) -> Result<()> {
            if self.down.load(Ordering::SeqCst) {
                return Err(StorageError::unavailable("down"));
            }
            self.aborted.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    #[tokio::test]
    async fn failed_aborts_are_kept_until_a_retry_succeeds() {
        let down = Arc::new(AtomicBool::new(true));
        let aborted = Arc::new(AtomicUsize::new(0));
        let pending = PendingAborts::default();
        pending.park(
            "k".into(),
            Box::new(Flaky {
                down: down.clone(),
                aborted: aborted.clone(),
            }),
        );
        assert!(pending.retry().await.is_err());
        assert_eq!(aborted.load(Ordering::SeqCst), 0);
        down.store(false, Ordering::SeqCst);
        assert_eq!(pending.retry().await.unwrap(), 1);
        assert_eq!(aborted.load(Ordering::SeqCst), 1);
        // Nothing left to abort.
        assert_eq!(pending.retry().await.unwrap(), 0);
    }
}
