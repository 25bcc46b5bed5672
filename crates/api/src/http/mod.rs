//! The HTTP layer's routes and what they share. One module per resource (its handlers and
//! request types); the shared parts each in their own module.

// Routes, one module per resource.
pub(crate) mod accounts; // registration, login, token refresh and revocation, API keys
pub(crate) mod direct; // direct uploads: a time-limited URL to PUT the file to, then completion
pub(crate) mod events; // bucket notifications (OCI Events, S3) that turn new objects into items
pub(crate) mod media; // items: one-request upload, list, read, change, delete, the original
pub(crate) mod ops; // health, readiness, metrics
pub(crate) mod playback; // HLS/DASH/images of an item, playback tokens, the public listing
pub(crate) mod tus; // resumable uploads (tus 1.0.0)
pub(crate) mod web; // the web page
pub(crate) mod webhooks; // webhook deliveries (admin): the outbox, attempts, redelivery

// Shared by the routes.
mod access; // who may see or change an item
pub(crate) mod caller; // who is calling: the bearer credential as an extractor
mod forwarded; // who the client is and how it reached us, believing only trusted proxies
mod objects; // serving stored bytes: ranges, ETags, conditional requests
mod paging; // limit, cursor and the next page's cursor of item lists
mod path_id; // typed ids in route paths: a malformed id is the 404 an unknown one gets
mod pending_uploads; // the cap on a user's unfinished tus and direct uploads
mod text; // text fields from clients: control characters refused
mod views; // the JSON views of items (with signed playback URLs)

// Around every route.
pub(crate) mod edge; // the outermost service: request ids, CORS, panics, tracing
pub(crate) mod middleware; // the layer stack

use crate::error::ApiError;
use axum::extract::{FromRequest, Request};
use bytes::Bytes;

pub(crate) use forwarded::{BaseUrl, ClientIp};

/// `axum::Json` whose rejections are our JSON 400s.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub(crate) struct ApiJson<T>(pub(crate) T);

/// The whole body as bytes, whose rejections are our JSON errors (a body over the limit: 413).
pub(crate) struct ApiBytes(pub(crate) Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(ApiBytes(Bytes::from_request(req, state).await?))
    }
}
