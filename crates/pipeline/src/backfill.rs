//! `mediaserver backfill-downloads`: downloads for items processed before downloads existed (or
//! whose downloads failed or were removed). Each ready video or audio item without downloads
//! gets its published stream files fetched back from the output bucket, remuxed exactly as a
//! job would ([`transcode::make_downloads`], no re-encoding), the files uploaded under its
//! outputs prefix and its outputs updated. It runs in the command's process rather than as
//! queued jobs: the queue's one job kind re-encodes the original, which is what this avoids.

use crate::process::download;
use crate::runner::scratch::Scratch;
use crate::{objects, ErrorChain, PipelineError};
use futures::StreamExt;
use mediaserver_core::layout;
use mediaserver_core::{Media, MediaFilter, MediaId, MediaKind, MediaStatus};
use mediaserver_db::DynRepo;
use mediaserver_media::transcode::{self, DownloadRenditions};
use mediaserver_media::CancellationToken;
use mediaserver_storage::{ObjectKey, Storage};
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct BackfillSettings {
    /// Which rungs get an MP4 (`DOWNLOAD_RENDITIONS`).
    pub downloads: DownloadRenditions,
    /// Bound on one item's remux.
    pub timeout: Duration,
    /// Only list the items that would get downloads.
    pub dry_run: bool,
}

/// What a backfill did (or, dry, would do).
#[derive(Debug, Default)]
pub struct BackfillReport {
    /// Items given downloads (dry run: that would be), with the names made.
    pub done: Vec<(MediaId, Vec<String>)>,
    /// Items that changed while they were worked on (deleted, reprocessed): nothing kept.
    pub skipped: Vec<MediaId>,
    /// Items that could not be done, with the reason (run again later).
    pub failures: Vec<(MediaId, String)>,
}

/// Whether `media` should get downloads: ready, streamed, and without any yet.
pub fn lacks_downloads(media: &Media) -> bool {
    media.status == MediaStatus::Ready
        && matches!(media.kind, MediaKind::Video | MediaKind::Audio)
        && media.outputs.hls.is_some()
        && media.outputs.downloads.is_empty()
}

/// Goes through every ready item, oldest last (newest first, by pages), making the downloads
/// of those that lack them.
pub async fn backfill_downloads(
    repo: &DynRepo,
    store: &dyn Storage,
    scratch: &Scratch,
    settings: &BackfillSettings,
) -> Result<BackfillReport, PipelineError> {
    let mut report = BackfillReport::default();
    if settings.downloads == DownloadRenditions::None {
        return Ok(report);
    }
    let mut before_id = None;
    loop {
        let page = repo
            .list_media(&MediaFilter {
                status: Some(MediaStatus::Ready),
                before_id: before_id.clone(),
                limit: 100,
                ..Default::default()
            })
            .await?;
        let Some(last) = page.last() else { break };
        before_id = Some(last.id.clone());
        for media in page.iter().filter(|m| lacks_downloads(m)) {
            if settings.dry_run {
                report.done.push((media.id.clone(), Vec::new()));
                continue;
            }
            match backfill_one(repo, store, scratch, media, settings).await {
                Ok(Some(names)) => report.done.push((media.id.clone(), names)),
                Ok(None) => report.skipped.push(media.id.clone()),
                Err(e) => {
                    tracing::warn!(media_id = %media.id, error = %ErrorChain(&e), "cannot make downloads");
                    report.failures.push((media.id.clone(), e.to_string()));
                }
            }
        }
    }
    Ok(report)
}

/// One item: `Some(names)` when its downloads were recorded, `None` when it changed meanwhile.
async fn backfill_one(
    repo: &DynRepo,
    store: &dyn Storage,
    scratch: &Scratch,
    media: &Media,
    settings: &BackfillSettings,
) -> Result<Option<Vec<String>>, PipelineError> {
    let dir = scratch.create(format!("downloads-{}", media.id)).await?;
    let out = dir.path().join("out");
    let prefix = media.outputs_prefix();
    fetch_streams(store, &prefix, &out).await?;
    let made = transcode::make_downloads(
        &out,
        settings.downloads,
        settings.timeout,
        CancellationToken::new(),
    )
    .await?;
    let mut keys = Vec::new();
    for d in &made {
        let key = ObjectKey::new(layout::output_key(&media.id, &d.path)).map_err(|e| {
            PipelineError::Key {
                what: "download name",
                source: e,
            }
        })?;
        store.put_file(&key, &out.join(&d.path)).await?;
        keys.push(key);
    }
    let mut outputs = media.outputs.clone();
    outputs.downloads = made.iter().map(download).collect();
    outputs.bytes += made.iter().map(|d| d.bytes as i64).sum::<i64>();
    if repo.set_ready_outputs(&media.id, &outputs).await? {
        return Ok(Some(made.into_iter().map(|d| d.name).collect()));
    }
    // Deleted or being reprocessed: what was uploaded belongs to nothing.
    for key in keys {
        store.delete(&key).await?;
    }
    Ok(None)
}

/// Copies the item's published stream folder (playlists and segments; not the DASH manifest or
/// text tracks) into `out/stream/`.
pub(crate) async fn fetch_streams(
    store: &dyn Storage,
    prefix: &str,
    out: &Path,
) -> Result<(), PipelineError> {
    let stream_prefix = format!("{prefix}{}", layout::STREAM_DIR);
    let local = out.join(transcode::STREAM_DIR);
    tokio::fs::create_dir_all(&local).await?;
    let mut wanted = Vec::new();
    for o in store.list(&stream_prefix).await? {
        let Some(name) = o.key.strip_prefix(&stream_prefix) else {
            continue;
        };
        let plain = !name.contains('/') && !name.starts_with('.');
        let needed = name.ends_with(".m3u8") || name.ends_with(".m4s");
        if plain && needed {
            let name = name.to_string();
            let key = ObjectKey::new(o.key).map_err(|e| PipelineError::Key {
                what: "stream file",
                source: e,
            })?;
            wanted.push((key, name));
        }
    }
    let results: Vec<Result<(), PipelineError>> = futures::stream::iter(wanted)
        .map(|(key, name)| {
            let dest = local.join(name);
            async move { objects::download(store, &key, &dest).await }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    results.into_iter().collect()
}
