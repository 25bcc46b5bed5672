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

use crate::error::{MediaError, Result};
use crate::probe::{file_url, VideoInfo};
use crate::process::{self, Budget};
use crate::transcode::{rendition_files, RenditionFiles, RungEncode};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

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

/// A stretch of the video compared: `length` seconds from the start of segment `segment`
/// (index into every rung's segment list; the rungs' segments start at the same instants).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub segment: usize,
    pub start: f64,
    pub length: f64,
}

/// The windows to compare for segments of these durations (seconds, in order), given the
/// source's keyframe times (seconds from its start; empty when unknown). The segments are cut
/// into as many equal stretches as there are windows; each window takes the segment of its
/// stretch that starts closest after a source keyframe, since reading the source from a window's
/// start decodes everything from the keyframe before it (a long-GOP source would otherwise cost
/// more to seek than to compare), and without keyframes, the stretch's middle segment.
pub fn plan_windows(segment_durations: &[f64], keyframes: &[f64]) -> Vec<Window> {
    let duration: f64 = segment_durations.iter().sum();
    if duration <= 0.0 {
        return Vec::new();
    }
    let total = (duration * SAMPLE_FRACTION).clamp(MIN_SAMPLE_SECONDS, MAX_SAMPLE_SECONDS);
    let count = ((total / MAX_WINDOW_SECONDS).ceil() as usize)
        .clamp(1, MAX_WINDOWS)
        .min(segment_durations.len());
    let length = total / count as f64;
    let starts: Vec<f64> = segment_durations
        .iter()
        .scan(0.0, |t, d| {
            let start = *t;
            *t += d;
            Some(start)
        })
        .collect();
    let n = segment_durations.len();
    // Seconds of source to decode before `start`: back to the keyframe at or before it.
    let lead = |start: f64| {
        keyframes
            .iter()
            .filter(|&&k| k <= start + 1e-3)
            .map(|k| start - k)
            .fold(f64::INFINITY, f64::min)
    };
    let mut windows: Vec<Window> = Vec::new();
    for i in 0..count {
        let (lo, hi) = (i * n / count, ((i + 1) * n / count).max(i * n / count + 1));
        let middle = ((2 * i + 1) * n) / (2 * count);
        let segment = if keyframes.is_empty() {
            middle
        } else {
            // Not the first segment (unless it is the only one): rate control starts with a
            // full buffer and videos with fades, so it is not what the rest looks like.
            (lo..hi.min(n))
                .filter(|&j| j > 0 || n == 1)
                .min_by(|&a, &b| {
                    // Whole seconds of lead: among segments as cheap, the one nearest the middle.
                    let key = |j: usize| (lead(starts[j]).ceil(), j.abs_diff(middle));
                    let (ka, kb) = (key(a), key(b));
                    ka.0.total_cmp(&kb.0).then(ka.1.cmp(&kb.1))
                })
                .unwrap_or(middle)
        };
        if windows.last().map(|w| w.segment) == Some(segment) {
            continue;
        }
        windows.push(Window {
            segment,
            start: starts[segment],
            length: length.min(segment_durations[segment]),
        });
    }
    windows
}

/// Times (seconds from the file's start, as `-ss` counts) of the source video's keyframes, from
/// the packet index alone (nothing is decoded); empty when ffprobe cannot say or the list
/// would be absurdly long.
pub async fn keyframes(input: &Path, v: &VideoInfo, budget: &Budget) -> Result<Vec<f64>> {
    Ok(source_keyframes(input, v, budget).await?.0)
}

/// [`keyframes`], with ffprobe's CPU seconds.
async fn source_keyframes(
    input: &Path,
    v: &VideoInfo,
    budget: &Budget,
) -> Result<(Vec<f64>, Option<f64>)> {
    let mut out = process::Collect::new(32 * 1024 * 1024);
    let stream = format!("{}", v.index);
    let args: Vec<OsString> = vec![
        "-v".into(),
        "error".into(),
        "-select_streams".into(),
        stream.into(),
        "-show_entries".into(),
        "packet=pts_time,flags:format=start_time".into(),
        "-of".into(),
        "csv=p=0".into(),
        file_url(input).into(),
    ];
    let finished = process::run("ffprobe", &args, "ffprobe keyframes", budget, |c| {
        out.push(c)
    })
    .await?;
    if !finished.success() || out.overflowed {
        return Ok((Vec::new(), finished.cpu_seconds));
    }
    Ok((
        parse_keyframes(&String::from_utf8_lossy(&out.bytes)),
        finished.cpu_seconds,
    ))
}

/// `pts_time,flags` lines (keyframes flagged `K`) and the format's `start_time` line.
fn parse_keyframes(text: &str) -> Vec<f64> {
    let mut start = 0.0;
    let mut keys = Vec::new();
    for line in text.lines() {
        match line.split_once(',') {
            Some((pts, flags)) if flags.starts_with('K') => {
                if let Ok(t) = pts.parse::<f64>() {
                    keys.push(t);
                }
            }
            Some(_) => {}
            None => start = line.trim().parse().unwrap_or(0.0),
        }
    }
    for k in &mut keys {
        *k -= start;
    }
    keys.sort_by(f64::total_cmp);
    keys
}

/// What ffmpeg is and can do.
#[derive(Debug, Clone, PartialEq)]
pub struct FfmpegBuild {
    /// As `ffmpeg -version` prints it: `5.1.6-0+deb12u1`.
    pub version: String,
    /// Built with libvmaf (`--enable-libvmaf`).
    pub libvmaf: bool,
}

/// Runs `ffmpeg -version`.
pub async fn ffmpeg_build(budget: &Budget) -> Result<FfmpegBuild> {
    let mut out = process::Collect::new(64 * 1024);
    let finished = process::run("ffmpeg", ["-version"], "ffmpeg -version", budget, |c| {
        out.push(c)
    })
    .await?;
    if !finished.success() {
        return Err(finished.into_error());
    }
    parse_version(&String::from_utf8_lossy(&out.bytes))
        .ok_or_else(|| MediaError::bad_output("ffmpeg -version printed no version"))
}

fn parse_version(text: &str) -> Option<FfmpegBuild> {
    let version = text
        .lines()
        .next()?
        .strip_prefix("ffmpeg version ")?
        .split_whitespace()
        .next()?
        .to_string();
    Some(FfmpegBuild {
        version,
        libvmaf: text.contains("--enable-libvmaf"),
    })
}

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

/// The stats files of one rung in one window.
struct RungStats {
    ssim: PathBuf,
    psnr: PathBuf,
    vmaf: Option<PathBuf>,
}

impl RungStats {
    fn new(scratch: &Path, w: usize, r: usize, vmaf: bool) -> RungStats {
        RungStats {
            ssim: scratch.join(format!("w{w}-r{r}.ssim")),
            psnr: scratch.join(format!("w{w}-r{r}.psnr")),
            vmaf: vmaf.then(|| scratch.join(format!("w{w}-r{r}.vmaf.csv"))),
        }
    }
}

/// One run for one window: the source decoded once from the window's start, through the
/// picture chain, split to every rung's scaler (the reference); each rung's window decoded
/// from its segment (the distorted); SSIM, PSNR (and VMAF) of each pair into stats files.
fn compare_args(
    source: &OsStr,
    v: &VideoInfo,
    window: &Window,
    rungs: &[RungEncode],
    clips: &[PathBuf],
    stats: &[RungStats],
) -> Result<Vec<OsString>> {
    let mut a: Vec<OsString> = Vec::new();
    let mut push = |s: &str| a.push(s.into());
    for s in ["-hide_banner", "-nostdin", "-nostats", "-loglevel", "error"] {
        push(s);
    }
    if let Some((option, decoder)) = v.decoder() {
        push(&option);
        push(decoder);
    }
    for s in [
        "-ss",
        &format!("{:.6}", window.start),
        "-t",
        &format!("{:.6}", window.length),
        "-i",
    ] {
        push(s);
    }
    a.push(source.into());
    for clip in clips {
        a.push("-t".into());
        a.push(format!("{:.6}", window.length).into());
        a.push("-i".into());
        a.push(file_url(clip).into());
    }
    // Each rung's recorded filter starts from the decoded stream; what they share (the picture
    // chain: deinterlace, rate, tone-map) runs once before the split, as in the encode.
    let n = rungs.len();
    let (common, own) = common_prefix(rungs.iter().map(|r| r.filter.as_str()));
    let mut g = format!("[0:{}]", v.index);
    if !common.is_empty() {
        g.push_str(&common);
        g.push(',');
    }
    g.push_str(&format!("split={n}"));
    for i in 0..n {
        g.push_str(&format!("[src{i}]"));
    }
    let copies = if stats.iter().any(|s| s.vmaf.is_some()) {
        3
    } else {
        2
    };
    // Both sides from 0 in the same time base: the framesync of the comparison pairs frames
    // by timestamp.
    let align = "settb=AVTB,setpts=PTS-STARTPTS";
    for (i, s) in stats.iter().enumerate() {
        g.push_str(&format!(
            ";[src{i}]{},{align},split={copies}[ra{i}][rb{i}]{}",
            own[i],
            if copies == 3 {
                format!("[rc{i}]")
            } else {
                String::new()
            }
        ));
        g.push_str(&format!(
            ";[{}:v:0]setsar=1,format=yuv420p,{align},split={copies}[da{i}][db{i}]{}",
            i + 1,
            if copies == 3 {
                format!("[dc{i}]")
            } else {
                String::new()
            }
        ));
        g.push_str(&format!(
            ";[da{i}][ra{i}]ssim=shortest=1:stats_file={}",
            filter_path(&s.ssim)?
        ));
        g.push_str(&format!(
            ";[db{i}][rb{i}]psnr=shortest=1:stats_file={}",
            filter_path(&s.psnr)?
        ));
        if let Some(vmaf) = &s.vmaf {
            g.push_str(&format!(
                ";[dc{i}][rc{i}]libvmaf=shortest=1:log_fmt=csv:log_path={}",
                filter_path(vmaf)?
            ));
        }
    }
    a.push("-filter_complex".into());
    a.push(g.into());
    for s in ["-f", "null", "-"] {
        a.push(s.into());
    }
    Ok(a)
}

/// The filters (comma-separated chains) every chain starts with, and what is left of each
/// (`null` where nothing is).
fn common_prefix<'a>(chains: impl Iterator<Item = &'a str>) -> (String, Vec<String>) {
    let split: Vec<Vec<&str>> = chains
        .map(|c| c.split(',').filter(|f| !f.is_empty()).collect())
        .collect();
    let shared = match split.first() {
        Some(first) => (0..first.len())
            .take_while(|&k| split.iter().all(|c| c.get(k) == first.get(k)))
            .count(),
        None => 0,
    };
    let common = split
        .first()
        .map(|c| c[..shared].join(","))
        .unwrap_or_default();
    let own = split
        .iter()
        .map(|c| match c[shared..].join(",") {
            rest if rest.is_empty() => "null".to_string(),
            rest => rest,
        })
        .collect();
    (common, own)
}

/// A path as a filter option value: quoted; a path with a quote or backslash is refused
/// rather than escaped through two levels of filtergraph syntax.
fn filter_path(path: &Path) -> Result<String> {
    let s = path
        .to_str()
        .filter(|s| !s.contains(['\'', '\\']))
        .ok_or_else(|| {
            MediaError::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the scratch path cannot be written into a filter graph",
            ))
        })?;
    Ok(format!("'{s}'"))
}

/// Per-frame scores of a rung over every window so far.
#[derive(Debug, Clone, Default)]
struct Pool {
    ssim: Vec<f64>,
    mse: Vec<f64>,
    vmaf: Vec<f64>,
    /// The peak value of the samples (255 for 8-bit).
    max: f64,
}

impl Pool {
    async fn add(&mut self, s: &RungStats) -> Result<()> {
        let ssim = tokio::fs::read_to_string(&s.ssim).await?;
        self.ssim.extend(parse_ssim_stats(&ssim));
        let psnr = tokio::fs::read_to_string(&s.psnr).await?;
        let (mse, max) = parse_psnr_stats(&psnr);
        self.mse.extend(mse);
        self.max = self.max.max(max);
        if let Some(path) = &s.vmaf {
            let csv = tokio::fs::read_to_string(path).await?;
            self.vmaf.extend(parse_vmaf_csv(&csv));
        }
        Ok(())
    }

    fn scores(&self) -> Option<Scores> {
        if self.ssim.is_empty() || self.mse.is_empty() {
            return None;
        }
        Some(Scores {
            ssim: mean(&self.ssim),
            psnr: psnr(
                mean(&self.mse),
                if self.max > 0.0 { self.max } else { 255.0 },
            ),
            vmaf: (!self.vmaf.is_empty()).then(|| mean(&self.vmaf)),
        })
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// PSNR in dB of a mean squared error for samples peaking at `max`.
fn psnr(mse: f64, max: f64) -> f64 {
    if mse <= 0.0 {
        return PSNR_IDENTICAL;
    }
    (10.0 * (max * max / mse).log10()).min(PSNR_IDENTICAL)
}

/// The `All:` value of each line of an `ssim` stats file (`n:1 Y:0.99 U:0.98 V:0.98 All:0.99
/// (20.0)`).
fn parse_ssim_stats(text: &str) -> Vec<f64> {
    text.lines()
        .filter_map(|l| field(l, "All:"))
        .filter(|v| v.is_finite())
        .collect()
}

/// The `mse_avg:` of each line of a `psnr` stats file, and the largest `max_avg:` (the peak
/// sample value, 255 for 8-bit).
fn parse_psnr_stats(text: &str) -> (Vec<f64>, f64) {
    let mse = text
        .lines()
        .filter_map(|l| field(l, "mse_avg:"))
        .filter(|v| v.is_finite())
        .collect();
    let max = text
        .lines()
        .filter_map(|l| field(l, "max_avg:"))
        .fold(0.0, f64::max);
    (mse, max)
}

/// The number after `key` in a line of `key:value` pairs separated by spaces.
fn field(line: &str, key: &str) -> Option<f64> {
    line.split_whitespace()
        .find_map(|part| part.strip_prefix(key))
        .and_then(|v| v.parse().ok())
}

/// The `vmaf` column of libvmaf's CSV log.
fn parse_vmaf_csv(text: &str) -> Vec<f64> {
    let mut lines = text.lines();
    let Some(column) = lines
        .next()
        .and_then(|h| h.split(',').position(|c| c.trim() == "vmaf"))
    else {
        return Vec::new();
    };
    lines
        .filter_map(|l| l.split(',').nth(column)?.trim().parse().ok())
        .filter(|v: &f64| v.is_finite())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_video_gets_one_short_window() {
        // 6 s in a 4 s and a 2 s segment: the minimum, at the start of the second half's
        // segment.
        let w = plan_windows(&[4.0, 2.0], &[]);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].segment, 1);
        assert_eq!(w[0].start, 4.0);
        assert_eq!(w[0].length, MIN_SAMPLE_SECONDS);
    }

    #[test]
    fn windows_spread_over_a_long_video_within_the_fraction() {
        // Ten minutes in 4 s segments: 2 % is 12 s, capped at 6 s in six 1 s windows.
        let segments = vec![4.0; 150];
        let w = plan_windows(&segments, &[]);
        assert_eq!(w.len(), MAX_WINDOWS);
        let starts: Vec<f64> = w.iter().map(|w| w.start).collect();
        assert_eq!(starts, [48.0, 148.0, 248.0, 348.0, 448.0, 548.0]);
        assert!(w.iter().all(|w| w.length == 1.0));
        // 100 s: 2 s in two windows, in each half.
        let w = plan_windows(&[4.0; 25], &[]);
        assert_eq!(w.iter().map(|w| w.segment).collect::<Vec<_>>(), [6, 18]);
        let sampled: f64 = w.iter().map(|w| w.length).sum();
        assert!((sampled - 2.0).abs() < 1e-9);
    }

    #[test]
    fn a_window_never_outlasts_its_segment_and_nothing_for_nothing() {
        let w = plan_windows(&[0.1], &[]);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].length, 0.1);
        assert!(plan_windows(&[], &[]).is_empty());
        assert!(plan_windows(&[0.0], &[]).is_empty());
    }

    #[test]
    fn windows_start_just_after_a_source_keyframe() {
        // 100 s in 4 s segments, two windows; the source has keyframes every 8.33 s (x264's
        // default 250 frames at 30 fps): each window takes the segment of its half that starts
        // the fewest whole seconds after one, the nearest the middle among those.
        let keyframes: Vec<f64> = (0..13).map(|i| i as f64 * 250.0 / 30.0).collect();
        let w = plan_windows(&[4.0; 25], &keyframes);
        // First half (segments 1–11, the first is never taken; middle 6 at 24 s, 7.33 s past a
        // keyframe): 28, 36 and 44 s are 3, 2.67 and 2.33 s past one, the least in whole
        // seconds; 28 is nearest. Second half (12–24, middle 18 at 72 s, 5.33 s past one): 76,
        // 84 and 92 s are under a second past one; 76 is nearest.
        let starts: Vec<f64> = w.iter().map(|w| w.start).collect();
        assert_eq!(starts, [28.0, 76.0]);
        // Keyframes every 2 s (a phone's): every segment starts on one, the middle wins.
        let every_two: Vec<f64> = (0..50).map(|i| i as f64 * 2.0).collect();
        let w = plan_windows(&[4.0; 25], &every_two);
        assert_eq!(w.iter().map(|w| w.segment).collect::<Vec<_>>(), [6, 18]);
    }

    #[test]
    fn keyframes_from_the_packet_list() {
        let csv = "1.433333,K__\n1.466667,___\n9.766667,K_\n10.0,__D\n1.400000\n";
        let keys = parse_keyframes(csv);
        assert_eq!(keys.len(), 2);
        assert!(
            (keys[0] - 0.033333).abs() < 1e-9 && (keys[1] - 8.366667).abs() < 1e-9,
            "{keys:?}"
        );
        assert!(parse_keyframes("").is_empty());
    }

    #[test]
    fn parses_ffmpeg_version_and_libvmaf() {
        let b = parse_version("ffmpeg version 5.1.6-0+deb12u1 Copyright (c) 2000-2024 the FFmpeg developers\nbuilt with gcc 12\nconfiguration: --enable-gpl --enable-libx264\n").unwrap();
        assert_eq!(b.version, "5.1.6-0+deb12u1");
        assert!(!b.libvmaf);
        let b = parse_version(
            "ffmpeg version n7.1 Copyright\nconfiguration: --enable-libvmaf --enable-libx264",
        )
        .unwrap();
        assert_eq!(b.version, "n7.1");
        assert!(b.libvmaf);
        assert_eq!(parse_version("ffprobe version 7"), None);
    }

    #[test]
    fn pools_per_frame_stats() {
        let ssim = "n:1 Y:0.990000 U:0.980000 V:0.970000 All:0.985000 (18.239087)\nn:2 Y:0.99 U:0.99 V:0.99 All:0.975000 (16.0)\n";
        assert_eq!(parse_ssim_stats(ssim), [0.985, 0.975]);
        let stats = "n:1 mse_avg:6.50 mse_y:5.00 mse_u:9.00 mse_v:9.00 psnr_avg:39.99 psnr_y:41.14 psnr_u:38.59 psnr_v:38.59 max_avg:255 max_y:255 max_u:255 max_v:255\nn:2 mse_avg:0.00 mse_y:0.00 psnr_avg:inf max_avg:255\n";
        let (mse, max) = parse_psnr_stats(stats);
        assert_eq!(mse, [6.5, 0.0]);
        assert_eq!(max, 255.0);
        let pool = Pool {
            ssim: parse_ssim_stats(ssim),
            mse,
            vmaf: Vec::new(),
            max,
        };
        let s = pool.scores().unwrap();
        assert!((s.ssim - 0.98).abs() < 1e-12);
        // From the mean squared error (3.25), not the mean of the per-frame dB.
        assert!((s.psnr - 10.0 * (255.0f64 * 255.0 / 3.25).log10()).abs() < 1e-9);
        assert_eq!(s.vmaf, None);
        assert_eq!(psnr(0.0, 255.0), PSNR_IDENTICAL);
        assert_eq!(Pool::default().scores(), None);
    }

    #[test]
    fn shared_filters_run_once() {
        let (common, own) = common_prefix(["a,b,c", "a,b,d", "a,b"].into_iter());
        assert_eq!(common, "a,b");
        assert_eq!(own, ["c", "d", "null"]);
        let (common, own) = common_prefix(["x,c", "y"].into_iter());
        assert_eq!(common, "");
        assert_eq!(own, ["x,c", "y"]);
    }

    #[test]
    fn reads_the_vmaf_column() {
        let csv = "Frame,integer_adm2,integer_motion,vmaf\n0,0.99,0.0,93.5\n1,0.98,1.2,91.5\n";
        assert_eq!(parse_vmaf_csv(csv), [93.5, 91.5]);
        assert!(parse_vmaf_csv("Frame,psnr\n0,40\n").is_empty());
    }

    #[test]
    fn compares_each_rung_through_its_own_recorded_filter() {
        let v = VideoInfo {
            index: 0,
            codec: "h264".into(),
            width: 640,
            height: 360,
            fps: 30.0,
            pix_fmt: "yuv420p".into(),
            ..Default::default()
        };
        let rung = |name: &str, filter: &str| RungEncode {
            name: name.into(),
            filter: filter.into(),
            ..Default::default()
        };
        let rungs = [
            rung("360p", "bwdif=mode=send_frame:parity=auto:deint=all,fps=30/1,scale=640:360,setsar=1,format=yuv420p"),
            rung("240p", "bwdif=mode=send_frame:parity=auto:deint=all,fps=30/1,fps=15/1,scale=426:240,setsar=1,format=yuv420p"),
        ];
        let clips = [PathBuf::from("/s/w0-r0.mp4"), PathBuf::from("/s/w0-r1.mp4")];
        let stats = [
            RungStats::new(Path::new("/s"), 0, 0, false),
            RungStats::new(Path::new("/s"), 0, 1, false),
        ];
        let window = Window {
            segment: 1,
            start: 4.0,
            length: 0.5,
        };
        let source = file_url(Path::new("/in/src")).into_os_string();
        let args: Vec<String> = compare_args(&source, &v, &window, &rungs, &clips, &stats)
            .unwrap()
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let joined = args.join(" ");
        assert!(joined.contains("-ss 4.000000 -t 0.500000 -i file:/in/src -t 0.500000 -i file:/s/w0-r0.mp4 -t 0.500000 -i file:/s/w0-r1.mp4"), "{joined}");
        assert!(joined.contains("[0:0]bwdif=mode=send_frame:parity=auto:deint=all,fps=30/1,split=2[src0][src1];[src0]scale=640:360,setsar=1,format=yuv420p,settb"), "{joined}");
        assert!(joined.contains("[src1]fps=15/1,scale=426:240,setsar=1,format=yuv420p,settb=AVTB,setpts=PTS-STARTPTS,split=2[ra1][rb1]"));
        assert!(joined.contains(
            "[2:v:0]setsar=1,format=yuv420p,settb=AVTB,setpts=PTS-STARTPTS,split=2[da1][db1]"
        ));
        assert!(joined.contains("[da1][ra1]ssim=shortest=1:stats_file='/s/w0-r1.ssim'"));
        assert!(joined.contains("[db0][rb0]psnr=shortest=1:stats_file='/s/w0-r0.psnr'"));
        assert!(!joined.contains("libvmaf"));
        assert!(filter_path(Path::new("/a'b")).is_err());
    }
}
