//! The one [`Storage`] implementation, generic over any `object_store` backend.

use crate::error::Redactor;
use crate::resumable::{self, AppendOutcome, MultipartParts, PartRecord, ResumableState};
use crate::writer::Writer;
use crate::{
    ByteStream, ObjectKey, ObjectMeta, ObjectWriter, PutResult, Result, Storage, StorageError,
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
        /// The same store as `store`, typed, for the fast read path (see `local_read`).
        fs: Arc<object_store::local::LocalFileSystem>,
    },
    Memory {
        /// The same store as `store`, typed, for multipart uploads.
        mem: Arc<object_store::memory::InMemory>,
    },
    S3 {
        signer: Arc<object_store::aws::AmazonS3>,
    },
}

pub(crate) struct ObjectStoreStorage {
    pub(crate) store: Arc<dyn ObjectStore>,
    pub(crate) provider: Provider,
    pub(crate) bucket: String,
    pub(crate) part_size: usize,
    pub(crate) redactor: Redactor,
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

fn path(key: &ObjectKey) -> Result<Path> {
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
            Provider::Memory { .. } => "memory",
            Provider::S3 { .. } => "s3",
        }
    }

    fn map(&self, err: object_store::Error, key: &str) -> StorageError {
        self.redactor.map(err, key)
    }

    /// The provider path for `key`. LocalFileSystem reserves file names ending in `#<digits>`
    /// for multipart staging files, so such keys are invalid there rather than a storage error.
    fn location(&self, key: &ObjectKey) -> Result<Path> {
        if let Provider::Local { .. } = self.provider {
            let name = key.as_str().rsplit('/').next().unwrap_or_default();
            if let Some((_, suffix)) = name.split_once('#') {
                if !suffix.is_empty() && suffix.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(StorageError::InvalidKey(format!(
                        "local storage cannot hold names ending in '#<digits>': {key}"
                    )));
                }
            }
        }
        path(key)
    }

    fn new_writer(&self, key: &ObjectKey, part_size: usize) -> Result<Box<dyn ObjectWriter>> {
        Ok(Box::new(Writer::new(
            Arc::clone(&self.store),
            self.redactor.clone(),
            self.location(key)?,
            key.to_string(),
            part_size,
        )))
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
                Err(crate::not_satisfiable(&range, meta.size))
            } else {
                Ok(None)
            };
        }
        let opts = GetOptions {
            range: Some(GetRange::Bounded(range.clone())),
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
                        Err(crate::not_satisfiable(&range, meta.size))
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
        let f = tokio::fs::File::open(file)
            .await
            .map_err(StorageError::Source)?;
        let len = f.metadata().await.map_err(StorageError::Source)?.len();
        let part_size = crate::file_part_size(len, self.part_size);
        let stream = tokio_util::io::ReaderStream::with_capacity(f, part_size);
        let w = self.new_writer(key, part_size)?;
        crate::write_all(w, Box::pin(stream)).await
    }

    async fn head(&self, key: &ObjectKey) -> Result<ObjectMeta> {
        if let Provider::Local { fs, .. } = &self.provider {
            return crate::local_read::head(fs, &self.location(key)?, key.as_str()).await;
        }
        let meta = self
            .store
            .head(&self.location(key)?)
            .await
            .map_err(|e| self.redactor.map_read(e, key.as_str()))?;
        Ok(to_meta(meta))
    }

    async fn get_stream(&self, key: &ObjectKey) -> Result<(ObjectMeta, ByteStream)> {
        if let Provider::Local { fs, .. } = &self.provider {
            return crate::local_read::stream(fs, &self.location(key)?, key.as_str(), None).await;
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
            return crate::local_read::stream(fs, &location, key.as_str(), Some(range)).await;
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
        self.store
            .list(p.as_ref())
            .map_ok(to_meta)
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
            return crate::local_append::start(partial).await;
        }
        match self.parts() {
            Some(parts) => resumable::multipart_start(&parts, key).await,
            None => Err(StorageError::NotSupported("resumable uploads")),
        }
    }

    async fn resumable_append(
        &self,
        key: &ObjectKey,
        state: &ResumableState,
        data: crate::SourceStream<'_>,
    ) -> Result<AppendOutcome> {
        if let Some(partial) = self.local_file(&resumable::partial_key(key)?)? {
            return crate::local_append::append(partial, state, data).await;
        }
        match self.parts() {
            Some(parts) => {
                resumable::multipart_append(self, &parts, key, state, data, self.part_size).await
            }
            None => Err(StorageError::NotSupported("resumable uploads")),
        }
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
        if let (Some(partial), Some(target)) = (
            self.local_file(&resumable::partial_key(key)?)?,
            self.local_file(key)?,
        ) {
            crate::local_append::finish(partial, target, state).await?;
            let meta = self.head(key).await?;
            return Ok(PutResult {
                size: meta.size,
                etag: meta.etag,
            });
        }
        match self.parts() {
            Some(parts) => resumable::multipart_finish(self, &parts, key, state).await,
            None => Err(StorageError::NotSupported("resumable uploads")),
        }
    }

    async fn resumable_abort(&self, key: &ObjectKey, state: &ResumableState) -> Result<()> {
        if self.local_file(key)?.is_some() {
            return self.delete(&resumable::partial_key(key)?).await;
        }
        match self.parts() {
            Some(parts) => resumable::multipart_abort(self, &parts, key, state).await,
            None => Err(StorageError::NotSupported("resumable uploads")),
        }
    }

    async fn check(&self) -> Result<()> {
        match &self.provider {
            Provider::Memory { .. } => Ok(()),
            Provider::Local { root, .. } => match tokio::fs::metadata(root).await {
                Ok(m) if m.is_dir() => Ok(()),
                Ok(_) => Err(StorageError::Unavailable(format!(
                    "{} is not a directory",
                    root.display()
                ))),
                Err(e) => Err(StorageError::Unavailable(format!(
                    "{}: {e}",
                    root.display()
                ))),
            },
            Provider::S3 { .. } => {
                let probe = Path::from(CHECK_PREFIX);
                match self.store.list_with_delimiter(Some(&probe)).await {
                    Ok(_) => Ok(()),
                    // Whatever the cause (unreachable, missing bucket, bad credentials), the
                    // bucket cannot serve requests; readiness only needs to say so.
                    Err(e) => Err(match self.map(e, CHECK_PREFIX) {
                        StorageError::NotFound(_) => {
                            StorageError::Unavailable(format!("bucket {} not found", self.bucket))
                        }
                        StorageError::Other(msg) => StorageError::Unavailable(msg),
                        other => other,
                    }),
                }
            }
        }
    }
}

/// The multipart API of an `object_store` backend, for resumable uploads.
struct Parts<'a> {
    api: &'a dyn object_store::multipart::MultipartStore,
    this: &'a ObjectStoreStorage,
}

#[async_trait]
impl MultipartParts for Parts<'_> {
    async fn create(&self, key: &ObjectKey) -> Result<String> {
        self.api
            .create_multipart(&self.this.location(key)?)
            .await
            .map_err(|e| self.this.map(e, key.as_str()))
    }

    async fn put_part(
        &self,
        key: &ObjectKey,
        upload_id: &str,
        number: u32,
        data: Bytes,
    ) -> Result<String> {
        let idx = number
            .checked_sub(1)
            .ok_or_else(|| StorageError::Other("part numbers start at 1".into()))?;
        let part = self
            .api
            .put_part(
                &self.this.location(key)?,
                &upload_id.to_string(),
                idx as usize,
                data.into(),
            )
            .await
            .map_err(|e| self.this.map(e, key.as_str()))?;
        Ok(part.content_id)
    }

    async fn complete(
        &self,
        key: &ObjectKey,
        upload_id: &str,
        parts: &[PartRecord],
    ) -> Result<PutResult> {
        let ids = parts
            .iter()
            .map(|p| object_store::multipart::PartId {
                content_id: p.etag.clone(),
            })
            .collect();
        let put = self
            .api
            .complete_multipart(&self.this.location(key)?, &upload_id.to_string(), ids)
            .await
            .map_err(|e| self.this.map(e, key.as_str()))?;
        Ok(PutResult {
            size: parts.iter().map(|p| p.size).sum(),
            etag: put.e_tag,
        })
    }

    async fn abort(&self, key: &ObjectKey, upload_id: &str) -> Result<()> {
        self.api
            .abort_multipart(&self.this.location(key)?, &upload_id.to_string())
            .await
            .map_err(|e| self.this.map(e, key.as_str()))
    }
}

impl ObjectStoreStorage {
    fn parts(&self) -> Option<Parts<'_>> {
        let api: &dyn object_store::multipart::MultipartStore = match &self.provider {
            Provider::Local { .. } => return None,
            Provider::Memory { mem } => mem.as_ref(),
            Provider::S3 { signer } => signer.as_ref(),
        };
        Some(Parts { api, this: self })
    }

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
        let Provider::S3 { signer } = &self.provider else {
            return Err(StorageError::NotSupported("presigned URLs"));
        };
        crate::check_presign_expiry(expires)?;
        signer
            .signed_url(method, &self.location(key)?, expires)
            .await
            .map_err(|e| self.map(e, key.as_str()))
    }
}
