//! The writes of `GCPBucket`, over GCS's JSON API: a whole object is one media upload, a
//! multipart upload is a "parallel composite upload" — each part a staging object under
//! [`STAGING`], composed into the object at the end (32 sources per compose request, so larger
//! uploads compose in rounds) and then deleted.
//!
//! Why not object_store's own multipart (GCS's XML multipart API)? It is what object_store's
//! GCS client uses for every write (XML `PUT Object`, `POST ?uploads`, `PUT ?partNumber`,
//! `POST ?uploadId`), and fake-gcs-server — the emulator the test suite runs on — implements
//! neither an unsigned XML `PUT Object` (it answers 400 "invalid uploadType") nor the XML
//! multipart API (not routed: 404); its issue #852, also cited by object_store's own tests.
//! GCS itself implements both APIs; this one works on both, so the code the tests run is the
//! code that ships. Reads, listings, deletes and signed URLs stay on object_store.
//!
//! A staging upload `{STAGING}{id}/` holds `key` (the target object's key, written first, so
//! an upload a dead process left can be found and named) and its parts `00001`… Nothing under
//! [`STAGING`] is listed as an object.

use crate::objstore::Redactor;
use crate::resumable::{MultipartParts, PartRecord};
use crate::{ObjectKey, OpenUpload, PutResult, Result, StorageError};
use async_trait::async_trait;
use bytes::Bytes;
use object_store::gcp::GcpCredentialProvider;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use reqwest::{Method, StatusCode};
use std::collections::BTreeMap;
use std::time::Duration;

/// Where multipart uploads keep their parts until they are composed or aborted.
pub(crate) const STAGING: &str = ".mediaserver-uploads/";
/// GCS composes at most 32 source objects per request.
const MAX_COMPOSE_SOURCES: usize = 32;
/// The object in an upload's staging folder that names its target.
const TARGET_NAME: &str = "key";

pub(crate) struct GcsJson {
    pub(crate) http: reqwest::Client,
    /// e.g. `https://storage.googleapis.com`, or an emulator's address; no trailing `/`.
    pub(crate) base: String,
    pub(crate) bucket: String,
    /// `None`: unauthenticated requests (an emulator).
    pub(crate) credentials: Option<GcpCredentialProvider>,
    pub(crate) redactor: Redactor,
    pub(crate) max_retries: usize,
}

#[derive(serde::Deserialize)]
struct ObjectResource {
    name: String,
    #[serde(default)]
    generation: Option<String>,
    #[serde(default, rename = "timeCreated")]
    time_created: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(serde::Deserialize)]
struct ObjectList {
    #[serde(default)]
    items: Vec<ObjectResource>,
    #[serde(default, rename = "nextPageToken")]
    next_page_token: Option<String>,
}

/// A failed JSON API answer: the status, and the body (redacted) for the log.
#[derive(Debug, thiserror::Error)]
#[error("GCS answered HTTP {status} to {what}: {body}")]
struct StatusError {
    status: StatusCode,
    what: &'static str,
    body: String,
}

fn enc(name: &str) -> String {
    utf8_percent_encode(name, NON_ALPHANUMERIC).to_string()
}

/// Upload ids are ours (hex); anything else handed back (from a listing, a database row) is
/// refused rather than put into a path.
fn check_upload_id(id: &str) -> Result<()> {
    if id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(StorageError::other("not a GCS staging upload id"))
    }
}

fn staging(id: &str) -> String {
    format!("{STAGING}{id}/")
}

impl GcsJson {
    fn object_url(&self, name: &str) -> String {
        format!(
            "{}/storage/v1/b/{}/o/{}",
            self.base,
            enc(&self.bucket),
            enc(name)
        )
    }

    /// Sends one request (built anew for each attempt), retrying connection failures, 5xx and
    /// 429 with backoff. 404 is `NotFound(key)`.
    async fn send(
        &self,
        what: &'static str,
        key: &str,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response> {
        let mut attempt = 0usize;
        loop {
            let mut req = build();
            if let Some(creds) = &self.credentials {
                let cred = creds
                    .get_credential()
                    .await
                    .map_err(|e| self.redactor.map(e, key))?;
                req = req.bearer_auth(&cred.bearer);
            }
            let transient = match req.send().await {
                Ok(resp) if resp.status().is_success() => return Ok(resp),
                Ok(resp) if resp.status() == StatusCode::NOT_FOUND => {
                    return Err(StorageError::NotFound(key.to_string()))
                }
                Ok(resp) => {
                    let status = resp.status();
                    let body = self.redactor.clean(resp.text().await.unwrap_or_default());
                    let err = StatusError { status, what, body };
                    if !(status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS) {
                        return Err(StorageError::other_from(
                            format!("GCS refused {what} (HTTP {status})"),
                            err,
                        ));
                    }
                    StorageError::unavailable_from(
                        format!("GCS answered HTTP {} to {what}", status.as_u16()),
                        err,
                    )
                }
                Err(e) => StorageError::unavailable_from(
                    format!("GCS could not be reached for {what}"),
                    self.redactor.cause(e),
                ),
            };
            if attempt >= self.max_retries {
                return Err(transient);
            }
            let backoff = Duration::from_millis(100u64 << attempt.min(6));
            tokio::time::sleep(backoff).await;
            attempt += 1;
        }
    }

    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        resp: reqwest::Response,
        what: &str,
    ) -> Result<T> {
        resp.json::<T>()
            .await
            .map_err(|e| StorageError::other_from(format!("unreadable GCS answer to {what}"), e))
    }

    /// One object, whole, with one media upload; returns its generation.
    pub(crate) async fn upload(&self, name: &str, data: Bytes) -> Result<String> {
        let url = format!("{}/upload/storage/v1/b/{}/o", self.base, enc(&self.bucket));
        let resp = self
            .send("an upload", name, || {
                self.http
                    .post(&url)
                    .query(&[("uploadType", "media"), ("name", name)])
                    .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                    .body(data.clone())
            })
            .await?;
        let obj: ObjectResource = self.json(resp, "an upload").await?;
        Ok(obj.generation.unwrap_or_default())
    }

    async fn compose(&self, dest: &str, sources: &[String]) -> Result<()> {
        let url = format!("{}/compose", self.object_url(dest));
        let body = serde_json::json!({
            "kind": "storage#composeRequest",
            "sourceObjects": sources.iter().map(|n| serde_json::json!({ "name": n })).collect::<Vec<_>>(),
            "destination": { "contentType": "application/octet-stream" },
        });
        self.send("a compose", dest, || self.http.post(&url).json(&body))
            .await?;
        Ok(())
    }

    async fn delete(&self, name: &str) -> Result<()> {
        let url = self.object_url(name);
        match self
            .send("a delete", name, || self.http.request(Method::DELETE, &url))
            .await
        {
            Ok(_) | Err(StorageError::NotFound(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Every object under `prefix` (all pages).
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectResource>> {
        let url = format!("{}/storage/v1/b/{}/o", self.base, enc(&self.bucket));
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let resp = self
                .send("a listing", prefix, || {
                    let mut q = vec![("prefix", prefix.to_string())];
                    if let Some(t) = &token {
                        q.push(("pageToken", t.clone()));
                    }
                    self.http.get(&url).query(&q)
                })
                .await?;
            let page: ObjectList = self.json(resp, "a listing").await?;
            out.extend(page.items);
            match page.next_page_token.filter(|t| !t.is_empty()) {
                Some(t) => token = Some(t),
                None => return Ok(out),
            }
        }
    }

    async fn read_small(&self, name: &str) -> Result<Bytes> {
        let url = self.object_url(name);
        let resp = self
            .send("a read", name, || {
                self.http.get(&url).query(&[("alt", "media")])
            })
            .await?;
        resp.bytes()
            .await
            .map_err(|e| StorageError::unavailable_from("reading from GCS failed", e))
    }

    /// Deletes an upload's staging objects, its parts before the object naming its target, so
    /// that an abort interrupted halfway is still listed.
    async fn delete_staging(&self, id: &str) -> Result<()> {
        let mut names: Vec<String> = self
            .list(&staging(id))
            .await?
            .into_iter()
            .map(|o| o.name)
            .collect();
        let target = format!("{}{TARGET_NAME}", staging(id));
        names.sort_by_key(|n| *n == target);
        for name in names {
            self.delete(&name).await?;
        }
        Ok(())
    }

    /// Multipart uploads a writer started and nobody completed or aborted.
    pub(crate) async fn open_uploads(&self) -> Result<Vec<OpenUpload>> {
        let mut uploads: BTreeMap<String, Option<chrono::DateTime<chrono::Utc>>> = BTreeMap::new();
        for obj in self.list(STAGING).await? {
            let Some((id, rest)) = obj.name[STAGING.len()..].split_once('/') else {
                continue;
            };
            if check_upload_id(id).is_err() {
                continue;
            }
            let entry = uploads.entry(id.to_string()).or_default();
            if rest == TARGET_NAME {
                *entry = obj.time_created.or(Some(chrono::Utc::now()));
            }
        }
        let mut out = Vec::new();
        for (id, initiated) in uploads {
            // Parts without their target's name: an abort got halfway; it is named after the
            // staging folder so that aborting it again finishes the job.
            let key = match initiated {
                Some(_) => {
                    let name = format!("{}{TARGET_NAME}", staging(&id));
                    match self.read_small(&name).await {
                        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                        Err(StorageError::NotFound(_)) => staging(&id),
                        Err(e) => return Err(e),
                    }
                }
                None => staging(&id),
            };
            out.push(OpenUpload {
                key,
                upload_id: id,
                initiated: initiated.unwrap_or_else(chrono::Utc::now),
            });
        }
        Ok(out)
    }

    /// Aborts an upload [`Self::open_uploads`] listed.
    pub(crate) async fn abort_id(&self, id: &str) -> Result<()> {
        check_upload_id(id)?;
        self.delete_staging(id).await
    }
}

#[async_trait]
impl MultipartParts for GcsJson {
    /// Composition takes parts of any size; the writer's and resumable uploads' own part size
    /// (at least S3's 5 MiB) decides.
    fn min_part_size(&self) -> usize {
        crate::MIN_S3_PART_SIZE
    }

    async fn create(&self, key: &ObjectKey) -> Result<String> {
        let id = hex::encode(rand::random::<[u8; 16]>());
        let name = format!("{}{TARGET_NAME}", staging(&id));
        self.upload(&name, Bytes::from(key.as_str().to_string()))
            .await?;
        Ok(id)
    }

    async fn put_part(
        &self,
        _key: &ObjectKey,
        upload_id: &str,
        number: u32,
        data: Bytes,
    ) -> Result<String> {
        check_upload_id(upload_id)?;
        if number == 0 {
            return Err(StorageError::other("part numbers start at 1"));
        }
        let name = format!("{}{number:05}", staging(upload_id));
        self.upload(&name, data).await
    }

    async fn complete(
        &self,
        key: &ObjectKey,
        upload_id: &str,
        parts: &[PartRecord],
    ) -> Result<PutResult> {
        check_upload_id(upload_id)?;
        let dir = staging(upload_id);
        let mut sources: Vec<String> = parts
            .iter()
            .map(|p| format!("{dir}{:05}", p.number))
            .collect();
        if sources.is_empty() {
            // Compose needs at least one source.
            self.upload(key.as_str(), Bytes::new()).await?;
        } else {
            // More than 32 parts: compose them in rounds of 32 into intermediate objects.
            let mut round = 0;
            while sources.len() > MAX_COMPOSE_SOURCES {
                let mut next = Vec::new();
                for (i, chunk) in sources.chunks(MAX_COMPOSE_SOURCES).enumerate() {
                    let name = format!("{dir}c{round}-{i:05}");
                    self.compose(&name, chunk).await?;
                    next.push(name);
                }
                sources = next;
                round += 1;
            }
            self.compose(key.as_str(), &sources).await?;
        }
        // The object is complete; staging left behind is found by the open-upload sweep.
        if let Err(e) = self.delete_staging(upload_id).await {
            tracing::warn!(error = %crate::error::Chain(&e), "GCS staging parts not deleted; the upload sweep will");
        }
        Ok(PutResult {
            size: parts.iter().map(|p| p.size).sum(),
            etag: None,
        })
    }

    async fn abort(&self, _key: &ObjectKey, upload_id: &str) -> Result<()> {
        self.abort_id(upload_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_ids_are_checked() {
        assert!(check_upload_id(&hex::encode([7u8; 16])).is_ok());
        for bad in ["", "../x", "0123", &"g".repeat(32)] {
            assert!(check_upload_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_are_encoded_in_paths() {
        assert_eq!(enc("a b/c?d"), "a%20b%2Fc%3Fd");
    }
}
