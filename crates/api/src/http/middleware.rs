//! The middleware stack shared by every route: request ids, tracing, metrics, CORS, panics as
//! JSON 500s, and a JSON 404 for unknown paths.
//!
//! Cost matters here: a playlist answered from memory takes a few microseconds, so the stack
//! must not take more. `Router::layer` wraps every route in each layer separately (boxed and
//! cloned per request), so only the metrics layer, which needs the matched route, is applied
//! per route; everything else is one service ([`super::edge`]) around the finished router —
//! served as it is, not wrapped in another `Router` (whose fallback route would be boxed and
//! cloned per request).

use super::edge::{Edge, EdgeConfig, REQUEST_ID};
use crate::error::ApiError;
use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use axum::Router;
use std::time::Duration;
use tower_http::cors::{Any, CorsLayer};

pub(crate) fn wrap(router: Router) -> Edge<Router> {
    // Bearer tokens, not cookies, so any origin may call the API; players on other origins need
    // Range and the exposed length/range headers. Every answer is the same for every origin
    // (`*` throughout), so there is nothing for a `Vary` header to name.
    let exposed: Vec<String> = [
        header::CONTENT_LENGTH,
        header::CONTENT_RANGE,
        header::ACCEPT_RANGES,
        header::ETAG,
        REQUEST_ID,
    ]
    .iter()
    .chain(super::tus::EXPOSED_HEADERS.iter())
    .map(|h| h.as_str().to_string())
    .collect();
    let preflights = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods(Any)
        .allow_headers(Any)
        .max_age(Duration::from_secs(3600))
        .vary([]);

    let routed = router
        .fallback(|| async { ApiError::NotFound("no such endpoint".into()) })
        .layer(crate::metrics::TrackLayer);
    Edge::new(
        routed,
        EdgeConfig {
            cors: preflights,
            // Header names are ASCII tokens: the joined list is a valid value.
            expose_headers: HeaderValue::from_str(&exposed.join(","))
                .unwrap_or(HeaderValue::from_static("*")),
            on_panic: || ApiError::Internal("handler panicked".into()).into_response(),
        },
    )
}
