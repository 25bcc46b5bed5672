//! `mediaserver transcode SRC DEST`: one job without a database, for one container per job (an
//! OCI Container Instance, a Kubernetes Job). SRC and DEST are local paths or storage URIs.

use crate::config::Config;
use anyhow::{anyhow, bail, Context};
use futures::StreamExt;
use mediaserver_core::layout::{PROGRESS_OBJECT, SUMMARY_OBJECT};
use mediaserver_core::sniff::{sniff, SNIFF_LEN};
use mediaserver_pipeline::{
    cut_clip, process_file, ErrorChain, PipelineError, ProcessSettings, Processed,
    TranscodeProgress,
};
use mediaserver_storage::{ObjectKey, S3Options, Storage};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

#[derive(clap::Args)]
pub struct TranscodeArgs {
    /// Input file or object.
    src: String,
    /// Output directory or prefix.
    dest: String,
    /// x264 preset (overrides TRANSCODE_PRESET), e.g. ultrafast, veryfast, medium.
    #[arg(long)]
    preset: Option<String>,
    /// Process only the range from this second (a clip; needs --clip-end): cut frame-accurately
    /// first.
    #[arg(long, requires = "clip_end")]
    clip_start: Option<f64>,
    /// Where the clip's range ends, in seconds.
    #[arg(long, requires = "clip_start")]
    clip_end: Option<f64>,
    /// A video longer than CHUNK_MIN_SECONDS is not encoded: its chunked encode is planned
    /// (DEST/chunks/plan.json) for `--part` runs, one per chunk, one for the rest, one to
    /// assemble (what a job runner queues). Shorter sources are encoded as usual.
    #[arg(long, conflicts_with_all = ["part", "clip_start"])]
    split: bool,
    /// Run one part of the chunked encode planned under DEST: `chunk:N` (the video rungs of
    /// chunk N), `rest` (audio, text tracks, thumbnail, storyboard) or `assemble` (playlists,
    /// MPD and DEST/transcode.json once every other part is done).
    #[arg(long, value_name = "PART", conflicts_with = "clip_start")]
    part: Option<mediaserver_pipeline::chunked::Part>,
}

/// Runs the job and prints its summary as JSON.
pub(super) async fn run(config: &Config, args: TranscodeArgs) -> anyhow::Result<()> {
    let clip = match (args.clip_start, args.clip_end) {
        (Some(start_seconds), Some(end_seconds)) => Some(mediaserver_core::Clip {
            // Not recorded anywhere: only the range matters here.
            source_id: mediaserver_core::MediaId::new(),
            start_seconds,
            end_seconds,
        }),
        _ => None,
    };
    if let Some(part) = args.part {
        let settings = settings(config, args.preset);
        tokio::fs::create_dir_all(&config.jobs.temp_dir).await.ok();
        let scratch = tempfile::Builder::new()
            .prefix("transcode-")
            .tempdir_in(&config.jobs.temp_dir)
            .or_else(|_| tempfile::tempdir())
            .context("creating a scratch directory (TEMP_DIR)")?;
        let summary = super::transcode_chunked::part(
            config,
            &args.src,
            &args.dest,
            part,
            &settings,
            scratch.path(),
        )
        .await?;
        println!("{}", serde_json::to_string_pretty(&summary)?);
        return Ok(());
    }
    let summary = transcode(config, &args.src, &args.dest, args.preset, clip, args.split).await?;
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}

/// Where bytes come from or go to.
#[derive(Debug, Clone, PartialEq)]
pub enum Location {
    Local(PathBuf),
    /// `s3://bucket/key` on the configured S3 endpoint.
    S3 {
        bucket: String,
        key: String,
    },
    /// `gs://bucket/key`, Google Cloud Storage (`STORAGE_ENDPOINT` and `GOOGLE_*` credentials
    /// apply).
    Gcs {
        bucket: String,
        key: String,
    },
    /// `oci://namespace/bucket/key`, through OCI's native Object Storage API, signed as the
    /// `OCI_AUTH` principal (a job container's resource principal).
    Oci {
        namespace: String,
        bucket: String,
        key: String,
    },
}

impl Location {
    pub fn parse(s: &str) -> anyhow::Result<Location> {
        if let Some(rest) = s.strip_prefix("file://") {
            return Ok(Location::Local(PathBuf::from(rest)));
        }
        if let Some(rest) = s.strip_prefix("s3://") {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                bail!("{s}: expected s3://bucket/key");
            }
            return Ok(Location::S3 {
                bucket: bucket.into(),
                key: key.trim_end_matches('/').into(),
            });
        }
        if let Some(rest) = s.strip_prefix("gs://") {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                bail!("{s}: expected gs://bucket/key");
            }
            return Ok(Location::Gcs {
                bucket: bucket.into(),
                key: key.trim_end_matches('/').into(),
            });
        }
        if let Some(rest) = s.strip_prefix("oci://") {
            let mut parts = rest.splitn(3, '/');
            let (ns, bucket, key) = (
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
            );
            if ns.is_empty() || bucket.is_empty() {
                bail!("{s}: expected oci://namespace/bucket/key");
            }
            return Ok(Location::Oci {
                namespace: ns.into(),
                bucket: bucket.into(),
                key: key.trim_end_matches('/').into(),
            });
        }
        if s.contains("://") {
            bail!("{s}: unsupported scheme; use a path, file://, s3://, gs:// or oci://");
        }
        Ok(Location::Local(PathBuf::from(s)))
    }

    pub(super) async fn store(
        &self,
        config: &Config,
    ) -> anyhow::Result<Option<(Arc<dyn Storage>, String)>> {
        let sc = &config.storage;
        let opts = |bucket: &str, endpoint: Option<String>| S3Options {
            bucket: bucket.to_string(),
            endpoint,
            region: sc.region.clone(),
            path_style: sc.path_style || sc.endpoint.is_none(),
            access_key_id: sc.access_key_id.clone(),
            secret_access_key: sc
                .secret_access_key
                .as_ref()
                .map(|s| s.expose().to_string()),
            part_size: sc.part_size,
            ..Default::default()
        };
        Ok(match self {
            Location::Local(_) => None,
            Location::S3 { bucket, key } => Some((
                mediaserver_storage::s3(opts(bucket, sc.endpoint.clone()))?,
                key.clone(),
            )),
            Location::Gcs { bucket, key } => Some((
                mediaserver_storage::gcs(crate::storage::gcs_options(config, bucket))
                    .with_context(|| format!("opening gs://{bucket}"))?,
                key.clone(),
            )),
            Location::Oci {
                namespace,
                bucket,
                key,
            } => {
                let what = format!(
                    "opening oci://{namespace}/{bucket} as the {} principal (OCI_AUTH)",
                    config.oci.kind
                );
                let store = crate::storage::connect_oci_bucket(
                    config,
                    Some(namespace.clone()),
                    bucket,
                    sc.part_size.max(mediaserver_storage::MIN_OCI_PART_SIZE),
                    &what,
                )
                .await?;
                Some((store, key.clone()))
            }
        })
    }
}

/// Exit code 2: the input is not usable media. Anything else that fails is exit code 1.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UnusableInput(pub String);

async fn transcode(
    config: &Config,
    src: &str,
    dest: &str,
    preset: Option<String>,
    clip: Option<mediaserver_core::Clip>,
    split: bool,
) -> anyhow::Result<serde_json::Value> {
    let src_loc = Location::parse(src)?;
    let dest_loc = Location::parse(dest)?;
    tokio::fs::create_dir_all(&config.jobs.temp_dir).await.ok();
    let scratch = tempfile::Builder::new()
        .prefix("transcode-")
        .tempdir_in(&config.jobs.temp_dir)
        .or_else(|_| tempfile::tempdir())
        .context("creating a scratch directory (TEMP_DIR)")?;

    let input = match (&src_loc, src_loc.store(config).await?) {
        (Location::Local(p), _) => p.clone(),
        (_, Some((store, key))) => {
            let path = scratch.path().join("input");
            fetch(store.as_ref(), &key, &path)
                .await
                .with_context(|| format!("downloading {src}"))?;
            path
        }
        (_, None) => bail!("{src}: no storage for this location"),
    };
    let kind = {
        let mut head = vec![0u8; SNIFF_LEN];
        let mut f = tokio::fs::File::open(&input)
            .await
            .with_context(|| format!("opening {}", input.display()))?;
        let n = read_up_to(&mut f, &mut head).await?;
        head.truncate(n);
        if n == 0 {
            return Err(UnusableInput("the input is empty".into()).into());
        }
        sniff(&head)
            .ok_or_else(|| UnusableInput("the input is not an image, video or audio file".into()))?
            .kind
    };

    let out_dir = scratch.path().join("out");
    tokio::fs::create_dir_all(&out_dir).await?;
    let settings = settings(config, preset);
    if split && kind == mediaserver_core::MediaKind::Video && clip.is_none() {
        if let Some(summary) =
            super::transcode_chunked::split(config, &input, dest, &settings).await?
        {
            return Ok(summary);
        }
    }
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = indicatif::ProgressBar::new(1000);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} {msg} [{bar:40}] {percent}% ({eta} left)",
        ) {
            b.set_style(style.progress_chars("=> "));
        }
        b.set_message(format!("transcoding {kind}"));
        b
    });
    let progress_bar = bar.clone();
    let dest_store = dest_loc.store(config).await?;
    let (progress_tx, progress_rx) = tokio::sync::watch::channel(0.0f64);
    let progress_writer = dest_store.as_ref().map(|(store, prefix)| {
        tokio::spawn(write_progress(
            store.clone(),
            join_key(prefix, PROGRESS_OBJECT),
            progress_rx,
            Duration::from_secs(config.jobs.progress_interval_secs),
        ))
    });
    let input = match &clip {
        Some(clip) => {
            let cut = scratch.path().join("clip.mkv");
            cut_clip(
                &input,
                &cut,
                kind,
                clip,
                &settings,
                CancellationToken::new(),
            )
            .await
            .map_err(|e| match e {
                PipelineError::Unusable(m) => UnusableInput(m).into(),
                other => anyhow::Error::new(other),
            })?;
            cut
        }
        None => input,
    };
    let processed = process_file(
        &input,
        kind,
        &out_dir,
        &settings,
        move |f| {
            if let Some(b) = &progress_bar {
                b.set_position((f * 1000.0) as u64);
            }
            progress_tx.send_replace(f);
        },
        CancellationToken::new(),
    )
    .await;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    // The callback (and with it the sender) is gone: the writer ends after its last write,
    // which a slow store may hold up; the outputs matter more than a last progress figure.
    if let Some(mut w) = progress_writer {
        if tokio::time::timeout(Duration::from_secs(5), &mut w)
            .await
            .is_err()
        {
            w.abort();
            w.await.ok();
        }
    }
    let processed = match processed {
        Ok(p) => p,
        Err(PipelineError::Unusable(m)) => return Err(UnusableInput(m).into()),
        // The causes as one message: `{:#}` would repeat those the message already names.
        Err(e) => return Err(anyhow!("{}", ErrorChain(&e))),
    };

    let files = mediaserver_pipeline::process::list_files(&out_dir).await?;
    let summary = summary(&processed, dest, files.len());
    // Written last, so its presence means every output is in place: the Container Instances
    // job runner reads it to record the item.
    let summary_bytes = serde_json::to_vec_pretty(&summary)?;
    let summary_name = SUMMARY_OBJECT;
    match (&dest_loc, dest_store) {
        (Location::Local(dir), _) => {
            for (path, rel) in &files {
                let target = dir.join(rel);
                if let Some(parent) = target.parent() {
                    tokio::fs::create_dir_all(parent).await?;
                }
                tokio::fs::copy(path, &target)
                    .await
                    .with_context(|| format!("writing {}", target.display()))?;
            }
            tokio::fs::create_dir_all(dir).await?;
            let target = dir.join(summary_name);
            tokio::fs::write(&target, &summary_bytes)
                .await
                .with_context(|| format!("writing {}", target.display()))?;
        }
        (_, Some((store, prefix))) => {
            for (path, rel) in &files {
                let key = ObjectKey::new(join_key(&prefix, rel))?;
                store
                    .put_file(&key, path)
                    .await
                    .with_context(|| format!("uploading {key}"))?;
            }
            let key = ObjectKey::new(join_key(&prefix, summary_name))?;
            store
                .put_bytes(&key, summary_bytes.into())
                .await
                .with_context(|| format!("uploading {key}"))?;
            // Done: the summary says so now, the progress object is clutter among the outputs.
            if let Ok(key) = ObjectKey::new(join_key(&prefix, PROGRESS_OBJECT)) {
                store.delete(&key).await.ok();
            }
        }
        (_, None) => bail!("{dest}: no storage for this location"),
    }
    Ok(summary)
}

fn settings(config: &Config, preset: Option<String>) -> ProcessSettings {
    ProcessSettings {
        preset: preset.unwrap_or_else(|| config.jobs.preset.clone()),
        timeout: std::time::Duration::from_secs(config.jobs.timeout_secs),
        downloads: config.jobs.downloads,
        codecs: config.codecs.clone(),
        ladder_mode: config.jobs.ladder_mode,
        chunks: config.jobs.chunks,
    }
}

fn join_key(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}/{name}")
    }
}

/// Rewrites the progress object while the encode runs, at most once per `interval` and only
/// when the whole percentage changed. Best effort: a failed write only costs the watcher a
/// stale figure, never the job.
async fn write_progress(
    store: Arc<dyn Storage>,
    key: String,
    mut rx: tokio::sync::watch::Receiver<f64>,
    interval: Duration,
) {
    let Ok(key) = ObjectKey::new(key) else {
        return;
    };
    let mut last: Option<(i64, std::time::Instant)> = None;
    // No sleeping here: the writer must notice the end of the encode at once.
    while rx.changed().await.is_ok() {
        let fraction = *rx.borrow_and_update();
        let pct = (fraction * 100.0).floor() as i64;
        let due = last.is_none_or(|(p, at)| p != pct && at.elapsed() >= interval);
        if !due {
            continue;
        }
        last = Some((pct, std::time::Instant::now()));
        let body = serde_json::to_vec(&TranscodeProgress { fraction }).unwrap_or_default();
        if let Err(e) = store.put_bytes(&key, body.into()).await {
            tracing::debug!(error = %e, "could not write the progress object");
        }
    }
}

async fn read_up_to(f: &mut tokio::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let r = f.read(&mut buf[n..]).await?;
        if r == 0 {
            break;
        }
        n += r;
    }
    Ok(n)
}

pub(super) async fn fetch(store: &dyn Storage, key: &str, dest: &Path) -> anyhow::Result<()> {
    let key = ObjectKey::new(key.to_string())?;
    let (_, mut stream) = store.get_stream(&key).await?;
    let mut file = tokio::fs::File::create(dest).await?;
    while let Some(chunk) = stream.next().await {
        file.write_all(&chunk?).await?;
    }
    file.flush().await?;
    Ok(())
}

fn summary(p: &Processed, dest: &str, files: usize) -> serde_json::Value {
    serde_json::json!({
        "kind": p.kind,
        "duration_seconds": p.duration_seconds,
        "width": p.width,
        "height": p.height,
        "renditions": p.outputs.renditions,
        "variants": p.outputs.variants,
        "hls": p.outputs.hls,
        "dash": p.outputs.dash,
        "thumbnail": p.outputs.thumbnail,
        "storyboard": p.outputs.storyboard,
        "bytes": p.outputs.bytes,
        "audio_tracks": p.outputs.audio_tracks,
        "warnings": p.outputs.warnings,
        "source": p.outputs.source,
        "text_tracks": p.outputs.text_tracks,
        "downloads": p.outputs.downloads,
        "encode": p.outputs.encode,
        "files": files,
        "destination": dest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_locations() {
        assert_eq!(
            Location::parse("/tmp/a.mp4").unwrap(),
            Location::Local("/tmp/a.mp4".into())
        );
        assert_eq!(
            Location::parse("file:///tmp/a").unwrap(),
            Location::Local("/tmp/a".into())
        );
        assert_eq!(
            Location::parse("s3://bkt/in/a b.mp4").unwrap(),
            Location::S3 {
                bucket: "bkt".into(),
                key: "in/a b.mp4".into()
            }
        );
        assert_eq!(
            Location::parse("oci://ns/bkt/out/").unwrap(),
            Location::Oci {
                namespace: "ns".into(),
                bucket: "bkt".into(),
                key: "out".into()
            }
        );
        assert!(Location::parse("ftp://x/y").is_err());
        assert!(Location::parse("oci://ns").is_err());
        assert_eq!(
            Location::parse("gs://bkt/out/").unwrap(),
            Location::Gcs {
                bucket: "bkt".into(),
                key: "out".into()
            }
        );
        assert!(Location::parse("gs:///key").is_err());
        assert!(Location::parse("s3:///key").is_err());
    }
}
