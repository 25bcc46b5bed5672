//! Fast reads for the `Local` provider. object_store's `LocalFileSystem` reads files in 8 KiB
//! chunks, each on its own blocking task: fine for the pipeline, far too slow for serving video
//! segments to many players. Serving reads go straight to the file in large chunks instead; the
//! file path and the metadata (ETag included) are exactly object_store's, so both paths agree.

use crate::{ByteStream, ObjectMeta, Result, StorageError};
use futures::StreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use std::ops::Range;
use std::time::SystemTime;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// Read size for streamed responses: large enough to keep syscalls and task hops rare.
const CHUNK: usize = 256 * 1024;

fn not_found(key: &str) -> StorageError {
    StorageError::NotFound(key.to_string())
}

fn io(key: &str, e: std::io::Error) -> StorageError {
    match e.kind() {
        // A file where a directory would be: nothing can exist at this key either.
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory => not_found(key),
        _ => StorageError::Other(format!("reading {key}: {e}")),
    }
}

/// The same ETag object_store computes for local files: inode, mtime (µs) and size, in hex.
fn meta_of(key: &str, m: &std::fs::Metadata) -> ObjectMeta {
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(m);
    #[cfg(not(unix))]
    let inode = 0u64;
    let mtime = m
        .modified()
        .ok()
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .unwrap_or_default();
    ObjectMeta {
        key: key.to_string(),
        size: m.len(),
        etag: Some(format!("{inode:x}-{:x}-{:x}", mtime.as_micros(), m.len())),
        last_modified: chrono::DateTime::<chrono::Utc>::from(
            SystemTime::UNIX_EPOCH + mtime,
        ),
    }
}

pub(crate) async fn head(fs: &LocalFileSystem, location: &Path, key: &str) -> Result<ObjectMeta> {
    let path = fs.path_to_filesystem(location).map_err(|_| not_found(key))?;
    let m = tokio::fs::metadata(&path).await.map_err(|e| io(key, e))?;
    if !m.is_file() {
        return Err(not_found(key));
    }
    Ok(meta_of(key, &m))
}

/// Streams `range` (whole file if `None`; end clamped) of the object.
pub(crate) async fn stream(
    fs: &LocalFileSystem,
    location: &Path,
    key: &str,
    range: Option<Range<u64>>,
) -> Result<(ObjectMeta, ByteStream)> {
    let path = fs.path_to_filesystem(location).map_err(|_| not_found(key))?;
    let mut file = tokio::fs::File::open(&path).await.map_err(|e| io(key, e))?;
    let m = file.metadata().await.map_err(|e| io(key, e))?;
    if !m.is_file() {
        return Err(not_found(key));
    }
    let meta = meta_of(key, &m);
    let size = meta.size;
    let range = match range {
        None => 0..size,
        // As for every provider: a range must start inside the object.
        Some(r) if r.start >= size => {
            return Err(StorageError::RangeNotSatisfiable {
                start: r.start,
                end: r.end,
                size,
            })
        }
        Some(r) => r,
    };
    let end = range.end.min(size);
    if range.start > 0 {
        file.seek(std::io::SeekFrom::Start(range.start))
            .await
            .map_err(|e| io(key, e))?;
    }
    let reader = file.take(end.saturating_sub(range.start));
    let owned_key = key.to_string();
    let stream = tokio_util::io::ReaderStream::with_capacity(reader, CHUNK)
        .map(move |r| r.map_err(|e| io(&owned_key, e)))
        .boxed();
    Ok((meta, stream))
}
