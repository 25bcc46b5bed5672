//! A chunk or the rest job: encoded in a work directory, its files published under the item's
//! outputs (the head's first segments kept), then its record.

use std::collections::HashMap;
use std::path::Path;

use mediaserver_core::layout;
use mediaserver_media::transcode::chunked::{self, Input};
use mediaserver_media::transcode::{self, Progress};
use mediaserver_storage::Storage;
use tokio_util::sync::CancellationToken;

use super::{part_done, publish, records, Part};
use crate::process::{self, ProcessSettings};
use crate::progressive::ProgressivePublisher;
use crate::PipelineError;

/// Encodes a chunk or the rest of the plan under `prefix` from `input` in `work_dir`, publishes
/// its files under `prefix`, then its record. `false`: its record was there (done earlier).
#[allow(clippy::too_many_arguments)]
pub async fn encode_part(
    store: &dyn Storage,
    prefix: &str,
    part: Part,
    input: &Input,
    work_dir: &Path,
    settings: &ProcessSettings,
    cancel: &CancellationToken,
    progress: impl FnMut(f64) + Send,
) -> Result<bool, PipelineError> {
    let parts = PartRun {
        store,
        prefix,
        input,
        work_dir,
        settings,
        cancel,
    };
    encode_part_publishing(&parts, part, None, progress).await
}

/// Where and how a part runs (the arguments of [`encode_part`]).
pub(crate) struct PartRun<'a> {
    pub store: &'a dyn Storage,
    pub prefix: &'a str,
    pub input: &'a Input,
    pub work_dir: &'a Path,
    pub settings: &'a ProcessSettings,
    pub cancel: &'a CancellationToken,
}

/// The output directory of a part run in `work_dir`.
pub(crate) fn part_out_dir(work_dir: &Path) -> std::path::PathBuf {
    work_dir.join("out")
}

/// [`encode_part`]; chunk 0 after a head also publishes its segments as they come through
/// `publisher` (uploading from [`part_out_dir`]), drained before the rest of its files.
pub(crate) async fn encode_part_publishing(
    r: &PartRun<'_>,
    part: Part,
    publisher: Option<ProgressivePublisher>,
    mut progress: impl FnMut(f64) + Send,
) -> Result<bool, PipelineError> {
    let (store, prefix, input, cancel) = (r.store, r.prefix, r.input, r.cancel);
    if part_done(store, prefix, part).await? {
        // An earlier attempt stored its record and died before the queue heard of it.
        tracing::info!(%part, "part already done (its record exists)");
        return Ok(false);
    }
    let plan = records::plan(store, prefix).await?;
    let out_dir = part_out_dir(r.work_dir);
    tokio::fs::create_dir_all(&out_dir).await?;
    let opts = process::video_options(r.settings, cancel.clone(), None);
    let report = move |p: Progress| progress(p.fraction.clamp(0.0, 1.0));
    let work = async {
        match part {
            Part::Chunk(index) => {
                let (out, published) = {
                    let opts = transcode::VideoOptions {
                        packaging: publisher.as_ref().and_then(ProgressivePublisher::sender),
                        ..opts
                    };
                    let out = chunked::encode_chunk(input, &out_dir, &plan, index, &opts, report)
                        .await
                        .map_err(|e| read_over_url(input, e));
                    drop(opts);
                    let published = match publisher {
                        Some(p) => p.drain().await.files,
                        None => HashMap::new(),
                    };
                    (out, published)
                };
                let mut out = out?;
                let head = publish::head_kept(store, &out_dir, prefix, &plan, &out.files).await?;
                for (stream, bytes) in &head.kept {
                    out.keep_first_segment(*stream, *bytes);
                }
                // What went out while it encoded is not uploaded again.
                let upload: Vec<String> = head
                    .upload
                    .into_iter()
                    .filter(|f| !published.contains_key(f))
                    .collect();
                publish::files(store, &out_dir, prefix, &upload).await?;
                publish::work_files(store, &out_dir, prefix, &out.tiles).await?;
                records::put(store, prefix, &layout::chunk_record_name(index), &out).await
            }
            Part::Rest => {
                let mut out = chunked::encode_rest(input, &out_dir, &plan, &opts, report)
                    .await
                    .map_err(|e| read_over_url(input, e))?;
                let head = publish::head_kept(store, &out_dir, prefix, &plan, &out.files).await?;
                for (stream, bytes) in &head.kept {
                    out.keep_first_segment(*stream, *bytes);
                }
                publish::files(store, &out_dir, prefix, &head.upload).await?;
                publish::work_files(store, &out_dir, prefix, &out.tiles).await?;
                records::put(store, prefix, layout::CHUNK_REST_RECORD, &out).await
            }
            Part::Assemble => Err(PipelineError::Transient(
                "the assemble step encodes nothing".into(),
            )),
        }
    };
    tokio::select! {
        r = work => r.map(|()| true),
        _ = cancel.cancelled() => Err(PipelineError::Cancelled),
    }
}

/// A part that read the original over a presigned URL and found it "truncated" or
/// undecodable may have lost the URL, not the data: one that expires (temporary credentials
/// sign for an hour or so) or a connection cut mid-read ends ffmpeg's input as a short file
/// would, exit 0 included. The split step read the whole original, so it is retried (a fresh
/// URL each attempt) as a transient failure; a truly broken original fails once its attempts
/// are spent, with the same message.
fn read_over_url(input: &Input, e: mediaserver_media::MediaError) -> PipelineError {
    let e = PipelineError::from(e);
    match (input, e) {
        (Input::Url(_), PipelineError::Unusable(reason)) => PipelineError::Transient(reason),
        (_, e) => e,
    }
}
