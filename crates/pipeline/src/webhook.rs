//! Sending the webhook outbox: `media.ready` / `media.failed` deliveries, which the database
//! writes in the same transaction as the item's state change, are POSTed to `WEBHOOK_URL` by a
//! loop that claims due deliveries with a lease (two replicas never send one at once; a crashed
//! sender's claim expires), records every attempt, and backs off per the workspace's one
//! [`RetryPolicy`] — about a day of attempts by default — before marking a delivery failed.
//!
//! Each request carries `X-Mediaserver-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` computed
//! over `"<t>.<body>"` with `WEBHOOK_SECRET`; receivers recompute it and reject stale timestamps.
//! The body, and so the event's `id`, is the same on every attempt and redelivery: receivers
//! drop duplicates by `id`.

use crate::ErrorChain;
use chrono::Utc;
use hmac::{Hmac, Mac};
use mediaserver_core::webhook::{DeliveryAttempt, DeliveryNext, WebhookDelivery};
use mediaserver_core::{RetryPolicy, Secret};
use mediaserver_db::DynRepo;
use sha2::Sha256;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub const SIGNATURE_HEADER: &str = "x-mediaserver-signature";
pub const EVENT_HEADER: &str = "x-mediaserver-event";
/// The event's id again, so a receiver can drop a duplicate before parsing the body.
pub const EVENT_ID_HEADER: &str = "x-mediaserver-event-id";

/// Deliveries one sender claims at once (sent concurrently).
const BATCH: u32 = 16;
/// An error recorded on an attempt is cut to this many characters.
const MAX_ERROR_CHARS: usize = 300;

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

/// How deliveries are retried and sent.
#[derive(Clone, Debug)]
pub struct DeliveryPolicy {
    /// Attempts per delivery and the backoff between them (`WEBHOOK_MAX_ATTEMPTS`,
    /// `WEBHOOK_RETRY_BACKOFF_SECONDS`, `WEBHOOK_RETRY_BACKOFF_MAX_SECONDS`).
    pub retry: RetryPolicy,
    /// How long one request may take (`WEBHOOK_TIMEOUT_SECONDS`).
    pub timeout: Duration,
    /// How often an idle sender looks for due deliveries (others' and retries).
    pub poll: Duration,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        DeliveryPolicy {
            // Waits 30 s, 1, 2, 4, 8, 16 and 32 min, then every hour: 30 attempts span ~23 h.
            retry: RetryPolicy {
                max_attempts: 30,
                backoff_base: Duration::from_secs(30),
                backoff_cap: Duration::from_secs(3600),
                ..RetryPolicy::default()
            },
            timeout: Duration::from_secs(10),
            poll: Duration::from_secs(1),
        }
    }
}

impl DeliveryPolicy {
    /// A claim outlives a whole batch of requests that each take up to the timeout.
    fn lease(&self) -> Duration {
        self.timeout * 2 + Duration::from_secs(10)
    }

    /// Where a delivery goes after its `round_attempt`-th attempt (1-based) failed.
    fn after_failure(&self, round_attempt: i32) -> DeliveryNext {
        if round_attempt >= self.retry.max_attempts {
            DeliveryNext::Failed
        } else {
            DeliveryNext::RetryAt(Utc::now() + self.retry.backoff(round_attempt))
        }
    }
}

/// Sends the outbox to one URL. Cheap to clone.
#[derive(Clone)]
pub struct WebhookSender {
    repo: DynRepo,
    url: String,
    secret: Secret,
    policy: DeliveryPolicy,
    client: reqwest::Client,
    /// Names this sender's claims.
    owner: String,
    wake: Arc<Notify>,
}

impl std::fmt::Debug for WebhookSender {
    // Without the URL: it may embed a token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSender")
            .field("owner", &self.owner)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl WebhookSender {
    /// A sender of `repo`'s outbox to `url`, whose claims are named after `owner` (this
    /// process's name) and a random suffix. Turns the outbox on: from now on items becoming ready or failed through
    /// `repo` write deliveries.
    pub fn new(
        repo: DynRepo,
        url: String,
        secret: Secret,
        policy: DeliveryPolicy,
        owner: String,
    ) -> Result<WebhookSender, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(policy.timeout)
            // A redirect would send the signed body somewhere nobody configured.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        repo.record_webhooks(true);
        // Unique even for two senders in one process: each claim belongs to one sender.
        let id = mediaserver_core::new_id();
        let owner = format!("{owner}-{}", &id[id.len() - 8..]);
        Ok(WebhookSender {
            repo,
            url,
            secret,
            policy,
            client,
            owner,
            wake: Arc::default(),
        })
    }

    /// Looks for due deliveries now (a state change in this process just wrote one).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Sends due deliveries until `stop` is cancelled.
    pub async fn run(self, stop: CancellationToken) {
        tracing::info!(owner = %self.owner, "webhook sender started");
        while !stop.is_cancelled() {
            let idle = match self.send_due().await {
                Ok(0) => self.policy.poll,
                Ok(_) => continue,
                Err(e) => {
                    tracing::warn!(error = %ErrorChain(&e), "cannot claim webhook deliveries; retrying");
                    self.policy.poll.max(Duration::from_secs(2))
                }
            };
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(idle) => {}
                () = stop.cancelled() => {}
            }
        }
    }

    /// Claims the due deliveries (up to a batch) and sends them; returns how many.
    pub async fn send_due(&self) -> Result<usize, mediaserver_db::DbError> {
        let due = self
            .repo
            .claim_webhook_deliveries(&self.owner, self.policy.lease(), Utc::now(), BATCH)
            .await?;
        let n = due.len();
        futures::future::join_all(due.into_iter().map(|d| self.attempt(d))).await;
        Ok(n)
    }

    async fn attempt(&self, d: WebhookDelivery) {
        let attempted_at = Utc::now();
        let started = Instant::now();
        let result = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header(EVENT_HEADER, d.event.as_str())
            .header(EVENT_ID_HEADER, d.id.as_str())
            .header(
                SIGNATURE_HEADER,
                signature(
                    self.secret.expose().as_bytes(),
                    attempted_at.timestamp(),
                    d.body.as_bytes(),
                ),
            )
            .body(d.body.clone())
            .send()
            .await;
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let (status_code, error) = match &result {
            Ok(r) if r.status().is_success() => (Some(r.status().as_u16()), None),
            Ok(r) => (
                Some(r.status().as_u16()),
                Some(format!("the receiver answered {}", r.status())),
            ),
            // Without the URL: it may embed a token.
            Err(e) => (None, Some(cut(&describe(e)))),
        };
        let next = match error {
            None => DeliveryNext::Delivered,
            Some(_) => self.policy.after_failure(d.round_attempts + 1),
        };
        match &error {
            None => {
                tracing::info!(event = %d.event, delivery_id = %d.id, media_id = %d.media_id, "webhook delivered")
            }
            Some(e) => {
                tracing::warn!(event = %d.event, delivery_id = %d.id, error = %e, next = ?next, "webhook attempt failed")
            }
        }
        let attempt = DeliveryAttempt {
            number: 0,
            attempted_at,
            duration_ms,
            status_code: status_code.map(i32::from),
            error,
        };
        match self
            .repo
            .record_webhook_attempt(&d.id, &self.owner, &attempt, next)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                tracing::info!(delivery_id = %d.id, "delivery redelivered or reclaimed meanwhile")
            }
            Err(e) => {
                // The claim expires and the delivery is sent again: at least once.
                tracing::warn!(delivery_id = %d.id, error = %ErrorChain(&e), "could not record a webhook attempt")
            }
        }
    }
}

/// A reqwest error for the record: what went wrong and its causes, without the URL (which may
/// embed a token) that reqwest puts in its own message.
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_redirect() {
        "redirect refused"
    } else {
        "request failed"
    };
    match std::error::Error::source(e) {
        Some(cause) => format!("{what}: {}", ErrorChain(cause)),
        None => what.to_string(),
    }
}

fn cut(s: &str) -> String {
    s.chars().take(MAX_ERROR_CHARS).collect()
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

    #[test]
    fn default_retries_span_about_a_day() {
        let p = DeliveryPolicy::default();
        let total: Duration = (1..p.retry.max_attempts).map(|n| p.retry.backoff(n)).sum();
        assert!(
            total > Duration::from_secs(20 * 3600) && total < Duration::from_secs(26 * 3600),
            "{total:?}"
        );
        assert_eq!(p.after_failure(p.retry.max_attempts), DeliveryNext::Failed);
        assert!(matches!(p.after_failure(1), DeliveryNext::RetryAt(_)));
    }
}
