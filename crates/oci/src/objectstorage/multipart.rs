//! Multipart uploads: CreateMultipartUpload (`POST …/u`), UploadPart (`PUT …/u/{object}?
//! uploadId=&uploadPartNum=`), CommitMultipartUpload (`POST …/u/{object}?uploadId=`) and
//! AbortMultipartUpload (`DELETE …/u/{object}?uploadId=`), ListMultipartUploads (`GET …/u`).
//!
//! OCI numbers parts 1 to 10,000; every committed part but the last must be at least
//! [`MIN_PART_SIZE`] ("Individual parts can be as large as 50 GiB or as small as 10 MiB;
//! Object Storage waives the minimum part size restriction for the last uploaded part").

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, ETAG};

use super::{header_str, put_result, transport, BucketClient, PutObjectResult};
use crate::client::malformed_from;
use crate::error::OciError;
use crate::signer::BodySigning;

/// Smallest part OCI accepts, except for the last one.
pub const MIN_PART_SIZE: usize = 10 * 1024 * 1024;
/// Highest part number.
pub const MAX_PARTS: u32 = 10_000;

/// The committed object (`etag`, `opc-multipart-md5`, `last-modified`).
pub type CommittedUpload = PutObjectResult;

/// A multipart upload the bucket holds open (ListMultipartUploads).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MultipartUploadSummary {
    pub object: String,
    pub upload_id: String,
    pub time_created: chrono::DateTime<chrono::Utc>,
}

/// Uploads per ListMultipartUploads page (OCI's maximum).
const LIST_LIMIT: u32 = 1000;

impl BucketClient {
    /// Starts a multipart upload of `object`; returns its upload id.
    pub async fn create_multipart_upload(&self, object: &str) -> Result<String, OciError> {
        super::check_object_name(object)?;
        let url = self.url("u", None)?;
        let body = serde_json::json!({ "object": object }).to_string();
        let req = self
            .oci
            .http()
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        let resp = self.call(req, BodySigning::Auto, false).await?;
        let url = resp.url().clone();
        let text = resp.text().await.map_err(|e| transport(&url, e))?;
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Created {
            upload_id: String,
        }
        let created: Created = serde_json::from_str(&text).map_err(|e| {
            malformed_from(
                &url,
                format!("CreateMultipartUpload answer has no uploadId ({e})"),
                e,
            )
        })?;
        Ok(created.upload_id)
    }

    /// Uploads part `part_num` (1-based); returns its ETag, which the commit names.
    pub async fn upload_part(
        &self,
        object: &str,
        upload_id: &str,
        part_num: u32,
        data: Bytes,
    ) -> Result<String, OciError> {
        if !(1..=MAX_PARTS).contains(&part_num) {
            return Err(OciError::config(format!(
                "part number {part_num} is outside 1..={MAX_PARTS}"
            )));
        }
        let mut url = self.url("u", Some(object))?;
        url.query_pairs_mut()
            .append_pair("uploadId", upload_id)
            .append_pair("uploadPartNum", &part_num.to_string());
        let req = self
            .oci
            .http()
            .put(url)
            .header(CONTENT_LENGTH, data.len())
            .body(data);
        let resp = self.call(req, BodySigning::Exclude, true).await?;
        header_str(resp.headers(), ETAG.as_str())
            .map(str::to_string)
            .ok_or_else(|| OciError::Service {
                url: String::new(),
                status: 502,
                code: "MalformedAnswer".into(),
                message: format!("UploadPart {part_num} of {object} answered without an etag"),
                opc_request_id: header_str(resp.headers(), "opc-request-id").map(str::to_string),
                source: None,
            })
    }

    /// Commits the upload from `parts` (number, ETag), in any order.
    pub async fn commit_multipart_upload(
        &self,
        object: &str,
        upload_id: &str,
        parts: &[(u32, String)],
    ) -> Result<CommittedUpload, OciError> {
        let mut url = self.url("u", Some(object))?;
        url.query_pairs_mut().append_pair("uploadId", upload_id);
        let mut sorted: Vec<_> = parts.iter().collect();
        sorted.sort_by_key(|(n, _)| *n);
        let body = serde_json::json!({
            "partsToCommit": sorted
                .iter()
                .map(|(n, etag)| serde_json::json!({"partNum": n, "etag": etag}))
                .collect::<Vec<_>>(),
        })
        .to_string();
        let req = self
            .oci
            .http()
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        let resp = self.call(req, BodySigning::Auto, false).await?;
        Ok(put_result(resp.headers(), "opc-multipart-md5"))
    }

    /// Every multipart upload open in the bucket, following `opc-next-page` to the end.
    pub async fn list_multipart_uploads(&self) -> Result<Vec<MultipartUploadSummary>, OciError> {
        let mut out = Vec::new();
        let mut page: Option<String> = None;
        loop {
            let mut url = self.url("u", None)?;
            {
                let mut q = url.query_pairs_mut();
                q.append_pair("limit", &LIST_LIMIT.to_string());
                if let Some(p) = &page {
                    q.append_pair("page", p);
                }
            }
            let resp = self
                .call(self.oci.http().get(url), BodySigning::Auto, true)
                .await?;
            let next = header_str(resp.headers(), "opc-next-page").map(str::to_string);
            let url = resp.url().clone();
            let text = resp.text().await.map_err(|e| transport(&url, e))?;
            let uploads: Vec<MultipartUploadSummary> =
                serde_json::from_str(&text).map_err(|e| {
                    malformed_from(
                        &url,
                        format!("ListMultipartUploads answer is not a list ({e})"),
                        e,
                    )
                })?;
            out.extend(uploads);
            match next {
                // A server handing back the same page would loop forever.
                Some(next) if Some(&next) != page.as_ref() => page = Some(next),
                _ => return Ok(out),
            }
        }
    }

    /// Aborts the upload and discards its parts. An unknown upload is a 404 service error.
    pub async fn abort_multipart_upload(
        &self,
        object: &str,
        upload_id: &str,
    ) -> Result<(), OciError> {
        let mut url = self.url("u", Some(object))?;
        url.query_pairs_mut().append_pair("uploadId", upload_id);
        self.call(self.oci.http().delete(url), BodySigning::Auto, true)
            .await?;
        Ok(())
    }
}
