//! What this process keeps per tus upload between requests: the running SHA-256 of its bytes,
//! carried from PATCH to PATCH so the request that completes a large upload need not read the
//! whole file back to hash it. It is lost on restart (or when another replica took the next
//! PATCH): completion then hashes the stored object instead. (Who may write to an upload at all
//! is `mediaserver_ingest`'s upload lock.)

use mediaserver_core::UploadId;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;

/// Bounds memory if clients abandon uploads; an evicted upload is hashed at completion.
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub(crate) struct RunningHashes {
    hashes: Mutex<HashMap<UploadId, (u64, Sha256)>>,
}

impl RunningHashes {
    /// The hash of the first `offset` bytes, if this server has it (a fresh one at 0).
    pub(super) fn take(&self, id: &UploadId, offset: u64) -> Option<Sha256> {
        let found = self.hashes.lock().ok()?.remove(id);
        match found {
            Some((at, h)) if at == offset => Some(h),
            _ if offset == 0 => Some(Sha256::new()),
            _ => None,
        }
    }

    pub(super) fn keep(&self, id: &UploadId, offset: u64, h: Sha256) {
        if let Ok(mut map) = self.hashes.lock() {
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(id.clone(), (offset, h));
        }
    }
}
