//! The middleware stack shared by every route: request ids, tracing, metrics, CORS, panics as
//! JSON 500s, and a JSON 404 for unknown paths.
//!
//! Cost matters here: a playlist answered from memory takes a few microseconds, so the stack
//! must not take more. `Router::layer` wraps every route in each layer separately, boxing and
//! cloning every layer on every request; so only the metrics layer (which needs the matched
//! route) is applied per route, and the rest wraps the finished router once.

use crate::error::ApiError;
use axum::http::{header, HeaderName, HeaderValue, Method, Request, Response};
use axum::response::IntoResponse;
use axum::Router;
use futures::future::Either;
use std::task::{Context, Poll};
use std::time::Duration;
use tower::{Layer, Service, ServiceBuilder};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{Any, Cors, CorsLayer};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Random (v4) UUIDs from the thread's RNG. tower-http's `MakeRequestUuid` asks the kernel for
/// randomness on every request, a system call per request for an id that only has to be unique.
#[derive(Clone, Copy, Default)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
        let mut buf = uuid::Uuid::encode_buffer();
        HeaderValue::from_str(id.hyphenated().encode_lower(&mut buf))
            .ok()
            .map(RequestId::new)
    }
}

/// CORS for cross-origin requests and their preflights. An OPTIONS request without
/// `Access-Control-Request-Method` is not a preflight (Fetch standard) — tus discovery is one —
/// but tower-http's layer answers every OPTIONS as one; such requests go to the routes instead.
#[derive(Clone)]
struct CorsExceptPlainOptions(CorsLayer);

impl<S: Clone> Layer<S> for CorsExceptPlainOptions {
    type Service = CorsExceptPlainOptionsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CorsExceptPlainOptionsService {
            cors: self.0.layer(inner.clone()),
            plain: inner,
        }
    }
}

#[derive(Clone)]
struct CorsExceptPlainOptionsService<S> {
    cors: Cors<S>,
    plain: S,
}

impl<S, B, R> Service<Request<B>> for CorsExceptPlainOptionsService<S>
where
    S: Service<Request<B>, Response = Response<R>> + Clone,
    R: Default,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = Either<<Cors<S> as Service<Request<B>>>::Future, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        // Both wrap the same kind of service; an axum router is always ready.
        match self.cors.poll_ready(cx) {
            Poll::Ready(Ok(())) => self.plain.poll_ready(cx),
            other => other,
        }
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let plain_options = req.method() == Method::OPTIONS
            && !req
                .headers()
                .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
        if plain_options {
            Either::Right(self.plain.call(req))
        } else {
            Either::Left(self.cors.call(req))
        }
    }
}

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
    // Range and the exposed length/range headers. Every answer is the same for every origin
    // (`*` throughout), so there is nothing for a `Vary` header to name.
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
        .max_age(Duration::from_secs(3600))
        .vary([]);

    let routed = router
        .fallback(|| async { ApiError::NotFound("no such endpoint".into()) })
        .layer(crate::metrics::TrackLayer);
    let stack = ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(REQUEST_ID, RandomRequestId))
        .layer(trace)
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(CorsExceptPlainOptions(cors))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::Internal("handler panicked".into()).into_response()
        }))
        .service(routed);
    Router::new().fallback_service(stack)
}
