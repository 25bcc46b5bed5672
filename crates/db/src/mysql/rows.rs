//! The MySQL copy of [`crate::rows`]' row mapping, over [`super::sql::Row`] (whose `try_get`
//! reads text from the binary-collated columns).

use super::MySqlRepo;

impl MySqlRepo {
    pub(super) fn user_from_row(
        row: &crate::mysql::sql::Row,
    ) -> crate::Result<::mediaserver_core::User> {
        use crate::shared::parse_column;
        let get_s = |c: &str| row.try_get::<String, _>(c).map_err(Self::db_err);
        Ok(::mediaserver_core::User {
            id: parse_column(&get_s("id")?, "user id")?,
            email: row.try_get("email").map_err(Self::db_err)?,
            password_hash: row.try_get("password_hash").map_err(Self::db_err)?,
            role: parse_column(&get_s("role")?, "role")?,
            created_at: row.try_get("created_at").map_err(Self::db_err)?,
        })
    }

    pub(super) fn api_key_from_row(
        row: &crate::mysql::sql::Row,
    ) -> crate::Result<::mediaserver_core::ApiKey> {
        use crate::shared::parse_column;
        let get_s = |c: &str| row.try_get::<String, _>(c).map_err(Self::db_err);
        Ok(::mediaserver_core::ApiKey {
            id: get_s("key_id")?,
            user_id: parse_column(&get_s("user_id")?, "user id")?,
            name: get_s("name")?,
            prefix: get_s("prefix")?,
            key_hash: get_s("key_hash")?,
            created_at: row.try_get("key_created_at").map_err(Self::db_err)?,
            expires_at: row.try_get("expires_at").map_err(Self::db_err)?,
            scopes: parse_column(&get_s("scopes")?, "scopes")?,
            last_used_at: row.try_get("last_used_at").map_err(Self::db_err)?,
            revoked_at: row.try_get("revoked_at").map_err(Self::db_err)?,
        })
    }

    pub(super) fn media_from_row(
        row: &crate::mysql::sql::Row,
    ) -> crate::Result<::mediaserver_core::Media> {
        use crate::shared::parse_column;
        let get_s = |c: &str| row.try_get::<String, _>(c).map_err(Self::db_err);
        Ok(::mediaserver_core::Media {
            id: parse_column(&get_s("id")?, "media id")?,
            owner_id: parse_column(&get_s("owner_id")?, "owner id")?,
            kind: parse_column(&get_s("kind")?, "kind")?,
            status: parse_column(&get_s("status")?, "status")?,
            title: get_s("title")?,
            filename: get_s("filename")?,
            content_type: get_s("content_type")?,
            size: row.try_get("size").map_err(Self::db_err)?,
            sha256: get_s("sha256")?,
            visibility: parse_column(&get_s("visibility")?, "visibility")?,
            bucket: get_s("bucket")?,
            original_key: get_s("original_key")?,
            duration_seconds: row.try_get("duration_seconds").map_err(Self::db_err)?,
            width: row.try_get("width").map_err(Self::db_err)?,
            height: row.try_get("height").map_err(Self::db_err)?,
            progress: row.try_get("progress").map_err(Self::db_err)?,
            playable: row.try_get("playable").map_err(Self::db_err)?,
            error: row.try_get("error").map_err(Self::db_err)?,
            outputs: crate::shared::parse_outputs(&get_s("outputs")?)?,
            playback_generation: row.try_get("playback_generation").map_err(Self::db_err)?,
            clip: match (
                crate::shared::parse_optional::<::mediaserver_core::MediaId>(
                    row.try_get("clip_source_id").map_err(Self::db_err)?,
                    "clip source id",
                )?,
                row.try_get::<Option<f64>, _>("clip_start_seconds")
                    .map_err(Self::db_err)?,
                row.try_get::<Option<f64>, _>("clip_end_seconds")
                    .map_err(Self::db_err)?,
            ) {
                (Some(source_id), Some(start_seconds), Some(end_seconds)) => {
                    Some(::mediaserver_core::Clip {
                        source_id,
                        start_seconds,
                        end_seconds,
                    })
                }
                _ => None,
            },
            created_at: row.try_get("created_at").map_err(Self::db_err)?,
            updated_at: row.try_get("updated_at").map_err(Self::db_err)?,
        })
    }

    pub(super) fn event_from_row(
        row: &crate::mysql::sql::Row,
    ) -> crate::Result<::mediaserver_core::ObjectEvent> {
        use crate::shared::{parse_column, parse_optional};
        let source: String = row.try_get("source").map_err(Self::db_err)?;
        Ok(::mediaserver_core::ObjectEvent {
            id: row.try_get("id").map_err(Self::db_err)?,
            media_id: parse_optional(row.try_get("media_id").map_err(Self::db_err)?, "media id")?,
            source: parse_column(&source, "source")?,
            bucket: row.try_get("bucket").map_err(Self::db_err)?,
            key: row.try_get("key").map_err(Self::db_err)?,
            etag: row.try_get("etag").map_err(Self::db_err)?,
            size: row.try_get("size").map_err(Self::db_err)?,
            created_at: row.try_get("created_at").map_err(Self::db_err)?,
        })
    }

    pub(super) fn job_from_row(
        row: &crate::mysql::sql::Row,
    ) -> crate::Result<::mediaserver_core::Job> {
        use crate::shared::parse_column;
        let get_s = |c: &str| row.try_get::<String, _>(c).map_err(Self::db_err);
        Ok(::mediaserver_core::Job {
            id: parse_column(&get_s("id")?, "job id")?,
            media_id: parse_column(&get_s("media_id")?, "media id")?,
            status: parse_column(&get_s("status")?, "job status")?,
            kind: parse_column(&get_s("kind")?, "job kind")?,
            chunk_index: crate::shared::chunk_index(
                row.try_get::<Option<i32>, _>("chunk_index")
                    .map_err(Self::db_err)?,
            )?,
            attempts: row.try_get("attempts").map_err(Self::db_err)?,
            max_attempts: row.try_get("max_attempts").map_err(Self::db_err)?,
            run_after: row.try_get("run_after").map_err(Self::db_err)?,
            lease_owner: row.try_get("lease_owner").map_err(Self::db_err)?,
            lease_expires_at: row.try_get("lease_expires_at").map_err(Self::db_err)?,
            last_error: row.try_get("last_error").map_err(Self::db_err)?,
            created_at: row.try_get("created_at").map_err(Self::db_err)?,
            updated_at: row.try_get("updated_at").map_err(Self::db_err)?,
        })
    }
}
