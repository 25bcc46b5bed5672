//! [`JobQueue`]: the durable job queue — what the pipeline's workers need — and its
//! implementation, expanded once per backend by [`impl_queue!`]. Jobs are enqueued with their
//! media item ([`MediaItems::create_media_with_event`](crate::MediaItems::create_media_with_event)).
//!
//! Invariants kept by every statement here:
//! - `lease_owner` and `lease_expires_at` are set exactly while a job is `running`;
//! - a job changes hands only through [`JobQueue::claim_job`]: heartbeat, complete, fail and
//!   release act only for the worker holding the lease of a `running` job;
//! - every write that can make a job claimable (enqueue, requeue after a failure, release)
//!   calls the backend's `notify_jobs` in its transaction.
//!
//! Candidate selection is two index-ordered lookups rather than one `OR` (which neither
//! database can serve from an index in order): first a `running` job whose lease has expired
//! (a worker died; it has waited longest), then the `queued` job with the earliest `run_after`.

use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mediaserver_core::{Job, JobId, JobStatus, MediaId};
use std::time::Duration;

#[async_trait]
pub trait JobQueue: Send + Sync + std::fmt::Debug {
    /// Claims the oldest claimable job: `queued` with `run_after <= now`, or `running` with an
    /// expired lease (a worker died). Sets `running`, `lease_owner = worker`,
    /// `lease_expires_at = now + lease`, `attempts += 1`. A job whose lease expired when it had
    /// already used all its attempts is not returned but marked `failed` (and its media item
    /// failed with "worker stopped responding …"). Safe under concurrency: two workers never
    /// claim the same job (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite: one `UPDATE … RETURNING`).
    async fn claim_job(
        &self,
        worker: &str,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<Job>>;
    /// Extends the lease if `worker` still holds it; `false` means the lease was lost.
    async fn heartbeat_job(
        &self,
        job_id: &JobId,
        worker: &str,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    /// Marks the job `done` if `worker` holds it.
    async fn complete_job(&self, job_id: &JobId, worker: &str) -> Result<bool>;
    /// Records a failed attempt by `worker`. With `retry_at` and attempts left, the job returns to
    /// `queued` with `run_after = retry_at`; otherwise it becomes `failed` and its media item
    /// `failed` with `error`, in the same transaction. Returns the job's new status. If `worker`
    /// does not hold the job's lease nothing changes and the job's current status is returned
    /// (`NotFound` if there is no such job).
    async fn fail_job(
        &self,
        job_id: &JobId,
        worker: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<JobStatus>;
    /// Retries a `failed` item (`POST /v1/media/{id}/retry`): in one transaction the item goes
    /// back to `queued` (error cleared, progress 0) and a new queued job with `max_attempts`
    /// fresh attempts is inserted. `false`, and nothing changed, if the item is not `failed` or
    /// still has a queued or running job.
    async fn retry_failed_media(&self, media_id: &MediaId, max_attempts: i32) -> Result<bool>;
    /// Hands a job back (graceful shutdown): `queued`, claimable now, the attempt not counted.
    async fn release_job(&self, job_id: &JobId, worker: &str) -> Result<bool>;
    /// Hands a job back after an outage (the database or object storage could not be
    /// reached): `queued` again from `run_after`, `reason` recorded as its last error, the
    /// attempt not counted. `false`, and nothing changed, unless `worker` holds the job.
    async fn defer_job(
        &self,
        job_id: &JobId,
        worker: &str,
        reason: &str,
        run_after: DateTime<Utc>,
    ) -> Result<bool>;
    async fn get_job(&self, job_id: &JobId) -> Result<Option<Job>>;
    /// Oldest first.
    async fn jobs_for_media(&self, media_id: &MediaId) -> Result<Vec<Job>>;
    /// How many queued jobs a worker would claim before the item's queued job (claim order:
    /// priority, then `run_after`, then id); `None` when the item has no queued job.
    async fn jobs_ahead(&self, media_id: &MediaId) -> Result<Option<i64>>;
    /// Waits until a job may have become claimable (PostgreSQL: `LISTEN/NOTIFY` on insert and
    /// release) or `timeout` passes (SQLite: no notification; returns after `timeout` or
    /// [`crate::sqlite::JOB_POLL_INTERVAL`] (500 ms), whichever is shorter). Spurious wake-ups
    /// are fine.
    async fn wait_for_jobs(&self, timeout: Duration);
}

/// The claim statement: takes the job picked by `$candidate` (a `SELECT id … LIMIT 1` whose
/// `now` is `$4`) for worker `$1` until `$2`.
macro_rules! claim_sql {
    ($candidate:literal, $lock:literal) => {
        concat!(
            "UPDATE jobs SET status = 'running', lease_owner = $1, lease_expires_at = $2, \
             attempts = attempts + 1, updated_at = $3 WHERE id = (",
            $candidate,
            $lock,
            ") RETURNING ",
            $crate::rows::job_cols!()
        )
    };
}
pub(crate) use claim_sql;

/// Queues a job: id `$1` for item `$2`, `$3` attempts allowed, runnable from `$4`. Its claim
/// priority comes from the item's kind (0 = image: seconds of work, claimed before audio and
/// video, which take minutes).
macro_rules! insert_job_sql {
    () => {
        concat!(
            "INSERT INTO jobs (",
            $crate::rows::job_cols!(),
            ", priority) VALUES ($1, $2, 'queued', 0, $3, $4, NULL, NULL, NULL, $4, $4, 'whole', NULL, \
             (SELECT CASE WHEN kind = 'image' THEN 0 ELSE 1 END FROM media WHERE id = $2))"
        )
    };
}
pub(crate) use insert_job_sql;

/// Expands [`JobQueue`] for `$repo` on database `$db`. `$lock` is appended to the candidate
/// `SELECT`s: `" FOR UPDATE SKIP LOCKED"` on PostgreSQL, `""` on SQLite (whose
/// `BEGIN IMMEDIATE` write transactions already run one at a time).
macro_rules! impl_queue {
    ($repo:ty, $db:ty, $lock:literal) => {
        impl $repo {
            /// `now + lease`, or an error for a lease no timestamp can hold.
            fn lease_end(
                now: ::chrono::DateTime<::chrono::Utc>,
                lease: ::std::time::Duration,
            ) -> $crate::Result<::chrono::DateTime<::chrono::Utc>> {
                ::chrono::Duration::from_std(lease)
                    .ok()
                    .and_then(|lease| now.checked_add_signed(lease))
                    .ok_or_else(|| $crate::DbError::Other {
                        context: format!("lease too long: {lease:?}"),
                        source: None,
                    })
            }

            /// Puts a job `worker` holds back in the queue from `run_after`, taking back the
            /// attempt its claim counted; `reason`, if any, becomes its last error.
            async fn requeue_uncounted(
                &self,
                job_id: &::mediaserver_core::JobId,
                worker: &str,
                reason: Option<&str>,
                run_after: ::chrono::DateTime<::chrono::Utc>,
            ) -> $crate::Result<bool> {
                let mut tx = self.begin_write().await?;
                let done = ::sqlx::query(
                    "UPDATE jobs SET status = 'queued', \
                     attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, \
                     lease_owner = NULL, lease_expires_at = NULL, run_after = $1, \
                     last_error = COALESCE($2, last_error), updated_at = $3 \
                     WHERE id = $4 AND lease_owner = $5 AND status = 'running'",
                )
                .bind(Self::ts(run_after))
                .bind(reason)
                .bind(Self::ts($crate::shared::now()))
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
            async fn fail_exhausted_in(
                &self,
                tx: &mut ::sqlx::Transaction<'static, $db>,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> $crate::Result<()> {
                let dead: Vec<(String, String, i32)> = ::sqlx::query_as(concat!(
                    "SELECT id, media_id, attempts FROM jobs WHERE status = 'running' \
                     AND lease_expires_at <= $1 AND attempts >= max_attempts \
                     ORDER BY lease_expires_at, id LIMIT 100",
                    $lock
                ))
                .bind(Self::ts(now))
                .fetch_all(&mut **tx)
                .await
                .map_err(Self::db_err)?;
                for (job_id, media_id, attempts) in dead {
                    let error = $crate::shared::lease_expired_error(attempts);
                    ::sqlx::query(
                        "UPDATE jobs SET status = 'failed', last_error = $1, lease_owner = NULL, \
                         lease_expires_at = NULL, updated_at = $2 WHERE id = $3",
                    )
                    .bind(&error)
                    .bind(Self::ts($crate::shared::now()))
                    .bind(&job_id)
                    .execute(&mut **tx)
                    .await
                    .map_err(Self::db_err)?;
                    self.fail_media_on(&mut **tx, &media_id, &error).await?;
                    self.cancel_parts_in(&mut **tx, &media_id, &job_id).await?;
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
        impl $crate::JobQueue for $repo {
            async fn claim_job(
                &self,
                worker: &str,
                lease: ::std::time::Duration,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> $crate::Result<Option<::mediaserver_core::Job>> {
                let expires = Self::lease_end(now, lease)?;
                let mut tx = self.begin_write().await?;
                self.fail_exhausted_in(&mut tx, now).await?;
                let candidates = [
                    $crate::queue::claim_sql!(
                        "SELECT id FROM jobs WHERE status = 'running' \
                         AND lease_expires_at <= $4 AND attempts < max_attempts \
                         ORDER BY lease_expires_at, id LIMIT 1",
                        $lock
                    ),
                    $crate::queue::claim_sql!(
                        "SELECT id FROM jobs WHERE status = 'queued' AND run_after <= $4 \
                         ORDER BY priority, run_after, id LIMIT 1",
                        $lock
                    ),
                ];
                let mut claimed = None;
                for sql in candidates {
                    let row = ::sqlx::query(sql)
                        .bind(worker)
                        .bind(Self::ts(expires))
                        .bind(Self::ts($crate::shared::now()))
                        .bind(Self::ts(now))
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(Self::db_err)?;
                    if let Some(row) = row {
                        claimed = Some(Self::job_from_row(&row)?);
                        break;
                    }
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
            ) -> $crate::Result<bool> {
                let expires = Self::lease_end(now, lease)?;
                let done = ::sqlx::query(
                    "UPDATE jobs SET lease_expires_at = $1, updated_at = $2 \
                     WHERE id = $3 AND lease_owner = $4 AND status = 'running'",
                )
                .bind(Self::ts(expires))
                .bind(Self::ts($crate::shared::now()))
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
            ) -> $crate::Result<bool> {
                let done = ::sqlx::query(
                    "UPDATE jobs SET status = 'done', lease_owner = NULL, \
                     lease_expires_at = NULL, updated_at = $1 \
                     WHERE id = $2 AND lease_owner = $3 AND status = 'running'",
                )
                .bind(Self::ts($crate::shared::now()))
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
            ) -> $crate::Result<::mediaserver_core::JobStatus> {
                use ::mediaserver_core::JobStatus;
                let mut tx = self.begin_write().await?;
                let row: Option<(String, String)> = ::sqlx::query_as(
                    "UPDATE jobs SET \
                     status = CASE WHEN $1 IS NOT NULL AND attempts < max_attempts \
                       THEN 'queued' ELSE 'failed' END, \
                     run_after = CASE WHEN $1 IS NOT NULL AND attempts < max_attempts \
                       THEN $1 ELSE run_after END, \
                     last_error = $2, lease_owner = NULL, lease_expires_at = NULL, \
                     updated_at = $3 \
                     WHERE id = $4 AND lease_owner = $5 AND status = 'running' \
                     RETURNING status, media_id",
                )
                .bind(retry_at.map(Self::ts))
                .bind(error)
                .bind(Self::ts($crate::shared::now()))
                .bind(job_id.as_str())
                .bind(worker)
                .fetch_optional(&mut *tx)
                .await
                .map_err(Self::db_err)?;
                let Some((status, media_id)) = row else {
                    let current: Option<String> =
                        ::sqlx::query_scalar("SELECT status FROM jobs WHERE id = $1")
                            .bind(job_id.as_str())
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(Self::db_err)?;
                    tx.rollback().await.map_err(Self::db_err)?;
                    let current = current.ok_or($crate::DbError::NotFound)?;
                    return $crate::shared::parse_column(&current, "job status");
                };
                let status: JobStatus = $crate::shared::parse_column(&status, "job status")?;
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
            ) -> $crate::Result<bool> {
                self.requeue_uncounted(job_id, worker, None, $crate::shared::now())
                    .await
            }

            async fn defer_job(
                &self,
                job_id: &::mediaserver_core::JobId,
                worker: &str,
                reason: &str,
                run_after: ::chrono::DateTime<::chrono::Utc>,
            ) -> $crate::Result<bool> {
                self.requeue_uncounted(job_id, worker, Some(reason), run_after)
                    .await
            }

            async fn retry_failed_media(
                &self,
                media_id: &::mediaserver_core::MediaId,
                max_attempts: i32,
            ) -> $crate::Result<bool> {
                let now = $crate::shared::now();
                let mut tx = self.begin_write().await?;
                let requeued = ::sqlx::query(
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
                ::sqlx::query($crate::queue::insert_job_sql!())
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
            ) -> $crate::Result<Option<::mediaserver_core::Job>> {
                let row = ::sqlx::query(concat!(
                    "SELECT ",
                    $crate::rows::job_cols!(),
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
            ) -> $crate::Result<Vec<::mediaserver_core::Job>> {
                let rows = ::sqlx::query(concat!(
                    "SELECT ",
                    $crate::rows::job_cols!(),
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
            ) -> $crate::Result<Option<i64>> {
                // One statement, so the count and the job it is counted for agree.
                let row: Option<(i64,)> = ::sqlx::query_as(
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
    };
}
pub(crate) use impl_queue;
