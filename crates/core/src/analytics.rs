//! Viewer analytics: what one playback beacon records, and what is read back for an item over
//! a range of days. Beacons are aggregated per playback session (one row per session, not per
//! beacon); no address or user agent is ever part of these types, only a salted daily hash.

use crate::MediaId;
use chrono::{DateTime, NaiveDate, Utc};

/// One beacon, checked and reduced to what is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewBeacon {
    pub media_id: MediaId,
    /// The player's random id for this playback (checked by the API: 8–64 of `[A-Za-z0-9_-]`).
    pub session: String,
    /// The UTC day the beacon arrived; a session belongs to the day of its first beacon.
    pub day: NaiveDate,
    /// The viewer's salted daily hash (hex): equal for one address and browser on one day and
    /// item, unrelated across days, items and salts.
    pub viewer: String,
    pub at: DateTime<Utc>,
    pub event: ViewEvent,
}

/// What a beacon reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewEvent {
    /// Playback started: the session's first one counts one view.
    Start {
        /// Time to first frame, when the player measured it.
        startup_ms: Option<u32>,
        rendition: Option<String>,
    },
    /// Milliseconds watched since the previous beacon, on `rendition` (else the session's
    /// current one).
    Heartbeat {
        watch_ms: u32,
        rendition: Option<String>,
    },
    /// Playback stalled for this long.
    Rebuffer { duration_ms: u32 },
    /// The player switched to this rendition.
    Rendition { name: String },
    /// A playback error (its message is not stored).
    Error,
    /// Playback ended (or the page closed), with what was watched since the previous beacon.
    End { watch_ms: u32 },
}

/// One day of an item's views.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewDay {
    pub day: NaiveDate,
    pub views: u64,
    /// Distinct viewer hashes among the day's views.
    pub unique_viewers: u64,
    pub watch_ms: u64,
}

/// An item's views over a range of days, as stored (the API derives ratios and percentiles).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ViewStats {
    /// Days with at least one session, oldest first.
    pub days: Vec<ViewDay>,
    pub rebuffer_ms: u64,
    pub rebuffers: u64,
    pub errors: u64,
    /// Every session's time to first frame, ascending.
    pub startup_ms: Vec<u32>,
    /// Watch time by rendition name, by name.
    pub renditions: Vec<(String, u64)>,
}
