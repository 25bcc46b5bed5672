//! `media.ready` / `media.failed` notifications, POSTed to `WEBHOOK_URL` in the background with
//! retries, so a slow or broken receiver never holds up a worker.
//!
//! Each request carries `X-Mediaserver-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` computed
//! over `"<t>.<body>"` with `WEBHOOK_SECRET`; receivers recompute it and reject stale timestamps.

use crate::ErrorChain;
use hmac::{Hmac, Mac};
use mediaserver_core::RetryPolicy;
use serde::Serialize;
use sha2::Sha256;
use std::time::Duration;
use tokio::sync::mpsc;

pub const SIGNATURE_HEADER: &str = "x-mediaserver-signature";
pub const EVENT_HEADER: &str = "x-mediaserver-event";

#[derive(Debug, Clone, Serialize)]
pub struct WebhookEvent {
    /// `media.ready` or `media.failed`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub data: serde_json::Value,
}

/// `t=<timestamp>,v1=<hex hmac>` for `body` sent at `timestamp`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

#[derive(Clone, Debug)]
pub struct WebhookSender {
    tx: mpsc::Sender<WebhookEvent>,
}

/// How one event is delivered: attempts and the backoff between them (the workspace's one
/// [`RetryPolicy`]), and how long one request may take.
#[derive(Clone, Debug)]
pub struct DeliveryPolicy {
    pub retry: RetryPolicy,
    pub timeout: Duration,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        DeliveryPolicy {
            // Waits 2, 4, 8, 16 and 32 s: the cap is never reached.
            retry: RetryPolicy {
                max_attempts: 6,
                backoff_base: Duration::from_secs(2),
                backoff_cap: Duration::from_secs(60),
                ..RetryPolicy::default()
            },
            timeout: Duration::from_secs(10),
        }
    }
}

impl WebhookSender {
    /// Starts the delivery task. Must be called inside a tokio runtime.
    pub fn spawn(url: String, secret: String, policy: DeliveryPolicy) -> WebhookSender {
        let (tx, mut rx) = mpsc::channel::<WebhookEvent>(1024);
        let client = reqwest::Client::builder()
            .timeout(policy.timeout)
            .build()
            .unwrap_or_default();
        tokio::spawn(async move {
            while let Some(event) = rx.recv().await {
                // One task per event: a receiver that is down delays only its own retries.
                tokio::spawn(deliver(
                    client.clone(),
                    url.clone(),
                    secret.clone(),
                    policy.clone(),
                    event,
                ));
            }
        });
        WebhookSender { tx }
    }

    /// Queues an event; never waits. If the queue is full the event is dropped and logged.
    pub fn send(&self, event: WebhookEvent) {
        if let Err(e) = self.tx.try_send(event) {
            tracing::warn!(error = %e, "webhook queue full; event dropped");
        }
    }
}

async fn deliver(
    client: reqwest::Client,
    url: String,
    secret: String,
    policy: DeliveryPolicy,
    event: WebhookEvent,
) {
    let body = match serde_json::to_vec(&event) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %ErrorChain(&e), "cannot serialise webhook event");
            return;
        }
    };
    let attempts = policy.retry.max_attempts;
    for attempt in 1..=attempts {
        let ts = chrono::Utc::now().timestamp();
        let result = client
            .post(&url)
            .header("content-type", "application/json")
            .header(EVENT_HEADER, event.kind)
            .header(SIGNATURE_HEADER, signature(secret.as_bytes(), ts, &body))
            .body(body.clone())
            .send()
            .await;
        match result {
            Ok(r) if r.status().is_success() => {
                tracing::info!(event = event.kind, media_id = %event.id, attempt, "webhook delivered");
                return;
            }
            Ok(r) => {
                tracing::warn!(event = event.kind, status = %r.status(), attempt, "webhook refused")
            }
            // Without the URL: it may embed a token.
            Err(e) => {
                tracing::warn!(event = event.kind, error = %ErrorChain(&e.without_url()), attempt, "webhook failed")
            }
        }
        if attempt < attempts {
            tokio::time::sleep(policy.retry.backoff(attempt)).await;
        }
    }
    tracing::error!(event = event.kind, media_id = %event.id, "webhook given up after {attempts} attempts");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_over_timestamp_and_body() {
        // Reference value from: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret
        let sig = signature(b"secret", 1_700_000_000, br#"{"a":1}"#);
        assert_eq!(
            sig,
            "t=1700000000,v1=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686"
        );
    }
}
