//! Webhooks: the events (`media.ready`, `media.failed`) and the JSON receivers get, and the
//! deliveries of the outbox — one per event, retried per [`crate::RetryPolicy`], every attempt
//! recorded. The database writes a delivery in the same transaction as the state change it
//! announces; the pipeline sends it.

use crate::ids::{DeliveryId, MediaId};
use crate::layout;
use crate::model::{string_enum, Media, MediaStatus, ParseEnumError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

/// What happened to an item: the `type` of a webhook event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum WebhookEventKind {
    #[serde(rename = "media.ready")]
    MediaReady,
    #[serde(rename = "media.failed")]
    MediaFailed,
}

impl WebhookEventKind {
    pub const ALL: &'static [WebhookEventKind] =
        &[WebhookEventKind::MediaReady, WebhookEventKind::MediaFailed];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEventKind::MediaReady => "media.ready",
            WebhookEventKind::MediaFailed => "media.failed",
        }
    }
}

impl fmt::Display for WebhookEventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for WebhookEventKind {
    type Err = ParseEnumError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| ParseEnumError {
                what: "webhook event",
                value: s.to_string(),
            })
    }
}

string_enum!(
    /// Where a delivery is: `pending` (due now or after a backoff), `delivered` (the receiver
    /// answered 2xx), `failed` (every attempt refused; an admin may redeliver).
    DeliveryStatus, "delivery status" {
        Pending => "pending", Delivered => "delivered", Failed => "failed",
    }
);

/// The body of a webhook request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WebhookEvent {
    #[serde(rename = "type")]
    pub kind: WebhookEventKind,
    /// The event's id, the same on every (re)delivery.
    pub id: DeliveryId,
    pub created_at: DateTime<Utc>,
    /// The item as it was when the event happened.
    pub data: serde_json::Value,
}

impl WebhookEvent {
    /// The event `kind` about `media`, as it is now.
    pub fn about(kind: WebhookEventKind, id: DeliveryId, media: &Media) -> WebhookEvent {
        WebhookEvent {
            kind,
            id,
            created_at: Utc::now(),
            data: media_summary(media),
        }
    }
}

/// The item as webhook receivers see it.
fn media_summary(m: &Media) -> serde_json::Value {
    let base = format!("/v1/media/{}", m.id);
    serde_json::json!({
        "id": m.id,
        "kind": m.kind,
        "status": m.status,
        "title": m.title,
        "owner_id": m.owner_id,
        "duration_seconds": m.duration_seconds,
        "width": m.width,
        "height": m.height,
        "error": m.error,
        "renditions": m.outputs.renditions,
        "playback": (m.status == MediaStatus::Ready && m.outputs.hls.is_some()).then(|| serde_json::json!({
            "hls": format!("{base}/{}", layout::public::HLS_MASTER),
            "dash": format!("{base}/{}", layout::public::DASH_MANIFEST),
        })),
    })
}

/// One event on its way to the receiver.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookDelivery {
    /// Also the event's `id`.
    pub id: DeliveryId,
    pub event: WebhookEventKind,
    pub media_id: MediaId,
    /// The JSON sent, byte for byte the same on every attempt.
    pub body: String,
    pub status: DeliveryStatus,
    /// Attempts so far, redeliveries included.
    pub attempts: i32,
    /// Attempts since it was queued or last redelivered: what the backoff counts.
    pub round_attempts: i32,
    /// When it is due (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When a receiver last accepted it.
    pub delivered_at: Option<DateTime<Utc>>,
}

/// One try at sending a delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryAttempt {
    /// 1, 2, … over the delivery's life.
    pub number: i32,
    pub attempted_at: DateTime<Utc>,
    pub duration_ms: i64,
    /// The receiver's answer, if it answered.
    pub status_code: Option<i32>,
    /// Why it did not count as delivered (no secret, no URL).
    pub error: Option<String>,
}

/// What an attempt leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryNext {
    Delivered,
    RetryAt(DateTime<Utc>),
    /// Out of attempts.
    Failed,
}

/// A page of deliveries, newest first.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub status: Option<DeliveryStatus>,
    /// Only deliveries older than this one (the previous page's last).
    pub before_id: Option<DeliveryId>,
    pub limit: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_statuses_round_trip() {
        for k in WebhookEventKind::ALL {
            assert_eq!(k.as_str().parse::<WebhookEventKind>().unwrap(), *k);
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        for s in DeliveryStatus::ALL {
            assert_eq!(s.as_str().parse::<DeliveryStatus>().unwrap(), *s);
        }
        assert!("lost".parse::<DeliveryStatus>().is_err());
    }
}
