//! Chunked encoding (issue 15) as the in-process runner runs it: a long video's `whole` job
//! becomes the split (the plan stored, then the worker queues the parts), each `chunk` job
//! encodes the video rungs of one range and the `rest` job everything else (both publish under
//! the final names, then their record, then provisional playlists of what is done so far), and
//! the `assemble` job writes the manifests and returns what the item records.
//!
//! The media work is `mediaserver_media::transcode::chunked`; the queue's side (split, parts,
//! the one assemble job, failure of a part) is `mediaserver_db::ChunkQueue`; the worker
//! records what [`JobDone`] says.
//!
//! A retried part redoes only itself: its record says whether it is done, and a chunk writes
//! the same names again. This is also how a long video "resumes from the published segments"
//! (issue 12, defect 11): a worker dying mid-encode loses one chunk, not the item.

pub(crate) mod input;
pub(crate) mod metrics;
mod publish;
mod records;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use mediaserver_core::{layout, Job, JobKind, Media, MediaId, MediaOutputs};
use mediaserver_db::MediaReady;
use mediaserver_media::probe;
use mediaserver_media::transcode::chunked::{self, ChunkOutput, RestOutput};
use mediaserver_media::transcode::Progress;
use tokio_util::sync::CancellationToken;

use crate::process::{self, ProcessSettings};
use crate::progress::encode_percent;
use crate::runner::scratch::Scratch;
use crate::runner::{JobDone, RunContext};
use crate::{ErrorChain, PipelineError};
pub(crate) use input::Inputs;

/// What the chunk steps need of the runner.
pub(crate) struct Env<'a> {
    pub settings: &'a ProcessSettings,
    pub scratch: &'a Scratch,
    pub inputs: &'a Inputs,
}

/// The split: when `input` (the downloaded original of a `whole` video job) is long enough,
/// stores its plan and answers how many chunks to queue; `None`: run it as one job.
pub(crate) async fn try_split(
    input: &Path,
    media: &Media,
    ctx: &RunContext,
    env: &Env<'_>,
    cancel: &CancellationToken,
) -> Result<Option<u32>, PipelineError> {
    let settings = &env.settings.chunks;
    if settings.chunk_seconds == 0 || media.clip.is_some() {
        return Ok(None);
    }
    let info = probe::probe(input, process::PROBE_TIMEOUT).await?;
    // Cheap checks first: the plan runs the complexity probe.
    let long = info
        .duration
        .is_some_and(|d| d > f64::from(settings.min_seconds));
    if info.video.is_none() || !long {
        return Ok(None);
    }
    let opts = process::video_options(env.settings, cancel.clone(), None);
    let Some(plan) = chunked::plan(input, &info, &opts, settings).await? else {
        return Ok(None);
    };
    let chunks = u32::try_from(plan.chunks())
        .map_err(|_| PipelineError::Unusable("the video is too long to be chunked".into()))?;
    records::put(ctx.output_store.as_ref(), layout::chunk_plan(&media.id), &plan).await?;
    // The chunk jobs this process takes read this copy rather than downloading another.
    if let Err(e) = env.inputs.adopt(&media.id, input, env.scratch).await {
        tracing::debug!(error = %ErrorChain(&e), "the original is not kept for the chunk jobs");
    }
    tracing::info!(chunks, duration = plan.duration, "long video: encoding it as chunks");
    Ok(Some(chunks))
}

/// Runs a `chunk`, `rest` or `assemble` job.
pub(crate) async fn run(
    job: &Job,
    media: &Media,
    ctx: &RunContext,
    env: &Env<'_>,
    cancel: &CancellationToken,
) -> Result<JobDone, PipelineError> {
    let _running = metrics::Running::start(job.kind);
    let work = async {
        match job.kind {
            JobKind::Chunk | JobKind::Rest => part(job, media, ctx, env, cancel).await,
            JobKind::Assemble => assemble(media, ctx, env, cancel).await,
            JobKind::Whole => Err(PipelineError::Transient(
                "a whole job is not a part of a chunked encode".into(),
            )),
        }
    };
    tokio::select! {
        r = work => r,
        _ = cancel.cancelled() => Err(PipelineError::Cancelled),
    }
}

async fn part(
    job: &Job,
    media: &Media,
    ctx: &RunContext,
    env: &Env<'_>,
    cancel: &CancellationToken,
) -> Result<JobDone, PipelineError> {
    let store = ctx.output_store.as_ref();
    let plan = records::plan(store, &media.id).await?;
    let done = match job.kind {
        JobKind::Chunk => {
            let index = job.chunk_index.ok_or_else(|| {
                PipelineError::Transient("a chunk job without its chunk index".into())
            })?;
            records::chunk(store, &media.id, index).await?.is_some()
        }
        _ => records::rest(store, &media.id).await?.is_some(),
    };
    if done {
        // An earlier attempt stored its record and died before the queue heard of it.
        tracing::info!("part already done (its record exists)");
    } else {
        ctx.repo.mark_media_processing(&media.id).await?;
        encode_part(job, media, ctx, env, &plan, cancel).await?;
    }
    publish::provisional(ctx, media, &plan).await;
    if job.kind == JobKind::Chunk {
        // The last chunk this process sees: the item's local copy may go.
        if let Ok(Some(c)) = ctx.repo.chunk_counts(&media.id).await {
            if c.done + 1 >= c.total {
                env.inputs.release(&media.id).await;
            }
        }
    }
    Ok(JobDone::Part)
}

/// Encodes and publishes one part, its record last.
async fn encode_part(
    job: &Job,
    media: &Media,
    ctx: &RunContext,
    env: &Env<'_>,
    plan: &chunked::ChunkedPlan,
    cancel: &CancellationToken,
) -> Result<(), PipelineError> {
    let store = ctx.output_store.as_ref();
    let held = env
        .inputs
        .get(media, ctx.media_store.as_ref(), env.scratch)
        .await?;
    let scratch = env.scratch.create(&job.id).await?;
    let out_dir = scratch.path().join("out");
    tokio::fs::create_dir_all(&out_dir).await?;
    let opts = process::video_options(env.settings, cancel.clone(), None);

    // Progress: this part's own, and the item's (the mean over every part), once a second.
    let (tx, rx) = tokio::sync::watch::channel(0.0f64);
    let reporter = tokio::spawn(report_progress(ctx.clone(), job.clone(), rx));
    let progress = move |p: Progress| {
        tx.send_replace(p.fraction.clamp(0.0, 1.0));
    };
    let prefix = media.outputs_prefix();
    let result = match job.kind {
        JobKind::Chunk => {
            let index = job.chunk_index.unwrap_or_default();
            let out =
                chunked::encode_chunk(&held.input, &out_dir, plan, index, &opts, progress).await;
            reporter.abort();
            let out = out?;
            publish::files(store, &out_dir, &prefix, &out.files).await?;
            records::put(store, layout::chunk_record(&media.id, index), &out).await
        }
        _ => {
            let out = chunked::encode_rest(&held.input, &out_dir, plan, &opts, progress).await;
            reporter.abort();
            let out = out?;
            publish::files(store, &out_dir, &prefix, &out.files).await?;
            records::put(store, layout::chunk_rest_record(&media.id), &out).await
        }
    };
    drop(held);
    result
}

async fn report_progress(ctx: RunContext, job: Job, mut rx: tokio::sync::watch::Receiver<f64>) {
    let Some(worker) = job.lease_owner.clone() else {
        return;
    };
    let mut last = None;
    while rx.changed().await.is_ok() {
        let fraction = *rx.borrow_and_update();
        match ctx.repo.set_part_progress(&job.id, &worker, fraction).await {
            Ok(Some(mean)) => {
                let pct = encode_percent(mean);
                if last != Some(pct) {
                    // Best effort, like the single job's progress.
                    if ctx
                        .repo
                        .set_media_progress(&job.media_id, pct, None)
                        .await
                        .is_ok()
                    {
                        last = Some(pct);
                    }
                }
            }
            Ok(None) => return,
            Err(e) => tracing::debug!(error = %ErrorChain(&e), "part progress update failed"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The final step: manifests from the records, what the item records.
async fn assemble(
    media: &Media,
    ctx: &RunContext,
    env: &Env<'_>,
    cancel: &CancellationToken,
) -> Result<JobDone, PipelineError> {
    let store = ctx.output_store.as_ref();
    let plan = records::plan(store, &media.id).await?;
    let mut chunks: Vec<ChunkOutput> = Vec::with_capacity(plan.chunks());
    for r in &plan.ranges {
        let c = records::chunk(store, &media.id, r.index).await?.ok_or_else(|| {
            PipelineError::Unusable(format!("chunk {} of the encode is missing", r.index))
        })?;
        chunks.push(c);
    }
    let rest: RestOutput = records::rest(store, &media.id)
        .await?
        .ok_or_else(|| PipelineError::Unusable("the encode's audio part is missing".into()))?;
    env.inputs.release(&media.id).await;

    let scratch = env.scratch.create(format!("assemble-{}", media.id)).await?;
    let out_dir = scratch.path().join("out");
    tokio::fs::create_dir_all(&out_dir).await?;
    let prefix = media.outputs_prefix();
    // Only the init segments: CODECS strings come from them.
    let inits: BTreeSet<&String> = chunks
        .iter()
        .flat_map(|c| c.files.iter())
        .chain(rest.files.iter())
        .filter(|f| is_init_segment(f))
        .collect();
    publish::fetch(store, &prefix, &out_dir, inits.into_iter()).await?;

    let opts = process::video_options(env.settings, cancel.clone(), None);
    let assembled = chunked::assemble(&out_dir, &plan, &chunks, &rest, &opts).await?;
    publish::files(store, &out_dir, &prefix, &assembled.written).await?;
    publish::delete(store, &prefix, &assembled.delete).await;

    let out = &assembled.output;
    let bytes = store
        .list(&prefix)
        .await?
        .iter()
        .filter(|o| !o.key.starts_with(&layout::chunks_prefix(&media.id)))
        .map(|o| o.size as i64)
        .sum();
    let mut warnings = out.warnings.clone();
    warnings.extend(rest.warnings.iter().cloned());
    warnings.dedup();
    let outputs = MediaOutputs {
        renditions: out.renditions.iter().map(process::rendition).collect(),
        hls: Some(out.hls_master.clone()),
        dash: Some(out.dash_manifest.clone()),
        thumbnail: Some(out.thumbnail.clone()),
        storyboard: out.storyboard_vtt.clone(),
        bytes,
        audio_tracks: out.audio_tracks.iter().map(process::audio_track).collect(),
        warnings,
        text_tracks: out.text_tracks.iter().map(process::text_track).collect(),
        ..Default::default()
    };
    Ok(JobDone::Ready(MediaReady {
        duration_seconds: Some(out.duration),
        width: Some(out.width as i32),
        height: Some(out.height as i32),
        playable: true,
        outputs,
    }))
}

fn is_init_segment(rel: &str) -> bool {
    rel.strip_prefix(layout::STREAM_DIR)
        .is_some_and(|name| name.starts_with("init-") && name.ends_with(".m4s"))
}

/// Removes a chunked item's working files once it is recorded ready (they are not needed for
/// playback; a failed delete costs only their storage until the item goes).
pub(crate) async fn clean_up(store: &dyn mediaserver_storage::Storage, id: &MediaId) {
    if let Err(e) = store
        .delete_prefix(&layout::chunks_prefix(id))
        .await
    {
        tracing::warn!(error = %ErrorChain(&e), "could not delete the chunked encode's working files");
    }
}
