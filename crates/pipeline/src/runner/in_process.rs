//! The default runner: the job's original is downloaded to a scratch directory, processed by
//! ffmpeg in this process ([`crate::process`]), and published — video and audio segments while
//! the encode runs (`crate::progressive`), everything else once it has ended.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use mediaserver_core::{Job, JobKind, Media, MediaKind};
use mediaserver_db::MediaReady;
use mediaserver_media::transcode::{media_playlist_name, segment_stream};
use mediaserver_storage::{ObjectKey, Storage, StorageError};
use tokio_util::sync::CancellationToken;

use super::scratch::{Scratch, ScratchSettings};
use super::{JobDone, JobRunner, RunContext};
use crate::chunked::{self, Inputs};
use crate::process::{cut_clip, list_files, process_file_with, ProcessSettings};
use crate::progress::ProgressReporter;
use crate::progressive::{ProgressivePublisher, Published, Target};
use crate::{objects, ErrorChain, PipelineError};

#[derive(Debug, Clone)]
pub struct InProcessRunner {
    pub process: ProcessSettings,
    /// Where each job gets its scratch directory (`TEMP_DIR`, created if missing), and which
    /// of those a sweep may remove.
    scratch: Scratch,
    /// Chunked items' originals kept here for their chunk jobs.
    inputs: Inputs,
}

impl InProcessRunner {
    /// Jobs work in directories under `temp_dir`, kept alive and swept per `scratch` (see
    /// [`ScratchSettings::for_lease`]).
    pub fn new(
        temp_dir: PathBuf,
        process: ProcessSettings,
        scratch: ScratchSettings,
    ) -> InProcessRunner {
        InProcessRunner {
            process,
            scratch: Scratch::new(temp_dir, scratch),
            inputs: Inputs::default(),
        }
    }
}

impl Default for InProcessRunner {
    fn default() -> Self {
        InProcessRunner::new(
            std::env::temp_dir(),
            ProcessSettings::default(),
            ScratchSettings::default(),
        )
    }
}

#[async_trait]
impl JobRunner for InProcessRunner {
    async fn run(
        &self,
        job: &Job,
        media: &Media,
        ctx: &RunContext,
        cancel: &CancellationToken,
    ) -> Result<JobDone, PipelineError> {
        let env = chunked::Env {
            settings: &self.process,
            scratch: &self.scratch,
            inputs: &self.inputs,
        };
        if job.kind != JobKind::Whole {
            return chunked::run(job, media, ctx, &env, cancel).await;
        }
        if media.playable {
            // An earlier attempt published part of the item (and died before it could take
            // it off playback): players must not see a half-done item. Its segments stay; the
            // progressive publisher keeps those this encode proves interchangeable.
            ctx.hide(&media.id).await?;
        }
        let prefix = media.outputs_prefix();
        let earlier = earlier_segments(ctx.output_store.as_ref(), &prefix).await?;
        ctx.repo.mark_media_processing(&media.id).await?;

        let temp_dir = self.scratch.root();
        if let Err(e) = tokio::fs::create_dir_all(temp_dir).await {
            tracing::error!(dir = %temp_dir.display(), error = %ErrorChain(&e), "cannot create the temp directory (TEMP_DIR)");
        }
        let scratch = self.scratch.create(&job.id).await?;
        let input = scratch.path().join("input");
        let out_dir = scratch.path().join("out");
        tokio::fs::create_dir_all(&out_dir).await?;

        download(ctx.media_store.as_ref(), media, &input).await?;
        tracing::debug!("original downloaded");
        let input = match &media.clip {
            Some(clip) => {
                let cut = scratch.path().join("clip.mkv");
                cut_clip(
                    &input,
                    &cut,
                    media.kind,
                    clip,
                    &self.process,
                    cancel.clone(),
                )
                .await?;
                cut
            }
            None => input,
        };
        if media.kind == MediaKind::Video {
            if let Some(chunks) =
                chunked::try_split(&input, &out_dir, earlier.clone(), media, ctx, &env, cancel)
                    .await?
            {
                return Ok(JobDone::Split { chunks });
            }
        }

        // Progress: 0–95 % encoding, the rest publishing. Written at most once a second.
        let (tx, rx) = tokio::sync::watch::channel(0.0f64);
        let reporter = tokio::spawn(report_progress(ctx.progress(&media.id), rx.clone()));
        // Video and audio: segments go out while the encode runs (aborted if this future is
        // dropped; finished before anything below touches storage).
        let progressive = matches!(media.kind, MediaKind::Video | MediaKind::Audio).then(|| {
            ProgressivePublisher::start(Target {
                store: ctx.output_store.clone(),
                repo: ctx.repo.clone(),
                media_id: media.id.clone(),
                prefix: prefix.clone(),
                out_dir: out_dir.clone(),
                progress: rx,
                earlier,
            })
        });
        let processed = process_file_with(
            &input,
            media.kind,
            &out_dir,
            &self.process,
            move |f| {
                tx.send_replace(f.clamp(0.0, 1.0));
            },
            cancel.clone(),
            progressive.as_ref().and_then(ProgressivePublisher::sender),
        )
        .await;
        reporter.abort();
        let published = match progressive {
            Some(p) => p.finish().await,
            None => Published::default(),
        };
        let processed = processed?;
        if published.kept > 0 {
            tracing::info!(
                kept = published.kept,
                "kept segments an earlier attempt published"
            );
        }

        publish(
            ctx.output_store.as_ref(),
            &out_dir,
            &prefix,
            &published.files,
        )
        .await?;
        remove_unpublished(
            ctx.output_store.as_ref(),
            &out_dir,
            &prefix,
            &published.files,
        )
        .await;
        Ok(JobDone::Ready(MediaReady {
            duration_seconds: processed.duration_seconds,
            width: processed.width,
            height: processed.height,
            playable: processed.outputs.hls.is_some(),
            outputs: processed.outputs,
        }))
    }

    async fn sweep(&self) {
        match self.scratch.sweep().await {
            Ok(swept) => {
                for s in swept {
                    tracing::info!(dir = %s.path.display(), idle_secs = s.idle.as_secs(), bytes = s.bytes, "removed stale scratch directory (a killed worker's)");
                }
            }
            Err(e) => {
                tracing::warn!(dir = %self.scratch.root().display(), error = %ErrorChain(&e), "cannot sweep the temp directory (TEMP_DIR)")
            }
        }
    }
}

pub(crate) async fn download(
    store: &dyn Storage,
    media: &Media,
    dest: &Path,
) -> Result<(), PipelineError> {
    let key = ObjectKey::new(media.original_key.clone()).map_err(PipelineError::OriginalKey)?;
    // Never write through a link an earlier attempt left here: it is the stored original.
    match tokio::fs::remove_file(dest).await {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    // A local bucket on the same filesystem: a hard link instead of a copy (a 10-minute 1080p
    // original is over a gigabyte, seconds of copying before the first play). Only read.
    if let Ok(Some(file)) = store.local_file(&key).await {
        match tokio::fs::hard_link(&file, dest).await {
            Ok(()) => return Ok(()),
            Err(e) => tracing::debug!(error = %e, "the original cannot be linked: copied"),
        }
    }
    match objects::download(store, &key, dest).await {
        Err(PipelineError::Storage(StorageError::NotFound(_))) => Err(PipelineError::Unusable(
            "the original is missing from storage".into(),
        )),
        other => other,
    }
}

/// The segments an earlier attempt of the job published (`out_dir`-relative path → size).
async fn earlier_segments(
    store: &dyn Storage,
    prefix: &str,
) -> Result<HashMap<String, u64>, PipelineError> {
    let stream = format!("{prefix}{}", mediaserver_core::layout::STREAM_DIR);
    Ok(store
        .list(&stream)
        .await?
        .into_iter()
        .filter_map(|o| {
            let rel = o.key.strip_prefix(prefix)?.to_string();
            segment_stream(&rel).map(|_| (rel, o.size))
        })
        .collect())
}

async fn report_progress(
    mut progress: ProgressReporter,
    mut rx: tokio::sync::watch::Receiver<f64>,
) {
    while rx.changed().await.is_ok() {
        let fraction = *rx.borrow_and_update();
        progress.report(fraction).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Uploads `out_dir` under `prefix`: media objects first, then the playlists, manifests
/// and VTT that reference them, the HLS master last, so a player following published
/// references never meets a missing object (progressive publishing may already have made
/// the item playable). Files `already` uploaded with the same size are skipped: segments
/// never change once complete.
async fn publish(
    store: &dyn Storage,
    out_dir: &Path,
    prefix: &str,
    already: &HashMap<String, u64>,
) -> Result<(), PipelineError> {
    let mut phases: [Vec<(PathBuf, String)>; 3] = Default::default();
    let mut skipped = 0usize;
    for (path, rel) in list_files(out_dir).await? {
        if let Some(size) = already.get(&rel) {
            if tokio::fs::metadata(&path).await?.len() == *size {
                skipped += 1;
                continue;
            }
        }
        phases[publish_phase(&rel)].push((path, rel));
    }
    let uploading: usize = phases.iter().map(Vec::len).sum();
    tracing::debug!(uploading, skipped, "publishing outputs");
    for files in phases {
        // A few uploads at a time: segments are small and many.
        let results: Vec<Result<(), PipelineError>> = futures::stream::iter(files)
            .map(|(path, rel)| async move {
                let key =
                    ObjectKey::new(format!("{prefix}{rel}")).map_err(|e| PipelineError::Key {
                        what: "output name",
                        source: e,
                    })?;
                store.put_file(&key, &path).await?;
                Ok(())
            })
            .buffer_unordered(8)
            .collect()
            .await;
        results.into_iter().collect::<Result<(), _>>()?;
    }
    Ok(())
}

/// Deletes what progressive publishing uploaded that the final output no longer has: the
/// segments and playlist of a rung the adaptive ladder dropped after the encode (the final
/// manifests, now up, no longer name them). A failed delete only costs storage until the item
/// is deleted (its whole prefix goes then), so it is logged, not fatal.
async fn remove_unpublished(
    store: &dyn Storage,
    out_dir: &Path,
    prefix: &str,
    published: &HashMap<String, u64>,
) {
    let mut gone = Vec::new();
    for rel in published.keys() {
        if !tokio::fs::try_exists(out_dir.join(rel))
            .await
            .unwrap_or(true)
        {
            gone.push(rel.clone());
        }
    }
    // Their streams' media playlists went up with them (and are not in `published`).
    let mut streams: Vec<usize> = gone
        .iter()
        .filter_map(|r| segment_stream(r))
        .map(|s| s.0)
        .collect();
    streams.sort_unstable();
    streams.dedup();
    for n in streams {
        let rel = format!(
            "{}{}",
            mediaserver_core::layout::STREAM_DIR,
            media_playlist_name(n)
        );
        if !tokio::fs::try_exists(out_dir.join(&rel))
            .await
            .unwrap_or(true)
        {
            gone.push(rel);
        }
    }
    for rel in &gone {
        let result = match ObjectKey::new(format!("{prefix}{rel}")) {
            Ok(key) => store
                .delete(&key)
                .await
                .map_err(|e| ErrorChain(&e).to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(error) = result {
            tracing::warn!(%rel, %error, "could not delete a dropped rung's published file");
        }
    }
}

/// Upload order of an output file: 0 media objects, 1 what references them, 2 the HLS master.
pub(crate) fn publish_phase(rel: &str) -> usize {
    use mediaserver_core::layout;
    // A text track's WebVTT file references nothing, and its playlist and the MPD reference it.
    let text_track = rel
        .strip_prefix(layout::STREAM_DIR)
        .is_some_and(|name| name.starts_with("text-") && name.ends_with(".vtt"));
    if rel == layout::HLS_MASTER {
        2
    } else if text_track {
        0
    } else if [".m3u8", ".mpd", ".vtt"]
        .iter()
        .any(|ext| rel.ends_with(ext))
    {
        1
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::publish_phase;

    #[test]
    fn objects_before_references_before_the_master() {
        for (rel, phase) in [
            ("stream/chunk-0-00001.m4s", 0),
            ("stream/init-3.m4s", 0),
            ("thumbnail.jpg", 0),
            ("storyboard.jpg", 0),
            ("large.webp", 0),
            ("stream/text-s0.vtt", 0),
            ("stream/text-s0.m3u8", 1),
            ("stream/media_0.m3u8", 1),
            ("stream/manifest.mpd", 1),
            ("storyboard.vtt", 1),
            ("stream/master.m3u8", 2),
        ] {
            assert_eq!(publish_phase(rel), phase, "{rel}");
        }
    }
}
