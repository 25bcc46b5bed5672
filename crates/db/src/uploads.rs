//! [`Uploads`]: uploads in progress (tus and direct) and their write lease — what the API's
//! upload endpoints need — and its implementation, expanded once per backend by
//! [`impl_uploads!`]. Progress is recorded with a compare-and-set on the offset, so two
//! requests racing on one upload cannot both advance it.

use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mediaserver_core::{Upload, UploadId, UserId};

#[async_trait]
pub trait Uploads: Send + Sync + std::fmt::Debug {
    /// Inserts an upload; a duplicate id or key → `Conflict`.
    async fn create_upload(&self, upload: &Upload) -> Result<()>;
    async fn get_upload(&self, id: &UploadId) -> Result<Option<Upload>>;
    /// The upload that will store its original at `key` (direct uploads completed by a bucket
    /// event).
    async fn upload_by_key(&self, key: &str) -> Result<Option<Upload>>;
    /// Records progress if the upload is `active` and still at `expected_offset`; `false`
    /// means another request moved it (or it completed or vanished) first.
    async fn record_upload_progress(
        &self,
        id: &UploadId,
        expected_offset: i64,
        offset: i64,
        state: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<bool>;
    /// Marks an `active` upload `complete` at `offset`; `false` if it was not active.
    async fn complete_upload(&self, id: &UploadId, offset: i64) -> Result<bool>;
    /// Takes or renews the upload's write lease for `writer` until `until`; `false` while
    /// another writer's lease has not run out at `now` (or the upload does not exist). Replicas
    /// use it so that one request at a time writes to an upload.
    async fn lease_upload(
        &self,
        id: &UploadId,
        writer: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    /// Extends the lease `writer` holds; `false` if it no longer holds it (given back, or run
    /// out and taken by another). Never takes a free lease: a renewal racing the release must
    /// not bring it back.
    async fn renew_upload_lease(
        &self,
        id: &UploadId,
        writer: &str,
        until: DateTime<Utc>,
    ) -> Result<bool>;
    /// Gives the lease back if `writer` still holds it.
    async fn release_upload_lease(&self, id: &UploadId, writer: &str) -> Result<()>;
    async fn delete_upload(&self, id: &UploadId) -> Result<bool>;
    /// How many of `owner`'s uploads are unfinished (`active`), for the per-user cap.
    async fn count_active_uploads(&self, owner: &UserId) -> Result<i64>;
    /// Uploads whose `expires_at` is at or before `now`, oldest first.
    async fn expired_uploads(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<Upload>>;
}

macro_rules! upload_cols {
    () => {
        "id, owner_id, protocol, filename, title, key, length, \"offset\", state, metadata, \
         status, expires_at, created_at, updated_at"
    };
}
pub(crate) use upload_cols;

/// Expands [`Uploads`] for `$repo`, whose rows are `$row`.
macro_rules! impl_uploads {
    ($repo:ty, $row:ty) => {
        impl $repo {
            fn upload_from_row(row: &$row) -> $crate::Result<::mediaserver_core::Upload> {
                use ::sqlx::Row as _;
                use $crate::shared::parse_column;
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

            async fn select_upload(
                &self,
                column: &'static str,
                value: &str,
            ) -> $crate::Result<Option<::mediaserver_core::Upload>> {
                let sql = match column {
                    "key" => concat!("SELECT ", $crate::uploads::upload_cols!(), " FROM uploads WHERE key = $1"),
                    _ => concat!("SELECT ", $crate::uploads::upload_cols!(), " FROM uploads WHERE id = $1"),
                };
                let row = ::sqlx::query(sql)
                    .bind(value)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::db_err)?;
                row.as_ref().map(Self::upload_from_row).transpose()
            }
        }

        #[::async_trait::async_trait]
        impl $crate::Uploads for $repo {
            async fn create_upload(&self, u: &::mediaserver_core::Upload) -> $crate::Result<()> {
                ::sqlx::query(concat!(
                    "INSERT INTO uploads (",
                    $crate::uploads::upload_cols!(),
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
                .map_err(Self::db_err)?;
                Ok(())
            }

            async fn get_upload(&self, id: &::mediaserver_core::UploadId) -> $crate::Result<Option<::mediaserver_core::Upload>> {
                self.select_upload("id", id.as_str()).await
            }

            async fn upload_by_key(&self, key: &str) -> $crate::Result<Option<::mediaserver_core::Upload>> {
                self.select_upload("key", key).await
            }

            async fn record_upload_progress(
                &self,
                id: &::mediaserver_core::UploadId,
                expected_offset: i64,
                offset: i64,
                state: &str,
                expires_at: ::chrono::DateTime<::chrono::Utc>,
            ) -> $crate::Result<bool> {
                let done = ::sqlx::query(
                    "UPDATE uploads SET \"offset\" = $1, state = $2, expires_at = $3, updated_at = $4 \
                     WHERE id = $5 AND \"offset\" = $6 AND status = 'active'",
                )
                .bind(offset)
                .bind(state)
                .bind(Self::ts(expires_at))
                .bind(Self::ts($crate::shared::now()))
                .bind(id.as_str())
                .bind(expected_offset)
                .execute(&self.pool)
                .await
                .map_err(Self::db_err)?;
                Ok(done.rows_affected() == 1)
            }

            async fn complete_upload(&self, id: &::mediaserver_core::UploadId, offset: i64) -> $crate::Result<bool> {
                let done = ::sqlx::query(
                    "UPDATE uploads SET status = 'complete', \"offset\" = $1, updated_at = $2 \
                     WHERE id = $3 AND status = 'active'",
                )
                .bind(offset)
                .bind(Self::ts($crate::shared::now()))
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
            ) -> $crate::Result<bool> {
                let done = ::sqlx::query(
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
            ) -> $crate::Result<bool> {
                let done = ::sqlx::query(
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

            async fn release_upload_lease(&self, id: &::mediaserver_core::UploadId, writer: &str) -> $crate::Result<()> {
                ::sqlx::query(
                    "UPDATE uploads SET writer = NULL, writer_until = NULL WHERE id = $1 AND writer = $2",
                )
                .bind(id.as_str())
                .bind(writer)
                .execute(&self.pool)
                .await
                .map_err(Self::db_err)?;
                Ok(())
            }

            async fn delete_upload(&self, id: &::mediaserver_core::UploadId) -> $crate::Result<bool> {
                let done = ::sqlx::query("DELETE FROM uploads WHERE id = $1")
                    .bind(id.as_str())
                    .execute(&self.pool)
                    .await
                    .map_err(Self::db_err)?;
                Ok(done.rows_affected() == 1)
            }

            async fn count_active_uploads(
                &self,
                owner: &::mediaserver_core::UserId,
            ) -> $crate::Result<i64> {
                ::sqlx::query_scalar(
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
            ) -> $crate::Result<Vec<::mediaserver_core::Upload>> {
                let rows = ::sqlx::query(concat!(
                    "SELECT ",
                    $crate::uploads::upload_cols!(),
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
    };
}
pub(crate) use impl_uploads;
