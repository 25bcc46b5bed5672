//! Chunked encoding (issue 15): a long video's `whole` job becomes the split (the plan
//! stored, then the worker queues the parts), each `chunk` job encodes the video rungs of one
//! range and the `rest` job everything else (both publish under the final names, then their
//! record, then provisional playlists of what is done so far), and the `assemble` job writes
//! the manifests and returns what the item records.
//!
//! The media work is `mediaserver_media::transcode::chunked`; the queue's side (split, parts,
//! the one assemble job, failure of a part) is `mediaserver_db::ChunkQueue`; the worker
//! records what [`JobDone`] says. [`split_at`], [`encode_part`] and [`assemble_at`] need only
//! storage: the in-process runner (here) and `mediaserver transcode --split | --part` (what a
//! Container Instance runs, see `runner::remote`) share them.
//!
//! A retried part redoes only itself: its record says whether it is done, and a chunk writes
//! the same names again. This is also how a long video "resumes from the published segments"
//! (issue 12, defect 11): a worker dying mid-encode loses one chunk, not the item.

#[cfg(test)]
#[path = "tests.rs"]
mod chunked_tests;
mod input;
pub(crate) mod metrics;
mod part;
mod publish;
mod records;
mod report;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;

use mediaserver_core::{layout, Job, JobId, JobKind, Media, MediaId, MediaOutputs};
use mediaserver_db::MediaReady;
use mediaserver_media::probe;
pub use mediaserver_media::transcode::chunked::Input;
use mediaserver_media::transcode::chunked::{self, ChunkOutput, RestOutput};
use mediaserver_media::transcode::PackagingSender;
use mediaserver_storage::Storage;
use tokio_util::sync::CancellationToken;

use crate::process::{self, ProcessSettings};
use crate::progress::encode_percent;
use crate::progressive::{ProgressivePublisher, Target};
use crate::runner::scratch::Scratch;
use crate::runner::{JobDone, RunContext};
use crate::{ErrorChain, PipelineError};
pub(crate) use input::Inputs;
pub use part::encode_part;
use part::{encode_part_publishing, part_out_dir, PartRun};

/// Which part of a chunked encode a job (or `mediaserver transcode --part`) runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Chunk(u32),
    Rest,
    Assemble,
}

impl Part {
    /// The part a job runs; `None` for a whole job.
    pub fn of(job: &Job) -> Result<Option<Part>, PipelineError> {
        Ok(match job.kind {
            JobKind::Whole => None,
            JobKind::Chunk => Some(Part::Chunk(job.chunk_index.ok_or_else(|| {
                PipelineError::Transient("a chunk job without its chunk index".into())
            })?)),
            JobKind::Rest => Some(Part::Rest),
            JobKind::Assemble => Some(Part::Assemble),
        })
    }

    /// Its record, relative to the outputs prefix (none for the assemble step).
    pub fn record(self) -> Option<String> {
        match self {
            Part::Chunk(i) => Some(layout::chunk_record_name(i)),
            Part::Rest => Some(layout::CHUNK_REST_RECORD.into()),
            Part::Assemble => None,
        }
    }
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Part::Chunk(i) => write!(f, "chunk:{i}"),
            Part::Rest => f.write_str("rest"),
            Part::Assemble => f.write_str("assemble"),
        }
    }
}

impl std::str::FromStr for Part {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "rest" => Ok(Part::Rest),
            "assemble" => Ok(Part::Assemble),
            _ => s
                .strip_prefix("chunk:")
                .and_then(|n| n.parse().ok())
                .map(Part::Chunk)
                .ok_or_else(|| format!("'{s}' is not chunk:N, rest or assemble")),
        }
    }
}

/// The split of the video `input` whose outputs go under `prefix` in `store`: when it is long
/// enough, stores its plan and answers how many chunks to queue; `None`: run it as one job.
/// With `packaging` (progressive publishing), the plan cuts the single encode's shorter first
/// segment and a head (`transcode::head`) reports its first segments, written under `work_dir`,
/// while the plan's complexity probe runs.
pub async fn split_at(
    input: &Path,
    store: &dyn Storage,
    prefix: &str,
    settings: &ProcessSettings,
    work_dir: &Path,
    packaging: Option<PackagingSender>,
    cancel: &CancellationToken,
) -> Result<Option<u32>, PipelineError> {
    let chunks = &settings.chunks;
    if chunks.chunk_seconds == 0 {
        return Ok(None);
    }
    let info = probe::probe(input, process::PROBE_TIMEOUT).await?;
    // Cheap checks first: the plan runs the complexity probe.
    let long = info
        .duration
        .is_some_and(|d| d > f64::from(chunks.min_seconds));
    if info.video.is_none() || !long {
        return Ok(None);
    }
    let opts = process::video_options(settings, cancel.clone(), packaging);
    let Some(plan) = chunked::plan(input, &info, &opts, chunks, work_dir).await? else {
        return Ok(None);
    };
    let n = u32::try_from(plan.chunks())
        .map_err(|_| PipelineError::Unusable("the video is too long to be chunked".into()))?;
    // A new split starts clean: a record left by an earlier split of the item (a part that
    // published after the item failed, then the item was retried) would read as done.
    store
        .delete_prefix(&format!("{prefix}{}", layout::CHUNKS_DIR))
        .await?;
    records::put(store, prefix, layout::CHUNK_SOURCE, &info.video).await?;
    if let Some(video) = &info.video {
        report::store_split(store, prefix, input, video, settings, cancel).await?;
    }
    records::put(store, prefix, layout::CHUNK_PLAN, &plan).await?;
    tracing::info!(
        chunks = n,
        duration = plan.duration,
        "long video: encoding it as chunks"
    );
    Ok(Some(n))
}

/// How many chunks the plan under `prefix` has, if there is one (a split happened).
pub async fn planned_chunks(
    store: &dyn Storage,
    prefix: &str,
) -> Result<Option<u32>, PipelineError> {
    let plan: Option<chunked::ChunkedPlan> =
        records::get(store, prefix, layout::CHUNK_PLAN).await?;
    Ok(plan.map(|p| u32::try_from(p.chunks()).unwrap_or(u32::MAX)))
}

/// Whether `part`'s record is under `prefix` (it is done).
pub async fn part_done(
    store: &dyn Storage,
    prefix: &str,
    part: Part,
) -> Result<bool, PipelineError> {
    let Some(name) = part.record() else {
        return Ok(false);
    };
    let record: Option<serde_json::Value> = records::get(store, prefix, &name).await?;
    Ok(record.is_some())
}

/// The final step over the plan and records under `prefix`: manifests (only the init segments
/// and the storyboard tiles are fetched, into `work_dir`), the storyboard sprite, the dropped rungs' files deleted, and what the item records,
/// its encode report included (quality measured against `original`, see `report`).
pub async fn assemble_at(
    store: &dyn Storage,
    prefix: &str,
    original: Option<&Input>,
    work_dir: &Path,
    settings: &ProcessSettings,
    cancel: &CancellationToken,
) -> Result<MediaReady, PipelineError> {
    // A missing record is a storage fault no retry of this step mends (the parts are done):
    // the item fails saying so, and a retry of the item splits it again.
    let plan = records::plan(store, prefix).await?;
    let mut chunks: Vec<ChunkOutput> = Vec::with_capacity(plan.chunks());
    for r in &plan.ranges {
        let c = records::chunk(store, prefix, r.index)
            .await?
            .ok_or_else(|| {
                PipelineError::Unusable(format!(
                    "chunk {} of the encode is missing from storage (not a fault of the file); \
                     retry the item",
                    r.index
                ))
            })?;
        chunks.push(c);
    }
    let rest: RestOutput = records::rest(store, prefix).await?.ok_or_else(|| {
        PipelineError::Unusable(
            "the encode's audio part is missing from storage (not a fault of the file); \
                 retry the item"
                .into(),
        )
    })?;

    let out_dir = work_dir.join("out");
    tokio::fs::create_dir_all(&out_dir).await?;
    // Only the video streams' init segments, which chunk 0 alone writes: CODECS strings and
    // the manifests' stream facts come from them.
    let inits: BTreeSet<&String> = chunks
        .iter()
        .filter(|c| c.index == 0)
        .flat_map(|c| c.files.iter())
        .filter(|f| is_init_segment(f))
        .collect();
    publish::fetch(store, prefix, &out_dir, inits.into_iter()).await?;
    // Every part's storyboard tiles, for the sprite.
    let tiles = chunks.iter().flat_map(|c| &c.tiles).chain(&rest.tiles);
    publish::fetch_work(store, prefix, &out_dir, tiles).await?;

    let opts = process::video_options(settings, cancel.clone(), None);
    let assembled = chunked::assemble(&out_dir, &plan, &chunks, &rest, &opts).await?;
    publish::files(store, &out_dir, prefix, &assembled.written).await?;
    publish::delete(store, prefix, &assembled.delete).await;

    let out = &assembled.output;
    let mut warnings = out.warnings.clone();
    for w in &rest.warnings {
        if !warnings.contains(w) {
            warnings.push(w.clone());
        }
    }
    // The downloads, remuxed from the published streams as a single job's are from its own
    // (a failure leaves the item without them, with a warning).
    let streams = work_dir.join("streams");
    crate::backfill::fetch_streams(store, prefix, &streams).await?;
    let source: Option<probe::VideoInfo> = records::get(store, prefix, layout::CHUNK_SOURCE)
        .await?
        .flatten();
    // Both only read the published streams: side by side, as a single job's.
    let (downloads, encode) = tokio::join!(
        process::downloads(&streams, settings, cancel, &mut warnings),
        report::report(
            store,
            prefix,
            &streams,
            original,
            source.as_ref(),
            &out.encode,
            settings,
            cancel,
        )
    );
    let (downloads, encode) = (downloads?, encode?);
    let made: Vec<String> = downloads.iter().map(|d| d.path.clone()).collect();
    publish::files(store, &streams, prefix, &made).await?;
    let chunk_files = format!("{prefix}{}", layout::CHUNKS_DIR);
    let bytes = store
        .list(prefix)
        .await?
        .iter()
        .filter(|o| !o.key.starts_with(&chunk_files))
        .map(|o| o.size as i64)
        .sum();
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
        source: source.map(|v| process::source_video(&v, out)),
        downloads,
        encode,
        ..Default::default()
    };
    Ok(MediaReady {
        duration_seconds: Some(out.duration),
        width: Some(out.width as i32),
        height: Some(out.height as i32),
        playable: true,
        outputs,
    })
}

fn is_init_segment(rel: &str) -> bool {
    rel.strip_prefix(layout::STREAM_DIR)
        .is_some_and(|name| name.starts_with("init-") && name.ends_with(".m4s"))
}

/// What the in-process runner's chunk steps need of it.
pub(crate) struct Env<'a> {
    pub settings: &'a ProcessSettings,
    pub scratch: &'a Scratch,
    pub inputs: &'a Inputs,
}

/// The in-process split: [`split_at`] for a `whole` video job's downloaded original, which is
/// then kept for the chunk jobs this process takes. Progressive: the head's first segments
/// (written under `out_dir`) are published while the plan is made, and make the item playable.
/// `earlier`: segments an earlier attempt published (see `progressive.rs`).
pub(crate) async fn try_split(
    input: &Path,
    out_dir: &Path,
    earlier: HashMap<String, u64>,
    media: &Media,
    ctx: &RunContext,
    env: &Env<'_>,
    cancel: &CancellationToken,
) -> Result<Option<u32>, PipelineError> {
    if media.clip.is_some() {
        return Ok(None);
    }
    let prefix = media.outputs_prefix();
    // No progress to report while planning: the item's stays where it is.
    let (_progress, progress) = tokio::sync::watch::channel(0.0);
    let publisher = ProgressivePublisher::start(Target {
        store: ctx.output_store.clone(),
        repo: ctx.repo.clone(),
        media_id: media.id.clone(),
        prefix: prefix.clone(),
        out_dir: out_dir.to_path_buf(),
        progress,
        earlier,
    });
    let split = split_at(
        input,
        ctx.output_store.as_ref(),
        &prefix,
        env.settings,
        out_dir,
        publisher.sender(),
        cancel,
    )
    .await;
    // The head's files are uploaded before anything else happens to the item.
    let published = publisher.drain().await;
    if published.playable {
        tracing::info!("playable: the head is published");
    }
    let split = split?;
    if split.is_some() {
        if let Err(e) = env.inputs.adopt(&media.id, input, env.scratch).await {
            tracing::debug!(error = %ErrorChain(&e), "the original is not kept for the chunk jobs");
        }
    }
    Ok(split)
}

/// Runs a `chunk`, `rest` or `assemble` job in this process.
pub(crate) async fn run(
    job: &Job,
    media: &Media,
    ctx: &RunContext,
    env: &Env<'_>,
    cancel: &CancellationToken,
) -> Result<JobDone, PipelineError> {
    let _running = metrics::Running::start(job.kind);
    let Some(part) = Part::of(job)? else {
        return Err(PipelineError::Transient(
            "a whole job is not a part of a chunked encode".into(),
        ));
    };
    let store = ctx.output_store.as_ref();
    let prefix = media.outputs_prefix();
    let scratch = env.scratch.create(&job.id).await?;
    if part == Part::Assemble {
        // No provisional playlist lands over the final ones from now on (a part whose worker
        // lost its lease while publishing them may still be at it: this waits for it).
        ctx.repo.end_provisional(&job.id).await?;
        // The original, for the quality windows: a presigned URL, or the copy still kept here
        // (else downloaded: a store without URLs).
        let held = match env
            .inputs
            .get(media, ctx.media_store.as_ref(), env.scratch)
            .await
        {
            Ok(h) => Some(h),
            Err(PipelineError::Cancelled) => return Err(PipelineError::Cancelled),
            Err(e) => {
                tracing::warn!(error = %ErrorChain(&e), "no original to measure the quality against");
                None
            }
        };
        env.inputs.release(&media.id).await;
        let original = held.as_ref().map(|h| &h.input);
        let ready = assemble_at(
            store,
            &prefix,
            original,
            scratch.path(),
            env.settings,
            cancel,
        )
        .await?;
        return Ok(JobDone::Ready(ready));
    }
    if !part_done(store, &prefix, part).await? {
        ctx.repo.mark_media_processing(&media.id).await?;
        let held = env
            .inputs
            .get(media, ctx.media_store.as_ref(), env.scratch)
            .await?;
        // Progress: this part's own, and the item's (the mean over every part), once a second.
        let (tx, rx) = tokio::sync::watch::channel(0.0f64);
        let reporter = tokio::spawn(report_progress(ctx.clone(), job.clone(), rx));
        // Chunk 0 publishes its segments as it encodes them when a head went out
        // (`encode_chunk`); not on a retry, whose playlists would start shorter than those its
        // first attempt published (players expect them to grow).
        let publisher = (part == Part::Chunk(0) && job.attempts <= 1).then(|| {
            let (_progress, progress) = tokio::sync::watch::channel(0.0);
            ProgressivePublisher::start(Target {
                store: ctx.output_store.clone(),
                repo: ctx.repo.clone(),
                media_id: media.id.clone(),
                prefix: prefix.clone(),
                out_dir: part_out_dir(scratch.path()),
                progress,
                earlier: HashMap::new(),
            })
        });
        let run = PartRun {
            store,
            prefix: &prefix,
            input: &held.input,
            work_dir: scratch.path(),
            settings: env.settings,
            cancel,
        };
        let encoded = encode_part_publishing(&run, part, publisher, move |f| {
            tx.send_replace(f);
        })
        .await;
        reporter.abort();
        encoded?;
    }
    after_part(ctx, media, &job.id, part, env.inputs).await;
    Ok(JobDone::Part)
}

/// What follows a part's record, wherever it ran: the provisional playlists (and `playable`
/// once chunk 0 and the rest are there), and letting go of the local original when the item's
/// chunks are done.
pub(crate) async fn after_part(
    ctx: &RunContext,
    media: &Media,
    job: &JobId,
    part: Part,
    inputs: &Inputs,
) {
    publish::provisional(ctx, media, job).await;
    if let Part::Chunk(_) = part {
        if let Ok(Some(c)) = ctx.repo.chunk_counts(&media.id).await {
            // This chunk is not counted done yet.
            if c.done + 1 >= c.total {
                inputs.release(&media.id).await;
            }
        }
    }
}

/// [`after_part`] for a part that ran elsewhere (a container): no local original to let go of.
pub(crate) async fn after_remote_part(ctx: &RunContext, media: &Media, job: &JobId) {
    publish::provisional(ctx, media, job).await;
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
                // Best effort, like a single job's progress.
                if last != Some(pct)
                    && ctx
                        .repo
                        .set_media_progress(&job.media_id, pct, None)
                        .await
                        .is_ok()
                {
                    last = Some(pct);
                }
            }
            Ok(None) => return,
            Err(e) => tracing::debug!(error = %ErrorChain(&e), "part progress update failed"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Removes a chunked item's working files once it is recorded ready (they are not needed for
/// playback; a failed delete costs only their storage until the item goes).
pub(crate) async fn clean_up(store: &dyn Storage, id: &MediaId) {
    if let Err(e) = store.delete_prefix(&layout::chunks_prefix(id)).await {
        tracing::warn!(error = %ErrorChain(&e), "could not delete the chunked encode's working files");
    }
}

#[cfg(test)]
mod tests {
    use super::Part;

    #[test]
    fn parts_read_as_they_print() {
        for p in [Part::Chunk(0), Part::Chunk(17), Part::Rest, Part::Assemble] {
            assert_eq!(p.to_string().parse::<Part>(), Ok(p));
        }
        for bad in ["chunk:", "chunk:-1", "chunk:x", "whole", ""] {
            assert!(bad.parse::<Part>().is_err(), "{bad}");
        }
        assert_eq!(Part::Chunk(3).record().as_deref(), Some("chunks/3.json"));
        assert_eq!(Part::Assemble.record(), None);
    }
}
