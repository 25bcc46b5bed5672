//! Wiring: configuration → database, storage, secrets → the HTTP app, plus the server lifecycle
//! (listen, graceful shutdown). `main.rs` holds only the command line.

pub mod oneshot;
pub mod watch;

use anyhow::{bail, Context};
use mediaserver_api::{ApiSettings, AppState};
use mediaserver_core::job_runner::{ContainerInstancesConfig, JobRunner};
use mediaserver_core::{Config, StorageProvider};
use mediaserver_db::DynRepo;
use mediaserver_ingest::Ingest;
use mediaserver_pipeline::{
    ContainerInstancesRunner, InstanceTemplate, Pipeline, ProcessSettings, WebhookSender,
    WorkerSettings,
};
use mediaserver_storage::Storage;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Opens the database and applies migrations.
pub async fn open_database(config: &Config) -> anyhow::Result<DynRepo> {
    let repo = mediaserver_db::connect(&config.database_url)
        .await
        .with_context(|| {
            format!(
                "opening the {} database (DATABASE_URL)",
                backend_name(&config.database_url)
            )
        })?;
    repo.migrate()
        .await
        .context("applying database migrations")?;
    Ok(repo)
}

fn backend_name(url: &str) -> &'static str {
    if url.starts_with("sqlite:") {
        "SQLite"
    } else {
        "PostgreSQL"
    }
}

/// Builds the storage for one bucket from the configuration. `OCIBucket` connects to OCI as
/// the `OCI_AUTH` principal and makes one cheap signed request, so a broken principal, a wrong
/// namespace or a missing bucket stops startup with the reason.
pub async fn open_storage(config: &Config, bucket: &str) -> anyhow::Result<Arc<dyn Storage>> {
    let cfg = &config.storage;
    let store = match cfg.provider {
        StorageProvider::Local => {
            mediaserver_storage::local(&cfg.local_root, bucket, cfg.part_size).with_context(
                || format!("opening local storage under {}", cfg.local_root.display()),
            )?
        }
        StorageProvider::Memory => mediaserver_storage::memory(bucket, cfg.part_size)
            .context("creating in-memory storage")?,
        StorageProvider::AwsBucket => mediaserver_storage::s3(mediaserver_storage::S3Options {
            bucket: bucket.to_string(),
            endpoint: cfg.endpoint.clone(),
            region: cfg.region.clone(),
            path_style: cfg.path_style,
            access_key_id: cfg.access_key_id.clone(),
            secret_access_key: cfg
                .secret_access_key
                .as_ref()
                .map(|s| s.expose().to_string()),
            part_size: cfg.part_size,
            ..Default::default()
        })
        .context("configuring the S3 bucket (STORAGE_* variables)")?,
        StorageProvider::OciBucket => open_oci_bucket(config, bucket).await?,
    };
    Ok(store)
}

async fn open_oci_bucket(config: &Config, bucket: &str) -> anyhow::Result<Arc<dyn Storage>> {
    let what = format!(
        "opening OCI bucket {bucket} (STORAGE_PROVIDER=OCIBucket, OCI_AUTH={})",
        config.oci.kind
    );
    let store = connect_oci_bucket(
        config,
        config.storage.namespace.clone(),
        bucket,
        config.storage.part_size,
        &what,
    )
    .await?;
    store.check().await.context(what)?;
    Ok(store)
}

/// An OCI Object Storage bucket reached as the `OCI_AUTH` principal; `what` prefixes errors.
pub(crate) async fn connect_oci_bucket(
    config: &Config,
    namespace: Option<String>,
    bucket: &str,
    part_size: usize,
    what: &str,
) -> anyhow::Result<Arc<dyn Storage>> {
    let http = mediaserver_oci::default_http_client()?;
    let client = mediaserver_oci::OciClient::connect(&config.oci, http)
        .await
        .with_context(|| what.to_string())?;
    mediaserver_storage::oci_bucket(
        client,
        mediaserver_storage::OciBucketOptions {
            namespace,
            bucket: bucket.to_string(),
            part_size,
        },
    )
    .await
    .with_context(|| what.to_string())
}

/// Reads `JWT_SECRET_OCID` and `DATABASE_URL_SECRET_OCID` from OCI Vault (signed as the
/// `OCI_AUTH` principal) into the configuration. Every failure names the variable and the
/// secret; nothing is read when neither is set.
pub async fn resolve_oci_secrets(mut config: Config) -> anyhow::Result<Config> {
    if config.jwt_secret_ocid.is_none() && config.database_url_secret_ocid.is_none() {
        return Ok(config);
    }
    let http = mediaserver_oci::default_http_client()?;
    let client = mediaserver_oci::OciClient::connect(&config.oci, http)
        .await
        .with_context(|| {
            format!(
                "connecting to OCI to read secrets from Vault (OCI_AUTH={})",
                config.oci.kind
            )
        })?;
    if let Some(id) = &config.jwt_secret_ocid {
        let value = mediaserver_oci::vault::read_secret_string(&client, id)
            .await
            .context("JWT_SECRET_OCID")?;
        if value.len() < 32 {
            bail!("JWT_SECRET_OCID: secret {id} is shorter than 32 characters; a JWT signing secret must be at least 32");
        }
        config.jwt_secret = Some(mediaserver_core::config::Secret::new(value));
        tracing::info!(secret = %id, "JWT signing secret read from OCI Vault");
    }
    if let Some(id) = &config.database_url_secret_ocid {
        let value = mediaserver_oci::vault::read_secret_string(&client, id)
            .await
            .context("DATABASE_URL_SECRET_OCID")?;
        mediaserver_core::config::validate_database_url(value.trim()).map_err(|m| {
            anyhow::anyhow!("DATABASE_URL_SECRET_OCID: the database URL in secret {id} {m}")
        })?;
        config.database_url = value.trim().to_string();
        tracing::info!(secret = %id, "database URL read from OCI Vault");
    }
    Ok(config)
}

/// The JWT signing secret: `JWT_SECRET` if set; in the embedded setup, otherwise one generated on
/// first start and kept in the data directory so restarts keep tokens valid.
pub fn jwt_secret(config: &Config) -> anyhow::Result<Vec<u8>> {
    if let Some(s) = &config.jwt_secret {
        return Ok(s.expose().as_bytes().to_vec());
    }
    if !config.is_embedded() {
        bail!("JWT_SECRET is required when using PostgreSQL or a cloud bucket");
    }
    load_or_create_secret(&config.data_dir.join("jwt-secret"))
}

fn load_or_create_secret(path: &Path) -> anyhow::Result<Vec<u8>> {
    match std::fs::read_to_string(path) {
        Ok(s) if s.trim().len() >= 32 => return Ok(s.trim().as_bytes().to_vec()),
        Ok(_) => bail!(
            "{} is too short to be a signing secret; delete it to generate a new one",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    let secret = hex::encode(bytes);
    write_private(path, &secret).with_context(|| format!("writing {}", path.display()))?;
    tracing::info!(path = %path.display(), "generated a JWT signing secret");
    Ok(secret.into_bytes())
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)?.write_all(contents.as_bytes())
}

pub fn api_settings(config: &Config) -> ApiSettings {
    ApiSettings {
        events_secret: config.events_secret.clone(),
        events_owner_email: config.events_owner_email.clone(),
        public_base_url: config.public_base_url.clone(),
        allow_registration: config.allow_registration,
        max_upload_bytes: config.max_upload_bytes,
        upload_expiry: Duration::from_secs(config.upload_expiry_secs),
        access_token_ttl: Duration::from_secs(config.access_token_ttl_secs),
        refresh_token_ttl: Duration::from_secs(config.refresh_token_ttl_secs),
        ..ApiSettings::default()
    }
}

/// The ingest service over `repo` and the media bucket.
pub fn ingest(config: &Config, repo: DynRepo, media_store: Arc<dyn Storage>) -> Ingest {
    Ingest::new(repo, media_store, &config.jobs.retry)
}

/// The database and the media bucket, opened and checked, as the ingest service
/// (`mediaserver watch` needs nothing else).
pub async fn build_ingest(config: &Config) -> anyhow::Result<Ingest> {
    let repo = open_database(config).await?;
    let media_store = open_storage(config, &config.storage.media_bucket).await?;
    Ok(ingest(config, repo, media_store))
}

/// Everything `serve` needs, opened and checked.
pub async fn build_state(config: &Config) -> anyhow::Result<AppState> {
    let secret = jwt_secret(config)?;
    let ingest = build_ingest(config).await?;
    let output_store = if config.storage.output_bucket == config.storage.media_bucket {
        ingest.media_store().clone()
    } else {
        open_storage(config, &config.storage.output_bucket).await?
    };
    Ok(AppState::new(
        ingest,
        output_store,
        &secret,
        api_settings(config),
    ))
}

pub fn worker_settings(config: &Config) -> WorkerSettings {
    WorkerSettings {
        lease: Duration::from_secs(config.jobs.lease_secs),
        retry: config.jobs.retry.clone(),
        temp_dir: config.jobs.temp_dir.clone(),
        process: ProcessSettings {
            preset: config.jobs.preset.clone(),
            timeout: Duration::from_secs(config.jobs.timeout_secs),
        },
        ..WorkerSettings::default()
    }
}

/// The processing pipeline over the same database and storage as `state`, running jobs here or
/// (`JOB_RUNNER=oci-container-instances`) as Container Instances.
pub async fn pipeline(config: &Config, state: &AppState) -> anyhow::Result<Pipeline> {
    let remote = job_runner(config).await?;
    let webhooks = config.webhook.as_ref().map(|w| {
        WebhookSender::spawn(
            w.url.clone(),
            w.secret.expose().to_string(),
            Default::default(),
        )
    });
    Ok(Pipeline {
        repo: state.repo.clone(),
        media_store: state.media_store.clone(),
        output_store: state.output_store.clone(),
        settings: Arc::new(worker_settings(config)),
        webhooks,
        remote,
    })
}

/// With `JOB_RUNNER=oci-container-instances`, the runner that sends each job to its own
/// Container Instance: connects as the `OCI_AUTH` principal, finds the buckets' namespace and
/// pins `WORKER_IMAGE` to the digest its tag points at now (every job of this process runs
/// exactly that image). `None` for in-process workers.
pub async fn job_runner(config: &Config) -> anyhow::Result<Option<Arc<ContainerInstancesRunner>>> {
    let JobRunner::OciContainerInstances(ci) = &config.job_runner else {
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

/// Runs `n` workers until `shutdown` resolves, then lets them finish or hand back their jobs.
pub async fn run_workers(
    pipeline: Pipeline,
    n: usize,
    name: String,
    shutdown: impl Future<Output = ()>,
) {
    if n == 0 {
        shutdown.await;
        return;
    }
    let token = CancellationToken::new();
    let handles = pipeline.spawn_workers(n, &name, token.clone());
    shutdown.await;
    token.cancel();
    for h in handles {
        let _ = h.await;
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

/// A bound, not yet running server.
pub struct Server {
    listener: TcpListener,
    app: mediaserver_api::App,
    state: AppState,
}

impl Server {
    pub async fn bind(config: &Config, state: AppState) -> anyhow::Result<Server> {
        let addr = SocketAddr::new(config.host, config.port);
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening on {addr} (HOST/PORT)"))?;
        Ok(Server {
            listener,
            app: mediaserver_api::app(state.clone()),
            state,
        })
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves until `shutdown` resolves, then stops accepting and lets in-flight requests finish.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        // Expired uploads are swept a few times per expiry period (at most once a minute).
        let interval = (self.state.settings.upload_expiry / 4).clamp(
            std::time::Duration::from_secs(1),
            std::time::Duration::from_secs(60),
        );
        let sweeper = self.state.ingest.spawn_sweeper(interval);
        let served = axum::serve(
            self.listener,
            axum::ServiceExt::into_make_service_with_connect_info::<SocketAddr>(self.app),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving HTTP");
        sweeper.abort();
        served
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
