//! The MySQL expansion of [`crate::processing`]: its statements ported from the shared ones
//! (`$n` placeholders, see [`super::sql`]; no `RETURNING`; MySQL's quoting and functions).

use super::MySqlRepo;

impl MySqlRepo {
    /// `NotFound` unless exactly the item `id` was updated.
    pub(super) fn one_media(rows: u64) -> crate::Result<()> {
        if rows == 0 {
            Err(crate::DbError::NotFound)
        } else {
            Ok(())
        }
    }

    /// Fails the item and, when webhooks are on, writes its `media.failed` delivery:
    /// call it inside the transaction that decides the failure.
    pub(super) async fn fail_media_on(
        &self,
        conn: &mut <::sqlx::MySql as ::sqlx::Database>::Connection,
        id: &str,
        error: &str,
    ) -> crate::Result<u64> {
        let done = crate::mysql::sql::query(
            "UPDATE media SET status = 'failed', error = $1, updated_at = $2 \
             WHERE id = $3",
        )
        .bind(error)
        .bind(Self::ts(crate::shared::now()))
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
impl crate::Processing for MySqlRepo {
    async fn mark_media_processing(&self, id: &::mediaserver_core::MediaId) -> crate::Result<()> {
        let done = crate::mysql::sql::query(
            "UPDATE media SET status = 'processing', progress = 0, error = NULL, \
             updated_at = $1 WHERE id = $2",
        )
        .bind(Self::ts(crate::shared::now()))
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
    ) -> crate::Result<()> {
        let done = crate::mysql::sql::query(
            "UPDATE media SET progress = $1, playable = COALESCE($2, playable), \
             updated_at = $3 WHERE id = $4",
        )
        .bind(progress.clamp(0, 100))
        .bind(playable)
        .bind(Self::ts(crate::shared::now()))
        .bind(id.as_str())
        .execute(&self.pool)
        .await
        .map_err(Self::db_err)?;
        Self::one_media(done.rows_affected())
    }

    async fn mark_media_ready(
        &self,
        id: &::mediaserver_core::MediaId,
        ready: &crate::MediaReady,
    ) -> crate::Result<()> {
        let outputs = crate::shared::outputs_json(&ready.outputs)?;
        // The item's new state and its `media.ready` delivery commit together.
        let mut tx = self.begin_write().await?;
        let done = crate::mysql::sql::query(
            "UPDATE media SET status = 'ready', progress = 100, playable = $1, \
             duration_seconds = $2, width = $3, height = $4, outputs = $5, \
             error = NULL, updated_at = $6 WHERE id = $7",
        )
        .bind(ready.playable)
        .bind(ready.duration_seconds)
        .bind(ready.width)
        .bind(ready.height)
        .bind(outputs)
        .bind(Self::ts(crate::shared::now()))
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
    ) -> crate::Result<bool> {
        let outputs = crate::shared::outputs_json(outputs)?;
        let done = crate::mysql::sql::query(
            "UPDATE media SET outputs = $1, updated_at = $2 \
             WHERE id = $3 AND status = 'ready'",
        )
        .bind(outputs)
        .bind(Self::ts(crate::shared::now()))
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
    ) -> crate::Result<()> {
        let mut tx = self.begin_write().await?;
        let rows = self.fail_media_on(&mut tx, id.as_str(), error).await?;
        Self::one_media(rows)?;
        tx.commit().await.map_err(Self::db_err)
    }
}
