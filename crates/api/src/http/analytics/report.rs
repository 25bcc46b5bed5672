//! An item's analytics over a range of days: the query's dates, and the report made from the
//! stored aggregates (percentiles, the rebuffer ratio, every day of the range).

use crate::error::{ApiError, ApiResult};
use chrono::{Days, NaiveDate};
use mediaserver_core::analytics::ViewStats;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// The longest range one report covers, in days (both ends included).
pub(crate) const MAX_RANGE_DAYS: u64 = 366;
/// The range without `from`: this many days up to `to`.
const DEFAULT_RANGE_DAYS: u64 = 30;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RangeParams {
    /// First day (UTC, `YYYY-MM-DD`, included); default 29 days before `to`.
    #[param(value_type = Option<String>, format = Date)]
    from: Option<String>,
    /// Last day (UTC, `YYYY-MM-DD`, included); default today. At most 366 days after `from`.
    #[param(value_type = Option<String>, format = Date)]
    to: Option<String>,
}

fn date(field: &str, value: &str) -> ApiResult<NaiveDate> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .filter(|d| value.len() == 10 && d.format("%Y-%m-%d").to_string() == value)
        .ok_or_else(|| ApiError::BadRequest(format!("{field}: must be a date as YYYY-MM-DD")))
}

impl RangeParams {
    /// The checked range, `today` filling in what is missing.
    pub(crate) fn range(&self, today: NaiveDate) -> ApiResult<(NaiveDate, NaiveDate)> {
        let to = match &self.to {
            Some(v) => date("to", v)?,
            None => today,
        };
        let from = match &self.from {
            Some(v) => date("from", v)?,
            None => to
                .checked_sub_days(Days::new(DEFAULT_RANGE_DAYS - 1))
                .unwrap_or(to),
        };
        if from > to {
            return Err(ApiError::BadRequest("from: must not be after to".into()));
        }
        if (to - from).num_days() >= MAX_RANGE_DAYS as i64 {
            return Err(ApiError::BadRequest(format!(
                "to: the range may cover at most {MAX_RANGE_DAYS} days"
            )));
        }
        Ok((from, to))
    }
}

/// Time to first frame over the range's views, nearest-rank percentiles; null without any.
#[derive(Serialize, ToSchema, Debug, PartialEq)]
pub(crate) struct Startup {
    p50: Option<u32>,
    p95: Option<u32>,
}

#[derive(Serialize, ToSchema, Debug, PartialEq)]
pub(crate) struct DayReport {
    /// `YYYY-MM-DD` (UTC).
    #[schema(value_type = String, format = Date)]
    date: NaiveDate,
    views: u64,
    unique_viewers: u64,
    watch_seconds: f64,
}

/// An item's viewing over a range of days. Sessions belong to the day of their first beacon.
#[derive(Serialize, ToSchema, Debug, PartialEq)]
pub(crate) struct AnalyticsReport {
    #[schema(value_type = String, format = Date)]
    from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    to: NaiveDate,
    /// Playback sessions that started (one per session, however often it reports a start).
    views: u64,
    /// Distinct viewers per day, summed over the days: viewers are a salted daily hash, so one
    /// person on two days counts twice.
    unique_viewers: u64,
    /// Seconds actually playing, as the players reported.
    watch_seconds: f64,
    startup_ms: Startup,
    /// Rebuffering time / (watch time + rebuffering time), 0 to 1; 0 when nothing was played.
    rebuffer_ratio: f64,
    rebuffer_seconds: f64,
    rebuffers: u64,
    /// Playback errors the players reported.
    errors: u64,
    /// Watch time in seconds by rendition name (watch time on a rendition the item does not
    /// list, or before the player named one, is in `watch_seconds` only).
    renditions: BTreeMap<String, f64>,
    /// Every day of the range, oldest first (days without views are zeros).
    days: Vec<DayReport>,
}

fn seconds(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

/// The nearest-rank `p`th percentile of `sorted` (ascending).
fn percentile(sorted: &[u32], p: u64) -> Option<u32> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len() as u64;
    let rank = (p * n).div_ceil(100).max(1);
    sorted.get(usize::try_from(rank - 1).ok()?).copied()
}

impl AnalyticsReport {
    pub(crate) fn new(from: NaiveDate, to: NaiveDate, stats: ViewStats) -> Self {
        let mut days = Vec::new();
        let mut stored = stats.days.iter().peekable();
        let mut totals = (0u64, 0u64, 0u64);
        for date in from.iter_days().take_while(|d| *d <= to) {
            let mut day = DayReport {
                date,
                views: 0,
                unique_viewers: 0,
                watch_seconds: 0.0,
            };
            if let Some(s) = stored.next_if(|s| s.day == date) {
                day.views = s.views;
                day.unique_viewers = s.unique_viewers;
                day.watch_seconds = seconds(s.watch_ms);
                totals.0 += s.views;
                totals.1 += s.unique_viewers;
                totals.2 += s.watch_ms;
            }
            days.push(day);
        }
        let (views, unique_viewers, watch_ms) = totals;
        let played = watch_ms + stats.rebuffer_ms;
        let rebuffer_ratio = if played == 0 {
            0.0
        } else {
            stats.rebuffer_ms as f64 / played as f64
        };
        AnalyticsReport {
            from,
            to,
            views,
            unique_viewers,
            watch_seconds: seconds(watch_ms),
            startup_ms: Startup {
                p50: percentile(&stats.startup_ms, 50),
                p95: percentile(&stats.startup_ms, 95),
            },
            rebuffer_ratio,
            rebuffer_seconds: seconds(stats.rebuffer_ms),
            rebuffers: stats.rebuffers,
            errors: stats.errors,
            renditions: stats
                .renditions
                .into_iter()
                .map(|(name, ms)| (name, seconds(ms)))
                .collect(),
            days,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mediaserver_core::analytics::ViewDay;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn params(from: Option<&str>, to: Option<&str>) -> RangeParams {
        RangeParams {
            from: from.map(str::to_string),
            to: to.map(str::to_string),
        }
    }

    #[test]
    fn ranges_default_and_are_bounded() {
        let today = d("2026-06-30");
        assert_eq!(
            params(None, None).range(today).unwrap(),
            (d("2026-06-01"), today)
        );
        assert_eq!(
            params(Some("2026-01-01"), Some("2026-12-31"))
                .range(today)
                .unwrap(),
            (d("2026-01-01"), d("2026-12-31"))
        );
        for (from, to, field) in [
            (Some("2026-01-01"), Some("2027-01-02"), "to:"),
            (Some("2026-02-01"), Some("2026-01-01"), "from:"),
            (Some("2026-02-30"), None, "from:"),
            (Some("2026-2-1"), None, "from:"),
            (None, Some("yesterday"), "to:"),
            (None, Some("+12026-01-01"), "to:"),
        ] {
            let e = params(from, to).range(today).unwrap_err().to_string();
            assert!(e.starts_with(field), "{from:?} {to:?}: {e}");
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[7], 95), Some(7));
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(
            (percentile(&v, 50), percentile(&v, 95)),
            (Some(50), Some(95))
        );
        assert_eq!(percentile(&[10, 20, 30], 50), Some(20));
    }

    #[test]
    fn the_report_fills_every_day_and_sums_them() {
        let stats = ViewStats {
            days: vec![
                ViewDay {
                    day: d("2026-01-02"),
                    views: 2,
                    unique_viewers: 1,
                    watch_ms: 9000,
                },
                ViewDay {
                    day: d("2026-01-04"),
                    views: 1,
                    unique_viewers: 1,
                    watch_ms: 1000,
                },
            ],
            rebuffer_ms: 2500,
            rebuffers: 2,
            errors: 1,
            startup_ms: vec![100, 200, 900],
            renditions: vec![("720p".into(), 4000)],
        };
        let r = AnalyticsReport::new(d("2026-01-01"), d("2026-01-05"), stats);
        assert_eq!(r.days.len(), 5);
        assert_eq!(r.days[1].views, 2);
        assert_eq!(r.days[0].views, 0);
        assert_eq!((r.views, r.unique_viewers, r.watch_seconds), (3, 2, 10.0));
        assert_eq!(r.rebuffer_ratio, 2500.0 / 12500.0);
        assert_eq!(
            r.startup_ms,
            Startup {
                p50: Some(200),
                p95: Some(900)
            }
        );
        assert_eq!(r.renditions.get("720p"), Some(&4.0));
        let empty = AnalyticsReport::new(d("2026-01-01"), d("2026-01-01"), ViewStats::default());
        assert_eq!(empty.rebuffer_ratio, 0.0);
    }
}
