//! Moving a chunked item's files between a part's scratch directory and the output store, and
//! the provisional playlists published after each part.

use std::path::Path;

use bytes::Bytes;
use futures::StreamExt;
use mediaserver_core::{layout, JobId, Media};
use mediaserver_media::transcode::chunked::{self, ChunkedPlan};
use mediaserver_storage::{ObjectKey, Storage};

use super::records;
use crate::runner::in_process::publish_phase;
use crate::runner::RunContext;
use crate::{objects, ErrorChain, PipelineError};

fn key(prefix: &str, rel: &str) -> Result<ObjectKey, PipelineError> {
    ObjectKey::new(format!("{prefix}{rel}")).map_err(|e| PipelineError::Key {
        what: "output name",
        source: e,
    })
}

/// The output name `rel` must be: relative, under the item's outputs, not a chunk file.
fn checked(rel: &str) -> Result<&str, PipelineError> {
    let bad = rel.is_empty()
        || rel.starts_with('/')
        || rel.split('/').any(|c| c == ".." || c.is_empty())
        || rel.starts_with(layout::CHUNKS_DIR);
    if bad {
        return Err(PipelineError::Transient(format!(
            "the encode named an unexpected output file: {rel}"
        )));
    }
    Ok(rel)
}

/// Uploads `rels` (relative to `out_dir`) under `prefix`: media objects, then what references
/// them, the HLS master last (as the single job publishes).
pub(super) async fn files(
    store: &dyn Storage,
    out_dir: &Path,
    prefix: &str,
    rels: &[String],
) -> Result<(), PipelineError> {
    let mut phases: [Vec<(std::path::PathBuf, ObjectKey)>; 3] = Default::default();
    for rel in rels {
        let rel = checked(rel)?;
        phases[publish_phase(rel)].push((out_dir.join(rel), key(prefix, rel)?));
    }
    for phase in phases {
        upload(store, phase).await?;
    }
    Ok(())
}

/// Uploads each file to its key, a few at a time (segments and tiles are small and many).
async fn upload(
    store: &dyn Storage,
    uploads: Vec<(std::path::PathBuf, ObjectKey)>,
) -> Result<(), PipelineError> {
    let results: Vec<Result<(), PipelineError>> = futures::stream::iter(uploads)
        .map(|(path, key)| async move {
            store.put_file(&key, &path).await?;
            Ok(())
        })
        .buffer_unordered(8)
        .collect()
        .await;
    results.into_iter().collect()
}

/// What of a part's files to upload, the head's first segments set aside.
pub(super) struct HeadKept {
    /// The part's files but the first segments kept (and their init segments).
    pub upload: Vec<String>,
    /// Per stream whose head was kept, the size of the published first segment.
    pub kept: Vec<(usize, u64)>,
}

/// The first segments a head published before the parts ran (`ChunkedPlan::head`) stay: players
/// may hold them. A part that wrote the same stream's init and first segment (chunk 0's video,
/// the rest's audio) keeps the head's where its own init segment is the published one byte for
/// byte (x264's `stitchable`: the head's default CRFs and the part's probed ones write the
/// same headers), so the head's first segment decodes with it and the part's later ones.
/// Otherwise the part's own replace them, as its init segment must.
pub(super) async fn head_kept(
    store: &dyn Storage,
    out_dir: &Path,
    prefix: &str,
    plan: &ChunkedPlan,
    files: &[String],
) -> Result<HeadKept, PipelineError> {
    let mut kept = Vec::new();
    let mut skip = Vec::new();
    for (stream, init, first) in plan.head_files() {
        if !files.contains(&init) || !files.contains(&first) {
            continue;
        }
        let ours = tokio::fs::read(out_dir.join(&init)).await?;
        let theirs = match objects::read(store, &key(prefix, &init)?, ours.len()).await {
            Ok(bytes) => bytes,
            Err(mediaserver_storage::StorageError::NotFound(_)) => continue,
            Err(e) => return Err(e.into()),
        };
        if theirs.as_ref() != Some(&ours) {
            tracing::warn!(
                stream,
                "the head's init segment differs from this part's: its first segment is replaced"
            );
            continue;
        }
        let meta = match store.head(&key(prefix, &first)?).await {
            Ok(meta) => meta,
            Err(mediaserver_storage::StorageError::NotFound(_)) => continue,
            Err(e) => return Err(e.into()),
        };
        kept.push((stream, meta.size));
        skip.extend([init, first]);
    }
    Ok(HeadKept {
        upload: files
            .iter()
            .filter(|f| !skip.contains(f))
            .cloned()
            .collect(),
        kept,
    })
}

/// Uploads a part's working files `rels` (relative to `out_dir`, e.g. storyboard tiles) under
/// the item's chunk files, where the assemble step finds them (and the clean-up removes them).
pub(super) async fn work_files(
    store: &dyn Storage,
    out_dir: &Path,
    prefix: &str,
    rels: &[String],
) -> Result<(), PipelineError> {
    let mut uploads = Vec::with_capacity(rels.len());
    for rel in rels {
        let rel = checked(rel)?;
        uploads.push((
            out_dir.join(rel),
            key(prefix, &layout::chunk_work_name(rel))?,
        ));
    }
    upload(store, uploads).await
}

/// Downloads the parts' working files `rels` (as [`work_files`] stored them) into `out_dir`.
pub(super) async fn fetch_work<'a>(
    store: &dyn Storage,
    prefix: &str,
    out_dir: &Path,
    rels: impl Iterator<Item = &'a String>,
) -> Result<(), PipelineError> {
    fetch_named(store, prefix, out_dir, rels, layout::chunk_work_name).await
}

/// Downloads `rels` from under `prefix` into `out_dir`.
pub(super) async fn fetch<'a>(
    store: &dyn Storage,
    prefix: &str,
    out_dir: &Path,
    rels: impl Iterator<Item = &'a String>,
) -> Result<(), PipelineError> {
    fetch_named(store, prefix, out_dir, rels, str::to_string).await
}

/// Downloads each of `rels` from `prefix` + `name(rel)` into `out_dir/rel`.
async fn fetch_named<'a>(
    store: &dyn Storage,
    prefix: &str,
    out_dir: &Path,
    rels: impl Iterator<Item = &'a String>,
    name: fn(&str) -> String,
) -> Result<(), PipelineError> {
    for rel in rels {
        let rel = checked(rel)?;
        let dest = out_dir.join(rel);
        if let Some(parent) = dest.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        objects::download(store, &key(prefix, &name(rel))?, &dest).await?;
    }
    Ok(())
}

/// Deletes what the final step dropped (rungs the adaptive ladder found near-duplicates). A
/// failure costs only storage until the item is deleted: logged.
pub(super) async fn delete(store: &dyn Storage, prefix: &str, rels: &[String]) {
    for rel in rels {
        let result = match checked(rel).and_then(|rel| key(prefix, rel)) {
            Ok(k) => store.delete(&k).await.map_err(PipelineError::from),
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            tracing::warn!(%rel, error = %ErrorChain(&e), "could not delete a dropped rung's file");
        }
    }
}

/// Publishes the provisional (`EVENT`) playlists of the done prefix of chunks, and makes the
/// item playable once chunk 0 and the rest are done; `job` is the part that just finished.
/// Best effort: the next part, or the final step, publishes again.
pub(super) async fn provisional(ctx: &RunContext, media: &Media, job: &JobId) {
    if let Err(e) = try_provisional(ctx, media, job).await {
        tracing::warn!(error = %ErrorChain(&e), "could not publish the provisional playlists");
    }
}

/// How long the provisional playlists' writes may hold the split's row lock.
const PROVISIONAL_WRITE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Two parts finishing close together each see "the done prefix" when they list the records;
/// the one that saw less must not write last. The database decides (under the split's row
/// lock, see `ChunkQueue::publish_provisional`): a publisher writes only past what was
/// published, while no other can, and never once the assemble step began.
pub(super) async fn try_provisional(
    ctx: &RunContext,
    media: &Media,
    job: &JobId,
) -> Result<(), PipelineError> {
    let store = ctx.output_store.as_ref();
    let prefix = media.outputs_prefix();
    let plan: ChunkedPlan = records::plan(store, &prefix).await?;
    let (indexes, rest_done) = records::done(store, &prefix).await?;
    let mut done = Vec::new();
    for (expected, index) in (0u32..).zip(indexes) {
        if index != expected {
            break;
        }
        match records::chunk(store, &prefix, index).await? {
            Some(c) => done.push(c),
            None => break,
        }
    }
    let rest = if rest_done {
        records::rest(store, &prefix).await?
    } else {
        None
    };
    if done.is_empty() && rest.is_none() {
        return Ok(());
    }
    let files = chunked::provisional(&plan, &done, rest.as_ref())?;
    let mut phases: [Vec<(&str, &str)>; 3] = Default::default();
    for (rel, content) in &files {
        let rel = checked(rel)?;
        phases[publish_phase(rel)].push((rel, content));
    }
    let mut failed = None;
    let writes = async {
        for phase in phases {
            for (rel, content) in phase {
                let put = match key(&prefix, rel) {
                    Ok(k) => store
                        .put_bytes(&k, Bytes::from(content.to_string()))
                        .await
                        .map_err(PipelineError::from),
                    Err(e) => Err(e),
                };
                if let Err(e) = put {
                    failed = Some(e);
                    return false;
                }
            }
        }
        true
    };
    // The writes run inside a database transaction (on SQLite: the one writer's), so a slow or
    // unreachable store must not hold it long: past the bound nothing is recorded and the
    // next part or the final step publishes again.
    let write = async {
        match tokio::time::timeout(PROVISIONAL_WRITE_TIMEOUT, writes).await {
            Ok(done) => done,
            Err(_) => {
                tracing::warn!(
                    "the provisional playlists' writes took too long; left to the next part"
                );
                false
            }
        }
    };
    let chunks = u32::try_from(done.len()).unwrap_or(u32::MAX);
    let written = ctx
        .repo
        .publish_provisional(job, chunks, rest.is_some(), Box::pin(write))
        .await?;
    if let Some(e) = failed {
        return Err(e);
    }
    if !written {
        tracing::debug!(
            chunks,
            rest = rest.is_some(),
            "provisional playlists already as far"
        );
        // Another publisher got as far (and made the item playable if it is), or the
        // assemble step began.
        return Ok(());
    }
    let playable = !done.is_empty()
        && rest.is_some()
        && files.iter().any(|(rel, _)| rel == layout::HLS_MASTER);
    if playable {
        let m = ctx.repo.get_media(&media.id).await?;
        if let Some(m) = m.filter(|m| !m.playable) {
            ctx.repo
                .set_media_progress(&media.id, m.progress, Some(true))
                .await?;
            tracing::info!("playable: the first chunk and the audio are published");
        }
    }
    Ok(())
}
