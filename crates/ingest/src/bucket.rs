//! Objects that are already in the media bucket, announced by a bucket event or found by
//! `mediaserver watch`: each object version becomes one media item with a processing job.
//! Idempotent: the same object version twice makes one item.

use crate::error::{IngestError, IngestResult};
use crate::{sniff_stored, Ingest};
use mediaserver_core::{
    layout, MediaId, MediaStatus, NewOriginal, ObjectSource, UploadId, UploadStatus, UserId,
};
use mediaserver_db::Recorded;
use mediaserver_storage::{ObjectKey, StorageError};
use serde::Serialize;
use utoipa::ToSchema;

/// What happened to one announced object.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum IngestOutcome {
    /// A new item was created and queued.
    Created {
        key: String,
        #[schema(value_type = String)]
        media_id: MediaId,
    },
    /// This object version was seen before; nothing new was created.
    Duplicate {
        key: String,
        #[schema(value_type = Option<String>)]
        media_id: Option<MediaId>,
    },
    /// Not for us (this server's own outputs, or not an image, video or audio file).
    Skipped { key: String, reason: String },
    /// Recorded as a `failed` item with `reason` and not processed: its owner's storage quota
    /// (`USER_QUOTA_BYTES`) has no room for it. The object stays in the bucket (its owner put
    /// it there); deleting the item deletes it, retrying the item processes it.
    Refused {
        key: String,
        #[schema(value_type = String)]
        media_id: MediaId,
        reason: String,
    },
}

impl Ingest {
    /// Who owns items created from bucket objects: the user with `owner_email`
    /// (`EVENTS_OWNER_EMAIL`), else the first admin.
    pub async fn event_owner(&self, owner_email: Option<&str>) -> IngestResult<UserId> {
        let repo = self.repo();
        match owner_email {
            Some(email) => repo
                .user_by_email(&email.trim().to_lowercase())
                .await?
                .map(|u| u.id)
                .ok_or_else(|| IngestError::UnknownOwner {
                    email: email.to_string(),
                }),
            None => repo
                .first_admin()
                .await?
                .map(|u| u.id)
                .ok_or(IngestError::NoOwner),
        }
    }

    /// Records `key` (in the media bucket) as a new item owned by `owner_id`, unless this
    /// version of it was recorded before. `etag` from the event is preferred; otherwise the
    /// object's own. `source` names who announced it (bucket events or `mediaserver watch`).
    pub async fn ingest_object(
        &self,
        owner_id: &UserId,
        key: &str,
        etag: Option<&str>,
        source: ObjectSource,
    ) -> IngestResult<IngestOutcome> {
        let repo = self.repo();
        let store = self.store();
        let skipped = |reason: &str| IngestOutcome::Skipped {
            key: key.to_string(),
            reason: reason.to_string(),
        };
        let object_key = ObjectKey::new(key.to_string()).map_err(IngestError::UnusableKey)?;
        // This server's own writes: outputs, and originals uploaded through the API (recorded
        // then).
        if layout::is_output_key(key) {
            return Ok(skipped("an output of this server"));
        }
        // A direct upload's object: it becomes the item the client was promised, owned by them.
        if let Some(upload) = repo.upload_by_key(key).await? {
            let media = self.record_upload(&upload, None).await?;
            return Ok(if upload.status == UploadStatus::Complete {
                IngestOutcome::Duplicate {
                    key: key.to_string(),
                    media_id: Some(media.id),
                }
            } else {
                IngestOutcome::Created {
                    key: key.to_string(),
                    media_id: media.id,
                }
            });
        }
        // Under `originals/{id}/` with a well-formed id: this server's own upload (a segment that
        // is not an id names nothing of ours, and the object is treated as any other).
        if let Some(id) = layout::original_key_id(key).and_then(|id| id.parse::<MediaId>().ok()) {
            if repo.get_media(&id).await?.is_some() {
                return Ok(IngestOutcome::Duplicate {
                    key: key.to_string(),
                    media_id: Some(id),
                });
            }
            // A tus upload's intermediate objects (`….pending.{start}-{len}` remainders) live
            // next to its key; the first one starts with the file's own magic bytes.
            if repo.get_upload(&UploadId::from(id)).await?.is_some() {
                return Ok(skipped("an unfinished upload's intermediate bytes"));
            }
        }

        let meta = match store.head(&object_key).await {
            Ok(m) => m,
            Err(StorageError::NotFound(_)) => {
                return Err(IngestError::MissingObject {
                    key: key.to_string(),
                    bucket: store.bucket().to_string(),
                })
            }
            Err(e) => return Err(e.into()),
        };
        if meta.size == 0 {
            return Ok(skipped("the object is empty"));
        }
        let Some(sniffed) = sniff_stored(store, &object_key, meta.size).await? else {
            return Ok(skipped("not an image, video or audio file"));
        };

        let etag = etag
            .map(str::to_string)
            .or(meta.etag.clone())
            .unwrap_or_else(|| format!("{}-{}", meta.size, meta.last_modified.timestamp_millis()))
            .trim_matches('"')
            .to_string();
        // Over the quota: recorded (the bytes are the owner's and stay) but not processed.
        let refused = match self.room(owner_id).await? {
            Some(room) if meta.size > room.left() => {
                Some(room.exceeded(Some(meta.size)).to_string())
            }
            _ => None,
        };
        let (mut media, event) = NewOriginal {
            id: MediaId::new(),
            owner_id: owner_id.clone(),
            kind: sniffed.kind,
            content_type: sniffed.content_type,
            filename: key.rsplit('/').next().unwrap_or(key).to_string(),
            title: None,
            size: meta.size as i64,
            // Not known without reading the whole object; the original's ETag falls back to
            // the storage ETag for such items.
            sha256: String::new(),
            bucket: store.bucket().to_string(),
            key: key.to_string(),
            etag,
            source,
        }
        .into_records();
        if let Some(reason) = &refused {
            media.status = MediaStatus::Failed;
            media.error = Some(reason.clone());
        }
        match repo
            .create_media_with_event(&media, &event, self.0.max_attempts)
            .await?
        {
            Recorded::Created if refused.is_some() => {
                tracing::warn!(media_id = %media.id, %key, %source, "bucket object over its owner's quota: recorded as failed");
                Ok(IngestOutcome::Refused {
                    key: key.to_string(),
                    media_id: media.id,
                    reason: refused.unwrap_or_default(),
                })
            }
            Recorded::Created => {
                tracing::info!(media_id = %media.id, %key, %source, "media created from a bucket object");
                Ok(IngestOutcome::Created {
                    key: key.to_string(),
                    media_id: media.id,
                })
            }
            Recorded::Duplicate { media_id } => Ok(IngestOutcome::Duplicate {
                key: key.to_string(),
                media_id,
            }),
        }
    }
}
