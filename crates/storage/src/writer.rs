//! [`ObjectWriter`] over `object_store`: one PUT for objects up to the part size, multipart above.

use crate::error::Redactor;
use crate::{ObjectWriter, PutResult, Result};
use async_trait::async_trait;
use bytes::Bytes;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload, WriteMultipart};
use std::sync::Arc;

/// Parts allowed in flight before `write` waits. With at most one part buffering in
/// `WriteMultipart`, memory stays around (2..3) × part size whatever the object size.
const MAX_PARTS_IN_FLIGHT: usize = 2;

enum State {
    /// Nothing sent yet; the object may still fit in a single PUT.
    Buffering {
        chunks: Vec<Bytes>,
        len: usize,
    },
    Multipart(WriteMultipart),
}

pub(crate) struct Writer {
    store: Arc<dyn ObjectStore>,
    redactor: Redactor,
    path: Path,
    key: String,
    part_size: usize,
    size: u64,
    state: State,
}

impl Writer {
    pub(crate) fn new(
        store: Arc<dyn ObjectStore>,
        redactor: Redactor,
        path: Path,
        key: String,
        part_size: usize,
    ) -> Self {
        Writer {
            store,
            redactor,
            path,
            key,
            part_size,
            size: 0,
            state: State::Buffering {
                chunks: Vec::new(),
                len: 0,
            },
        }
    }

    fn map(&self, err: object_store::Error) -> crate::StorageError {
        self.redactor.map(err, &self.key)
    }
}

/// Feeds `chunk` to the multipart upload a part at a time, waiting for capacity before each so a
/// huge chunk cannot start an unbounded number of concurrent part uploads.
async fn push(
    upload: &mut WriteMultipart,
    mut chunk: Bytes,
    part_size: usize,
) -> object_store::Result<()> {
    while !chunk.is_empty() {
        let piece = chunk.split_to(chunk.len().min(part_size));
        upload.wait_for_capacity(MAX_PARTS_IN_FLIGHT).await?;
        upload.put(piece);
    }
    Ok(())
}

#[async_trait]
impl ObjectWriter for Writer {
    async fn write(&mut self, chunk: Bytes) -> Result<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        self.size += chunk.len() as u64;
        match &mut self.state {
            State::Multipart(upload) => {
                let res = push(upload, chunk, self.part_size).await;
                res.map_err(|e| self.map(e))
            }
            State::Buffering { chunks, len } => {
                *len += chunk.len();
                chunks.push(chunk);
                if *len <= self.part_size {
                    return Ok(());
                }
                // Too big for one PUT: switch to multipart and replay what was buffered.
                let buffered = std::mem::take(chunks);
                let upload = self
                    .store
                    .put_multipart(&self.path)
                    .await
                    .map_err(|e| self.map(e))?;
                let mut upload = WriteMultipart::new_with_chunk_size(upload, self.part_size);
                let mut res = Ok(());
                for c in buffered {
                    res = push(&mut upload, c, self.part_size).await;
                    if res.is_err() {
                        break;
                    }
                }
                // Kept even on failure so `abort` can release the upload.
                self.state = State::Multipart(upload);
                res.map_err(|e| self.map(e))
            }
        }
    }

    async fn finish(self: Box<Self>) -> Result<PutResult> {
        let Writer {
            store,
            redactor,
            path,
            key,
            size,
            state,
            ..
        } = *self;
        let result = match state {
            State::Buffering { chunks, .. } => {
                let payload: PutPayload = chunks.into_iter().collect();
                store
                    .put(&path, payload)
                    .await
                    .map_err(|e| redactor.map(e, &key))?
            }
            State::Multipart(mut upload) => {
                // Surface failed parts while we can still abort; `WriteMultipart::finish` would
                // drop the upload without aborting it.
                if let Err(e) = upload.wait_for_capacity(0).await {
                    let _ = upload.abort().await;
                    return Err(redactor.map(e, &key));
                }
                upload.finish().await.map_err(|e| redactor.map(e, &key))?
            }
        };
        Ok(PutResult {
            size,
            etag: result.e_tag,
        })
    }

    async fn abort(self: Box<Self>) -> Result<()> {
        let this = *self;
        match this.state {
            State::Buffering { .. } => Ok(()),
            State::Multipart(upload) => upload
                .abort()
                .await
                .map_err(|e| this.redactor.map(e, &this.key)),
        }
    }
}
