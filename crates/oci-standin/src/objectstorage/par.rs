//! Pre-authenticated requests: creation and deletion (signed) and access through
//! `/p/{token}/n/{ns}/b/{bucket}/o/{object}` (unsigned; the token is the credential).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use chrono::{DateTime, SecondsFormat, Utc};

use super::objects;
use super::{decode, empty, lock, parse_json, random_hex, Os};
use mediaserver_oci::objectstorage::encode_segment;

pub(super) struct Par {
    id: String,
    pub(super) bucket: String,
    object: String,
    read: bool,
    write: bool,
    expires: DateTime<Utc>,
}

const ACCESS_TYPES: &[&str] = &["ObjectRead", "ObjectWrite", "ObjectReadWrite"];

pub(super) fn create(os: &Os, bucket: &str, body: &[u8]) -> Response {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Req {
        name: Option<String>,
        object_name: Option<String>,
        access_type: Option<String>,
        time_expires: Option<String>,
    }
    let req: Req = match parse_json(os, body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let (Some(name), Some(access), Some(expires)) = (req.name, req.access_type, req.time_expires)
    else {
        return os.error(
            400,
            "MissingParameter",
            "name, accessType and timeExpires are required",
        );
    };
    if !ACCESS_TYPES.contains(&access.as_str()) {
        return os.error(
            400,
            "InvalidParameter",
            &format!(
                "accessType '{access}' is not one of {}",
                ACCESS_TYPES.join(", ")
            ),
        );
    }
    let Some(object) = req.object_name.filter(|o| !o.is_empty()) else {
        return os.error(
            400,
            "MissingParameter",
            "objectName is required for an object pre-authenticated request",
        );
    };
    let Ok(expires) = DateTime::parse_from_rfc3339(&expires).map(|t| t.with_timezone(&Utc)) else {
        return os.error(
            400,
            "InvalidParameter",
            "timeExpires must be an RFC 3339 timestamp",
        );
    };
    let now = os.now();
    if expires <= now {
        return os.error(400, "InvalidParameter", "timeExpires must be in the future");
    }
    let token = random_hex(32);
    let id = random_hex(24);
    let access_uri = format!(
        "/p/{token}/n/{}/b/{}/o/{}",
        encode_segment(&os.namespace),
        encode_segment(bucket),
        object
            .split('/')
            .map(encode_segment)
            .collect::<Vec<_>>()
            .join("/")
    );
    let full_path = format!("{}{access_uri}", lock(&os.base_url));
    let mut data = lock(&os.data);
    if !data.buckets.contains_key(bucket) {
        return os.bucket_not_found(bucket);
    }
    data.pars.insert(
        token,
        Par {
            id: id.clone(),
            bucket: bucket.to_string(),
            object: object.clone(),
            read: access != "ObjectWrite",
            write: access != "ObjectRead",
            expires,
        },
    );
    drop(data);
    let ts = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Millis, true);
    os.json(serde_json::json!({
        "id": id,
        "name": name,
        "accessUri": access_uri,
        "fullPath": full_path,
        "objectName": object,
        "accessType": access,
        "timeCreated": ts(now),
        "timeExpires": ts(expires),
    }))
}

pub(super) fn delete(os: &Os, bucket: &str, id: &str) -> Response {
    let mut data = lock(&os.data);
    let before = data.pars.len();
    data.pars.retain(|_, p| !(p.id == id && p.bucket == bucket));
    if data.pars.len() == before {
        return os.error(
            404,
            "NotAuthorizedOrNotFound",
            "The pre-authenticated request was not found",
        );
    }
    empty(StatusCode::NO_CONTENT, os.headers())
}

/// A request through a pre-authenticated URL: no signature, but the token must exist, be
/// unexpired, name this exact object and allow the method.
pub(super) async fn access(
    State(os): State<Arc<Os>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(r) = os.injected_failure() {
        return r;
    }
    os.par_requests.fetch_add(1, Ordering::SeqCst);
    let denied = || {
        os.error(
            404,
            "NotAuthorizedOrNotFound",
            "Authorization failed or requested resource not found",
        )
    };
    let segs: Vec<&str> = uri.path().trim_start_matches('/').splitn(8, '/').collect();
    let ["p", token, "n", ns, "b", bucket, "o", object] = segs.as_slice() else {
        return denied();
    };
    let (Some(ns), Some(bucket), Some(object)) = (decode(ns), decode(bucket), decode(object))
    else {
        return denied();
    };
    let now = os.now();
    let allowed = {
        let data = lock(&os.data);
        match data.pars.get(*token) {
            Some(p)
                if ns == os.namespace
                    && p.bucket == bucket
                    && p.object == object
                    && now < p.expires =>
            {
                match method {
                    Method::GET | Method::HEAD => p.read,
                    Method::PUT => p.write,
                    _ => false,
                }
            }
            _ => false,
        }
    };
    if !allowed {
        return denied();
    }
    match method {
        Method::PUT => objects::put(&os, &bucket, &object, &headers, body),
        _ => objects::get(&os, &bucket, &object, &headers),
    }
}
