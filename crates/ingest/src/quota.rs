//! The per-user storage quota (`USER_QUOTA_BYTES`), enforced here so that every way an original
//! arrives is covered: one-request uploads (declared length up front, then counted while
//! streaming), tus and direct uploads when they start (their declared length, which the
//! unfinished upload then reserves), and objects announced by bucket events (recorded as a
//! failed item naming the quota; the object stays, since its owner put it in the bucket).
//! What counts is `mediaserver_db::admin::StorageUsage::counted`: originals plus unfinished
//! uploads. Checked before anything is written, and again when a streamed upload is recorded;
//! two uploads racing may each pass and overshoot by one upload.

use crate::error::{IngestError, IngestResult};
use crate::Ingest;
use mediaserver_core::UserId;
use mediaserver_db::admin::StorageUsage;
use std::sync::atomic::Ordering;

/// How much `owner` may still store, and what the error says if they go past it.
#[derive(Debug, Clone, Copy)]
pub struct Room {
    pub quota: u64,
    pub used: u64,
}

impl Room {
    pub fn left(&self) -> u64 {
        self.quota.saturating_sub(self.used)
    }

    /// The refusal of an upload of `size` bytes (`None`: not known up front).
    pub fn exceeded(&self, size: Option<u64>) -> IngestError {
        IngestError::QuotaExceeded {
            quota: self.quota,
            used: self.used,
            size,
        }
    }
}

impl Ingest {
    /// Sets the per-user quota (`None`: unlimited). Meant for wiring, before serving.
    pub fn with_user_quota(self, quota: Option<u64>) -> Self {
        self.0
            .quota
            .store(quota.unwrap_or(u64::MAX), Ordering::Relaxed);
        self
    }

    /// The per-user quota in bytes, if there is one.
    pub fn user_quota(&self) -> Option<u64> {
        Some(self.0.quota.load(Ordering::Relaxed)).filter(|q| *q != u64::MAX)
    }

    /// What `owner` has in storage.
    pub async fn storage_usage(&self, owner: &UserId) -> IngestResult<StorageUsage> {
        Ok(self.repo().storage_usage(owner).await?)
    }

    /// `owner`'s room under the quota; `None` without a quota.
    pub async fn room(&self, owner: &UserId) -> IngestResult<Option<Room>> {
        let Some(quota) = self.user_quota() else {
            return Ok(None);
        };
        let used = self.storage_usage(owner).await?.counted();
        Ok(Some(Room { quota, used }))
    }

    /// Refuses an upload of `size` bytes that would take `owner` past the quota.
    pub async fn check_quota(&self, owner: &UserId, size: u64) -> IngestResult<()> {
        match self.room(owner).await? {
            Some(room) if size > room.left() => Err(room.exceeded(Some(size))),
            _ => Ok(()),
        }
    }
}
