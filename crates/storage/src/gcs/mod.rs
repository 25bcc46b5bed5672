//! `GCPBucket`: Google Cloud Storage on `object_store::gcp` (reads, listings, deletes, signed
//! URLs), with writes over GCS's JSON API (`json.rs`, which says why).
//!
//! Credentials, first match:
//! - a service-account key (its JSON text, [`GcsOptions::service_account_key`]);
//! - an application-credentials file ([`GcsOptions::application_credentials`], what
//!   `GOOGLE_APPLICATION_CREDENTIALS` names: a service-account key or an `authorized_user`
//!   file from `gcloud auth application-default login`);
//! - with an endpoint (an emulator): none, requests go unauthenticated;
//! - otherwise gcloud's well-known ADC file, then the metadata server (GCE, GKE, Cloud Run).
//!
//! object_store 0.12 takes a custom endpoint only as the `gcs_base_url` field of a
//! service-account key; an endpoint is therefore given to it that way (added to the key, or in
//! a key stub whose `disable_oauth` leaves authentication to the credentials given beside it).

mod json;

use crate::objstore::{ObjectStoreStorage, Provider, Redactor};
use crate::resumable::MultipartParts;
use crate::writer::{IdUpload, PartTarget, PartUpload};
use crate::{ObjectKey, Result, Storage, StorageError, DEFAULT_PART_SIZE};
use async_trait::async_trait;
use bytes::Bytes;
use object_store::gcp::{GcpCredentialProvider, GoogleCloudStorage, GoogleCloudStorageBuilder};
use object_store::{BackoffConfig, RetryConfig};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub(crate) use json::{GcsJson, STAGING};

/// GCS's own address (the XML and JSON APIs share it).
const GCS_BASE_URL: &str = "https://storage.googleapis.com";

/// Connection settings for a GCS bucket.
#[derive(Clone)]
pub struct GcsOptions {
    pub bucket: String,
    /// An emulator or a private endpoint; `None` means GCS itself.
    pub endpoint: Option<String>,
    /// A service-account key, the JSON text.
    pub service_account_key: Option<String>,
    /// A service-account key file or an application-default-credentials file.
    pub application_credentials: Option<PathBuf>,
    /// Multipart (composite) part size; at least [`crate::MIN_S3_PART_SIZE`].
    pub part_size: usize,
    pub max_retries: usize,
    /// Total time a request may spend retrying.
    pub retry_timeout: Duration,
}

impl Default for GcsOptions {
    fn default() -> Self {
        GcsOptions {
            bucket: String::new(),
            endpoint: None,
            service_account_key: None,
            application_credentials: None,
            part_size: DEFAULT_PART_SIZE,
            max_retries: 10,
            retry_timeout: Duration::from_secs(180),
        }
    }
}

// Hand-written so the key never lands in logs.
impl std::fmt::Debug for GcsOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GcsOptions")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field(
                "service_account_key",
                &self.service_account_key.as_ref().map(|_| "[set]"),
            )
            .field("application_credentials", &self.application_credentials)
            .field("part_size", &self.part_size)
            .finish()
    }
}

/// A key stub that carries only the endpoint; `disable_oauth` makes object_store use no
/// credentials of its own from it.
fn endpoint_stub(endpoint: &str) -> String {
    serde_json::json!({
        "gcs_base_url": endpoint,
        "disable_oauth": true,
        "client_email": "",
        "private_key": "",
        "private_key_id": "",
    })
    .to_string()
}

/// `key` with `gcs_base_url` set to `endpoint`.
fn key_with_endpoint(key: &str, endpoint: &str) -> Result<String> {
    let mut value: serde_json::Value = serde_json::from_str(key)
        .map_err(|_| StorageError::other("the GCS service-account key is not JSON"))?;
    let obj = value
        .as_object_mut()
        .ok_or_else(|| StorageError::other("the GCS service-account key is not a JSON object"))?;
    obj.insert("gcs_base_url".into(), endpoint.into());
    Ok(value.to_string())
}

/// A Google Cloud Storage bucket; see the module docs for credentials.
pub fn gcs(opts: GcsOptions) -> Result<Arc<dyn Storage>> {
    crate::key::validate_bucket(&opts.bucket)?;
    if opts.part_size < crate::MIN_S3_PART_SIZE {
        return Err(StorageError::other(format!(
            "GCS part size must be at least {} bytes, got {}",
            crate::MIN_S3_PART_SIZE,
            opts.part_size
        )));
    }
    if opts.service_account_key.is_some() && opts.application_credentials.is_some() {
        return Err(StorageError::other(
            "give a GCS service-account key or an application-credentials file, not both",
        ));
    }
    let endpoint = match &opts.endpoint {
        Some(e) => {
            let url = url::Url::parse(e).map_err(|err| {
                StorageError::other_from(format!("invalid GCS endpoint: {err}"), err)
            })?;
            if !url.username().is_empty() || url.password().is_some() {
                return Err(StorageError::other(
                    "GCS endpoint must not contain credentials",
                ));
            }
            Some(url.as_str().trim_end_matches('/').to_string())
        }
        None => None,
    };
    let redactor = Redactor::new([opts.service_account_key.clone()]);
    let retry = RetryConfig {
        backoff: BackoffConfig::default(),
        max_retries: opts.max_retries,
        retry_timeout: opts.retry_timeout,
    };
    let build_err = |e: object_store::Error| {
        StorageError::other_from(redactor.clean(e.to_string()), redactor.cause(e))
    };
    let base = GcsBuilder {
        bucket: &opts.bucket,
        retry: &retry,
    };

    // (the store, the credentials the JSON API's requests carry)
    let (store, credentials): (GoogleCloudStorage, Option<GcpCredentialProvider>) = match (
        &endpoint,
        &opts.service_account_key,
        &opts.application_credentials,
    ) {
        (None, key, adc) => {
            let mut b = base.builder();
            if let Some(key) = key {
                b = b.with_service_account_key(key);
            }
            if let Some(path) = adc {
                b = b.with_application_credentials(path.to_string_lossy());
            }
            let store = b.build().map_err(build_err)?;
            let creds = store.credentials().clone();
            (store, Some(creds))
        }
        (Some(endpoint), Some(key), _) => {
            let store = base
                .builder()
                .with_service_account_key(key_with_endpoint(key, endpoint)?)
                .build()
                .map_err(build_err)?;
            let creds = store.credentials().clone();
            (store, Some(creds))
        }
        (Some(endpoint), None, Some(path)) => {
            // The file's credentials, taken from a store built on it, and the endpoint
            // from a stub (signed URLs need a key of their own: not available this way).
            let creds = base
                .builder()
                .with_application_credentials(path.to_string_lossy())
                .build()
                .map_err(build_err)?
                .credentials()
                .clone();
            let store = base
                .builder()
                .with_service_account_key(endpoint_stub(endpoint))
                .with_credentials(creds.clone())
                .build()
                .map_err(build_err)?;
            (store, Some(creds))
        }
        (Some(endpoint), None, None) => {
            let store = base
                .builder()
                .with_service_account_key(endpoint_stub(endpoint))
                .with_skip_signature(true)
                .build()
                .map_err(build_err)?;
            (store, None)
        }
    };

    let json = Arc::new(GcsJson {
        http: reqwest::Client::builder()
            .timeout(opts.retry_timeout)
            .build()
            .map_err(|e| StorageError::other_from("building an HTTP client", e))?,
        base: endpoint.unwrap_or_else(|| GCS_BASE_URL.to_string()),
        bucket: opts.bucket.clone(),
        credentials,
        redactor: redactor.clone(),
        max_retries: opts.max_retries.min(8),
    });
    let store = Arc::new(store);
    Ok(Arc::new(ObjectStoreStorage {
        store: store.clone(),
        parts: Some(json.clone() as Arc<dyn MultipartParts>),
        provider: Provider::Gcs {
            signer: store,
            json,
        },
        bucket: opts.bucket,
        part_size: opts.part_size,
        redactor,
        failed_aborts: Default::default(),
    }))
}

struct GcsBuilder<'a> {
    bucket: &'a str,
    retry: &'a RetryConfig,
}

impl GcsBuilder<'_> {
    fn builder(&self) -> GoogleCloudStorageBuilder {
        GoogleCloudStorageBuilder::new()
            .with_bucket_name(self.bucket)
            .with_retry(self.retry.clone())
    }
}

/// One object of a GCS bucket, as the writer's target.
pub(crate) struct GcsTarget {
    pub(crate) json: Arc<GcsJson>,
    pub(crate) key: ObjectKey,
}

#[async_trait]
impl PartTarget for GcsTarget {
    async fn put(&self, data: Bytes) -> Result<Option<String>> {
        self.json.upload(self.key.as_str(), data).await?;
        // The JSON API's etag is not the one reads report; the caller falls back to its own.
        Ok(None)
    }

    async fn start(&self) -> Result<Box<dyn PartUpload>> {
        let parts: Arc<dyn MultipartParts> = self.json.clone();
        Ok(Box::new(IdUpload::start(parts, self.key.clone()).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_options() {
        let base = GcsOptions {
            bucket: "b".into(),
            endpoint: Some("http://127.0.0.1:1".into()),
            ..Default::default()
        };
        let small = GcsOptions {
            part_size: 1024,
            ..base.clone()
        };
        assert!(gcs(small).is_err());
        let both = GcsOptions {
            service_account_key: Some("{}".into()),
            application_credentials: Some("/nonexistent".into()),
            ..base.clone()
        };
        assert!(gcs(both).is_err());
        let creds = GcsOptions {
            endpoint: Some("http://user:pw@127.0.0.1:1".into()),
            ..base.clone()
        };
        let err = gcs(creds).unwrap_err().to_string();
        assert!(!err.contains("pw"), "{err}");
        let not_json = GcsOptions {
            service_account_key: Some("s3cr3t-not-json".into()),
            ..base
        };
        let err = gcs(not_json).unwrap_err().to_string();
        assert!(!err.contains("s3cr3t"), "{err}");
    }

    #[test]
    fn debug_hides_the_key() {
        let o = GcsOptions {
            service_account_key: Some("{\"private_key\":\"s3cr3t\"}".into()),
            ..Default::default()
        };
        assert!(!format!("{o:?}").contains("s3cr3t"));
    }

    #[test]
    fn endpoint_goes_into_the_key() {
        let k = key_with_endpoint(r#"{"client_email":"a@b"}"#, "http://127.0.0.1:9").unwrap();
        let v: serde_json::Value = serde_json::from_str(&k).unwrap();
        assert_eq!(v["gcs_base_url"], "http://127.0.0.1:9");
        assert_eq!(v["client_email"], "a@b");
    }
}
