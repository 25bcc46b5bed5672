//! The rest job: everything of a chunked video that is not a video rung, for the whole source.

use super::{ChunkedPlan, Input, RestOutput};
use crate::error::Result;
use crate::progress::Progress;
use crate::transcode::VideoOptions;
use std::path::Path;

/// Encodes every audio track (output streams numbered after the video rungs, as in a single
/// encode), converts the text tracks, and makes the thumbnail and the storyboard sprite, into
/// `out_dir`.
pub async fn encode_rest(
    input: &Input,
    out_dir: &Path,
    plan: &ChunkedPlan,
    opts: &VideoOptions,
    progress: impl FnMut(Progress) + Send,
) -> Result<RestOutput> {
    let _ = (input, out_dir, plan, opts, progress);
    Err(crate::MediaError::Io(std::io::Error::other(
        "chunked::encode_rest: not yet",
    )))
}
