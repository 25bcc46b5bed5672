//! A beacon's body: the JSON a player sends, checked field by field (a 400 names the field), and
//! reduced to the [`ViewEvent`] that is stored.

use crate::error::{ApiError, ApiResult};
use crate::http::text::check_text;
use mediaserver_core::analytics::ViewEvent;
use serde::Deserialize;
use utoipa::ToSchema;

/// The largest beacon body accepted (413 beyond).
pub(crate) const MAX_BODY: usize = 4096;
/// Most seconds one heartbeat (or end) may report: heartbeats come every 10 s.
const MAX_WATCH_SECONDS: f64 = 60.0;
/// Longest time to first frame, and longest stall, one beacon may report.
const MAX_MS: f64 = 600_000.0;
/// A position past a week into an item is no position.
const MAX_POSITION_SECONDS: f64 = 7.0 * 86_400.0;
const MAX_MESSAGE_CHARS: usize = 500;
const MAX_RENDITION_CHARS: usize = 32;

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub(crate) enum BeaconEventName {
    /// Playback started (the first frame is shown): a session's first counts one view.
    ViewStart,
    /// Every 10 s while playing: `watch_seconds` since the previous beacon.
    Heartbeat,
    /// Playback stalled for `duration_ms`.
    Rebuffer,
    /// The player switched to `rendition`.
    Rendition,
    /// A playback error (`message` is checked, counted, not stored).
    Error,
    /// Playback ended or the page closed, with `watch_seconds` since the previous beacon.
    End,
}

impl BeaconEventName {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::ViewStart => "view_start",
            Self::Heartbeat => "heartbeat",
            Self::Rebuffer => "rebuffer",
            Self::Rendition => "rendition",
            Self::Error => "error",
            Self::End => "end",
        }
    }
}

/// One playback beacon, as the document describes it: one shape per `event`, each with the fields
/// that belong to it (a field sent with another event is a 400). [`BeaconBody`] reads it, with
/// error messages that name the field.
/// (Only utoipa reads these `serde` attributes: no field is read through this type.)
#[derive(ToSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
#[allow(dead_code)] // The schema only.
pub(crate) enum Beacon {
    /// Playback started (the first frame is shown): a session's first counts one view.
    #[serde(deny_unknown_fields)]
    ViewStart {
        #[schema(min_length = 8, max_length = 64, pattern = "^[A-Za-z0-9_-]{8,64}$")]
        session: String,
        #[schema(minimum = 0, maximum = 604800)]
        position_seconds: Option<f64>,
        /// Milliseconds from the play request to the first frame.
        #[schema(minimum = 0, maximum = 600000)]
        startup_ms: Option<f64>,
        #[schema(min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9 ._+-]{1,32}$")]
        rendition: Option<String>,
    },
    /// Every 10 s while playing.
    #[serde(deny_unknown_fields)]
    Heartbeat {
        #[schema(min_length = 8, max_length = 64, pattern = "^[A-Za-z0-9_-]{8,64}$")]
        session: String,
        #[schema(minimum = 0, maximum = 604800)]
        position_seconds: Option<f64>,
        /// Seconds actually playing since the previous beacon (at most 60).
        #[schema(minimum = 0, maximum = 60)]
        watch_seconds: f64,
        #[schema(min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9 ._+-]{1,32}$")]
        rendition: Option<String>,
    },
    /// Playback stalled (not because of a seek).
    #[serde(deny_unknown_fields)]
    Rebuffer {
        #[schema(min_length = 8, max_length = 64, pattern = "^[A-Za-z0-9_-]{8,64}$")]
        session: String,
        #[schema(minimum = 0, maximum = 604800)]
        position_seconds: Option<f64>,
        /// How long, in milliseconds.
        #[schema(minimum = 0, maximum = 600000)]
        duration_ms: f64,
        #[schema(min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9 ._+-]{1,32}$")]
        rendition: Option<String>,
    },
    /// The player switched to `rendition`.
    #[serde(deny_unknown_fields)]
    Rendition {
        #[schema(min_length = 8, max_length = 64, pattern = "^[A-Za-z0-9_-]{8,64}$")]
        session: String,
        #[schema(minimum = 0, maximum = 604800)]
        position_seconds: Option<f64>,
        #[schema(min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9 ._+-]{1,32}$")]
        rendition: String,
    },
    /// A playback error.
    #[serde(deny_unknown_fields)]
    Error {
        #[schema(min_length = 8, max_length = 64, pattern = "^[A-Za-z0-9_-]{8,64}$")]
        session: String,
        #[schema(minimum = 0, maximum = 604800)]
        position_seconds: Option<f64>,
        #[schema(min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9 ._+-]{1,32}$")]
        rendition: Option<String>,
        /// What went wrong (checked and counted, not stored).
        #[schema(max_length = 500, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
        message: Option<String>,
    },
    /// Playback ended or the page closed.
    #[serde(deny_unknown_fields)]
    End {
        #[schema(min_length = 8, max_length = 64, pattern = "^[A-Za-z0-9_-]{8,64}$")]
        session: String,
        #[schema(minimum = 0, maximum = 604800)]
        position_seconds: Option<f64>,
        /// Seconds actually playing since the previous beacon (at most 60).
        #[schema(minimum = 0, maximum = 60)]
        watch_seconds: Option<f64>,
        #[schema(min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9 ._+-]{1,32}$")]
        rendition: Option<String>,
    },
}

/// What a beacon body is read as: every field optional, so that a 400 can name the one that is
/// missing or belongs to another event.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BeaconBody {
    /// The player's random id for this playback: 8–64 letters, digits, `-` or `_`.
    session: String,
    event: BeaconEventName,
    /// Where playback is, in seconds (any event; checked, not stored).
    #[serde(default)]
    position_seconds: Option<f64>,
    /// `view_start` only: milliseconds from the play request to the first frame.
    #[serde(default)]
    startup_ms: Option<f64>,
    /// `heartbeat` (required) and `end`: seconds watched since the previous beacon, at most 60.
    #[serde(default)]
    watch_seconds: Option<f64>,
    /// `rebuffer` only (required): how long playback stalled, in milliseconds.
    #[serde(default)]
    duration_ms: Option<f64>,
    /// The rendition playing, as the item's `renditions[].name` says (e.g. `720p`); required with
    /// `rendition`. Watch time is counted per rendition for names the item lists.
    #[serde(default)]
    rendition: Option<String>,
    /// `error` only: what went wrong (at most 500 characters, no control characters).
    #[serde(default)]
    message: Option<String>,
}

/// A checked beacon: its session, its event's name, and what is stored.
pub(crate) struct Checked {
    pub(crate) session: String,
    pub(crate) name: BeaconEventName,
    pub(crate) event: ViewEvent,
}

fn bad(field: &str, what: &str) -> ApiError {
    ApiError::BadRequest(format!("{field}: {what}"))
}

/// `value` of `field` within `0..=max` (JSON has no NaN or infinity, but be sure).
fn in_range(field: &str, value: f64, max: f64) -> ApiResult<f64> {
    if value.is_finite() && (0.0..=max).contains(&value) {
        Ok(value)
    } else {
        Err(bad(field, &format!("must be a number from 0 to {max}")))
    }
}

/// `field` sent with an event it does not belong to.
fn only_with(field: &str, value_present: bool, events: &str) -> ApiResult<()> {
    if value_present {
        Err(bad(field, &format!("is only sent with {events}")))
    } else {
        Ok(())
    }
}

fn millis(seconds: f64) -> u32 {
    // In range (checked above): at most 60 000.
    (seconds * 1000.0).round() as u32
}

impl BeaconBody {
    pub(crate) fn check(self) -> ApiResult<Checked> {
        let s = &self.session;
        if !(8..=64).contains(&s.len())
            || !s
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(bad(
                "session",
                "must be 8 to 64 letters, digits, '-' or '_'",
            ));
        }
        if let Some(p) = self.position_seconds {
            in_range("position_seconds", p, MAX_POSITION_SECONDS)?;
        }
        let startup_ms = self
            .startup_ms
            .map(|v| in_range("startup_ms", v, MAX_MS))
            .transpose()?;
        let watch = self
            .watch_seconds
            .map(|v| in_range("watch_seconds", v, MAX_WATCH_SECONDS))
            .transpose()?;
        let duration_ms = self
            .duration_ms
            .map(|v| in_range("duration_ms", v, MAX_MS))
            .transpose()?;
        if let Some(r) = &self.rendition {
            let ok = !r.is_empty()
                && r.chars().count() <= MAX_RENDITION_CHARS
                && r.chars()
                    .all(|c| c.is_ascii_alphanumeric() || " ._+-".contains(c));
            if !ok {
                return Err(bad(
                    "rendition",
                    "must be 1 to 32 letters, digits, spaces or '._+-' (a name from the item's renditions)",
                ));
            }
        }
        if let Some(m) = &self.message {
            if m.chars().count() > MAX_MESSAGE_CHARS {
                return Err(bad("message", "must be at most 500 characters"));
            }
            check_text("message", m)?;
        }
        use BeaconEventName as E;
        let name = self.event;
        if name != E::ViewStart {
            only_with("startup_ms", startup_ms.is_some(), "view_start")?;
        }
        if !matches!(name, E::Heartbeat | E::End) {
            only_with("watch_seconds", watch.is_some(), "heartbeat and end")?;
        }
        if name != E::Rebuffer {
            only_with("duration_ms", duration_ms.is_some(), "rebuffer")?;
        }
        if name != E::Error {
            only_with("message", self.message.is_some(), "error")?;
        }
        let event = match name {
            E::ViewStart => ViewEvent::Start {
                startup_ms: startup_ms.map(|v| v.round() as u32),
                rendition: self.rendition,
            },
            E::Heartbeat => ViewEvent::Heartbeat {
                watch_ms: millis(
                    watch.ok_or_else(|| bad("watch_seconds", "is required with heartbeat"))?,
                ),
                rendition: self.rendition,
            },
            E::Rebuffer => ViewEvent::Rebuffer {
                duration_ms: duration_ms
                    .ok_or_else(|| bad("duration_ms", "is required with rebuffer"))?
                    .round() as u32,
            },
            E::Rendition => ViewEvent::Rendition {
                name: self
                    .rendition
                    .ok_or_else(|| bad("rendition", "is required with rendition"))?,
            },
            E::Error => ViewEvent::Error,
            E::End => ViewEvent::End {
                watch_ms: watch.map_or(0, millis),
            },
        };
        Ok(Checked {
            session: self.session,
            name,
            event,
        })
    }
}

/// Parses and checks a beacon body (a JSON object; the content type is not looked at, so that
/// `navigator.sendBeacon` with a string, `text/plain`, works without a CORS preflight).
pub(crate) fn parse(body: &[u8]) -> ApiResult<Checked> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))?;
    let body: BeaconBody = crate::http::object_into(value)?;
    body.check()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(json: &str) -> String {
        match parse(json.as_bytes()) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("accepted: {json}"),
        }
    }

    #[test]
    fn good_beacons_become_events() {
        let c = parse(br#"{"session":"abcdefgh","event":"view_start","startup_ms":412.6,"rendition":"720p","position_seconds":0}"#).unwrap();
        assert_eq!(
            c.event,
            ViewEvent::Start {
                startup_ms: Some(413),
                rendition: Some("720p".into())
            }
        );
        let c =
            parse(br#"{"session":"abcdefgh","event":"heartbeat","watch_seconds":9.9994}"#).unwrap();
        assert_eq!(
            c.event,
            ViewEvent::Heartbeat {
                watch_ms: 9999,
                rendition: None
            }
        );
        let c = parse(br#"{"session":"a-b_c123","event":"end"}"#).unwrap();
        assert_eq!(c.event, ViewEvent::End { watch_ms: 0 });
        let c =
            parse(br#"{"session":"abcdefgh","event":"error","message":"decode failed"}"#).unwrap();
        assert_eq!(c.event, ViewEvent::Error);
    }

    #[test]
    fn bad_beacons_name_the_field() {
        for (json, field) in [
            (r#"{"session":"short","event":"end"}"#, "session:"),
            (r#"{"session":"has space!","event":"end"}"#, "session:"),
            (
                &format!(r#"{{"session":"{}","event":"end"}}"#, "a".repeat(65)),
                "session:",
            ),
            (r#"{"session":"abcdefgh","event":"watch"}"#, "event:"),
            (r#"{"session":"abcdefgh"}"#, "missing field `event`"),
            (
                r#"{"session":"abcdefgh","event":"heartbeat"}"#,
                "watch_seconds:",
            ),
            (
                r#"{"session":"abcdefgh","event":"heartbeat","watch_seconds":61}"#,
                "watch_seconds:",
            ),
            (
                r#"{"session":"abcdefgh","event":"heartbeat","watch_seconds":-1}"#,
                "watch_seconds:",
            ),
            (
                r#"{"session":"abcdefgh","event":"heartbeat","watch_seconds":"5"}"#,
                "watch_seconds:",
            ),
            (
                r#"{"session":"abcdefgh","event":"end","startup_ms":5}"#,
                "startup_ms:",
            ),
            (
                r#"{"session":"abcdefgh","event":"rebuffer"}"#,
                "duration_ms:",
            ),
            (
                r#"{"session":"abcdefgh","event":"rebuffer","duration_ms":1e9}"#,
                "duration_ms:",
            ),
            (
                r#"{"session":"abcdefgh","event":"rendition"}"#,
                "rendition:",
            ),
            (
                r#"{"session":"abcdefgh","event":"rendition","rendition":"<script>"}"#,
                "rendition:",
            ),
            (
                r#"{"session":"abcdefgh","event":"error","message":"a\u0007b"}"#,
                "message:",
            ),
            (
                r#"{"session":"abcdefgh","event":"end","message":"x"}"#,
                "message:",
            ),
            (
                r#"{"session":"abcdefgh","event":"end","position_seconds":-3}"#,
                "position_seconds:",
            ),
            (
                r#"{"session":"abcdefgh","event":"end","ip":"1.2.3.4"}"#,
                "unknown field `ip`",
            ),
            (r#"["abcdefgh","end"]"#, "expected a JSON object"),
            (
                r#"{"session":"abcdefgh","event":"end""#,
                "invalid JSON body",
            ),
            (
                r#"{"session":"abcdefgh","event":"end","position_seconds":1e999}"#,
                "invalid JSON body",
            ),
        ] {
            let e = err(json);
            assert!(e.contains(field), "{json}: {e}");
        }
        let long = format!(
            r#"{{"session":"abcdefgh","event":"error","message":"{}"}}"#,
            "x".repeat(501)
        );
        assert!(err(&long).starts_with("message:"));
    }
}
