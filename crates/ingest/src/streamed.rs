//! Uploads whose bytes arrive in one request (`POST /v1/media`): streamed to storage while being
//! hashed and counted, the kind decided from the leading bytes before anything is stored, then
//! the media row, its "object created" event and the job written in one transaction. Memory
//! stays bounded whatever the file size; a rejected upload leaves nothing behind.

use crate::error::{BoxError, IngestError, IngestResult};
use crate::{Ingest, PlannedOriginal};
use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use mediaserver_core::sniff::{sniff, Sniffed, SNIFF_LEN};
use mediaserver_core::ErrorChain;
use mediaserver_core::{Media, MediaId, NewOriginal, ObjectSource, UserId};
use mediaserver_db::Recorded;
use mediaserver_storage::{ObjectKey, ObjectWriter};
use sha2::{Digest, Sha256};

/// An original that is in storage but not yet recorded in the database.
pub struct StoredUpload {
    pub id: MediaId,
    pub key: ObjectKey,
    pub filename: String,
    pub sniffed: Sniffed,
    pub size: u64,
    pub sha256: String,
    pub etag: Option<String>,
}

impl Ingest {
    /// Streams `body` into the media bucket as a new original of `owner` named after
    /// `filename`, refusing it past `max_bytes`, past the owner's quota, or if it is not media.
    pub async fn store_upload<S, E>(
        &self,
        owner: &UserId,
        filename: &str,
        body: S,
        max_bytes: u64,
    ) -> IngestResult<StoredUpload>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: Into<BoxError>,
    {
        let room = self.room(owner).await?;
        // The first limit `size` bytes pass, as the error to answer.
        let too_large = |size: u64| {
            if size > max_bytes {
                Some(IngestError::TooLarge { max: max_bytes })
            } else {
                room.filter(|r| size > r.left()).map(|r| r.exceeded(None))
            }
        };
        let interrupted = |e: E| IngestError::Interrupted(e.into());
        let mut body = std::pin::pin!(body);

        // Gather enough leading bytes to recognise the format before touching storage.
        let mut head = BytesMut::new();
        let mut ended = false;
        while head.len() < SNIFF_LEN {
            match body.next().await {
                Some(Ok(chunk)) => head.extend_from_slice(&chunk),
                Some(Err(e)) => return Err(interrupted(e)),
                None => {
                    ended = true;
                    break;
                }
            }
            if let Some(e) = too_large(head.len() as u64) {
                return Err(e);
            }
        }
        if head.is_empty() {
            return Err(IngestError::Empty);
        }
        let sniffed = sniff(&head).ok_or(IngestError::NotMedia { discarded: false })?;

        let PlannedOriginal { id, filename, key } = PlannedOriginal::new(filename)?;
        let mut writer = self
            .store()
            .writer(&key)
            .await
            .map_err(IngestError::NotStored)?;

        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let head = head.freeze();
        let result: IngestResult<()> = async {
            hasher.update(&head);
            size += head.len() as u64;
            writer.write(head).await.map_err(IngestError::NotStored)?;
            if ended {
                return Ok(());
            }
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(interrupted)?;
                size += chunk.len() as u64;
                if let Some(e) = too_large(size) {
                    return Err(e);
                }
                hasher.update(&chunk);
                writer.write(chunk).await.map_err(IngestError::NotStored)?;
            }
            Ok(())
        }
        .await;
        if let Err(e) = result {
            abort(writer).await;
            return Err(e);
        }
        let put = writer.finish().await.map_err(IngestError::NotStored)?;
        crate::record_upload_bytes(size);
        Ok(StoredUpload {
            id,
            key,
            filename,
            sniffed,
            size,
            sha256: hex::encode(hasher.finalize()),
            etag: put.etag,
        })
    }

    /// Removes an original whose upload will not be recorded.
    pub async fn discard_stored(&self, stored: &StoredUpload) {
        if let Err(e) = self.store().delete(&stored.key).await {
            tracing::error!(key = %stored.key, error = %ErrorChain(&e), "could not delete the object of a failed upload");
        }
    }

    /// Records a stored upload: the media row, its "object created" event and the processing
    /// job, in one transaction. On failure the object is deleted so nothing is orphaned. The
    /// quota is checked again (another upload may have finished meanwhile).
    pub async fn commit(
        &self,
        owner_id: &UserId,
        stored: StoredUpload,
        title: Option<String>,
    ) -> IngestResult<Media> {
        match self.room(owner_id).await {
            Ok(Some(room)) if stored.size > room.left() => {
                self.discard_stored(&stored).await;
                return Err(room.exceeded(Some(stored.size)));
            }
            Ok(_) => {}
            Err(e) => {
                self.discard_stored(&stored).await;
                return Err(e);
            }
        }
        let (media, event) = NewOriginal {
            id: stored.id.clone(),
            owner_id: owner_id.clone(),
            kind: stored.sniffed.kind,
            content_type: stored.sniffed.content_type.clone(),
            filename: stored.filename.clone(),
            title,
            size: stored.size as i64,
            sha256: stored.sha256.clone(),
            bucket: self.store().bucket().to_string(),
            key: stored.key.to_string(),
            etag: stored.etag.clone().unwrap_or_else(|| stored.sha256.clone()),
            source: ObjectSource::Upload,
        }
        .into_records();
        match self
            .repo()
            .create_media_with_event(&media, &event, self.0.max_attempts)
            .await
        {
            Ok(Recorded::Created) => {}
            Ok(Recorded::Duplicate { .. }) => {
                // The key embeds a fresh id, so this means something else wrote the same object.
                self.discard_stored(&stored).await;
                return Err(IngestError::AlreadyRecorded);
            }
            Err(e) => {
                self.discard_stored(&stored).await;
                return Err(e.into());
            }
        }
        tracing::info!(media_id = %media.id, kind = %media.kind, size = media.size, "media uploaded");
        Ok(media)
    }
}

async fn abort(writer: Box<dyn ObjectWriter>) {
    if let Err(e) = writer.abort().await {
        tracing::warn!(error = %ErrorChain(&e), "could not abort a rejected upload");
    }
}
