//! `mediaserver watch`: with `EVENTS_SOURCE` set, consumes that queue or stream of bucket events
//! (`crate::events`); otherwise polls the media bucket for objects that appeared without an
//! event notification (buckets or providers that cannot send them). Either way each object
//! version is queued once.

use crate::config::Config;
use anyhow::Context;
use mediaserver_core::{layout, ObjectSource};
use mediaserver_ingest::{Ingest, IngestOutcome};
use std::collections::HashSet;
use std::time::Duration;

#[derive(clap::Args)]
pub struct WatchArgs {
    /// Only objects under this prefix.
    #[arg(long, default_value = "")]
    prefix: String,
    /// Seconds between polls.
    #[arg(long, default_value_t = 30)]
    interval: u64,
    /// Poll once and exit (with EVENTS_SOURCE: handle what the queue or stream holds, then
    /// exit; non-zero when a message could not be handled yet and was left for later).
    #[arg(long)]
    once: bool,
    /// List the bucket even when EVENTS_SOURCE is set.
    #[arg(long)]
    list: bool,
}

pub(super) async fn run(config: &Config, args: WatchArgs) -> anyhow::Result<()> {
    // Only the database and the media bucket: watch records originals, nothing else.
    let ingest = crate::build_ingest(config).await?;
    if config.events.source.is_some() && !args.list {
        let stop = tokio_util::sync::CancellationToken::new();
        let signal = stop.clone();
        tokio::spawn(async move {
            crate::shutdown_signal().await;
            signal.cancel();
        });
        return crate::run_events(config, ingest, stop, args.once).await;
    }
    watch(
        &ingest,
        config.http.events_owner_email.as_deref(),
        &args.prefix,
        Duration::from_secs(args.interval.max(1)),
        args.once,
    )
    .await
}

/// Polls every `interval` (once with `once`) for objects under `prefix`; new items belong to
/// the user with `owner_email` (`EVENTS_OWNER_EMAIL`), else the first admin.
async fn watch(
    ingest: &Ingest,
    owner_email: Option<&str>,
    prefix: &str,
    interval: Duration,
    once: bool,
) -> anyhow::Result<()> {
    // (key, etag) pairs already handled by this process: spares re-reading them on every poll.
    // After a restart they are checked again; the database keeps that idempotent.
    let mut seen: HashSet<(String, Option<String>)> = HashSet::new();
    loop {
        match poll(ingest, owner_email, prefix, &mut seen).await {
            Ok(created) if created > 0 => tracing::info!(created, "queued new objects"),
            Ok(_) => {}
            Err(e) if once => return Err(e),
            Err(e) => tracing::warn!(error = format!("{e:#}"), "poll failed; will retry"),
        }
        if once {
            return Ok(());
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = crate::shutdown_signal() => return Ok(()),
        }
    }
}

async fn poll(
    ingest: &Ingest,
    owner_email: Option<&str>,
    prefix: &str,
    seen: &mut HashSet<(String, Option<String>)>,
) -> anyhow::Result<usize> {
    let owner = ingest.event_owner(owner_email).await?;
    let mut created = 0;
    for obj in ingest.media_store().list(prefix).await? {
        if layout::is_output_key(&obj.key) || layout::is_original_key(&obj.key) {
            continue;
        }
        let id = (obj.key.clone(), obj.etag.clone());
        if seen.contains(&id) {
            continue;
        }
        let outcome = ingest
            .ingest_object(&owner, &obj.key, obj.etag.as_deref(), ObjectSource::Watch)
            .await
            .with_context(|| obj.key.clone())?;
        match &outcome {
            IngestOutcome::Created { media_id, .. } => {
                created += 1;
                tracing::info!(key = %obj.key, %media_id, "queued");
            }
            IngestOutcome::Skipped { reason, .. } => {
                tracing::debug!(key = %obj.key, %reason, "skipped")
            }
            IngestOutcome::Refused {
                media_id, reason, ..
            } => {
                tracing::warn!(key = %obj.key, %media_id, %reason, "recorded as failed")
            }
            IngestOutcome::Duplicate { .. } => {}
        }
        seen.insert(id);
    }
    Ok(created)
}
