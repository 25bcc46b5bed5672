//! Queue workers: claim a job, keep its lease alive with heartbeats, process the item, publish
//! the outputs and record the result. On shutdown the current job gets a grace period to finish,
//! after which its encoder is killed and the job handed back to the queue.

use crate::container_instances::ContainerInstancesRunner;
use crate::process::{list_files, process_file_with, ProcessSettings};
use crate::progressive::{ProgressivePublisher, Published, Target};
use crate::webhook::{WebhookEvent, WebhookSender};
use crate::PipelineError;
use chrono::Utc;
use futures::StreamExt;
use mediaserver_core::layout::{self, outputs_prefix};
use mediaserver_core::{Job, JobStatus, Media, MediaKind, MediaStatus, RetryPolicy};
use mediaserver_db::{DynRepo, MediaReady};
use mediaserver_storage::{ObjectKey, Storage};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
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
    pub temp_dir: PathBuf,
    pub process: ProcessSettings,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings {
            lease: Duration::from_secs(60),
            idle_wait: Duration::from_secs(5),
            retry: RetryPolicy::default(),
            shutdown_grace: Duration::from_secs(30),
            temp_dir: std::env::temp_dir(),
            process: ProcessSettings::default(),
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
    pub webhooks: Option<WebhookSender>,
    /// `JOB_RUNNER=oci-container-instances`: jobs run as Container Instances instead of here.
    pub remote: Option<Arc<ContainerInstancesRunner>>,
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
        if let Err(e) = tokio::fs::create_dir_all(&self.settings.temp_dir).await {
            tracing::error!(dir = %self.settings.temp_dir.display(), error = %e, "cannot create the temp directory (TEMP_DIR)");
        }
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
                    tracing::warn!(%worker, error = %e, "cannot claim jobs; retrying");
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

        // Boxed so it can be dropped (killing the encoder) before the job is handed back.
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
        // Dropping the future kills any encoder still running (kill_on_drop).
        drop(processing);
        heartbeat.abort();

        if lost_lease.is_cancelled() {
            tracing::warn!("lease lost to another worker; dropping this attempt");
            return;
        }
        match outcome {
            Outcome::HandedBack => {
                // A job's container instance keeps running: its outputs stay for the next claim.
                if self.remote.is_none() {
                    self.unpublish_quietly(&job.media_id).await;
                }
                match self.repo.release_job(&job.id, worker).await {
                    Ok(_) => tracing::info!("job handed back to the queue"),
                    Err(e) => {
                        tracing::error!(error = %e, "could not hand the job back; its lease will expire")
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
            tracing::error!(error = %e, "could not mark the job done");
        }
        tracing::info!("media ready");
        self.notify("media.ready", &job.media_id).await;
    }

    async fn fail(&self, job: &Job, worker: &str, error: PipelineError) {
        // Nothing of a failed attempt stays published or playable; a retry starts clean.
        self.unpublish_quietly(&job.media_id).await;
        let reason = error.to_string();
        let retry_at = self
            .settings
            .retry
            .retry_at(job.attempts, error.failure(), Utc::now());
        match self.repo.fail_job(&job.id, worker, &reason, retry_at).await {
            Ok(JobStatus::Failed) => {
                tracing::warn!(%reason, "media failed");
                self.notify("media.failed", &job.media_id).await;
            }
            Ok(_) => tracing::warn!(%reason, retry_at = ?retry_at, "attempt failed; will retry"),
            Err(e) => {
                tracing::error!(error = %e, %reason, "could not record the failure; the lease will expire")
            }
        }
    }

    async fn notify(&self, kind: &'static str, media_id: &str) {
        let Some(hooks) = &self.webhooks else { return };
        match self.repo.get_media(media_id).await {
            Ok(Some(m)) => hooks.send(WebhookEvent {
                kind,
                id: mediaserver_core::new_id(),
                created_at: Utc::now(),
                data: media_summary(&m),
            }),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "cannot load the item for its webhook"),
        }
    }

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
        if let Some(remote) = &self.remote {
            self.repo.mark_media_processing(&media.id).await?;
            let ready = remote.run(self, job, &media, &cancel).await?;
            return self.unless_deleted(&media.id, ready).await;
        }
        if job.attempts > 1 || media.playable {
            // An earlier attempt may have published part of the item (and died before it
            // could take it back): players must not see it, this attempt starts clean.
            self.unpublish(&media.id).await?;
        }
        self.repo.mark_media_processing(&media.id).await?;

        let scratch = tempfile::Builder::new()
            .prefix(&format!("job-{}-", media.id))
            .tempdir_in(&self.settings.temp_dir)?;
        let input = scratch.path().join("input");
        let out_dir = scratch.path().join("out");
        tokio::fs::create_dir_all(&out_dir).await?;

        self.download(&media, &input).await?;

        // Progress: 0–95 % encoding, the rest publishing. Written at most once a second.
        let (tx, rx) = tokio::sync::watch::channel(0.0f64);
        let reporter = tokio::spawn(report_progress(
            self.repo.clone(),
            media.id.clone(),
            rx.clone(),
        ));
        let prefix = media.outputs_prefix();
        // Video and audio: segments go out while the encode runs (aborted if this future is
        // dropped; finished before anything below touches storage).
        let progressive = matches!(media.kind, MediaKind::Video | MediaKind::Audio).then(|| {
            ProgressivePublisher::start(Target {
                store: self.output_store.clone(),
                repo: self.repo.clone(),
                media_id: media.id.clone(),
                prefix: prefix.clone(),
                out_dir: out_dir.clone(),
                progress: rx,
            })
        });
        let processed = process_file_with(
            &input,
            media.kind,
            &out_dir,
            &self.settings.process,
            move |f| {
                tx.send_replace(f.clamp(0.0, 1.0));
            },
            cancel,
            progressive.as_ref().and_then(ProgressivePublisher::sender),
        )
        .await;
        reporter.abort();
        let published = match progressive {
            Some(p) => p.finish().await,
            None => Published::default(),
        };
        let processed = processed?;

        self.publish(&out_dir, &prefix, &published.files).await?;
        let ready = MediaReady {
            duration_seconds: processed.duration_seconds,
            width: processed.width,
            height: processed.height,
            playable: processed.outputs.hls.is_some(),
            outputs: processed.outputs,
        };
        self.unless_deleted(&media.id, ready).await
    }

    /// Deleted while we worked: remove what was just published instead of orphaning it.
    async fn unless_deleted(
        &self,
        media_id: &str,
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

    async fn download(&self, media: &Media, dest: &std::path::Path) -> Result<(), PipelineError> {
        let key = ObjectKey::new(media.original_key.clone())
            .map_err(|e| PipelineError::Unusable(format!("unusable original key: {e}")))?;
        let (_, mut stream) = match self.media_store.get_stream(&key).await {
            Err(mediaserver_storage::StorageError::NotFound(_)) => {
                return Err(PipelineError::Unusable(
                    "the original is missing from storage".into(),
                ))
            }
            other => other?,
        };
        let mut file = tokio::fs::File::create(dest).await?;
        while let Some(chunk) = stream.next().await {
            file.write_all(&chunk?).await?;
        }
        file.flush().await?;
        Ok(())
    }

    /// Uploads `out_dir` under `prefix`: media objects first, then the playlists, manifests
    /// and VTT that reference them, the HLS master last, so a player following published
    /// references never meets a missing object (progressive publishing may already have made
    /// the item playable). Files `already` uploaded with the same size are skipped: segments
    /// never change once complete.
    async fn publish(
        &self,
        out_dir: &Path,
        prefix: &str,
        already: &HashMap<String, u64>,
    ) -> Result<(), PipelineError> {
        let mut phases: [Vec<(PathBuf, String)>; 3] = Default::default();
        let mut skipped = 0usize;
        for (path, rel) in list_files(out_dir).await? {
            if let Some(size) = already.get(&rel) {
                if tokio::fs::metadata(&path).await?.len() == *size {
                    skipped += 1;
                    continue;
                }
            }
            phases[publish_phase(&rel)].push((path, rel));
        }
        let uploading: usize = phases.iter().map(Vec::len).sum();
        tracing::debug!(uploading, skipped, "publishing outputs");
        for files in phases {
            // A few uploads at a time: segments are small and many.
            let results: Vec<Result<(), PipelineError>> = futures::stream::iter(files)
                .map(|(path, rel)| async move {
                    let key = ObjectKey::new(format!("{prefix}{rel}"))
                        .map_err(|e| PipelineError::Transient(format!("output name: {e}")))?;
                    self.output_store.put_file(&key, &path).await?;
                    Ok(())
                })
                .buffer_unordered(8)
                .collect()
                .await;
            results.into_iter().collect::<Result<(), _>>()?;
        }
        Ok(())
    }

    /// Takes an item's published outputs back: first `playable` off, then the objects.
    pub(crate) async fn unpublish(&self, media_id: &str) -> Result<(), PipelineError> {
        if let Some(m) = self.repo.get_media(media_id).await? {
            if m.playable {
                match self
                    .repo
                    .set_media_progress(media_id, m.progress, Some(false))
                    .await
                {
                    Ok(()) | Err(mediaserver_db::DbError::NotFound) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        let removed = self
            .output_store
            .delete_prefix(&outputs_prefix(media_id))
            .await?;
        if removed > 0 {
            tracing::info!(removed, "took back published outputs");
        }
        Ok(())
    }

    async fn unpublish_quietly(&self, media_id: &str) {
        if let Err(e) = self.unpublish(media_id).await {
            tracing::warn!(error = %e, "could not take back published outputs");
        }
    }
}

async fn heartbeat(
    repo: DynRepo,
    job_id: String,
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
            Err(e) => tracing::warn!(error = %e, "heartbeat failed"),
        }
    }
}

async fn report_progress(
    repo: DynRepo,
    media_id: String,
    mut rx: tokio::sync::watch::Receiver<f64>,
) {
    let mut last = -1;
    while rx.changed().await.is_ok() {
        let pct = (*rx.borrow_and_update() * 95.0).round() as i32;
        if pct != last {
            if let Err(e) = repo.set_media_progress(&media_id, pct, None).await {
                tracing::debug!(error = %e, "progress update failed");
            }
            last = pct;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Upload order of an output file: 0 media objects, 1 what references them, 2 the HLS master.
fn publish_phase(rel: &str) -> usize {
    if rel == layout::HLS_MASTER {
        2
    } else if [".m3u8", ".mpd", ".vtt"]
        .iter()
        .any(|ext| rel.ends_with(ext))
    {
        1
    } else {
        0
    }
}

/// The item as webhook receivers see it.
pub fn media_summary(m: &Media) -> serde_json::Value {
    let base = format!("/v1/media/{}", m.id);
    serde_json::json!({
        "id": m.id,
        "kind": m.kind,
        "status": m.status,
        "title": m.title,
        "owner_id": m.owner_id,
        "duration_seconds": m.duration_seconds,
        "width": m.width,
        "height": m.height,
        "error": m.error,
        "renditions": m.outputs.renditions,
        "playback": (m.status == MediaStatus::Ready && m.outputs.hls.is_some()).then(|| serde_json::json!({
            "hls": format!("{base}/{}", layout::public::HLS_MASTER),
            "dash": format!("{base}/{}", layout::public::DASH_MANIFEST),
        })),
    })
}

#[cfg(test)]
mod tests {
    use super::publish_phase;

    #[test]
    fn objects_before_references_before_the_master() {
        for (rel, phase) in [
            ("stream/chunk-0-00001.m4s", 0),
            ("stream/init-3.m4s", 0),
            ("thumbnail.jpg", 0),
            ("storyboard.jpg", 0),
            ("large.webp", 0),
            ("stream/media_0.m3u8", 1),
            ("stream/manifest.mpd", 1),
            ("storyboard.vtt", 1),
            ("stream/master.m3u8", 2),
        ] {
            assert_eq!(publish_phase(rel), phase, "{rel}");
        }
    }
}
