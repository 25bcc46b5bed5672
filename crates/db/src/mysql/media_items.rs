//! The MySQL expansion of [`crate::media_items`]: its statements ported from the shared ones
//! (`$n` placeholders, see [`super::sql`]; no `RETURNING`; MySQL's quoting and functions).

use super::MySqlRepo;

#[::async_trait::async_trait]
impl crate::MediaItems for MySqlRepo {
    // Media row, event and job in one transaction; a repeated `(bucket, key, etag)`
    // rolls all of it back. On PostgreSQL a concurrent duplicate's event insert waits
    // for the first transaction and then does nothing.
    async fn create_media_with_event(
        &self,
        media: &::mediaserver_core::Media,
        event: &::mediaserver_core::ObjectEvent,
        max_attempts: i32,
    ) -> crate::Result<crate::Recorded> {
        let outputs = crate::shared::outputs_json(&media.outputs)?;
        let mut tx = self.begin_write().await?;
        crate::mysql::sql::query(concat!(
            "INSERT INTO media (",
            crate::rows::media_cols!(),
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
        .map_err(Self::insert_err("media"))?;
        // A clash of the event id (rather than of the object version) is still an error.
        // A clash on the version leaves the transaction usable (MySQL undoes the statement).
        let inserted = crate::mysql::sql::query(concat!(
            "INSERT INTO object_events (",
            event_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
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
        .await;
        let inserted = match inserted {
            Ok(done) => done.rows_affected(),
            Err(e) if Self::is_clash_on(&e, "object_events_bucket_key_etag_key") => 0,
            Err(e) => return Err(Self::insert_err("object event")(e)),
        };
        if inserted == 0 {
            let existing: Option<Option<String>> = crate::mysql::sql::query_scalar(
                "SELECT media_id FROM object_events \
                 WHERE bucket = $1 AND \"key\" = $2 AND etag = $3",
            )
            .bind(&event.bucket)
            .bind(&event.key)
            .bind(&event.etag)
            .fetch_optional(&mut *tx)
            .await
            .map_err(Self::db_err)?;
            tx.rollback().await.map_err(Self::db_err)?;
            return Ok(crate::Recorded::Duplicate {
                media_id: crate::shared::parse_optional(existing.flatten(), "media id")?,
            });
        }
        // An item recorded as failed (refused on arrival: over its owner's quota) gets
        // no job; retrying it queues one.
        if media.status != ::mediaserver_core::MediaStatus::Failed {
            let now = Self::ts(crate::shared::now());
            crate::mysql::sql::query(crate::queue::insert_job_sql!())
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
        Ok(crate::Recorded::Created)
    }

    async fn get_media(
        &self,
        id: &::mediaserver_core::MediaId,
    ) -> crate::Result<Option<::mediaserver_core::Media>> {
        let row = crate::mysql::sql::query(concat!(
            "SELECT ",
            crate::rows::media_cols!(),
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
    ) -> crate::Result<Vec<::mediaserver_core::Media>> {
        // Built per call so that each shape gets its own (index-friendly) plan instead
        // of one "($1 IS NULL OR col = $1)" statement.
        let (clauses, binds) =
            crate::library::list_clauses_folding(filter, crate::library::TitleFold::Unicode);
        let sql = format!(
            concat!("SELECT ", crate::rows::media_cols!(), " FROM media{}"),
            clauses
        );
        let mut query = crate::mysql::sql::query(&sql);
        for value in binds {
            query = match value {
                crate::library::Bind::Text(v) => query.bind(v),
                crate::library::Bind::Owned(v) => query.bind(v),
                crate::library::Bind::Int(v) => query.bind(v),
            };
        }
        let rows = query.fetch_all(&self.pool).await.map_err(Self::db_err)?;
        rows.iter().map(Self::media_from_row).collect()
    }

    async fn update_media(
        &self,
        id: &::mediaserver_core::MediaId,
        patch: &::mediaserver_core::MediaPatch,
    ) -> crate::Result<Option<::mediaserver_core::Media>> {
        // A switch to private moves the playback generation on, revoking the playback
        // tokens minted before. MySQL assigns left to right and later right-hand sides see
        // earlier assignments, so the generation is decided before `visibility` changes.
        let mut tx = self.begin_write().await?;
        let done = crate::mysql::sql::query(
            "UPDATE media SET \
             playback_generation = CASE \
               WHEN $2 = 'private' AND visibility <> 'private' \
               THEN playback_generation + 1 ELSE playback_generation END, \
             title = COALESCE($1, title), \
             visibility = COALESCE($2, visibility), updated_at = $3 \
             WHERE id = $4",
        )
        .bind(&patch.title)
        .bind(patch.visibility.map(|v| v.as_str()))
        .bind(Self::ts(crate::shared::now()))
        .bind(id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(Self::db_err)?;
        if done.rows_affected() == 0 {
            tx.rollback().await.map_err(Self::db_err)?;
            return Ok(None);
        }
        let row = crate::mysql::sql::query(concat!(
            "SELECT ",
            crate::rows::media_cols!(),
            " FROM media WHERE id = $1"
        ))
        .bind(id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(Self::db_err)?;
        tx.commit().await.map_err(Self::db_err)?;
        row.as_ref().map(Self::media_from_row).transpose()
    }

    async fn delete_media(&self, id: &::mediaserver_core::MediaId) -> crate::Result<bool> {
        // Events and jobs go with it through ON DELETE CASCADE (SQLite: foreign_keys is
        // on).
        let done = crate::mysql::sql::query("DELETE FROM media WHERE id = $1")
            .bind(id.as_str())
            .execute(&self.pool)
            .await
            .map_err(Self::db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn events_for_media(
        &self,
        media_id: &::mediaserver_core::MediaId,
    ) -> crate::Result<Vec<::mediaserver_core::ObjectEvent>> {
        let rows = crate::mysql::sql::query(concat!(
            "SELECT ",
            event_cols!(),
            " FROM object_events WHERE media_id = $1 ORDER BY created_at, id"
        ))
        .bind(media_id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(Self::db_err)?;
        rows.iter().map(Self::event_from_row).collect()
    }
}
