//! The durable job queue and the processing results it records on media items, expanded once
//! per backend by [`impl_queue!`] as inherent methods that the `Repo` implementation in
//! `repo_impl.rs` delegates to.
//!
//! Invariants kept by every statement here:
//! - `lease_owner` and `lease_expires_at` are set exactly while a job is `running`;
//! - a job changes hands only through [`claim`](#method.claim): heartbeat, complete, fail and
//!   release act only for the worker holding the lease of a `running` job;
//! - every write that can make a job claimable (enqueue, requeue after a failure, release)
//!   calls the backend's `notify_jobs` in its transaction.
//!
//! Candidate selection is two index-ordered lookups rather than one `OR` (which neither
//! database can serve from an index in order): first a `running` job whose lease has expired
//! (a worker died; it has waited longest), then the `queued` job with the earliest `run_after`.

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

/// Expands the queue methods for `$repo` on database `$db`. `$lock` is appended to the
/// candidate `SELECT`s: `" FOR UPDATE SKIP LOCKED"` on PostgreSQL, `""` on SQLite (whose
/// `BEGIN IMMEDIATE` write transactions already run one at a time).
macro_rules! impl_queue {
    ($repo:ty, $db:ty, $lock:literal) => {
        impl $repo {
            /// `create_media_with_event`: media row, event and job in one transaction; a
            /// repeated `(bucket, key, etag)` rolls all of it back. On PostgreSQL a concurrent
            /// duplicate's event insert waits for the first transaction and then does nothing.
            async fn record_upload(
                &self,
                media: &::mediaserver_core::Media,
                event: &::mediaserver_core::ObjectEvent,
                max_attempts: i32,
            ) -> $crate::Result<$crate::Recorded> {
                let outputs = $crate::shared::outputs_json(&media.outputs)?;
                let mut tx = self.begin_write().await?;
                ::sqlx::query(concat!(
                    "INSERT INTO media (",
                    $crate::rows::media_cols!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
                     $15, $16, $17, $18, $19, $20, $21)"
                ))
                .bind(&media.id)
                .bind(&media.owner_id)
                .bind(media.kind.as_str())
                .bind(media.status.as_str())
                .bind(&media.title)
                .bind(&media.filename)
                .bind(&media.content_type)
                .bind(media.size)
                .bind(&media.sha256)
                .bind(media.visibility.as_str())
                .bind(&media.bucket)
                .bind(&media.original_key)
                .bind(media.duration_seconds)
                .bind(media.width)
                .bind(media.height)
                .bind(media.progress)
                .bind(media.playable)
                .bind(&media.error)
                .bind(outputs)
                .bind(Self::ts(media.created_at))
                .bind(Self::ts(media.updated_at))
                .execute(&mut *tx)
                .await
                .map_err(Self::db_err)?;
                // A clash of the event id (rather than of the object version) is still an error.
                let inserted = ::sqlx::query(concat!(
                    "INSERT INTO object_events (",
                    $crate::rows::event_cols!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (bucket, key, etag) DO NOTHING"
                ))
                .bind(&event.id)
                .bind(&event.media_id)
                .bind(&event.source)
                .bind(&event.bucket)
                .bind(&event.key)
                .bind(&event.etag)
                .bind(event.size)
                .bind(Self::ts(event.created_at))
                .execute(&mut *tx)
                .await
                .map_err(Self::db_err)?
                .rows_affected();
                if inserted == 0 {
                    let existing: Option<Option<String>> = ::sqlx::query_scalar(
                        "SELECT media_id FROM object_events \
                         WHERE bucket = $1 AND key = $2 AND etag = $3",
                    )
                    .bind(&event.bucket)
                    .bind(&event.key)
                    .bind(&event.etag)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(Self::db_err)?;
                    tx.rollback().await.map_err(Self::db_err)?;
                    return Ok($crate::Recorded::Duplicate {
                        media_id: existing.flatten(),
                    });
                }
                let now = Self::ts($crate::shared::now());
                ::sqlx::query(concat!(
                    "INSERT INTO jobs (",
                    $crate::rows::job_cols!(),
                    ") VALUES ($1, $2, 'queued', 0, $3, $4, NULL, NULL, NULL, $4, $4)"
                ))
                .bind(::mediaserver_core::new_id())
                .bind(&media.id)
                // A job that may never be attempted would sit in the queue forever.
                .bind(max_attempts.max(1))
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(Self::db_err)?;
                self.notify_jobs(&mut tx).await?;
                tx.commit().await.map_err(Self::db_err)?;
                Ok($crate::Recorded::Created)
            }

            /// `NotFound` unless exactly the item `id` was updated.
            fn one_media(rows: u64) -> $crate::Result<()> {
                if rows == 0 {
                    Err($crate::DbError::NotFound)
                } else {
                    Ok(())
                }
            }

            async fn media_processing(&self, id: &str) -> $crate::Result<()> {
                let done = ::sqlx::query(
                    "UPDATE media SET status = 'processing', progress = 0, error = NULL, \
                     updated_at = $1 WHERE id = $2",
                )
                .bind(Self::ts($crate::shared::now()))
                .bind(id)
                .execute(&self.pool)
                .await
                .map_err(Self::db_err)?;
                Self::one_media(done.rows_affected())
            }

            async fn media_progress(
                &self,
                id: &str,
                progress: i32,
                playable: Option<bool>,
            ) -> $crate::Result<()> {
                let done = ::sqlx::query(
                    "UPDATE media SET progress = $1, playable = COALESCE($2, playable), \
                     updated_at = $3 WHERE id = $4",
                )
                .bind(progress.clamp(0, 100))
                .bind(playable)
                .bind(Self::ts($crate::shared::now()))
                .bind(id)
                .execute(&self.pool)
                .await
                .map_err(Self::db_err)?;
                Self::one_media(done.rows_affected())
            }

            async fn media_ready(
                &self,
                id: &str,
                ready: &$crate::MediaReady,
            ) -> $crate::Result<()> {
                let outputs = $crate::shared::outputs_json(&ready.outputs)?;
                let done = ::sqlx::query(
                    "UPDATE media SET status = 'ready', progress = 100, playable = $1, \
                     duration_seconds = $2, width = $3, height = $4, outputs = $5, \
                     error = NULL, updated_at = $6 WHERE id = $7",
                )
                .bind(ready.playable)
                .bind(ready.duration_seconds)
                .bind(ready.width)
                .bind(ready.height)
                .bind(outputs)
                .bind(Self::ts($crate::shared::now()))
                .bind(id)
                .execute(&self.pool)
                .await
                .map_err(Self::db_err)?;
                Self::one_media(done.rows_affected())
            }

            async fn media_failed(&self, id: &str, error: &str) -> $crate::Result<()> {
                let mut conn = self.pool.acquire().await.map_err(Self::db_err)?;
                let rows = Self::fail_media_on(&mut conn, id, error).await?;
                Self::one_media(rows)
            }

            async fn fail_media_on(
                conn: &mut <$db as ::sqlx::Database>::Connection,
                id: &str,
                error: &str,
            ) -> $crate::Result<u64> {
                let done = ::sqlx::query(
                    "UPDATE media SET status = 'failed', error = $1, updated_at = $2 \
                     WHERE id = $3",
                )
                .bind(error)
                .bind(Self::ts($crate::shared::now()))
                .bind(id)
                .execute(&mut *conn)
                .await
                .map_err(Self::db_err)?;
                Ok(done.rows_affected())
            }

            /// `now + lease`, or an error for a lease no timestamp can hold.
            fn lease_end(
                now: ::chrono::DateTime<::chrono::Utc>,
                lease: ::std::time::Duration,
            ) -> $crate::Result<::chrono::DateTime<::chrono::Utc>> {
                ::chrono::Duration::from_std(lease)
                    .ok()
                    .and_then(|lease| now.checked_add_signed(lease))
                    .ok_or_else(|| $crate::DbError::Other(format!("lease too long: {lease:?}")))
            }

            /// Fails the jobs whose lease expired on their last allowed attempt, and their
            /// media items (bounded per call; the next claim takes the rest).
            async fn fail_exhausted_in(
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
                    Self::fail_media_on(&mut **tx, &media_id, &error).await?;
                    ::tracing::warn!(
                        job_id,
                        media_id,
                        attempts,
                        "job lease expired on its last attempt"
                    );
                }
                Ok(())
            }

            async fn claim(
                &self,
                worker: &str,
                lease: ::std::time::Duration,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> $crate::Result<Option<::mediaserver_core::Job>> {
                let expires = Self::lease_end(now, lease)?;
                let mut tx = self.begin_write().await?;
                Self::fail_exhausted_in(&mut tx, now).await?;
                let candidates = [
                    $crate::queue::claim_sql!(
                        "SELECT id FROM jobs WHERE status = 'running' \
                         AND lease_expires_at <= $4 AND attempts < max_attempts \
                         ORDER BY lease_expires_at, id LIMIT 1",
                        $lock
                    ),
                    $crate::queue::claim_sql!(
                        "SELECT id FROM jobs WHERE status = 'queued' AND run_after <= $4 \
                         ORDER BY run_after, id LIMIT 1",
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

            async fn heartbeat(
                &self,
                job_id: &str,
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
                .bind(job_id)
                .bind(worker)
                .execute(&self.pool)
                .await
                .map_err(Self::db_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn complete(&self, job_id: &str, worker: &str) -> $crate::Result<bool> {
                let done = ::sqlx::query(
                    "UPDATE jobs SET status = 'done', lease_owner = NULL, \
                     lease_expires_at = NULL, updated_at = $1 \
                     WHERE id = $2 AND lease_owner = $3 AND status = 'running'",
                )
                .bind(Self::ts($crate::shared::now()))
                .bind(job_id)
                .bind(worker)
                .execute(&self.pool)
                .await
                .map_err(Self::db_err)?;
                Ok(done.rows_affected() > 0)
            }

            /// If `worker` does not hold the job's lease nothing changes and the job's current
            /// status is returned (`NotFound` if there is no such job).
            async fn fail(
                &self,
                job_id: &str,
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
                .bind(job_id)
                .bind(worker)
                .fetch_optional(&mut *tx)
                .await
                .map_err(Self::db_err)?;
                let Some((status, media_id)) = row else {
                    let current: Option<String> =
                        ::sqlx::query_scalar("SELECT status FROM jobs WHERE id = $1")
                            .bind(job_id)
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(Self::db_err)?;
                    tx.rollback().await.map_err(Self::db_err)?;
                    let current = current.ok_or($crate::DbError::NotFound)?;
                    return $crate::shared::parse_enum(&current, "job status");
                };
                let status: JobStatus = $crate::shared::parse_enum(&status, "job status")?;
                if status == JobStatus::Failed {
                    Self::fail_media_on(&mut tx, &media_id, error).await?;
                } else {
                    self.notify_jobs(&mut tx).await?;
                }
                tx.commit().await.map_err(Self::db_err)?;
                Ok(status)
            }

            async fn release(&self, job_id: &str, worker: &str) -> $crate::Result<bool> {
                let mut tx = self.begin_write().await?;
                let now = Self::ts($crate::shared::now());
                let done = ::sqlx::query(
                    "UPDATE jobs SET status = 'queued', \
                     attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, \
                     lease_owner = NULL, lease_expires_at = NULL, run_after = $1, \
                     updated_at = $1 \
                     WHERE id = $2 AND lease_owner = $3 AND status = 'running'",
                )
                .bind(now)
                .bind(job_id)
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

            async fn job(&self, job_id: &str) -> $crate::Result<Option<::mediaserver_core::Job>> {
                let row = ::sqlx::query(concat!(
                    "SELECT ",
                    $crate::rows::job_cols!(),
                    " FROM jobs WHERE id = $1"
                ))
                .bind(job_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(Self::db_err)?;
                row.as_ref().map(Self::job_from_row).transpose()
            }

            /// Oldest first.
            async fn media_jobs(
                &self,
                media_id: &str,
            ) -> $crate::Result<Vec<::mediaserver_core::Job>> {
                let rows = ::sqlx::query(concat!(
                    "SELECT ",
                    $crate::rows::job_cols!(),
                    " FROM jobs WHERE media_id = $1 ORDER BY id"
                ))
                .bind(media_id)
                .fetch_all(&self.pool)
                .await
                .map_err(Self::db_err)?;
                rows.iter().map(Self::job_from_row).collect()
            }
        }
    };
}
pub(crate) use impl_queue;
