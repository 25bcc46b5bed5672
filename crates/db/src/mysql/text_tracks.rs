//! The MySQL expansion of [`crate::text_tracks`]: its statements ported from the shared ones
//! (`$n` placeholders, see [`super::sql`]; no `RETURNING`; MySQL's quoting and functions).

use super::MySqlRepo;

impl MySqlRepo {
    pub(super) fn text_track_from_row(
        row: &crate::mysql::sql::Row,
    ) -> crate::Result<crate::UploadedTextTrack> {
        let get_s = |c: &str| row.try_get::<String, _>(c).map_err(Self::db_err);
        Ok(crate::UploadedTextTrack {
            media_id: crate::shared::parse_column(&get_s("media_id")?, "media id")?,
            track: ::mediaserver_core::TextTrack {
                id: get_s("id")?,
                language: get_s("language")?,
                label: get_s("label")?,
                kind: crate::text_tracks::parse_kind(&get_s("kind")?)?,
                source: ::mediaserver_core::TextTrackSource::Upload,
            },
            bytes: row.try_get("bytes").map_err(Self::db_err)?,
            created_at: row.try_get("created_at").map_err(Self::db_err)?,
        })
    }
}

#[::async_trait::async_trait]
impl crate::TextTracks for MySqlRepo {
    async fn add_text_track(&self, t: &crate::UploadedTextTrack) -> crate::Result<bool> {
        let mut tx = self.begin_write().await?;
        // Bumping the row first also tells whether the item exists.
        let bumped = crate::mysql::sql::query("UPDATE media SET updated_at = $1 WHERE id = $2")
            .bind(Self::ts(crate::shared::now()))
            .bind(t.media_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(Self::db_err)?;
        if bumped.rows_affected() == 0 {
            return Ok(false);
        }
        crate::mysql::sql::query(
            "INSERT INTO text_tracks (media_id, id, language, label, kind, bytes, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(t.media_id.as_str())
        .bind(&t.track.id)
        .bind(&t.track.language)
        .bind(&t.track.label)
        .bind(crate::text_tracks::kind_str(t.track.kind))
        .bind(t.bytes)
        .bind(Self::ts(t.created_at))
        .execute(&mut *tx)
        .await
        .map_err(Self::db_err)?;
        tx.commit().await.map_err(Self::db_err)?;
        Ok(true)
    }

    async fn text_tracks(
        &self,
        media_id: &::mediaserver_core::MediaId,
    ) -> crate::Result<Vec<crate::UploadedTextTrack>> {
        let rows = crate::mysql::sql::query(
            "SELECT media_id, id, language, label, kind, bytes, created_at \
             FROM text_tracks WHERE media_id = $1 ORDER BY created_at, id",
        )
        .bind(media_id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(Self::db_err)?;
        rows.iter().map(Self::text_track_from_row).collect()
    }

    async fn text_tracks_of(
        &self,
        media_ids: &[::mediaserver_core::MediaId],
    ) -> crate::Result<Vec<crate::UploadedTextTrack>> {
        if media_ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=media_ids.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT media_id, id, language, label, kind, bytes, created_at \
             FROM text_tracks WHERE media_id IN ({}) ORDER BY created_at, id",
            placeholders.join(", ")
        );
        let mut query = crate::mysql::sql::query(&sql);
        for id in media_ids {
            query = query.bind(id.as_str());
        }
        let rows = query.fetch_all(&self.pool).await.map_err(Self::db_err)?;
        rows.iter().map(Self::text_track_from_row).collect()
    }

    async fn delete_text_track(
        &self,
        media_id: &::mediaserver_core::MediaId,
        track_id: &str,
    ) -> crate::Result<bool> {
        let mut tx = self.begin_write().await?;
        let gone =
            crate::mysql::sql::query("DELETE FROM text_tracks WHERE media_id = $1 AND id = $2")
                .bind(media_id.as_str())
                .bind(track_id)
                .execute(&mut *tx)
                .await
                .map_err(Self::db_err)?;
        if gone.rows_affected() == 0 {
            return Ok(false);
        }
        crate::mysql::sql::query("UPDATE media SET updated_at = $1 WHERE id = $2")
            .bind(Self::ts(crate::shared::now()))
            .bind(media_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(Self::db_err)?;
        tx.commit().await.map_err(Self::db_err)?;
        Ok(true)
    }
}
