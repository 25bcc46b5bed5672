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

/// Readiness: the bucket's directory still exists.
pub(crate) async fn check_dir(root: &Path) -> Result<()> {
    match tokio::fs::metadata(root).await {
        Ok(m) if m.is_dir() => Ok(()),
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
