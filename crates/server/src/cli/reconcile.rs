//! `mediaserver reconcile`: brings storage and the database back in step after crashes and
//! outages (the work is `Ingest::reconcile` and the runner's scratch sweep; this prints it).

use crate::config::Config;
use mediaserver_ingest::{ReconcileOptions, ReconcileReport};
use mediaserver_pipeline::runner::scratch::{Scratch, Swept};
use mediaserver_pipeline::ScratchSettings;
use std::fmt::Write as _;
use std::time::Duration;

#[derive(clap::Args)]
pub struct ReconcileArgs {
    /// Report what would be done; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Leave alone objects and multipart uploads younger than this many seconds: they may
    /// belong to an upload streaming right now.
    #[arg(long, default_value_t = 3600)]
    grace_seconds: u64,
}

pub(super) async fn run(config: &Config, args: ReconcileArgs) -> anyhow::Result<()> {
    let state = crate::build_state(config).await?;
    let opts = ReconcileOptions {
        dry_run: args.dry_run,
        grace: Duration::from_secs(args.grace_seconds),
    };
    let report = state
        .ingest
        .reconcile(state.output_store.as_ref(), opts)
        .await?;
    let scratch = Scratch::new(
        config.jobs.temp_dir.clone(),
        ScratchSettings::for_lease(Duration::from_secs(config.jobs.lease_secs)),
    );
    let swept = if args.dry_run {
        scratch.stale().await
    } else {
        scratch.sweep().await
    }
    .map_err(|e| anyhow::anyhow!("looking for stale scratch directories (TEMP_DIR): {e}"))?;
    print!("{}", render(&report, &swept, args.dry_run));
    if !report.failures.is_empty() {
        anyhow::bail!(
            "{} action(s) failed (listed above); run reconcile again later",
            report.failures.len()
        );
    }
    Ok(())
}

/// The report: counts, then every key, per kind.
fn render(report: &ReconcileReport, swept: &[Swept], dry_run: bool) -> String {
    let (removed, aborted, marked) = if dry_run {
        ("would remove", "would abort", "would mark failed")
    } else {
        ("removed", "aborted", "marked failed")
    };
    let mut out = String::new();
    if dry_run {
        out.push_str("dry run: nothing was changed\n");
    }
    let bytes: u64 = report.orphan_objects.iter().map(|o| o.2).sum();
    let _ = writeln!(
        out,
        "orphaned objects (no media item or upload): {} ({bytes} bytes), {removed}",
        report.orphan_objects.len()
    );
    for (bucket, key, size) in &report.orphan_objects {
        let _ = writeln!(out, "  {bucket}/{key} ({size} bytes)");
    }
    let bytes: u64 = report.chunk_leftovers.iter().map(|o| o.2).sum();
    let _ = writeln!(
        out,
        "leftover chunked-encode files of finished items: {} ({bytes} bytes), {removed}",
        report.chunk_leftovers.len()
    );
    for (bucket, key, size) in &report.chunk_leftovers {
        let _ = writeln!(out, "  {bucket}/{key} ({size} bytes)");
    }
    let _ = writeln!(
        out,
        "items whose original is missing: {}",
        report.missing_originals.len()
    );
    for (id, status) in &report.missing_originals {
        let what = match status {
            mediaserver_core::MediaStatus::Ready => "ready, still playable; left as it is",
            mediaserver_core::MediaStatus::Failed => "already failed",
            _ => marked,
        };
        let _ = writeln!(out, "  {id} (was {status}: {what})");
    }
    let _ = writeln!(
        out,
        "stale multipart uploads: {}, {aborted}",
        report.stale_uploads.len()
    );
    for (bucket, key) in &report.stale_uploads {
        let _ = writeln!(out, "  {bucket}/{key}");
    }
    let _ = writeln!(out, "stale scratch directories: {}, {removed}", swept.len());
    for s in swept {
        let _ = writeln!(out, "  {} ({} bytes)", s.path.display(), s.bytes);
    }
    if !report.failures.is_empty() {
        let _ = writeln!(out, "failed: {}", report.failures.len());
        for f in &report.failures {
            let _ = writeln!(out, "  {f}");
        }
    }
    out
}
