//! One chunk: every video output stream for one range of the source.

use super::{ChunkOutput, ChunkedPlan, Input};
use crate::error::Result;
use crate::progress::Progress;
use crate::transcode::VideoOptions;
use std::path::Path;

/// Encodes chunk `index` of `plan` from `input` into `out_dir/stream/` (init segments and this
/// chunk's media segments under their final names; nothing else). `opts` must be the options
/// the plan was made with (segment and keyframe durations are checked).
pub async fn encode_chunk(
    input: &Input,
    out_dir: &Path,
    plan: &ChunkedPlan,
    index: u32,
    opts: &VideoOptions,
    progress: impl FnMut(Progress) + Send,
) -> Result<ChunkOutput> {
    let _ = (input.ffmpeg_url(), out_dir, plan, index, opts, progress);
    Err(crate::MediaError::Io(std::io::Error::other(
        "chunked::encode_chunk: not yet",
    )))
}
