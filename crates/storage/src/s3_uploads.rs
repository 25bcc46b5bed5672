//! Listing the S3 bucket's incomplete multipart uploads (ListMultipartUploads), which
//! `object_store` does not expose: one signed GET per page, its XML read with `roxmltree`.
//! Aborting one is `object_store`'s own AbortMultipartUpload (`objstore/parts.rs`).

use crate::objstore::Redactor;
use crate::{OpenUpload, Result, StorageError};
use bytes::Bytes;
use object_store::aws::{AmazonS3, AwsAuthorizer};
use object_store::client::HttpRequestBody;

/// Where and how to list: the bucket's base URL (path-style or virtual-hosted, as configured)
/// and the signing region.
pub(crate) struct UploadLister {
    pub(crate) bucket_url: url::Url,
    pub(crate) region: String,
    pub(crate) client: reqwest::Client,
}

impl UploadLister {
    /// Every open multipart upload of the bucket (all pages).
    pub(crate) async fn list(
        &self,
        store: &AmazonS3,
        redactor: &Redactor,
    ) -> Result<Vec<OpenUpload>> {
        let mut found = Vec::new();
        let mut markers: Option<(String, String)> = None;
        loop {
            let page = self.page(store, redactor, markers.as_ref()).await?;
            found.extend(page.uploads);
            match page.next {
                Some(next) if page.truncated => markers = Some(next),
                _ => return Ok(found),
            }
        }
    }

    async fn page(
        &self,
        store: &AmazonS3,
        redactor: &Redactor,
        markers: Option<&(String, String)>,
    ) -> Result<Page> {
        let mut url = self.bucket_url.clone();
        {
            let mut q = url.query_pairs_mut();
            q.append_key_only("uploads");
            if let Some((key, upload_id)) = markers {
                q.append_pair("key-marker", key);
                q.append_pair("upload-id-marker", upload_id);
            }
        }
        let credential = store
            .credentials()
            .get_credential()
            .await
            .map_err(|e| redactor.map(e, "multipart uploads"))?;
        let mut request = http::Request::builder()
            .method(http::Method::GET)
            .uri(url.as_str())
            .body(HttpRequestBody::from(Bytes::new()))
            .map_err(|e| StorageError::other_from("building the listing request", e))?;
        AwsAuthorizer::new(&credential, "s3", &self.region).authorize(&mut request, None);
        let response = self
            .client
            .get(url)
            .headers(request.headers().clone())
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| listing_failed(redactor, e))?;
        let text = response
            .text()
            .await
            .map_err(|e| listing_failed(redactor, e))?;
        parse_page(&text)
    }
}

fn listing_failed(redactor: &Redactor, e: reqwest::Error) -> StorageError {
    if crate::objstore::is_unavailable(&e) {
        StorageError::unavailable_from(
            "could not list the bucket's multipart uploads",
            redactor.cause(e.without_url()),
        )
    } else {
        StorageError::other_from(
            "listing the bucket's multipart uploads failed",
            redactor.cause(e.without_url()),
        )
    }
}

struct Page {
    uploads: Vec<OpenUpload>,
    truncated: bool,
    /// `NextKeyMarker` and `NextUploadIdMarker`.
    next: Option<(String, String)>,
}

fn parse_page(xml: &str) -> Result<Page> {
    let doc = roxmltree::Document::parse(xml)
        .map_err(|e| StorageError::other_from("unreadable multipart upload listing", e))?;
    let root = doc.root_element();
    let child_text = |node: roxmltree::Node<'_, '_>, name: &str| -> Option<String> {
        node.children()
            .find(|c| c.has_tag_name(name))
            .and_then(|c| c.text())
            .map(str::to_owned)
    };
    let mut uploads = Vec::new();
    for u in root.children().filter(|c| c.has_tag_name("Upload")) {
        let (Some(key), Some(upload_id)) = (child_text(u, "Key"), child_text(u, "UploadId")) else {
            continue;
        };
        // An upload whose start time cannot be read counts as new: it is never aborted early.
        let initiated = child_text(u, "Initiated")
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or_else(chrono::Utc::now);
        uploads.push(OpenUpload {
            key,
            upload_id,
            initiated,
        });
    }
    let truncated = child_text(root, "IsTruncated").as_deref() == Some("true");
    let next = child_text(root, "NextKeyMarker").zip(child_text(root, "NextUploadIdMarker"));
    Ok(Page {
        uploads,
        truncated,
        next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_page() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>b</Bucket><IsTruncated>true</IsTruncated>
  <NextKeyMarker>originals/x/a &amp; b.mp4</NextKeyMarker><NextUploadIdMarker>u2</NextUploadIdMarker>
  <Upload><Key>originals/x/a &amp; b.mp4</Key><UploadId>u2</UploadId>
    <Initiated>2026-01-02T03:04:05.000Z</Initiated></Upload>
</ListMultipartUploadsResult>"#;
        let page = parse_page(xml).unwrap();
        assert!(page.truncated);
        assert_eq!(page.uploads.len(), 1);
        assert_eq!(page.uploads[0].key, "originals/x/a & b.mp4");
        assert_eq!(page.uploads[0].upload_id, "u2");
        assert_eq!(
            page.uploads[0].initiated.to_rfc3339(),
            "2026-01-02T03:04:05+00:00"
        );
        assert_eq!(
            page.next,
            Some(("originals/x/a & b.mp4".into(), "u2".into()))
        );
    }
}
