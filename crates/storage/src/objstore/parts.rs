//! The part operations of the `object_store` providers: for the writer, `object_store`'s own
//! multipart upload (every backend has one; Local's is a hidden staging file renamed at the
//! end); for resumable uploads, the upload-id API of the backends that have it (S3, Memory).

use super::{path, Redactor};
use crate::resumable::{MultipartParts, PartRecord};
use crate::writer::{PartTarget, PartUpload};
use crate::{ObjectKey, PutResult, Result, StorageError};
use async_trait::async_trait;
use bytes::Bytes;
use futures::future::BoxFuture;
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path;
use object_store::{MultipartUpload, ObjectStore};
use std::sync::Arc;

/// One object of an `object_store` backend, as the writer's target.
pub(crate) struct StoreTarget {
    pub(crate) store: Arc<dyn ObjectStore>,
    pub(crate) path: Path,
    pub(crate) key: String,
    pub(crate) redactor: Redactor,
}

#[async_trait]
impl PartTarget for StoreTarget {
    async fn put(&self, data: Bytes) -> Result<Option<String>> {
        let put = self
            .store
            .put(&self.path, data.into())
            .await
            .map_err(|e| self.redactor.map(e, &self.key))?;
        Ok(put.e_tag)
    }

    async fn start(&self) -> Result<Box<dyn PartUpload>> {
        let upload = self
            .store
            .put_multipart(&self.path)
            .await
            .map_err(|e| self.redactor.map(e, &self.key))?;
        Ok(Box::new(StoreUpload {
            upload,
            key: self.key.clone(),
            redactor: self.redactor.clone(),
        }))
    }
}

struct StoreUpload {
    upload: Box<dyn MultipartUpload>,
    key: String,
    redactor: Redactor,
}

#[async_trait]
impl PartUpload for StoreUpload {
    fn put_part(&mut self, data: Bytes) -> BoxFuture<'static, Result<()>> {
        let part = self.upload.put_part(data.into());
        let (redactor, key) = (self.redactor.clone(), self.key.clone());
        Box::pin(async move { part.await.map_err(|e| redactor.map(e, &key)) })
    }

    async fn complete(&mut self) -> Result<Option<String>> {
        let put = self
            .upload
            .complete()
            .await
            .map_err(|e| self.redactor.map(e, &self.key))?;
        Ok(put.e_tag)
    }

    async fn abort(&mut self) -> Result<()> {
        self.upload
            .abort()
            .await
            .map_err(|e| self.redactor.map(e, &self.key))
    }
}

/// The upload-id multipart API of an `object_store` backend, for resumable uploads.
pub(crate) struct StoreParts {
    pub(crate) api: Arc<dyn MultipartStore>,
    pub(crate) redactor: Redactor,
}

impl StoreParts {
    fn map(&self, err: object_store::Error, key: &ObjectKey) -> StorageError {
        self.redactor.map(err, key.as_str())
    }
}

#[async_trait]
impl MultipartParts for StoreParts {
    /// S3's (and OCI's S3 compatibility API's); Memory has none but follows S3, so tests of
    /// it cut the same parts.
    fn min_part_size(&self) -> usize {
        crate::MIN_S3_PART_SIZE
    }

    async fn create(&self, key: &ObjectKey) -> Result<String> {
        self.api
            .create_multipart(&path(key)?)
            .await
            .map_err(|e| self.map(e, key))
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
            .ok_or_else(|| StorageError::other("part numbers start at 1"))?;
        let part = self
            .api
            .put_part(
                &path(key)?,
                &upload_id.to_string(),
                idx as usize,
                data.into(),
            )
            .await
            .map_err(|e| self.map(e, key))?;
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
            .map(|p| PartId {
                content_id: p.etag.clone(),
            })
            .collect();
        let put = self
            .api
            .complete_multipart(&path(key)?, &upload_id.to_string(), ids)
            .await
            .map_err(|e| self.map(e, key))?;
        Ok(PutResult {
            size: parts.iter().map(|p| p.size).sum(),
            etag: put.e_tag,
        })
    }

    async fn abort(&self, key: &ObjectKey, upload_id: &str) -> Result<()> {
        self.api
            .abort_multipart(&path(key)?, &upload_id.to_string())
            .await
            .map_err(|e| self.map(e, key))
    }
}
