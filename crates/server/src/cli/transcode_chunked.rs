//! `mediaserver transcode SRC DEST --split | --part chunk:N | rest | assemble`: one step of a
//! chunked encode (issue 15) without a database, for one container per job. `DEST` is the
//! item's outputs (its plan and records under `DEST/chunks/`); see
//! `mediaserver_pipeline::runner::remote` for what the job runner reads back.

use super::transcode::{Location, UnusableInput};
use crate::config::Config;
use anyhow::{anyhow, bail, Context};
use mediaserver_core::layout::SUMMARY_OBJECT;
use mediaserver_pipeline::chunked::{self, Input, Part};
use mediaserver_pipeline::{ErrorChain, PipelineError, ProcessSettings};
use mediaserver_storage::{ObjectKey, Storage};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long the presigned URL a part reads its source from stays valid.
const URL_VALIDITY: Duration = Duration::from_secs(12 * 3600);

fn failed(e: PipelineError) -> anyhow::Error {
    match e {
        PipelineError::Unusable(m) => UnusableInput(m).into(),
        // The causes as one message: `{:#}` would repeat those the message already names.
        other => anyhow!("{}", ErrorChain(&other)),
    }
}

/// `DEST` as a store and the prefix (ending in `/`, or empty) of the item's outputs in it.
async fn destination(config: &Config, dest: &str) -> anyhow::Result<(Arc<dyn Storage>, String)> {
    match Location::parse(dest)? {
        Location::Local(dir) => {
            tokio::fs::create_dir_all(&dir)
                .await
                .with_context(|| format!("creating {}", dir.display()))?;
            let store = mediaserver_storage::local(&dir, "transcode", config.storage.part_size)?;
            Ok((store, String::new()))
        }
        loc => {
            let Some((store, key)) = loc.store(config).await? else {
                bail!("{dest}: no storage for this location");
            };
            let prefix = if key.is_empty() {
                key
            } else {
                format!("{key}/")
            };
            Ok((store, prefix))
        }
    }
}

/// The split of a whole video job: with `input` (the downloaded source) longer than
/// `CHUNK_MIN_SECONDS`, stores the plan under `DEST` and returns the summary to print (no
/// `transcode.json`: the plan is the result); `None`: encode it as one job.
pub(super) async fn split(
    config: &Config,
    input: &Path,
    dest: &str,
    settings: &ProcessSettings,
) -> anyhow::Result<Option<serde_json::Value>> {
    let (store, prefix) = destination(config, dest).await?;
    // No progressive publishing from here (nothing plays the item until the parts are done):
    // the work directory holds only the AV1 trials' files.
    let work = tempfile::tempdir()?;
    let chunks = chunked::split_at(
        input,
        store.as_ref(),
        &prefix,
        settings,
        work.path(),
        None,
        &CancellationToken::new(),
    )
    .await
    .map_err(failed)?;
    Ok(chunks.map(
        |n| serde_json::json!({ "kind": "video", "split": { "chunks": n }, "destination": dest }),
    ))
}

/// Runs one part of the chunked encode whose plan is under `DEST`; returns the summary to print.
pub(super) async fn part(
    config: &Config,
    src: &str,
    dest: &str,
    part: Part,
    settings: &ProcessSettings,
    work_dir: &Path,
) -> anyhow::Result<serde_json::Value> {
    let (store, prefix) = destination(config, dest).await?;
    let cancel = CancellationToken::new();
    if part == Part::Assemble {
        // The original, for the quality windows (as in-process: a URL, else a local copy); the
        // item is recorded without the scores when it cannot be read.
        let original = match source(config, src, work_dir).await {
            Ok(input) => Some(input),
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "no original to measure the quality against");
                None
            }
        };
        let ready = chunked::assemble_at(
            store.as_ref(),
            &prefix,
            original.as_ref(),
            work_dir,
            settings,
            &cancel,
        )
        .await
        .map_err(failed)?;
        let mut summary = serde_json::json!({
            "kind": "video",
            "duration_seconds": ready.duration_seconds,
            "width": ready.width,
            "height": ready.height,
            "destination": dest,
        });
        if let (Some(s), serde_json::Value::Object(outputs)) = (
            summary.as_object_mut(),
            serde_json::to_value(&ready.outputs)?,
        ) {
            s.extend(outputs);
        }
        // Written last: the job runner records the item from it.
        let key = ObjectKey::new(format!("{prefix}{SUMMARY_OBJECT}"))?;
        store
            .put_bytes(&key, serde_json::to_vec_pretty(&summary)?.into())
            .await
            .with_context(|| format!("uploading {key}"))?;
        return Ok(summary);
    }
    let input = source(config, src, work_dir).await?;
    let encoded = chunked::encode_part(
        store.as_ref(),
        &prefix,
        part,
        &input,
        work_dir,
        settings,
        &cancel,
        |_| {},
    )
    .await
    .map_err(failed)?;
    Ok(serde_json::json!({
        "kind": "video",
        "part": part.to_string(),
        "encoded": encoded,
        "destination": dest,
    }))
}

/// What a part reads: a presigned URL of `SRC` where its store gives one (only the part's
/// range is read), else a local copy.
async fn source(config: &Config, src: &str, work_dir: &Path) -> anyhow::Result<Input> {
    let loc = Location::parse(src)?;
    if let Location::Local(p) = &loc {
        return Ok(Input::File(p.clone()));
    }
    let Some((store, key)) = loc.store(config).await? else {
        bail!("{src}: no storage for this location");
    };
    let object = ObjectKey::new(key.clone())?;
    if let Ok(url) = store.presign_get(&object, URL_VALIDITY).await {
        if matches!(url.scheme(), "http" | "https") {
            return Ok(Input::Url(url.into()));
        }
    }
    let path = work_dir.join("input");
    super::transcode::fetch(store.as_ref(), &key, &path)
        .await
        .with_context(|| format!("downloading {src}"))?;
    Ok(Input::File(path))
}
