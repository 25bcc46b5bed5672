//! `mediaserver backfill-downloads`: MP4/M4A downloads for ready items that have none (processed
//! before downloads existed, or whose downloads failed or were removed). The work is
//! `mediaserver_pipeline::backfill`; this prints it.

use crate::config::Config;
use mediaserver_pipeline::backfill::{backfill_downloads, BackfillReport, BackfillSettings};
use mediaserver_pipeline::runner::scratch::Scratch;
use mediaserver_pipeline::ScratchSettings;
use std::fmt::Write as _;
use std::time::Duration;

#[derive(clap::Args)]
pub struct BackfillDownloadsArgs {
    /// List the items that would get downloads; change nothing.
    #[arg(long)]
    dry_run: bool,
}

pub(super) async fn run(config: &Config, args: BackfillDownloadsArgs) -> anyhow::Result<()> {
    let state = crate::build_state(config).await?;
    let scratch = Scratch::new(
        config.jobs.temp_dir.clone(),
        ScratchSettings::for_lease(Duration::from_secs(config.jobs.lease_secs)),
    );
    tokio::fs::create_dir_all(scratch.root())
        .await
        .map_err(|e| anyhow::anyhow!("creating the scratch directory (TEMP_DIR): {e}"))?;
    let settings = BackfillSettings {
        downloads: config.jobs.downloads,
        timeout: Duration::from_secs(config.jobs.timeout_secs),
        dry_run: args.dry_run,
    };
    let report = backfill_downloads(
        &state.repo,
        state.output_store.as_ref(),
        &scratch,
        &settings,
    )
    .await?;
    print!("{}", render(&report, args.dry_run));
    if !report.failures.is_empty() {
        anyhow::bail!(
            "{} item(s) failed (listed above); run backfill-downloads again later",
            report.failures.len()
        );
    }
    Ok(())
}

fn render(report: &BackfillReport, dry_run: bool) -> String {
    let mut out = String::new();
    if dry_run {
        let _ = writeln!(
            out,
            "dry run: nothing was changed\nitems without downloads: {}",
            report.done.len()
        );
        for (id, _) in &report.done {
            let _ = writeln!(out, "  {id}");
        }
        return out;
    }
    let _ = writeln!(out, "items given downloads: {}", report.done.len());
    for (id, names) in &report.done {
        let _ = writeln!(out, "  {id}: {}", names.join(", "));
    }
    if !report.skipped.is_empty() {
        let _ = writeln!(
            out,
            "items that changed meanwhile (left alone): {}",
            report.skipped.len()
        );
        for id in &report.skipped {
            let _ = writeln!(out, "  {id}");
        }
    }
    if !report.failures.is_empty() {
        let _ = writeln!(out, "failed: {}", report.failures.len());
        for (id, why) in &report.failures {
            let _ = writeln!(out, "  {id}: {why}");
        }
    }
    out
}
