//! [`Analytics`]: viewer beacons aggregated per playback session, read back per item and day —
//! and its implementation, expanded once per backend by [`impl_analytics!`].
//!
//! Bounded by design: a beacon never adds a row of its own. It updates its session's one row
//! (`view_sessions`: counters, the view flag, time to first frame) and, for watch time, one row
//! per item, day and rendition name (`view_renditions`). Rows older than the retention are
//! removed by [`Analytics::prune_views`]. The viewer column holds a salted daily hash made by
//! the API, never an address or a user agent.

use crate::Result;
use async_trait::async_trait;
use chrono::NaiveDate;
use mediaserver_core::analytics::{ViewBeacon, ViewStats};
use mediaserver_core::MediaId;

#[async_trait]
pub trait Analytics: Send + Sync + std::fmt::Debug {
    /// Adds `beacon` to its session (made on its first beacon, dated that day). `true` if this
    /// beacon counted the session's one view (its first `Start`); `NotFound` if the item is gone.
    async fn record_view_beacon(&self, beacon: &ViewBeacon) -> Result<bool>;
    /// The item's sessions dated `from..=to`.
    async fn view_stats(
        &self,
        media_id: &MediaId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<ViewStats>;
    /// Deletes every session and rendition row dated before `before`; returns how many sessions.
    async fn prune_views(&self, before: NaiveDate) -> Result<u64>;
}

/// Days are stored as `YYYY-MM-DD` text on both backends: byte order is date order.
pub(crate) fn day_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub(crate) fn parse_day(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| crate::DbError::other("bad day in view_sessions", e))
}

/// A stored sum or count (never negative) as `u64`.
pub(crate) fn count(v: Option<i64>) -> u64 {
    u64::try_from(v.unwrap_or(0)).unwrap_or(0)
}

/// Expands [`Analytics`] for `$repo` (see `repo_impl.rs` for what a backend provides).
macro_rules! impl_analytics {
    ($repo:ty) => {
        impl $repo {
            /// A foreign-key failure here means the item was deleted meanwhile.
            fn view_err(e: ::sqlx::Error) -> $crate::DbError {
                let gone = e.as_database_error().is_some_and(|d| {
                    d.kind() == ::sqlx::error::ErrorKind::ForeignKeyViolation
                });
                if gone {
                    $crate::DbError::NotFound
                } else {
                    Self::db_err(e)
                }
            }
        }

        #[::async_trait::async_trait]
        impl $crate::Analytics for $repo {
            async fn record_view_beacon(
                &self,
                b: &::mediaserver_core::analytics::ViewBeacon,
            ) -> $crate::Result<bool> {
                use ::mediaserver_core::analytics::ViewEvent;
                let media_id = b.media_id.as_str();
                let session = b.session.as_str();
                let at = Self::ts(b.at);
                let mut tx = self.begin_write().await?;
                // The session's row, dated and attributed by its first beacon. Each statement
                // below changes it in place, so two beacons racing for one session on
                // PostgreSQL cannot both count its view.
                ::sqlx::query(
                    "INSERT INTO view_sessions (media_id, session, day, viewer, started, \
                     watch_ms, rebuffer_ms, rebuffers, errors, ended, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, 0, 0, 0, 0, 0, 0, $5, $5) \
                     ON CONFLICT (media_id, session) DO NOTHING",
                )
                .bind(media_id)
                .bind(session)
                .bind($crate::analytics::day_text(b.day))
                .bind(&b.viewer)
                .bind(&at)
                .execute(&mut *tx)
                .await
                .map_err(Self::view_err)?;
                let mut new_view = false;
                let watched: Option<(u32, Option<&str>)> = match &b.event {
                    ViewEvent::Start {
                        startup_ms,
                        rendition,
                    } => {
                        let done = ::sqlx::query(
                            "UPDATE view_sessions SET started = 1, startup_ms = $3, \
                             rendition = COALESCE($4, rendition), updated_at = $5 \
                             WHERE media_id = $1 AND session = $2 AND started = 0",
                        )
                        .bind(media_id)
                        .bind(session)
                        .bind(startup_ms.map(i64::from))
                        .bind(rendition.as_deref())
                        .bind(&at)
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
                        ::sqlx::query(
                            "UPDATE view_sessions SET rebuffer_ms = rebuffer_ms + $3, \
                             rebuffers = rebuffers + 1, updated_at = $4 \
                             WHERE media_id = $1 AND session = $2",
                        )
                        .bind(media_id)
                        .bind(session)
                        .bind(i64::from(*duration_ms))
                        .bind(&at)
                        .execute(&mut *tx)
                        .await
                        .map_err(Self::db_err)?;
                        None
                    }
                    ViewEvent::Rendition { name } => {
                        ::sqlx::query(
                            "UPDATE view_sessions SET rendition = $3, updated_at = $4 \
                             WHERE media_id = $1 AND session = $2",
                        )
                        .bind(media_id)
                        .bind(session)
                        .bind(name)
                        .bind(&at)
                        .execute(&mut *tx)
                        .await
                        .map_err(Self::db_err)?;
                        None
                    }
                    ViewEvent::Error => {
                        ::sqlx::query(
                            "UPDATE view_sessions SET errors = errors + 1, updated_at = $3 \
                             WHERE media_id = $1 AND session = $2",
                        )
                        .bind(media_id)
                        .bind(session)
                        .bind(&at)
                        .execute(&mut *tx)
                        .await
                        .map_err(Self::db_err)?;
                        None
                    }
                };
                if let Some((watch_ms, rendition)) = watched {
                    let ended = i32::from(matches!(b.event, ViewEvent::End { .. }));
                    let row = ::sqlx::query(
                        "UPDATE view_sessions SET watch_ms = watch_ms + $3, \
                         rendition = COALESCE($4, rendition), \
                         ended = CASE WHEN $5 = 1 THEN 1 ELSE ended END, updated_at = $6 \
                         WHERE media_id = $1 AND session = $2 RETURNING day, rendition",
                    )
                    .bind(media_id)
                    .bind(session)
                    .bind(i64::from(watch_ms))
                    .bind(rendition)
                    .bind(ended)
                    .bind(&at)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(Self::db_err)?;
                    use ::sqlx::Row as _;
                    let day: String = row.try_get("day").map_err(Self::db_err)?;
                    let current: Option<String> =
                        row.try_get("rendition").map_err(Self::db_err)?;
                    if let Some(name) = current.filter(|_| watch_ms > 0) {
                        ::sqlx::query(
                            "INSERT INTO view_renditions (media_id, day, name, watch_ms) \
                             VALUES ($1, $2, $3, $4) ON CONFLICT (media_id, day, name) \
                             DO UPDATE SET watch_ms = view_renditions.watch_ms + \
                             excluded.watch_ms",
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
            ) -> $crate::Result<::mediaserver_core::analytics::ViewStats> {
                use ::sqlx::Row as _;
                use $crate::analytics::{count, day_text, parse_day};
                let (from, to) = (day_text(from), day_text(to));
                let mut stats = ::mediaserver_core::analytics::ViewStats::default();
                // Unique viewers are distinct hashes per day: the salt changes daily, so the
                // same person on two days is two hashes by design.
                let rows = ::sqlx::query(
                    "SELECT day, CAST(SUM(started) AS BIGINT) AS views, \
                     COUNT(DISTINCT CASE WHEN started = 1 THEN viewer END) AS viewers, \
                     CAST(SUM(watch_ms) AS BIGINT) AS watch_ms, \
                     CAST(SUM(rebuffer_ms) AS BIGINT) AS rebuffer_ms, \
                     CAST(SUM(rebuffers) AS BIGINT) AS rebuffers, \
                     CAST(SUM(errors) AS BIGINT) AS errors \
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
                    let get = |c: &str| -> $crate::Result<u64> {
                        Ok(count(row.try_get::<Option<i64>, _>(c).map_err(Self::db_err)?))
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
                let rows = ::sqlx::query(
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
                let rows = ::sqlx::query(
                    "SELECT name, CAST(SUM(watch_ms) AS BIGINT) AS watch_ms FROM view_renditions \
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

            async fn prune_views(&self, before: ::chrono::NaiveDate) -> $crate::Result<u64> {
                let before = $crate::analytics::day_text(before);
                let mut tx = self.begin_write().await?;
                let gone = ::sqlx::query("DELETE FROM view_sessions WHERE day < $1")
                    .bind(&before)
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::db_err)?
                    .rows_affected();
                ::sqlx::query("DELETE FROM view_renditions WHERE day < $1")
                    .bind(&before)
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::db_err)?;
                tx.commit().await.map_err(Self::db_err)?;
                Ok(gone)
            }
        }
    };
}
pub(crate) use impl_analytics;
