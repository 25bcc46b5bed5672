//! One writer per upload at a time, whichever replica a request reaches: a client retrying after
//! a dropped connection may overlap the request the server has not yet seen end, and two appends
//! from the same offset would otherwise write the same multipart part numbers and pending
//! remainder (S3-style storage) or interleave in the partial file (`Local`); the sweeper must not
//! discard an upload a request is finishing. Within a process a mutex per upload orders them;
//! across replicas a lease on the upload's row (taken with a compare-and-set, renewed while the
//! request streams, given back at its end, run out after [`LEASE`] if its holder died) does. The
//! compare-and-set on the offset when progress is recorded stays the last line of defence.

use crate::error::{IngestError, IngestResult};
use chrono::Utc;
use mediaserver_core::{ErrorChain, UploadId};
use mediaserver_db::DynRepo;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::time::Instant;

/// How long a request waits for the upload to be free before it is refused ([`IngestError::Locked`]).
pub const WAIT: Duration = Duration::from_secs(10);
/// How long a write lease lasts without renewal: what a crashed server costs the client.
/// Shorter than [`WAIT`] (with a retry to spare), so that the first request after a crash (a
/// restarted server, another replica) waits the dead lease out instead of being refused.
pub const LEASE: Duration = Duration::from_secs(8);
const RENEW_EVERY: Duration = Duration::from_secs(2);
/// Retries of a held lease start fast: the usual holder is this server's previous request,
/// whose lease is being given back as the client sends the next one.
const FIRST_RETRY: Duration = Duration::from_millis(5);
const MAX_RETRY: Duration = Duration::from_millis(250);
const _: () = assert!(LEASE.as_millis() + 2 * MAX_RETRY.as_millis() <= WAIT.as_millis());

/// The per-upload mutexes of one process (one `Ingest`).
#[derive(Default)]
pub(crate) struct UploadLocks {
    local: Mutex<HashMap<UploadId, Weak<tokio::sync::Mutex<()>>>>,
}

/// Held while a request writes to an upload; dropping it frees the upload.
pub struct UploadGuard {
    _local: tokio::sync::OwnedMutexGuard<()>,
    _lease: Option<Lease>,
}

struct Lease {
    repo: DynRepo,
    id: UploadId,
    writer: String,
    renewal: Option<tokio::task::JoinHandle<()>>,
}

impl Lease {
    /// The database said no: nothing to give back.
    fn refused(mut self) {
        self.writer.clear();
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(r) = &self.renewal {
            r.abort();
        }
        if self.writer.is_empty() {
            return;
        }
        let (repo, id, writer) = (
            self.repo.clone(),
            self.id.clone(),
            std::mem::take(&mut self.writer),
        );
        // Given back at once so the client's next request need not wait; should this fail
        // (no runtime, database down) the lease runs out by itself.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(e) = repo.release_upload_lease(&id, &writer).await {
                    tracing::debug!(error = %ErrorChain(&e), "could not give back an upload's write lease");
                }
            });
        }
    }
}

impl UploadLocks {
    /// Waits up to `wait` until this request may write to upload `id`. An upload that does not
    /// exist gets no lease; the caller finds it missing.
    pub(crate) async fn lock(
        &self,
        repo: &DynRepo,
        id: &UploadId,
        wait: Duration,
    ) -> IngestResult<UploadGuard> {
        let deadline = Instant::now() + wait;
        let m = self.mutex_for(id)?;
        let local = tokio::time::timeout_at(deadline, m.lock_owned())
            .await
            .map_err(|_| IngestError::Locked)?;
        // The lease is owned before it is asked for: a request cancelled right after the
        // database granted it still gives it back (releasing one never granted is a no-op).
        let mut lease = Lease {
            repo: repo.clone(),
            id: id.clone(),
            writer: uuid::Uuid::new_v4().to_string(),
            renewal: None,
        };
        let mut retry = FIRST_RETRY;
        loop {
            let now = Utc::now();
            if repo
                .lease_upload(id, &lease.writer, now + LEASE, now)
                .await?
            {
                break;
            }
            if repo.get_upload(id).await?.is_none() {
                lease.refused();
                return Ok(UploadGuard {
                    _local: local,
                    _lease: None,
                });
            }
            if Instant::now() + retry > deadline {
                lease.refused();
                return Err(IngestError::Locked);
            }
            tokio::time::sleep(retry).await;
            retry = (retry * 2).min(MAX_RETRY);
        }
        lease.renewal = Some(tokio::spawn(renew(
            repo.clone(),
            id.clone(),
            lease.writer.clone(),
        )));
        Ok(UploadGuard {
            _local: local,
            _lease: Some(lease),
        })
    }

    fn mutex_for(&self, id: &UploadId) -> IngestResult<Arc<tokio::sync::Mutex<()>>> {
        let mut map = self.local.lock().map_err(|_| IngestError::LocksPoisoned)?;
        map.retain(|_, w| w.strong_count() > 0);
        Ok(match map.get(id).and_then(Weak::upgrade) {
            Some(m) => m,
            None => {
                let m = Arc::new(tokio::sync::Mutex::new(()));
                map.insert(id.clone(), Arc::downgrade(&m));
                m
            }
        })
    }
}

/// Keeps a lease while its request runs (a large PATCH streams for minutes).
async fn renew(repo: DynRepo, id: UploadId, writer: String) {
    loop {
        tokio::time::sleep(RENEW_EVERY).await;
        match repo
            .renew_upload_lease(&id, &writer, Utc::now() + LEASE)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(upload = %id, "lost the upload's write lease (not renewed in time); the offset check still guards its progress");
                return;
            }
            Err(e) => {
                tracing::warn!(upload = %id, error = %ErrorChain(&e), "could not renew the upload's write lease")
            }
        }
    }
}
