//! Signing requests to other AWS services (SQS for bucket events) with the bucket's own
//! credentials: the same static keys or the same AWS chain (env, web identity, container,
//! instance metadata) that [`crate::s3`] uses, through object_store's SigV4 `AwsAuthorizer`.
//! No AWS SDK: object_store already carries the credential chain and the signer, and the
//! event consumer needs three calls of one service.

use crate::objstore::Redactor;
use crate::s3::build_store;
use crate::{Result, S3Options, StorageError};
use object_store::aws::{AmazonS3, AwsAuthorizer};
use object_store::client::HttpRequestBody;
use std::sync::Arc;

/// Signs requests with the credentials an S3 bucket of these options would use.
#[derive(Clone)]
pub struct AwsSigner {
    store: Arc<AmazonS3>,
    redactor: Redactor,
}

impl std::fmt::Debug for AwsSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AwsSigner")
    }
}

/// The signer of `opts`' credentials (only the credential fields, the endpoint and region
/// matter; nothing is requested here).
pub fn aws_signer(opts: &S3Options) -> Result<AwsSigner> {
    let (store, redactor, _) = build_store(opts)?;
    Ok(AwsSigner { store, redactor })
}

impl AwsSigner {
    /// Adds SigV4 headers (`authorization`, `x-amz-date`, `x-amz-content-sha256`, a session
    /// token when there is one) for `service` in `region` to `req`, whose body must be bytes.
    pub async fn sign(
        &self,
        req: &mut reqwest::Request,
        service: &str,
        region: &str,
    ) -> Result<()> {
        let credential = self
            .store
            .credentials()
            .get_credential()
            .await
            .map_err(|e| self.redactor.map(e, service))?;
        let body = req
            .body()
            .map(|b| b.as_bytes().map(bytes::Bytes::copy_from_slice))
            .unwrap_or(Some(bytes::Bytes::new()))
            .ok_or_else(|| StorageError::other("a streaming body cannot be signed"))?;
        let mut builder = http::Request::builder()
            .method(req.method().clone())
            .uri(req.url().as_str());
        for (name, value) in req.headers() {
            builder = builder.header(name, value);
        }
        let mut signed = builder
            .body(HttpRequestBody::from(body))
            .map_err(|e| StorageError::other_from("building the request to sign", e))?;
        AwsAuthorizer::new(&credential, service, region).authorize(&mut signed, None);
        for (name, value) in signed.headers() {
            req.headers_mut().insert(name, value.clone());
        }
        Ok(())
    }
}
