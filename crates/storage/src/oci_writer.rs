//! [`ObjectWriter`] for OCI Object Storage: objects up to the part size are buffered and sent
//! with one PutObject; past it the writer switches to a multipart upload, cutting parts of
//! exactly the part size and keeping at most [`MAX_PARTS_IN_FLIGHT`] uploading at once, so
//! memory stays around (1 + MAX_PARTS_IN_FLIGHT) × part size whatever the object size. Any
//! failure, an explicit abort, or dropping the writer unfinished aborts the multipart upload.

use crate::oci::map_err;
use crate::{ObjectWriter, PutResult, Result};
use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use mediaserver_oci::objectstorage::{is_not_found, BucketClient};
use mediaserver_oci::OciError;
use std::sync::Arc;
use tokio::task::JoinSet;

/// Part uploads allowed to run concurrently.
pub(crate) const MAX_PARTS_IN_FLIGHT: usize = 2;

struct Multipart {
    upload_id: String,
    next_part: u32,
    in_flight: JoinSet<Result<(u32, String), OciError>>,
    done: Vec<(u32, String)>,
}

pub(crate) struct OciWriter {
    client: Arc<BucketClient>,
    key: String,
    part_size: usize,
    size: u64,
    pending: BytesMut,
    multipart: Option<Multipart>,
}

impl OciWriter {
    pub(crate) fn new(client: Arc<BucketClient>, key: String, part_size: usize) -> Self {
        OciWriter {
            client,
            key,
            part_size,
            size: 0,
            pending: BytesMut::new(),
            multipart: None,
        }
    }

    /// Starts part `data` in the background once fewer than the limit are in flight.
    async fn send_part(&mut self, data: Bytes) -> Result<()> {
        let Some(mp) = self.multipart.as_mut() else {
            return Ok(());
        };
        while mp.in_flight.len() >= MAX_PARTS_IN_FLIGHT {
            reap_one(mp, &self.key).await?;
        }
        let number = mp.next_part;
        mp.next_part += 1;
        let client = self.client.clone();
        let (key, upload_id) = (self.key.clone(), mp.upload_id.clone());
        mp.in_flight.spawn(async move {
            let etag = client.upload_part(&key, &upload_id, number, data).await?;
            Ok((number, etag))
        });
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

    async fn start_multipart(&mut self) -> Result<()> {
        let upload_id = self
            .client
            .create_multipart_upload(&self.key)
            .await
            .map_err(|e| map_err(e, &self.key))?;
        self.multipart = Some(Multipart {
            upload_id,
            next_part: 1,
            in_flight: JoinSet::new(),
            done: Vec::new(),
        });
        Ok(())
    }

    async fn finish_multipart(&mut self) -> Result<PutResult> {
        let rest = self.pending.split().freeze();
        if !rest.is_empty() {
            self.send_part(rest).await?;
        }
        let Some(mp) = self.multipart.as_mut() else {
            return Err(crate::StorageError::Other("no multipart upload".into()));
        };
        while !mp.in_flight.is_empty() {
            reap_one(mp, &self.key).await?;
        }
        let committed = self
            .client
            .commit_multipart_upload(&self.key, &mp.upload_id, &mp.done)
            .await
            .map_err(|e| map_err(e, &self.key))?;
        self.multipart = None;
        Ok(PutResult {
            size: self.size,
            etag: committed.etag,
        })
    }

    async fn abort_multipart(&mut self) -> Result<()> {
        let Some(mut mp) = self.multipart.take() else {
            return Ok(());
        };
        mp.in_flight.abort_all();
        while mp.in_flight.join_next().await.is_some() {}
        match self
            .client
            .abort_multipart_upload(&self.key, &mp.upload_id)
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(map_err(e, &self.key)),
        }
    }
}

/// Waits for one part upload and records its ETag.
async fn reap_one(mp: &mut Multipart, key: &str) -> Result<()> {
    match mp.in_flight.join_next().await {
        Some(Ok(Ok(part))) => {
            mp.done.push(part);
            Ok(())
        }
        Some(Ok(Err(e))) => Err(map_err(e, key)),
        Some(Err(join)) => Err(crate::StorageError::Other(format!(
            "part upload of {key} stopped: {join}"
        ))),
        None => Ok(()),
    }
}

#[async_trait]
impl ObjectWriter for OciWriter {
    async fn write(&mut self, chunk: Bytes) -> Result<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        self.size += chunk.len() as u64;
        if self.multipart.is_some() {
            return self.flush_parts(chunk).await;
        }
        if self.pending.len() + chunk.len() <= self.part_size {
            self.pending.extend_from_slice(&chunk);
            return Ok(());
        }
        // Too big for one PUT: switch to multipart; what was buffered goes first.
        self.start_multipart().await?;
        self.flush_parts(chunk).await
    }

    async fn finish(mut self: Box<Self>) -> Result<PutResult> {
        if self.multipart.is_none() {
            let data = self.pending.split().freeze();
            let put = self
                .client
                .put_object(&self.key, data, None)
                .await
                .map_err(|e| map_err(e, &self.key))?;
            return Ok(PutResult {
                size: self.size,
                etag: put.etag,
            });
        }
        match self.finish_multipart().await {
            Ok(put) => Ok(put),
            Err(e) => {
                let _ = self.abort_multipart().await;
                Err(e)
            }
        }
    }

    async fn abort(mut self: Box<Self>) -> Result<()> {
        self.abort_multipart().await
    }
}

impl Drop for OciWriter {
    /// An unfinished multipart upload is invisible but keeps its parts (and costs storage)
    /// until aborted: abort it in the background.
    fn drop(&mut self) {
        let Some(mp) = self.multipart.take() else {
            return;
        };
        // Dropping the set cancels the part uploads still running.
        let Multipart { upload_id, .. } = mp;
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let client = self.client.clone();
        let key = self.key.clone();
        rt.spawn(async move {
            if let Err(e) = client.abort_multipart_upload(&key, &upload_id).await {
                if !is_not_found(&e) {
                    tracing::warn!(key, error = %e, "could not abort an abandoned multipart upload");
                }
            }
        });
    }
}
