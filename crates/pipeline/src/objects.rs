//! Stored objects read whole, by the one loop every caller shares: into memory (small objects
//! this server wrote: records, a remote run's summary, an init segment to compare) or into a
//! local file (an original, a part's outputs).

use crate::PipelineError;
use futures::StreamExt;
use mediaserver_storage::{ObjectKey, Storage, StorageError};
use std::path::Path;
use tokio::io::AsyncWriteExt;

/// The object `key`'s bytes, or `None` once it passes `limit` bytes (read no further): the
/// objects read this way are small, and one larger is not what the caller looks for.
pub(crate) async fn read(
    store: &dyn Storage,
    key: &ObjectKey,
    limit: usize,
) -> Result<Option<Vec<u8>>, StorageError> {
    let (meta, mut stream) = store.get_stream(key).await?;
    if meta.size > limit as u64 {
        return Ok(None);
    }
    let mut bytes = Vec::with_capacity(meta.size as usize);
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk?);
        if bytes.len() > limit {
            return Ok(None);
        }
    }
    Ok(Some(bytes))
}

/// The object `key` written into the file `dest` (created or truncated; its folder must
/// exist). Storage failures stay [`PipelineError::Storage`] (a caller may match a missing
/// object); the file's are [`PipelineError::LocalFile`].
pub(crate) async fn download(
    store: &dyn Storage,
    key: &ObjectKey,
    dest: &Path,
) -> Result<(), PipelineError> {
    let (_, mut stream) = store.get_stream(key).await?;
    let mut file = tokio::fs::File::create(dest).await?;
    while let Some(chunk) = stream.next().await {
        file.write_all(&chunk?).await?;
    }
    file.flush().await?;
    Ok(())
}
