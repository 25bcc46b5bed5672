//! The middleware stack shared by every route: request ids, tracing, metrics, CORS, panics as
//! JSON 500s, and a JSON 404 for unknown paths.

use crate::error::ApiError;
use axum::http::{header, HeaderName, Request};
use axum::response::IntoResponse;
use axum::Router;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{Any, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn wrap(router: Router) -> Router {
    let trace = TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
        let id = req
            .headers()
            .get(&REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        // Only the path: query strings may carry tokens.
        tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
    });
    // Bearer tokens, not cookies, so any origin may call the API; players on other origins need
    // Range and the exposed length/range headers.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods(Any)
        .allow_headers(Any)
        .expose_headers(
            [
                header::CONTENT_LENGTH,
                header::CONTENT_RANGE,
                header::ACCEPT_RANGES,
                header::ETAG,
                REQUEST_ID,
            ]
            .into_iter()
            .chain(super::tus::EXPOSED_HEADERS)
            .collect::<Vec<_>>(),
        )
        .max_age(Duration::from_secs(3600));

    router
        .fallback(|| async { ApiError::NotFound("no such endpoint".into()) })
        .layer(axum::middleware::from_fn(crate::metrics::track))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::Internal("handler panicked".into()).into_response()
        }))
        .layer(cors)
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(trace)
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}
