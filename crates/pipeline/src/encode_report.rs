//! The item's [`EncodeReport`]: what the media crate recorded of the encode (per-rung
//! parameters, the encoder's own tag, bytes, wall and CPU time), ffmpeg's version, where it ran,
//! and each rung's measured quality ([`mediaserver_media::quality`]); and the `/metrics`
//! counters of what encodes cost, by codec.
//!
//! Quality is measured after the encode, beside the downloads' remux (the two only read the
//! finished segments), so `ready` waits for the longer of the two rather than their sum; a
//! measurement that fails leaves the scores out (logged) and never fails the item.

use crate::process::ProcessSettings;
use crate::{ErrorChain, PipelineError};
use mediaserver_core::{EncodeReport, EncodeRunner, Quality, QualitySampling, RenditionEncode};
use mediaserver_media::probe::VideoInfo;
use mediaserver_media::process::Budget;
use mediaserver_media::quality::{self, Measured};
use mediaserver_media::transcode::EncodeInfo;
use mediaserver_media::MediaError;
use std::ffi::OsStr;
use std::path::Path;
use tokio_util::sync::CancellationToken;

/// `runner.kind` of an encode run by ffmpeg in the worker's process (also what
/// `mediaserver transcode` records; a runner that started it elsewhere puts its own).
pub const IN_PROCESS: &str = "in-process";

/// What the quality of a finished encode is measured against.
pub enum Reference<'a> {
    /// The local original (its keyframes read from it).
    File(&'a Path),
    /// The original where ffmpeg reads it (a presigned URL: only the windows are read), its
    /// keyframe times known beforehand (empty: unknown).
    Url {
        url: &'a OsStr,
        keyframes: &'a [f64],
    },
    /// None: the scores stay out.
    Unmeasured,
}

/// Measures the rungs of the finished encode in `out_dir` and puts the report together.
pub async fn report(
    input: &Path,
    video: &VideoInfo,
    out_dir: &Path,
    encode: &EncodeInfo,
    settings: &ProcessSettings,
    cancel: &CancellationToken,
) -> Result<EncodeReport, PipelineError> {
    report_against(
        Reference::File(input),
        video,
        out_dir,
        encode,
        settings,
        cancel,
    )
    .await
}

/// [`report`] against `reference`; with [`Reference::Url`], `out_dir` needs the rungs' media
/// playlists and the files [`quality::window_files`] names (a chunked encode's final step).
pub async fn report_against(
    reference: Reference<'_>,
    video: &VideoInfo,
    out_dir: &Path,
    encode: &EncodeInfo,
    settings: &ProcessSettings,
    cancel: &CancellationToken,
) -> Result<EncodeReport, PipelineError> {
    let budget = Budget::new(settings.timeout, cancel.clone());
    let build = match quality::ffmpeg_build(&budget).await {
        Ok(b) => Some(b),
        Err(MediaError::Cancelled) => return Err(PipelineError::Cancelled),
        Err(e) => {
            tracing::warn!(error = %ErrorChain(&e), "cannot read ffmpeg's version");
            None
        }
    };
    let vmaf = build.as_ref().is_some_and(|b| b.libvmaf);
    let measuring = match reference {
        Reference::File(input) => {
            Some(quality::measure(input, video, out_dir, &encode.rungs, vmaf, &budget).await)
        }
        Reference::Url { url, keyframes } => {
            let rungs = &encode.rungs;
            let m = quality::measure_windows(url, keyframes, video, out_dir, rungs, vmaf, &budget);
            Some(m.await)
        }
        Reference::Unmeasured => None,
    };
    let measured = match measuring {
        None => None,
        Some(Ok(m)) => Some(m),
        Some(Err(MediaError::Cancelled)) => return Err(PipelineError::Cancelled),
        Some(Err(e)) => {
            tracing::warn!(error = %ErrorChain(&e), "cannot measure the renditions' quality");
            None
        }
    };
    if let Some(m) = &measured {
        tracing::info!(
            encode_cpu_seconds = encode.cpu_seconds,
            quality_cpu_seconds = m.cpu_seconds,
            windows = m.windows,
            sampled_seconds = m.sampled_seconds,
            "measured the renditions' quality"
        );
    }
    Ok(assemble(
        encode,
        build.map(|b| b.version).unwrap_or_default(),
        host_name(),
        measured.as_ref(),
        vmaf,
    ))
}

/// The report from its parts (pure).
fn assemble(
    encode: &EncodeInfo,
    ffmpeg_version: String,
    host: Option<String>,
    measured: Option<&Measured>,
    vmaf: bool,
) -> EncodeReport {
    let renditions = encode
        .rungs
        .iter()
        .enumerate()
        .map(|(i, r)| RenditionEncode {
            name: r.name.clone(),
            codec: r.codec.clone(),
            encoder: r.encoder.clone(),
            encoder_version: r.encoder_version.clone(),
            encoder_settings: r.encoder_settings.clone(),
            preset: r.preset.clone(),
            profile: r.profile.clone(),
            crf: r.crf.map(i64::from),
            head_crf: r.head_crf.map(i64::from),
            head_seconds: r.head_seconds.map(i64::from),
            bitrate: r.bitrate as i64,
            maxrate: r.maxrate as i64,
            bufsize: r.bufsize as i64,
            gop: r.gop as i64,
            fps: r.fps,
            filter: r.filter.clone(),
            bytes: r.bytes as i64,
            quality: measured
                .and_then(|m| m.scores.get(i).copied().flatten())
                .map(|s| Quality {
                    ssim: round(s.ssim, 6),
                    psnr: round(s.psnr, 3),
                    vmaf: s.vmaf.map(|v| round(v, 3)),
                }),
        })
        .collect();
    EncodeReport {
        ffmpeg_version,
        runner: EncodeRunner {
            kind: IN_PROCESS.into(),
            host,
            ..Default::default()
        },
        wall_seconds: round(encode.wall_seconds, 3),
        cpu_seconds: encode.cpu_seconds.map(|c| round(c, 3)),
        elapsed_seconds: None,
        quality: measured.map(|m| QualitySampling {
            windows: m.windows as u32,
            sampled_seconds: round(m.sampled_seconds, 3),
            wall_seconds: round(m.wall_seconds, 3),
            cpu_seconds: m.cpu_seconds.map(|c| round(c, 3)),
            vmaf,
        }),
        renditions,
    }
}

/// `x` to `digits` decimals: the scores and timings are not more precise than that, and the
/// item's JSON should not read 0.9099999999999999.
pub(crate) fn round(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

/// This machine's (or container's) host name.
fn host_name() -> Option<String> {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}

/// Counts a recorded encode on `/metrics`: CPU milliseconds and output bytes by codec
/// (`encode_cpu_milliseconds_total`, `encode_output_bytes_total`).
pub fn record_metrics(report: &EncodeReport) {
    for (codec, cpu_seconds, bytes) in report.cost_by_codec() {
        metrics::counter!("encode_cpu_milliseconds_total", "codec" => codec.clone())
            .increment((cpu_seconds * 1000.0).round() as u64);
        metrics::counter!("encode_output_bytes_total", "codec" => codec)
            .increment(bytes.max(0) as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mediaserver_media::quality::Scores;
    use mediaserver_media::transcode::RungEncode;

    #[test]
    fn scores_go_to_their_rung_by_position_and_missing_ones_stay_out() {
        let rung = |name: &str| RungEncode {
            name: name.into(),
            codec: "h264".into(),
            encoder: "libx264".into(),
            bytes: 10,
            ..Default::default()
        };
        let encode = EncodeInfo {
            wall_seconds: 2.0,
            cpu_seconds: Some(3.0),
            rungs: vec![rung("720p"), rung("360p")],
        };
        let measured = Measured {
            scores: vec![
                Some(Scores {
                    ssim: 0.99,
                    psnr: 45.0,
                    vmaf: None,
                }),
                None,
            ],
            windows: 1,
            sampled_seconds: 0.25,
            wall_seconds: 0.1,
            cpu_seconds: Some(0.1 + 0.81),
        };
        let r = assemble(
            &encode,
            "7.1".into(),
            Some("h".into()),
            Some(&measured),
            false,
        );
        assert_eq!(
            r.rendition("720p", "h264").unwrap().quality.unwrap().ssim,
            0.99
        );
        assert_eq!(r.rendition("360p", "h264").unwrap().quality, None);
        assert_eq!(r.runner.kind, IN_PROCESS);
        assert_eq!(r.quality.as_ref().unwrap().cpu_seconds, Some(0.91));
        let unmeasured = assemble(&encode, String::new(), None, None, false);
        assert_eq!(unmeasured.quality, None);
        assert!(unmeasured.renditions.iter().all(|r| r.quality.is_none()));
    }
}
