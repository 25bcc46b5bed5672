//! A stand-in of OCI Streaming (`/20180418/streams/…`), served by [`super::Standin`]: GetStream
//! (its messages endpoint is the stand-in itself), CreateGroupCursor, GetMessages, ConsumerCommit
//! and PutMessages. Like the real service it verifies every request's signature (POST bodies
//! hashed), keeps each consumer group's committed offset, starts a group cursor after that
//! offset (a new group: `TRIM_HORIZON` the oldest message, `LATEST` the next one), and with
//! `commitOnGet` (the API's default) commits what the previous GetMessages returned. Each
//! stream has one partition, `"0"`. Messages are never trimmed.

// Handlers return a ready error `Response` from their helpers; boxing it buys nothing here.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine as _;

use super::objectstorage::Clock;
use super::verify::{KeyRegistry, Rejection, VerifyOptions};

/// Handle on the stand-in's streams; clones share it.
#[derive(Clone)]
pub struct StreamingStandin {
    st: Arc<St>,
}

struct St {
    keys: KeyRegistry,
    clock: Clock,
    base_url: Mutex<String>,
    streams: Mutex<HashMap<String, Stream>>,
    rejections: Mutex<Vec<Rejection>>,
    serial: AtomicU64,
    commits: AtomicUsize,
    gets: AtomicUsize,
    /// Offsets GetMessages returned, in order.
    delivered: Mutex<Vec<usize>>,
}

#[derive(Default)]
struct Stream {
    /// Message values (offset = index).
    messages: Vec<Vec<u8>>,
    /// group → the offset of the first message not yet committed.
    committed: HashMap<String, usize>,
}

/// What a cursor stands for (it travels base64-encoded JSON, opaque to clients).
#[derive(serde::Serialize, serde::Deserialize)]
struct CursorState {
    stream: String,
    group: Option<String>,
    offset: usize,
    commit_on_get: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn encode(c: &CursorState) -> String {
    base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(c).unwrap_or_default())
}

impl StreamingStandin {
    pub(crate) fn new(keys: KeyRegistry, clock: Clock) -> Self {
        StreamingStandin {
            st: Arc::new(St {
                keys,
                clock,
                base_url: Mutex::new(String::new()),
                streams: Mutex::new(HashMap::new()),
                rejections: Mutex::new(Vec::new()),
                serial: AtomicU64::new(0),
                commits: AtomicUsize::new(0),
                gets: AtomicUsize::new(0),
                delivered: Mutex::new(Vec::new()),
            }),
        }
    }

    pub(crate) fn router(&self) -> Router {
        Router::new()
            .route("/20180418/streams/{id}", get(get_stream))
            .route("/20180418/streams/{id}/groupCursors", post(group_cursor))
            .route(
                "/20180418/streams/{id}/messages",
                get(get_messages).post(put_messages),
            )
            .route("/20180418/streams/{id}/commit", post(commit))
            .with_state(self.st.clone())
    }

    pub(crate) fn set_base_url(&self, url: &str) {
        *lock(&self.st.base_url) = url.to_string();
    }

    /// Creates an empty stream (no-op if it exists).
    pub fn create_stream(&self, id: &str) {
        lock(&self.st.streams).entry(id.to_string()).or_default();
    }

    /// Appends a message as OCI Events would; returns its offset.
    pub fn publish(&self, id: &str, value: &[u8]) -> usize {
        let mut streams = lock(&self.st.streams);
        let s = streams.entry(id.to_string()).or_default();
        s.messages.push(value.to_vec());
        s.messages.len() - 1
    }

    /// The offset of `group`'s first uncommitted message, if it ever committed.
    pub fn committed(&self, id: &str, group: &str) -> Option<usize> {
        lock(&self.st.streams)
            .get(id)
            .and_then(|s| s.committed.get(group).copied())
    }

    /// ConsumerCommit calls answered so far.
    pub fn commits(&self) -> usize {
        self.st.commits.load(Ordering::SeqCst)
    }

    /// GetMessages calls answered so far.
    pub fn gets(&self) -> usize {
        self.st.gets.load(Ordering::SeqCst)
    }

    /// The offsets GetMessages returned so far, in order (a redelivered message twice).
    pub fn delivered(&self) -> Vec<usize> {
        lock(&self.st.delivered).clone()
    }

    /// Every request refused so far.
    pub fn rejections(&self) -> Vec<Rejection> {
        lock(&self.st.rejections).clone()
    }
}

impl St {
    fn headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        let id = format!(
            "standin-streaming/{}",
            self.serial.fetch_add(1, Ordering::SeqCst)
        );
        if let Ok(v) = HeaderValue::from_str(&id) {
            h.insert("opc-request-id", v);
        }
        h.insert("content-type", HeaderValue::from_static("application/json"));
        h
    }

    fn error(&self, status: u16, code: &str, message: &str) -> Response {
        super::error_response(status, code, message, (self.clock)())
    }

    fn reject(&self, r: Rejection) -> Response {
        let resp = self.error(r.status, r.code, &r.message);
        lock(&self.rejections).push(r);
        resp
    }

    fn invalid(&self, message: impl Into<String>) -> Response {
        self.reject(Rejection {
            status: 400,
            code: "InvalidParameter",
            message: message.into(),
        })
    }

    fn not_found(&self) -> Response {
        self.error(
            404,
            "NotAuthorizedOrNotFound",
            "Authorization failed or requested resource not found.",
        )
    }

    fn json(&self, value: &serde_json::Value, extra: Option<(&'static str, String)>) -> Response {
        let mut h = self.headers();
        if let Some((name, v)) = extra {
            if let Ok(v) = HeaderValue::from_str(&v) {
                h.insert(name, v);
            }
        }
        (StatusCode::OK, h, value.to_string()).into_response()
    }

    fn verify(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), Response> {
        let opts = VerifyOptions {
            now: (self.clock)(),
            ..Default::default()
        };
        let target = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        self.keys
            .verify(method, target, headers, Some(body), &opts)
            .map(|_| ())
            .map_err(|r| self.reject(r))
    }

    fn cursor(&self, stream: &str, raw: Option<&String>) -> Result<CursorState, Response> {
        let raw = raw.ok_or_else(|| self.invalid("cursor is required"))?;
        let c = base64::engine::general_purpose::STANDARD
            .decode(raw.as_bytes())
            .ok()
            .and_then(|b| serde_json::from_slice::<CursorState>(&b).ok())
            .ok_or_else(|| self.invalid("the cursor is not valid"))?;
        if c.stream != stream {
            return Err(self.invalid("the cursor belongs to another stream"));
        }
        Ok(c)
    }
}

async fn get_stream(
    State(st): State<Arc<St>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = st.verify(&method, &uri, &headers, &[]) {
        return r;
    }
    if !lock(&st.streams).contains_key(&id) {
        return st.not_found();
    }
    let endpoint = lock(&st.base_url).clone();
    st.json(
        &serde_json::json!({
            "id": id, "name": "standin", "partitions": 1, "retentionInHours": 24,
            "lifecycleState": "ACTIVE", "messagesEndpoint": endpoint,
            "compartmentId": "ocid1.compartment.oc1..standin",
        }),
        None,
    )
}

async fn group_cursor(
    State(st): State<Arc<St>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = st.verify(&method, &uri, &headers, &body) {
        return r;
    }
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return st.invalid("the body is not JSON");
    };
    let Some(group) = v["groupName"].as_str().filter(|g| !g.is_empty()) else {
        return st.invalid("groupName is required");
    };
    let kind = v["type"].as_str().unwrap_or_default();
    if !matches!(kind, "TRIM_HORIZON" | "LATEST") {
        return st.invalid("type must be TRIM_HORIZON or LATEST (AT_TIME is not in the stand-in)");
    }
    let commit_on_get = v["commitOnGet"].as_bool().unwrap_or(true);
    let offset = {
        let mut streams = lock(&st.streams);
        let Some(s) = streams.get_mut(&id) else {
            return st.not_found();
        };
        let start = if kind == "LATEST" {
            s.messages.len()
        } else {
            0
        };
        *s.committed.entry(group.to_string()).or_insert(start)
    };
    let cursor = encode(&CursorState {
        stream: id,
        group: Some(group.to_string()),
        offset,
        commit_on_get,
    });
    st.json(&serde_json::json!({ "value": cursor }), None)
}

async fn get_messages(
    State(st): State<Arc<St>>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = st.verify(&method, &uri, &headers, &[]) {
        return r;
    }
    let c = match st.cursor(&id, q.get("cursor")) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let limit = match q.get("limit").map(|l| l.parse::<usize>()) {
        None => 10_000,
        Some(Ok(l)) if (1..=10_000).contains(&l) => l,
        Some(_) => return st.invalid("limit must be between 1 and 10000"),
    };
    let (items, next) = {
        let mut streams = lock(&st.streams);
        let Some(s) = streams.get_mut(&id) else {
            return st.not_found();
        };
        if let (true, Some(g)) = (c.commit_on_get, &c.group) {
            s.committed.insert(g.clone(), c.offset);
        }
        let b64 = base64::engine::general_purpose::STANDARD;
        let items: Vec<serde_json::Value> = s
            .messages
            .iter()
            .enumerate()
            .skip(c.offset)
            .take(limit)
            .map(|(offset, v)| {
                serde_json::json!({
                    "stream": id, "partition": "0", "key": null, "value": b64.encode(v),
                    "offset": offset, "timestamp": (st.clock)().to_rfc3339(),
                })
            })
            .collect();
        let next = c.offset + items.len();
        lock(&st.delivered).extend(c.offset..next);
        (items, next)
    };
    st.gets.fetch_add(1, Ordering::SeqCst);
    let next = encode(&CursorState { offset: next, ..c });
    st.json(
        &serde_json::Value::Array(items),
        Some(("opc-next-cursor", next)),
    )
}

async fn commit(
    State(st): State<Arc<St>>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = st.verify(&method, &uri, &headers, &body) {
        return r;
    }
    let c = match st.cursor(&id, q.get("cursor")) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Some(group) = c.group.clone() else {
        return st.invalid("only a group cursor can be committed");
    };
    {
        let mut streams = lock(&st.streams);
        let Some(s) = streams.get_mut(&id) else {
            return st.not_found();
        };
        s.committed.insert(group, c.offset);
    }
    st.commits.fetch_add(1, Ordering::SeqCst);
    st.json(&serde_json::json!({ "value": encode(&c) }), None)
}

async fn put_messages(
    State(st): State<Arc<St>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = st.verify(&method, &uri, &headers, &body) {
        return r;
    }
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return st.invalid("the body is not JSON");
    };
    let Some(messages) = v["messages"].as_array() else {
        return st.invalid("messages is required");
    };
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut values = Vec::new();
    for m in messages {
        match m["value"].as_str().and_then(|s| b64.decode(s).ok()) {
            Some(value) => values.push(value),
            None => return st.invalid("every message needs a base64 value"),
        }
    }
    let entries: Vec<serde_json::Value> = {
        let mut streams = lock(&st.streams);
        let Some(s) = streams.get_mut(&id) else {
            return st.not_found();
        };
        values
            .into_iter()
            .map(|value| {
                s.messages.push(value);
                serde_json::json!({"partition": "0", "offset": s.messages.len() - 1})
            })
            .collect()
    };
    st.json(
        &serde_json::json!({"failures": 0, "entries": entries}),
        None,
    )
}
