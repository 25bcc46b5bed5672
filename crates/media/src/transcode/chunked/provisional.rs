//! Provisional `EVENT` playlists while chunks are still being encoded.

use super::{ChunkOutput, ChunkedPlan, RestOutput};
use crate::error::Result;

/// The `EVENT` media playlists of the contiguous prefix of `done` chunks (0, 1, … — a chunk
/// after a gap is not listed yet), the audio playlists once `rest` is there, and a master once
/// every stream has a segment. (relative path, content) pairs.
pub fn provisional(
    plan: &ChunkedPlan,
    done: &[ChunkOutput],
    rest: Option<&RestOutput>,
) -> Result<Vec<(String, String)>> {
    let _ = (plan, done, rest);
    Err(crate::MediaError::Io(std::io::Error::other(
        "chunked::provisional: not yet",
    )))
}
