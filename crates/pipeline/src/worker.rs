//! Queue workers: claim a job, keep its lease alive with heartbeats, hand it to the
//! [`JobRunner`], and record the result — ready, or failed and retried per the retry policy —
//! with a webhook. On shutdown the current job gets a grace period to finish, after which its
//! work is dropped (killing a local encoder) and the job handed back to the queue.

use crate::runner::{JobRunner, RunContext};
use crate::webhook::WebhookSender;
use crate::{ErrorChain, PipelineError};
use chrono::Utc;
use mediaserver_core::layout::outputs_prefix;
use mediaserver_core::{Job, JobId, JobStatus, MediaId, RetryPolicy};
use mediaserver_db::{DynRepo, MediaReady};
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
            lease: Duration::from_secs(60),
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

enum Outcome {
    Done(Result<MediaReady, PipelineError>),
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
        heartbeat.abort();

        if lost_lease.is_cancelled() {
            tracing::warn!("lease lost to another worker; dropping this attempt");
            return;
        }
        match outcome {
            Outcome::HandedBack => {
                if !self.runner.outlives_hand_back() {
                    self.unpublish_quietly(&job.media_id).await;
                }
                match self.repo.release_job(&job.id, worker).await {
                    Ok(_) => tracing::info!("job handed back to the queue"),
                    Err(e) => {
                        tracing::error!(error = %ErrorChain(&e), "could not hand the job back; its lease will expire")
                    }
                }
            }
            Outcome::Done(Ok(ready)) => self.finish(&job, worker, ready).await,
            Outcome::Done(Err(e)) => self.fail(&job, worker, e).await,
        }
    }

    async fn finish(&self, job: &Job, worker: &str, ready: MediaReady) {
        if let Err(e) = self.repo.mark_media_ready(&job.media_id, &ready).await {
            return self.fail(job, worker, e.into()).await;
        }
        if let Err(e) = self.repo.complete_job(&job.id, worker).await {
            tracing::error!(error = %ErrorChain(&e), "could not mark the job done");
        }
        tracing::info!("media ready");
        self.wake_webhooks();
    }

    async fn fail(&self, job: &Job, worker: &str, error: PipelineError) {
        // Nothing of a failed attempt stays published or playable; a retry starts clean.
        self.unpublish_quietly(&job.media_id).await;
        // The message is what the item records; the log line gets the causes too.
        let reason = error.to_string();
        let retry_at = self
            .settings
            .retry
            .retry_at(job.attempts, error.failure(), Utc::now());
        match self.repo.fail_job(&job.id, worker, &reason, retry_at).await {
            Ok(JobStatus::Failed) => {
                tracing::warn!(reason = %ErrorChain(&error), "media failed");
                self.wake_webhooks();
            }
            Ok(_) => {
                tracing::warn!(reason = %ErrorChain(&error), retry_at = ?retry_at, "attempt failed; will retry")
            }
            Err(e) => {
                tracing::error!(error = %ErrorChain(&e), reason = %ErrorChain(&error), "could not record the failure; the lease will expire")
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
    ) -> Result<MediaReady, PipelineError> {
        let media = self
            .repo
            .get_media(&job.media_id)
            .await?
            .ok_or_else(|| PipelineError::Unusable("the item was deleted".into()))?;
        let ready = self
            .runner
            .run(job, &media, &self.run_context(), &cancel)
            .await?;
        self.unless_deleted(&media.id, ready).await
    }

    /// What the runner may use: the stores and the database.
    fn run_context(&self) -> RunContext {
        RunContext {
            repo: self.repo.clone(),
            media_store: self.media_store.clone(),
            output_store: self.output_store.clone(),
        }
    }

    /// Deleted while we worked: remove what was just published instead of orphaning it.
    async fn unless_deleted(
        &self,
        media_id: &MediaId,
        ready: MediaReady,
    ) -> Result<MediaReady, PipelineError> {
        if self.repo.get_media(media_id).await?.is_none() {
            self.output_store
                .delete_prefix(&outputs_prefix(media_id))
                .await?;
            return Err(PipelineError::Unusable(
                "the item was deleted during processing".into(),
            ));
        }
        Ok(ready)
    }

    async fn unpublish_quietly(&self, media_id: &MediaId) {
        if let Err(e) = self.run_context().unpublish(media_id).await {
            tracing::warn!(error = %ErrorChain(&e), "could not take back published outputs");
        }
    }
}

async fn heartbeat(
    repo: DynRepo,
    job_id: JobId,
    worker: String,
    lease: Duration,
    lost: CancellationToken,
) {
    let every = (lease / 4).max(Duration::from_millis(250));
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
            // A blip: keep trying until the lease would have run out anyway.
            Err(e) => tracing::warn!(error = %ErrorChain(&e), "heartbeat failed"),
        }
    }
}
