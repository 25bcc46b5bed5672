//! The MySQL expansion of [`crate::analytics`]: its statements ported from the shared ones
//! (`$n` placeholders, see [`super::sql`]; no `RETURNING`; MySQL's quoting and functions).

use super::MySqlRepo;

impl MySqlRepo {
    /// A foreign-key failure here means the item was deleted meanwhile.
    pub(super) fn view_err(e: ::sqlx::Error) -> crate::DbError {
        let gone = e
            .as_database_error()
            .is_some_and(|d| d.kind() == ::sqlx::error::ErrorKind::ForeignKeyViolation);
        if gone {
            crate::DbError::NotFound
        } else {
            Self::db_err(e)
        }
    }
}

#[::async_trait::async_trait]
impl crate::Analytics for MySqlRepo {
    async fn record_view_beacon(
        &self,
        b: &::mediaserver_core::analytics::ViewBeacon,
    ) -> crate::Result<bool> {
        use ::mediaserver_core::analytics::ViewEvent;
        let media_id = b.media_id.as_str();
        let session = b.session.as_str();
        let at = Self::ts(b.at);
        let mut tx = self.begin_write().await?;
        // The session's row, dated and attributed by its first beacon. Each statement
        // below changes it in place, so two beacons racing for one session on
        // PostgreSQL cannot both count its view.
        crate::mysql::sql::query(
            "INSERT INTO view_sessions (media_id, session, day, viewer, started, \
             watch_ms, rebuffer_ms, rebuffers, errors, ended, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 0, 0, 0, 0, 0, 0, $5, $5) \
             ON DUPLICATE KEY UPDATE media_id = media_id",
        )
        .bind(media_id)
        .bind(session)
        .bind(crate::analytics::day_text(b.day))
        .bind(&b.viewer)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(Self::view_err)?;
        let mut new_view = false;
        let watched: Option<(u32, Option<&str>)> = match &b.event {
            ViewEvent::Start {
                startup_ms,
                rendition,
            } => {
                let done = crate::mysql::sql::query(
                    "UPDATE view_sessions SET started = 1, startup_ms = $3, \
                     rendition = COALESCE($4, rendition), updated_at = $5 \
                     WHERE media_id = $1 AND session = $2 AND started = 0",
                )
                .bind(media_id)
                .bind(session)
                .bind(startup_ms.map(i64::from))
                .bind(rendition.as_deref())
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(Self::db_err)?;
                new_view = done.rows_affected() == 1;
                None
            }
            ViewEvent::Heartbeat {
                watch_ms,
                rendition,
            } => Some((*watch_ms, rendition.as_deref())),
            ViewEvent::End { watch_ms } => Some((*watch_ms, None)),
            ViewEvent::Rebuffer { duration_ms } => {
                crate::mysql::sql::query(
                    "UPDATE view_sessions SET rebuffer_ms = rebuffer_ms + $3, \
                     rebuffers = rebuffers + 1, updated_at = $4 \
                     WHERE media_id = $1 AND session = $2",
                )
                .bind(media_id)
                .bind(session)
                .bind(i64::from(*duration_ms))
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(Self::db_err)?;
                None
            }
            ViewEvent::Rendition { name } => {
                crate::mysql::sql::query(
                    "UPDATE view_sessions SET rendition = $3, updated_at = $4 \
                     WHERE media_id = $1 AND session = $2",
                )
                .bind(media_id)
                .bind(session)
                .bind(name)
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(Self::db_err)?;
                None
            }
            ViewEvent::Error => {
                crate::mysql::sql::query(
                    "UPDATE view_sessions SET errors = errors + 1, updated_at = $3 \
                     WHERE media_id = $1 AND session = $2",
                )
                .bind(media_id)
                .bind(session)
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(Self::db_err)?;
                None
            }
        };
        if let Some((watch_ms, rendition)) = watched {
            let ended = i32::from(matches!(b.event, ViewEvent::End { .. }));
            crate::mysql::sql::query(
                "UPDATE view_sessions SET watch_ms = watch_ms + $3, \
                 rendition = COALESCE($4, rendition), \
                 ended = CASE WHEN $5 = 1 THEN 1 ELSE ended END, updated_at = $6 \
                 WHERE media_id = $1 AND session = $2",
            )
            .bind(media_id)
            .bind(session)
            .bind(i64::from(watch_ms))
            .bind(rendition)
            .bind(ended)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(Self::db_err)?;
            // The row this transaction just wrote (and holds locked).
            let row = crate::mysql::sql::query(
                "SELECT day, rendition FROM view_sessions WHERE media_id = $1 AND session = $2",
            )
            .bind(media_id)
            .bind(session)
            .fetch_one(&mut *tx)
            .await
            .map_err(Self::db_err)?;
            let day: String = row.try_get("day").map_err(Self::db_err)?;
            let current: Option<String> = row.try_get("rendition").map_err(Self::db_err)?;
            if let Some(name) = current.filter(|_| watch_ms > 0) {
                crate::mysql::sql::query(
                    "INSERT INTO view_renditions (media_id, day, name, watch_ms) \
                     VALUES ($1, $2, $3, $4) \
                     ON DUPLICATE KEY UPDATE watch_ms = watch_ms + $4",
                )
                .bind(media_id)
                .bind(day)
                .bind(name)
                .bind(i64::from(watch_ms))
                .execute(&mut *tx)
                .await
                .map_err(Self::view_err)?;
            }
        }
        tx.commit().await.map_err(Self::db_err)?;
        Ok(new_view)
    }

    async fn view_stats(
        &self,
        media_id: &::mediaserver_core::MediaId,
        from: ::chrono::NaiveDate,
        to: ::chrono::NaiveDate,
    ) -> crate::Result<::mediaserver_core::analytics::ViewStats> {
        use crate::analytics::{count, day_text, parse_day};
        let (from, to) = (day_text(from), day_text(to));
        let mut stats = ::mediaserver_core::analytics::ViewStats::default();
        // Unique viewers are distinct hashes per day: the salt changes daily, so the
        // same person on two days is two hashes by design.
        let rows = crate::mysql::sql::query(
            "SELECT day, CAST(SUM(started) AS SIGNED) AS views, \
             COUNT(DISTINCT CASE WHEN started = 1 THEN viewer END) AS viewers, \
             CAST(SUM(watch_ms) AS SIGNED) AS watch_ms, \
             CAST(SUM(rebuffer_ms) AS SIGNED) AS rebuffer_ms, \
             CAST(SUM(rebuffers) AS SIGNED) AS rebuffers, \
             CAST(SUM(errors) AS SIGNED) AS errors \
             FROM view_sessions WHERE media_id = $1 AND day >= $2 AND day <= $3 \
             GROUP BY day ORDER BY day",
        )
        .bind(media_id.as_str())
        .bind(&from)
        .bind(&to)
        .fetch_all(&self.pool)
        .await
        .map_err(Self::db_err)?;
        for row in rows {
            let get = |c: &str| -> crate::Result<u64> {
                Ok(count(
                    row.try_get::<Option<i64>, _>(c).map_err(Self::db_err)?,
                ))
            };
            let day: String = row.try_get("day").map_err(Self::db_err)?;
            stats.rebuffer_ms += get("rebuffer_ms")?;
            stats.rebuffers += get("rebuffers")?;
            stats.errors += get("errors")?;
            stats.days.push(::mediaserver_core::analytics::ViewDay {
                day: parse_day(&day)?,
                views: get("views")?,
                unique_viewers: get("viewers")?,
                watch_ms: get("watch_ms")?,
            });
        }
        let rows = crate::mysql::sql::query(
            "SELECT startup_ms FROM view_sessions WHERE media_id = $1 AND day >= $2 \
             AND day <= $3 AND startup_ms IS NOT NULL ORDER BY startup_ms",
        )
        .bind(media_id.as_str())
        .bind(&from)
        .bind(&to)
        .fetch_all(&self.pool)
        .await
        .map_err(Self::db_err)?;
        for row in rows {
            let ms: i64 = row.try_get("startup_ms").map_err(Self::db_err)?;
            stats
                .startup_ms
                .push(u32::try_from(ms.max(0)).unwrap_or(u32::MAX));
        }
        let rows = crate::mysql::sql::query(
            "SELECT name, CAST(SUM(watch_ms) AS SIGNED) AS watch_ms FROM view_renditions \
             WHERE media_id = $1 AND day >= $2 AND day <= $3 GROUP BY name ORDER BY name",
        )
        .bind(media_id.as_str())
        .bind(&from)
        .bind(&to)
        .fetch_all(&self.pool)
        .await
        .map_err(Self::db_err)?;
        for row in rows {
            let name: String = row.try_get("name").map_err(Self::db_err)?;
            let ms = count(row.try_get("watch_ms").map_err(Self::db_err)?);
            stats.renditions.push((name, ms));
        }
        Ok(stats)
    }

    async fn prune_views(&self, before: ::chrono::NaiveDate) -> crate::Result<u64> {
        let before = crate::analytics::day_text(before);
        let mut tx = self.begin_write().await?;
        let gone = crate::mysql::sql::query("DELETE FROM view_sessions WHERE day < $1")
            .bind(&before)
            .execute(&mut *tx)
            .await
            .map_err(Self::db_err)?
            .rows_affected();
        crate::mysql::sql::query("DELETE FROM view_renditions WHERE day < $1")
            .bind(&before)
            .execute(&mut *tx)
            .await
            .map_err(Self::db_err)?;
        tx.commit().await.map_err(Self::db_err)?;
        Ok(gone)
    }
}
