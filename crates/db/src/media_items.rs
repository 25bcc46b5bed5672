//! [`MediaItems`]: recording, reading, editing and deleting media items and their object
//! events — what the API and ingest need — and its implementation, expanded once per backend
//! by [`impl_media_items!`].

use crate::Result;
use async_trait::async_trait;
use mediaserver_core::{Media, MediaFilter, MediaId, MediaPatch, ObjectEvent};

#[async_trait]
pub trait MediaItems: Send + Sync + std::fmt::Debug {
    /// In one transaction: inserts the media row (with `status` as given, normally `queued`), its
    /// "object created" event, and a queued job for it (`max_attempts` as given) — no job for an
    /// item recorded as `failed` (refused on arrival, e.g. over its owner's quota).
    /// If an event with the same `(bucket, key, etag)` already exists, nothing is inserted and
    /// `Duplicate` names the media item of the existing event — so a notification delivered
    /// twice makes one item and one job.
    async fn create_media_with_event(
        &self,
        media: &Media,
        event: &ObjectEvent,
        max_attempts: i32,
    ) -> Result<Recorded>;
    async fn get_media(&self, id: &MediaId) -> Result<Option<Media>>;
    /// Newest first (by id, which is time-ordered), at most `filter.limit` items.
    async fn list_media(&self, filter: &MediaFilter) -> Result<Vec<Media>>;
    /// Applies the patch, bumps `updated_at`; `None` if no such item.
    async fn update_media(&self, id: &MediaId, patch: &MediaPatch) -> Result<Option<Media>>;
    /// Deletes the item and its events; returns whether it existed.
    async fn delete_media(&self, id: &MediaId) -> Result<bool>;
    /// Events of one item, oldest first (used by the pipeline and tests).
    async fn events_for_media(&self, media_id: &MediaId) -> Result<Vec<ObjectEvent>>;
}

/// Result of [`MediaItems::create_media_with_event`].
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    Created,
    /// The event was already recorded; nothing was inserted.
    Duplicate {
        media_id: Option<MediaId>,
    },
}

/// Expands [`MediaItems`] for `$repo` (see `repo_impl.rs` for what a backend provides).
macro_rules! impl_media_items {
    ($repo:ty) => {
        #[::async_trait::async_trait]
        impl $crate::MediaItems for $repo {
            // Media row, event and job in one transaction; a repeated `(bucket, key, etag)`
            // rolls all of it back. On PostgreSQL a concurrent duplicate's event insert waits
            // for the first transaction and then does nothing.
            async fn create_media_with_event(
                &self,
                media: &::mediaserver_core::Media,
                event: &::mediaserver_core::ObjectEvent,
                max_attempts: i32,
            ) -> $crate::Result<$crate::Recorded> {
                let outputs = $crate::shared::outputs_json(&media.outputs)?;
                let mut tx = self.begin_write().await?;
                ::sqlx::query(concat!(
                    "INSERT INTO media (",
                    $crate::rows::media_cols!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
                     $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)"
                ))
                .bind(media.id.as_str())
                .bind(media.owner_id.as_str())
                .bind(media.kind.as_str())
                .bind(media.status.as_str())
                .bind(&media.title)
                .bind(&media.filename)
                .bind(&media.content_type)
                .bind(media.size)
                .bind(&media.sha256)
                .bind(media.visibility.as_str())
                .bind(&media.bucket)
                .bind(&media.original_key)
                .bind(media.duration_seconds)
                .bind(media.width)
                .bind(media.height)
                .bind(media.progress)
                .bind(media.playable)
                .bind(&media.error)
                .bind(outputs)
                .bind(media.playback_generation)
                .bind(Self::ts(media.created_at))
                .bind(Self::ts(media.updated_at))
                .bind(media.clip.as_ref().map(|c| c.source_id.as_str()))
                .bind(media.clip.as_ref().map(|c| c.start_seconds))
                .bind(media.clip.as_ref().map(|c| c.end_seconds))
                .execute(&mut *tx)
                .await
                .map_err(Self::db_err)?;
                // A clash of the event id (rather than of the object version) is still an error.
                let inserted = ::sqlx::query(concat!(
                    "INSERT INTO object_events (",
                    $crate::rows::event_cols!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (bucket, key, etag) DO NOTHING"
                ))
                .bind(&event.id)
                .bind(event.media_id.as_ref().map(|id| id.as_str()))
                .bind(event.source.as_str())
                .bind(&event.bucket)
                .bind(&event.key)
                .bind(&event.etag)
                .bind(event.size)
                .bind(Self::ts(event.created_at))
                .execute(&mut *tx)
                .await
                .map_err(Self::db_err)?
                .rows_affected();
                if inserted == 0 {
                    let existing: Option<Option<String>> = ::sqlx::query_scalar(
                        "SELECT media_id FROM object_events \
                         WHERE bucket = $1 AND key = $2 AND etag = $3",
                    )
                    .bind(&event.bucket)
                    .bind(&event.key)
                    .bind(&event.etag)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(Self::db_err)?;
                    tx.rollback().await.map_err(Self::db_err)?;
                    return Ok($crate::Recorded::Duplicate {
                        media_id: $crate::shared::parse_optional(existing.flatten(), "media id")?,
                    });
                }
                // An item recorded as failed (refused on arrival: over its owner's quota) gets
                // no job; retrying it queues one.
                if media.status != ::mediaserver_core::MediaStatus::Failed {
                    let now = Self::ts($crate::shared::now());
                    ::sqlx::query($crate::queue::insert_job_sql!())
                        .bind(::mediaserver_core::JobId::new().as_str())
                        .bind(media.id.as_str())
                        // A job that may never be attempted would sit in the queue forever.
                        .bind(max_attempts.max(1))
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(Self::db_err)?;
                    self.notify_jobs(&mut tx).await?;
                }
                tx.commit().await.map_err(Self::db_err)?;
                Ok($crate::Recorded::Created)
            }

            async fn get_media(
                &self,
                id: &::mediaserver_core::MediaId,
            ) -> $crate::Result<Option<::mediaserver_core::Media>> {
                let row = ::sqlx::query(concat!(
                    "SELECT ",
                    $crate::rows::media_cols!(),
                    " FROM media WHERE id = $1"
                ))
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(Self::db_err)?;
                row.as_ref().map(Self::media_from_row).transpose()
            }

            async fn list_media(
                &self,
                filter: &::mediaserver_core::MediaFilter,
            ) -> $crate::Result<Vec<::mediaserver_core::Media>> {
                // Built per call so that each shape gets its own (index-friendly) plan instead
                // of one "($1 IS NULL OR col = $1)" statement.
                let (clauses, binds) = $crate::library::list_clauses(filter);
                let sql = format!(
                    concat!("SELECT ", $crate::rows::media_cols!(), " FROM media{}"),
                    clauses
                );
                let mut query = ::sqlx::query(&sql);
                for value in binds {
                    query = match value {
                        $crate::library::Bind::Text(v) => query.bind(v),
                        $crate::library::Bind::Owned(v) => query.bind(v),
                        $crate::library::Bind::Int(v) => query.bind(v),
                    };
                }
                let rows = query.fetch_all(&self.pool).await.map_err(Self::db_err)?;
                rows.iter().map(Self::media_from_row).collect()
            }

            async fn update_media(
                &self,
                id: &::mediaserver_core::MediaId,
                patch: &::mediaserver_core::MediaPatch,
            ) -> $crate::Result<Option<::mediaserver_core::Media>> {
                // A switch to private moves the playback generation on, revoking the playback
                // tokens minted before (right-hand sides see the row as it was).
                let row = ::sqlx::query(concat!(
                    "UPDATE media SET title = COALESCE($1, title), \
                     visibility = COALESCE($2, visibility), updated_at = $3, \
                     playback_generation = CASE \
                       WHEN $2 = 'private' AND visibility <> 'private' \
                       THEN playback_generation + 1 ELSE playback_generation END \
                     WHERE id = $4 RETURNING ",
                    $crate::rows::media_cols!()
                ))
                .bind(&patch.title)
                .bind(patch.visibility.map(|v| v.as_str()))
                .bind(Self::ts($crate::shared::now()))
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(Self::db_err)?;
                row.as_ref().map(Self::media_from_row).transpose()
            }

            async fn delete_media(&self, id: &::mediaserver_core::MediaId) -> $crate::Result<bool> {
                // Events and jobs go with it through ON DELETE CASCADE (SQLite: foreign_keys is
                // on).
                let done = ::sqlx::query("DELETE FROM media WHERE id = $1")
                    .bind(id.as_str())
                    .execute(&self.pool)
                    .await
                    .map_err(Self::db_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn events_for_media(
                &self,
                media_id: &::mediaserver_core::MediaId,
            ) -> $crate::Result<Vec<::mediaserver_core::ObjectEvent>> {
                let rows = ::sqlx::query(concat!(
                    "SELECT ",
                    $crate::rows::event_cols!(),
                    " FROM object_events WHERE media_id = $1 ORDER BY created_at, id"
                ))
                .bind(media_id.as_str())
                .fetch_all(&self.pool)
                .await
                .map_err(Self::db_err)?;
                rows.iter().map(Self::event_from_row).collect()
            }
        }
    };
}
pub(crate) use impl_media_items;
