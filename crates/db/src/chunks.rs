//! [`ChunkQueue`]: the queue of a chunked item (issue 15) — the split, its parts (`chunk`
//! and `rest` jobs), the `assemble` job the last part queues, the item's chunk counts and its
//! progress over every part. Expanded once per backend by [`impl_chunks!`]; the statements
//! avoid `RETURNING`, so MySQL takes the same text (through `mysql::sql`).
//!
//! Exactly one `assemble` job per split, however many parts complete at the same moment: a
//! part's completion first locks the item's row (an update of it), so completions of one
//! item's parts run one after another, and each decides "was I the last?" after the one
//! before committed (PostgreSQL's READ COMMITTED takes a new snapshot per statement; MySQL's
//! REPEATABLE READ takes its snapshot at the first plain read, which comes after the lock;
//! SQLite's `BEGIN IMMEDIATE` writes one at a time anyway).

use crate::Result;
use async_trait::async_trait;
use mediaserver_core::{ChunkCounts, JobId, MediaId};

/// What completing a part did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartCompleted {
    /// `worker` does not hold the job (its lease went to another worker, or it was cancelled):
    /// nothing changed.
    NotHeld,
    /// Recorded done; other parts are still to finish.
    Done,
    /// Recorded done, and it was the last part: the assemble job is queued.
    AssembleQueued,
}

#[async_trait]
pub trait ChunkQueue: Send + Sync {
    /// The split step: in ONE transaction, marks the `whole` job `job_id` (held by `worker`)
    /// done and queues `chunks` `chunk` jobs (indexes `0..chunks`) and one `rest` job, each
    /// with `max_attempts`. `false`, and nothing changed, unless `worker` holds the job.
    async fn split_job(
        &self,
        job_id: &JobId,
        worker: &str,
        chunks: u32,
        max_attempts: i32,
    ) -> Result<bool>;

    /// Marks a `chunk` or `rest` job done; the last of its split's parts to complete queues
    /// the `assemble` job in the same transaction (exactly once, see the module comment).
    async fn complete_part(&self, job_id: &JobId, worker: &str) -> Result<PartCompleted>;

    /// Records a part's own progress (0.0–1.0) and returns the mean over every part of its
    /// split (a done part counts 1.0), which the caller shows as the item's. `None`, and
    /// nothing changed, unless `worker` holds the job.
    async fn set_part_progress(
        &self,
        job_id: &JobId,
        worker: &str,
        fraction: f64,
    ) -> Result<Option<f64>>;

    /// The chunk jobs of the item's latest split; `None` when it was never split (a short
    /// video, audio, an image, or not processed yet).
    async fn chunk_counts(&self, media_id: &MediaId) -> Result<Option<ChunkCounts>>;

    /// Publishes the provisional playlists of the split of part `job_id` for the done prefix
    /// of `chunks` chunks (and the rest, `rest`) — only when that is past what the split has
    /// published (at least as far in both, further in one) and its assemble step has not
    /// begun. `publish` runs while this holds the split's row lock (publishers of one split
    /// write one after another, each deciding after the one before committed), and what it
    /// covered is recorded when it answers `true`. `publish` must not use this repository
    /// (SQLite's one writer is this transaction). `false`: `publish` did not run or failed.
    async fn publish_provisional(
        &self,
        job_id: &JobId,
        chunks: u32,
        rest: bool,
        publish: BoxFuture<'_, bool>,
    ) -> Result<bool>;

    /// The assemble step `job_id` begins: no provisional playlist of its split is written from
    /// now on (this waits for one being written).
    async fn end_provisional(&self, job_id: &JobId) -> Result<()>;
}

/// A future a repository runs inside one of its transactions (see
/// [`ChunkQueue::publish_provisional`]).
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// `provisional_chunks` once the assemble step began: past any prefix.
pub(crate) const PROVISIONAL_ENDED: i64 = i32::MAX as i64;

/// Queues a part: id `$1` for item `$2`, `$3` attempts, runnable from `$4`, kind `$5`, chunk
/// index `$6`, split `$7`, claim priority `$8`.
pub(crate) const INSERT_PART: &str = "INSERT INTO jobs (id, media_id, status, attempts, \
     max_attempts, run_after, lease_owner, lease_expires_at, last_error, created_at, \
     updated_at, kind, chunk_index, parent_id, priority, progress) \
     VALUES ($1, $2, 'queued', 0, $3, $4, NULL, NULL, NULL, $4, $4, $5, $6, $7, $8, 0)";

/// Claim priority of chunk and rest jobs (that of audio and video: after images).
pub(crate) const PART_PRIORITY: i32 = 1;
/// The assemble job is seconds of work the item's readiness waits for: claimed first.
pub(crate) const ASSEMBLE_PRIORITY: i32 = 0;

/// The message a part cancelled by its sibling's permanent failure records.
pub(crate) const CANCELLED: &str = "cancelled: another part of the item failed";

/// Expands [`ChunkQueue`] for `$repo`, whose statements run through `$q` (`::sqlx`, or
/// `crate::mysql::sql`), and `cancel_parts_in`, which the queue calls when a job fails for
/// good.
macro_rules! impl_chunks {
    ($repo:ty, $db:ty, $q:path) => {
        impl $repo {
            /// Fails every other queued or running job of the item `media_id` (the parts of a
            /// chunked item whose sibling `failed_job` failed for good). A running one's worker
            /// learns at its next heartbeat (its lease is gone) and stops.
            pub(crate) async fn cancel_parts_in(
                &self,
                conn: &mut <$db as ::sqlx::Database>::Connection,
                media_id: &str,
                failed_job: &str,
            ) -> $crate::Result<u64> {
                use $q as q;
                let done = q::query(
                    "UPDATE jobs SET status = 'failed', last_error = $1, lease_owner = NULL, \
                     lease_expires_at = NULL, updated_at = $2 \
                     WHERE media_id = $3 AND id <> $4 AND status IN ('queued', 'running') \
                     AND kind <> 'whole'",
                )
                .bind($crate::chunks::CANCELLED)
                .bind(Self::ts($crate::shared::now()))
                .bind(media_id)
                .bind(failed_job)
                .execute(&mut *conn)
                .await
                .map_err(Self::db_err)?;
                Ok(done.rows_affected())
            }
        }

        #[::async_trait::async_trait]
        impl $crate::ChunkQueue for $repo {
            async fn split_job(
                &self,
                job_id: &::mediaserver_core::JobId,
                worker: &str,
                chunks: u32,
                max_attempts: i32,
            ) -> $crate::Result<bool> {
                use $q as q;
                let now = $crate::shared::now();
                let mut tx = self.begin_write().await?;
                let row: Option<(String,)> = q::query_as(
                    "SELECT media_id FROM jobs WHERE id = $1 AND lease_owner = $2 \
                     AND status = 'running' AND kind = 'whole'",
                )
                .bind(job_id.as_str())
                .bind(worker)
                .fetch_optional(&mut *tx)
                .await
                .map_err(Self::db_err)?;
                let Some((media_id,)) = row else {
                    tx.rollback().await.map_err(Self::db_err)?;
                    return Ok(false);
                };
                let done = q::query(
                    "UPDATE jobs SET status = 'done', lease_owner = NULL, \
                     lease_expires_at = NULL, progress = 1, updated_at = $1 \
                     WHERE id = $2 AND lease_owner = $3 AND status = 'running'",
                )
                .bind(Self::ts(now))
                .bind(job_id.as_str())
                .bind(worker)
                .execute(&mut *tx)
                .await
                .map_err(Self::db_err)?;
                if done.rows_affected() == 0 {
                    tx.rollback().await.map_err(Self::db_err)?;
                    return Ok(false);
                }
                // Chunk 0 first, then the rest (both needed to play), then the other chunks:
                // ids are time-ordered, so claims follow this order.
                let mut parts: Vec<(&str, Option<i64>)> = (0..chunks)
                    .map(|index| ("chunk", Some(i64::from(index))))
                    .collect();
                parts.insert(parts.len().min(1), ("rest", None));
                for (kind, index) in parts {
                    q::query($crate::chunks::INSERT_PART)
                        .bind(::mediaserver_core::JobId::new().as_str())
                        .bind(media_id.as_str())
                        .bind(max_attempts.max(1))
                        .bind(Self::ts(now))
                        .bind(kind)
                        .bind(index)
                        .bind(job_id.as_str())
                        .bind($crate::chunks::PART_PRIORITY)
                        .execute(&mut *tx)
                        .await
                        .map_err(Self::db_err)?;
                }
                self.notify_jobs(&mut tx).await?;
                tx.commit().await.map_err(Self::db_err)?;
                Ok(true)
            }

            async fn complete_part(
                &self,
                job_id: &::mediaserver_core::JobId,
                worker: &str,
            ) -> $crate::Result<$crate::chunks::PartCompleted> {
                use $crate::chunks::PartCompleted;
                use $q as q;
                let now = $crate::shared::now();
                let mut tx = self.begin_write().await?;
                // The item's row lock first: completions of one item's parts serialise here.
                q::query(
                    "UPDATE media SET updated_at = updated_at \
                     WHERE id = (SELECT media_id FROM jobs WHERE id = $1)",
                )
                .bind(job_id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(Self::db_err)?;
                let row: Option<(String, Option<String>)> = q::query_as(
                    "SELECT media_id, parent_id FROM jobs WHERE id = $1 AND lease_owner = $2 \
                     AND status = 'running' AND kind IN ('chunk', 'rest')",
                )
                .bind(job_id.as_str())
                .bind(worker)
                .fetch_optional(&mut *tx)
                .await
                .map_err(Self::db_err)?;
                let Some((media_id, Some(parent))) = row else {
                    tx.rollback().await.map_err(Self::db_err)?;
                    return Ok(PartCompleted::NotHeld);
                };
                q::query(
                    "UPDATE jobs SET status = 'done', lease_owner = NULL, \
                     lease_expires_at = NULL, progress = 1, updated_at = $1 WHERE id = $2",
                )
                .bind(Self::ts(now))
                .bind(job_id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(Self::db_err)?;
                let (left, assembles): (i64, i64) = q::query_as(
                    "SELECT \
                       (SELECT COUNT(*) FROM jobs WHERE parent_id = $1 \
                        AND kind IN ('chunk', 'rest') AND status <> 'done'), \
                       (SELECT COUNT(*) FROM jobs WHERE parent_id = $1 AND kind = 'assemble')",
                )
                .bind(parent.as_str())
                .fetch_one(&mut *tx)
                .await
                .map_err(Self::db_err)?;
                let outcome = if left == 0 && assembles == 0 {
                    let max_attempts: (i32,) =
                        q::query_as("SELECT max_attempts FROM jobs WHERE id = $1")
                            .bind(job_id.as_str())
                            .fetch_one(&mut *tx)
                            .await
                            .map_err(Self::db_err)?;
                    q::query($crate::chunks::INSERT_PART)
                        .bind(::mediaserver_core::JobId::new().as_str())
                        .bind(media_id.as_str())
                        .bind(max_attempts.0.max(1))
                        .bind(Self::ts(now))
                        .bind("assemble")
                        .bind(None::<i64>)
                        .bind(parent.as_str())
                        .bind($crate::chunks::ASSEMBLE_PRIORITY)
                        .execute(&mut *tx)
                        .await
                        .map_err(Self::db_err)?;
                    self.notify_jobs(&mut tx).await?;
                    PartCompleted::AssembleQueued
                } else {
                    PartCompleted::Done
                };
                tx.commit().await.map_err(Self::db_err)?;
                Ok(outcome)
            }

            async fn set_part_progress(
                &self,
                job_id: &::mediaserver_core::JobId,
                worker: &str,
                fraction: f64,
            ) -> $crate::Result<Option<f64>> {
                use $q as q;
                let fraction = if fraction.is_finite() {
                    fraction.clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let done = q::query(
                    "UPDATE jobs SET progress = $1 WHERE id = $2 AND lease_owner = $3 \
                     AND status = 'running'",
                )
                .bind(fraction)
                .bind(job_id.as_str())
                .bind(worker)
                .execute(&self.pool)
                .await
                .map_err(Self::db_err)?;
                if done.rows_affected() == 0 {
                    return Ok(None);
                }
                let parts: Vec<(String, f64)> = q::query_as(
                    "SELECT status, progress FROM jobs WHERE kind IN ('chunk', 'rest') \
                     AND parent_id = (SELECT parent_id FROM jobs WHERE id = $1)",
                )
                .bind(job_id.as_str())
                .fetch_all(&self.pool)
                .await
                .map_err(Self::db_err)?;
                if parts.is_empty() {
                    return Ok(Some(fraction));
                }
                let sum: f64 = parts
                    .iter()
                    .map(|(status, p)| if status == "done" { 1.0 } else { *p })
                    .sum();
                Ok(Some(sum / parts.len() as f64))
            }

            async fn chunk_counts(
                &self,
                media_id: &::mediaserver_core::MediaId,
            ) -> $crate::Result<Option<::mediaserver_core::ChunkCounts>> {
                use $q as q;
                let split: Option<(String,)> = q::query_as(
                    "SELECT id FROM jobs WHERE media_id = $1 AND kind = 'whole' \
                     ORDER BY created_at DESC, id DESC LIMIT 1",
                )
                .bind(media_id.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(Self::db_err)?;
                let Some((split,)) = split else {
                    return Ok(None);
                };
                let (total, done, running): (i64, i64, i64) = q::query_as(
                    "SELECT COUNT(*), \
                       COUNT(CASE WHEN status = 'done' THEN 1 END), \
                       COUNT(CASE WHEN status = 'running' THEN 1 END) \
                     FROM jobs WHERE parent_id = $1 AND kind = 'chunk'",
                )
                .bind(split.as_str())
                .fetch_one(&self.pool)
                .await
                .map_err(Self::db_err)?;
                if total == 0 {
                    return Ok(None);
                }
                let n = |v: i64| u32::try_from(v).unwrap_or(u32::MAX);
                Ok(Some(::mediaserver_core::ChunkCounts {
                    total: n(total),
                    done: n(done),
                    running: n(running),
                }))
            }

            async fn publish_provisional(
                &self,
                job_id: &::mediaserver_core::JobId,
                chunks: u32,
                rest: bool,
                publish: $crate::chunks::BoxFuture<'_, bool>,
            ) -> $crate::Result<bool> {
                use $q as q;
                let mut tx = self.begin_write().await?;
                let split: Option<(Option<String>,)> =
                    q::query_as("SELECT parent_id FROM jobs WHERE id = $1")
                        .bind(job_id.as_str())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(Self::db_err)?;
                let Some((Some(split),)) = split else {
                    tx.rollback().await.map_err(Self::db_err)?;
                    return Ok(false);
                };
                let (chunks, rest) = (i64::from(chunks), i64::from(rest));
                // The update takes the row lock and checks against the committed state a
                // publisher before this one left (a waiting UPDATE re-reads the row).
                let ahead = q::query(
                    "UPDATE jobs SET provisional_chunks = $1, provisional_rest = $2 \
                     WHERE id = $3 AND provisional_chunks <= $1 AND provisional_rest <= $2 \
                     AND (provisional_chunks < $1 OR provisional_rest < $2)",
                )
                .bind(chunks)
                .bind(rest)
                .bind(split.as_str())
                .execute(&mut *tx)
                .await
                .map_err(Self::db_err)?;
                if ahead.rows_affected() == 0 {
                    tx.rollback().await.map_err(Self::db_err)?;
                    return Ok(false);
                }
                if publish.await {
                    tx.commit().await.map_err(Self::db_err)?;
                    Ok(true)
                } else {
                    tx.rollback().await.map_err(Self::db_err)?;
                    Ok(false)
                }
            }

            async fn end_provisional(
                &self,
                job_id: &::mediaserver_core::JobId,
            ) -> $crate::Result<()> {
                use $q as q;
                let mut tx = self.begin_write().await?;
                let split: Option<(Option<String>,)> =
                    q::query_as("SELECT parent_id FROM jobs WHERE id = $1")
                        .bind(job_id.as_str())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(Self::db_err)?;
                if let Some((Some(split),)) = split {
                    q::query("UPDATE jobs SET provisional_chunks = $1 WHERE id = $2")
                        .bind($crate::chunks::PROVISIONAL_ENDED)
                        .bind(split.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(Self::db_err)?;
                }
                tx.commit().await.map_err(Self::db_err)?;
                Ok(())
            }
        }
    };
}
pub(crate) use impl_chunks;
