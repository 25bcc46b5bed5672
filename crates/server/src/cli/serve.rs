//! `mediaserver serve`: the HTTP server and, unless `WORKERS=0`, in-process workers, until
//! SIGINT/SIGTERM.

use crate::config::Config;
use tokio_util::sync::CancellationToken;

pub(super) async fn run(config: &Config) -> anyhow::Result<()> {
    let state = crate::build_state(config).await?;
    let pipeline = crate::pipeline(config, &state).await?;
    let server = crate::Server::bind(config, state).await?;
    let addr = server.local_addr()?;
    tracing::info!(%addr, database = %redact_url(&config.database.url), storage = ?config.storage.provider, workers = config.jobs.workers, "mediaserver listening on http://{addr}");
    let stop = CancellationToken::new();
    let signal = stop.clone();
    tokio::spawn(async move {
        crate::shutdown_signal().await;
        signal.cancel();
    });
    let workers = tokio::spawn(crate::run_workers(
        pipeline,
        config.jobs.workers,
        crate::worker_name(),
        stop.clone().cancelled_owned(),
    ));
    server.run(stop.cancelled_owned()).await?;
    let _ = workers.await;
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
