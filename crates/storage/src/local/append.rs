//! Append-mode resumable uploads for the `Local` provider: bytes go straight into
//! `{key}.partial` as they arrive and the file is renamed onto the key at the end.

use crate::resumable::{AppendOutcome, ResumableMode, ResumableState};
use crate::{PutResult, Result, SourceStream, StorageError};
use futures::StreamExt;
use std::path::{Path, PathBuf};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};

fn io(what: &str, path: &Path, e: std::io::Error) -> StorageError {
    if crate::error::is_full_io(&e) {
        return StorageError::full_from(e);
    }
    StorageError::other_from(format!("{what} {}: {e}", path.display()), e)
}

async fn ensure_parent(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| io("creating", dir, e))?;
    }
    Ok(())
}

/// Makes a created or renamed directory entry durable: the caller records the upload (or the
/// finished object) next, and a power loss must not take the file away after that.
async fn sync_parent(path: &Path) -> Result<()> {
    let Some(dir) = path.parent() else {
        return Ok(());
    };
    let d = tokio::fs::File::open(dir)
        .await
        .map_err(|e| io("opening", dir, e))?;
    d.sync_all().await.map_err(|e| io("syncing", dir, e))
}

pub(crate) async fn start(partial: PathBuf) -> Result<ResumableState> {
    ensure_parent(&partial).await?;
    tokio::fs::File::create(&partial)
        .await
        .map_err(|e| io("creating", &partial, e))?;
    sync_parent(&partial).await?;
    // The upload's own folder was (usually) just created: its entry must last too.
    if let Some(dir) = partial.parent() {
        sync_parent(dir).await?;
    }
    Ok(ResumableState {
        offset: 0,
        mode: ResumableMode::Append,
    })
}

pub(crate) async fn append(
    partial: PathBuf,
    state: &ResumableState,
    mut data: SourceStream<'_>,
) -> Result<AppendOutcome> {
    let mut f = tokio::fs::OpenOptions::new()
        .write(true)
        .open(&partial)
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => StorageError::NotFound(partial.display().to_string()),
            _ => io("opening", &partial, e),
        })?;
    // Anything past the recorded offset was never acknowledged (a crash between the write and
    // the state update, or a rejected append): drop it.
    f.set_len(state.offset)
        .await
        .map_err(|e| io("truncating", &partial, e))?;
    f.seek(std::io::SeekFrom::Start(state.offset))
        .await
        .map_err(|e| io("seeking", &partial, e))?;
    let mut offset = state.offset;
    let mut source_error = None;
    while let Some(chunk) = data.next().await {
        match chunk {
            Ok(c) => {
                if let Err(e) = f.write_all(&c).await {
                    // Unacknowledged bytes are dropped at the next append anyway; drop them
                    // now, so a full disk gets its space back at once.
                    let _ = f.set_len(state.offset).await;
                    return Err(io("writing", &partial, e));
                }
                offset += c.len() as u64;
            }
            Err(e) => {
                source_error = Some(e);
                break;
            }
        }
    }
    // The caller acknowledges these bytes next; they must survive a power loss by then.
    if let Err(e) = flush_and_sync(&mut f).await {
        let _ = f.set_len(state.offset).await;
        return Err(io("writing", &partial, e));
    }
    Ok(AppendOutcome {
        state: ResumableState {
            offset,
            mode: ResumableMode::Append,
        },
        source_error,
    })
}

/// Drops what is past `offset` (bytes appended but never recorded).
pub(crate) async fn truncate(partial: PathBuf, offset: u64) -> Result<()> {
    let f = match tokio::fs::OpenOptions::new()
        .write(true)
        .open(&partial)
        .await
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io("opening", &partial, e)),
    };
    if f.metadata()
        .await
        .map_err(|e| io("reading", &partial, e))?
        .len()
        > offset
    {
        f.set_len(offset)
            .await
            .map_err(|e| io("truncating", &partial, e))?;
    }
    Ok(())
}

async fn flush_and_sync(f: &mut tokio::fs::File) -> std::io::Result<()> {
    f.flush().await?;
    f.sync_data().await
}

pub(crate) async fn finish(
    partial: PathBuf,
    target: PathBuf,
    state: &ResumableState,
) -> Result<PutResult> {
    let f = tokio::fs::OpenOptions::new()
        .write(true)
        .open(&partial)
        .await
        .map_err(|e| io("opening", &partial, e))?;
    f.set_len(state.offset)
        .await
        .map_err(|e| io("truncating", &partial, e))?;
    f.sync_all().await.map_err(|e| io("syncing", &partial, e))?;
    drop(f);
    ensure_parent(&target).await?;
    tokio::fs::rename(&partial, &target)
        .await
        .map_err(|e| io("renaming", &partial, e))?;
    sync_parent(&target).await?;
    Ok(PutResult {
        size: state.offset,
        etag: None,
    })
}
