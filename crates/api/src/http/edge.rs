//! What every request gets on its way in and out — request id, tracing span and logs, CORS
//! headers, a 500 instead of a panic — as one service with one future.
//!
//! Why not tower-http's `SetRequestId`, `Trace`, `PropagateRequestId`, `Cors` and `CatchPanic`
//! stacked: a playlist answered from memory costs a few microseconds, and those five layers,
//! each with its own future, body wrapper and per-request clone, cost more than that (measured
//! with wrk on loopback in a test program: a bare axum route did ~105k requests/s, ~66k under
//! those layers and a `from_fn` metrics layer, ~88k under this and `metrics::TrackLayer`). This
//! does the same work once: tower-http's `Cors` still answers real preflights, and the logs
//! are the ones `TraceLayer`'s defaults write.

use axum::body::Body;
use axum::http::{header, HeaderName, HeaderValue, Method, Request, Response};
use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use tower::{Layer, Service};
use tower_http::cors::CorsLayer;
use tracing::Span;

pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Shared, read-only configuration of [`Edge`].
pub(crate) struct EdgeConfig {
    /// Answers preflights (`OPTIONS` with `Access-Control-Request-Method`).
    pub(crate) cors: CorsLayer,
    /// `Access-Control-Expose-Headers` of every other answer (all origins are allowed).
    pub(crate) expose_headers: HeaderValue,
    /// The answer to a request whose handler panicked.
    pub(crate) on_panic: fn() -> Response<Body>,
}

#[derive(Clone)]
pub struct Edge<S> {
    inner: S,
    config: Arc<EdgeConfig>,
}

impl<S> Edge<S> {
    pub(crate) fn new(inner: S, config: EdgeConfig) -> Self {
        Edge {
            inner,
            config: Arc::new(config),
        }
    }
}

/// A request path as logged: the playback token in `/v1/play/{token}/…` is a bearer credential
/// for its item, so it is replaced by `-`.
struct LoggedPath<'a>(&'a str);

impl std::fmt::Display for LoggedPath<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.strip_prefix("/v1/play/") {
            Some(rest) => match rest.split_once('/') {
                Some((_, file)) => write!(f, "/v1/play/-/{file}"),
                None => f.write_str("/v1/play/-"),
            },
            None => f.write_str(self.0),
        }
    }
}

/// A random (v4) UUID from the thread's RNG (`Uuid::new_v4` makes a system call each time).
fn new_request_id() -> HeaderValue {
    let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
    let mut buf = uuid::Uuid::encode_buffer();
    HeaderValue::from_str(id.hyphenated().encode_lower(&mut buf))
        .unwrap_or(HeaderValue::from_static("-"))
}

impl<S> Service<Request<Body>> for Edge<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible> + Clone,
    S::Future: Unpin,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = EdgeFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<Body>) -> Self::Future {
        let started = Instant::now();
        let request_id = match req.headers().get(&REQUEST_ID) {
            Some(id) => id.clone(),
            None => {
                let id = new_request_id();
                req.headers_mut().insert(REQUEST_ID, id.clone());
                id
            }
        };
        // Only the path: query strings may carry tokens, and `/v1/play/{token}/…` carries one in
        // the path (see `LoggedPath`). (Fields are only formatted if the span is enabled.)
        let span = tracing::info_span!("request",
            request_id = %request_id.to_str().unwrap_or("-"),
            method = %req.method(),
            path = %LoggedPath(req.uri().path()));
        let preflight = req.method() == Method::OPTIONS
            && req
                .headers()
                .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
        let kind = {
            let _entered = span.enter();
            tracing::debug!("started processing request");
            // A panic while the handler builds its future is caught like one while it runs.
            let call = std::panic::catch_unwind(AssertUnwindSafe(|| {
                if preflight {
                    let mut cors = self.config.cors.layer(self.inner.clone());
                    Kind::Preflight(cors.call(req))
                } else {
                    Kind::Request(self.inner.call(req))
                }
            }));
            call.unwrap_or(Kind::Panicked)
        };
        EdgeFuture {
            kind,
            span,
            started,
            request_id,
            config: self.config.clone(),
        }
    }
}

pub enum Kind<F> {
    Request(F),
    Preflight(tower_http::cors::ResponseFuture<F>),
    Panicked,
}

pub struct EdgeFuture<F> {
    kind: Kind<F>,
    span: Span,
    started: Instant,
    request_id: HeaderValue,
    config: Arc<EdgeConfig>,
}

impl<F> Future for EdgeFuture<F>
where
    F: Future<Output = Result<Response<Body>, Infallible>> + Unpin,
{
    type Output = Result<Response<Body>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let _entered = this.span.enter();
        let polled = std::panic::catch_unwind(AssertUnwindSafe(|| match &mut this.kind {
            Kind::Request(f) => Pin::new(f).poll(cx).map(|r| (r, true)),
            Kind::Preflight(f) => Pin::new(f).poll(cx).map(|r| (r, false)),
            Kind::Panicked => Poll::Ready((Ok((this.config.on_panic)()), true)),
        }));
        let (mut resp, actual) = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready((Ok(resp), actual))) => (resp, actual),
            Ok(Poll::Ready((Err(never), _))) => match never {},
            Err(_) => ((this.config.on_panic)(), true),
        };
        let headers = resp.headers_mut();
        if actual {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
            headers.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                this.config.expose_headers.clone(),
            );
        }
        if !headers.contains_key(&REQUEST_ID) {
            headers.insert(REQUEST_ID, this.request_id.clone());
        }
        // TraceLayer's default events: DEBUG when done, ERROR for a 5xx.
        let latency = this.started.elapsed();
        let status = resp.status();
        if status.is_server_error() {
            tracing::error!(latency = %format_args!("{} ms", latency.as_millis()),
                classification = %format_args!("Status code: {status}"), "response failed");
        } else {
            tracing::debug!(latency = %format_args!("{} ms", latency.as_millis()),
                status = status.as_u16(), "finished processing request");
        }
        Poll::Ready(Ok(resp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    #[test]
    fn logged_paths_leave_out_playback_tokens() {
        let logged = |p: &str| LoggedPath(p).to_string();
        assert_eq!(
            logged("/v1/play/eyJ.secret.sig/hls/master.m3u8"),
            "/v1/play/-/hls/master.m3u8"
        );
        assert_eq!(logged("/v1/play/eyJ.secret.sig"), "/v1/play/-");
        assert_eq!(
            logged("/v1/media/abc/hls/a.m3u8"),
            "/v1/media/abc/hls/a.m3u8"
        );
    }

    fn app() -> Router {
        let routes = Router::new()
            .route(
                "/ok",
                get(|| async { "ok" }).options(|| async { "discovery" }),
            )
            .route(
                "/panic",
                get(|| async {
                    if true {
                        panic!("boom");
                    }
                    "unreachable"
                }),
            )
            .route(
                "/id",
                get(|h: axum::http::HeaderMap| async move {
                    h.get(REQUEST_ID)
                        .map(|v| v.to_str().unwrap().to_string())
                        .unwrap_or_default()
                }),
            );
        Router::new().fallback_service(Edge::new(
            routes,
            EdgeConfig {
                cors: CorsLayer::new()
                    .allow_origin(tower_http::cors::Any)
                    .allow_methods(tower_http::cors::Any),
                expose_headers: HeaderValue::from_static("etag,x-request-id"),
                on_panic: || {
                    Response::builder()
                        .status(500)
                        .body(Body::from("panicked"))
                        .unwrap()
                },
            },
        ))
    }

    async fn send(req: Request<Body>) -> (Response<()>, String) {
        let resp = app().oneshot(req).await.unwrap();
        let (parts, body) = resp.into_parts();
        let bytes = http_body_util::BodyExt::collect(body)
            .await
            .unwrap()
            .to_bytes();
        (
            Response::from_parts(parts, ()),
            String::from_utf8(bytes.to_vec()).unwrap(),
        )
    }

    #[tokio::test]
    async fn answers_carry_cors_headers_and_a_request_id() {
        let (resp, body) = send(Request::get("/ok").body(Body::empty()).unwrap()).await;
        assert_eq!(body, "ok");
        let h = resp.headers();
        assert_eq!(h["access-control-allow-origin"], "*");
        assert_eq!(h["access-control-expose-headers"], "etag,x-request-id");
        let id = h["x-request-id"].to_str().unwrap();
        assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 4);

        // The handler sees the id the response carries; a caller's own id is kept.
        let (resp, body) = send(Request::get("/id").body(Body::empty()).unwrap()).await;
        assert_eq!(resp.headers()["x-request-id"], body.as_str());
        let (resp, body) = send(
            Request::get("/id")
                .header("x-request-id", "mine-1")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(
            (
                resp.headers()["x-request-id"].to_str().unwrap(),
                body.as_str()
            ),
            ("mine-1", "mine-1")
        );
    }

    #[tokio::test]
    async fn preflights_are_answered_and_plain_options_reach_the_route() {
        let (resp, body) = send(
            Request::options("/ok")
                .header("origin", "https://player.example")
                .header("access-control-request-method", "PATCH")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(resp.status(), 200);
        assert_eq!(body, "");
        assert_eq!(resp.headers()["access-control-allow-origin"], "*");
        assert_eq!(resp.headers()["access-control-allow-methods"], "*");
        assert!(resp.headers().contains_key("x-request-id"));

        let (resp, body) = send(Request::options("/ok").body(Body::empty()).unwrap()).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(body, "discovery");
    }

    #[tokio::test]
    async fn a_panicking_handler_is_a_500_not_a_dropped_connection() {
        let (resp, body) = send(Request::get("/panic").body(Body::empty()).unwrap()).await;
        assert_eq!(resp.status(), 500);
        assert_eq!(body, "panicked");
        assert!(resp.headers().contains_key("x-request-id"));
        assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    }
}
