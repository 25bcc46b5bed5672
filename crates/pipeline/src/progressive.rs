//! Progressive publishing: while the ladder encodes, upload what the media crate reports as
//! complete and make the item `playable` as soon as a provisional master playlist is up.
//!
//! Runs as its own task behind a small bounded queue. The media crate never waits on that
//! queue (it merges updates while the queue is full), and this task merges whatever queued up
//! while it was uploading, so a slow store costs freshness, never encoder time.
//!
//! Within each (merged) update the order is: segment files, then the `EVENT` playlists that
//! name them, then the master (first time only), then `playable` in the database. A player
//! therefore never sees a playlist that points at a missing object, nor a `playable` item
//! without a master. An upload error stops progressive publishing for the job (what is up
//! stays consistent); the final publish after the encode uploads everything anyway.
//!
//! A job's later attempt (after a crash, an outage, a shutdown) finds segments the earlier one
//! published. A stream's segments are kept, not uploaded again, when this encode's init segment
//! for the stream is byte-identical to the published one: same settings, same decoder
//! configuration, and — segments being cut at fixed keyframe times of the same source — a
//! segment of the same name covers the same frames, so either copy plays. (x264 is not
//! bit-exact between runs, so the bytes of the copies may differ.) Otherwise the stream's
//! segments are overwritten as this encode produces them.

use crate::progress::encode_percent;
use crate::{objects, ErrorChain, PipelineError};
use bytes::Bytes;
use futures::StreamExt;
use mediaserver_core::MediaId;
use mediaserver_db::{DbError, DynRepo};
use mediaserver_media::transcode::{segment_stream, PackagingSender, PackagingUpdate};
use mediaserver_storage::{ObjectKey, Storage};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Updates waiting for the uploader (the producer merges further ones while this is full).
const QUEUE: usize = 4;
/// Segment uploads in flight at once.
const PARALLEL_UPLOADS: usize = 4;

/// What progressive publishing put in storage.
#[derive(Debug, Default)]
pub(crate) struct Published {
    /// `out_dir`-relative path → local size, for every init and media segment in storage:
    /// uploaded, or kept from an earlier attempt.
    pub files: HashMap<String, u64>,
    /// How many of `files` an earlier attempt had published and were kept.
    pub kept: usize,
    /// Whether the item was marked playable.
    pub playable: bool,
}

/// Where and what to publish.
pub(crate) struct Target {
    pub store: Arc<dyn Storage>,
    pub repo: DynRepo,
    pub media_id: MediaId,
    /// Key prefix of the item's outputs (`media/{id}/`).
    pub prefix: String,
    pub out_dir: PathBuf,
    /// The encode's progress, 0.0–1.0 (for the progress written along with `playable`).
    pub progress: watch::Receiver<f64>,
    /// Segments an earlier attempt published: `out_dir`-relative path → size.
    pub earlier: HashMap<String, u64>,
}

/// Per output stream: whether the earlier attempt's segments are kept.
type Reuse = HashMap<usize, bool>;

/// The uploader task. Dropping it aborts the task (a job dropped on shutdown).
pub(crate) struct ProgressivePublisher {
    tx: Option<PackagingSender>,
    stop: CancellationToken,
    task: Option<JoinHandle<Published>>,
}

impl ProgressivePublisher {
    pub fn start(target: Target) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        let stop = CancellationToken::new();
        let task = tokio::spawn(run(target, rx, stop.clone()));
        ProgressivePublisher {
            tx: Some(tx),
            stop,
            task: Some(task),
        }
    }

    /// The sending half for [`mediaserver_media::transcode::VideoOptions::packaging`].
    pub fn sender(&self) -> Option<PackagingSender> {
        self.tx.clone()
    }

    /// Lets the update in flight finish, publishes nothing more, and reports what is up.
    /// Returns only once no upload of this task can still land.
    pub async fn finish(self) -> Published {
        self.stop.cancel();
        self.drain().await
    }

    /// Publishes every update sent (once every sender is dropped) and reports what is up.
    pub async fn drain(mut self) -> Published {
        self.tx = None;
        let Some(task) = self.task.take() else {
            return Published::default();
        };
        match task.await {
            Ok(published) => published,
            Err(e) => {
                tracing::warn!(error = %ErrorChain(&e), "progressive publisher task failed");
                Published::default()
            }
        }
    }
}

impl Drop for ProgressivePublisher {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn run(
    target: Target,
    mut rx: mpsc::Receiver<PackagingUpdate>,
    stop: CancellationToken,
) -> Published {
    let mut published = Published::default();
    let mut reuse = Reuse::new();
    let mut master_up = false;
    loop {
        let mut batch = tokio::select! {
            biased;
            _ = stop.cancelled() => break,
            update = rx.recv() => match update {
                Some(u) => u,
                None => break,
            },
        };
        // Whatever queued up meanwhile goes out together: latest playlists only.
        while let Ok(more) = rx.try_recv() {
            batch.merge(more);
        }
        if let Err(e) = publish(&target, batch, &mut published, &mut reuse, &mut master_up).await {
            tracing::warn!(error = %ErrorChain(&e), "progressive publishing stopped; the rest is published when the encode ends");
            break;
        }
    }
    published
}

async fn publish(
    t: &Target,
    batch: PackagingUpdate,
    published: &mut Published,
    reuse: &mut Reuse,
    master_up: &mut bool,
) -> Result<(), PipelineError> {
    // 0. An earlier attempt's stream is kept if its init segment is ours byte for byte (an
    //    init segment comes in the same update as its stream's first segment, or earlier).
    for f in &batch.ready_files {
        if let Some((stream, true)) = segment_stream(f) {
            if !reuse.contains_key(&stream) && t.earlier.contains_key(f) {
                let same = same_as_published(t, f).await?;
                tracing::debug!(stream, same, "earlier attempt's init segment compared");
                reuse.insert(stream, same);
            }
        }
    }
    let mut new = Vec::new();
    for f in batch.ready_files {
        if published.files.contains_key(&f) {
            continue;
        }
        let kept = t.earlier.contains_key(&f)
            && segment_stream(&f).is_some_and(|(stream, _)| reuse.get(&stream) == Some(&true));
        if kept {
            let size = tokio::fs::metadata(t.out_dir.join(&f)).await?.len();
            published.files.insert(f, size);
            published.kept += 1;
        } else {
            new.push(f);
        }
    }

    // 1. Segments (each once), all of them before anything that names them.
    let results: Vec<Result<(String, u64), PipelineError>> = futures::stream::iter(new)
        .map(|rel| async move {
            let put = t
                .store
                .put_file(&key(&t.prefix, &rel)?, &t.out_dir.join(&rel))
                .await?;
            Ok((rel, put.size))
        })
        .buffer_unordered(PARALLEL_UPLOADS)
        .collect()
        .await;
    let mut failed = None;
    for r in results {
        match r {
            Ok((rel, size)) => {
                published.files.insert(rel, size);
            }
            Err(e) => failed = Some(e),
        }
    }
    if let Some(e) = failed {
        return Err(e);
    }

    // 2. The playlists naming them.
    let puts = batch.playlists.into_iter().map(|(rel, text)| async move {
        t.store
            .put_bytes(&key(&t.prefix, &rel)?, Bytes::from(text))
            .await?;
        Ok::<_, PipelineError>(())
    });
    for r in futures::future::join_all(puts).await {
        r?;
    }

    // 3. The master, once every variant has a playlist.
    if let Some(master) = batch.master {
        let rel = mediaserver_core::layout::HLS_MASTER;
        t.store
            .put_bytes(&key(&t.prefix, rel)?, Bytes::from(master))
            .await?;
        *master_up = true;
    }

    // 4. Only now tell players.
    if *master_up && !published.playable {
        let pct = encode_percent(*t.progress.borrow());
        match t
            .repo
            .set_media_progress(&t.media_id, pct, Some(true))
            .await
        {
            Ok(()) => {
                published.playable = true;
                tracing::info!(progress = pct, "playable while encoding");
            }
            Err(DbError::NotFound) => {
                return Err(PipelineError::Unusable("the item was deleted".into()))
            }
            // Tried again with the next update.
            Err(e) => tracing::warn!(error = %ErrorChain(&e), "cannot mark the item playable"),
        }
    }
    Ok(())
}

/// Whether the published copy of `rel` has the same bytes as ours (init segments: small).
async fn same_as_published(t: &Target, rel: &str) -> Result<bool, PipelineError> {
    let ours = tokio::fs::read(t.out_dir.join(rel)).await?;
    if t.earlier.get(rel) != Some(&(ours.len() as u64)) {
        return Ok(false);
    }
    match objects::read(t.store.as_ref(), &key(&t.prefix, rel)?, ours.len()).await {
        Ok(theirs) => Ok(theirs.as_ref() == Some(&ours)),
        Err(mediaserver_storage::StorageError::NotFound(_)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

fn key(prefix: &str, rel: &str) -> Result<ObjectKey, PipelineError> {
    ObjectKey::new(format!("{prefix}{rel}")).map_err(|e| PipelineError::Key {
        what: "output name",
        source: e,
    })
}

#[cfg(test)]
#[path = "progressive_tests.rs"]
mod tests;
