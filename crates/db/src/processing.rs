//! [`Processing`]: the results a processing run records on a media item (processing, progress,
//! ready, failed) — what the pipeline needs — and its implementation, expanded once per backend
//! by [`impl_processing!`]. The job itself is in the queue (`queue.rs`).

use crate::Result;
use async_trait::async_trait;
use mediaserver_core::{MediaId, MediaOutputs};

#[async_trait]
pub trait Processing: Send + Sync + std::fmt::Debug {
    /// Sets `status = processing`, `progress = 0`, clears `error`.
    async fn mark_media_processing(&self, id: &MediaId) -> Result<()>;
    /// Sets `progress` (0–100) and, optionally, `playable`.
    async fn set_media_progress(
        &self,
        id: &MediaId,
        progress: i32,
        playable: Option<bool>,
    ) -> Result<()>;
    /// Sets `status = ready`, `progress = 100`, `playable` as given, probe facts and outputs;
    /// with webhooks on (`Webhooks::record_webhooks`), writes the `media.ready` delivery in the
    /// same transaction.
    async fn mark_media_ready(&self, id: &MediaId, ready: &MediaReady) -> Result<()>;
    /// Sets `status = failed` and `error` (and, with webhooks on, the `media.failed` delivery).
    async fn mark_media_failed(&self, id: &MediaId, error: &str) -> Result<()>;
    /// Replaces the outputs of a `ready` item (outputs added after processing, e.g. downloads
    /// made by a backfill); `false` when there is no such ready item (deleted, or reprocessing).
    async fn set_ready_outputs(&self, id: &MediaId, outputs: &MediaOutputs) -> Result<bool>;
}

/// What a finished processing run records on the item.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaReady {
    pub duration_seconds: Option<f64>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub playable: bool,
    pub outputs: MediaOutputs,
}

/// Expands [`Processing`] for `$repo` on database `$db`, and `fail_media_on`, which the queue
/// uses to fail an item inside its own transaction. Every way an item becomes ready or failed
/// passes here, so the webhook outbox is written here (`outbox_in`, in `webhooks.rs`).
macro_rules! impl_processing {
    ($repo:ty, $db:ty) => {
        impl $repo {
            /// `NotFound` unless exactly the item `id` was updated.
            fn one_media(rows: u64) -> $crate::Result<()> {
                if rows == 0 {
                    Err($crate::DbError::NotFound)
                } else {
                    Ok(())
                }
            }

            /// Fails the item and, when webhooks are on, writes its `media.failed` delivery:
            /// call it inside the transaction that decides the failure.
            async fn fail_media_on(
                &self,
                conn: &mut <$db as ::sqlx::Database>::Connection,
                id: &str,
                error: &str,
            ) -> $crate::Result<u64> {
                let done = ::sqlx::query(
                    "UPDATE media SET status = 'failed', error = $1, updated_at = $2 \
                     WHERE id = $3",
                )
                .bind(error)
                .bind(Self::ts($crate::shared::now()))
                .bind(id)
                .execute(&mut *conn)
                .await
                .map_err(Self::db_err)?;
                if done.rows_affected() > 0 {
                    self.outbox_in(
                        conn,
                        ::mediaserver_core::webhook::WebhookEventKind::MediaFailed,
                        id,
                    )
                    .await?;
                }
                Ok(done.rows_affected())
            }
        }

        #[::async_trait::async_trait]
        impl $crate::Processing for $repo {
            async fn mark_media_processing(
                &self,
                id: &::mediaserver_core::MediaId,
            ) -> $crate::Result<()> {
                let done = ::sqlx::query(
                    "UPDATE media SET status = 'processing', progress = 0, error = NULL, \
                     updated_at = $1 WHERE id = $2",
                )
                .bind(Self::ts($crate::shared::now()))
                .bind(id.as_str())
                .execute(&self.pool)
                .await
                .map_err(Self::db_err)?;
                Self::one_media(done.rows_affected())
            }

            async fn set_media_progress(
                &self,
                id: &::mediaserver_core::MediaId,
                progress: i32,
                playable: Option<bool>,
            ) -> $crate::Result<()> {
                let done = ::sqlx::query(
                    "UPDATE media SET progress = $1, playable = COALESCE($2, playable), \
                     updated_at = $3 WHERE id = $4",
                )
                .bind(progress.clamp(0, 100))
                .bind(playable)
                .bind(Self::ts($crate::shared::now()))
                .bind(id.as_str())
                .execute(&self.pool)
                .await
                .map_err(Self::db_err)?;
                Self::one_media(done.rows_affected())
            }

            async fn mark_media_ready(
                &self,
                id: &::mediaserver_core::MediaId,
                ready: &$crate::MediaReady,
            ) -> $crate::Result<()> {
                let outputs = $crate::shared::outputs_json(&ready.outputs)?;
                // The item's new state and its `media.ready` delivery commit together.
                let mut tx = self.begin_write().await?;
                let done = ::sqlx::query(
                    "UPDATE media SET status = 'ready', progress = 100, playable = $1, \
                     duration_seconds = $2, width = $3, height = $4, outputs = $5, \
                     error = NULL, updated_at = $6 WHERE id = $7",
                )
                .bind(ready.playable)
                .bind(ready.duration_seconds)
                .bind(ready.width)
                .bind(ready.height)
                .bind(outputs)
                .bind(Self::ts($crate::shared::now()))
                .bind(id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(Self::db_err)?;
                Self::one_media(done.rows_affected())?;
                self.outbox_in(
                    &mut tx,
                    ::mediaserver_core::webhook::WebhookEventKind::MediaReady,
                    id.as_str(),
                )
                .await?;
                tx.commit().await.map_err(Self::db_err)
            }

            async fn set_ready_outputs(
                &self,
                id: &::mediaserver_core::MediaId,
                outputs: &::mediaserver_core::MediaOutputs,
            ) -> $crate::Result<bool> {
                let outputs = $crate::shared::outputs_json(outputs)?;
                let done = ::sqlx::query(
                    "UPDATE media SET outputs = $1, updated_at = $2 \
                     WHERE id = $3 AND status = 'ready'",
                )
                .bind(outputs)
                .bind(Self::ts($crate::shared::now()))
                .bind(id.as_str())
                .execute(&self.pool)
                .await
                .map_err(Self::db_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn mark_media_failed(
                &self,
                id: &::mediaserver_core::MediaId,
                error: &str,
            ) -> $crate::Result<()> {
                let mut tx = self.begin_write().await?;
                let rows = self.fail_media_on(&mut tx, id.as_str(), error).await?;
                Self::one_media(rows)?;
                tx.commit().await.map_err(Self::db_err)
            }
        }
    };
}
pub(crate) use impl_processing;
