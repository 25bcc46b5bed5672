//! `mediaserver serve`: the HTTP server and, unless `WORKERS=0`, in-process workers, until
//! SIGINT/SIGTERM.

use crate::config::Config;
use tokio_util::sync::CancellationToken;

pub(super) async fn run(config: &Config) -> anyhow::Result<()> {
    let state = crate::build_state(config).await?;
    let pipeline = crate::pipeline(config, &state).await?;
    let state_repo = state.repo.clone();
    let ingest = state.ingest.clone();
    let server = crate::Server::bind(config, state).await?;
    let addr = server.local_addr()?;
    tracing::info!(%addr, database = %redact_url(&config.database.url), storage = ?config.storage.provider, workers = config.jobs.workers, "mediaserver listening on http://{addr}");
    announce(config, &state_repo, addr).await;
    let stop = CancellationToken::new();
    let signal = stop.clone();
    tokio::spawn(async move {
        crate::shutdown_signal().await;
        signal.cancel();
    });
    // EVENTS_SOURCE, unless `mediaserver watch` consumes it (EVENTS_CONSUMER=watch).
    let events = config.events.in_server.then(|| {
        let (config, ingest, stop) = (config.clone(), ingest.clone(), stop.clone());
        tokio::spawn(async move {
            if let Err(e) = crate::run_events(&config, ingest, stop, false).await {
                tracing::error!(
                    error = format!("{e:#}"),
                    "the bucket event consumer stopped"
                );
            }
        })
    });
    let workers = tokio::spawn(crate::run_workers(
        pipeline,
        config.jobs.workers,
        crate::worker_name(),
        stop.clone().cancelled_owned(),
    ));
    server.run(stop.cancelled_owned()).await?;
    let _ = workers.await;
    if let Some(events) = events {
        let _ = events.await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// The database URL without its password, for logs.
fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// Where to point a browser: `EXTERNAL_URL` when set, otherwise the bound address, with
/// `localhost` for an all-addresses bind (`0.0.0.0` / `::` is not an address a browser can open).
fn ui_url(config: &Config, addr: std::net::SocketAddr) -> String {
    if let Some(url) = &config.http.external_url {
        return format!("{}/", url.trim_end_matches('/'));
    }
    if addr.ip().is_unspecified() {
        format!("http://localhost:{}/", addr.port())
    } else {
        format!("http://{addr}/")
    }
}

/// The start-up lines a person reads: the web UI, the API docs, and — while no account exists —
/// that the first one becomes admin.
async fn announce(config: &Config, repo: &mediaserver_db::DynRepo, addr: std::net::SocketAddr) {
    let ui = ui_url(config, addr);
    tracing::info!("web UI: {ui}");
    tracing::info!("API docs: {ui}docs (OpenAPI document: {ui}openapi.json)");
    match repo.first_admin().await {
        Ok(None) => tracing::info!(
            "no account yet: the first account created (sign up at {ui}#/register, or \
             `mediaserver user create`) becomes the admin"
        ),
        Ok(Some(_)) => {}
        Err(e) => {
            tracing::warn!(error = %mediaserver_core::ErrorChain(&e), "could not check for accounts")
        }
    }
}
