//! The MySQL expansion of [`crate::webhooks`]: its statements ported from the shared ones
//! (`$n` placeholders, see [`super::sql`]; no `RETURNING`; MySQL's quoting and functions).

use super::MySqlRepo;

impl MySqlRepo {
    /// In `conn`'s transaction: when webhooks are on, a pending delivery announcing
    /// `kind` about item `media_id` as it is now (nothing if the item is gone).
    pub(super) async fn outbox_in(
        &self,
        conn: &mut <::sqlx::MySql as ::sqlx::Database>::Connection,
        kind: ::mediaserver_core::webhook::WebhookEventKind,
        media_id: &str,
    ) -> crate::Result<()> {
        if !self
            .webhook_outbox
            .load(::std::sync::atomic::Ordering::Relaxed)
        {
            return Ok(());
        }
        let row = crate::mysql::sql::query(concat!(
            "SELECT ",
            crate::rows::media_cols!(),
            " FROM media WHERE id = $1"
        ))
        .bind(media_id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(Self::db_err)?;
        let Some(row) = row else { return Ok(()) };
        let media = Self::media_from_row(&row)?;
        let id = ::mediaserver_core::DeliveryId::new();
        let event = ::mediaserver_core::webhook::WebhookEvent::about(kind, id.clone(), &media);
        let body = ::serde_json::to_string(&event)
            .map_err(|e| crate::DbError::other("encoding a webhook event", e))?;
        let now = crate::shared::now();
        crate::mysql::sql::query(concat!(
            "INSERT INTO webhook_deliveries (",
            crate::webhooks::delivery_cols!(),
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

    pub(super) fn delivery_from_row(
        row: &crate::mysql::sql::Row,
    ) -> crate::Result<::mediaserver_core::webhook::WebhookDelivery> {
        use crate::shared::parse_column;
        let get_s = |c: &str| row.try_get::<String, _>(c).map_err(Self::db_err);
        let get = |c: &str| -> crate::Result<Option<::chrono::DateTime<::chrono::Utc>>> {
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
impl crate::Webhooks for MySqlRepo {
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
    ) -> crate::Result<Vec<::mediaserver_core::webhook::WebhookDelivery>> {
        let expires = Self::lease_end(now, lease)?;
        let mut tx = self.begin_write().await?;
        // Locked (skipping rows other senders hold), leased, then read back: no UPDATE …
        // RETURNING, and MySQL cannot update a table its subquery reads.
        let ids: Vec<String> = crate::mysql::sql::query_scalar(
            "SELECT id FROM webhook_deliveries \
             WHERE status = 'pending' AND next_attempt_at <= $1 \
             AND (lease_expires_at IS NULL OR lease_expires_at <= $1) \
             ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED",
        )
        .bind(Self::ts(now))
        .bind(i64::from(limit.max(1)))
        .fetch_all(&mut *tx)
        .await
        .map_err(Self::db_err)?;
        let mut rows = Vec::with_capacity(ids.len());
        for id in &ids {
            crate::mysql::sql::query(
                "UPDATE webhook_deliveries SET lease_owner = $1, lease_expires_at = $2, \
                 updated_at = $3 WHERE id = $4",
            )
            .bind(owner)
            .bind(Self::ts(expires))
            .bind(Self::ts(crate::shared::now()))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(Self::db_err)?;
            let row = crate::mysql::sql::query(concat!(
                "SELECT ",
                crate::webhooks::delivery_cols!(),
                " FROM webhook_deliveries WHERE id = $1"
            ))
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(Self::db_err)?;
            rows.push(row);
        }
        tx.commit().await.map_err(Self::db_err)?;
        let mut claimed = rows
            .iter()
            .map(Self::delivery_from_row)
            .collect::<crate::Result<Vec<_>>>()?;
        // Claimed in this order already; kept sorted as the other backends return them.
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
    ) -> crate::Result<bool> {
        use ::mediaserver_core::webhook::{DeliveryNext, DeliveryStatus};
        let (status, next_at) = match next {
            DeliveryNext::Delivered => (DeliveryStatus::Delivered, None),
            DeliveryNext::RetryAt(t) => (DeliveryStatus::Pending, Some(t)),
            DeliveryNext::Failed => (DeliveryStatus::Failed, None),
        };
        let now = crate::shared::now();
        let delivered_at =
            (status == DeliveryStatus::Delivered).then(|| Self::ts(attempt.attempted_at));
        let mut tx = self.begin_write().await?;
        // Only the claim's holder moves the delivery on (and releases the claim).
        let held = crate::mysql::sql::query(
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
        let counted = crate::mysql::sql::query(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, \
             last_status_code = $1, last_error = $2, updated_at = $3 \
             WHERE id = $4",
        )
        .bind(attempt.status_code)
        .bind(attempt.error.as_deref())
        .bind(Self::ts(now))
        .bind(id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(Self::db_err)?
        .rows_affected();
        // Read inside the transaction that now holds the row's lock.
        let number: Option<i32> = if counted == 0 {
            None
        } else {
            crate::mysql::sql::query_scalar("SELECT attempts FROM webhook_deliveries WHERE id = $1")
                .bind(id.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(Self::db_err)?
        };
        let Some(number) = number else {
            tx.rollback().await.map_err(Self::db_err)?;
            return Err(crate::DbError::NotFound);
        };
        crate::mysql::sql::query(
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
    ) -> crate::Result<Vec<::mediaserver_core::webhook::WebhookDelivery>> {
        // Built per call, like `list_media`, so each shape gets an index-friendly plan.
        let mut sql = String::from(concat!(
            "SELECT ",
            crate::webhooks::delivery_cols!(),
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
        let mut q = crate::mysql::sql::query(&sql);
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
    ) -> crate::Result<Option<::mediaserver_core::webhook::WebhookDelivery>> {
        let row = crate::mysql::sql::query(concat!(
            "SELECT ",
            crate::webhooks::delivery_cols!(),
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
    ) -> crate::Result<Vec<::mediaserver_core::webhook::DeliveryAttempt>> {
        let rows: Vec<(
            i32,
            ::chrono::DateTime<::chrono::Utc>,
            i64,
            Option<i32>,
            Option<String>,
        )> = crate::mysql::sql::query_as(
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
    ) -> crate::Result<bool> {
        let done = crate::mysql::sql::query(
            "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $1, \
             round_attempts = 0, lease_owner = NULL, lease_expires_at = NULL, \
             updated_at = $2 WHERE id = $3",
        )
        .bind(Self::ts(now))
        .bind(Self::ts(crate::shared::now()))
        .bind(id.as_str())
        .execute(&self.pool)
        .await
        .map_err(Self::db_err)?;
        Ok(done.rows_affected() > 0)
    }
}
