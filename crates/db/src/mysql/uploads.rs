//! The MySQL expansion of [`crate::uploads`]: its statements ported from the shared ones
//! (`$n` placeholders, see [`super::sql`]; no `RETURNING`; MySQL's quoting and functions).

use super::MySqlRepo;

impl MySqlRepo {
    pub(super) fn upload_from_row(
        row: &crate::mysql::sql::Row,
    ) -> crate::Result<::mediaserver_core::Upload> {
        use crate::shared::parse_column;
        let get_s = |c: &str| row.try_get::<String, _>(c).map_err(Self::db_err);
        Ok(::mediaserver_core::Upload {
            id: parse_column(&get_s("id")?, "upload id")?,
            owner_id: parse_column(&get_s("owner_id")?, "owner id")?,
            protocol: parse_column(&get_s("protocol")?, "upload protocol")?,
            filename: get_s("filename")?,
            title: row.try_get("title").map_err(Self::db_err)?,
            key: get_s("key")?,
            length: row.try_get("length").map_err(Self::db_err)?,
            offset: row.try_get("offset").map_err(Self::db_err)?,
            state: get_s("state")?,
            metadata: row.try_get("metadata").map_err(Self::db_err)?,
            status: parse_column(&get_s("status")?, "upload status")?,
            expires_at: row.try_get("expires_at").map_err(Self::db_err)?,
            created_at: row.try_get("created_at").map_err(Self::db_err)?,
            updated_at: row.try_get("updated_at").map_err(Self::db_err)?,
        })
    }

    pub(super) async fn select_upload(
        &self,
        column: &'static str,
        value: &str,
    ) -> crate::Result<Option<::mediaserver_core::Upload>> {
        let sql = match column {
            "key" => concat!(
                "SELECT ",
                upload_cols!(),
                " FROM uploads WHERE \"key\" = $1"
            ),
            _ => concat!("SELECT ", upload_cols!(), " FROM uploads WHERE id = $1"),
        };
        let row = crate::mysql::sql::query(sql)
            .bind(value)
            .fetch_optional(&self.pool)
            .await
            .map_err(Self::db_err)?;
        row.as_ref().map(Self::upload_from_row).transpose()
    }
}

#[::async_trait::async_trait]
impl crate::Uploads for MySqlRepo {
    async fn create_upload(&self, u: &::mediaserver_core::Upload) -> crate::Result<()> {
        crate::mysql::sql::query(concat!(
            "INSERT INTO uploads (",
            upload_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ))
        .bind(u.id.as_str())
        .bind(u.owner_id.as_str())
        .bind(u.protocol.as_str())
        .bind(&u.filename)
        .bind(&u.title)
        .bind(&u.key)
        .bind(u.length)
        .bind(u.offset)
        .bind(&u.state)
        .bind(&u.metadata)
        .bind(u.status.as_str())
        .bind(Self::ts(u.expires_at))
        .bind(Self::ts(u.created_at))
        .bind(Self::ts(u.updated_at))
        .execute(&self.pool)
        .await
        .map_err(Self::insert_err("upload"))?;
        Ok(())
    }

    async fn get_upload(
        &self,
        id: &::mediaserver_core::UploadId,
    ) -> crate::Result<Option<::mediaserver_core::Upload>> {
        self.select_upload("id", id.as_str()).await
    }

    async fn upload_by_key(&self, key: &str) -> crate::Result<Option<::mediaserver_core::Upload>> {
        self.select_upload("key", key).await
    }

    async fn record_upload_progress(
        &self,
        id: &::mediaserver_core::UploadId,
        expected_offset: i64,
        offset: i64,
        state: &str,
        expires_at: ::chrono::DateTime<::chrono::Utc>,
    ) -> crate::Result<bool> {
        let done = crate::mysql::sql::query(
            "UPDATE uploads SET \"offset\" = $1, state = $2, expires_at = $3, updated_at = $4 \
             WHERE id = $5 AND \"offset\" = $6 AND status = 'active'",
        )
        .bind(offset)
        .bind(state)
        .bind(Self::ts(expires_at))
        .bind(Self::ts(crate::shared::now()))
        .bind(id.as_str())
        .bind(expected_offset)
        .execute(&self.pool)
        .await
        .map_err(Self::db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn complete_upload(
        &self,
        id: &::mediaserver_core::UploadId,
        offset: i64,
    ) -> crate::Result<bool> {
        let done = crate::mysql::sql::query(
            "UPDATE uploads SET status = 'complete', \"offset\" = $1, updated_at = $2 \
             WHERE id = $3 AND status = 'active'",
        )
        .bind(offset)
        .bind(Self::ts(crate::shared::now()))
        .bind(id.as_str())
        .execute(&self.pool)
        .await
        .map_err(Self::db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn lease_upload(
        &self,
        id: &::mediaserver_core::UploadId,
        writer: &str,
        until: ::chrono::DateTime<::chrono::Utc>,
        now: ::chrono::DateTime<::chrono::Utc>,
    ) -> crate::Result<bool> {
        let done = crate::mysql::sql::query(
            "UPDATE uploads SET writer = $1, writer_until = $2 WHERE id = $3 \
             AND (writer IS NULL OR writer = $1 OR writer_until IS NULL OR writer_until < $4)",
        )
        .bind(writer)
        .bind(Self::ts(until))
        .bind(id.as_str())
        .bind(Self::ts(now))
        .execute(&self.pool)
        .await
        .map_err(Self::db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn renew_upload_lease(
        &self,
        id: &::mediaserver_core::UploadId,
        writer: &str,
        until: ::chrono::DateTime<::chrono::Utc>,
    ) -> crate::Result<bool> {
        let done = crate::mysql::sql::query(
            "UPDATE uploads SET writer_until = $1 WHERE id = $2 AND writer = $3",
        )
        .bind(Self::ts(until))
        .bind(id.as_str())
        .bind(writer)
        .execute(&self.pool)
        .await
        .map_err(Self::db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn release_upload_lease(
        &self,
        id: &::mediaserver_core::UploadId,
        writer: &str,
    ) -> crate::Result<()> {
        crate::mysql::sql::query(
            "UPDATE uploads SET writer = NULL, writer_until = NULL WHERE id = $1 AND writer = $2",
        )
        .bind(id.as_str())
        .bind(writer)
        .execute(&self.pool)
        .await
        .map_err(Self::db_err)?;
        Ok(())
    }

    async fn delete_upload(&self, id: &::mediaserver_core::UploadId) -> crate::Result<bool> {
        let done = crate::mysql::sql::query("DELETE FROM uploads WHERE id = $1")
            .bind(id.as_str())
            .execute(&self.pool)
            .await
            .map_err(Self::db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn count_active_uploads(&self, owner: &::mediaserver_core::UserId) -> crate::Result<i64> {
        crate::mysql::sql::query_scalar(
            "SELECT COUNT(*) FROM uploads WHERE owner_id = $1 AND status = 'active'",
        )
        .bind(owner.as_str())
        .fetch_one(&self.pool)
        .await
        .map_err(Self::db_err)
    }

    async fn expired_uploads(
        &self,
        now: ::chrono::DateTime<::chrono::Utc>,
        limit: i64,
    ) -> crate::Result<Vec<::mediaserver_core::Upload>> {
        let rows = crate::mysql::sql::query(concat!(
            "SELECT ",
            upload_cols!(),
            " FROM uploads WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2"
        ))
        .bind(Self::ts(now))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(Self::db_err)?;
        rows.iter().map(Self::upload_from_row).collect()
    }
}
