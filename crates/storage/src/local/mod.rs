//! `Local`: a bucket stored as the directory `root/bucket`, served by the `object_store`
//! implementation (`objstore/`) over `LocalFileSystem`, plus what only a directory has: a fast
//! read path ([`read`]), append-mode resumable uploads ([`append`]) and its own key rule and
//! readiness check ([`dir`]). Those three are leaves: `objstore` calls them, they import no
//! provider code.

pub(crate) mod append;
pub(crate) mod dir;
pub(crate) mod read;
pub(crate) mod staging;

use crate::key::validate_bucket;
use crate::objstore::{ObjectStoreStorage, Provider, Redactor};
use crate::writer::validate_part_size;
use crate::{Result, Storage, StorageError};
use std::path::Path;
use std::sync::Arc;

/// A bucket stored as the directory `root/bucket` (created if missing).
pub fn local(root: &Path, bucket: &str, part_size: usize) -> Result<Arc<dyn Storage>> {
    validate_bucket(bucket)?;
    validate_part_size(part_size)?;
    let dir = root.join(bucket);
    let io_err = |e: std::io::Error| {
        StorageError::other_from(format!("local storage at {}: {e}", dir.display()), e)
    };
    std::fs::create_dir_all(&dir).map_err(io_err)?;
    let dir = std::fs::canonicalize(&dir).map_err(io_err)?;
    let store = object_store::local::LocalFileSystem::new_with_prefix(&dir)
        .map_err(|e| StorageError::other_from(e.to_string(), e))?
        // Remove directories emptied by deletes so deleted media leaves no trace.
        .with_automatic_cleanup(true);
    let store = Arc::new(store);
    Ok(Arc::new(ObjectStoreStorage {
        store: store.clone(),
        provider: Provider::Local {
            root: dir,
            fs: store,
        },
        parts: None,
        bucket: bucket.to_string(),
        part_size,
        redactor: Redactor::default(),
        failed_aborts: Default::default(),
    }))
}
