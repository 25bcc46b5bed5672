//! What is particular to a bucket directory: the key names `LocalFileSystem` reserves, and
//! readiness.

use crate::{ObjectKey, Result, StorageError};
use std::path::Path;

/// LocalFileSystem reserves file names ending in `#<digits>` for multipart staging files, so
/// such keys are invalid here rather than a storage error.
pub(crate) fn check_key(key: &ObjectKey) -> Result<()> {
    let name = key.as_str().rsplit('/').next().unwrap_or_default();
    if let Some((_, suffix)) = name.split_once('#') {
        if !suffix.is_empty() && suffix.bytes().all(|b| b.is_ascii_digit()) {
            return Err(StorageError::InvalidKey(format!(
                "local storage cannot hold names ending in '#<digits>': {key}"
            )));
        }
    }
    Ok(())
}

/// Free space below which the bucket's disk counts as full for readiness: a write of any size
/// is about to fail with ENOSPC.
const MIN_FREE_BYTES: u64 = 1024 * 1024;

/// Readiness: the bucket's directory still exists and its disk has room for writes.
pub(crate) async fn check_dir(root: &Path) -> Result<()> {
    match tokio::fs::metadata(root).await {
        Ok(m) if m.is_dir() => check_free_space(root),
        Ok(_) => Err(StorageError::unavailable(format!(
            "{} is not a directory",
            root.display()
        ))),
        Err(e) => Err(StorageError::unavailable_from(
            format!("{}: {e}", root.display()),
            e,
        )),
    }
}

fn check_free_space(root: &Path) -> Result<()> {
    // A filesystem that cannot say how full it is is not reported as full.
    let Ok(stat) = rustix::fs::statvfs(root) else {
        return Ok(());
    };
    let free = stat.f_bavail.saturating_mul(stat.f_frsize);
    if free < MIN_FREE_BYTES {
        return Err(StorageError::Full {
            message: format!("the disk holding the storage is full ({free} bytes free)"),
            source: None,
        });
    }
    Ok(())
}
