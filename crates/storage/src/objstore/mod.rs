//! The one [`Storage`] implementation over `object_store`, shared by the `Local`, `S3`, `GCS`
//! and `Memory` providers; what differs between them is the [`Provider`]. Errors are mapped in
//! [`errors`], the part operations for the writer and resumable uploads are in [`parts`].

mod errors;
mod parts;

pub(crate) use errors::{is_unavailable, Redactor};
pub(crate) use parts::StoreParts;

use crate::resumable::{self, AppendOutcome, MultipartParts, ResumableState};
use crate::writer::{PartWriter, PendingAborts};
use crate::{
    local, ByteStream, ObjectKey, ObjectMeta, ObjectWriter, PutResult, Result, Storage,
    StorageError,
};
use async_trait::async_trait;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{GetOptions, GetRange, GetResult, ObjectStore};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Prefix listed by `check`; nothing lives there, so the listing is one cheap request.
const CHECK_PREFIX: &str = "mediaserver-readiness-check";

/// Provider-specific capabilities beyond the `ObjectStore` trait.
pub(crate) enum Provider {
    /// Directory per bucket; `check` verifies the directory still exists.
    Local {
        root: PathBuf,
        /// The same store as `store`, typed, for the fast read path (see `local::read`).
        fs: Arc<object_store::local::LocalFileSystem>,
    },
    #[cfg(feature = "memory")]
    Memory,
    S3 {
        signer: Arc<object_store::aws::AmazonS3>,
        /// ListMultipartUploads, which object_store lacks.
        uploads: crate::s3_uploads::UploadLister,
    },
    /// Writes, multipart (composite) uploads and their listing over GCS's JSON API
    /// (`gcs/json.rs`); the rest on object_store.
    Gcs {
        signer: Arc<object_store::gcp::GoogleCloudStorage>,
        json: Arc<crate::gcs::GcsJson>,
    },
}

pub(crate) struct ObjectStoreStorage {
    pub(crate) store: Arc<dyn ObjectStore>,
    pub(crate) provider: Provider,
    /// The backend's upload-id multipart API, for resumable uploads; `None` for Local, whose
    /// resumable uploads append to a file instead.
    pub(crate) parts: Option<Arc<dyn MultipartParts>>,
    pub(crate) bucket: String,
    pub(crate) part_size: usize,
    pub(crate) redactor: Redactor,
    /// Writers' multipart uploads whose abort failed, for [`Storage::retry_failed_aborts`].
    pub(crate) failed_aborts: PendingAborts,
}

// Hand-written so credentials inside the wrapped store's config can never be logged.
impl std::fmt::Debug for ObjectStoreStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage")
            .field("provider", &self.provider_name())
            .field("bucket", &self.bucket)
            .field("part_size", &self.part_size)
            .finish()
    }
}

pub(crate) fn path(key: &ObjectKey) -> Result<Path> {
    Path::parse(key.as_str()).map_err(|e| StorageError::InvalidKey(e.to_string()))
}

/// A listing prefix matches whole path segments: `media/1` covers `media/1/x` but not
/// `media/12/x`. A trailing `/` is optional; empty means the whole bucket.
fn prefix_path(prefix: &str) -> Result<Option<Path>> {
    let trimmed = prefix.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(None);
    }
    let key = ObjectKey::new(trimmed)?;
    path(&key).map(Some)
}

fn to_meta(m: object_store::ObjectMeta) -> ObjectMeta {
    ObjectMeta {
        key: m.location.to_string(),
        size: m.size,
        etag: m.e_tag,
        last_modified: m.last_modified,
    }
}

impl ObjectStoreStorage {
    fn provider_name(&self) -> &'static str {
        match self.provider {
            Provider::Local { .. } => "local",
            #[cfg(feature = "memory")]
            Provider::Memory => "memory",
            Provider::S3 { .. } => "s3",
            Provider::Gcs { .. } => "gcs",
        }
    }

    fn map(&self, err: object_store::Error, key: &str) -> StorageError {
        self.redactor.map(err, key)
    }

    /// The provider path for `key`.
    fn location(&self, key: &ObjectKey) -> Result<Path> {
        if let Provider::Local { .. } = self.provider {
            local::dir::check_key(key)?;
        }
        path(key)
    }

    fn new_writer(&self, key: &ObjectKey, part_size: usize) -> Result<Box<dyn ObjectWriter>> {
        if let Provider::Gcs { json, .. } = &self.provider {
            let target = crate::gcs::GcsTarget {
                json: json.clone(),
                key: key.clone(),
            };
            return Ok(Box::new(PartWriter::new(
                Box::new(target),
                key,
                part_size,
                self.failed_aborts.clone(),
            )));
        }
        let target = parts::StoreTarget {
            store: Arc::clone(&self.store),
            path: self.location(key)?,
            key: key.to_string(),
            redactor: self.redactor.clone(),
        };
        Ok(Box::new(PartWriter::new(
            Box::new(target),
            key,
            part_size,
            self.failed_aborts.clone(),
        )))
    }

    /// The multipart API for resumable uploads, where the backend has one.
    fn parts(&self) -> Result<&dyn MultipartParts> {
        match &self.parts {
            Some(parts) => Ok(parts.as_ref()),
            None => Err(StorageError::NotSupported("resumable uploads")),
        }
    }

    fn byte_stream(&self, key: &ObjectKey, result: GetResult) -> ByteStream {
        let redactor = self.redactor.clone();
        let key = key.to_string();
        result
            .into_stream()
            .map_err(move |e| redactor.map(e, &key))
            .boxed()
    }

    /// A ranged GET with provider range errors normalised to `RangeNotSatisfiable`.
    async fn get_range(&self, key: &ObjectKey, range: Range<u64>) -> Result<Option<GetResult>> {
        let location = self.location(key)?;
        if range.end <= range.start {
            // Empty ranges are not expressible as HTTP ranges; validate against the size only.
            let meta = self.head(key).await?;
            return if range.start >= meta.size {
                Err(StorageError::not_satisfiable(&range, meta.size))
            } else {
                Ok(None)
            };
        }
        // An end no object reaches ("to the end") is asked as an open range: some servers
        // (fake-gcs-server) cannot parse an end past i64::MAX and answer with the whole object.
        let get_range = if range.end > i64::MAX as u64 {
            GetRange::Offset(range.start)
        } else {
            GetRange::Bounded(range.clone())
        };
        let opts = GetOptions {
            range: Some(get_range),
            ..Default::default()
        };
        match self.store.get_opts(&location, opts).await {
            Ok(r) => Ok(Some(r)),
            Err(object_store::Error::NotFound { .. }) => {
                Err(StorageError::NotFound(key.to_string()))
            }
            Err(e) => {
                // Providers report an unsatisfiable range in their own way (HTTP 416,
                // `InvalidGetRange`...); the size tells us whether that was the cause.
                match self.head(key).await {
                    Ok(meta) if range.start >= meta.size => {
                        Err(StorageError::not_satisfiable(&range, meta.size))
                    }
                    Err(StorageError::NotFound(k)) => Err(StorageError::NotFound(k)),
                    _ => Err(self.redactor.map_read(e, key.as_str())),
                }
            }
        }
    }
}

#[async_trait]
impl Storage for ObjectStoreStorage {
    fn bucket(&self) -> &str {
        &self.bucket
    }

    fn provider(&self) -> &'static str {
        self.provider_name()
    }

    async fn writer(&self, key: &ObjectKey) -> Result<Box<dyn ObjectWriter>> {
        self.new_writer(key, self.part_size)
    }

    async fn put_file(&self, key: &ObjectKey, file: &std::path::Path) -> Result<PutResult> {
        crate::writer::put_file(file, self.part_size, |part_size| {
            self.new_writer(key, part_size)
        })
        .await
    }

    async fn head(&self, key: &ObjectKey) -> Result<ObjectMeta> {
        if let Provider::Local { fs, .. } = &self.provider {
            return local::read::head(fs, &self.location(key)?, key.as_str()).await;
        }
        let meta = self
            .store
            .head(&self.location(key)?)
            .await
            .map_err(|e| self.redactor.map_read(e, key.as_str()))?;
        Ok(to_meta(meta))
    }

    async fn local_file(&self, key: &ObjectKey) -> Result<Option<std::path::PathBuf>> {
        let Provider::Local { fs, .. } = &self.provider else {
            return Ok(None);
        };
        let Ok(path) = fs.path_to_filesystem(&self.location(key)?) else {
            return Ok(None);
        };
        match tokio::fs::metadata(&path).await {
            Ok(m) if m.is_file() => Ok(Some(path)),
            _ => Ok(None),
        }
    }

    async fn get_stream(&self, key: &ObjectKey) -> Result<(ObjectMeta, ByteStream)> {
        if let Provider::Local { fs, .. } = &self.provider {
            return local::read::stream(fs, &self.location(key)?, key.as_str(), None).await;
        }
        let result = self
            .store
            .get(&self.location(key)?)
            .await
            .map_err(|e| self.redactor.map_read(e, key.as_str()))?;
        let meta = to_meta(result.meta.clone());
        Ok((meta, self.byte_stream(key, result)))
    }

    async fn get_range_stream(
        &self,
        key: &ObjectKey,
        range: Range<u64>,
    ) -> Result<(ObjectMeta, ByteStream)> {
        if let Provider::Local { fs, .. } = &self.provider {
            let location = self.location(key)?;
            return local::read::stream(fs, &location, key.as_str(), Some(range)).await;
        }
        match self.get_range(key, range).await? {
            Some(result) => {
                let meta = to_meta(result.meta.clone());
                Ok((meta, self.byte_stream(key, result)))
            }
            None => Ok((self.head(key).await?, futures::stream::empty().boxed())),
        }
    }

    async fn read_at(&self, key: &ObjectKey, range: Range<u64>) -> Result<Bytes> {
        match self.get_range(key, range).await? {
            Some(result) => result.bytes().await.map_err(|e| self.map(e, key.as_str())),
            None => Ok(Bytes::new()),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>> {
        let p = prefix_path(prefix)?;
        // GCS multipart parts wait under a staging prefix of their own: not objects.
        let staging = match self.provider {
            Provider::Gcs { .. } => Some(crate::gcs::STAGING),
            _ => None,
        };
        self.store
            .list(p.as_ref())
            .map_ok(to_meta)
            .try_filter(|m| {
                let hidden = staging.is_some_and(|s| m.key.starts_with(s));
                futures::future::ready(!hidden)
            })
            .map_err(|e| self.map(e, prefix))
            .try_collect()
            .await
    }

    async fn delete(&self, key: &ObjectKey) -> Result<()> {
        match self.store.delete(&self.location(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.map(e, key.as_str())),
        }
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<u64> {
        // Refuse to wipe a whole bucket through an empty prefix (e.g. an unset id).
        let Some(p) = prefix_path(prefix)? else {
            return Err(StorageError::InvalidKey(
                "delete_prefix needs a non-empty prefix".into(),
            ));
        };
        // The listing feeds the deletions as it goes: S3 deletes 1,000 keys per request and
        // memory stays bounded whatever the count.
        let locations = self.store.list(Some(&p)).map_ok(|m| m.location).boxed();
        let mut results = self.store.delete_stream(locations);
        let mut deleted = 0u64;
        while let Some(r) = results.next().await {
            match r {
                Ok(_) => deleted += 1,
                // Deleted concurrently by someone else: the goal is met.
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(self.map(e, prefix)),
            }
        }
        Ok(deleted)
    }

    async fn presign_put(&self, key: &ObjectKey, expires: Duration) -> Result<url::Url> {
        self.presign(reqwest::Method::PUT, key, expires).await
    }

    async fn presign_get(&self, key: &ObjectKey, expires: Duration) -> Result<url::Url> {
        self.presign(reqwest::Method::GET, key, expires).await
    }

    async fn resumable_start(&self, key: &ObjectKey) -> Result<ResumableState> {
        if let Some(partial) = self.local_file(&resumable::partial_key(key)?)? {
            self.location(key)?;
            return local::append::start(partial).await;
        }
        resumable::multipart_start(self.parts()?, key).await
    }

    async fn resumable_append(
        &self,
        key: &ObjectKey,
        state: &ResumableState,
        data: crate::SourceStream<'_>,
    ) -> Result<AppendOutcome> {
        if let Some(partial) = self.local_file(&resumable::partial_key(key)?)? {
            return local::append::append(partial, state, data).await;
        }
        resumable::multipart_append(self, self.parts()?, key, state, data, self.part_size).await
    }

    async fn resumable_release(
        &self,
        key: &ObjectKey,
        old: &ResumableState,
        new: &ResumableState,
    ) -> Result<()> {
        if let Some(partial) = self.local_file(&resumable::partial_key(key)?)? {
            // Going back to a shorter recorded state (an append that was not recorded): its
            // bytes go now rather than at the next append, which may never come.
            if new.offset < old.offset {
                return local::append::truncate(partial, new.offset).await;
            }
            return Ok(());
        }
        resumable::release(self, old, new).await
    }

    async fn resumable_finish(&self, key: &ObjectKey, state: &ResumableState) -> Result<PutResult> {
        if let (Some(partial), Some(target)) = (
            self.local_file(&resumable::partial_key(key)?)?,
            self.local_file(key)?,
        ) {
            local::append::finish(partial, target, state).await?;
            let meta = self.head(key).await?;
            return Ok(PutResult {
                size: meta.size,
                etag: meta.etag,
            });
        }
        resumable::multipart_finish(self, self.parts()?, key, state).await
    }

    async fn resumable_abort(&self, key: &ObjectKey, state: &ResumableState) -> Result<()> {
        if self.local_file(key)?.is_some() {
            return self.delete(&resumable::partial_key(key)?).await;
        }
        resumable::multipart_abort(self, self.parts()?, key, state).await
    }

    async fn list_open_uploads(&self) -> Result<Vec<crate::OpenUpload>> {
        match &self.provider {
            Provider::S3 { signer, uploads } => uploads.list(signer, &self.redactor).await,
            Provider::Gcs { json, .. } => json.open_uploads().await,
            Provider::Local { root, .. } => local::staging::list(root.clone()).await,
            #[cfg(feature = "memory")]
            Provider::Memory => Ok(Vec::new()),
        }
    }

    async fn abort_open_upload(&self, upload: &crate::OpenUpload) -> Result<()> {
        if let Provider::Local { root, .. } = &self.provider {
            return local::staging::remove(root, &upload.upload_id).await;
        }
        if let Provider::Gcs { json, .. } = &self.provider {
            return json.abort_id(&upload.upload_id).await;
        }
        let Some(parts) = &self.parts else {
            return Ok(());
        };
        let key = ObjectKey::new(&upload.key)?;
        match parts.abort(&key, &upload.upload_id).await {
            Ok(()) | Err(StorageError::NotFound(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn retry_failed_aborts(&self) -> Result<usize> {
        self.failed_aborts.retry().await
    }

    async fn check(&self) -> Result<()> {
        match &self.provider {
            #[cfg(feature = "memory")]
            Provider::Memory => Ok(()),
            Provider::Local { root, .. } => local::dir::check_dir(root).await,
            Provider::S3 { .. } | Provider::Gcs { .. } => {
                let probe = Path::from(CHECK_PREFIX);
                match self.store.list_with_delimiter(Some(&probe)).await {
                    Ok(_) => Ok(()),
                    // Whatever the cause (unreachable, missing bucket, bad credentials), the
                    // bucket cannot serve requests; readiness only needs to say so.
                    Err(e @ object_store::Error::NotFound { .. }) => {
                        Err(StorageError::unavailable_from(
                            format!("bucket {} not found", self.bucket),
                            self.redactor.cause(e),
                        ))
                    }
                    // `Other`'s message is object_store's text, naming the endpoint: the
                    // readiness answer (public) says what kind of failure, the cause the rest.
                    Err(e) => Err(match self.map(e, CHECK_PREFIX) {
                        e @ StorageError::Other { .. } => StorageError::unavailable_from(
                            "the storage provider refused the request",
                            e,
                        ),
                        other => other,
                    }),
                }
            }
        }
    }
}

impl ObjectStoreStorage {
    /// The file behind `key` (Local only).
    fn local_file(&self, key: &ObjectKey) -> Result<Option<PathBuf>> {
        let Provider::Local { fs, .. } = &self.provider else {
            return Ok(None);
        };
        let location = self.location(key)?;
        fs.path_to_filesystem(&location)
            .map(Some)
            .map_err(|e| StorageError::InvalidKey(e.to_string()))
    }

    async fn presign(
        &self,
        method: reqwest::Method,
        key: &ObjectKey,
        expires: Duration,
    ) -> Result<url::Url> {
        use object_store::signer::Signer;
        crate::check_presign_expiry(expires)?;
        let location = self.location(key)?;
        let signed = match &self.provider {
            Provider::S3 { signer, .. } => signer.signed_url(method, &location, expires).await,
            Provider::Gcs { signer, .. } => signer.signed_url(method, &location, expires).await,
            _ => return Err(StorageError::NotSupported("presigned URLs")),
        };
        signed.map_err(|e| self.map(e, key.as_str()))
    }
}
