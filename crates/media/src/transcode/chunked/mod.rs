//! Chunked encoding (issue 15): a long video's rungs encoded range by range by any number of
//! workers, and put together into exactly what one [`super::video`] run publishes.
//!
//! * [`plan`] decides once, over the whole source, everything the parts must agree on (the
//!   ranges, rungs, picture chain, each rung's CRF from ONE complexity probe, audio and text
//!   plans); the plan travels as JSON.
//! * [`encode_chunk`] encodes every video output stream for one range, under the final segment
//!   names (`stream/chunk-N-{global number}.m4s`): an accurate input seek to the range's first
//!   frame (the frame a single encode makes a keyframe at the range's start), exactly the
//!   range's frames, keyframes on the frames a single encode forces them on, and
//!   `-output_ts_offset` so that decode times (`tfdt`) continue where the previous chunk ends.
//! * [`encode_rest`] encodes what is not a video rung, once for the whole source: every audio
//!   track (so AAC priming never leaves a gap at a chunk border), the text tracks, the
//!   thumbnail and the storyboard.
//! * [`assemble`] writes the HLS media playlists, the master and the MPD from the records alone
//!   (it needs the init segments, not the media segments); [`provisional`] the `EVENT`
//!   playlists of a done prefix of chunks.
//!
//! Sources without a constant frame rate (nothing to compute frame-exact ranges from) run as
//! one job: [`plan`] answers `None` for them.

mod assemble;
mod encode;
mod frames;
mod mpd;
mod provisional;
mod ranges;
mod records;
mod rest;

pub use assemble::{assemble, Assembled};
pub use encode::encode_chunk;
pub use provisional::provisional;
pub use ranges::{plan_ranges, ChunkRange};
pub use records::{ChunkOutput, ChunkSegment, ChunkStream, RestAudio, RestOutput};
pub use rest::encode_rest;

use super::picture::Picture;
use super::VideoOptions;
use crate::error::Result;
use crate::ladder::Rung;
use crate::probe::ProbeInfo;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// When a source is chunked (`CHUNK_SECONDS`, `CHUNK_MIN_SECONDS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkSettings {
    /// Length of a chunk (rounded up to a multiple of the segment duration); 0 turns chunking
    /// off.
    pub chunk_seconds: u32,
    /// Sources no longer than this run as one job.
    pub min_seconds: u32,
}

impl Default for ChunkSettings {
    fn default() -> Self {
        ChunkSettings {
            chunk_seconds: 60,
            min_seconds: 120,
        }
    }
}

/// What a chunk or the rest reads: a local file, or a URL ffmpeg can seek in with range
/// requests (a presigned HTTPS URL of the original); a chunk then reads only its range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    File(PathBuf),
    Url(String),
}

impl From<&Path> for Input {
    fn from(p: &Path) -> Self {
        Input::File(p.to_path_buf())
    }
}

impl From<PathBuf> for Input {
    fn from(p: PathBuf) -> Self {
        Input::File(p)
    }
}

impl Input {
    /// ffmpeg's name for it (`file:` keeps a path starting with `-` or holding `:` a path).
    pub(crate) fn ffmpeg_url(&self) -> std::ffi::OsString {
        match self {
            Input::File(p) => crate::probe::file_url(p).into_os_string(),
            Input::Url(u) => u.into(),
        }
    }
}

/// Everything decided once for the whole source that every chunk, the rest and the final step
/// must agree on. Travels as JSON (`media/{id}/chunks/plan.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChunkedPlan {
    pub ranges: Vec<ChunkRange>,
    /// The source's probed media duration, seconds.
    pub duration: f64,
    /// The probe the plan was made from (the audio and text plans, sizes, the decoder).
    probe: ProbeInfo,
    picture: Picture,
    rungs: Vec<Rung>,
    /// Adaptive mode: each rung's CRF from the one complexity probe; empty otherwise.
    crfs: Vec<u32>,
    segment_seconds: u32,
    keyframe_seconds: u32,
}

impl ChunkedPlan {
    /// How many chunk jobs.
    pub fn chunks(&self) -> usize {
        self.ranges.len()
    }
}

/// Plans a chunked encode of the video `input` (`probe` describes it), or `None` when it runs
/// as one job: not above `chunks.min_seconds`, chunking off, audio-only, a still image, or no
/// constant frame rate. The adaptive ladder's complexity probe runs here, once.
pub async fn plan(
    input: &Path,
    probe: &ProbeInfo,
    opts: &VideoOptions,
    chunks: &ChunkSettings,
) -> Result<Option<ChunkedPlan>> {
    let _ = (input, probe, opts, chunks);
    Err(crate::MediaError::Io(std::io::Error::other(
        "chunked::plan: not yet",
    )))
}
