//! The Object Storage API (`{endpoint}/n/{namespace}/b/{bucket}/…`): objects (PutObject,
//! GetObject with Range, HeadObject, ListObjects, DeleteObject), multipart uploads
//! ([`multipart`]) and pre-authenticated requests ([`par`]).
//!
//! Object names travel percent-encoded as one path segment: every byte but the RFC 3986
//! unreserved characters is escaped, `/` included, as OCI's SDKs encode path parameters. Query
//! values are form-encoded. Requests whose body is in memory are retried on 429, 5xx and
//! transport failures with a short exponential backoff; POSTs are not, since creating an upload
//! or a pre-authenticated request twice is not harmless.
//!
//! ```no_run
//! # async fn f(oci: mediaserver_oci::OciClient) -> Result<(), mediaserver_oci::OciError> {
//! use mediaserver_oci::objectstorage::ObjectStorageClient;
//! let os = ObjectStorageClient::new(oci);
//! let ns = os.namespace().await?;
//! let bucket = os.bucket(&ns, "media");
//! bucket.put_object("hello.txt", bytes::Bytes::from_static(b"hi"), None).await?;
//! let page = bucket.list_objects(Some("hel"), None, None).await?;
//! # Ok(()) }
//! ```

pub mod multipart;
pub mod par;

use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, ETAG, LAST_MODIFIED, RANGE};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::{Method, StatusCode};
use url::Url;

pub(crate) use crate::client::transport;
use crate::client::{malformed, malformed_from, service_error, OciClient};
use crate::error::OciError;
use crate::signer::{parse_http_date, BodySigning};

pub use multipart::{CommittedUpload, MultipartUploadSummary};
pub use par::{ParAccess, PreauthenticatedRequest};

/// Escapes everything but RFC 3986 unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// OCI's limit on an object name, in bytes of UTF-8.
pub const MAX_OBJECT_NAME_BYTES: usize = 1024;
/// Largest page ListObjects returns.
pub const MAX_LIST_LIMIT: u32 = 1000;

const MAX_ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Upper bound for a request whose answer is small (everything but GetObject, whose body is
/// streamed to a reader that may be slow: it relies on the client's connect timeout).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// One path segment, percent-encoded.
pub fn encode_segment(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// The HTTP status of a service answer, if `e` is one.
pub fn status_of(e: &OciError) -> Option<u16> {
    match e {
        OciError::Service { status, .. } => Some(*status),
        OciError::NotAuthenticated { .. } => Some(401),
        _ => None,
    }
}

/// Whether `e` says the thing does not exist (object, bucket, upload, namespace).
pub fn is_not_found(e: &OciError) -> bool {
    status_of(e) == Some(404)
}

/// Whether retrying later may succeed: throttling, a server-side failure, no answer at all.
pub fn is_transient(e: &OciError) -> bool {
    match e {
        OciError::Transport { .. } => true,
        OciError::Service { status, .. } => *status == 429 || *status >= 500,
        _ => false,
    }
}

/// Entry point: the namespace lookup and per-bucket handles.
#[derive(Debug, Clone)]
pub struct ObjectStorageClient {
    oci: OciClient,
}

impl ObjectStorageClient {
    pub fn new(oci: OciClient) -> Self {
        ObjectStorageClient { oci }
    }

    pub fn oci(&self) -> &OciClient {
        &self.oci
    }

    /// The tenancy's Object Storage namespace (`GET /n/`).
    pub async fn namespace(&self) -> Result<String, OciError> {
        let url = parse_url(&format!("{}/n/", self.oci.endpoints().object_storage))?;
        let req = self.oci.http().get(url).timeout(REQUEST_TIMEOUT);
        let resp = send(&self.oci, req, BodySigning::Auto, true).await?;
        let resp = checked(resp).await?;
        let url = resp.url().clone();
        let text = resp.text().await.map_err(|e| transport(&url, e))?;
        let ns: String = serde_json::from_str(&text).map_err(|e| {
            OciError::config_from(
                format!("Object Storage answered GetNamespace with something that is not a JSON string ({e})"),
                e,
            )
        })?;
        if ns.is_empty() {
            return Err(OciError::config(
                "Object Storage answered GetNamespace with an empty namespace",
            ));
        }
        Ok(ns)
    }

    pub fn bucket(&self, namespace: &str, bucket: &str) -> BucketClient {
        BucketClient {
            oci: self.oci.clone(),
            namespace: namespace.to_string(),
            bucket: bucket.to_string(),
        }
    }
}

/// Operations on one bucket.
#[derive(Debug, Clone)]
pub struct BucketClient {
    pub(crate) oci: OciClient,
    namespace: String,
    bucket: String,
}

/// What HeadObject (and GetObject) say about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectHead {
    /// The whole object's size (also for ranged reads).
    pub size: u64,
    pub etag: Option<String>,
    pub last_modified: Option<DateTime<Utc>>,
    pub content_type: Option<String>,
    /// `content-md5` for single uploads, `opc-multipart-md5` (`…-N`) for multipart ones.
    pub md5: Option<String>,
}

/// An object being read: its metadata, the range served (inclusive) and the body.
#[derive(Debug)]
pub struct ObjectBody {
    pub head: ObjectHead,
    pub range: Option<(u64, u64)>,
    pub response: reqwest::Response,
}

/// What PutObject (and CommitMultipartUpload) answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutObjectResult {
    pub etag: Option<String>,
    pub md5: Option<String>,
    pub last_modified: Option<DateTime<Utc>>,
}

/// One entry of ListObjects (`fields=name,size,etag,timeCreated,timeModified`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectSummary {
    pub name: String,
    pub size: Option<u64>,
    pub etag: Option<String>,
    pub time_created: Option<DateTime<Utc>>,
    pub time_modified: Option<DateTime<Utc>>,
}

/// One page of ListObjects; `next_start_with` is the `start` of the next page.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListPage {
    #[serde(default)]
    pub objects: Vec<ObjectSummary>,
    pub next_start_with: Option<String>,
}

impl BucketClient {
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    pub fn oci(&self) -> &OciClient {
        &self.oci
    }

    /// `{endpoint}/n/{ns}/b/{bucket}/{kind}[/{object}]`.
    pub(crate) fn url(&self, kind: &str, object: Option<&str>) -> Result<Url, OciError> {
        let mut s = format!(
            "{}/n/{}/b/{}/{kind}",
            self.oci.endpoints().object_storage,
            encode_segment(&self.namespace),
            encode_segment(&self.bucket)
        );
        if let Some(o) = object {
            check_object_name(o)?;
            s.push('/');
            s.push_str(&encode_segment(o));
        }
        parse_url(&s)
    }

    /// Sends `req` with [`REQUEST_TIMEOUT`] (retrying transient failures when `idempotent`)
    /// and returns a 2xx answer.
    pub(crate) async fn call(
        &self,
        req: reqwest::RequestBuilder,
        body: BodySigning,
        idempotent: bool,
    ) -> Result<reqwest::Response, OciError> {
        let req = req.timeout(REQUEST_TIMEOUT);
        checked(send(&self.oci, req, body, idempotent).await?).await
    }

    /// PutObject: one PUT of `data` (OCI takes up to 50 GiB this way; callers go multipart far
    /// earlier). Signed without the body, as the SDKs do.
    pub async fn put_object(
        &self,
        object: &str,
        data: Bytes,
        content_type: Option<&str>,
    ) -> Result<PutObjectResult, OciError> {
        let url = self.url("o", Some(object))?;
        let req = self
            .oci
            .http()
            .put(url)
            .header(CONTENT_LENGTH, data.len())
            .header(
                CONTENT_TYPE,
                content_type.unwrap_or("application/octet-stream"),
            )
            .body(data);
        let resp = self.call(req, BodySigning::Exclude, true).await?;
        Ok(put_result(resp.headers(), "opc-content-md5"))
    }

    /// HeadObject.
    pub async fn head_object(&self, object: &str) -> Result<ObjectHead, OciError> {
        let url = self.url("o", Some(object))?;
        let resp = self
            .call(self.oci.http().head(url), BodySigning::Auto, true)
            .await?;
        object_head(resp.headers(), None)
    }

    /// GetObject, optionally of the inclusive byte range `start..=end` (`end: None` reads to
    /// the end). A range starting past the object is a 416 service error.
    pub async fn get_object(
        &self,
        object: &str,
        range: Option<(u64, Option<u64>)>,
    ) -> Result<ObjectBody, OciError> {
        let url = self.url("o", Some(object))?;
        let mut req = self.oci.http().get(url);
        if let Some((start, end)) = range {
            let spec = match end {
                Some(end) => format!("bytes={start}-{end}"),
                None => format!("bytes={start}-"),
            };
            req = req.header(RANGE, spec);
        }
        // No overall timeout: the body streams as fast as its reader takes it.
        let resp = checked(send(&self.oci, req, BodySigning::Auto, true).await?).await?;
        let served = if resp.status() == StatusCode::PARTIAL_CONTENT {
            let cr = header_str(resp.headers(), "content-range").ok_or_else(|| {
                malformed(resp.url(), "a 206 answer without content-range".into())
            })?;
            let (start, end, total) = parse_content_range(cr).ok_or_else(|| {
                malformed(resp.url(), format!("unparseable content-range '{cr}'"))
            })?;
            Some((start, end, total))
        } else {
            None
        };
        let head = object_head(resp.headers(), served.map(|(_, _, total)| total))?;
        Ok(ObjectBody {
            head,
            range: served.map(|(s, e, _)| (s, e)),
            response: resp,
        })
    }

    /// One page of ListObjects under `prefix`, starting at `start` (inclusive, a previous
    /// page's `next_start_with`), at most `limit` (≤ 1000) entries.
    pub async fn list_objects(
        &self,
        prefix: Option<&str>,
        start: Option<&str>,
        limit: Option<u32>,
    ) -> Result<ListPage, OciError> {
        let mut url = self.url("o", None)?;
        {
            let mut q = url.query_pairs_mut();
            if let Some(p) = prefix.filter(|p| !p.is_empty()) {
                q.append_pair("prefix", p);
            }
            if let Some(s) = start {
                q.append_pair("start", s);
            }
            if let Some(l) = limit {
                q.append_pair("limit", &l.clamp(1, MAX_LIST_LIMIT).to_string());
            }
            q.append_pair("fields", "name,size,etag,timeCreated,timeModified");
        }
        let resp = self
            .call(self.oci.http().get(url), BodySigning::Auto, true)
            .await?;
        let url = resp.url().clone();
        let text = resp.text().await.map_err(|e| transport(&url, e))?;
        serde_json::from_str(&text)
            .map_err(|e| malformed_from(&url, format!("ListObjects answer is not a page ({e})"), e))
    }

    /// Every object under `prefix`, following `nextStartWith` to the end.
    pub async fn list_all(&self, prefix: Option<&str>) -> Result<Vec<ObjectSummary>, OciError> {
        let mut out = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let page = self
                .list_objects(prefix, start.as_deref(), Some(MAX_LIST_LIMIT))
                .await?;
            out.extend(page.objects);
            match page.next_start_with {
                // A server handing back the same start would loop forever.
                Some(next) if Some(&next) != start.as_ref() => start = Some(next),
                _ => return Ok(out),
            }
        }
    }

    /// DeleteObject. A missing object is a 404 service error (see [`is_not_found`]).
    pub async fn delete_object(&self, object: &str) -> Result<(), OciError> {
        let url = self.url("o", Some(object))?;
        self.call(self.oci.http().delete(url), BodySigning::Auto, true)
            .await?;
        Ok(())
    }
}

fn check_object_name(name: &str) -> Result<(), OciError> {
    if name.is_empty() || name.len() > MAX_OBJECT_NAME_BYTES {
        return Err(OciError::config(format!(
            "object name must be 1 to {MAX_OBJECT_NAME_BYTES} bytes, got {}",
            name.len()
        )));
    }
    if name.contains('\0') {
        return Err(OciError::config("object name contains a NUL byte"));
    }
    Ok(())
}

pub(crate) fn parse_url(s: &str) -> Result<Url, OciError> {
    Url::parse(s).map_err(|e| OciError::config_from(format!("bad Object Storage URL {s}: {e}"), e))
}

/// Signs and sends, retrying 429/5xx/transport failures when the request can be replayed.
pub(crate) async fn send(
    oci: &OciClient,
    req: reqwest::RequestBuilder,
    body: BodySigning,
    idempotent: bool,
) -> Result<reqwest::Response, OciError> {
    let req = req.build().map_err(|e| {
        OciError::config_from(format!("cannot build Object Storage request: {e}"), e)
    })?;
    let retryable = idempotent && req.method() != Method::POST;
    let mut backoff = FIRST_BACKOFF;
    let mut next = Some(req);
    let mut attempt = 1;
    loop {
        let Some(req) = next.take() else {
            return Err(OciError::config("request could not be replayed"));
        };
        let again = if retryable && attempt < MAX_ATTEMPTS {
            req.try_clone()
        } else {
            None
        };
        let result = oci.execute(req, body).await;
        let transient = match &result {
            Ok(resp) => {
                resp.status() == StatusCode::TOO_MANY_REQUESTS || resp.status().is_server_error()
            }
            Err(e) => matches!(e, OciError::Transport { .. }),
        };
        match again {
            Some(r) if transient => {
                tracing::debug!(
                    attempt,
                    ?backoff,
                    "Object Storage request failed transiently; retrying"
                );
                tokio::time::sleep(backoff).await;
                backoff *= 2;
                attempt += 1;
                next = Some(r);
            }
            _ => return result,
        }
    }
}

pub(crate) async fn checked(resp: reqwest::Response) -> Result<reqwest::Response, OciError> {
    if resp.status().is_success() {
        Ok(resp)
    } else {
        Err(service_error(resp).await)
    }
}

pub(crate) fn header_str<'a>(h: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

pub(crate) fn put_result(h: &http::HeaderMap, md5_header: &str) -> PutObjectResult {
    PutObjectResult {
        etag: header_str(h, ETAG.as_str()).map(str::to_string),
        md5: header_str(h, md5_header).map(str::to_string),
        last_modified: header_str(h, LAST_MODIFIED.as_str()).and_then(parse_http_date),
    }
}

fn object_head(h: &http::HeaderMap, total: Option<u64>) -> Result<ObjectHead, OciError> {
    let size = match total {
        Some(t) => t,
        None => header_str(h, CONTENT_LENGTH.as_str())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| OciError::Service {
                url: String::new(),
                status: 502,
                code: "MalformedAnswer".into(),
                message: "object answer without a content-length".into(),
                opc_request_id: header_str(h, "opc-request-id").map(str::to_string),
                source: None,
            })?,
    };
    Ok(ObjectHead {
        size,
        etag: header_str(h, ETAG.as_str()).map(str::to_string),
        last_modified: header_str(h, LAST_MODIFIED.as_str()).and_then(parse_http_date),
        content_type: header_str(h, CONTENT_TYPE.as_str()).map(str::to_string),
        md5: header_str(h, "opc-multipart-md5")
            .or_else(|| header_str(h, "content-md5"))
            .map(str::to_string),
    })
}

/// `bytes START-END/TOTAL` → (start, end, total).
pub fn parse_content_range(v: &str) -> Option<(u64, u64, u64)> {
    let rest = v.trim().strip_prefix("bytes ")?;
    let (span, total) = rest.split_once('/')?;
    let (start, end) = span.split_once('-')?;
    let (start, end, total) = (
        start.trim().parse().ok()?,
        end.trim().parse().ok()?,
        total.trim().parse().ok()?,
    );
    (start <= end && end < total).then_some((start, end, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_escape_all_but_unreserved() {
        assert_eq!(
            encode_segment("with space/é ü 日本.mov"),
            "with%20space%2F%C3%A9%20%C3%BC%20%E6%97%A5%E6%9C%AC.mov"
        );
        assert_eq!(
            encode_segment("it's (1) & +,;=@!$~_-.txt#?%"),
            "it%27s%20%281%29%20%26%20%2B%2C%3B%3D%40%21%24~_-.txt%23%3F%25"
        );
    }

    #[test]
    fn content_range() {
        assert_eq!(parse_content_range("bytes 0-9/10"), Some((0, 9, 10)));
        assert_eq!(parse_content_range("bytes 5-4/10"), None);
        assert_eq!(parse_content_range("bytes 0-10/10"), None);
        assert_eq!(parse_content_range("bytes */10"), None);
    }

    #[test]
    fn transient_errors() {
        let svc = |status| OciError::Service {
            url: "u".into(),
            status,
            code: "c".into(),
            message: "m".into(),
            opc_request_id: None,
            source: None,
        };
        assert!(is_transient(&svc(503)));
        assert!(is_transient(&svc(429)));
        assert!(!is_transient(&svc(404)));
        assert!(is_not_found(&svc(404)));
    }
}
