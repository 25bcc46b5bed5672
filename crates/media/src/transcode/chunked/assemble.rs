//! The final step: playlists, master and MPD from the records.

use super::{ChunkOutput, ChunkedPlan, RestOutput};
use crate::error::Result;
use crate::transcode::{VideoOptions, VideoOutput};
use std::path::Path;

/// What [`assemble`] made.
#[derive(Debug, Clone, PartialEq)]
pub struct Assembled {
    /// What a single `video()` run of the same source returns.
    pub output: VideoOutput,
    /// Files written by this step (relative to `out_dir`): media playlists, master, MPD, text
    /// track playlists, storyboard index.
    pub written: Vec<String>,
    /// Files of rungs the adaptive ladder dropped (relative paths, already published by the
    /// chunks): to delete.
    pub delete: Vec<String>,
}

/// `out_dir` holds the init segments (`stream/init-N.m4s`) only. Writes the HLS media
/// playlists, the master and the MPD (measured `BANDWIDTH`/`AVERAGE-BANDWIDTH`, near-duplicate
/// rungs dropped in adaptive mode, CODECS from the init segments) exactly as a single job's.
pub async fn assemble(
    out_dir: &Path,
    plan: &ChunkedPlan,
    chunks: &[ChunkOutput],
    rest: &RestOutput,
    opts: &VideoOptions,
) -> Result<Assembled> {
    let _ = (out_dir, plan, chunks, rest, opts);
    Err(crate::MediaError::Io(std::io::Error::other(
        "chunked::assemble: not yet",
    )))
}
