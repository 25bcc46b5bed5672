//! Prometheus metrics: requests by route and status and a latency histogram (bytes uploaded
//! are counted by `mediaserver-ingest`, into the same recorder).

use axum::extract::{MatchedPath, Request};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use metrics::SharedString;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{ready, Context, Poll};
use std::time::Instant;
use tower::{Layer, Service};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process-wide recorder (the `metrics` facade is global, so every app in a process —
/// e.g. several test servers — shares it). `None` if another recorder was installed first.
pub(crate) fn handle() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let buckets = [
                0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
            ];
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".into()),
                    &buckets,
                )
                .ok()?
                .install_recorder()
                .ok()
        })
        .clone()
}

/// Middleware: count and time every request, labelled by its route template (not the raw path,
/// which would explode label cardinality). A plain tower layer rather than `from_fn`, which
/// boxes the inner service and the future of every request; the metric handles are kept per
/// thread and label set, so recording a request neither allocates nor looks up the registry.
#[derive(Clone, Copy, Default)]
pub(crate) struct TrackLayer;

impl<S> Layer<S> for TrackLayer {
    type Service = Track<S>;

    fn layer(&self, inner: S) -> Track<S> {
        Track { inner }
    }
}

#[derive(Clone)]
pub(crate) struct Track<S> {
    inner: S,
}

impl<S> Service<Request> for Track<S>
where
    S: Service<Request, Response = Response>,
    S::Future: Unpin,
{
    type Response = Response;
    type Error = S::Error;
    type Future = TrackFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        TrackFuture {
            method: req.method().clone(),
            route: req.extensions().get::<MatchedPath>().cloned(),
            started: Instant::now(),
            inner: self.inner.call(req),
        }
    }
}

pub(crate) struct TrackFuture<F> {
    inner: F,
    method: Method,
    route: Option<MatchedPath>,
    started: Instant,
}

impl<F, E> Future for TrackFuture<F>
where
    F: Future<Output = Result<Response, E>> + Unpin,
{
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let out = ready!(Pin::new(&mut self.inner).poll(cx));
        if let Ok(resp) = &out {
            let route = self.route.as_ref().map_or("unmatched", |p| p.as_str());
            record(
                &self.method,
                route,
                resp.status(),
                self.started.elapsed().as_secs_f64(),
            );
        }
        Poll::Ready(out)
    }
}

/// The handles of one label set.
struct Handles {
    method: Method,
    status: StatusCode,
    count: metrics::Counter,
    duration: metrics::Histogram,
}

thread_local! {
    /// Route template → handles by method and status. Bounded: routes, methods and statuses
    /// are finite (unknown paths share "unmatched"; other methods are not kept).
    static HANDLES: RefCell<HashMap<Box<str>, Vec<Handles>>> = RefCell::default();
}

fn record(method: &Method, route: &str, status: StatusCode, seconds: f64) {
    let Some(method_label) = method_label(method) else {
        // A non-standard method: rare, recorded without keeping handles.
        let m = SharedString::from_owned(method.as_str().to_string());
        let r = SharedString::from_owned(route.to_string());
        metrics::counter!("http_requests_total", "method" => m.clone(), "route" => r.clone(),
            "status" => status_label(status))
        .increment(1);
        metrics::histogram!("http_request_duration_seconds", "method" => m, "route" => r)
            .record(seconds);
        return;
    };
    HANDLES.with_borrow_mut(|handles| {
        let per_route = match handles.get_mut(route) {
            Some(v) => v,
            None => handles.entry(route.into()).or_default(),
        };
        let h = match per_route
            .iter()
            .position(|h| h.method == *method && h.status == status)
        {
            Some(i) => &per_route[i],
            None => {
                let r = SharedString::from_owned(route.to_string());
                per_route.push(Handles {
                    method: method.clone(),
                    status,
                    count: metrics::counter!("http_requests_total",
                        "method" => method_label, "route" => r.clone(),
                        "status" => status_label(status)),
                    duration: metrics::histogram!("http_request_duration_seconds",
                        "method" => method_label, "route" => r),
                });
                &per_route[per_route.len() - 1]
            }
        };
        h.count.increment(1);
        h.duration.record(seconds);
    });
}

fn method_label(m: &Method) -> Option<&'static str> {
    const KNOWN: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
    KNOWN.iter().find(|k| **k == m.as_str()).copied()
}

/// "100" … "599" as static strings, made once.
fn status_label(status: StatusCode) -> SharedString {
    static LABELS: OnceLock<Vec<String>> = OnceLock::new();
    let labels = LABELS.get_or_init(|| (100..600).map(|c| c.to_string()).collect());
    match labels.get(usize::from(status.as_u16()).wrapping_sub(100)) {
        Some(l) => SharedString::from_borrowed(l.as_str()),
        None => SharedString::from_owned(status.as_str().to_string()),
    }
}
