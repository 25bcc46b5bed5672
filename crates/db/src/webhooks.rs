//! [`Webhooks`]: the webhook outbox — deliveries written in the same transaction as the state
//! change they announce (an item becoming ready or failed, see `processing.rs`), claimed by
//! senders with a lease, every attempt recorded — and its implementation, expanded once per
//! backend by [`impl_webhooks!`].
//!
//! Invariants kept by every statement here:
//! - `next_attempt_at` is set exactly while a delivery is `pending`;
//! - a sender's claim is `lease_owner` + `lease_expires_at`; only the holder's attempt moves the
//!   delivery on, and a redelivery takes the claim away (a sender still in flight then records
//!   its attempt but changes nothing else);
//! - `round_attempts` counts attempts since the delivery was queued or redelivered.

use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mediaserver_core::webhook::{DeliveryAttempt, DeliveryFilter, DeliveryNext, WebhookDelivery};
use mediaserver_core::DeliveryId;
use std::time::Duration;

#[async_trait]
pub trait Webhooks: Send + Sync + std::fmt::Debug {
    /// Whether an item becoming ready or failed through this repo also writes a webhook
    /// delivery, in the same transaction. Off until turned on (without `WEBHOOK_URL` nobody
    /// would ever send them).
    fn record_webhooks(&self, on: bool);
    /// Claims up to `limit` due deliveries (`pending`, `next_attempt_at <= now`, unclaimed or
    /// claim expired) for `owner` until `now + lease`, oldest due first. Two senders never get
    /// the same delivery while its claim runs.
    async fn claim_webhook_deliveries(
        &self,
        owner: &str,
        lease: Duration,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>>;
    /// Records an attempt (numbered here) and, if `owner` still holds the claim, what it leads
    /// to: delivered, pending until `RetryAt`, or failed; the claim is released. `false` if the
    /// claim was lost (only the attempt was recorded). `NotFound` if there is no such delivery.
    async fn record_webhook_attempt(
        &self,
        id: &DeliveryId,
        owner: &str,
        attempt: &DeliveryAttempt,
        next: DeliveryNext,
    ) -> Result<bool>;
    /// Newest first.
    async fn list_webhook_deliveries(
        &self,
        filter: &DeliveryFilter,
    ) -> Result<Vec<WebhookDelivery>>;
    async fn get_webhook_delivery(&self, id: &DeliveryId) -> Result<Option<WebhookDelivery>>;
    /// Oldest first.
    async fn webhook_attempts(&self, id: &DeliveryId) -> Result<Vec<DeliveryAttempt>>;
    /// Queues the delivery again, due `now`, with a fresh round of attempts, whatever its
    /// status; a sender's claim on it is taken away. `false` if there is no such delivery.
    async fn redeliver_webhook(&self, id: &DeliveryId, now: DateTime<Utc>) -> Result<bool>;
}

macro_rules! delivery_cols {
    () => {
        "id, event, media_id, body, status, attempts, round_attempts, next_attempt_at, \
         last_status_code, last_error, created_at, updated_at, delivered_at"
    };
}
pub(crate) use delivery_cols;

/// Expands [`Webhooks`] for `$repo` on database `$db` with rows `$row`, and `outbox_in`, which
/// the processing statements call inside their transactions. `$lock` is the row-locking clause
/// of the claim's candidate `SELECT` (as in `queue.rs`). The repo has a `webhook_outbox:
/// Arc<AtomicBool>` field.
macro_rules! impl_webhooks {
    ($repo:ty, $db:ty, $row:ty, $lock:literal) => {
        impl $repo {
            /// In `conn`'s transaction: when webhooks are on, a pending delivery announcing
            /// `kind` about item `media_id` as it is now (nothing if the item is gone).
            async fn outbox_in(
                &self,
                conn: &mut <$db as ::sqlx::Database>::Connection,
                kind: ::mediaserver_core::webhook::WebhookEventKind,
                media_id: &str,
            ) -> $crate::Result<()> {
                if !self
                    .webhook_outbox
                    .load(::std::sync::atomic::Ordering::Relaxed)
                {
                    return Ok(());
                }
                let row = ::sqlx::query(concat!(
                    "SELECT ",
                    $crate::rows::media_cols!(),
                    " FROM media WHERE id = $1"
                ))
                .bind(media_id)
                .fetch_optional(&mut *conn)
                .await
                .map_err(Self::db_err)?;
                let Some(row) = row else { return Ok(()) };
                let media = Self::media_from_row(&row)?;
                let id = ::mediaserver_core::DeliveryId::new();
                let event =
                    ::mediaserver_core::webhook::WebhookEvent::about(kind, id.clone(), &media);
                let body = ::serde_json::to_string(&event)
                    .map_err(|e| $crate::DbError::other("encoding a webhook event", e))?;
                let now = $crate::shared::now();
                ::sqlx::query(concat!(
                    "INSERT INTO webhook_deliveries (",
                    $crate::webhooks::delivery_cols!(),
                    ") VALUES ($1, $2, $3, $4, 'pending', 0, 0, $5, NULL, NULL, $5, $5, NULL)"
                ))
                .bind(id.as_str())
                .bind(kind.as_str())
                .bind(media_id)
                .bind(body)
                .bind(Self::ts(now))
                .execute(&mut *conn)
                .await
                .map_err(Self::db_err)?;
                Ok(())
            }

            fn delivery_from_row(
                row: &$row,
            ) -> $crate::Result<::mediaserver_core::webhook::WebhookDelivery> {
                use ::sqlx::Row as _;
                use $crate::shared::parse_column;
                let get_s = |c: &str| row.try_get::<String, _>(c).map_err(Self::db_err);
                let get = |c: &str| -> $crate::Result<Option<::chrono::DateTime<::chrono::Utc>>> {
                    row.try_get(c).map_err(Self::db_err)
                };
                Ok(::mediaserver_core::webhook::WebhookDelivery {
                    id: parse_column(&get_s("id")?, "delivery id")?,
                    event: parse_column(&get_s("event")?, "webhook event")?,
                    media_id: parse_column(&get_s("media_id")?, "media id")?,
                    body: get_s("body")?,
                    status: parse_column(&get_s("status")?, "delivery status")?,
                    attempts: row.try_get("attempts").map_err(Self::db_err)?,
                    round_attempts: row.try_get("round_attempts").map_err(Self::db_err)?,
                    next_attempt_at: get("next_attempt_at")?,
                    last_status_code: row.try_get("last_status_code").map_err(Self::db_err)?,
                    last_error: row.try_get("last_error").map_err(Self::db_err)?,
                    created_at: row.try_get("created_at").map_err(Self::db_err)?,
                    updated_at: row.try_get("updated_at").map_err(Self::db_err)?,
                    delivered_at: get("delivered_at")?,
                })
            }
        }

        #[::async_trait::async_trait]
        impl $crate::Webhooks for $repo {
            fn record_webhooks(&self, on: bool) {
                self.webhook_outbox
                    .store(on, ::std::sync::atomic::Ordering::Relaxed);
            }

            async fn claim_webhook_deliveries(
                &self,
                owner: &str,
                lease: ::std::time::Duration,
                now: ::chrono::DateTime<::chrono::Utc>,
                limit: u32,
            ) -> $crate::Result<Vec<::mediaserver_core::webhook::WebhookDelivery>> {
                let expires = Self::lease_end(now, lease)?;
                let mut tx = self.begin_write().await?;
                let rows = ::sqlx::query(concat!(
                    "UPDATE webhook_deliveries SET lease_owner = $1, lease_expires_at = $2, \
                     updated_at = $3 WHERE id IN (SELECT id FROM webhook_deliveries \
                     WHERE status = 'pending' AND next_attempt_at <= $4 \
                     AND (lease_expires_at IS NULL OR lease_expires_at <= $4) \
                     ORDER BY next_attempt_at, id LIMIT $5",
                    $lock,
                    ") RETURNING ",
                    $crate::webhooks::delivery_cols!()
                ))
                .bind(owner)
                .bind(Self::ts(expires))
                .bind(Self::ts($crate::shared::now()))
                .bind(Self::ts(now))
                .bind(i64::from(limit.max(1)))
                .fetch_all(&mut *tx)
                .await
                .map_err(Self::db_err)?;
                tx.commit().await.map_err(Self::db_err)?;
                let mut claimed = rows
                    .iter()
                    .map(Self::delivery_from_row)
                    .collect::<$crate::Result<Vec<_>>>()?;
                // RETURNING has no order.
                claimed.sort_by(|a, b| {
                    (a.next_attempt_at, a.id.as_str()).cmp(&(b.next_attempt_at, b.id.as_str()))
                });
                Ok(claimed)
            }

            async fn record_webhook_attempt(
                &self,
                id: &::mediaserver_core::DeliveryId,
                owner: &str,
                attempt: &::mediaserver_core::webhook::DeliveryAttempt,
                next: ::mediaserver_core::webhook::DeliveryNext,
            ) -> $crate::Result<bool> {
                use ::mediaserver_core::webhook::{DeliveryNext, DeliveryStatus};
                let (status, next_at) = match next {
                    DeliveryNext::Delivered => (DeliveryStatus::Delivered, None),
                    DeliveryNext::RetryAt(t) => (DeliveryStatus::Pending, Some(t)),
                    DeliveryNext::Failed => (DeliveryStatus::Failed, None),
                };
                let now = $crate::shared::now();
                let delivered_at =
                    (status == DeliveryStatus::Delivered).then(|| Self::ts(attempt.attempted_at));
                let mut tx = self.begin_write().await?;
                // Only the claim's holder moves the delivery on (and releases the claim).
                let held = ::sqlx::query(
                    "UPDATE webhook_deliveries SET status = $1, next_attempt_at = $2, \
                     delivered_at = COALESCE($3, delivered_at), \
                     round_attempts = round_attempts + 1, \
                     lease_owner = NULL, lease_expires_at = NULL \
                     WHERE id = $4 AND lease_owner = $5",
                )
                .bind(status.as_str())
                .bind(next_at.map(Self::ts))
                .bind(delivered_at)
                .bind(id.as_str())
                .bind(owner)
                .execute(&mut *tx)
                .await
                .map_err(Self::db_err)?
                .rows_affected()
                    > 0;
                // The attempt happened either way.
                let number: Option<i32> = ::sqlx::query_scalar(
                    "UPDATE webhook_deliveries SET attempts = attempts + 1, \
                     last_status_code = $1, last_error = $2, updated_at = $3 \
                     WHERE id = $4 RETURNING attempts",
                )
                .bind(attempt.status_code)
                .bind(attempt.error.as_deref())
                .bind(Self::ts(now))
                .bind(id.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(Self::db_err)?;
                let Some(number) = number else {
                    tx.rollback().await.map_err(Self::db_err)?;
                    return Err($crate::DbError::NotFound);
                };
                ::sqlx::query(
                    "INSERT INTO webhook_attempts \
                     (delivery_id, number, attempted_at, duration_ms, status_code, error) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(id.as_str())
                .bind(number)
                .bind(Self::ts(attempt.attempted_at))
                .bind(attempt.duration_ms)
                .bind(attempt.status_code)
                .bind(attempt.error.as_deref())
                .execute(&mut *tx)
                .await
                .map_err(Self::db_err)?;
                tx.commit().await.map_err(Self::db_err)?;
                Ok(held)
            }

            async fn list_webhook_deliveries(
                &self,
                filter: &::mediaserver_core::webhook::DeliveryFilter,
            ) -> $crate::Result<Vec<::mediaserver_core::webhook::WebhookDelivery>> {
                // Built per call, like `list_media`, so each shape gets an index-friendly plan.
                let mut sql = String::from(concat!(
                    "SELECT ",
                    $crate::webhooks::delivery_cols!(),
                    " FROM webhook_deliveries WHERE 1 = 1"
                ));
                let mut binds: Vec<&str> = Vec::new();
                if let Some(status) = filter.status {
                    binds.push(status.as_str());
                    sql.push_str(&format!(" AND status = ${}", binds.len()));
                }
                if let Some(before) = &filter.before_id {
                    binds.push(before.as_str());
                    sql.push_str(&format!(" AND id < ${}", binds.len()));
                }
                sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", binds.len() + 1));
                let mut q = ::sqlx::query(&sql);
                for b in binds {
                    q = q.bind(b);
                }
                let rows = q
                    .bind(i64::from(filter.limit.max(1)))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::db_err)?;
                rows.iter().map(Self::delivery_from_row).collect()
            }

            async fn get_webhook_delivery(
                &self,
                id: &::mediaserver_core::DeliveryId,
            ) -> $crate::Result<Option<::mediaserver_core::webhook::WebhookDelivery>> {
                let row = ::sqlx::query(concat!(
                    "SELECT ",
                    $crate::webhooks::delivery_cols!(),
                    " FROM webhook_deliveries WHERE id = $1"
                ))
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(Self::db_err)?;
                row.as_ref().map(Self::delivery_from_row).transpose()
            }

            async fn webhook_attempts(
                &self,
                id: &::mediaserver_core::DeliveryId,
            ) -> $crate::Result<Vec<::mediaserver_core::webhook::DeliveryAttempt>> {
                let rows: Vec<(
                    i32,
                    ::chrono::DateTime<::chrono::Utc>,
                    i64,
                    Option<i32>,
                    Option<String>,
                )> = ::sqlx::query_as(
                    "SELECT number, attempted_at, duration_ms, status_code, error \
                     FROM webhook_attempts WHERE delivery_id = $1 ORDER BY number",
                )
                .bind(id.as_str())
                .fetch_all(&self.pool)
                .await
                .map_err(Self::db_err)?;
                Ok(rows
                    .into_iter()
                    .map(|(number, attempted_at, duration_ms, status_code, error)| {
                        ::mediaserver_core::webhook::DeliveryAttempt {
                            number,
                            attempted_at,
                            duration_ms,
                            status_code,
                            error,
                        }
                    })
                    .collect())
            }

            async fn redeliver_webhook(
                &self,
                id: &::mediaserver_core::DeliveryId,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> $crate::Result<bool> {
                let done = ::sqlx::query(
                    "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $1, \
                     round_attempts = 0, lease_owner = NULL, lease_expires_at = NULL, \
                     updated_at = $2 WHERE id = $3",
                )
                .bind(Self::ts(now))
                .bind(Self::ts($crate::shared::now()))
                .bind(id.as_str())
                .execute(&self.pool)
                .await
                .map_err(Self::db_err)?;
                Ok(done.rows_affected() > 0)
            }
        }
    };
}
pub(crate) use impl_webhooks;
