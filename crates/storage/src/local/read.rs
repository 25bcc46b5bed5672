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
/// Objects up to this size are read whole in one blocking call.
const SMALL: u64 = 64 * 1024;

fn not_found(key: &str) -> StorageError {
    StorageError::NotFound(key.to_string())
}

fn io(key: &str, e: std::io::Error) -> StorageError {
    match e.kind() {
        // A file where a directory would be: nothing can exist at this key either.
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory => not_found(key),
        _ => StorageError::other_from(format!("reading {key}: {e}"), e),
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
        last_modified: chrono::DateTime::<chrono::Utc>::from(SystemTime::UNIX_EPOCH + mtime),
    }
}

pub(crate) async fn head(fs: &LocalFileSystem, location: &Path, key: &str) -> Result<ObjectMeta> {
    let path = fs
        .path_to_filesystem(location)
        .map_err(|_| not_found(key))?;
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
    let path = fs
        .path_to_filesystem(location)
        .map_err(|_| not_found(key))?;
    // Small objects (playlists, manifests, thumbnails) are read whole in one blocking call:
    // one trip to the blocking pool instead of one per open, stat and read.
    let small = {
        let path = path.clone();
        let range = range.clone();
        tokio::task::spawn_blocking(
            move || -> std::io::Result<Option<(std::fs::Metadata, Vec<u8>)>> {
                use std::io::{Read, Seek};
                let mut f = std::fs::File::open(&path)?;
                let m = f.metadata()?;
                if !m.is_file() || m.len() > SMALL {
                    return Ok(None);
                }
                let (start, end) = match &range {
                    Some(r) if r.start >= m.len() => return Ok(Some((m, Vec::new()))),
                    Some(r) => (r.start, r.end.min(m.len())),
                    None => (0, m.len()),
                };
                f.seek(std::io::SeekFrom::Start(start))?;
                let mut buf = Vec::with_capacity((end - start) as usize);
                f.take(end - start).read_to_end(&mut buf)?;
                Ok(Some((m, buf)))
            },
        )
        .await
        .map_err(|e| StorageError::other_from(format!("read task: {e}"), e))?
        .map_err(|e| io(key, e))?
    };
    if let Some((m, bytes)) = small {
        let meta = meta_of(key, &m);
        if let Some(r) = &range {
            if r.start >= meta.size {
                return Err(StorageError::RangeNotSatisfiable {
                    start: r.start,
                    end: r.end,
                    size: meta.size,
                });
            }
        }
        let chunk = bytes::Bytes::from(bytes);
        return Ok((
            meta,
            futures::stream::once(async move { Ok(chunk) }).boxed(),
        ));
    }
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
    let len = end.saturating_sub(range.start);
    let reader = file.take(len);
    let owned_key = key.to_string();
    // Small files (playlists) get a small buffer: the buffer is allocated per request.
    let capacity = usize::try_from(len).unwrap_or(CHUNK).clamp(1, CHUNK);
    let stream = tokio_util::io::ReaderStream::with_capacity(reader, capacity)
        .map(move |r| r.map_err(|e| io(&owned_key, e)))
        .boxed();
    Ok((meta, stream))
}
