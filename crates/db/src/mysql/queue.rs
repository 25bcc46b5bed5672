//! The MySQL expansion of [`crate::queue`]: its statements ported from the shared ones
//! (`$n` placeholders, see [`super::sql`]; no `RETURNING`; MySQL's quoting and functions).

use super::MySqlRepo;

impl MySqlRepo {
    /// `now + lease`, or an error for a lease no timestamp can hold.
    pub(super) fn lease_end(
        now: ::chrono::DateTime<::chrono::Utc>,
        lease: ::std::time::Duration,
    ) -> crate::Result<::chrono::DateTime<::chrono::Utc>> {
        ::chrono::Duration::from_std(lease)
            .ok()
            .and_then(|lease| now.checked_add_signed(lease))
            .ok_or_else(|| crate::DbError::Other {
                context: format!("lease too long: {lease:?}"),
                source: None,
            })
    }

    /// Puts a job `worker` holds back in the queue from `run_after`, taking back the
    /// attempt its claim counted; `reason`, if any, becomes its last error.
    pub(super) async fn requeue_uncounted(
        &self,
        job_id: &::mediaserver_core::JobId,
        worker: &str,
        reason: Option<&str>,
        run_after: ::chrono::DateTime<::chrono::Utc>,
    ) -> crate::Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = crate::mysql::sql::query(
            "UPDATE jobs SET status = 'queued', \
             attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, \
             lease_owner = NULL, lease_expires_at = NULL, run_after = $1, \
             last_error = COALESCE($2, last_error), updated_at = $3 \
             WHERE id = $4 AND lease_owner = $5 AND status = 'running'",
        )
        .bind(Self::ts(run_after))
        .bind(reason)
        .bind(Self::ts(crate::shared::now()))
        .bind(job_id.as_str())
        .bind(worker)
        .execute(&mut *tx)
        .await
        .map_err(Self::db_err)?;
        if done.rows_affected() == 0 {
            tx.rollback().await.map_err(Self::db_err)?;
            return Ok(false);
        }
        self.notify_jobs(&mut tx).await?;
        tx.commit().await.map_err(Self::db_err)?;
        Ok(true)
    }

    /// Fails the jobs whose lease expired on their last allowed attempt, and their
    /// media items (bounded per call; the next claim takes the rest).
    pub(super) async fn fail_exhausted_in(
        &self,
        tx: &mut ::sqlx::Transaction<'static, ::sqlx::MySql>,
        now: ::chrono::DateTime<::chrono::Utc>,
    ) -> crate::Result<()> {
        let dead: Vec<(String, String, i32)> = crate::mysql::sql::query_as(concat!(
            "SELECT id, media_id, attempts FROM jobs WHERE status = 'running' \
             AND lease_expires_at <= $1 AND attempts >= max_attempts \
             ORDER BY lease_expires_at, id LIMIT 100",
            " FOR UPDATE SKIP LOCKED"
        ))
        .bind(Self::ts(now))
        .fetch_all(&mut **tx)
        .await
        .map_err(Self::db_err)?;
        for (job_id, media_id, attempts) in dead {
            let error = crate::shared::lease_expired_error(attempts);
            crate::mysql::sql::query(
                "UPDATE jobs SET status = 'failed', last_error = $1, lease_owner = NULL, \
                 lease_expires_at = NULL, updated_at = $2 WHERE id = $3",
            )
            .bind(&error)
            .bind(Self::ts(crate::shared::now()))
            .bind(&job_id)
            .execute(&mut **tx)
            .await
            .map_err(Self::db_err)?;
            self.fail_media_on(tx, &media_id, &error).await?;
            self.cancel_parts_in(tx, &media_id, &job_id).await?;
            ::tracing::warn!(
                job_id,
                media_id,
                attempts,
                "job lease expired on its last attempt"
            );
        }
        Ok(())
    }
}

#[::async_trait::async_trait]
impl crate::JobQueue for MySqlRepo {
    async fn claim_job(
        &self,
        worker: &str,
        lease: ::std::time::Duration,
        now: ::chrono::DateTime<::chrono::Utc>,
    ) -> crate::Result<Option<::mediaserver_core::Job>> {
        let expires = Self::lease_end(now, lease)?;
        let mut tx = self.begin_write().await?;
        self.fail_exhausted_in(&mut tx, now).await?;
        // The candidate is locked (skipping rows other claims hold), then taken, then read
        // back: MySQL has no UPDATE … RETURNING.
        let candidates = [
            "SELECT id FROM jobs WHERE status = 'running' \
             AND lease_expires_at <= $1 AND attempts < max_attempts \
             ORDER BY lease_expires_at, id LIMIT 1 FOR UPDATE SKIP LOCKED",
            "SELECT id FROM jobs WHERE status = 'queued' AND run_after <= $1 \
             ORDER BY priority, run_after, id LIMIT 1 FOR UPDATE SKIP LOCKED",
        ];
        let mut claimed = None;
        for sql in candidates {
            let id: Option<String> = crate::mysql::sql::query_scalar(sql)
                .bind(Self::ts(now))
                .fetch_optional(&mut *tx)
                .await
                .map_err(Self::db_err)?;
            let Some(id) = id else { continue };
            crate::mysql::sql::query(
                "UPDATE jobs SET status = 'running', lease_owner = $1, lease_expires_at = $2, \
                 attempts = attempts + 1, updated_at = $3 WHERE id = $4",
            )
            .bind(worker)
            .bind(Self::ts(expires))
            .bind(Self::ts(crate::shared::now()))
            .bind(&id)
            .execute(&mut *tx)
            .await
            .map_err(Self::db_err)?;
            let row = crate::mysql::sql::query(concat!(
                "SELECT ",
                crate::rows::job_cols!(),
                " FROM jobs WHERE id = $1"
            ))
            .bind(&id)
            .fetch_one(&mut *tx)
            .await
            .map_err(Self::db_err)?;
            claimed = Some(Self::job_from_row(&row)?);
            break;
        }
        tx.commit().await.map_err(Self::db_err)?;
        Ok(claimed)
    }

    async fn heartbeat_job(
        &self,
        job_id: &::mediaserver_core::JobId,
        worker: &str,
        lease: ::std::time::Duration,
        now: ::chrono::DateTime<::chrono::Utc>,
    ) -> crate::Result<bool> {
        let expires = Self::lease_end(now, lease)?;
        let done = crate::mysql::sql::query(
            "UPDATE jobs SET lease_expires_at = $1, updated_at = $2 \
             WHERE id = $3 AND lease_owner = $4 AND status = 'running'",
        )
        .bind(Self::ts(expires))
        .bind(Self::ts(crate::shared::now()))
        .bind(job_id.as_str())
        .bind(worker)
        .execute(&self.pool)
        .await
        .map_err(Self::db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn complete_job(
        &self,
        job_id: &::mediaserver_core::JobId,
        worker: &str,
    ) -> crate::Result<bool> {
        let done = crate::mysql::sql::query(
            "UPDATE jobs SET status = 'done', lease_owner = NULL, \
             lease_expires_at = NULL, updated_at = $1 \
             WHERE id = $2 AND lease_owner = $3 AND status = 'running'",
        )
        .bind(Self::ts(crate::shared::now()))
        .bind(job_id.as_str())
        .bind(worker)
        .execute(&self.pool)
        .await
        .map_err(Self::db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn fail_job(
        &self,
        job_id: &::mediaserver_core::JobId,
        worker: &str,
        error: &str,
        retry_at: Option<::chrono::DateTime<::chrono::Utc>>,
    ) -> crate::Result<::mediaserver_core::JobStatus> {
        use ::mediaserver_core::JobStatus;
        let mut tx = self.begin_write().await?;
        // The row is locked and decided on here, then written: no UPDATE … RETURNING.
        let row: Option<(String, String, Option<String>, i32, i32)> = crate::mysql::sql::query_as(
            "SELECT status, media_id, lease_owner, attempts, max_attempts FROM jobs \
             WHERE id = $1 FOR UPDATE",
        )
        .bind(job_id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(Self::db_err)?;
        let Some((current, media_id, owner, attempts, max_attempts)) = row else {
            tx.rollback().await.map_err(Self::db_err)?;
            return Err(crate::DbError::NotFound);
        };
        if current != "running" || owner.as_deref() != Some(worker) {
            tx.rollback().await.map_err(Self::db_err)?;
            return crate::shared::parse_column(&current, "job status");
        }
        let retry_at = retry_at.filter(|_| attempts < max_attempts);
        let status = if retry_at.is_some() {
            "queued"
        } else {
            "failed"
        };
        crate::mysql::sql::query(
            "UPDATE jobs SET status = $1, run_after = COALESCE($2, run_after), \
             last_error = $3, lease_owner = NULL, lease_expires_at = NULL, updated_at = $4 \
             WHERE id = $5",
        )
        .bind(status)
        .bind(retry_at.map(Self::ts))
        .bind(error)
        .bind(Self::ts(crate::shared::now()))
        .bind(job_id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(Self::db_err)?;
        let status: JobStatus = crate::shared::parse_column(status, "job status")?;
        if status == JobStatus::Failed {
            self.fail_media_on(&mut tx, &media_id, error).await?;
            self.cancel_parts_in(&mut tx, &media_id, job_id.as_str())
                .await?;
        } else {
            self.notify_jobs(&mut tx).await?;
        }
        tx.commit().await.map_err(Self::db_err)?;
        Ok(status)
    }

    async fn release_job(
        &self,
        job_id: &::mediaserver_core::JobId,
        worker: &str,
    ) -> crate::Result<bool> {
        self.requeue_uncounted(job_id, worker, None, crate::shared::now())
            .await
    }

    async fn defer_job(
        &self,
        job_id: &::mediaserver_core::JobId,
        worker: &str,
        reason: &str,
        run_after: ::chrono::DateTime<::chrono::Utc>,
    ) -> crate::Result<bool> {
        self.requeue_uncounted(job_id, worker, Some(reason), run_after)
            .await
    }

    async fn retry_failed_media(
        &self,
        media_id: &::mediaserver_core::MediaId,
        max_attempts: i32,
    ) -> crate::Result<bool> {
        let now = crate::shared::now();
        let mut tx = self.begin_write().await?;
        let requeued = crate::mysql::sql::query(
            "UPDATE media SET status = 'queued', progress = 0, error = NULL, \
             updated_at = $1 \
             WHERE id = $2 AND status = 'failed' AND NOT EXISTS (\
               SELECT 1 FROM jobs WHERE media_id = $2 \
               AND status IN ('queued', 'running'))",
        )
        .bind(Self::ts(now))
        .bind(media_id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(Self::db_err)?
        .rows_affected();
        if requeued == 0 {
            tx.rollback().await.map_err(Self::db_err)?;
            return Ok(false);
        }
        crate::mysql::sql::query(crate::queue::insert_job_sql!())
            .bind(::mediaserver_core::JobId::new().as_str())
            .bind(media_id.as_str())
            .bind(max_attempts.max(1))
            .bind(Self::ts(now))
            .execute(&mut *tx)
            .await
            .map_err(Self::db_err)?;
        self.notify_jobs(&mut tx).await?;
        tx.commit().await.map_err(Self::db_err)?;
        Ok(true)
    }

    async fn get_job(
        &self,
        job_id: &::mediaserver_core::JobId,
    ) -> crate::Result<Option<::mediaserver_core::Job>> {
        let row = crate::mysql::sql::query(concat!(
            "SELECT ",
            crate::rows::job_cols!(),
            " FROM jobs WHERE id = $1"
        ))
        .bind(job_id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(Self::db_err)?;
        row.as_ref().map(Self::job_from_row).transpose()
    }

    async fn jobs_for_media(
        &self,
        media_id: &::mediaserver_core::MediaId,
    ) -> crate::Result<Vec<::mediaserver_core::Job>> {
        let rows = crate::mysql::sql::query(concat!(
            "SELECT ",
            crate::rows::job_cols!(),
            " FROM jobs WHERE media_id = $1 ORDER BY id"
        ))
        .bind(media_id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(Self::db_err)?;
        rows.iter().map(Self::job_from_row).collect()
    }

    async fn jobs_ahead(
        &self,
        media_id: &::mediaserver_core::MediaId,
    ) -> crate::Result<Option<i64>> {
        // One statement, so the count and the job it is counted for agree.
        let row: Option<(i64,)> = crate::mysql::sql::query_as(
            "SELECT (SELECT COUNT(*) FROM jobs o WHERE o.status = 'queued' \
               AND (o.priority < me.priority \
                 OR (o.priority = me.priority AND o.run_after < me.run_after) \
                 OR (o.priority = me.priority AND o.run_after = me.run_after \
                     AND o.id < me.id))) \
             FROM jobs me WHERE me.media_id = $1 AND me.status = 'queued' \
             ORDER BY me.id DESC LIMIT 1",
        )
        .bind(media_id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(Self::db_err)?;
        Ok(row.map(|(n,)| n))
    }

    async fn wait_for_jobs(&self, timeout: ::std::time::Duration) {
        self.wait_jobs(timeout).await
    }
}
