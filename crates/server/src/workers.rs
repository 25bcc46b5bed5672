//! Processing: the pipeline over the app's database and storage, where its jobs run
//! (`JOB_RUNNER`: here, or as OCI Container Instances with a pinned worker image), and running
//! workers until shutdown.

use crate::config::{Config, ContainerInstancesConfig, RunnerChoice};
use anyhow::Context;
use mediaserver_api::AppState;
use mediaserver_pipeline::{
    ContainerInstancesRunner, DeliveryPolicy, InProcessRunner, InstanceTemplate, JobRunner,
    Pipeline, ProcessSettings, ScratchSettings, WebhookSender, WorkerSettings,
};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How this process's workers run jobs.
pub fn worker_settings(config: &Config) -> WorkerSettings {
    WorkerSettings {
        lease: Duration::from_secs(config.jobs.lease_secs),
        retry: config.jobs.retry.clone(),
        ..WorkerSettings::default()
    }
}

/// The default job runner: ffmpeg in this process, in scratch directories under `TEMP_DIR`
/// that live jobs keep fresh as often as they renew their lease.
pub fn in_process_runner(config: &Config) -> InProcessRunner {
    InProcessRunner::new(
        config.jobs.temp_dir.clone(),
        ProcessSettings {
            preset: config.jobs.preset.clone(),
            timeout: Duration::from_secs(config.jobs.timeout_secs),
            downloads: config.jobs.downloads,
            codecs: config.codecs.clone(),
            ladder_mode: config.jobs.ladder_mode,
            chunks: config.jobs.chunks,
        },
        ScratchSettings::for_lease(Duration::from_secs(config.jobs.lease_secs)),
    )
}

/// The processing pipeline over the same database and storage as `state`, running jobs here or
/// (`JOB_RUNNER=oci-container-instances`) as Container Instances.
pub async fn pipeline(config: &Config, state: &AppState) -> anyhow::Result<Pipeline> {
    let runner: Arc<dyn JobRunner> = match job_runner(config).await? {
        Some(remote) => remote,
        None => Arc::new(in_process_runner(config)),
    };
    let webhooks = match &config.http.webhook {
        Some(w) => Some(
            WebhookSender::new(
                state.repo.clone(),
                w.url.clone(),
                w.secret.clone(),
                DeliveryPolicy {
                    retry: w.retry.clone(),
                    timeout: w.timeout,
                    ..DeliveryPolicy::default()
                },
                worker_name(),
            )
            .context("building the webhook client")?,
        ),
        None => None,
    };
    Ok(Pipeline {
        repo: state.repo.clone(),
        media_store: state.media_store.clone(),
        output_store: state.output_store.clone(),
        settings: Arc::new(worker_settings(config)),
        webhooks,
        runner,
    })
}

/// With `JOB_RUNNER=oci-container-instances`, the runner that sends each job to its own
/// Container Instance: connects as the `OCI_AUTH` principal, finds the buckets' namespace and
/// pins `WORKER_IMAGE` to the digest its tag points at now (every job of this process runs
/// exactly that image). `None` for in-process workers.
pub async fn job_runner(config: &Config) -> anyhow::Result<Option<Arc<ContainerInstancesRunner>>> {
    let RunnerChoice::OciContainerInstances(ci) = &config.jobs.runner else {
        return Ok(None);
    };
    let http = mediaserver_oci::default_http_client()?;
    let oci = mediaserver_oci::OciClient::connect(&config.oci, http.clone())
        .await
        .with_context(|| {
            format!(
                "connecting to OCI for the Container Instances job runner (OCI_AUTH={})",
                config.oci.kind
            )
        })?;
    let namespace = match &config.storage.namespace {
        Some(ns) => ns.clone(),
        None => mediaserver_oci::objectstorage::ObjectStorageClient::new(oci.clone())
            .namespace()
            .await
            .context("looking up the Object Storage namespace for the job containers (or set OCI_NAMESPACE)")?,
    };
    let pinned = pin_worker_image(config, ci, &http).await?;
    let mut environment = std::collections::BTreeMap::new();
    environment.insert("OCI_REGION".to_string(), oci.region().id().to_string());
    environment.insert("TRANSCODE_PRESET".to_string(), config.jobs.preset.clone());
    environment.extend(codec_environment(&config.codecs));
    environment.insert(
        "LADDER_MODE".to_string(),
        config.jobs.ladder_mode.to_string(),
    );
    // The container of a whole job decides whether it splits (`transcode --split`).
    environment.insert(
        "CHUNK_SECONDS".to_string(),
        config.jobs.chunks.chunk_seconds.to_string(),
    );
    environment.insert(
        "CHUNK_MIN_SECONDS".to_string(),
        config.jobs.chunks.min_seconds.to_string(),
    );
    environment.insert(
        "TRANSCODE_TIMEOUT_SECONDS".to_string(),
        config.jobs.timeout_secs.to_string(),
    );
    // No point writing progress more often than it is read.
    environment.insert(
        "TRANSCODE_PROGRESS_SECONDS".to_string(),
        ci.poll_secs.to_string(),
    );
    environment.insert(
        "STORAGE_PART_SIZE_MIB".to_string(),
        (config.storage.part_size / (1024 * 1024))
            .max(1)
            .to_string(),
    );
    if config.log_json {
        environment.insert("LOG_FORMAT".to_string(), "json".to_string());
    }
    // Private endpoints reach the containers too.
    if let Some(os) = &config.oci.overrides.object_storage {
        environment.insert(
            mediaserver_oci::endpoints::ENV_OBJECTSTORAGE.to_string(),
            os.clone(),
        );
    }
    let template = InstanceTemplate {
        compartment_id: ci.compartment_id.clone(),
        availability_domain: ci.availability_domain.clone(),
        subnet_id: ci.subnet_id.clone(),
        shape: ci.shape.clone(),
        ocpus: ci.ocpus,
        memory_gb: ci.memory_gb,
        scratch_gb: ci.scratch_gb,
        pinned_image: pinned,
        namespace,
        media_bucket: config.storage.media_bucket.clone(),
        output_bucket: config.storage.output_bucket.clone(),
        environment,
        poll: Duration::from_secs(ci.poll_secs),
        timeout: Duration::from_secs(config.jobs.timeout_secs),
    };
    tracing::info!(image = %template.pinned_image, shape = %template.shape, ocpus = template.ocpus, memory_gb = template.memory_gb, "jobs run as OCI Container Instances");
    Ok(Some(Arc::new(ContainerInstancesRunner {
        client: mediaserver_oci::container_instances::ContainerInstancesClient::new(oci),
        template,
    })))
}

/// `WORKER_IMAGE` as `host/repository@sha256:…`. Credentials: `OCIR_USERNAME` +
/// `OCIR_AUTH_TOKEN`, else (OCIR) a token exchanged as the `OCI_AUTH` principal, else none.
/// A registry on a loopback address is spoken to over plain HTTP, as Docker does.
async fn pin_worker_image(
    config: &Config,
    ci: &ContainerInstancesConfig,
    http: &reqwest::Client,
) -> anyhow::Result<String> {
    use mediaserver_oci::registry::{login, LoginOptions, RegistryClient, RegistrySecret};
    let image = &ci.worker_image;
    let insecure = is_loopback_host(image.registry());
    let opts = LoginOptions {
        username: ci.registry_username.clone(),
        password: ci
            .registry_password
            .as_ref()
            .map(|p| RegistrySecret::new(p.expose())),
        insecure,
        ..Default::default()
    };
    let what = || format!("WORKER_IMAGE: resolving {image} to a digest");
    let credentials = login(image, &opts, &config.oci, http)
        .await
        .with_context(what)?;
    let digest = RegistryClient::new(credentials, insecure)
        .resolve(image)
        .await
        .with_context(what)?;
    let pinned = image
        .with_digest(&digest)
        .with_context(what)?
        .pinned()
        .context("WORKER_IMAGE: the pinned reference has no digest")?;
    tracing::info!(image = %image, %digest, "worker image pinned");
    Ok(pinned)
}

fn is_loopback_host(registry: &str) -> bool {
    let host = registry
        .rsplit_once(':')
        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
        .map(|(h, _)| h)
        .unwrap_or(registry);
    host == "localhost"
        || host
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// How often workers look for what killed runs left behind, after once at start.
const SWEEP_EVERY: Duration = Duration::from_secs(5 * 60);

/// Runs `n` workers until `shutdown` resolves, then lets them finish or hand back their jobs.
/// Meanwhile the runner sweeps what runs killed earlier left behind (scratch directories), and
/// (with `WEBHOOK_URL`, even with no workers) the webhook outbox is sent.
pub async fn run_workers(
    pipeline: Pipeline,
    n: usize,
    name: String,
    shutdown: impl Future<Output = ()>,
) {
    let token = CancellationToken::new();
    let sender = pipeline
        .webhooks
        .clone()
        .map(|w| tokio::spawn(w.run(token.clone())));
    if n == 0 {
        shutdown.await;
        token.cancel();
        if let Some(s) = sender {
            let _ = s.await;
        }
        return;
    }
    let sweeper = tokio::spawn(sweep_until(pipeline.runner.clone(), token.clone()));
    let handles = pipeline.spawn_workers(n, &name, token.clone());
    shutdown.await;
    token.cancel();
    let _ = sweeper.await;
    for h in handles {
        let _ = h.await;
    }
    if let Some(s) = sender {
        let _ = s.await;
    }
}

async fn sweep_until(runner: Arc<dyn JobRunner>, stop: CancellationToken) {
    loop {
        tokio::select! {
            () = runner.sweep() => {}
            () = stop.cancelled() => return,
        }
        tokio::select! {
            () = tokio::time::sleep(SWEEP_EVERY) => {}
            () = stop.cancelled() => return,
        }
    }
}

/// A name for this process's workers that is unique across machines.
pub fn worker_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".into());
    format!("{host}-{}", std::process::id())
}

/// `VIDEO_CODECS` and the presets as a job container reads them.
fn codec_environment(
    c: &mediaserver_pipeline::codecs::CodecOptions,
) -> impl Iterator<Item = (String, String)> {
    let list = std::iter::once("h264")
        .chain(c.extra.iter().map(|codec| codec.name()))
        .collect::<Vec<_>>()
        .join(",");
    [
        ("VIDEO_CODECS", list),
        ("AV1_PRESET", c.av1_preset.to_string()),
        ("HEVC_PRESET", c.hevc_preset.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
}
