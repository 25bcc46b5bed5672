//! S3-compatible provider (AWS, MinIO, moto, OCI's S3 compatibility API) on `object_store::aws`.
//!
//! # OCI S3 compatibility
//!
//! OCI (`https://<namespace>.compat.objectstorage.<region>.oraclecloud.com`) rejects
//! `aws-chunked` / `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` uploads and requires `Content-MD5` or an
//! `x-amz-checksum-sha256`/`-crc32c` header on multi-object delete. Verified in object_store
//! 0.12.5's source (`src/aws/`):
//!
//! * PutObject (`AmazonS3::put_opts`) and UploadPart (`S3Client::put_part`) both go through
//!   `Request::with_payload`, which hashes the whole in-memory payload with SHA-256 whenever
//!   payload signing is on (the default; we never call `with_unsigned_payload`) and hands the
//!   digest to `AwsAuthorizer::authorize`. `x-amz-content-sha256` is then that hex digest;
//!   `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` is only chosen when no digest is given *and* the body is
//!   not plain bytes, which cannot happen for these requests. `Content-Length` is always set
//!   explicitly, and `Content-Encoding` is only ever set from caller `Attributes` (we pass none),
//!   so `aws-chunked` is never sent. CompleteMultipartUpload has a plain-bytes XML body, hashed
//!   the same way.
//! * DeleteObjects (`S3Client::bulk_delete_request`, used by `delete_stream` in batches of
//!   1,000) always sends both `x-amz-checksum-sha256` and `Content-MD5` of the XML body.
//!
//! So no extra configuration is needed. In particular we do not set
//! `with_checksum_algorithm(Checksum::SHA256)`: it is not required for the above and would add
//! `x-amz-checksum-algorithm` to CreateMultipartUpload, which S3-compatible stores support
//! unevenly. `tests/oci_compat.rs` proves both conditions with a rejecting proxy.

use crate::key::validate_bucket;
use crate::objstore::{ObjectStoreStorage, Provider, Redactor, StoreParts};
use crate::s3_uploads::UploadLister;
use crate::{Result, Storage, StorageError, DEFAULT_PART_SIZE};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::{BackoffConfig, RetryConfig};
use std::sync::Arc;
use std::time::Duration;

/// S3 rejects multipart parts below 5 MiB (except the last).
pub const MIN_S3_PART_SIZE: usize = 5 * 1024 * 1024;

/// Connection settings for an S3-compatible bucket. Nothing is read from the environment except
/// the standard AWS credential chain, and only when no access key is given (see [`s3`]).
#[derive(Clone)]
pub struct S3Options {
    pub bucket: String,
    /// e.g. `https://<ns>.compat.objectstorage.<region>.oraclecloud.com`; `None` means AWS.
    pub endpoint: Option<String>,
    pub region: String,
    /// `https://host/bucket/key` instead of `https://bucket.host/key`.
    pub path_style: bool,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    /// Allow plain-HTTP endpoints (also implied by an `http://` endpoint).
    pub allow_http: bool,
    /// Multipart part size; at least [`MIN_S3_PART_SIZE`].
    pub part_size: usize,
    pub max_retries: usize,
    /// Total time a request may spend retrying.
    pub retry_timeout: Duration,
}

impl Default for S3Options {
    fn default() -> Self {
        S3Options {
            bucket: String::new(),
            endpoint: None,
            region: "us-east-1".into(),
            path_style: false,
            access_key_id: None,
            secret_access_key: None,
            session_token: None,
            allow_http: false,
            part_size: DEFAULT_PART_SIZE,
            max_retries: 10,
            retry_timeout: Duration::from_secs(180),
        }
    }
}

// Hand-written so the secret never lands in logs.
impl std::fmt::Debug for S3Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Options")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("path_style", &self.path_style)
            .field(
                "access_key_id",
                &self.access_key_id.as_ref().map(|_| "[set]"),
            )
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "[set]"),
            )
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "[set]"),
            )
            .field("allow_http", &self.allow_http)
            .field("part_size", &self.part_size)
            .field("max_retries", &self.max_retries)
            .field("retry_timeout", &self.retry_timeout)
            .finish()
    }
}

/// Environment variables of the standard AWS credential chain, consulted only when no static
/// keys are configured. (Web identity `AWS_WEB_IDENTITY_TOKEN_FILE`/`AWS_ROLE_ARN` and the
/// instance metadata service are handled inside object_store.)
const CREDENTIAL_ENV: &[(&str, AmazonS3ConfigKey)] = &[
    ("AWS_ACCESS_KEY_ID", AmazonS3ConfigKey::AccessKeyId),
    ("AWS_SECRET_ACCESS_KEY", AmazonS3ConfigKey::SecretAccessKey),
    ("AWS_SESSION_TOKEN", AmazonS3ConfigKey::Token),
    (
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        AmazonS3ConfigKey::ContainerCredentialsRelativeUri,
    ),
    (
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        AmazonS3ConfigKey::ContainerCredentialsFullUri,
    ),
    (
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        AmazonS3ConfigKey::ContainerAuthorizationTokenFile,
    ),
];

/// An S3-compatible bucket. With both keys set they are used as static credentials; with
/// neither, the standard AWS chain (env keys, web identity, container, instance metadata).
pub fn s3(opts: S3Options) -> Result<Arc<dyn Storage>> {
    validate_bucket(&opts.bucket)?;
    if opts.part_size < MIN_S3_PART_SIZE {
        return Err(StorageError::other(format!(
            "S3 part size must be at least {MIN_S3_PART_SIZE} bytes, got {}",
            opts.part_size
        )));
    }
    let (store, redactor, bucket_url) = build_store(&opts)?;
    Ok(Arc::new(ObjectStoreStorage {
        store: store.clone(),
        parts: Some(Arc::new(StoreParts {
            api: store.clone(),
            redactor: redactor.clone(),
        })),
        provider: Provider::S3 {
            signer: store,
            uploads: UploadLister {
                bucket_url: url::Url::parse(&bucket_url).map_err(|e| {
                    StorageError::other_from(format!("invalid S3 bucket URL: {e}"), e)
                })?,
                region: opts.region.clone(),
                client: reqwest::Client::builder()
                    .timeout(opts.retry_timeout)
                    .build()
                    .map_err(|e| StorageError::other_from("building an HTTP client", e))?,
            },
        },
        bucket: opts.bucket,
        part_size: opts.part_size,
        redactor,
        failed_aborts: Default::default(),
    }))
}

/// The object_store client of `opts` (its credentials are what [`crate::aws_signer`] signs
/// with too), the redactor of its secrets, and the bucket's base URL.
pub(crate) fn build_store(
    opts: &S3Options,
) -> Result<(Arc<object_store::aws::AmazonS3>, Redactor, String)> {
    let mut secrets = vec![
        opts.access_key_id.clone(),
        opts.secret_access_key.clone(),
        opts.session_token.clone(),
    ];

    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(&opts.bucket)
        .with_region(&opts.region)
        .with_virtual_hosted_style_request(!opts.path_style)
        .with_retry(RetryConfig {
            backoff: BackoffConfig::default(),
            max_retries: opts.max_retries,
            retry_timeout: opts.retry_timeout,
        });

    let mut allow_http = opts.allow_http;
    let mut bucket_url = format!("https://{}.s3.{}.amazonaws.com/", opts.bucket, opts.region);
    if let Some(endpoint) = &opts.endpoint {
        let url = url::Url::parse(endpoint)
            .map_err(|e| StorageError::other_from(format!("invalid S3 endpoint: {e}"), e))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(StorageError::other(
                "S3 endpoint must not contain credentials",
            ));
        }
        allow_http |= url.scheme() == "http";
        let base = bucket_endpoint(url, &opts.bucket, opts.path_style)?;
        bucket_url = if opts.path_style {
            format!("{base}/{}", opts.bucket)
        } else {
            format!("{base}/")
        };
        builder = builder.with_endpoint(base);
    }
    builder = builder.with_allow_http(allow_http);

    match (&opts.access_key_id, &opts.secret_access_key) {
        (Some(id), Some(secret)) => {
            builder = builder
                .with_access_key_id(id)
                .with_secret_access_key(secret);
            if let Some(token) = &opts.session_token {
                builder = builder.with_token(token);
            }
        }
        (None, None) => {
            for (var, key) in CREDENTIAL_ENV {
                if let Ok(value) = std::env::var(var) {
                    if !matches!(key, AmazonS3ConfigKey::ContainerCredentialsRelativeUri) {
                        secrets.push(Some(value.clone()));
                    }
                    builder = builder.with_config(*key, value);
                }
            }
        }
        _ => {
            return Err(StorageError::other(
                "S3 access key id and secret access key must be given together",
            ))
        }
    }

    let redactor = Redactor::new(secrets);
    let store = builder
        .build()
        .map_err(|e| StorageError::other_from(redactor.clean(e.to_string()), redactor.cause(e)))?;
    Ok((Arc::new(store), redactor, bucket_url))
}

/// object_store uses a custom endpoint verbatim for virtual-hosted requests, so the bucket has to
/// be put into the host here; path-style gets the bucket appended by object_store itself.
fn bucket_endpoint(mut url: url::Url, bucket: &str, path_style: bool) -> Result<String> {
    if !path_style {
        let host = url
            .host_str()
            .ok_or_else(|| StorageError::other("S3 endpoint has no host"))?;
        let host = format!("{bucket}.{host}");
        url.set_host(Some(&host))
            .map_err(|e| StorageError::other_from(format!("invalid S3 endpoint host: {e}"), e))?;
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_styles() {
        let u = url::Url::parse("https://ns.compat.objectstorage.eu-frankfurt-1.oraclecloud.com/")
            .unwrap();
        assert_eq!(
            bucket_endpoint(u.clone(), "media", false).unwrap(),
            "https://media.ns.compat.objectstorage.eu-frankfurt-1.oraclecloud.com"
        );
        assert_eq!(
            bucket_endpoint(u, "media", true).unwrap(),
            "https://ns.compat.objectstorage.eu-frankfurt-1.oraclecloud.com"
        );
    }

    #[test]
    fn rejects_bad_options() {
        let base = S3Options {
            bucket: "b".into(),
            endpoint: Some("http://127.0.0.1:1".into()),
            ..Default::default()
        };
        let small = S3Options {
            part_size: 1024,
            ..base.clone()
        };
        assert!(s3(small).is_err());
        let half = S3Options {
            access_key_id: Some("AKID".into()),
            ..base.clone()
        };
        assert!(s3(half).is_err());
        let creds = S3Options {
            endpoint: Some("http://user:pw@127.0.0.1:1".into()),
            ..base
        };
        let err = s3(creds).unwrap_err().to_string();
        assert!(!err.contains("pw"), "{err}");
    }

    #[test]
    fn debug_hides_secrets() {
        let o = S3Options {
            secret_access_key: Some("s3cr3t-value".into()),
            ..Default::default()
        };
        assert!(!format!("{o:?}").contains("s3cr3t-value"));
    }
}
