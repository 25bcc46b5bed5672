//! CreateMultipartUpload, UploadPart, CommitMultipartUpload, AbortMultipartUpload.

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, SecondsFormat, Utc};
use md5::Digest as _;

use super::objects::{b64, Object};
use super::{empty, hv, lock, parse_json, require_length, uuid_like, Os, MIN_PART_SIZE};

pub(super) struct Upload {
    object: String,
    parts: BTreeMap<u32, Part>,
    time_created: DateTime<Utc>,
}

struct Part {
    data: Bytes,
    etag: String,
    md5: [u8; 16],
}

fn no_such_upload(os: &Os, id: &str) -> Response {
    os.error(
        404,
        "NoSuchUpload",
        &format!(
            "The upload with id '{id}' does not exist or has already been committed or aborted"
        ),
    )
}

fn upload_id(os: &Os, q: &HashMap<String, String>) -> Result<String, Response> {
    q.get("uploadId")
        .filter(|v| !v.is_empty())
        .cloned()
        .ok_or_else(|| os.error(400, "MissingParameter", "uploadId is required"))
}

pub(super) fn create(os: &Os, bucket: &str, body: &[u8]) -> Response {
    #[derive(serde::Deserialize)]
    struct Req {
        object: Option<String>,
    }
    let req: Req = match parse_json(os, body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let Some(object) = req.object.filter(|o| !o.is_empty()) else {
        return os.error(400, "MissingParameter", "object is required");
    };
    let id = uuid_like();
    let now = os.now();
    let mut data = lock(&os.data);
    let Some(b) = data.buckets.get_mut(bucket) else {
        return os.bucket_not_found(bucket);
    };
    b.uploads.insert(
        id.clone(),
        Upload {
            object: object.clone(),
            parts: BTreeMap::new(),
            time_created: now,
        },
    );
    let created = b.uploads[&id].time_created;
    drop(data);
    os.json(serde_json::json!({
        "namespace": os.namespace,
        "bucket": bucket,
        "object": object,
        "uploadId": id,
        "timeCreated": created.to_rfc3339_opts(SecondsFormat::Millis, true),
        "storageTier": "Standard",
    }))
}

pub(super) fn upload_part(
    os: &Os,
    bucket: &str,
    object: &str,
    q: &HashMap<String, String>,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = require_length(os, headers) {
        return r;
    }
    let id = match upload_id(os, q) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let num = match q.get("uploadPartNum").map(|n| n.parse::<u32>()) {
        Some(Ok(n)) if (1..=10_000).contains(&n) => n,
        Some(_) => {
            return os.error(
                400,
                "InvalidParameter",
                "uploadPartNum must be an integer between 1 and 10000",
            )
        }
        None => return os.error(400, "MissingParameter", "uploadPartNum is required"),
    };
    let md5: [u8; 16] = md5::Md5::digest(&body).into();
    let part = Part {
        data: body,
        etag: uuid_like(),
        md5,
    };
    let mut h = os.headers();
    h.insert("etag", hv(&part.etag));
    h.insert("opc-content-md5", hv(&b64(&md5)));
    let mut data = lock(&os.data);
    let Some(b) = data.buckets.get_mut(bucket) else {
        return os.bucket_not_found(bucket);
    };
    match b.uploads.get_mut(&id) {
        Some(u) if u.object == object => {
            u.parts.insert(num, part);
        }
        _ => return no_such_upload(os, &id),
    }
    empty(StatusCode::OK, h)
}

pub(super) fn commit(
    os: &Os,
    bucket: &str,
    object: &str,
    q: &HashMap<String, String>,
    body: &[u8],
) -> Response {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Req {
        parts_to_commit: Option<Vec<CommitPart>>,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct CommitPart {
        part_num: u32,
        etag: String,
    }
    let id = match upload_id(os, q) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let req: Req = match parse_json(os, body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let mut wanted = req.parts_to_commit.unwrap_or_default();
    if wanted.is_empty() {
        return os.error(400, "InvalidParameter", "partsToCommit must not be empty");
    }
    wanted.sort_by_key(|p| p.part_num);
    if wanted.windows(2).any(|w| w[0].part_num == w[1].part_num) {
        return os.error(400, "InvalidParameter", "partsToCommit names a part twice");
    }
    let now = os.now();
    let mut data = lock(&os.data);
    let Some(b) = data.buckets.get_mut(bucket) else {
        return os.bucket_not_found(bucket);
    };
    let upload = match b.uploads.get(&id) {
        Some(u) if u.object == object => u,
        _ => return no_such_upload(os, &id),
    };
    let mut total = 0usize;
    for (i, w) in wanted.iter().enumerate() {
        let Some(p) = upload.parts.get(&w.part_num) else {
            return os.error(
                400,
                "InvalidParameter",
                &format!("part {} was not uploaded", w.part_num),
            );
        };
        if p.etag != w.etag {
            return os.error(
                400,
                "InvalidParameter",
                &format!(
                    "the etag given for part {} does not match the uploaded part",
                    w.part_num
                ),
            );
        }
        if i + 1 < wanted.len() && p.data.len() < MIN_PART_SIZE {
            return os.error(
                400,
                "InvalidParameter",
                &format!(
                    "part {} is {} bytes; every part but the last must be at least {MIN_PART_SIZE} bytes",
                    w.part_num,
                    p.data.len()
                ),
            );
        }
        total += p.data.len();
    }
    let mut bytes = Vec::with_capacity(total);
    let mut md5s = Vec::with_capacity(16 * wanted.len());
    for w in &wanted {
        let p = &upload.parts[&w.part_num];
        bytes.extend_from_slice(&p.data);
        md5s.extend_from_slice(&p.md5);
    }
    let multipart_md5 = format!("{}-{}", b64(&md5::Md5::digest(&md5s)), wanted.len());
    let obj = Object::new(
        Bytes::from(bytes),
        "application/octet-stream".into(),
        Some(multipart_md5),
        now,
    );
    let mut h = os.headers();
    obj.write_headers(&mut h);
    b.uploads.remove(&id);
    b.objects.insert(object.to_string(), obj);
    empty(StatusCode::OK, h)
}

/// ListMultipartUploads: every open upload of the bucket, in one page.
pub(super) fn list(os: &Os, bucket: &str) -> Response {
    let data = lock(&os.data);
    let Some(b) = data.buckets.get(bucket) else {
        return os.bucket_not_found(bucket);
    };
    let uploads: Vec<serde_json::Value> = b
        .uploads
        .iter()
        .map(|(id, u)| {
            serde_json::json!({
                "namespace": os.namespace,
                "bucket": bucket,
                "object": u.object,
                "uploadId": id,
                "timeCreated": u.time_created.to_rfc3339_opts(SecondsFormat::Millis, true),
                "storageTier": "Standard",
            })
        })
        .collect();
    drop(data);
    os.json(serde_json::Value::Array(uploads))
}

pub(super) fn abort(os: &Os, bucket: &str, object: &str, q: &HashMap<String, String>) -> Response {
    let id = match upload_id(os, q) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let mut data = lock(&os.data);
    let Some(b) = data.buckets.get_mut(bucket) else {
        return os.bucket_not_found(bucket);
    };
    match b.uploads.get(&id) {
        Some(u) if u.object == object => {
            b.uploads.remove(&id);
            empty(StatusCode::NO_CONTENT, os.headers())
        }
        _ => no_such_upload(os, &id),
    }
}
