//! What `mediaserver transcode` leaves under the item's output prefix for a runner that started
//! it elsewhere (a container instance, a Kubernetes Job…), and how that runner reads it:
//!
//! * while it encodes, [`PROGRESS_OBJECT`] ([`TranscodeProgress`]), rewritten every
//!   `TRANSCODE_PROGRESS_SECONDS`;
//! * last, once every output is in place, [`SUMMARY_OBJECT`] ([`TranscodeSummary`]): what the
//!   item records, exactly what the in-process runner would have recorded.
//!
//! Chunked encoding (issue 15; [`part_arguments`], [`load_result`]): a whole video job runs
//! `transcode SRC DEST --split`, which, for a video longer than the container's
//! `CHUNK_MIN_SECONDS`, stores the plan (`chunks/plan.json`) instead of encoding — the runner
//! then queues the parts. A part runs `transcode SRC DEST --part chunk:N | rest | assemble`:
//! a chunk or the rest publishes its files and, last, its record (`chunks/N.json`,
//! `chunks/rest.json`), which is its result; the assemble step writes the summary.

use mediaserver_core::{Job, JobKind, Media, MediaKind, MediaOutputs};
use mediaserver_db::MediaReady;
use mediaserver_storage::{ObjectKey, Storage, StorageError};

use super::{JobDone, RunContext};
use crate::chunked::{self, Part};
use crate::progress::ProgressReporter;
use crate::{objects, ErrorChain, PipelineError};

pub use mediaserver_core::layout::{PROGRESS_OBJECT, SUMMARY_OBJECT};

/// The content of [`PROGRESS_OBJECT`].
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct TranscodeProgress {
    /// How much of the encode is done, 0.0–1.0.
    pub fraction: f64,
}

/// The summary `mediaserver transcode` writes (the fields the item records).
#[derive(Debug, serde::Deserialize)]
pub struct TranscodeSummary {
    pub duration_seconds: Option<f64>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    #[serde(flatten)]
    pub outputs: MediaOutputs,
}

impl TranscodeSummary {
    pub fn into_ready(self) -> MediaReady {
        MediaReady {
            duration_seconds: self.duration_seconds,
            width: self.width,
            height: self.height,
            playable: self.outputs.hls.is_some(),
            outputs: self.outputs,
        }
    }
}

/// Copies the running container's progress object (under `prefix`) into the item's progress.
/// Best effort: no object yet (ffprobe still running) or a failed read just leaves the progress
/// as it was.
pub async fn relay_progress(store: &dyn Storage, prefix: &str, progress: &mut ProgressReporter) {
    let Ok(key) = ObjectKey::new(format!("{prefix}{PROGRESS_OBJECT}")) else {
        return;
    };
    let parsed = match read_small(store, &key).await {
        Ok(bytes) => serde_json::from_slice::<TranscodeProgress>(&bytes),
        Err(StorageError::NotFound(_)) => return,
        Err(e) => {
            tracing::debug!(error = %ErrorChain(&e), "could not read the container's progress");
            return;
        }
    };
    let Ok(p) = parsed else {
        tracing::debug!(key = %key, "the container's progress object is not progress");
        return;
    };
    progress.report(p.fraction).await;
}

/// Reads and parses the summary object under `prefix` through `store`; a missing summary (the
/// container exited 0 without writing it) is a failed attempt.
pub async fn load_summary(store: &dyn Storage, prefix: &str) -> Result<MediaReady, PipelineError> {
    let key =
        ObjectKey::new(format!("{prefix}{SUMMARY_OBJECT}")).map_err(|e| PipelineError::Key {
            what: "summary key",
            source: e,
        })?;
    let bytes = match read_small(store, &key).await {
        Ok(b) => b,
        Err(StorageError::NotFound(_)) => {
            return Err(PipelineError::Transient(format!(
                "the transcode container exited 0 but wrote no {key}"
            )))
        }
        Err(e) => return Err(e.into()),
    };
    let summary: TranscodeSummary =
        serde_json::from_slice(&bytes).map_err(|e| PipelineError::Summary {
            key: key.to_string(),
            source: e,
        })?;
    Ok(summary.into_ready())
}

/// The `mediaserver transcode` arguments after `SRC DEST` that run `job`: `--split` for a whole
/// video (the container's `CHUNK_SECONDS` decides whether it splits), `--part …` for a part.
pub fn part_arguments(job: &Job, media: &Media) -> Result<Vec<String>, PipelineError> {
    Ok(match Part::of(job)? {
        None if media.kind == MediaKind::Video && media.clip.is_none() => vec!["--split".into()],
        None => Vec::new(),
        Some(part) => vec!["--part".into(), part.to_string()],
    })
}

/// What a finished `mediaserver transcode` (exit code 0) of `job` left under the item's
/// outputs, as the worker records it: a split (the plan is there), a part (its record is there)
/// or a ready item (the summary).
pub async fn load_result(
    job: &Job,
    media: &Media,
    ctx: &RunContext,
) -> Result<JobDone, PipelineError> {
    let store = ctx.output_store.as_ref();
    let prefix = media.outputs_prefix();
    match Part::of(job)? {
        None => match chunked::planned_chunks(store, &prefix).await? {
            Some(chunks) if job.kind == JobKind::Whole => Ok(JobDone::Split { chunks }),
            _ => load_summary(store, &prefix).await.map(JobDone::Ready),
        },
        Some(Part::Assemble) => load_summary(store, &prefix).await.map(JobDone::Ready),
        Some(part) => {
            if !chunked::part_done(store, &prefix, part).await? {
                return Err(PipelineError::Transient(format!(
                    "the transcode container exited 0 but stored no record of {part}"
                )));
            }
            chunked::after_remote_part(ctx, media, &job.id).await;
            Ok(JobDone::Part)
        }
    }
}

/// A small object's bytes (the summary is a few KiB; refuse anything absurd).
async fn read_small(store: &dyn Storage, key: &ObjectKey) -> Result<Vec<u8>, StorageError> {
    objects::read(store, key, 16 * 1024 * 1024)
        .await?
        .ok_or_else(|| StorageError::other(format!("{key} is larger than 16 MiB")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mediaserver_core::{TextTrack, TextTrackKind, TextTrackSource};

    #[test]
    fn summary_carries_the_text_tracks() {
        // What `mediaserver transcode` prints (fields abridged).
        let json = r#"{"kind":"video","duration_seconds":4.0,"width":160,"height":90,
            "renditions":[],"hls":"stream/master.m3u8","dash":"stream/manifest.mpd","bytes":9,
            "warnings":["subtitle track 3 (deu) is a picture-based format (PGS) and was left out"],
            "text_tracks":[{"id":"s0","language":"eng","label":"English","kind":"captions",
                            "source":"embedded"}],
            "files":3,"destination":"/x"}"#;
        let summary: TranscodeSummary = serde_json::from_str(json).unwrap();
        let ready = summary.into_ready();
        assert_eq!(
            ready.outputs.text_tracks,
            vec![TextTrack {
                id: "s0".into(),
                language: "eng".into(),
                label: "English".into(),
                kind: TextTrackKind::Captions,
                source: TextTrackSource::Embedded,
            }]
        );
        assert_eq!(ready.outputs.warnings.len(), 1);
        // A summary from before text tracks existed still reads.
        let old: TranscodeSummary =
            serde_json::from_str(r#"{"duration_seconds":1.0,"hls":"stream/master.m3u8"}"#).unwrap();
        assert!(old.into_ready().outputs.text_tracks.is_empty());
    }
}
