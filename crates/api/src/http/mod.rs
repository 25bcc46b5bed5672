//! The HTTP layer's routes and what they share. One module per resource (its handlers and
//! request types); the shared parts each in their own module.

// Routes, one module per resource.
pub(crate) mod accounts; // registration, login, token refresh and revocation, password change
pub(crate) mod admin; // users (with storage used), invitations, the jobs view: admins only
pub(crate) mod analytics; // viewer beacons (no login) and an item's viewing report (its owner)
pub(crate) mod api_keys; // API keys: create, list, revoke; expiry and scopes
pub(crate) mod clips; // clips: a new item from a time range of another
pub(crate) mod direct; // direct uploads: a time-limited URL to PUT the file to, then completion
pub(crate) mod downloads; // MP4/M4A downloads of an item, as attachments named after its title
pub(crate) mod embeds; // the embed page other sites frame, and oEmbed
pub(crate) mod events; // bucket notifications (OCI Events, S3) that turn new objects into items
pub(crate) mod media; // items: one-request upload, list, read, change, delete, the original
pub(crate) mod ops; // health, readiness, metrics
pub(crate) mod pictures; // thumbnails at any time and size, animated previews, rendered on demand
pub(crate) mod playback; // HLS/DASH/images of an item, playback tokens, the public listing
pub(crate) mod shared; // what a signed playback link opens: the item behind a playback token
pub(crate) mod text_tracks; // captions and subtitles of an item: upload, list, delete
pub(crate) mod tus; // resumable uploads (tus 1.0.0)
pub(crate) mod web; // the web page
pub(crate) mod webhooks; // webhook deliveries (admin): the outbox, attempts, redelivery

// Shared by the routes.
mod access; // who may see or change an item
pub(crate) mod caller; // who is calling: the bearer credential as an extractor
mod forwarded; // who the client is and how it reached us, believing only trusted proxies
mod library; // the library list's query (search, filters, sort) and its keyset cursor
mod objects; // serving stored bytes: ranges, ETags, conditional requests
mod paging; // limit, cursor and the next page's cursor of item lists
mod path_id; // typed ids in route paths: a malformed id is the 404 an unknown one gets
mod pending_uploads; // the cap on a user's unfinished tus and direct uploads
pub(crate) mod text; // text fields from clients: control characters refused
mod views; // the JSON views of items (with signed playback URLs)

// Around every route.
pub(crate) mod edge; // the outermost service: request ids, CORS, panics, tracing
pub(crate) mod middleware; // the layer stack

use crate::error::ApiError;
use axum::extract::{FromRequest, Request};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Deserialize;

pub(crate) use forwarded::{BaseUrl, ClientIp};

/// A JSON body (`Content-Type: application/json`) as `T`, whose rejections are our JSON 400s.
/// The body must be a JSON object: see [`object_into`].
pub(crate) struct ApiJson<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // axum's extractor checks the content type and the syntax (and the size limit).
        let axum::Json(value) = axum::Json::<serde_json::Value>::from_request(req, state).await?;
        object_into(value).map(ApiJson)
    }
}

/// An optional JSON object body: none, or `null`, is `T::default()`.
pub(crate) fn optional_json_object<T: DeserializeOwned + Default>(
    body: &[u8],
) -> Result<T, ApiError> {
    if body.is_empty() {
        return Ok(T::default());
    }
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))?;
    if value.is_null() {
        return Ok(T::default());
    }
    object_into(value)
}

/// serde `deserialize_with` for a count in a JSON body: JSON Schema's `integer` (what the
/// document says) includes `5.0`, which serde's `u64` refuses.
pub(crate) fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    n.as_u64()
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < u64::MAX as f64)
                .map(|f| f as u64)
        })
        .ok_or_else(|| serde::de::Error::custom(format!("{n} is not a whole number from 0")))
}

/// [`whole_number`] for an optional field (use with `#[serde(default)]`).
pub(crate) fn optional_whole_number<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<u64>, D::Error> {
    match Option::<serde_json::Number>::deserialize(d)? {
        None => Ok(None),
        Some(n) => whole_number(n).map(Some).map_err(serde::de::Error::custom),
    }
}

/// `value` as `T`, which every request body of this API is an object of. serde would also build
/// a struct from a JSON array of its fields in order (`[null]`, `["a.mp4", 5]`), which the
/// documented schema does not allow: anything but an object is a 400.
pub(crate) fn object_into<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    if !value.is_object() {
        return Err(ApiError::BadRequest(
            "invalid JSON body: expected a JSON object".into(),
        ));
    }
    // The path names the field at fault (`scopes[1]: unknown variant ...`).
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        ApiError::BadRequest(if path == "." {
            format!("invalid JSON body: {}", e.inner())
        } else {
            format!("{path}: {}", e.inner())
        })
    })
}

/// The whole body as bytes, whose rejections are our JSON errors (a body over the limit: 413).
pub(crate) struct ApiBytes(pub(crate) Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(ApiBytes(Bytes::from_request(req, state).await?))
    }
}
