//! PutObject, GetObject/HeadObject (with Range), DeleteObject and ListObjects.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use md5::Digest as _;

use super::{empty, http_date, hv, lock, require_length, uuid_like, Os};

pub(super) struct Object {
    pub(super) data: Bytes,
    etag: String,
    /// base64 MD5 of the bytes (single uploads).
    md5: String,
    /// `base64(md5(part md5s))-N` (multipart uploads).
    multipart_md5: Option<String>,
    content_type: String,
    time_created: DateTime<Utc>,
    time_modified: DateTime<Utc>,
}

impl Object {
    pub(super) fn new(
        data: Bytes,
        content_type: String,
        multipart_md5: Option<String>,
        now: DateTime<Utc>,
    ) -> Object {
        Object {
            md5: b64(&md5::Md5::digest(&data)),
            data,
            etag: uuid_like(),
            multipart_md5,
            content_type,
            time_created: now,
            time_modified: now,
        }
    }

    /// How many parts a multipart upload committed into this object (`None`: one PUT).
    pub(super) fn part_count(&self) -> Option<usize> {
        let m = self.multipart_md5.as_deref()?;
        m.rsplit_once('-')?.1.parse().ok()
    }

    /// `etag` and `last-modified` (+ the MD5 header a write answers with).
    pub(super) fn write_headers(&self, h: &mut HeaderMap) {
        h.insert("etag", hv(&self.etag));
        h.insert("last-modified", hv(&http_date(self.time_modified)));
        match &self.multipart_md5 {
            Some(m) => h.insert("opc-multipart-md5", hv(m)),
            None => h.insert("opc-content-md5", hv(&self.md5)),
        };
    }
}

pub(super) fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub(super) fn put(os: &Os, bucket: &str, name: &str, headers: &HeaderMap, body: Bytes) -> Response {
    if let Err(r) = require_length(os, headers) {
        return r;
    }
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_string();
    let obj = Object::new(body, content_type, None, os.now());
    let mut h = os.headers();
    obj.write_headers(&mut h);
    let mut data = lock(&os.data);
    let Some(b) = data.buckets.get_mut(bucket) else {
        return os.bucket_not_found(bucket);
    };
    b.objects.insert(name.to_string(), obj);
    empty(StatusCode::OK, h)
}

pub(super) fn delete(os: &Os, bucket: &str, name: &str) -> Response {
    let mut data = lock(&os.data);
    let Some(b) = data.buckets.get_mut(bucket) else {
        return os.bucket_not_found(bucket);
    };
    if b.objects.remove(name).is_none() {
        return os.object_not_found(bucket, name);
    }
    empty(StatusCode::NO_CONTENT, os.headers())
}

pub(super) fn get(os: &Os, bucket: &str, name: &str, req: &HeaderMap) -> Response {
    let data = lock(&os.data);
    let Some(b) = data.buckets.get(bucket) else {
        return os.bucket_not_found(bucket);
    };
    match b.objects.get(name) {
        Some(obj) => serve(os, obj, req),
        None => os.object_not_found(bucket, name),
    }
}

/// The answer to GET/HEAD of `obj` (also through a PAR). HEAD bodies are dropped by the
/// HTTP layer, which keeps the `content-length`.
pub(super) fn serve(os: &Os, obj: &Object, req: &HeaderMap) -> Response {
    let size = obj.data.len() as u64;
    let mut h = os.headers();
    h.insert("etag", hv(&obj.etag));
    h.insert("last-modified", hv(&http_date(obj.time_modified)));
    h.insert("accept-ranges", HeaderValue::from_static("bytes"));
    h.insert("content-type", hv(&obj.content_type));
    if let Some(m) = &obj.multipart_md5 {
        h.insert("opc-multipart-md5", hv(m));
    }
    let range = req
        .get("range")
        .and_then(|v| v.to_str().ok())
        .map(|v| parse_range(v, size));
    match range {
        None | Some(RangeSpec::Ignored) => {
            if obj.multipart_md5.is_none() {
                h.insert("content-md5", hv(&obj.md5));
            }
            (StatusCode::OK, h, obj.data.clone()).into_response()
        }
        Some(RangeSpec::Unsatisfiable) => {
            let mut r = os.error(
                416,
                "InvalidRange",
                &format!("The requested range is not satisfiable for an object of {size} bytes"),
            );
            r.headers_mut()
                .insert("content-range", hv(&format!("bytes */{size}")));
            r
        }
        Some(RangeSpec::Bytes(start, end)) => {
            h.insert("content-range", hv(&format!("bytes {start}-{end}/{size}")));
            let body = obj.data.slice(start as usize..end as usize + 1);
            (StatusCode::PARTIAL_CONTENT, h, body).into_response()
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum RangeSpec {
    /// Inclusive, within the object.
    Bytes(u64, u64),
    Unsatisfiable,
    /// Not a single byte range: served whole, as HTTP says.
    Ignored,
}

fn parse_range(v: &str, size: u64) -> RangeSpec {
    let Some(spec) = v.trim().strip_prefix("bytes=") else {
        return RangeSpec::Ignored;
    };
    if spec.contains(',') {
        return RangeSpec::Ignored;
    }
    let Some((a, b)) = spec.split_once('-') else {
        return RangeSpec::Ignored;
    };
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        // Suffix range: the last `b` bytes.
        let Ok(n) = b.parse::<u64>() else {
            return RangeSpec::Ignored;
        };
        if n == 0 || size == 0 {
            return RangeSpec::Unsatisfiable;
        }
        return RangeSpec::Bytes(size - n.min(size), size - 1);
    }
    let Ok(start) = a.parse::<u64>() else {
        return RangeSpec::Ignored;
    };
    let end = if b.is_empty() {
        u64::MAX
    } else {
        match b.parse::<u64>() {
            Ok(e) if e >= start => e,
            _ => return RangeSpec::Ignored,
        }
    };
    if start >= size {
        return RangeSpec::Unsatisfiable;
    }
    RangeSpec::Bytes(start, end.min(size - 1))
}

const LIST_FIELDS: &[&str] = &[
    "name",
    "size",
    "etag",
    "md5",
    "timeCreated",
    "timeModified",
    "storageTier",
    "archivalState",
];

pub(super) fn list(os: &Os, bucket: &str, q: &HashMap<String, String>) -> Response {
    let prefix = q.get("prefix").map(String::as_str).unwrap_or("");
    let fields: Vec<&str> = match q.get("fields") {
        Some(f) => f.split(',').map(str::trim).collect(),
        None => vec!["name"],
    };
    if let Some(bad) = fields.iter().find(|f| !LIST_FIELDS.contains(f)) {
        return os.error(
            400,
            "InvalidParameter",
            &format!("fields: '{bad}' is not one of {}", LIST_FIELDS.join(", ")),
        );
    }
    let limit = match q.get("limit").map(|l| l.parse::<usize>()) {
        None => 1000,
        Some(Ok(l)) if (1..=1000).contains(&l) => l,
        Some(_) => {
            return os.error(
                400,
                "InvalidParameter",
                "limit must be an integer between 1 and 1000",
            )
        }
    };
    let page = limit.min(os.page_size.load(std::sync::atomic::Ordering::SeqCst));
    let delimiter = q.get("delimiter").filter(|d| !d.is_empty());
    let data = lock(&os.data);
    let Some(b) = data.buckets.get(bucket) else {
        return os.bucket_not_found(bucket);
    };
    let start = q.get("start").cloned().unwrap_or_default();
    let start_after = q.get("startAfter");
    let end = q.get("end");
    let mut objects = Vec::new();
    let mut prefixes = std::collections::BTreeSet::new();
    let mut next = None;
    for (name, obj) in b.objects.range(start..) {
        if start_after.is_some_and(|s| name <= s) || !name.starts_with(prefix) {
            continue;
        }
        if end.is_some_and(|e| name >= e) {
            break;
        }
        if let Some(d) = delimiter {
            if let Some(i) = name[prefix.len()..].find(d.as_str()) {
                prefixes.insert(name[..prefix.len() + i + d.len()].to_string());
                continue;
            }
        }
        if objects.len() == page {
            next = Some(name.clone());
            break;
        }
        objects.push(summary(name, obj, &fields));
    }
    let mut body = serde_json::json!({ "objects": objects });
    if delimiter.is_some() {
        body["prefixes"] = serde_json::json!(prefixes);
    }
    if let Some(n) = next {
        body["nextStartWith"] = serde_json::Value::String(n);
    }
    os.json(body)
}

fn summary(name: &str, obj: &Object, fields: &[&str]) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    m.insert("name".into(), name.into());
    let ts = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Millis, true);
    for f in fields {
        let v: serde_json::Value = match *f {
            "size" => obj.data.len().into(),
            "etag" => obj.etag.clone().into(),
            "md5" => obj
                .multipart_md5
                .clone()
                .unwrap_or_else(|| obj.md5.clone())
                .into(),
            "timeCreated" => ts(obj.time_created).into(),
            "timeModified" => ts(obj.time_modified).into(),
            "storageTier" => "Standard".into(),
            _ => continue,
        };
        m.insert((*f).to_string(), v);
    }
    serde_json::Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), RangeSpec::Bytes(0, 9));
        assert_eq!(parse_range("bytes=90-200", 100), RangeSpec::Bytes(90, 99));
        assert_eq!(parse_range("bytes=10-", 100), RangeSpec::Bytes(10, 99));
        assert_eq!(parse_range("bytes=-10", 100), RangeSpec::Bytes(90, 99));
        assert_eq!(parse_range("bytes=-500", 100), RangeSpec::Bytes(0, 99));
        assert_eq!(parse_range("bytes=100-", 100), RangeSpec::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-0", 0), RangeSpec::Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 100), RangeSpec::Unsatisfiable);
        assert_eq!(parse_range("bytes=5-1", 100), RangeSpec::Ignored);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), RangeSpec::Ignored);
        assert_eq!(parse_range("items=0-1", 100), RangeSpec::Ignored);
    }
}
