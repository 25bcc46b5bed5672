//! [`TextTracks`]: the text tracks (captions, subtitles) an item's owner uploaded — what the
//! API's text-track routes and playback need — and its implementation, expanded once per backend
//! by [`impl_text_tracks!`]. Adding or removing one bumps the item's `updated_at` in the same
//! transaction: playback keeps manifests per version of the row, so the next manifest names the
//! change.

use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mediaserver_core::{MediaId, TextTrack, TextTrackKind};

/// An uploaded text track as stored (its `track.source` is always `Upload`).
#[derive(Debug, Clone, PartialEq)]
pub struct UploadedTextTrack {
    pub media_id: MediaId,
    pub track: TextTrack,
    /// Size of the stored WebVTT file.
    pub bytes: i64,
    pub created_at: DateTime<Utc>,
}

#[async_trait]
pub trait TextTracks: Send + Sync + std::fmt::Debug {
    /// Records a track whose files are already stored, and bumps the item's `updated_at`.
    /// `false` if the item does not exist; a track id already used for the item → `Conflict`.
    async fn add_text_track(&self, track: &UploadedTextTrack) -> Result<bool>;
    /// The item's uploaded tracks, oldest first.
    async fn text_tracks(&self, media_id: &MediaId) -> Result<Vec<UploadedTextTrack>>;
    /// The uploaded tracks of each of `media_ids` (one query for a page of items), oldest first.
    async fn text_tracks_of(&self, media_ids: &[MediaId]) -> Result<Vec<UploadedTextTrack>>;
    /// Deletes one track and bumps the item's `updated_at`; whether it existed.
    async fn delete_text_track(&self, media_id: &MediaId, track_id: &str) -> Result<bool>;
}

pub(crate) fn kind_str(kind: TextTrackKind) -> &'static str {
    match kind {
        TextTrackKind::Subtitles => "subtitles",
        TextTrackKind::Captions => "captions",
    }
}

pub(crate) fn parse_kind(s: &str) -> Result<TextTrackKind> {
    match s {
        "subtitles" => Ok(TextTrackKind::Subtitles),
        "captions" => Ok(TextTrackKind::Captions),
        other => Err(crate::DbError::Other {
            context: format!("bad text track kind in database: {other:?}"),
            source: None,
        }),
    }
}

/// Expands [`TextTracks`] for `$repo`, whose rows are `$row`.
macro_rules! impl_text_tracks {
    ($repo:ty, $row:ty) => {
        impl $repo {
            fn text_track_from_row(row: &$row) -> $crate::Result<$crate::UploadedTextTrack> {
                use ::sqlx::Row as _;
                let get_s = |c: &str| row.try_get::<String, _>(c).map_err(Self::db_err);
                Ok($crate::UploadedTextTrack {
                    media_id: $crate::shared::parse_column(&get_s("media_id")?, "media id")?,
                    track: ::mediaserver_core::TextTrack {
                        id: get_s("id")?,
                        language: get_s("language")?,
                        label: get_s("label")?,
                        kind: $crate::text_tracks::parse_kind(&get_s("kind")?)?,
                        source: ::mediaserver_core::TextTrackSource::Upload,
                    },
                    bytes: row.try_get("bytes").map_err(Self::db_err)?,
                    created_at: row.try_get("created_at").map_err(Self::db_err)?,
                })
            }
        }

        #[::async_trait::async_trait]
        impl $crate::TextTracks for $repo {
            async fn add_text_track(&self, t: &$crate::UploadedTextTrack) -> $crate::Result<bool> {
                let mut tx = self.begin_write().await?;
                // Bumping the row first also tells whether the item exists.
                let bumped = ::sqlx::query("UPDATE media SET updated_at = $1 WHERE id = $2")
                    .bind(Self::ts($crate::shared::now()))
                    .bind(t.media_id.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::db_err)?;
                if bumped.rows_affected() == 0 {
                    return Ok(false);
                }
                ::sqlx::query(
                    "INSERT INTO text_tracks (media_id, id, language, label, kind, bytes, \
                     created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(t.media_id.as_str())
                .bind(&t.track.id)
                .bind(&t.track.language)
                .bind(&t.track.label)
                .bind($crate::text_tracks::kind_str(t.track.kind))
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
            ) -> $crate::Result<Vec<$crate::UploadedTextTrack>> {
                let rows = ::sqlx::query(
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
            ) -> $crate::Result<Vec<$crate::UploadedTextTrack>> {
                if media_ids.is_empty() {
                    return Ok(Vec::new());
                }
                let placeholders: Vec<String> =
                    (1..=media_ids.len()).map(|n| format!("${n}")).collect();
                let sql = format!(
                    "SELECT media_id, id, language, label, kind, bytes, created_at \
                     FROM text_tracks WHERE media_id IN ({}) ORDER BY created_at, id",
                    placeholders.join(", ")
                );
                let mut query = ::sqlx::query(&sql);
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
            ) -> $crate::Result<bool> {
                let mut tx = self.begin_write().await?;
                let gone = ::sqlx::query("DELETE FROM text_tracks WHERE media_id = $1 AND id = $2")
                    .bind(media_id.as_str())
                    .bind(track_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::db_err)?;
                if gone.rows_affected() == 0 {
                    return Ok(false);
                }
                ::sqlx::query("UPDATE media SET updated_at = $1 WHERE id = $2")
                    .bind(Self::ts($crate::shared::now()))
                    .bind(media_id.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::db_err)?;
                tx.commit().await.map_err(Self::db_err)?;
                Ok(true)
            }
        }
    };
}
pub(crate) use impl_text_tracks;
