//! The Local provider's counterpart of open multipart uploads: `LocalFileSystem` writes a large
//! object into a staging file `{key}#{n}` and renames it at the end, so a process that died
//! mid-write leaves that file behind, hidden from listings. Listed and removed like an S3
//! multipart upload (`Storage::list_open_uploads` / `abort_open_upload`).

use crate::{OpenUpload, Result, StorageError};
use std::path::{Path, PathBuf};

/// `name#digits`: a staging file's name; `name` is its object's.
fn object_name(file_name: &str) -> Option<&str> {
    let (name, n) = file_name.rsplit_once('#')?;
    (!name.is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())).then_some(name)
}

/// Every staging file under `root`.
pub(crate) async fn list(root: PathBuf) -> Result<Vec<OpenUpload>> {
    tokio::task::spawn_blocking(move || {
        let mut found = Vec::new();
        let mut dirs = vec![root.clone()];
        while let Some(dir) = dirs.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                // Removed meanwhile (an object deleted, its folder cleaned up).
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io(&dir, e)),
            };
            for entry in entries.flatten() {
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                let path = entry.path();
                if kind.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let file_name = entry.file_name().to_string_lossy().into_owned();
                let (Some(name), Ok(rel)) = (object_name(&file_name), path.strip_prefix(&root))
                else {
                    continue;
                };
                let Some(staging) = rel.to_str().map(str::to_owned) else {
                    continue;
                };
                let key = match staging.rsplit_once('/') {
                    Some((dir, _)) => format!("{dir}/{name}"),
                    None => name.to_string(),
                };
                let initiated = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .map(chrono::DateTime::<chrono::Utc>::from)
                    .unwrap_or_else(|_| chrono::Utc::now());
                found.push(OpenUpload {
                    key,
                    upload_id: staging,
                    initiated,
                });
            }
        }
        Ok(found)
    })
    .await
    .map_err(|e| StorageError::other_from("listing staging files", e))?
}

/// Removes the staging file `upload_id` (a path under `root` that [`list`] returned).
pub(crate) async fn remove(root: &Path, upload_id: &str) -> Result<()> {
    let rel = Path::new(upload_id);
    let safe = rel
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)));
    let staging = rel
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(object_name)
        .is_some();
    if !safe || !staging {
        return Err(StorageError::InvalidKey(format!(
            "not a staging file: {upload_id}"
        )));
    }
    let path = root.join(rel);
    match tokio::fs::remove_file(&path).await {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(&path, e)),
    }
}

fn io(path: &Path, e: std::io::Error) -> StorageError {
    StorageError::other_from(format!("{}: {e}", path.display()), e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_names() {
        assert_eq!(object_name("clip.mp4#1"), Some("clip.mp4"));
        assert_eq!(object_name("a#b#12"), Some("a#b"));
        for other in ["clip.mp4", "clip#", "#3", "clip#x1", "clip.mp4.partial"] {
            assert_eq!(object_name(other), None, "{other}");
        }
    }
}
