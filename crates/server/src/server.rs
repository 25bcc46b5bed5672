//! The HTTP server's lifecycle: bind, serve (with the sweeper of expired uploads), stop
//! gracefully on a signal.

use crate::config::Config;
use anyhow::Context;
use mediaserver_api::AppState;
use std::future::Future;
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// A bound, not yet running server.
pub struct Server {
    listener: TcpListener,
    app: mediaserver_api::App,
    state: AppState,
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
        let sweeper = self.state.ingest.spawn_sweeper(interval);
        let served = axum::serve(
            self.listener,
            axum::ServiceExt::into_make_service_with_connect_info::<SocketAddr>(self.app),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving HTTP");
        sweeper.abort();
        served
    }
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
