//! `mediaserver watch`: polls the media bucket for objects that appeared without an event
//! notification (buckets or providers that cannot send them) and queues each object version once.

use mediaserver_api::ingest::{event_owner, ingest_object, IngestOutcome};
use mediaserver_api::AppState;
use mediaserver_core::layout;
use std::collections::HashSet;
use std::time::Duration;

pub async fn run(
    state: &AppState,
    prefix: &str,
    interval: Duration,
    once: bool,
) -> anyhow::Result<()> {
    // (key, etag) pairs already handled by this process: spares re-reading them on every poll.
    // After a restart they are checked again; the database keeps that idempotent.
    let mut seen: HashSet<(String, Option<String>)> = HashSet::new();
    loop {
        match poll(state, prefix, &mut seen).await {
            Ok(created) if created > 0 => tracing::info!(created, "queued new objects"),
            Ok(_) => {}
            Err(e) if once => return Err(e),
            Err(e) => tracing::warn!(error = %e, "poll failed; will retry"),
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
    state: &AppState,
    prefix: &str,
    seen: &mut HashSet<(String, Option<String>)>,
) -> anyhow::Result<usize> {
    let owner = event_owner(&state.repo, state.settings.events_owner_email.as_deref())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut created = 0;
    for obj in state.media_store.list(prefix).await? {
        if layout::is_output_key(&obj.key) || layout::is_original_key(&obj.key) {
            continue;
        }
        let id = (obj.key.clone(), obj.etag.clone());
        if seen.contains(&id) {
            continue;
        }
        let outcome = ingest_object(
            &state.repo,
            state.media_store.as_ref(),
            &owner,
            &obj.key,
            obj.etag.as_deref(),
            "watch",
            state.settings.job_max_attempts,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", obj.key))?;
        match &outcome {
            IngestOutcome::Created { media_id, .. } => {
                created += 1;
                tracing::info!(key = %obj.key, %media_id, "queued");
            }
            IngestOutcome::Skipped { reason, .. } => {
                tracing::debug!(key = %obj.key, %reason, "skipped")
            }
            IngestOutcome::Duplicate { .. } => {}
        }
        seen.insert(id);
    }
    Ok(created)
}
