//! `OCIBucket`: a bucket through OCI's native Object Storage API, every request signed by the
//! configured principal (API key, instance principal, resource principal) via
//! `mediaserver-oci`. Unlike the S3 compatibility endpoint it needs no customer secret keys,
//! which is what instance and resource principals (Container Instances, OKE) require.
//!
//! Multipart parts are at least [`MIN_OCI_PART_SIZE`] (OCI's minimum for every part but the
//! last); presigned URLs are pre-authenticated requests (ObjectWrite / ObjectRead) for one
//! object. Part operations (for the writer and resumable uploads) are in [`parts`].

mod parts;

use crate::key::validate_bucket;
use crate::resumable::{self, AppendOutcome, ResumableState};
use crate::writer::{PartWriter, PendingAborts};
use crate::{
    ByteStream, ObjectKey, ObjectMeta, ObjectWriter, PutResult, Result, SourceStream, Storage,
    StorageError,
};
use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures::{StreamExt, TryStreamExt};
use mediaserver_oci::objectstorage::{
    is_not_found, is_transient, status_of, BucketClient, ObjectHead, ObjectStorageClient,
    ObjectSummary, ParAccess, MAX_LIST_LIMIT,
};
use mediaserver_oci::{OciClient, OciError};
use parts::{OciParts, OciTarget};
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

/// OCI refuses committed parts below 10 MiB, except the last.
pub const MIN_OCI_PART_SIZE: usize = mediaserver_oci::objectstorage::multipart::MIN_PART_SIZE;
/// Listed by `check`; nothing lives there, so the listing is one cheap request.
const CHECK_PREFIX: &str = "mediaserver-readiness-check/";
/// Concurrent deletes in `delete_prefix`.
const DELETE_CONCURRENCY: usize = 16;

/// Where the bucket is. The principal, region and endpoints come with the [`OciClient`].
#[derive(Debug, Clone)]
pub struct OciBucketOptions {
    /// The tenancy's Object Storage namespace; `None` asks Object Storage (`GET /n/`).
    pub namespace: Option<String>,
    pub bucket: String,
    /// Multipart part size and single-PUT threshold; at least [`MIN_OCI_PART_SIZE`].
    pub part_size: usize,
}

/// An OCI bucket over `client`. Looks up the namespace when not given, which also proves the
/// principal can sign requests Object Storage accepts.
pub async fn oci_bucket(client: OciClient, opts: OciBucketOptions) -> Result<Arc<dyn Storage>> {
    validate_bucket(&opts.bucket)?;
    if opts.part_size < MIN_OCI_PART_SIZE {
        return Err(StorageError::other(format!(
            "OCI part size must be at least {MIN_OCI_PART_SIZE} bytes (10 MiB), got {}",
            opts.part_size
        )));
    }
    let os = ObjectStorageClient::new(client);
    let namespace = match opts.namespace {
        Some(ns) if !ns.trim().is_empty() => ns.trim().to_string(),
        _ => os.namespace().await.map_err(|e| {
            let msg = format!(
                "cannot look up the Object Storage namespace (set OCI_NAMESPACE to skip this): {e}"
            );
            if is_transient(&e) {
                StorageError::unavailable_from(msg, e)
            } else {
                StorageError::other_from(msg, e)
            }
        })?,
    };
    let client = Arc::new(os.bucket(&namespace, &opts.bucket));
    Ok(Arc::new(OciStorage {
        parts: Arc::new(OciParts {
            client: client.clone(),
        }),
        client,
        bucket: opts.bucket,
        part_size: opts.part_size,
        failed_aborts: Default::default(),
    }))
}

pub(crate) struct OciStorage {
    client: Arc<BucketClient>,
    /// The same client, as part operations.
    parts: Arc<OciParts>,
    bucket: String,
    part_size: usize,
    /// Writers' multipart uploads whose abort failed, for [`Storage::retry_failed_aborts`].
    failed_aborts: PendingAborts,
}

impl std::fmt::Debug for OciStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage")
            .field("provider", &"oci")
            .field("namespace", &self.client.namespace())
            .field("bucket", &self.bucket)
            .field("part_size", &self.part_size)
            .field("principal", &self.client.oci().auth().principal())
            .finish()
    }
}

/// 404 (object, bucket, upload) → `NotFound`; 429/5xx/no answer → `Unavailable`; anything
/// else (a 401 naming the principal, a 400) → `Other` with OCI's message. The [`OciError`] is
/// the cause: its text names no secret and its URLs have no query (`mediaserver_oci::client`).
pub(crate) fn map_err(e: OciError, key: &str) -> StorageError {
    if is_not_found(&e) {
        StorageError::NotFound(key.to_string())
    } else if is_transient(&e) {
        StorageError::unavailable_from(e.to_string(), e)
    } else {
        StorageError::other_from(e.to_string(), e)
    }
}

fn to_meta(key: &str, h: &ObjectHead) -> ObjectMeta {
    ObjectMeta {
        key: key.to_string(),
        size: h.size,
        etag: h.etag.clone(),
        last_modified: h.last_modified.unwrap_or_default(),
    }
}

fn summary_meta(s: ObjectSummary) -> ObjectMeta {
    ObjectMeta {
        size: s.size.unwrap_or(0),
        etag: s.etag,
        last_modified: s.time_modified.or(s.time_created).unwrap_or_default(),
        key: s.name,
    }
}

/// A listing prefix matches whole path segments (`media/1` covers `media/1/x`, not
/// `media/12/x`); empty means the whole bucket.
fn list_prefix(prefix: &str) -> Result<Option<String>> {
    let trimmed = prefix.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(None);
    }
    ObjectKey::new(trimmed)?;
    Ok(Some(format!("{trimmed}/")))
}

impl OciStorage {
    fn new_writer(&self, key: &ObjectKey, part_size: usize) -> Box<dyn ObjectWriter> {
        let target = OciTarget {
            parts: self.parts.clone(),
            key: key.clone(),
        };
        Box::new(PartWriter::new(
            Box::new(target),
            key,
            part_size,
            self.failed_aborts.clone(),
        ))
    }

    async fn presign(
        &self,
        key: &ObjectKey,
        expires: Duration,
        access: ParAccess,
    ) -> Result<url::Url> {
        crate::check_presign_expiry(expires)?;
        let lifetime = chrono::Duration::from_std(expires)
            .map_err(|e| StorageError::other_from(format!("presign expiry: {e}"), e))?;
        let now = chrono::Utc::now();
        let name = format!(
            "mediaserver-{}-{}",
            match access {
                ParAccess::ObjectRead => "get",
                _ => "put",
            },
            now.timestamp_micros()
        );
        let par = self
            .client
            .create_par(&name, key.as_str(), access, now + lifetime)
            .await
            .map_err(|e| map_err(e, key.as_str()))?;
        Ok(par.url)
    }
}

#[async_trait]
impl Storage for OciStorage {
    fn bucket(&self) -> &str {
        &self.bucket
    }

    fn provider(&self) -> &'static str {
        "oci"
    }

    async fn writer(&self, key: &ObjectKey) -> Result<Box<dyn ObjectWriter>> {
        Ok(self.new_writer(key, self.part_size))
    }

    async fn put_file(&self, key: &ObjectKey, file: &std::path::Path) -> Result<PutResult> {
        crate::writer::put_file(file, self.part_size, |part_size| {
            Ok(self.new_writer(key, part_size))
        })
        .await
    }

    async fn head(&self, key: &ObjectKey) -> Result<ObjectMeta> {
        let h = self
            .client
            .head_object(key.as_str())
            .await
            .map_err(|e| map_err(e, key.as_str()))?;
        Ok(to_meta(key.as_str(), &h))
    }

    async fn get_stream(&self, key: &ObjectKey) -> Result<(ObjectMeta, ByteStream)> {
        let body = self
            .client
            .get_object(key.as_str(), None)
            .await
            .map_err(|e| map_err(e, key.as_str()))?;
        let meta = to_meta(key.as_str(), &body.head);
        Ok((meta, body_stream(body.response, key.as_str())))
    }

    async fn get_range_stream(
        &self,
        key: &ObjectKey,
        range: Range<u64>,
    ) -> Result<(ObjectMeta, ByteStream)> {
        if range.end <= range.start {
            // Not expressible as an HTTP range; only the bounds need checking.
            let meta = self.head(key).await?;
            if range.start >= meta.size {
                return Err(StorageError::not_satisfiable(&range, meta.size));
            }
            return Ok((meta, futures::stream::empty().boxed()));
        }
        let end = (range.end != u64::MAX).then(|| range.end - 1);
        let body = match self
            .client
            .get_object(key.as_str(), Some((range.start, end)))
            .await
        {
            Ok(b) => b,
            Err(e) if status_of(&e) == Some(416) => {
                let meta = self.head(key).await?;
                return Err(if range.start >= meta.size {
                    StorageError::not_satisfiable(&range, meta.size)
                } else {
                    map_err(e, key.as_str())
                });
            }
            Err(e) => return Err(map_err(e, key.as_str())),
        };
        let meta = to_meta(key.as_str(), &body.head);
        if body.range.is_none() && range.start > 0 {
            return Err(StorageError::other(format!(
                "Object Storage ignored the Range header reading {key}"
            )));
        }
        Ok((meta, body_stream(body.response, key.as_str())))
    }

    async fn read_at(&self, key: &ObjectKey, range: Range<u64>) -> Result<Bytes> {
        let (_, mut stream) = self.get_range_stream(key, range.clone()).await?;
        let mut out = BytesMut::new();
        let limit = range.end.saturating_sub(range.start);
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk?);
            // A server that ignored the range for a whole-object read: keep what was asked.
            if out.len() as u64 >= limit {
                out.truncate(limit as usize);
                break;
            }
        }
        Ok(out.freeze())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>> {
        let p = list_prefix(prefix)?;
        let objects = self
            .client
            .list_all(p.as_deref())
            .await
            .map_err(|e| map_err(e, prefix))?;
        Ok(objects.into_iter().map(summary_meta).collect())
    }

    async fn delete(&self, key: &ObjectKey) -> Result<()> {
        match self.client.delete_object(key.as_str()).await {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(map_err(e, key.as_str())),
        }
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<u64> {
        let Some(p) = list_prefix(prefix)? else {
            return Err(StorageError::InvalidKey(
                "delete_prefix needs a non-empty prefix".into(),
            ));
        };
        // Page by page: memory stays bounded whatever the count; deleting an already listed
        // page does not disturb `nextStartWith`, which names an object after it.
        let mut deleted = 0u64;
        let mut start: Option<String> = None;
        loop {
            let page = self
                .client
                .list_objects(Some(&p), start.as_deref(), Some(MAX_LIST_LIMIT))
                .await
                .map_err(|e| map_err(e, prefix))?;
            let client = &self.client;
            let results: Vec<Result<bool>> = futures::stream::iter(page.objects)
                .map(|o| async move {
                    match client.delete_object(&o.name).await {
                        Ok(()) => Ok(true),
                        // Deleted concurrently by someone else: the goal is met.
                        Err(e) if is_not_found(&e) => Ok(false),
                        Err(e) => Err(map_err(e, &o.name)),
                    }
                })
                .buffer_unordered(DELETE_CONCURRENCY)
                .collect()
                .await;
            for r in results {
                deleted += u64::from(r?);
            }
            match page.next_start_with {
                Some(next) if Some(&next) != start.as_ref() => start = Some(next),
                _ => return Ok(deleted),
            }
        }
    }

    async fn presign_put(&self, key: &ObjectKey, expires: Duration) -> Result<url::Url> {
        self.presign(key, expires, ParAccess::ObjectWrite).await
    }

    async fn presign_get(&self, key: &ObjectKey, expires: Duration) -> Result<url::Url> {
        self.presign(key, expires, ParAccess::ObjectRead).await
    }

    async fn retry_failed_aborts(&self) -> Result<usize> {
        self.failed_aborts.retry().await
    }

    async fn list_open_uploads(&self) -> Result<Vec<crate::OpenUpload>> {
        let uploads = self
            .client
            .list_multipart_uploads()
            .await
            .map_err(|e| map_err(e, "multipart uploads"))?;
        Ok(uploads
            .into_iter()
            .map(|u| crate::OpenUpload {
                key: u.object,
                upload_id: u.upload_id,
                initiated: u.time_created,
            })
            .collect())
    }

    async fn abort_open_upload(&self, upload: &crate::OpenUpload) -> Result<()> {
        match self
            .client
            .abort_multipart_upload(&upload.key, &upload.upload_id)
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(map_err(e, &upload.key)),
        }
    }

    async fn check(&self) -> Result<()> {
        match self
            .client
            .list_objects(Some(CHECK_PREFIX), None, Some(1))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Err(StorageError::unavailable_from(
                format!(
                    "bucket {} not found in namespace {}: {e}",
                    self.bucket,
                    self.client.namespace()
                ),
                e,
            )),
            Err(e) => Err(StorageError::unavailable_from(e.to_string(), e)),
        }
    }

    async fn resumable_start(&self, key: &ObjectKey) -> Result<ResumableState> {
        resumable::multipart_start(self.parts.as_ref(), key).await
    }

    async fn resumable_append(
        &self,
        key: &ObjectKey,
        state: &ResumableState,
        data: SourceStream<'_>,
    ) -> Result<AppendOutcome> {
        resumable::multipart_append(self, self.parts.as_ref(), key, state, data, self.part_size)
            .await
    }

    async fn resumable_release(
        &self,
        _key: &ObjectKey,
        old: &ResumableState,
        new: &ResumableState,
    ) -> Result<()> {
        resumable::release(self, old, new).await
    }

    async fn resumable_finish(&self, key: &ObjectKey, state: &ResumableState) -> Result<PutResult> {
        resumable::multipart_finish(self, self.parts.as_ref(), key, state).await
    }

    async fn resumable_abort(&self, key: &ObjectKey, state: &ResumableState) -> Result<()> {
        resumable::multipart_abort(self, self.parts.as_ref(), key, state).await
    }
}

fn body_stream(resp: reqwest::Response, key: &str) -> ByteStream {
    let key = key.to_string();
    resp.bytes_stream()
        .map_err(move |e| {
            // The cause without its URL, as `mediaserver_oci` keeps transport errors: a URL
            // may carry a query (the message's has none: GetObject takes no query).
            StorageError::unavailable_from(format!("reading {key}: {e}"), e.without_url())
        })
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_match_whole_segments() {
        assert_eq!(list_prefix("").unwrap(), None);
        assert_eq!(list_prefix("/").unwrap(), None);
        assert_eq!(list_prefix("media/1").unwrap().as_deref(), Some("media/1/"));
        assert_eq!(
            list_prefix("media/1/").unwrap().as_deref(),
            Some("media/1/")
        );
        assert!(list_prefix("a//b").is_err());
        assert!(list_prefix("../x").is_err());
    }

    #[test]
    fn errors_map_by_status() {
        let svc = |status: u16| OciError::Service {
            url: "u".into(),
            status,
            code: "c".into(),
            message: "m".into(),
            opc_request_id: None,
            source: None,
        };
        assert!(matches!(map_err(svc(404), "k"), StorageError::NotFound(k) if k == "k"));
        assert!(matches!(
            map_err(svc(503), "k"),
            StorageError::Unavailable { .. }
        ));
        assert!(matches!(
            map_err(svc(429), "k"),
            StorageError::Unavailable { .. }
        ));
        assert!(matches!(map_err(svc(400), "k"), StorageError::Other { .. }));
        // The OCI error stays the cause, for callers that need its status.
        let e = map_err(svc(503), "k");
        let cause = std::error::Error::source(&e).and_then(|c| c.downcast_ref::<OciError>());
        assert!(
            matches!(cause, Some(OciError::Service { status: 503, .. })),
            "{e:?}"
        );
        let e = OciError::NotAuthenticated {
            url: "u".into(),
            principal: "API key t/u/f".into(),
            code: "NotAuthenticated".into(),
            message: "m".into(),
            clock_skew: false,
        };
        assert!(
            matches!(map_err(e, "k"), StorageError::Other { message, .. } if message.contains("API key t/u/f"))
        );
    }
}
