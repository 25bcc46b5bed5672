//! The encode report of a chunked item (issue 14 §3 for issue 15's encodes), made by the
//! assemble step: the same [`EncodeReport`] a single job records.
//!
//! - Per rung: the settings the plan gave every chunk (one `RungEncode`, as a single job's),
//!   the encoder's own tag from chunk 0's first segment, and the bytes of the published init
//!   and media segments, from the chunks' records (what each chunk measured of the files it
//!   stored).
//! - Cost: CPU and wall seconds summed over every part (the chunks and the rest job) from
//!   their records: the work as one worker would have done it, comparable with a single job's.
//!   The parts may have run side by side: `elapsed_seconds` is the time from the split (its
//!   record) to this report, what the item waited.
//! - Quality: measured here, exactly as a single job samples it (`quality::plan_windows` over
//!   the whole video: 2 % of the duration, at most 6 one-second windows), against the original
//!   read through the part's input (a presigned URL: only the windows' ranges are read), the
//!   windows placed after the source keyframes the split listed from its local copy. The
//!   segments are read from the copy of the published streams the downloads' remux fetches.
//!
//! Anything missing (no original, no keyframes, a failed measurement) leaves the scores out
//! and never fails the item, as with a single job.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use mediaserver_core::{layout, EncodeReport};
use mediaserver_media::probe::VideoInfo;
use mediaserver_media::quality;
use mediaserver_media::transcode::chunked::Input;
use mediaserver_media::transcode::EncodeInfo;
use mediaserver_storage::Storage;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::{publish, records};
use crate::encode_report::{self, Reference};
use crate::process::ProcessSettings;
use crate::{ErrorChain, PipelineError};

/// What the split leaves for the report (`chunks/split.json`).
#[derive(Debug, Default, Serialize, Deserialize)]
struct SplitRecord {
    /// When the split was planned (Unix seconds).
    at: f64,
    /// The source video's keyframe times (seconds, as `quality::keyframes` gives them); empty
    /// when unknown.
    keyframes: Vec<f64>,
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// The split's side: the time, and the source video's keyframe times read from the local
/// original (one ffprobe pass over the packet index, as a single job's report makes), stored
/// for the assemble step. Keyframes are best effort: without them the windows are each
/// stretch's middle segment.
pub(super) async fn store_split(
    store: &dyn Storage,
    prefix: &str,
    input: &Path,
    video: &VideoInfo,
    settings: &ProcessSettings,
    cancel: &CancellationToken,
) -> Result<(), PipelineError> {
    let at = unix_now();
    let budget = mediaserver_media::process::Budget::new(settings.timeout, cancel.clone());
    let keyframes = match quality::keyframes(input, video, &budget).await {
        Ok(keyframes) => keyframes,
        Err(mediaserver_media::MediaError::Cancelled) => return Err(PipelineError::Cancelled),
        Err(e) => {
            tracing::warn!(error = %ErrorChain(&e), "cannot list the source's keyframes");
            Vec::new()
        }
    };
    records::put(
        store,
        prefix,
        layout::CHUNK_SPLIT,
        &SplitRecord { at, keyframes },
    )
    .await
}

/// The report of the assembled encode `encode` (its published streams, or at least their
/// playlists, in `out_dir`), its quality measured against `original`.
#[allow(clippy::too_many_arguments)]
pub(super) async fn report(
    store: &dyn Storage,
    prefix: &str,
    out_dir: &Path,
    original: Option<&Input>,
    video: Option<&VideoInfo>,
    encode: &EncodeInfo,
    settings: &ProcessSettings,
    cancel: &CancellationToken,
) -> Result<Option<EncodeReport>, PipelineError> {
    let Some(video) = video else {
        return Ok(None);
    };
    let split: Option<SplitRecord> = match records::get(store, prefix, layout::CHUNK_SPLIT).await {
        Ok(k) => k,
        Err(e) => {
            tracing::warn!(error = %ErrorChain(&e), "cannot read the split's record");
            None
        }
    };
    let keyframes = split
        .as_ref()
        .map(|s| s.keyframes.clone())
        .unwrap_or_default();
    let url = match original {
        Some(input) => match fetch_windows(store, prefix, out_dir, encode, &keyframes).await {
            Ok(()) => Some(input.ffmpeg_url()),
            Err(PipelineError::Cancelled) => return Err(PipelineError::Cancelled),
            Err(e) => {
                tracing::warn!(error = %ErrorChain(&e), "cannot fetch the segments to measure");
                None
            }
        },
        None => {
            tracing::warn!("no original to measure the renditions' quality against");
            None
        }
    };
    let reference = match &url {
        Some(url) => Reference::Url {
            url,
            keyframes: &keyframes,
        },
        None => Reference::Unmeasured,
    };
    let mut report =
        encode_report::report_against(reference, video, out_dir, encode, settings, cancel).await?;
    report.elapsed_seconds = split
        .filter(|s| s.at > 0.0)
        .map(|s| encode_report::round((unix_now() - s.at).max(0.0), 3));
    Ok(Some(report))
}

/// Downloads the files the quality windows read that are not in `out_dir` yet (none when the
/// downloads' copy of the streams is there).
async fn fetch_windows(
    store: &dyn Storage,
    prefix: &str,
    out_dir: &Path,
    encode: &EncodeInfo,
    keyframes: &[f64],
) -> Result<(), PipelineError> {
    let files = quality::window_files(out_dir, &encode.rungs, keyframes).await?;
    let missing: BTreeSet<String> = files
        .into_iter()
        .filter(|f| !out_dir.join(f).exists())
        .collect();
    publish::fetch(store, prefix, out_dir, missing.iter()).await
}
