//! `JOB_RUNNER=oci-container-instances`: a claimed job runs as one OCI Container Instance
//! executing `mediaserver transcode SRC DEST` from the worker image pinned by digest, instead of
//! ffmpeg in this process. The worker loop around it is the usual one (claim, heartbeat the
//! lease while the instance runs, complete or fail).
//!
//! * **One instance per job.** The instance is named `mediaserver-job-{job id}` and tagged
//!   `mediaserver-job: {job id}`; before creating, the runner lists the compartment's instances
//!   by that name and adopts a live one with the tag, so a redelivered job (an expired lease, a
//!   restarted server) waits for the instance already running instead of starting another.
//!   The create also carries `opc-retry-token: mediaserver-{job id}-{attempt}`, so a create
//!   retried after a lost answer returns the first instance.
//! * **Results.** The container writes its outputs under the item's output prefix and, last,
//!   `transcode.json` (the summary `mediaserver transcode` prints; see [`super::remote`]). After
//!   exit code 0 the runner reads that summary to record renditions, duration and size, exactly what the in-process
//!   pipeline records; a missing summary is a failed attempt. Exit code 2 (the input is not
//!   media) fails the item for good; any other code or a FAILED instance is retried with
//!   backoff like any failed attempt, with the code and OCI's lifecycle details as the reason.
//! * **Progress.** While it encodes, the container rewrites `progress.json` under the output
//!   prefix (every `TRANSCODE_PROGRESS_SECONDS`, set to the poll interval); each poll of a
//!   running instance reads it into the item's progress, 0–95 % like the in-process pipeline.
//! * **Clean-up.** A finished instance (success or failure) is deleted; one running longer
//!   than `TRANSCODE_TIMEOUT_SECONDS` is deleted and the attempt fails.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use mediaserver_core::{Job, JobId, JobKind, Media};
use mediaserver_db::MediaReady;
use mediaserver_oci::container_instances::{
    ContainerInstancesClient, CreateContainer, CreateContainerInstance, CreateVnic, CreateVolume,
    LifecycleState, ShapeConfig, VolumeMount,
};
use mediaserver_oci::OciError;
use tokio_util::sync::CancellationToken;

use super::remote::{load_result, part_arguments, relay_progress};
use super::{JobDone, JobRunner, RunContext};
use crate::{ErrorChain, PipelineError};

/// `runner.kind` of encodes this runner recorded.
pub const RUNNER_KIND: &str = "container-instances";
/// The freeform tag carrying the job id.
const JOB_TAG: &str = "mediaserver-job";
/// The job container's scratch directory with `scratch_gb` (its `TEMP_DIR`).
const SCRATCH_PATH: &str = "/scratch";
const SCRATCH_VOLUME: &str = "scratch";

/// What each job's instance looks like.
#[derive(Debug, Clone)]
pub struct InstanceTemplate {
    pub compartment_id: String,
    pub availability_domain: String,
    pub subnet_id: String,
    pub shape: String,
    pub ocpus: f32,
    pub memory_gb: f32,
    /// `OCI_CI_SCRATCH_GB`: a memory-backed scratch directory of this size (on top of
    /// `memory_gb`) instead of the instance's fixed 15 GB ephemeral disk.
    pub scratch_gb: Option<f32>,
    /// `host/repository@sha256:…`
    pub pinned_image: String,
    /// The Object Storage namespace of the buckets.
    pub namespace: String,
    pub media_bucket: String,
    pub output_bucket: String,
    /// Environment of the container besides `OCI_AUTH=resource_principal`: region, preset,
    /// endpoint overrides.
    pub environment: BTreeMap<String, String>,
    pub poll: Duration,
    /// Longest a job's instance may run.
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct ContainerInstancesRunner {
    pub client: ContainerInstancesClient,
    pub template: InstanceTemplate,
}

fn oci_failed(what: &str, e: OciError) -> PipelineError {
    PipelineError::Remote {
        what: format!("Container Instances: {what}"),
        outage: e.is_unavailable(),
        source: Box::new(e),
    }
}

/// The display name of a job's instance.
fn instance_name(job_id: &JobId) -> String {
    format!("mediaserver-job-{job_id}")
}

impl ContainerInstancesRunner {
    /// Where the encode ran, on top of what `mediaserver transcode` recorded (its host is the
    /// container's): this runner, the digest-pinned image and the instance.
    fn provenance(&self, mut ready: MediaReady, instance: &str) -> MediaReady {
        if let Some(encode) = ready.outputs.encode.as_mut() {
            encode.runner.kind = RUNNER_KIND.into();
            encode.runner.image = Some(self.template.pinned_image.clone());
            encode.runner.instance = Some(instance.to_string());
        }
        ready
    }

    /// `mediaserver transcode` arguments for `job` of `media`.
    fn arguments(&self, job: &Job, media: &Media) -> Result<Vec<String>, PipelineError> {
        let t = &self.template;
        let prefix = media.outputs_prefix();
        let mut args: Vec<String> = vec![
            "transcode".into(),
            format!(
                "oci://{}/{}/{}",
                t.namespace, t.media_bucket, media.original_key
            ),
            format!(
                "oci://{}/{}/{}",
                t.namespace,
                t.output_bucket,
                prefix.trim_end_matches('/')
            ),
        ];
        // A clip: the container cuts its range before processing, as the in-process runner does.
        if let Some(clip) = &media.clip {
            args.extend([
                "--clip-start".into(),
                clip.start_seconds.to_string(),
                "--clip-end".into(),
                clip.end_seconds.to_string(),
            ]);
        }
        args.extend(part_arguments(job, media)?);
        Ok(args)
    }

    fn details(&self, job: &Job, media: &Media) -> Result<CreateContainerInstance, PipelineError> {
        let t = &self.template;
        let mut env = t.environment.clone();
        env.insert("OCI_AUTH".into(), "resource_principal".into());
        // Container Instances have a fixed 15 GB ephemeral disk and no sized volumes; the one
        // way to more scratch space is an in-memory directory, paid for as memory.
        let (memory, volumes, mounts) = match t.scratch_gb {
            Some(gb) => {
                env.insert("TEMP_DIR".into(), SCRATCH_PATH.into());
                (
                    t.memory_gb + gb,
                    vec![CreateVolume {
                        name: SCRATCH_VOLUME.into(),
                        volume_type: "EMPTYDIR".into(),
                        backing_store: "MEMORY".into(),
                    }],
                    vec![VolumeMount {
                        mount_path: SCRATCH_PATH.into(),
                        volume_name: SCRATCH_VOLUME.into(),
                    }],
                )
            }
            None => (t.memory_gb, Vec::new(), Vec::new()),
        };
        Ok(CreateContainerInstance {
            compartment_id: t.compartment_id.clone(),
            availability_domain: t.availability_domain.clone(),
            display_name: instance_name(&job.id),
            shape: t.shape.clone(),
            shape_config: ShapeConfig {
                ocpus: t.ocpus,
                memory_in_gbs: Some(memory),
            },
            containers: vec![CreateContainer {
                display_name: "transcode".into(),
                image_url: t.pinned_image.clone(),
                command: None,
                arguments: self.arguments(job, media)?,
                environment_variables: env,
                is_resource_principal_disabled: false,
                volume_mounts: mounts,
            }],
            vnics: vec![CreateVnic {
                subnet_id: t.subnet_id.clone(),
                is_public_ip_assigned: false,
            }],
            container_restart_policy: "NEVER".into(),
            graceful_shutdown_timeout_in_seconds: Some(10),
            freeform_tags: [
                (JOB_TAG.to_string(), job.id.to_string()),
                ("mediaserver-media".to_string(), media.id.to_string()),
            ]
            .into(),
            volumes,
        })
    }

    /// The live instance already running this job, if any.
    async fn existing(&self, job: &Job) -> Result<Option<String>, PipelineError> {
        let found = self
            .client
            .list(&self.template.compartment_id, Some(&instance_name(&job.id)))
            .await
            .map_err(|e| oci_failed("listing instances", e))?;
        Ok(found
            .into_iter()
            .filter(|i| {
                i.freeform_tags.get(JOB_TAG).map(String::as_str) == Some(job.id.as_str())
                    && !i.lifecycle_state.is_deleted()
            })
            .map(|i| i.id)
            .next_back())
    }

    async fn wait(
        &self,
        id: &str,
        job: &Job,
        ctx: &RunContext,
        media: &Media,
        cancel: &CancellationToken,
    ) -> Result<(), PipelineError> {
        let started = Instant::now();
        let prefix = media.outputs_prefix();
        let mut progress = ctx.progress(&media.id);
        // A failed poll is not a failed job: the instance keeps transcoding whatever our
        // network does, so only this many failures in a row give up (and delete it).
        const MAX_POLL_FAILURES: u32 = 5;
        let mut poll_failures = 0;
        let instance = loop {
            let inst = match self.client.get(id).await {
                Ok(inst) => {
                    poll_failures = 0;
                    inst
                }
                Err(e) if poll_failures + 1 < MAX_POLL_FAILURES => {
                    poll_failures += 1;
                    tracing::warn!(instance = %id, error = %ErrorChain(&e), poll_failures, "could not read the job's container instance; polling again");
                    sleep_or_cancel(self.template.poll, cancel).await?;
                    continue;
                }
                Err(e) => return Err(oci_failed("reading the job's instance", e)),
            };
            match inst.lifecycle_state {
                LifecycleState::Inactive | LifecycleState::Failed => break inst,
                LifecycleState::Deleting | LifecycleState::Deleted => {
                    return Err(PipelineError::Transient(format!(
                        "container instance {id} was deleted before the job finished"
                    )))
                }
                // Parts of a chunked item run side by side: the item's progress is theirs
                // together, which one container's progress object does not say.
                LifecycleState::Active if job.kind == JobKind::Whole => {
                    tokio::select! {
                        _ = relay_progress(ctx.output_store.as_ref(), &prefix, &mut progress) => {}
                        _ = cancel.cancelled() => return Err(PipelineError::Cancelled),
                    }
                }
                _ => {}
            }
            // From the instance's creation: an adopted instance (a restarted server, a
            // redelivered job) does not get a fresh timeout.
            let running_for = inst
                .time_created
                .and_then(|t| (chrono::Utc::now() - t).to_std().ok())
                .unwrap_or_else(|| started.elapsed());
            if running_for > self.template.timeout {
                return Err(PipelineError::Transient(format!(
                    "container instance {id} ran longer than {} s (TRANSCODE_TIMEOUT_SECONDS); deleted",
                    self.template.timeout.as_secs()
                )));
            }
            sleep_or_cancel(self.template.poll, cancel).await?;
        };
        let details = instance.lifecycle_details.clone().filter(|d| !d.is_empty());
        let Some(container) = instance.containers.first() else {
            return Err(PipelineError::Transient(format!(
                "container instance {id} ended {:?} without a container{}",
                instance.lifecycle_state,
                details.map(|d| format!(": {d}")).unwrap_or_default()
            )));
        };
        let c = self
            .client
            .get_container(&container.container_id)
            .await
            .map_err(|e| oci_failed("reading the job's container", e))?;
        let why = c
            .lifecycle_details
            .clone()
            .filter(|d| !d.is_empty())
            .or(details)
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        match c.exit_code {
            Some(0) => Ok(()),
            Some(2) => Err(PipelineError::Unusable(format!(
                "the input is not usable media (transcode container exited with code 2{why})"
            ))),
            Some(code) => Err(PipelineError::Transient(format!(
                "the transcode container exited with code {code}{why}"
            ))),
            None => Err(PipelineError::Transient(format!(
                "container instance {id} ended {:?} without an exit code{why}",
                instance.lifecycle_state
            ))),
        }
    }
}

/// Runs each job to the end on its instance (adopting a running one) and returns what to
/// record; the instance is deleted once finished.
#[async_trait]
impl JobRunner for ContainerInstancesRunner {
    async fn run(
        &self,
        job: &Job,
        media: &Media,
        ctx: &RunContext,
        cancel: &CancellationToken,
    ) -> Result<JobDone, PipelineError> {
        ctx.repo.mark_media_processing(&media.id).await?;
        if job.kind == JobKind::Assemble {
            // No provisional playlist lands over the final ones from now on.
            ctx.repo.end_provisional(&job.id).await?;
        }
        let id = match self.existing(job).await? {
            Some(id) => {
                tracing::info!(instance = %id, "the job's container instance is already there; waiting for it instead of creating another");
                id
            }
            None => {
                // A fresh run: whatever an earlier attempt published goes first (not for a
                // part of a chunked item: the other parts' outputs are there too).
                if job.kind == JobKind::Whole {
                    ctx.unpublish(&media.id).await?;
                }
                let token = format!("mediaserver-{}-{}", job.id, job.attempts);
                let created = self
                    .client
                    .create(&self.details(job, media)?, Some(&token))
                    .await
                    .map_err(|e| oci_failed("creating the job's instance", e))?;
                tracing::info!(instance = %created.id, image = %self.template.pinned_image, "container instance created for the job");
                created.id
            }
        };
        let result = match self.wait(&id, job, ctx, media, cancel).await {
            // Read as the pipeline's own output storage: what players will be served.
            Ok(()) => load_result(job, media, ctx).await.map(|done| match done {
                JobDone::Ready(ready) => JobDone::Ready(self.provenance(ready, &id)),
                other => other,
            }),
            Err(e) => Err(e),
        };
        if matches!(result, Err(PipelineError::Cancelled)) {
            // Still running: the next claim of the job adopts it.
            return result;
        }
        if let Err(e) = self.client.delete(&id).await {
            tracing::warn!(instance = %id, error = %ErrorChain(&e), "could not delete the finished container instance");
        } else {
            tracing::info!(instance = %id, "finished container instance deleted");
        }
        result
    }

    /// A job's container instance keeps running: its outputs stay for the next claim.
    fn outlives_hand_back(&self) -> bool {
        true
    }
}

async fn sleep_or_cancel(d: Duration, cancel: &CancellationToken) -> Result<(), PipelineError> {
    tokio::select! {
        _ = tokio::time::sleep(d) => Ok(()),
        _ = cancel.cancelled() => Err(PipelineError::Cancelled),
    }
}
