//! An in-memory stand-in of the Object Storage API, served by [`super::Standin`] next to its
//! other services. Like the real service it
//!
//! * verifies every `/n/…` request's signature against the registered public keys (the
//!   shared [`KeyRegistry`]), with OCI's per-method signed-header rules: PutObject and
//!   UploadPart without the body headers, every other POST/PUT with `x-content-sha256`
//!   checked against the body; the date within 5 minutes of its clock;
//! * requires `content-length` on uploads (411 otherwise: OCI takes no chunked uploads);
//! * answers with OCI's status codes, `opc-request-id`, `etag`, `last-modified`,
//!   `content-md5`/`opc-content-md5`/`opc-multipart-md5`, `content-range` headers and
//!   `{"code","message"}` bodies (`BucketNotFound`, `ObjectNotFound`, `NoSuchUpload`,
//!   `InvalidRange`, `NamespaceNotFound`, `InvalidParameter`…);
//! * serves Range reads (206/416), paginated listings (`nextStartWith`; the page size can be
//!   made small), multipart uploads whose commit refuses non-last parts under 10 MiB, and
//!   pre-authenticated requests usable without a signature until they expire.
//!
//! Tests can inject failures ([`ObjectStorageStandin::fail_next`]) and inspect buckets, open
//! uploads and refused requests.

// Handlers return a ready error `Response` from their helpers; boxing it buys nothing here.
#![allow(clippy::result_large_err)]

mod multipart;
mod objects;
mod par;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use chrono::{DateTime, Utc};

use super::verify::{KeyRegistry, Rejection, VerifyOptions};

/// The namespace the stand-in serves.
pub const NAMESPACE: &str = "standinns";
/// OCI's smallest part (all but the last) in a committed multipart upload.
pub const MIN_PART_SIZE: usize = 10 * 1024 * 1024;
/// Largest request body accepted (a part or a single PUT in tests).
const MAX_BODY: usize = 256 * 1024 * 1024;

pub(crate) type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Handle on the stand-in's Object Storage; clones share it.
#[derive(Clone)]
pub struct ObjectStorageStandin {
    os: Arc<Os>,
}

struct Os {
    namespace: String,
    keys: KeyRegistry,
    clock: Clock,
    base_url: Mutex<String>,
    page_size: AtomicUsize,
    data: Mutex<Data>,
    rejections: Mutex<Vec<Rejection>>,
    signed_requests: AtomicUsize,
    par_requests: AtomicUsize,
    failures: Mutex<VecDeque<u16>>,
    serial: AtomicU64,
}

#[derive(Default)]
struct Data {
    buckets: BTreeMap<String, Bucket>,
    /// token → PAR
    pars: HashMap<String, par::Par>,
}

#[derive(Default)]
struct Bucket {
    objects: BTreeMap<String, objects::Object>,
    uploads: HashMap<String, multipart::Upload>,
}

impl ObjectStorageStandin {
    pub(crate) fn new(keys: KeyRegistry, clock: Clock) -> Self {
        ObjectStorageStandin {
            os: Arc::new(Os {
                namespace: NAMESPACE.to_string(),
                keys,
                clock,
                base_url: Mutex::new(String::new()),
                page_size: AtomicUsize::new(1000),
                data: Mutex::new(Data::default()),
                rejections: Mutex::new(Vec::new()),
                signed_requests: AtomicUsize::new(0),
                par_requests: AtomicUsize::new(0),
                failures: Mutex::new(VecDeque::new()),
                serial: AtomicU64::new(0),
            }),
        }
    }

    /// The routes (`/n/…`, `/p/…`), to merge into the stand-in's router.
    pub(crate) fn router(&self) -> Router {
        Router::new()
            .route("/n/", any(signed))
            .route("/n/{*rest}", any(signed))
            .route("/p/{*rest}", any(par::access))
            .layer(DefaultBodyLimit::max(MAX_BODY))
            .with_state(self.os.clone())
    }

    pub(crate) fn set_base_url(&self, url: &str) {
        *lock(&self.os.base_url) = url.to_string();
    }

    pub fn namespace(&self) -> &str {
        &self.os.namespace
    }

    /// Creates an empty bucket (no-op if it exists).
    pub fn create_bucket(&self, name: &str) {
        lock(&self.os.data)
            .buckets
            .entry(name.to_string())
            .or_default();
    }

    /// The bytes of an object, if present.
    pub fn object(&self, bucket: &str, name: &str) -> Option<Bytes> {
        let data = lock(&self.os.data);
        Some(data.buckets.get(bucket)?.objects.get(name)?.data.clone())
    }

    /// Names of every object in `bucket`, sorted.
    pub fn object_names(&self, bucket: &str) -> Vec<String> {
        let data = lock(&self.os.data);
        data.buckets
            .get(bucket)
            .map(|b| b.objects.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The number of parts `name` was committed from, `None` if it was one PutObject (or is
    /// missing).
    pub fn object_part_count(&self, bucket: &str, name: &str) -> Option<usize> {
        let data = lock(&self.os.data);
        data.buckets.get(bucket)?.objects.get(name)?.part_count()
    }

    /// Multipart uploads started and neither committed nor aborted.
    pub fn open_uploads(&self, bucket: &str) -> usize {
        let data = lock(&self.os.data);
        data.buckets.get(bucket).map_or(0, |b| b.uploads.len())
    }

    /// Pre-authenticated requests on `bucket` (expired ones included, as in OCI).
    pub fn par_count(&self, bucket: &str) -> usize {
        lock(&self.os.data)
            .pars
            .values()
            .filter(|p| p.bucket == bucket)
            .count()
    }

    /// Largest ListObjects page from now on (OCI's is 1000).
    pub fn set_list_page_size(&self, n: usize) {
        self.os.page_size.store(n.max(1), Ordering::SeqCst);
    }

    /// The next requests (signed or PAR) are answered with these statuses, in order.
    pub fn fail_next(&self, statuses: &[u16]) {
        lock(&self.os.failures).extend(statuses.iter().copied());
    }

    /// Signed requests that passed verification.
    pub fn signed_requests(&self) -> usize {
        self.os.signed_requests.load(Ordering::SeqCst)
    }

    /// Requests through pre-authenticated URLs.
    pub fn par_requests(&self) -> usize {
        self.os.par_requests.load(Ordering::SeqCst)
    }

    /// Every request refused for its signature, date or headers.
    pub fn rejections(&self) -> Vec<Rejection> {
        lock(&self.os.rejections).clone()
    }
}

/// A poisoned lock only means a handler panicked; the data is still usable for a stand-in.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Os {
    fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    fn request_id(&self) -> String {
        format!(
            "standin-os/{:08x}",
            self.serial.fetch_add(1, Ordering::SeqCst)
        )
    }

    /// `opc-request-id` and `date`, on every answer.
    fn headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("opc-request-id", hv(&self.request_id()));
        h.insert("date", hv(&http_date(self.now())));
        h
    }

    fn error(&self, status: u16, code: &str, message: &str) -> Response {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut h = self.headers();
        h.insert("content-type", HeaderValue::from_static("application/json"));
        let body = serde_json::json!({"code": code, "message": message}).to_string();
        (status, h, body).into_response()
    }

    fn json(&self, value: serde_json::Value) -> Response {
        let mut h = self.headers();
        h.insert("content-type", HeaderValue::from_static("application/json"));
        (StatusCode::OK, h, value.to_string()).into_response()
    }

    fn reject(&self, r: Rejection) -> Response {
        let resp = self.error(r.status, r.code, &r.message);
        lock(&self.rejections).push(r);
        resp
    }

    /// An injected failure, if one is queued.
    fn injected_failure(&self) -> Option<Response> {
        let status = lock(&self.failures).pop_front()?;
        let code = match status {
            429 => "TooManyRequests",
            503 => "ServiceUnavailable",
            _ => "InternalServerError",
        };
        Some(self.error(status, code, "injected failure"))
    }

    fn bucket_not_found(&self, bucket: &str) -> Response {
        self.error(
            404,
            "BucketNotFound",
            &format!(
                "Either the bucket named '{bucket}' does not exist in the namespace '{}' or you are not authorized to access it",
                self.namespace
            ),
        )
    }

    fn object_not_found(&self, bucket: &str, object: &str) -> Response {
        self.error(
            404,
            "ObjectNotFound",
            &format!("The object '{object}' was not found in the bucket '{bucket}'"),
        )
    }
}

pub(crate) fn hv(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

pub(crate) fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Random bytes as lowercase hex.
fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    // A failing system RNG leaves zeros: acceptable for a test stand-in's identifiers.
    let _ = aws_lc_rs::rand::fill(&mut b);
    hex::encode(b)
}

/// An ETag / upload id in OCI's UUID form.
fn uuid_like() -> String {
    let h = random_hex(16);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Percent-decodes a raw path tail into an object (or bucket) name.
fn decode(raw: &str) -> Option<String> {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

fn query(uri: &Uri) -> HashMap<String, String> {
    url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// A parsed `/n/{ns}/b/{bucket}/{kind}/{rest}` path.
struct Target {
    bucket: String,
    kind: String,
    /// The decoded remainder after `{kind}/` (an object name, a PAR id); `None` when absent.
    rest: Option<String>,
}

/// Every `/n/…` request: failure injection, signature verification, then the operation.
async fn signed(
    State(os): State<Arc<Os>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(r) = os.injected_failure() {
        return r;
    }
    let target = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let opts = VerifyOptions {
        now: os.now(),
        ..Default::default()
    };
    if let Err(r) = os
        .keys
        .verify(&method, target, &headers, Some(&body), &opts)
    {
        return os.reject(r);
    }
    os.signed_requests.fetch_add(1, Ordering::SeqCst);

    let path = uri.path();
    if path == "/n/" || path == "/n" {
        return match method {
            Method::GET => os.json(serde_json::Value::String(os.namespace.clone())),
            _ => method_not_allowed(&os),
        };
    }
    let segs: Vec<&str> = path.trim_start_matches('/').splitn(6, '/').collect();
    let (ns, bucket) = match segs.as_slice() {
        ["n", ns, "b", bucket, ..] => (decode(ns), decode(bucket)),
        _ => return not_found_route(&os),
    };
    let (Some(ns), Some(bucket)) = (ns, bucket) else {
        return os.error(400, "InvalidParameter", "the path is not valid UTF-8");
    };
    if ns != os.namespace {
        return os.error(
            404,
            "NamespaceNotFound",
            &format!("You do not have authorization to perform this request, or the requested resource could not be found (namespace '{ns}')"),
        );
    }
    let (kind, rest) = match segs.get(4) {
        None => (String::new(), None),
        Some(k) => {
            let rest = match segs.get(5) {
                Some(r) if !r.is_empty() => match decode(r) {
                    Some(d) => Some(d),
                    None => {
                        return os.error(400, "InvalidParameter", "the name is not valid UTF-8")
                    }
                },
                _ => None,
            };
            (k.to_string(), rest)
        }
    };
    let t = Target { bucket, kind, rest };
    let q = query(&uri);
    match (t.kind.as_str(), &t.rest, &method) {
        ("", None, &Method::GET | &Method::HEAD) => get_bucket(&os, &t.bucket),
        ("o", None, &Method::GET) => objects::list(&os, &t.bucket, &q),
        ("o", Some(o), &Method::PUT) => objects::put(&os, &t.bucket, o, &headers, body),
        ("o", Some(o), &Method::GET | &Method::HEAD) => objects::get(&os, &t.bucket, o, &headers),
        ("o", Some(o), &Method::DELETE) => objects::delete(&os, &t.bucket, o),
        ("u", None, &Method::POST) => multipart::create(&os, &t.bucket, &body),
        ("u", None, &Method::GET) => multipart::list(&os, &t.bucket),
        ("u", Some(o), &Method::PUT) => {
            multipart::upload_part(&os, &t.bucket, o, &q, &headers, body)
        }
        ("u", Some(o), &Method::POST) => multipart::commit(&os, &t.bucket, o, &q, &body),
        ("u", Some(o), &Method::DELETE) => multipart::abort(&os, &t.bucket, o, &q),
        ("p", None, &Method::POST) => par::create(&os, &t.bucket, &body),
        ("p", Some(id), &Method::DELETE) => par::delete(&os, &t.bucket, id),
        ("o" | "u" | "p" | "", _, _) => method_not_allowed(&os),
        _ => not_found_route(&os),
    }
}

fn get_bucket(os: &Os, bucket: &str) -> Response {
    let exists = lock(&os.data).buckets.contains_key(bucket);
    if !exists {
        return os.bucket_not_found(bucket);
    }
    os.json(serde_json::json!({
        "namespace": os.namespace,
        "name": bucket,
        "compartmentId": "ocid1.compartment.oc1..standin",
        "storageTier": "Standard",
        "publicAccessType": "NoPublicAccess",
    }))
}

fn method_not_allowed(os: &Os) -> Response {
    os.error(
        405,
        "MethodNotAllowed",
        "The target resource does not support this HTTP method",
    )
}

fn not_found_route(os: &Os) -> Response {
    os.error(
        404,
        "NotFound",
        "There is no operation supported at the URI path and HTTP method you specified in the request",
    )
}

/// 411 unless the request declared its length (OCI refuses chunked uploads).
fn require_length(os: &Os, headers: &HeaderMap) -> Result<(), Response> {
    if headers.contains_key("content-length") {
        Ok(())
    } else {
        Err(os.error(
            411,
            "LengthRequired",
            "A Content-Length header is required for uploads",
        ))
    }
}

/// Parses a JSON request body; 400 `CannotParseRequest` otherwise.
fn parse_json<T: serde::de::DeserializeOwned>(os: &Os, body: &[u8]) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|e| {
        os.error(
            400,
            "CannotParseRequest",
            &format!("The request is incorrectly formatted: {e}"),
        )
    })
}

fn empty(status: StatusCode, headers: HeaderMap) -> Response {
    (status, headers, Body::empty()).into_response()
}
