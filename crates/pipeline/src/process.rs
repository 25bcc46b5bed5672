//! Turning one local file into published outputs: the steps shared by queue workers and the
//! one-shot `mediaserver transcode` command.

use crate::{encode_report, PipelineError};
use mediaserver_core::{
    AudioTrack, Clip, Download, Hdr, MediaKind, MediaOutputs, Rendition, SourceVideo, TextTrack,
    TextTrackKind, TextTrackSource, Variant,
};
use mediaserver_media::{image, ladder, probe, transcode};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct ProcessSettings {
    pub preset: String,
    pub timeout: Duration,
    /// Which rungs get an MP4 download (`DOWNLOAD_RENDITIONS`).
    pub downloads: transcode::DownloadRenditions,
    /// AV1 / HEVC renditions besides H.264 (`VIDEO_CODECS`).
    pub codecs: transcode::CodecOptions,
    /// How rungs spend bits (`LADDER_MODE`).
    pub ladder_mode: transcode::LadderMode,
    /// When a long video is encoded as chunks by many jobs (`CHUNK_SECONDS`,
    /// `CHUNK_MIN_SECONDS`; the queue's workers only, not `mediaserver transcode SRC DEST`).
    pub chunks: transcode::chunked::ChunkSettings,
}

impl Default for ProcessSettings {
    fn default() -> Self {
        ProcessSettings {
            preset: "veryfast".into(),
            timeout: Duration::from_secs(6 * 3600),
            downloads: transcode::DownloadRenditions::default(),
            codecs: transcode::CodecOptions::default(),
            ladder_mode: transcode::LadderMode::Adaptive,
            chunks: transcode::chunked::ChunkSettings::default(),
        }
    }
}

/// What processing produced, with paths relative to the output directory.
#[derive(Debug, Clone, PartialEq)]
pub struct Processed {
    pub kind: MediaKind,
    pub duration_seconds: Option<f64>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub outputs: MediaOutputs,
}

pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

/// A clip's input: `clip`'s range of `input`, cut frame-accurately into `dest` (Matroska), which
/// is then processed in its place.
pub async fn cut_clip(
    input: &Path,
    dest: &Path,
    kind: MediaKind,
    clip: &Clip,
    settings: &ProcessSettings,
    cancel: CancellationToken,
) -> Result<(), PipelineError> {
    if kind == MediaKind::Image {
        return Err(PipelineError::Unusable("an image cannot be clipped".into()));
    }
    transcode::cut(
        input,
        dest,
        clip.start_seconds,
        clip.end_seconds,
        kind == MediaKind::Video,
        settings.timeout,
        cancel,
    )
    .await?;
    Ok(())
}

/// Processes `input` (of the sniffed `kind`) into `out_dir`. `progress` receives 0.0–1.0.
pub async fn process_file(
    input: &Path,
    kind: MediaKind,
    out_dir: &Path,
    settings: &ProcessSettings,
    progress: impl FnMut(f64) + Send,
    cancel: CancellationToken,
) -> Result<Processed, PipelineError> {
    process_file_with(input, kind, out_dir, settings, progress, cancel, None).await
}

/// [`process_file`], also reporting progressive packaging of video and audio to `packaging`
/// while the encode runs (see [`transcode::PackagingUpdate`]); images report nothing.
pub async fn process_file_with(
    input: &Path,
    kind: MediaKind,
    out_dir: &Path,
    settings: &ProcessSettings,
    progress: impl FnMut(f64) + Send,
    cancel: CancellationToken,
    packaging: Option<transcode::PackagingSender>,
) -> Result<Processed, PipelineError> {
    let work = async {
        match kind {
            MediaKind::Image => process_image(input, out_dir).await,
            MediaKind::Video | MediaKind::Audio => {
                let cancel = cancel.clone();
                process_av(input, kind, out_dir, settings, progress, cancel, packaging).await
            }
        }
    };
    tokio::select! {
        r = work => r,
        _ = cancel.cancelled() => Err(PipelineError::Cancelled),
    }
}

async fn process_av(
    input: &Path,
    kind: MediaKind,
    out_dir: &Path,
    settings: &ProcessSettings,
    mut progress: impl FnMut(f64) + Send,
    cancel: CancellationToken,
    packaging: Option<transcode::PackagingSender>,
) -> Result<Processed, PipelineError> {
    let info = probe::probe(input, PROBE_TIMEOUT).await?;
    // A "video" container may carry only sound (an .mp4 of a podcast): publish it as audio.
    let has_video = info.video.is_some();
    if !has_video && info.audio.is_none() {
        return Err(PipelineError::Unusable(
            "the file has no video or audio stream".into(),
        ));
    }
    if kind == MediaKind::Video && has_video {
        let opts = video_options(settings, cancel.clone(), packaging);
        let out = transcode::video(input, out_dir, &info, &opts, |p: transcode::Progress| {
            progress(p.fraction)
        })
        .await?;
        let source = info.video.as_ref().map(|v| source_video(v, &out));
        let mut warnings = out.warnings.clone();
        // Both only read the finished segments: side by side (see `encode_report`).
        let (encode, downloads) = tokio::join!(
            async {
                match &info.video {
                    Some(v) => {
                        let r = encode_report::report(
                            input,
                            v,
                            out_dir,
                            &out.encode,
                            settings,
                            &cancel,
                        );
                        r.await.map(Some)
                    }
                    None => Ok(None),
                }
            },
            downloads(out_dir, settings, &cancel, &mut warnings)
        );
        let (encode, downloads) = (encode?, downloads?);
        Ok(Processed {
            kind: MediaKind::Video,
            duration_seconds: Some(out.duration),
            width: Some(out.width as i32),
            height: Some(out.height as i32),
            outputs: MediaOutputs {
                renditions: out.renditions.iter().map(rendition).collect(),
                hls: Some(out.hls_master.clone()),
                dash: Some(out.dash_manifest.clone()),
                thumbnail: Some(out.thumbnail.clone()),
                storyboard: out.storyboard_vtt.clone(),
                bytes: dir_size(out_dir).await?,
                audio_tracks: out.audio_tracks.iter().map(audio_track).collect(),
                warnings,
                source,
                text_tracks: out.text_tracks.iter().map(text_track).collect(),
                downloads,
                encode,
                ..Default::default()
            },
        })
    } else {
        let opts = transcode::AudioOptions {
            timeout: settings.timeout,
            cancel: cancel.clone(),
            packaging,
            ..Default::default()
        };
        let out = transcode::audio(input, out_dir, &info, &opts, |p: transcode::Progress| {
            progress(p.fraction)
        })
        .await?;
        let mut warnings = out.warnings.clone();
        let downloads = downloads(out_dir, settings, &cancel, &mut warnings).await?;
        Ok(Processed {
            kind: MediaKind::Audio,
            duration_seconds: Some(out.duration),
            width: None,
            height: None,
            outputs: MediaOutputs {
                renditions: out.renditions.iter().map(rendition).collect(),
                hls: Some(out.hls_master.clone()),
                dash: Some(out.dash_manifest.clone()),
                bytes: dir_size(out_dir).await?,
                audio_tracks: out.audio_tracks.iter().map(audio_track).collect(),
                warnings,
                text_tracks: out.text_tracks.iter().map(text_track).collect(),
                downloads,
                ..Default::default()
            },
        })
    }
}

/// How a video item is encoded: the same for a single job and for every part of a chunked one.
pub(crate) fn video_options(
    settings: &ProcessSettings,
    cancel: CancellationToken,
    packaging: Option<transcode::PackagingSender>,
) -> transcode::VideoOptions {
    transcode::VideoOptions {
        preset: settings.preset.clone(),
        ladder: ladder::DEFAULT_LADDER.to_vec(),
        timeout: settings.timeout,
        cancel,
        packaging,
        codecs: settings.codecs.clone(),
        ladder_mode: settings.ladder_mode,
        ..Default::default()
    }
}

/// The downloads of a finished encode in `out_dir` (before its size is counted). They are a
/// convenience made from outputs that already play: a failure other than cancellation leaves
/// the item without them, with a warning, rather than failing (and re-encoding) the whole job;
/// `mediaserver backfill-downloads` can make them later.
pub(crate) async fn downloads(
    out_dir: &Path,
    settings: &ProcessSettings,
    cancel: &CancellationToken,
    warnings: &mut Vec<String>,
) -> Result<Vec<Download>, PipelineError> {
    match transcode::make_downloads(
        out_dir,
        settings.downloads,
        settings.timeout,
        cancel.clone(),
    )
    .await
    {
        Ok(made) => Ok(made.iter().map(download).collect()),
        Err(mediaserver_media::MediaError::Cancelled) => Err(PipelineError::Cancelled),
        Err(e) => {
            tracing::warn!(error = %crate::ErrorChain(&e), "cannot make the downloads");
            // Nothing half-made is published.
            let dir = out_dir.join(transcode::DOWNLOADS_DIR);
            if let Err(e) = tokio::fs::remove_dir_all(&dir).await {
                if e.kind() != std::io::ErrorKind::NotFound {
                    return Err(e.into());
                }
            }
            warnings.push("the MP4/M4A downloads could not be made".into());
            Ok(Vec::new())
        }
    }
}

/// A made download as the item records it.
pub fn download(d: &transcode::DownloadInfo) -> Download {
    Download {
        name: d.name.clone(),
        path: d.path.clone(),
        width: d.width as i32,
        height: d.height as i32,
        bytes: d.bytes as i64,
        content_type: d.content_type.clone(),
    }
}

pub(crate) fn rendition(r: &transcode::RenditionInfo) -> Rendition {
    Rendition {
        name: r.name.clone(),
        width: r.width as i32,
        height: r.height as i32,
        bandwidth: r.bandwidth as i64,
        codecs: r.codecs.clone(),
        codec: r.codec.map(|c| c.name().to_string()),
    }
}

pub(crate) fn audio_track(t: &transcode::AudioTrackInfo) -> AudioTrack {
    AudioTrack {
        id: t.id as i32,
        language: t.language.clone(),
        name: t.name.clone(),
        channels: t.channels as i32,
        default: t.default,
    }
}

pub(crate) fn text_track(t: &transcode::TextTrackInfo) -> TextTrack {
    TextTrack {
        id: t.id.clone(),
        language: t.language.clone(),
        label: t.label.clone(),
        kind: match t.kind {
            transcode::TextKind::Subtitles => TextTrackKind::Subtitles,
            transcode::TextKind::Captions => TextTrackKind::Captions,
        },
        source: TextTrackSource::Embedded,
    }
}

/// The source stream as probed, with what the encode decided (rate, tone-map, deinterlace).
pub(crate) fn source_video(v: &probe::VideoInfo, out: &transcode::VideoOutput) -> SourceVideo {
    SourceVideo {
        codec: v.codec.clone(),
        width: v.width as i32,
        height: v.height as i32,
        fps: out.fps,
        hdr: out.hdr.map(|h| match h {
            probe::Hdr::Pq => Hdr::Pq,
            probe::Hdr::Hlg => Hdr::Hlg,
        }),
        interlaced: out.interlaced,
        rotation: v.rotation as i32,
        pixel_format: v.pix_fmt.clone(),
    }
}

async fn process_image(input: &Path, out_dir: &Path) -> Result<Processed, PipelineError> {
    // Decoding and resizing are CPU-bound: process_async keeps them off the async workers.
    let result = image::process_async(
        input.to_path_buf(),
        out_dir.to_path_buf(),
        image::ImageLimits::default(),
    )
    .await?;
    Ok(Processed {
        kind: MediaKind::Image,
        duration_seconds: None,
        width: Some(result.width as i32),
        height: Some(result.height as i32),
        outputs: MediaOutputs {
            thumbnail: result
                .variants
                .iter()
                .find(|v| v.name == "large" && v.content_type == "image/jpeg")
                .map(|v| v.path.clone()),
            variants: result
                .variants
                .into_iter()
                .map(|v| Variant {
                    name: v.name,
                    width: v.width as i32,
                    height: v.height as i32,
                    content_type: v.content_type,
                    path: v.path,
                })
                .collect(),
            bytes: dir_size(out_dir).await?,
            ..Default::default()
        },
    })
}

/// Every regular file under `dir`, as (absolute path, path relative to `dir` with `/`).
pub async fn list_files(dir: &Path) -> std::io::Result<Vec<(PathBuf, String)>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let mut entries = tokio::fs::read_dir(&d).await?;
        while let Some(e) = entries.next_entry().await? {
            let ft = e.file_type().await?;
            let path = e.path();
            if ft.is_dir() {
                stack.push(path);
            } else if ft.is_file() {
                let rel = path
                    .strip_prefix(dir)
                    .map_err(std::io::Error::other)?
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push((path, rel));
            }
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

pub(crate) async fn dir_size(dir: &Path) -> Result<i64, PipelineError> {
    let mut total = 0i64;
    for (path, _) in list_files(dir).await? {
        total += tokio::fs::metadata(&path).await?.len() as i64;
    }
    Ok(total)
}
