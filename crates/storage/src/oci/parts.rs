//! OCI's part operations: PutObject for the writer's single PUT, and the multipart upload API
//! (addressed by upload id) that both the writer, through
//! [`IdUpload`](crate::writer::IdUpload), and resumable uploads drive.

use super::{map_err, MIN_OCI_PART_SIZE};
use crate::resumable::{MultipartParts, PartRecord};
use crate::writer::{IdUpload, PartTarget, PartUpload};
use crate::{ObjectKey, PutResult, Result};
use async_trait::async_trait;
use bytes::Bytes;
use mediaserver_oci::objectstorage::BucketClient;
use std::sync::Arc;

pub(crate) struct OciParts {
    pub(crate) client: Arc<BucketClient>,
}

#[async_trait]
impl MultipartParts for OciParts {
    fn min_part_size(&self) -> usize {
        MIN_OCI_PART_SIZE
    }

    async fn create(&self, key: &ObjectKey) -> Result<String> {
        self.client
            .create_multipart_upload(key.as_str())
            .await
            .map_err(|e| map_err(e, key.as_str()))
    }

    async fn put_part(
        &self,
        key: &ObjectKey,
        upload_id: &str,
        number: u32,
        data: Bytes,
    ) -> Result<String> {
        self.client
            .upload_part(key.as_str(), upload_id, number, data)
            .await
            .map_err(|e| map_err(e, key.as_str()))
    }

    async fn complete(
        &self,
        key: &ObjectKey,
        upload_id: &str,
        parts: &[PartRecord],
    ) -> Result<PutResult> {
        let list: Vec<(u32, String)> = parts.iter().map(|p| (p.number, p.etag.clone())).collect();
        let put = self
            .client
            .commit_multipart_upload(key.as_str(), upload_id, &list)
            .await
            .map_err(|e| map_err(e, key.as_str()))?;
        Ok(PutResult {
            size: parts.iter().map(|p| p.size).sum(),
            etag: put.etag,
        })
    }

    async fn abort(&self, key: &ObjectKey, upload_id: &str) -> Result<()> {
        self.client
            .abort_multipart_upload(key.as_str(), upload_id)
            .await
            .map_err(|e| map_err(e, key.as_str()))
    }
}

/// One object, as the writer's target.
pub(crate) struct OciTarget {
    pub(crate) parts: Arc<OciParts>,
    pub(crate) key: ObjectKey,
}

#[async_trait]
impl PartTarget for OciTarget {
    async fn put(&self, data: Bytes) -> Result<Option<String>> {
        let put = self
            .parts
            .client
            .put_object(self.key.as_str(), data, None)
            .await
            .map_err(|e| map_err(e, self.key.as_str()))?;
        Ok(put.etag)
    }

    async fn start(&self) -> Result<Box<dyn PartUpload>> {
        let upload = IdUpload::start(self.parts.clone(), self.key.clone()).await?;
        Ok(Box::new(upload))
    }
}
