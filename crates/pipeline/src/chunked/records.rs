//! A chunked item's working files under its outputs prefix (`chunks/`, named by
//! `mediaserver_core::layout`): the plan the split wrote, and each part's record, written last
//! by its job — a part whose record exists is done. Every function takes the item's outputs
//! prefix (`media/{id}/`, or the `DEST` of `mediaserver transcode`), ending in `/`.

use bytes::Bytes;
use mediaserver_core::layout;
use mediaserver_media::transcode::chunked::{ChunkOutput, ChunkedPlan, RestOutput};
use mediaserver_storage::{ObjectKey, Storage, StorageError};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{objects, PipelineError};

/// A record is a few KiB per stream; refuse anything absurd.
const MAX_RECORD: usize = 64 * 1024 * 1024;

fn key(prefix: &str, name: &str) -> Result<ObjectKey, PipelineError> {
    ObjectKey::new(format!("{prefix}{name}")).map_err(|e| PipelineError::Key {
        what: "chunk file",
        source: e,
    })
}

pub(crate) async fn put<T: Serialize>(
    store: &dyn Storage,
    prefix: &str,
    name: &str,
    value: &T,
) -> Result<(), PipelineError> {
    let json = serde_json::to_vec(value)
        .map_err(|e| PipelineError::Transient(format!("cannot write {name}: {e}")))?;
    store
        .put_bytes(&key(prefix, name)?, Bytes::from(json))
        .await?;
    Ok(())
}

/// The parsed object, or `None` when there is none.
pub(crate) async fn get<T: DeserializeOwned>(
    store: &dyn Storage,
    prefix: &str,
    name: &str,
) -> Result<Option<T>, PipelineError> {
    let k = key(prefix, name)?;
    let bytes = match objects::read(store, &k, MAX_RECORD).await {
        Err(StorageError::NotFound(_)) => return Ok(None),
        other => other?,
    };
    let Some(bytes) = bytes else {
        return Err(PipelineError::Transient(format!("{k} is too large")));
    };
    // Written by this server: unreadable means damaged, which a rerun of the item fixes.
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| PipelineError::Unusable(format!("a chunked encode's record is damaged ({e})")))
}

pub(crate) async fn plan(store: &dyn Storage, prefix: &str) -> Result<ChunkedPlan, PipelineError> {
    get(store, prefix, layout::CHUNK_PLAN)
        .await?
        .ok_or_else(|| {
            PipelineError::Unusable("the chunked encode's plan is missing; retry the item".into())
        })
}

pub(crate) async fn chunk(
    store: &dyn Storage,
    prefix: &str,
    index: u32,
) -> Result<Option<ChunkOutput>, PipelineError> {
    get(store, prefix, &layout::chunk_record_name(index)).await
}

pub(crate) async fn rest(
    store: &dyn Storage,
    prefix: &str,
) -> Result<Option<RestOutput>, PipelineError> {
    get(store, prefix, layout::CHUNK_REST_RECORD).await
}

/// Which records exist: (chunk indexes, rest) — one listing, no reads.
pub(crate) async fn done(
    store: &dyn Storage,
    prefix: &str,
) -> Result<(Vec<u32>, bool), PipelineError> {
    let dir = format!("{prefix}{}", layout::CHUNKS_DIR);
    let mut chunks = Vec::new();
    let mut rest = false;
    for o in store.list(&dir).await? {
        let Some(name) = o.key.strip_prefix(prefix) else {
            continue;
        };
        if name == layout::CHUNK_REST_RECORD {
            rest = true;
            continue;
        }
        // `chunks/{n}.json`: parsed, then checked against the layout's own name.
        let n = name
            .strip_prefix(layout::CHUNKS_DIR)
            .and_then(|n| n.split('.').next())
            .and_then(|n| n.parse::<u32>().ok());
        if let Some(n) = n.filter(|n| layout::chunk_record_name(*n) == name) {
            chunks.push(n);
        }
    }
    chunks.sort_unstable();
    Ok((chunks, rest))
}
