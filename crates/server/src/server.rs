//! The HTTP server's lifecycle: bind, serve (with the sweeper of expired uploads), stop
//! gracefully on a signal.
//!
//! The accept loop is ours rather than `axum::serve`'s, which has no settings: clients that
//! never finish their headers (slowloris) must be disconnected, and the connections open at
//! once bounded (`HTTP_HEADER_TIMEOUT_SECONDS`, `HTTP_MAX_CONNECTIONS`).

use crate::config::Config;
use anyhow::Context;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use mediaserver_api::AppState;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// A bound, not yet running server.
pub struct Server {
    listener: TcpListener,
    app: mediaserver_api::App,
    state: AppState,
    header_timeout: Duration,
    max_connections: usize,
}

impl Server {
    pub async fn bind(config: &Config, state: AppState) -> anyhow::Result<Server> {
        let addr = SocketAddr::new(config.http.host, config.http.port);
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening on {addr} (HOST/PORT)"))?;
        Ok(Server {
            listener,
            app: mediaserver_api::app(state.clone()),
            state,
            header_timeout: config.http.header_timeout,
            max_connections: config.http.max_connections,
        })
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves until `shutdown` resolves, then stops accepting and lets in-flight requests finish.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        // Expired uploads are swept a few times per expiry period (at most once a minute).
        let interval = (self.state.settings.upload_expiry / 4).clamp(
            std::time::Duration::from_secs(1),
            std::time::Duration::from_secs(60),
        );
        let sweeper = self
            .state
            .ingest
            .spawn_sweeper(interval, self.state.output_store.clone());

        let mut builder = auto::Builder::new(TokioExecutor::new());
        // Every HTTP/1 request's headers, the first and those after it on a kept-alive
        // connection, must arrive within the timeout.
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_timeout);
        let builder = Arc::new(builder);
        let slots = Arc::new(Semaphore::new(self.max_connections));
        let graceful = GracefulShutdown::new();
        let mut full_since_warned: Option<Instant> = None;
        tokio::pin!(shutdown);
        loop {
            if slots.available_permits() == 0
                && full_since_warned.is_none_or(|t| t.elapsed() > Duration::from_secs(60))
            {
                tracing::warn!(
                    max = self.max_connections,
                    "connection limit reached (HTTP_MAX_CONNECTIONS); new connections wait"
                );
                full_since_warned = Some(Instant::now());
            }
            // A slot first, then the connection: over the limit, clients wait in the backlog.
            let slot = tokio::select! {
                slot = slots.clone().acquire_owned() => slot.context("connection slots")?,
                () = &mut shutdown => break,
            };
            let (stream, peer) = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        accept_failed(e).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let connection = Connection {
                app: self.app.clone(),
                builder: builder.clone(),
                header_timeout: self.header_timeout,
            };
            let watcher = graceful.watcher();
            tokio::spawn(async move {
                connection.serve(stream, peer, watcher).await;
                drop(slot);
            });
        }
        drop(self.listener);
        graceful.shutdown().await;
        sweeper.abort();
        Ok(())
    }
}

/// What serving one accepted connection needs.
struct Connection {
    app: mediaserver_api::App,
    builder: Arc<auto::Builder<TokioExecutor>>,
    header_timeout: Duration,
}

impl Connection {
    async fn serve(
        self,
        stream: TcpStream,
        peer: SocketAddr,
        watcher: hyper_util::server::graceful::Watcher,
    ) {
        let requested = Arc::new(AtomicBool::new(false));
        let app = self.app;
        let seen = requested.clone();
        let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            seen.store(true, Ordering::Relaxed);
            let mut req = req.map(Body::new);
            // Login throttling reads the peer address (as `into_make_service_with_connect_info`
            // would provide it).
            req.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(req)
        });
        let conn = self
            .builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service);
        tokio::select! {
            served = watcher.watch(conn) => {
                if let Err(e) = served {
                    tracing::trace!(%peer, error = %e, "connection ended with an error");
                }
            }
            // hyper's header timeout starts once it knows the protocol; a client that sends
            // nothing, or half an HTTP/2 preface, is closed here.
            () = first_request_deadline(&requested, self.header_timeout) => {
                tracing::debug!(%peer, "no request within the header timeout; connection closed");
            }
        }
    }
}

/// Resolves once `timeout` has passed without a request on the connection; never after one.
async fn first_request_deadline(requested: &AtomicBool, timeout: Duration) {
    tokio::time::sleep(timeout).await;
    if requested.load(Ordering::Relaxed) {
        std::future::pending::<()>().await;
    }
}

/// An accept error: a connection that failed before it was accepted is skipped; anything else
/// (out of file descriptors) is logged and waited out, as `axum::serve` does.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
