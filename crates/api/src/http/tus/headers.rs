//! tus's headers: the names this server speaks and answers with, and reading and writing their
//! values.

use crate::error::{ApiError, ApiResult};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::{DateTime, Utc};
use mediaserver_core::{Upload, UploadId, UploadStatus};
use std::collections::HashMap;

pub(super) const TUS_VERSION: &str = "1.0.0";
pub(super) const EXTENSIONS: &str = "creation,creation-with-upload,termination,expiration,checksum";

pub(super) const TUS_RESUMABLE: HeaderName = HeaderName::from_static("tus-resumable");
pub(super) const TUS_VERSION_H: HeaderName = HeaderName::from_static("tus-version");
pub(super) const TUS_EXTENSION: HeaderName = HeaderName::from_static("tus-extension");
pub(super) const TUS_MAX_SIZE: HeaderName = HeaderName::from_static("tus-max-size");
pub(super) const TUS_CHECKSUM_ALGORITHM: HeaderName =
    HeaderName::from_static("tus-checksum-algorithm");
pub(super) const UPLOAD_OFFSET: HeaderName = HeaderName::from_static("upload-offset");
pub(super) const UPLOAD_LENGTH: HeaderName = HeaderName::from_static("upload-length");
pub(super) const UPLOAD_DEFER_LENGTH: HeaderName = HeaderName::from_static("upload-defer-length");
pub(super) const UPLOAD_METADATA: HeaderName = HeaderName::from_static("upload-metadata");
const UPLOAD_EXPIRES: HeaderName = HeaderName::from_static("upload-expires");
pub(super) const UPLOAD_CHECKSUM: HeaderName = HeaderName::from_static("upload-checksum");
/// Names the media item a finished upload became.
pub(super) const MEDIA_ID: HeaderName = HeaderName::from_static("mediaserver-media-id");
pub(super) const OFFSET_OCTET_STREAM: &str = "application/offset+octet-stream";

/// Headers a browser client must be allowed to read (CORS).
pub(crate) const EXPOSED_HEADERS: [HeaderName; 10] = [
    header::LOCATION,
    TUS_RESUMABLE,
    TUS_VERSION_H,
    TUS_EXTENSION,
    TUS_MAX_SIZE,
    UPLOAD_OFFSET,
    UPLOAD_LENGTH,
    UPLOAD_METADATA,
    UPLOAD_EXPIRES,
    MEDIA_ID,
];

pub(super) fn hv(v: impl ToString) -> HeaderValue {
    // Only ever called with digits, ids, dates and ASCII names.
    HeaderValue::from_str(&v.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Every request but OPTIONS must speak our version (412 otherwise, naming the one we speak).
pub(super) fn version_mismatch(headers: &HeaderMap) -> Option<Response> {
    match headers.get(TUS_RESUMABLE).and_then(|v| v.to_str().ok()) {
        Some(TUS_VERSION) => None,
        other => {
            let mut resp = ApiError::PreconditionFailed(format!(
                "this server speaks tus {TUS_VERSION}; send 'Tus-Resumable: {TUS_VERSION}' (got {})",
                other.unwrap_or("none")
            ))
            .into_response();
            resp.headers_mut()
                .insert(TUS_VERSION_H, HeaderValue::from_static(TUS_VERSION));
            Some(resp)
        }
    }
}

pub(super) fn header_u64(headers: &HeaderMap, name: &HeaderName) -> ApiResult<Option<u64>> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .map(Some)
            .ok_or_else(|| ApiError::BadRequest(format!("{name}: must be a non-negative integer"))),
    }
}

/// `Upload-Metadata`: comma-separated `key base64value` pairs (the value may be absent).
pub(super) fn parse_metadata(raw: &str) -> ApiResult<HashMap<String, String>> {
    let mut out = HashMap::new();
    for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut it = pair.splitn(2, ' ');
        let key = it.next().unwrap_or_default();
        let value = match it.next() {
            None => String::new(),
            Some(b64) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64.trim())
                    .map_err(|_| {
                        ApiError::BadRequest(format!(
                            "Upload-Metadata: the value of '{key}' is not valid base64"
                        ))
                    })?;
                String::from_utf8(bytes).map_err(|_| {
                    ApiError::BadRequest(format!("Upload-Metadata: '{key}' is not UTF-8"))
                })?
            }
        };
        if out.insert(key.to_string(), value).is_some() {
            return Err(ApiError::BadRequest(format!(
                "Upload-Metadata: '{key}' appears twice"
            )));
        }
    }
    Ok(out)
}

pub(super) fn location(id: &UploadId) -> String {
    format!("/v1/uploads/{id}")
}

pub(super) fn expires_header(h: &mut HeaderMap, upload: &Upload) {
    if upload.status == UploadStatus::Active {
        h.insert(UPLOAD_EXPIRES, hv(http_date(upload.expires_at)));
    }
}
