//! `mediaserver worker`: processing workers only, no HTTP, until SIGTERM.

use crate::config::Config;

#[derive(clap::Args)]
pub struct WorkerArgs {
    /// Jobs processed at once by this process (default: WORKERS, at least 1).
    #[arg(long)]
    concurrency: Option<usize>,
}

pub(super) async fn run(config: &Config, args: WorkerArgs) -> anyhow::Result<()> {
    let state = crate::build_state(config).await?;
    let n = args.concurrency.unwrap_or(config.jobs.workers).max(1);
    let pipeline = crate::pipeline(config, &state).await?;
    tracing::info!(workers = n, "processing jobs; stop with SIGTERM");
    crate::run_workers(pipeline, n, crate::worker_name(), crate::shutdown_signal()).await;
    Ok(())
}
