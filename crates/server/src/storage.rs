//! Opening a bucket of the configured provider (`STORAGE_PROVIDER`).

use crate::config::{Config, StorageProvider};
use anyhow::Context;
use mediaserver_storage::Storage;
use std::sync::Arc;

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
        StorageProvider::GcpBucket => {
            let store = mediaserver_storage::gcs(gcs_options(config, bucket))
                .context("configuring the GCS bucket (STORAGE_ENDPOINT, GOOGLE_* variables)")?;
            // One cheap listing: wrong credentials or a missing bucket stop startup with why.
            store.check().await.with_context(|| {
                format!("opening GCS bucket {bucket} (STORAGE_PROVIDER=GCPBucket)")
            })?;
            store
        }
        StorageProvider::OciBucket => open_oci_bucket(config, bucket).await?,
    };
    Ok(store)
}

/// A `GCPBucket`'s settings from the configuration (also `mediaserver transcode`'s `gs://`).
pub(crate) fn gcs_options(config: &Config, bucket: &str) -> mediaserver_storage::GcsOptions {
    let cfg = &config.storage;
    mediaserver_storage::GcsOptions {
        bucket: bucket.to_string(),
        endpoint: cfg.endpoint.clone(),
        service_account_key: cfg
            .gcs
            .service_account_key
            .as_ref()
            .map(|s| s.expose().to_string()),
        application_credentials: cfg.gcs.application_credentials.clone(),
        part_size: cfg.part_size,
        ..Default::default()
    }
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
