//! Bringing storage and the database back in step after crashes and outages: objects no row
//! refers to (an original whose item was never recorded, outputs of a deleted item), rows whose
//! original is gone, and multipart uploads a dead process left open. `mediaserver reconcile`
//! runs [`Ingest::reconcile`]; the upload sweeper runs [`Ingest::abort_stale_uploads`].
//!
//! What belongs to work in progress is never touched: an upload row (tus or direct, not yet an
//! item) owns everything under its id, and anything younger than the grace period may be an
//! upload streaming right now (a one-request upload is stored before its row is written).
//! Only keys this server makes (`layout`) are judged; anything else in a bucket is left alone.

use crate::error::IngestResult;
use crate::Ingest;
use chrono::{DateTime, Utc};
use mediaserver_core::{
    layout, ErrorChain, JobStatus, MediaFilter, MediaId, MediaStatus, UploadId,
};
use mediaserver_storage::{ObjectKey, ObjectMeta, OpenUpload, Storage, StorageError};
use std::collections::BTreeMap;
use std::time::Duration;

/// The reason recorded on an item whose original has disappeared from storage.
pub const MISSING_ORIGINAL: &str =
    "the uploaded file is no longer in storage, so this item cannot be processed; upload it again";

/// Items read per page while looking for rows whose original is gone.
const PAGE: u32 = 500;

#[derive(Debug, Clone, Copy)]
pub struct ReconcileOptions {
    /// Report only; change nothing.
    pub dry_run: bool,
    /// Objects and multipart uploads younger than this are left alone.
    pub grace: Duration,
}

/// What a reconcile found (and, unless it was a dry run, removed or marked).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReconcileReport {
    /// Objects no media row or upload refers to: `(bucket, key, bytes)`.
    pub orphan_objects: Vec<(String, String, u64)>,
    /// Items whose original object is gone, with the status they had. Those not `ready` are
    /// marked failed with [`MISSING_ORIGINAL`]; a ready item keeps playing from its outputs.
    pub missing_originals: Vec<(MediaId, MediaStatus)>,
    /// Multipart uploads left open by a writer that is gone: `(bucket, key)`.
    pub stale_uploads: Vec<(String, String)>,
    /// A chunked encode's working files (`media/{id}/chunks/`) of an item that is done with
    /// them — `ready` or `failed`, no job of it queued or running (a cleanup that failed, a
    /// part that published after its item failed): `(bucket, key, bytes)`.
    pub chunk_leftovers: Vec<(String, String, u64)>,
    /// What could not be done (each also logged); a later run retries.
    pub failures: Vec<String>,
}

impl Ingest {
    /// Finds (and unless `opts.dry_run`, removes) orphaned objects in the media bucket's
    /// originals and `output_store`'s outputs, marks items whose original is gone, and aborts
    /// stale multipart uploads in both buckets. See the module docs for what is never touched.
    pub async fn reconcile(
        &self,
        output_store: &dyn Storage,
        opts: ReconcileOptions,
    ) -> IngestResult<ReconcileReport> {
        let mut report = ReconcileReport::default();
        let cutoff = cutoff(opts.grace);
        let media = self.store();
        self.orphans_under(
            media,
            layout::ORIGINALS_DIR,
            true,
            cutoff,
            opts,
            &mut report,
        )
        .await?;
        self.orphans_under(
            output_store,
            layout::OUTPUTS_DIR,
            false,
            cutoff,
            opts,
            &mut report,
        )
        .await?;
        self.missing_originals(opts, &mut report).await?;
        for store in distinct(&[media, output_store]) {
            let aborted = self.stale_uploads(store, cutoff, opts.dry_run).await?;
            report.stale_uploads.extend(
                aborted
                    .0
                    .into_iter()
                    .map(|k| (store.bucket().to_string(), k)),
            );
            report.failures.extend(aborted.1);
        }
        Ok(report)
    }

    /// Aborts the multipart uploads in `stores` started more than `older_than` ago that no
    /// upload row owns; returns how many. Providers without multipart uploads have none.
    pub async fn abort_stale_uploads(
        &self,
        stores: &[&dyn Storage],
        older_than: Duration,
    ) -> IngestResult<usize> {
        let mut aborted = 0;
        for store in distinct(stores) {
            // Failed aborts are logged where they happen; the next sweep retries them.
            let (keys, _failed) = self.stale_uploads(store, cutoff(older_than), false).await?;
            aborted += keys.len();
        }
        Ok(aborted)
    }

    /// The stale multipart uploads of `store` (aborted unless `dry_run`): their keys, and the
    /// aborts that failed.
    async fn stale_uploads(
        &self,
        store: &dyn Storage,
        cutoff: DateTime<Utc>,
        dry_run: bool,
    ) -> IngestResult<(Vec<String>, Vec<String>)> {
        let mut keys = Vec::new();
        let mut failures = Vec::new();
        for upload in store.list_open_uploads().await? {
            if upload.initiated > cutoff || self.owned_by_upload(&upload.key).await? {
                continue;
            }
            if !dry_run {
                if let Err(e) = store.abort_open_upload(&upload).await {
                    failures.push(failure(store, &upload, &e));
                    continue;
                }
                tracing::info!(bucket = store.bucket(), key = %upload.key, "aborted a stale multipart upload");
            }
            keys.push(upload.key);
        }
        Ok((keys, failures))
    }

    /// Whether `key` is under the originals prefix of an upload that still has its row.
    async fn owned_by_upload(&self, key: &str) -> IngestResult<bool> {
        let Some(id) = layout::original_key_id(key).and_then(|id| id.parse::<UploadId>().ok())
        else {
            return Ok(false);
        };
        Ok(self.repo().get_upload(&id).await?.is_some())
    }

    /// Objects under `dir` (one folder per item id) of items that do not exist. Originals of
    /// an upload in progress are kept too (`originals`).
    async fn orphans_under(
        &self,
        store: &dyn Storage,
        dir: &str,
        originals: bool,
        cutoff: DateTime<Utc>,
        opts: ReconcileOptions,
        report: &mut ReconcileReport,
    ) -> IngestResult<()> {
        let mut by_item: BTreeMap<MediaId, Vec<ObjectMeta>> = BTreeMap::new();
        for object in store.list(dir).await? {
            let id = object
                .key
                .strip_prefix(dir)
                .and_then(|rest| rest.split('/').next())
                .and_then(|id| id.parse::<MediaId>().ok());
            // Not a key this server made: not ours to judge.
            if let Some(id) = id {
                by_item.entry(id).or_default().push(object);
            }
        }
        for (id, objects) in by_item {
            if let Some(media) = self.repo().get_media(&id).await? {
                if !originals {
                    self.chunk_leftovers(store, &media, &objects, cutoff, opts, report)
                        .await?;
                }
                continue;
            }
            if objects.iter().any(|o| o.last_modified > cutoff) {
                continue;
            }
            if originals && self.repo().get_upload(&id.clone().into()).await?.is_some() {
                continue;
            }
            if !opts.dry_run {
                let prefix = if originals {
                    layout::originals_prefix(&id)
                } else {
                    layout::outputs_prefix(&id)
                };
                if !remove_prefix(store, &prefix, objects.len(), "orphaned objects", report).await {
                    continue;
                }
            }
            report.orphan_objects.extend(
                objects
                    .into_iter()
                    .map(|o| (store.bucket().to_string(), o.key, o.size)),
            );
        }
        Ok(())
    }

    /// The chunk working files among `objects` of `media`, when they are all older than
    /// `cutoff` and nothing of the item runs or waits to run: removed (unless a dry run) and
    /// reported.
    async fn chunk_leftovers(
        &self,
        store: &dyn Storage,
        media: &mediaserver_core::Media,
        objects: &[ObjectMeta],
        cutoff: DateTime<Utc>,
        opts: ReconcileOptions,
        report: &mut ReconcileReport,
    ) -> IngestResult<()> {
        let prefix = layout::chunks_prefix(&media.id);
        let leftovers: Vec<&ObjectMeta> = objects
            .iter()
            .filter(|o| o.key.starts_with(&prefix))
            .collect();
        if leftovers.is_empty()
            || leftovers.iter().any(|o| o.last_modified > cutoff)
            || !matches!(media.status, MediaStatus::Ready | MediaStatus::Failed)
        {
            return Ok(());
        }
        let working = self
            .repo()
            .jobs_for_media(&media.id)
            .await?
            .iter()
            .any(|j| matches!(j.status, JobStatus::Queued | JobStatus::Running));
        if working {
            return Ok(());
        }
        if !opts.dry_run {
            let what = "a chunked encode's leftover files";
            if !remove_prefix(store, &prefix, leftovers.len(), what, report).await {
                return Ok(());
            }
        }
        report.chunk_leftovers.extend(
            leftovers
                .into_iter()
                .map(|o| (store.bucket().to_string(), o.key.clone(), o.size)),
        );
        Ok(())
    }

    /// Items of the media bucket whose original object is gone.
    async fn missing_originals(
        &self,
        opts: ReconcileOptions,
        report: &mut ReconcileReport,
    ) -> IngestResult<()> {
        let store = self.store();
        let mut before_id = None;
        loop {
            let page = self
                .repo()
                .list_media(&MediaFilter {
                    owner_id: None,
                    kind: None,
                    status: None,
                    visibility: None,
                    before_id: before_id.clone(),
                    limit: PAGE,
                    ..Default::default()
                })
                .await?;
            let Some(last) = page.last() else {
                return Ok(());
            };
            before_id = Some(last.id.clone());
            for item in &page {
                if item.bucket != store.bucket() {
                    continue;
                }
                let Ok(key) = ObjectKey::new(&item.original_key) else {
                    continue;
                };
                match store.head(&key).await {
                    Err(StorageError::NotFound(_)) => {}
                    Ok(_) => continue,
                    Err(e) => return Err(e.into()),
                }
                report
                    .missing_originals
                    .push((item.id.clone(), item.status));
                let mark = !matches!(item.status, MediaStatus::Ready | MediaStatus::Failed);
                if mark && !opts.dry_run {
                    self.repo()
                        .mark_media_failed(&item.id, MISSING_ORIGINAL)
                        .await?;
                    tracing::warn!(media_id = %item.id, "original missing from storage: item marked failed");
                }
            }
            if page.len() < PAGE as usize {
                return Ok(());
            }
        }
    }
}

/// `stores` without repeats: the media and output buckets may be one bucket.
fn distinct<'a>(stores: &[&'a dyn Storage]) -> Vec<&'a dyn Storage> {
    let mut out: Vec<&'a dyn Storage> = Vec::new();
    for store in stores {
        if !out
            .iter()
            .any(|s| s.bucket() == store.bucket() && s.provider() == store.provider())
        {
            out.push(*store);
        }
    }
    out
}

/// The time before which something counts as old enough to judge.
fn cutoff(grace: Duration) -> DateTime<Utc> {
    Utc::now() - chrono::Duration::from_std(grace).unwrap_or(chrono::Duration::MAX)
}

fn failure(store: &dyn Storage, upload: &OpenUpload, e: &StorageError) -> String {
    tracing::warn!(bucket = store.bucket(), key = %upload.key, error = %ErrorChain(e), "could not abort a stale multipart upload");
    format!(
        "aborting the multipart upload of {} in bucket {}: {e}",
        upload.key,
        store.bucket()
    )
}

/// Deletes everything under `prefix` (`count` objects, `what` for the log); a failure is
/// logged and recorded in `report`, and answers `false`.
async fn remove_prefix(
    store: &dyn Storage,
    prefix: &str,
    count: usize,
    what: &str,
    report: &mut ReconcileReport,
) -> bool {
    if let Err(e) = store.delete_prefix(prefix).await {
        tracing::warn!(bucket = store.bucket(), prefix, error = %ErrorChain(&e), "could not remove {what}");
        report.failures.push(format!(
            "removing {prefix} in bucket {}: {e}",
            store.bucket()
        ));
        return false;
    }
    tracing::info!(bucket = store.bucket(), prefix, count, "removed {what}");
    true
}
