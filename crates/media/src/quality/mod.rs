//! Full-reference quality of each encoded rung: SSIM and PSNR (and VMAF where ffmpeg has
//! libvmaf) of the rung against the source as the encoder was fed it — the same picture chain
//! (deinterlace, constant rate, tone-map) and scaler, from the rung's recorded filter — on
//! sampled windows, so that it costs a small fraction of the encode.
//!
//! Sampling ([`plan_windows`]): [`SAMPLE_FRACTION`] of the duration (at least
//! [`MIN_SAMPLE_SECONDS`], at most [`MAX_SAMPLE_SECONDS`]) in up to [`MAX_WINDOWS`] windows of
//! at most a second, each at the start of a segment in its own stretch of the video: the one
//! starting the fewest whole seconds after a source keyframe (from ffprobe's packet index), as
//! reading the source from there decodes from that keyframe on; never the first segment (rate
//! control's full start buffer, fades) unless it is the only one. A segment starts on a
//! keyframe, so the rung's window is decoded from its own init and media segment (nothing
//! before it), and the source is read from the same instant. One ffmpeg run per
//! window decodes the source once and compares every rung; per-frame scores go to stats files,
//! pooled over every frame of every window (SSIM: the mean; PSNR: from the mean squared error).
//!
//! Here: what a measurement runs and returns ([`measure`], [`measure_windows`],
//! [`window_files`]). `windows.rs`: where the windows go and the source's keyframes;
//! `compare.rs`: the ffmpeg run comparing one window; `stats.rs`: reading and pooling its stats
//! files; `version.rs`: `ffmpeg -version`.

mod compare;
mod stats;
mod version;
mod windows;

pub use version::{ffmpeg_build, FfmpegBuild};
pub use windows::{keyframes, plan_windows, Window};

use crate::error::{MediaError, Result};
use crate::probe::{file_url, VideoInfo};
use crate::process::{self, Budget};
use crate::transcode::{rendition_files, RenditionFiles, RungEncode};
use compare::{compare_args, RungStats};
use stats::Pool;
use std::ffi::OsStr;
use std::path::Path;
use windows::source_keyframes;

/// Share of the duration compared.
pub const SAMPLE_FRACTION: f64 = 0.02;
/// At least this much is compared (about 8 frames at 30 fps), however short the video.
pub const MIN_SAMPLE_SECONDS: f64 = 0.25;
pub const MAX_SAMPLE_SECONDS: f64 = 6.0;
pub const MAX_WINDOWS: usize = 6;
/// Longest single window.
pub const MAX_WINDOW_SECONDS: f64 = 1.0;
/// PSNR of identical pictures (the mean squared error is 0).
pub const PSNR_IDENTICAL: f64 = 100.0;
/// Scratch folder inside the output directory, removed before returning.
const SCRATCH_DIR: &str = ".quality";

/// A rung's scores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    pub ssim: f64,
    pub psnr: f64,
    pub vmaf: Option<f64>,
}

/// What [`measure`] found and what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// By rung, as given; `None` for a rung no frame of which could be compared.
    pub scores: Vec<Option<Scores>>,
    pub windows: usize,
    /// Seconds compared per rung.
    pub sampled_seconds: f64,
    pub wall_seconds: f64,
    pub cpu_seconds: Option<f64>,
}

/// Measures every rung of the finished encode in `out_dir` against `input`, whose video
/// stream is `video`. `vmaf` adds libvmaf (only if ffmpeg has it).
pub async fn measure(
    input: &Path,
    video: &VideoInfo,
    out_dir: &Path,
    rungs: &[RungEncode],
    vmaf: bool,
    budget: &Budget,
) -> Result<Measured> {
    let started = std::time::Instant::now();
    let (keyframes, probe_cpu) = source_keyframes(input, video, budget).await?;
    let source = file_url(input).into_os_string();
    let windows = measure_windows(&source, &keyframes, video, out_dir, rungs, vmaf, budget).await;
    let mut m = windows?;
    m.cpu_seconds = m.cpu_seconds.zip(probe_cpu).map(|(a, b)| a + b);
    m.wall_seconds = started.elapsed().as_secs_f64();
    Ok(m)
}

/// [`measure`] with the source read from `source` (a URL ffmpeg can seek in, e.g. a presigned
/// HTTPS URL: only the windows are read) and its video keyframes already known (`keyframes`,
/// seconds as [`keyframes`] gives them; empty: unknown, each stretch's middle segment).
/// `out_dir` needs the rungs' media playlists, plus the files [`window_files`] names.
#[allow(clippy::too_many_arguments)]
pub async fn measure_windows(
    source: &OsStr,
    keyframes: &[f64],
    video: &VideoInfo,
    out_dir: &Path,
    rungs: &[RungEncode],
    vmaf: bool,
    budget: &Budget,
) -> Result<Measured> {
    let started = std::time::Instant::now();
    let (files, windows) = plan_rungs(out_dir, rungs, keyframes).await?;
    let scratch = out_dir.join(SCRATCH_DIR);
    let _ = tokio::fs::remove_dir_all(&scratch).await;
    tokio::fs::create_dir_all(&scratch).await?;
    let result = async {
        let mut pooled = vec![Pool::default(); rungs.len()];
        let mut cpu = Some(0.0);
        for (w, window) in windows.iter().enumerate() {
            let mut clips = Vec::with_capacity(rungs.len());
            for (r, f) in files.iter().enumerate() {
                // The init segment and the window's media segment make a playable fMP4.
                let clip = scratch.join(format!("w{w}-r{r}.mp4"));
                let mut data = match &f.init {
                    Some(init) => tokio::fs::read(out_dir.join(init)).await?,
                    None => Vec::new(),
                };
                data.extend(tokio::fs::read(out_dir.join(&f.segments[window.segment].0)).await?);
                tokio::fs::write(&clip, data).await?;
                clips.push(clip);
            }
            let stats: Vec<RungStats> = (0..rungs.len())
                .map(|r| RungStats::new(&scratch, w, r, vmaf))
                .collect();
            let args = compare_args(source, video, window, rungs, &clips, &stats)?;
            let finished = process::run("ffmpeg", &args, "ffmpeg quality", budget, |_| {}).await?;
            cpu = cpu.zip(finished.cpu_seconds).map(|(a, b)| a + b);
            if !finished.success() {
                return Err(finished.into_error());
            }
            for (pool, s) in pooled.iter_mut().zip(&stats) {
                pool.add(s).await?;
            }
        }
        Ok((pooled, cpu))
    }
    .await;
    let _ = tokio::fs::remove_dir_all(&scratch).await;
    let (pooled, cpu) = result?;
    Ok(Measured {
        scores: pooled.iter().map(Pool::scores).collect(),
        windows: windows.len(),
        sampled_seconds: windows.iter().map(|w| w.length).sum(),
        wall_seconds: started.elapsed().as_secs_f64(),
        cpu_seconds: cpu,
    })
}

/// The files (relative to `out_dir`) [`measure_windows`] reads besides the media playlists:
/// each rung's init segment and the media segment of each window. For a step that has the
/// playlists but not the segments (a chunked encode's final step fetches just these).
pub async fn window_files(
    out_dir: &Path,
    rungs: &[RungEncode],
    keyframes: &[f64],
) -> Result<Vec<String>> {
    let (files, windows) = plan_rungs(out_dir, rungs, keyframes).await?;
    let mut names = Vec::new();
    for f in &files {
        names.extend(f.init.clone());
        names.extend(windows.iter().map(|w| f.segments[w.segment].0.clone()));
    }
    Ok(names)
}

/// Every rung's files (from its media playlist in `out_dir`) and the windows to compare.
async fn plan_rungs(
    out_dir: &Path,
    rungs: &[RungEncode],
    keyframes: &[f64],
) -> Result<(Vec<RenditionFiles>, Vec<Window>)> {
    let first = rungs
        .first()
        .ok_or_else(|| MediaError::bad_output("no rung to measure"))?;
    let mut files = Vec::with_capacity(rungs.len());
    for r in rungs {
        files.push(rendition_files(out_dir, &r.playlist).await?);
    }
    let durations: Vec<f64> = files[0].segments.iter().map(|(_, d)| *d).collect();
    if files.iter().any(|f| f.segments.len() != durations.len()) {
        return Err(MediaError::bad_output(format!(
            "the rungs of {} have different segment counts",
            first.name
        )));
    }
    let windows = plan_windows(&durations, keyframes);
    Ok((files, windows))
}
