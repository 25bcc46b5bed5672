//! Queue workers: claim a job, keep its lease alive with heartbeats, hand it to the
//! [`JobRunner`], and record the result — ready, or failed and retried per the retry policy —
//! with a webhook. On shutdown the current job gets a grace period to finish, after which its
//! work is dropped (killing a local encoder) and the job handed back to the queue.
//!
//! Leases are short (`JOB_LEASE_SECONDS`, 15 s by default) and renewed every third of that, so
//! a killed worker's job is claimed by another within about one lease. A worker that learns its
//! lease went to another worker stops the job at once instead of racing the new owner.
//!
//! An outage of the database or object storage is not the media's fault: such a failure goes
//! back to the queue without using an attempt (bounded in time by the retry policy), and a
//! result that cannot be recorded because the database is unreachable is recorded once it is
//! back, while the heartbeat keeps the lease, instead of being thrown away.

use crate::runner::{JobDone, JobRunner, RunContext};
use crate::webhook::WebhookSender;
use crate::{ErrorChain, PipelineError};
use chrono::Utc;
use mediaserver_core::layout::outputs_prefix;
use mediaserver_core::{Job, JobId, JobKind, JobStatus, MediaId, MediaStatus, Retry, RetryPolicy};
use mediaserver_db::{DbError, DynRepo, MediaReady, PartCompleted};
use mediaserver_storage::Storage;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub lease: Duration,
    /// How long an idle worker waits for a wake-up before polling again.
    pub idle_wait: Duration,
    /// How long a failed attempt waits before the next (`max_attempts` is recorded on the job
    /// when it is queued).
    pub retry: RetryPolicy,
    /// On shutdown, how long the current job may run on before it is handed back.
    pub shutdown_grace: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings {
            lease: Duration::from_secs(15),
            idle_wait: Duration::from_secs(5),
            retry: RetryPolicy::default(),
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// Everything a worker needs; cheap to clone.
#[derive(Clone)]
pub struct Pipeline {
    pub repo: DynRepo,
    pub media_store: Arc<dyn Storage>,
    pub output_store: Arc<dyn Storage>,
    pub settings: Arc<WorkerSettings>,
    /// Sends the webhook outbox (`WEBHOOK_URL`); the database writes the deliveries when an
    /// item becomes ready or failed, and the worker only wakes the sender.
    pub webhooks: Option<WebhookSender>,
    /// Where each job's work happens (`JOB_RUNNER`): here, or a Container Instance per job.
    pub runner: Arc<dyn JobRunner>,
}

// One short-lived value per job: boxing the large variant would buy nothing.
#[allow(clippy::large_enum_variant)]
enum Outcome {
    Done(Result<JobDone, PipelineError>),
    HandedBack,
}

impl Pipeline {
    /// Starts `n` workers named `{prefix}-{i}`; they stop when `shutdown` is cancelled.
    pub fn spawn_workers(
        &self,
        n: usize,
        prefix: &str,
        shutdown: CancellationToken,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        (0..n)
            .map(|i| {
                let p = self.clone();
                let id = format!("{prefix}-{i}");
                let s = shutdown.clone();
                tokio::spawn(async move { p.run_worker(id, s).await })
            })
            .collect()
    }

    /// One worker's loop, until `shutdown` is cancelled.
    pub async fn run_worker(&self, worker: String, shutdown: CancellationToken) {
        tracing::info!(%worker, "worker started");
        while !shutdown.is_cancelled() {
            match self
                .repo
                .claim_job(&worker, self.settings.lease, Utc::now())
                .await
            {
                Ok(Some(job)) => {
                    let span = tracing::info_span!("job", job_id = %job.id, media_id = %job.media_id, attempt = job.attempts);
                    self.run_job(&worker, job, &shutdown).instrument(span).await
                }
                Ok(None) => {
                    tokio::select! {
                        _ = self.repo.wait_for_jobs(self.settings.idle_wait) => {}
                        _ = shutdown.cancelled() => {}
                    }
                }
                Err(e) => {
                    tracing::warn!(%worker, error = %ErrorChain(&e), "cannot claim jobs; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                        _ = shutdown.cancelled() => {}
                    }
                }
            }
        }
        tracing::info!(%worker, "worker stopped");
    }

    async fn run_job(&self, worker: &str, job: Job, shutdown: &CancellationToken) {
        tracing::info!(%worker, "job claimed");
        // Cancelled by the heartbeat when another worker holds the lease now.
        let lost_lease = CancellationToken::new();
        let heartbeat = tokio::spawn(heartbeat(
            self.repo.clone(),
            job.id.clone(),
            worker.to_string(),
            self.settings.lease,
            lost_lease.clone(),
        ));

        // Boxed so it can be dropped (stopping local work) before the job is handed back.
        let mut processing = Box::pin(self.process_job(&job, lost_lease.clone()));
        let outcome = tokio::select! {
            r = &mut processing => Outcome::Done(r),
            _ = shutdown.cancelled() => {
                tracing::info!("shutting down: letting the job finish for up to {:?}", self.settings.shutdown_grace);
                match tokio::time::timeout(self.settings.shutdown_grace, &mut processing).await {
                    Ok(r) => Outcome::Done(r),
                    Err(_) => Outcome::HandedBack,
                }
            }
        };
        // Dropping the future kills any local encoder still running (kill_on_drop).
        drop(processing);

        // The heartbeat goes on while the result is recorded: an unreachable database is
        // waited for with the lease kept, not left to expire.
        let held = Held {
            job: &job,
            worker,
            lost: &lost_lease,
            shutdown,
        };
        if lost_lease.is_cancelled() {
            tracing::warn!("lease lost to another worker; dropping this attempt");
            // Deleted or failed while this ran: what it published is nobody's.
            self.unpublish_if_abandoned(&job.media_id).await;
        } else {
            match outcome {
                Outcome::HandedBack => self.hand_back(&held).await,
                Outcome::Done(Ok(JobDone::Ready(ready))) => self.finish(&held, ready).await,
                Outcome::Done(Ok(JobDone::Split { chunks })) => {
                    self.finish_split(&held, chunks).await
                }
                Outcome::Done(Ok(JobDone::Part)) => self.finish_part(&held).await,
                Outcome::Done(Err(e)) => self.fail(&held, e).await,
            }
        }
        heartbeat.abort();
    }

    async fn hand_back(&self, held: &Held<'_>) {
        if !self.runner.outlives_hand_back() {
            // Players stop seeing a half-done item; its segments stay for the next attempt.
            self.hide(held).await;
        }
        match self.repo.release_job(&held.job.id, held.worker).await {
            Ok(_) => tracing::info!("job handed back to the queue"),
            Err(e) => {
                tracing::error!(error = %ErrorChain(&e), "could not hand the job back; its lease will expire")
            }
        }
    }

    async fn finish(&self, held: &Held<'_>, ready: MediaReady) {
        let job = held.job;
        let item = self
            .persist(held, "check the item", || {
                self.repo.get_media(&job.media_id)
            })
            .await;
        match item {
            Ok(Some(_)) => {}
            Ok(None) => {
                // Deleted while we worked: remove what was just published instead of
                // orphaning it.
                if let Err(e) = self
                    .output_store
                    .delete_prefix(&outputs_prefix(&job.media_id))
                    .await
                {
                    tracing::warn!(error = %ErrorChain(&e), "could not remove a deleted item's outputs");
                }
                let gone = PipelineError::Unusable("the item was deleted during processing".into());
                return self.fail(held, gone).await;
            }
            Err(e) => return self.fail(held, e.into()).await,
        }
        let marked = self
            .persist(held, "mark the item ready", || {
                self.repo.mark_media_ready(&job.media_id, &ready)
            })
            .await;
        if let Err(e) = marked {
            return self.fail(held, e.into()).await;
        }
        let completed = self
            .persist(held, "mark the job done", || {
                self.repo.complete_job(&job.id, held.worker)
            })
            .await;
        match completed {
            // The chunk records go only with the job that read them: a worker that took the
            // assemble job over reads them now (else reconcile finds them).
            Ok(true) if job.kind == JobKind::Assemble => {
                crate::chunked::clean_up(self.output_store.as_ref(), &job.media_id).await;
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %ErrorChain(&e), "could not mark the job done"),
        }
        tracing::info!("media ready");
        if let Some(report) = &ready.outputs.encode {
            crate::encode_report::record_metrics(report);
        }
        self.wake_webhooks();
    }

    /// A whole job became the split: its parts are queued as it completes.
    async fn finish_split(&self, held: &Held<'_>, chunks: u32) {
        let job = held.job;
        let split = self
            .persist(held, "queue the chunk jobs", || {
                self.repo
                    .split_job(&job.id, held.worker, chunks, job.max_attempts)
            })
            .await;
        match split {
            Ok(true) => {
                crate::chunked::metrics::split(chunks);
                tracing::info!(chunks, "split into chunk jobs")
            }
            Ok(false) => tracing::warn!("the job was no longer ours; its split was not queued"),
            Err(e) => self.fail(held, e.into()).await,
        }
    }

    /// A chunk or the rest is done; the last of them queues the assemble job.
    async fn finish_part(&self, held: &Held<'_>) {
        let job = held.job;
        let done = self
            .persist(held, "mark the part done", || {
                self.repo.complete_part(&job.id, held.worker)
            })
            .await;
        match done {
            Ok(PartCompleted::AssembleQueued) => {
                crate::chunked::metrics::part_done(job.kind);
                tracing::info!("last part done; assemble job queued")
            }
            Ok(PartCompleted::Done) => {
                crate::chunked::metrics::part_done(job.kind);
                tracing::info!("part done")
            }
            Ok(PartCompleted::NotHeld) => {
                tracing::warn!("the part was no longer ours (cancelled or taken over)");
                // Deleted or failed (a sibling failed for good) while this part encoded: what
                // it just published, its record included, would be orphaned.
                self.unpublish_if_abandoned(&job.media_id).await;
            }
            Err(e) => self.fail(held, e.into()).await,
        }
    }

    async fn fail(&self, held: &Held<'_>, error: PipelineError) {
        let job = held.job;
        // The message is what the item records; the log line gets the causes too.
        let reason = error.to_string();
        let failure = error.failure();
        let decision =
            self.settings
                .retry
                .decide(job.attempts, failure, job.created_at, Utc::now());
        let recorded = match decision {
            Retry::NotCounted(at) => {
                // Kept published: the next attempt reuses what it can (see the runner).
                self.hide(held).await;
                let deferred = self
                    .persist(held, "hand the job back", || {
                        self.repo.defer_job(&job.id, held.worker, &reason, at)
                    })
                    .await;
                match deferred {
                    Ok(_) => {
                        tracing::warn!(reason = %ErrorChain(&error), retry_at = %at, "outage; will retry without counting the attempt");
                        return;
                    }
                    Err(e) => Err(e),
                }
            }
            Retry::Counted(at) if job.attempts < job.max_attempts => {
                self.hide(held).await;
                self.persist(held, "record the failure", || {
                    self.repo.fail_job(&job.id, held.worker, &reason, Some(at))
                })
                .await
            }
            Retry::Counted(_) | Retry::Never => {
                // Nothing of a failed item stays published or playable.
                self.unpublish_quietly(&job.media_id).await;
                self.persist(held, "record the failure", || {
                    self.repo.fail_job(&job.id, held.worker, &reason, None)
                })
                .await
            }
        };
        match recorded {
            Ok(JobStatus::Failed) => {
                tracing::warn!(reason = %ErrorChain(&error), "media failed");
                self.wake_webhooks();
            }
            Ok(_) => {
                tracing::warn!(reason = %ErrorChain(&error), decision = ?decision, "attempt failed; will retry")
            }
            Err(e) => {
                tracing::error!(error = %ErrorChain(&e), reason = %ErrorChain(&error), "could not record the failure; the lease will expire")
            }
        }
    }

    /// Runs a database write, and again while the database is unreachable, for as long as this
    /// worker holds the job and is not shutting down.
    async fn persist<T, F, Fut>(&self, held: &Held<'_>, what: &str, op: F) -> Result<T, DbError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, DbError>>,
    {
        let mut wait = Duration::from_millis(500);
        loop {
            match op().await {
                Err(e @ DbError::Unavailable { .. }) => {
                    if held.lost.is_cancelled() || held.shutdown.is_cancelled() {
                        return Err(e);
                    }
                    tracing::warn!(error = %ErrorChain(&e), "database unreachable; will {what} when it is back");
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = held.lost.cancelled() => {}
                        _ = held.shutdown.cancelled() => {}
                    }
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
                other => return other,
            }
        }
    }

    /// The item's delivery was written with its new state: send it now rather than at the
    /// sender's next poll.
    fn wake_webhooks(&self) {
        if let Some(hooks) = &self.webhooks {
            hooks.wake();
        }
    }

    /// Hands the job to the runner; the item must exist before and after.
    async fn process_job(
        &self,
        job: &Job,
        cancel: CancellationToken,
    ) -> Result<JobDone, PipelineError> {
        let media = self
            .repo
            .get_media(&job.media_id)
            .await?
            .ok_or_else(|| PipelineError::Unusable("the item was deleted".into()))?;
        self.runner
            .run(job, &media, &self.run_context(), &cancel)
            .await
    }

    /// What the runner may use: the stores and the database.
    fn run_context(&self) -> RunContext {
        RunContext {
            repo: self.repo.clone(),
            media_store: self.media_store.clone(),
            output_store: self.output_store.clone(),
        }
    }

    /// Turns `playable` off, keeping the published objects for the next attempt (waiting for
    /// an unreachable database like the result itself).
    async fn hide(&self, held: &Held<'_>) {
        // A chunked item's parts publish under final names that a retry rewrites alike: what
        // plays stays playable while one part is retried.
        if held.job.kind != JobKind::Whole {
            return;
        }
        let id = &held.job.media_id;
        let hidden = self
            .persist(held, "take the item off playback", || async move {
                match self.repo.get_media(id).await? {
                    Some(m) if m.playable => {
                        match self
                            .repo
                            .set_media_progress(id, m.progress, Some(false))
                            .await
                        {
                            Ok(()) | Err(DbError::NotFound) => Ok(()),
                            Err(e) => Err(e),
                        }
                    }
                    _ => Ok(()),
                }
            })
            .await;
        if let Err(e) = hidden {
            tracing::warn!(error = %ErrorChain(&e), "could not take the item off playback");
        }
    }

    /// Takes back the item's outputs when it is gone or failed for good (no attempt of it can
    /// be running: a retry queues it again first).
    async fn unpublish_if_abandoned(&self, media_id: &MediaId) {
        let abandoned = match self.repo.get_media(media_id).await {
            Ok(None) => true,
            Ok(Some(m)) => m.status == MediaStatus::Failed,
            Err(_) => false,
        };
        if abandoned {
            self.unpublish_quietly(media_id).await;
        }
    }

    async fn unpublish_quietly(&self, media_id: &MediaId) {
        if let Err(e) = self.run_context().unpublish(media_id).await {
            tracing::warn!(error = %ErrorChain(&e), "could not take back published outputs");
        }
    }
}

/// A job this worker claimed, while its result is recorded.
struct Held<'a> {
    job: &'a Job,
    worker: &'a str,
    /// Cancelled when another worker took the job over.
    lost: &'a CancellationToken,
    shutdown: &'a CancellationToken,
}

async fn heartbeat(
    repo: DynRepo,
    job_id: JobId,
    worker: String,
    lease: Duration,
    lost: CancellationToken,
) {
    // Three renewals per lease: one lost request does not lose the job.
    let every = (lease / 3).max(Duration::from_millis(250));
    loop {
        tokio::time::sleep(every).await;
        match repo
            .heartbeat_job(&job_id, &worker, lease, Utc::now())
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                lost.cancel();
                return;
            }
            // Unreachable: nobody can claim the job meanwhile either; the first renewal that
            // gets through says whether it is still ours.
            Err(e) => tracing::warn!(error = %ErrorChain(&e), "heartbeat failed"),
        }
    }
}
