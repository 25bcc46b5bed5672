//! What this process keeps per tus upload between requests: a lock, so one request at a time
//! writes to an upload, and the running SHA-256 of its bytes — carried from PATCH to PATCH so
//! the request that completes a large upload need not read the whole file back to hash it.
//! Both are lost on restart: completion then hashes the stored object instead.
//!
//! The lock is per process. With several replicas, a client's requests for one upload should
//! reach one replica at a time (tus clients send them one after another; a load balancer with
//! sticky sessions makes sure of it): the compare-and-set on the offset in the database stops
//! two replicas from both recording progress, but on S3-style storage two replicas appending the
//! same range at the same moment write parts under the same numbers, and the loser's cleanup can
//! remove the winner's pending remainder, leaving the upload unable to complete (the client
//! then starts it again).

use crate::error::{ApiError, ApiResult};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// One request at a time per upload in this process (a client retrying after a dropped
/// connection may overlap the request the server has not yet seen end). Also taken by the
/// expiry sweep and the one-time direct-upload URL.
pub(crate) async fn lock(id: &str) -> ApiResult<tokio::sync::OwnedMutexGuard<()>> {
    static LOCKS: Mutex<Option<HashMap<String, Weak<tokio::sync::Mutex<()>>>>> = Mutex::new(None);
    let m = {
        let mut map = LOCKS
            .lock()
            .map_err(|_| ApiError::Internal("upload lock table poisoned".into()))?;
        let map = map.get_or_insert_with(HashMap::new);
        map.retain(|_, w| w.strong_count() > 0);
        match map.get(id).and_then(Weak::upgrade) {
            Some(m) => m,
            None => {
                let m = Arc::new(tokio::sync::Mutex::new(()));
                map.insert(id.to_string(), Arc::downgrade(&m));
                m
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), m.lock_owned())
        .await
        .map_err(|_| {
            ApiError::Locked("another request is writing to this upload; retry shortly".into())
        })
}

/// Bounds memory if clients abandon uploads; an evicted upload is hashed at completion.
const MAX_ENTRIES: usize = 10_000;

static STATES: Mutex<Option<HashMap<String, (u64, Sha256)>>> = Mutex::new(None);

/// The hash of the first `offset` bytes, if this process has it (a fresh one at 0).
pub(super) fn take_hash(id: &str, offset: u64) -> Option<Sha256> {
    let mut map = STATES.lock().ok()?;
    let found = map.get_or_insert_with(HashMap::new).remove(id);
    match found {
        Some((at, h)) if at == offset => Some(h),
        _ if offset == 0 => Some(Sha256::new()),
        _ => None,
    }
}

pub(super) fn keep_hash(id: &str, offset: u64, h: Sha256) {
    if let Ok(mut map) = STATES.lock() {
        let map = map.get_or_insert_with(HashMap::new);
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(id.to_string(), (offset, h));
    }
}
