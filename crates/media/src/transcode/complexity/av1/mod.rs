//! AV1's CRF per rung from trial encodes (issue 14 §2). A fixed offset from the H.264 rung's
//! CRF (`rate::av1_crf`) cannot serve every content: a talking head keeps H.264's SSIM only up
//! to one AV1 CRF where a fast pan still has SSIM to spare well above it, and a slide deck
//! further still (BENCHMARKS.md, "AV1 against H.264"). So, with AV1 asked for and the adaptive
//! ladder on, on the complexity probe's windows (read the same way) each AV1 rung is encoded at
//! a few CRFs ([`candidates`]: the offset's, [`MAX_CRF`](choose::MAX_CRF) and half-way) with the real AV1
//! output's settings (`Extras::av1_args`), beside the H.264 rung at the rate control the probe
//! gave it with the real H.264 output's settings; each trial's SSIM (ffmpeg's `ssim`, all
//! planes, as the benchmark measures) is taken against the same reference — the windows through
//! the picture chain and the rung's scaler, exactly what the encoders got — and
//! [`choose_av1_crf`](choose::choose_av1_crf) takes the highest CRF whose SSIM stays at or above the H.264 rung's plus
//! [`MARGIN`](choose::MARGIN). Two ffmpeg runs: the trial encodes into files, then their comparison (an
//! encoder's output cannot be decoded inside the run that makes it).
//!
//! Tried are the rungs H.264 encodes at a quality target. Where the caps bind, the trials say
//! nothing about the whole video: each window starts on a keyframe (see [`window_gops`]), five
//! times as many as in the real encode, so a cap that binds now and then there binds all the
//! time in the trials; the fast pan's 1080p, H.264 at its ladder bitrate, came out of them at
//! AV1 CRF 58 and 0.11 below H.264's SSIM (BENCHMARKS.md). So a rung that H.264 encodes at its
//! ladder bitrate (the probe found it hard) is not tried, and a trial is not trusted
//! ([`decide`]) where H.264's trial spent at least [`TRUSTED_CAP_SHARE`](choose::TRUSTED_CAP_SHARE) of its cap or AV1's SSIM
//! rose with the CRF (a binding cap's mark). The fixed offset stays wherever no trial decides:
//! those rungs, the fixed ladder, a video too short to probe, a trial run that failed.
//!
//! Where every rung was tried, the trials also say whether AV1 pays on this video at all:
//! each trial file's bytes (keyframes and the rest, weighed as the real encode's keyframe
//! interval would, [`TrialBytes`]) give AV1's bytes at the chosen CRFs against H.264's, and
//! AV1 is left out ([`Av1Choice::skip`]) where it saves less than
//! [`MIN_SAVING`](choose::MIN_SAVING) — a slide deck, where it saves nothing.

//!
//! `choose.rs` decides from the trials; this module runs them.

mod choose;

use super::super::codecs::{gops, keyframes_every, Extras, VideoCodec};
use super::super::command::{self, rung_scaler};
use super::super::picture::Picture;
use super::super::rate::{self, LadderMode};
use super::super::video::Args;
use super::super::VideoOptions;
use super::sampled_windows;
use super::windows::{key_points, keyframes_before, seeks, windows, Seek};
use crate::error::Result;
use crate::ladder::Rung;
use crate::probe::{file_url, VideoInfo};
use crate::process::{self, Budget};
use choose::{
    bytes_ratio, candidates, cap_share, decide, RungBytes, RungTrial, TrialBytes, MIN_SAVING,
};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The video the trials read.
pub(in crate::transcode) struct Source<'a> {
    pub input: &'a Path,
    pub video: &'a VideoInfo,
    pub picture: &'a Picture,
    /// The media duration, as the complexity probe got it.
    pub duration: Option<f64>,
}

/// One rung's place in the trial runs.
#[derive(Debug, Clone, PartialEq)]
struct Planned {
    rung: usize,
    /// The AV1 CRFs it is tried at.
    crfs: Vec<u32>,
}

/// What the trials decided for AV1.
#[derive(Debug, Clone, Default, PartialEq)]
pub(in crate::transcode) struct Av1Choice {
    /// Each AV1 rung's CRF (by rung; the fixed offset's where no trial decided), or empty: the
    /// fixed offsets everywhere.
    pub crfs: Vec<u32>,
    /// AV1 is not to be published on this video (it would save less than
    /// [`MIN_SAVING`](choose::MIN_SAVING) of H.264's bytes): the warning the item records.
    pub skip: Option<String>,
}

/// Each AV1 rung's CRF and whether AV1 pays at all (see [`Av1Choice`]); the fixed offsets, AV1
/// kept, without AV1 asked for, outside the adaptive ladder, for a video too short to probe,
/// or when the trial runs failed (a trial never fails an encode). `extras` carries the H.264
/// rungs' rates (`Extras::with_rates`); `scratch` is a directory the trial files may go under
/// (removed afterwards).
pub(in crate::transcode) async fn av1_crfs(
    src: &Source<'_>,
    rungs: &[Rung],
    extras: &Extras,
    opts: &VideoOptions,
    scratch: &Path,
    budget: &Budget,
) -> Result<Av1Choice> {
    if !extras.has(VideoCodec::Av1) || extras.mode() != LadderMode::Adaptive {
        return Ok(Av1Choice::default());
    }
    let fallback: Vec<u32> = rungs
        .iter()
        .enumerate()
        .map(|(i, r)| extras.av1_rate(r, i).crf.unwrap_or(rate::AV1_HARD_CRF))
        .collect();
    let plan = plan(rungs, extras, &fallback);
    let end = src.duration.unwrap_or(0.0);
    let windows = windows(end);
    if plan.is_empty() || windows.is_empty() {
        return Ok(Av1Choice::default());
    }
    let keys = keyframes_before(src.input, src.video, &key_points(&windows, end), budget).await?;
    let seeks = seeks(&windows, &keys, end);
    if seeks.is_empty() {
        return Ok(Av1Choice::default());
    }
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let dir = scratch.join(format!(
        ".av1-trials-{}-{}",
        std::process::id(),
        RUNS.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = tokio::fs::remove_dir_all(&dir).await;
    tokio::fs::create_dir_all(&dir).await?;
    let ran = run(src, rungs, extras, opts, &seeks, &plan, &dir, budget).await;
    let _ = tokio::fs::remove_dir_all(&dir).await;
    let Some((trials, cpu_seconds)) = ran? else {
        return Ok(Av1Choice::default());
    };
    let mut crfs = fallback;
    for t in &trials {
        if let Some(crf) = decide(t) {
            crfs[t.rung] = crf;
        }
    }
    // AV1's bytes over H.264's at the CRFs the rungs get, on the rungs tried — judged only on
    // a ladder tried whole: a rung H.264 encodes at its cap (hard content) is not tried, and
    // that is where AV1 tends to save most.
    let real = gops(src.picture, src.video, rungs, opts.keyframe_seconds);
    let parts: Vec<RungBytes> = trials
        .iter()
        .map(|t| {
            let r = &rungs[t.rung];
            RungBytes {
                trial: t,
                crf: crfs[t.rung],
                gop: real[t.rung],
                fps: src.picture.rung_fps(src.video, r.width.min(r.height)),
            }
        })
        .collect();
    let ratio = bytes_ratio(&parts);
    tracing::info!(
        cpu_seconds,
        ?trials,
        ?crfs,
        ?ratio,
        tried = parts.len(),
        "AV1 trials"
    );
    let ratio = ratio.filter(|_| parts.len() == rungs.len());
    // The share itself stays in the log: trial encodes are not bit-exact from run to run (x264's
    // VBV under threads), and the item's words should not change with them.
    let skip = ratio.filter(|r| *r > 1.0 - MIN_SAVING).map(|_| {
        format!(
            "published without AV1: its trial encodes show it would save less than {:.0} % of \
             H.264's bytes at the same quality on this video",
            MIN_SAVING * 100.0
        )
    });
    Ok(Av1Choice { crfs, skip })
}

/// The rungs tried, and at which CRFs (from each rung's fallback CRF).
fn plan(rungs: &[Rung], extras: &Extras, fallback: &[u32]) -> Vec<Planned> {
    rungs
        .iter()
        .enumerate()
        .filter(|&(i, r)| {
            rate::rung_rate(extras.mode(), r, extras.h264_crf(r, i))
                .crf
                .is_some()
        })
        .map(|(i, _)| Planned {
            rung: i,
            crfs: candidates(fallback[i]),
        })
        .collect()
}

/// Both trial runs; `None` when either failed (its stderr logged) or measured nothing.
#[allow(clippy::too_many_arguments)]
async fn run(
    src: &Source<'_>,
    rungs: &[Rung],
    extras: &Extras,
    opts: &VideoOptions,
    seeks: &[Seek],
    plan: &[Planned],
    dir: &Path,
    budget: &Budget,
) -> Result<Option<(Vec<RungTrial>, Option<f64>)>> {
    let encode = encode_args(src, rungs, extras, opts, seeks, plan, dir);
    let encoded = process::run(
        "ffmpeg",
        &encode,
        "ffmpeg AV1 trial encodes",
        budget,
        |_| {},
    )
    .await?;
    if !encoded.success() {
        tracing::warn!(stderr = %encoded.stderr_tail, "AV1 trial encodes failed; fixed AV1 CRFs");
        return Ok(None);
    }
    let Some(compare) = compare_args(src, rungs, opts, seeks, plan, dir) else {
        tracing::warn!(dir = %dir.display(), "AV1 trials: a scratch path a filter cannot name");
        return Ok(None);
    };
    let compared =
        process::run("ffmpeg", &compare, "ffmpeg AV1 trial SSIM", budget, |_| {}).await?;
    if !compared.success() {
        tracing::warn!(stderr = %compared.stderr_tail, "AV1 trial comparison failed; fixed AV1 CRFs");
        return Ok(None);
    }
    let mut trials = Vec::with_capacity(plan.len());
    for p in plan {
        let mut ssims = Vec::with_capacity(p.crfs.len() + 1);
        for j in 0..=p.crfs.len() {
            let text = tokio::fs::read_to_string(stats_file(dir, p.rung, j))
                .await
                .unwrap_or_default();
            ssims.push(mean_ssim(&text));
        }
        // A rung whose comparison is missing keeps its fixed CRF.
        let Some(Some(h264)) = ssims.first().copied() else {
            continue;
        };
        let h264_cap_share = {
            let stats = tokio::fs::read_to_string(stats_file(dir, p.rung, 0))
                .await
                .unwrap_or_default();
            let frames = stats.lines().filter(|l| l.contains("All:")).count();
            let bytes = tokio::fs::metadata(trial_file(dir, p.rung, 0))
                .await
                .map_or(0, |m| m.len());
            let r = &rungs[p.rung];
            let fps = src.picture.rung_fps(src.video, r.width.min(r.height));
            let cap = rate::rung_rate(extras.mode(), r, extras.h264_crf(r, p.rung)).maxrate;
            cap_share(bytes, frames, fps, cap)
        };
        let av1: Vec<(u32, f64)> = p
            .crfs
            .iter()
            .zip(&ssims[1..])
            .filter_map(|(&crf, s)| s.map(|s| (crf, s)))
            .collect();
        if av1.len() == p.crfs.len() {
            // The rung's trial files' packets, read side by side.
            let files: Vec<PathBuf> = (0..=p.crfs.len())
                .map(|j| trial_file(dir, p.rung, j))
                .collect();
            let mut sizes =
                futures::future::try_join_all(files.iter().map(|f| trial_bytes(f, budget)))
                    .await?
                    .into_iter();
            let h264_bytes = sizes.next().unwrap_or_default();
            let av1_bytes = p.crfs.iter().copied().zip(sizes).collect();
            trials.push(RungTrial {
                rung: p.rung,
                h264,
                h264_cap_share,
                av1,
                h264_bytes,
                av1_bytes,
            });
        }
    }
    let cpu = encoded
        .cpu_seconds
        .zip(compared.cpu_seconds)
        .map(|(a, b)| a + b);
    Ok((!trials.is_empty()).then_some((trials, cpu)))
}

/// A trial file's bytes by frame kind (ffprobe's packets); empty where ffprobe fails (the
/// rung then does not count towards whether AV1 pays).
async fn trial_bytes(file: &Path, budget: &Budget) -> Result<TrialBytes> {
    let mut out = process::Collect::new(4 * 1024 * 1024);
    let args: Vec<OsString> = vec![
        "-v".into(),
        "error".into(),
        "-select_streams".into(),
        "v:0".into(),
        "-show_entries".into(),
        "packet=size,flags".into(),
        "-of".into(),
        "csv=p=0".into(),
        file_url(file).into(),
    ];
    let done = process::run("ffprobe", &args, "ffprobe trial packets", budget, |c| {
        out.push(c)
    })
    .await?;
    if !done.success() || out.overflowed {
        return Ok(TrialBytes::default());
    }
    Ok(parse_packets(&String::from_utf8_lossy(&out.bytes)))
}

/// ffprobe's `size,flags` packet lines summed by frame kind (`K` in the flags: a keyframe).
fn parse_packets(text: &str) -> TrialBytes {
    let mut b = TrialBytes::default();
    for line in text.lines() {
        let Some((size, flags)) = line.split_once(',') else {
            continue;
        };
        let Ok(size) = size.trim().parse::<u64>() else {
            continue;
        };
        if flags.starts_with('K') {
            b.key += size;
            b.keys += 1;
        } else {
            b.inter += size;
            b.inters += 1;
        }
    }
    b
}

/// Trial file `j` of rung `rung`: 0 the H.264 one, then one per AV1 CRF in [`Planned::crfs`].
fn trial_file(dir: &Path, rung: usize, j: usize) -> PathBuf {
    dir.join(format!("r{rung}-{j}.mkv"))
}

/// The `ssim` stats file of trial file `j` of rung `rung`.
fn stats_file(dir: &Path, rung: usize, j: usize) -> PathBuf {
    dir.join(format!("r{rung}-{j}.ssim"))
}

/// The trial encodes: the windows decoded once, through the picture chain, split into each
/// tried rung's scaler, then into its H.264 encoder (the real encode's settings and rate
/// control: `command::build_args`, with AV1's frame-numbered keyframes) and one AV1 encoder
/// per CRF (`Extras::av1_args`), each into its own Matroska file.
fn encode_args(
    src: &Source<'_>,
    rungs: &[Rung],
    extras: &Extras,
    opts: &VideoOptions,
    seeks: &[Seek],
    plan: &[Planned],
    dir: &Path,
) -> Vec<OsString> {
    let mut a = Args::default();
    a.push_all([
        "-hide_banner",
        "-nostdin",
        "-nostats",
        "-y",
        "-loglevel",
        "error",
    ]);
    if let Some(t) = opts.threads {
        a.push_all(["-filter_complex_threads", &t.to_string()]);
    }
    let mut graph = sampled_windows(&mut a, src.input, src.video, src.picture, seeks);
    graph.push_str(&format!(",split={}", plan.len()));
    for p in plan {
        graph.push_str(&format!("[t{}]", p.rung));
    }
    for p in plan {
        let i = p.rung;
        graph.push_str(&format!(
            ";[t{i}]{},split={}[h{i}]",
            rung_scaler(src.picture, &rungs[i]),
            p.crfs.len() + 1
        ));
        for k in 0..p.crfs.len() {
            graph.push_str(&format!("[a{i}_{k}]"));
        }
    }
    a.push_all(["-filter_complex", &graph]);
    let gops = window_gops(src, rungs, opts, seeks);
    let fps = src.picture.fps(src.video);
    for p in plan {
        let i = p.rung;
        let r = &rungs[i];
        a.push_all(["-map", &format!("[h{i}]")]);
        a.push_all(["-c:v", command::ENCODER, "-preset", &opts.preset]);
        a.push_all(["-profile:v", command::PROFILE, "-pix_fmt", "yuv420p"]);
        a.push_all(["-force_key_frames", &keyframes_every(gops[i])]);
        a.push_all(["-sc_threshold", "0"]);
        if let Some(gop) = command::gop(fps, opts.keyframe_seconds) {
            a.push_all(["-g", &gop.to_string()]);
        }
        a.push_all(rate::rate_args(extras.mode(), 0, r, extras.h264_crf(r, i)));
        output(&mut a, opts, &trial_file(dir, i, 0));
        for (k, &crf) in p.crfs.iter().enumerate() {
            a.push_all(["-map", &format!("[a{i}_{k}]")]);
            a.push_all(["-pix_fmt", "yuv420p"]);
            a.push_all(extras.av1_args(0, r, i, gops[i], Some(crf)));
            output(&mut a, opts, &trial_file(dir, i, k + 1));
        }
    }
    a.0
}

/// Each rung's keyframe interval in the trials, in its own frames: one window's frames (the
/// windows are of one length), so that every window starts on a keyframe in both codecs as a
/// segment of the real encode does. Without it each window after the first is a cut inside a
/// GOP, which x264 and SVT-AV1 handle differently: on the benchmark's slides (whose changes
/// the real encode's keyframes meet) the trials then put AV1 0.0005 below H.264's SSIM at
/// 480p where the whole encode has it 0.0026 above; with a keyframe per window, +0.0026 in
/// both. A rung at half the rate gets half (windows of an odd frame count then drift a frame).
fn window_gops(src: &Source<'_>, rungs: &[Rung], opts: &VideoOptions, seeks: &[Seek]) -> Vec<u64> {
    let fps = src.picture.fps(src.video);
    let frames = super::frames_per_window(seeks, fps)
        .into_iter()
        .max()
        .unwrap_or(1) as u64;
    // The real encode's intervals say which rungs run at half the rate.
    let real = gops(src.picture, src.video, rungs, opts.keyframe_seconds);
    let full = real.iter().copied().max().unwrap_or(1);
    real.iter()
        .map(|&g| {
            if g < full {
                (frames / 2).max(1)
            } else {
                frames
            }
        })
        .collect()
}

/// The options every trial output ends with, and its file.
fn output(a: &mut Args, opts: &VideoOptions, file: &Path) {
    if let Some(t) = opts.threads {
        a.push_all(["-threads", &t.to_string()]);
    }
    // The picture chain made the frames constant-rate (AV1 is only encoded then).
    a.push_all(["-fps_mode", "passthrough", "-map_metadata", "-1"]);
    a.push_all(["-f", "matroska"]);
    a.push(file_url(file));
}

/// The comparison run: the windows decoded again and through the same chain and scalers (the
/// reference), each trial file decoded; the SSIM of every trial against its rung's reference
/// into a stats file, frames paired by their order. `None` when the scratch path cannot be
/// written into a filter graph.
fn compare_args(
    src: &Source<'_>,
    rungs: &[Rung],
    opts: &VideoOptions,
    seeks: &[Seek],
    plan: &[Planned],
    dir: &Path,
) -> Option<Vec<OsString>> {
    let mut a = Args::default();
    a.push_all(["-hide_banner", "-nostdin", "-nostats", "-loglevel", "error"]);
    if let Some(t) = opts.threads {
        a.push_all(["-filter_complex_threads", &t.to_string()]);
    }
    let mut graph = sampled_windows(&mut a, src.input, src.video, src.picture, seeks);
    graph.push_str(&format!(",split={}", plan.len()));
    for p in plan {
        graph.push_str(&format!("[t{}]", p.rung));
    }
    // Both sides numbered by frame in one time base: the comparison pairs frames by timestamp,
    // and Matroska keeps milliseconds only.
    let align = "settb=AVTB,setpts=N";
    let mut input = seeks.len();
    for p in plan {
        let i = p.rung;
        let n = p.crfs.len() + 1;
        graph.push_str(&format!(
            ";[t{i}]{},{align},split={n}",
            rung_scaler(src.picture, &rungs[i])
        ));
        for j in 0..n {
            graph.push_str(&format!("[r{i}_{j}]"));
        }
        for j in 0..n {
            a.push("-i");
            a.push(file_url(&trial_file(dir, i, j)));
            graph.push_str(&format!(
                ";[{input}:v:0]setsar=1,format=yuv420p,{align}[d{i}_{j}];\
                 [d{i}_{j}][r{i}_{j}]ssim=shortest=1:stats_file={}",
                filter_path(&stats_file(dir, i, j))?
            ));
            input += 1;
        }
    }
    a.push_all(["-filter_complex", &graph]);
    a.push_all(["-f", "null", "-"]);
    Some(a.0)
}

/// A path as a filter option value, quoted; `None` for one with a quote or backslash (not
/// escaped through two levels of filter graph syntax).
fn filter_path(path: &Path) -> Option<String> {
    let s = path.to_str().filter(|s| !s.contains(['\'', '\\']))?;
    Some(format!("'{s}'"))
}

/// The mean `All:` SSIM of an `ssim` stats file (`n:1 Y:0.99 U:0.98 V:0.98 All:0.99 (20.0)`);
/// `None` when it has no frame.
fn mean_ssim(stats: &str) -> Option<f64> {
    let all: Vec<f64> = stats
        .lines()
        .filter_map(|l| {
            let at = l.find("All:")? + "All:".len();
            l[at..].split_whitespace().next()?.parse::<f64>().ok()
        })
        .filter(|s| s.is_finite())
        .collect();
    (!all.is_empty()).then(|| all.iter().sum::<f64>() / all.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::choose::MAX_CRF;
    use super::*;
    use crate::ladder::{self, DEFAULT_LADDER};
    use crate::transcode::CodecOptions;

    #[test]
    fn packets_are_summed_by_kind() {
        let b = parse_packets("9000,K__\n120,___\n80,___\n7000,K_\nbad,K\n\n");
        assert_eq!(
            b,
            TrialBytes {
                key: 16_000,
                keys: 2,
                inter: 200,
                inters: 2
            }
        );
    }

    #[test]
    fn reads_the_mean_of_every_frames_ssim() {
        let stats = "n:1 Y:0.990000 U:0.980000 V:0.970000 All:0.986000 (18.538720)\n\
                     n:2 Y:0.990000 U:0.980000 V:0.970000 All:0.984000 (17.958800)\n";
        assert!((mean_ssim(stats).unwrap() - 0.985).abs() < 1e-12);
        assert_eq!(mean_ssim(""), None);
        assert_eq!(mean_ssim("n:1 Y:nan All:nan (inf)"), None);
    }

    fn source_info() -> (VideoInfo, Picture) {
        let v = VideoInfo {
            index: 0,
            codec: "h264".into(),
            width: 1920,
            height: 1080,
            fps: 30.0,
            pix_fmt: "yuv420p".into(),
            ..Default::default()
        };
        let picture = Picture::from_probe(&v, None);
        (v, picture)
    }

    fn av1_extras(picture: &Picture, rungs: &[Rung], mode: LadderMode, crfs: &[u32]) -> Extras {
        let opts = CodecOptions {
            extra: vec![VideoCodec::Av1],
            ..Default::default()
        };
        Extras::plan(&opts, picture, rungs.len())
            .0
            .with_rates(mode, crfs)
    }

    /// Tried: the rungs H.264 encodes at a CRF (not the hard ones, at the ladder bitrate, top
    /// rung or not); from the fixed offset's CRF up.
    #[test]
    fn tries_the_rungs_where_the_crf_decides() {
        let (v, picture) = source_info();
        let rungs = ladder::plan(&v, DEFAULT_LADDER);
        let hard = super::super::MIN_CRF;
        let extras = av1_extras(
            &picture,
            &rungs,
            LadderMode::Adaptive,
            &[hard, hard, 27, 28, 28],
        );
        let fallback: Vec<u32> = (0..rungs.len())
            .map(|i| extras.av1_rate(&rungs[i], i).crf.unwrap())
            .collect();
        assert_eq!(fallback, [46, 26, 48, 49, 49]);
        let p = plan(&rungs, &extras, &fallback);
        let tried: Vec<(usize, Vec<u32>)> = p.into_iter().map(|p| (p.rung, p.crfs)).collect();
        assert_eq!(
            tried,
            [
                (2, vec![48, 56, 63]),
                (3, vec![49, 56, 63]),
                (4, vec![49, 56, 63])
            ]
        );
    }

    /// The trials' encoders are the real encode's: the same AV1 options but the CRF and the
    /// keyframe interval (one window's 12 frames: every window starts on a keyframe), and the
    /// H.264 rung's own rate control and preset with keyframes on the same frames; the
    /// comparison decodes every trial file against its rung's scaler.
    #[test]
    fn trial_encoders_are_the_real_ones() {
        let (v, picture) = source_info();
        let rungs = ladder::plan(&v, DEFAULT_LADDER)[..2].to_vec();
        let extras = av1_extras(&picture, &rungs, LadderMode::Adaptive, &[25, 23]);
        let opts = VideoOptions {
            preset: "veryfast".into(),
            keyframe_seconds: 2,
            ..Default::default()
        };
        let src = Source {
            input: Path::new("/in/src.mp4"),
            video: &v,
            picture: &picture,
            duration: Some(20.0),
        };
        let seeks = seeks(&windows(20.0), &[], 20.0);
        let plan = vec![
            Planned {
                rung: 0,
                crfs: vec![42, 53, 63],
            },
            Planned {
                rung: 1,
                crfs: vec![41, 52, 63],
            },
        ];
        let dir = Path::new("/tmp/t");
        let args: Vec<String> = encode_args(&src, &rungs, &extras, &opts, &seeks, &plan, dir)
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let args = args.join(" ");
        assert_eq!(args.matches(" -i ").count(), seeks.len(), "{args}");
        // The real encode's AV1 options of the 720p rung, its CRF replaced.
        let real = extras.encoder_args(&rungs, &picture, &v, 2).join(" ");
        let real_720 = &real[real.find("-c:v:3 ").unwrap()..];
        assert_eq!(
            real_720,
            "-c:v:3 libsvtav1 -preset:v:3 10 -profile:v:3 main -g:v:3 60 \
             -svtav1-params:v:3 enable-tf=0:scd=0 -crf:v:3 41 -maxrate:v:3 1820000 \
             -bufsize:v:3 2730000"
        );
        assert!(
            args.contains(
                "-map [a1_1] -pix_fmt yuv420p -c:v:0 libsvtav1 -preset:v:0 10 -profile:v:0 main \
                 -g:v:0 12 -svtav1-params:v:0 enable-tf=0:scd=0 -crf:v:0 52 \
                 -maxrate:v:0 1820000 -bufsize:v:0 2730000 -fps_mode passthrough \
                 -map_metadata -1 -f matroska file:/tmp/t/r1-2.mkv"
            ),
            "{args}"
        );
        // The top rung one preset step slower, under H.264's own cap.
        assert!(
            args.contains("-preset:v:0 9 -profile:v:0 main -g:v:0 12 -svtav1-params:v:0 enable-tf=0:scd=0 -crf:v:0 63 -maxrate:v:0 5000000"),
            "{args}"
        );
        // H.264 at its capped CRF, keyframes by frame number as beside AV1.
        assert!(
            args.contains(
                "-map [h0] -c:v libx264 -preset veryfast -profile:v high -pix_fmt yuv420p \
                 -force_key_frames expr:not(mod(n,12)) -sc_threshold 0 -g 120 -crf:v:0 25 \
                 -maxrate:v:0 5000000 -bufsize:v:0 7500000 -rc_init_occupancy:v:0 2500000 \
                 -fps_mode passthrough -map_metadata -1 -f matroska file:/tmp/t/r0-0.mkv"
            ),
            "{args}"
        );
        assert!(
            args.contains(
                ";[t1]scale=1280:720,setsar=1,format=yuv420p,split=4[h1][a1_0][a1_1][a1_2]"
            ),
            "{args}"
        );

        let compare: Vec<String> = compare_args(&src, &rungs, &opts, &seeks, &plan, dir)
            .unwrap()
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let compare = compare.join(" ");
        assert_eq!(
            compare.matches(" -i ").count(),
            seeks.len() + 8,
            "{compare}"
        );
        assert!(compare.contains(
            ";[t1]scale=1280:720,setsar=1,format=yuv420p,settb=AVTB,setpts=N,split=4[r1_0][r1_1][r1_2][r1_3]"
        ), "{compare}");
        // Trial file 3 of rung 1 is the run's 3 + 4 + 3 = 10th input.
        assert!(compare.contains(
            ";[10:v:0]setsar=1,format=yuv420p,settb=AVTB,setpts=N[d1_3];[d1_3][r1_3]ssim=shortest=1:stats_file='/tmp/t/r1-3.ssim'"
        ), "{compare}");
        assert!(compare.ends_with(" -f null -"), "{compare}");
        assert!(compare_args(&src, &rungs, &opts, &seeks, &plan, Path::new("/tmp/it's")).is_none());
    }

    /// Real ffmpeg, a small source: every rung gets a CRF from its trials, none below the
    /// fixed offset's; on a held test card (AV1 keeps far more than H.264's SSIM) the trials
    /// raise it, and find AV1 not worth publishing. Outside the adaptive ladder, or without
    /// AV1, no trial runs.
    #[tokio::test]
    async fn trials_give_every_rung_a_crf() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("card.mp4");
        let made = std::process::Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i"])
            .arg("testsrc=s=426x240:r=30:d=6,format=yuv420p")
            .args(["-c:v", "libx264", "-preset", "ultrafast", "-crf", "10"])
            .arg(&input)
            .status()
            .unwrap();
        assert!(made.success());
        let info = crate::probe::probe(&input, std::time::Duration::from_secs(30))
            .await
            .unwrap();
        let v = info.video.clone().unwrap();
        let budget = Budget::new(std::time::Duration::from_secs(300), Default::default());
        let picture = Picture::plan(&input, &v, &budget).await.unwrap();
        let rungs = ladder::plan(&v, DEFAULT_LADDER);
        let opts = VideoOptions {
            preset: "veryfast".into(),
            keyframe_seconds: 2,
            ..Default::default()
        };
        let src = Source {
            input: &input,
            video: &v,
            picture: &picture,
            duration: info.media_duration(),
        };
        let scratch = dir.path().join("scratch");
        std::fs::create_dir(&scratch).unwrap();
        let h264 = vec![28; rungs.len()];
        let extras = av1_extras(&picture, &rungs, LadderMode::Adaptive, &h264);
        let fallback: Vec<u32> = (0..rungs.len())
            .map(|i| extras.av1_rate(&rungs[i], i).crf.unwrap())
            .collect();
        let choice = av1_crfs(&src, &rungs, &extras, &opts, &scratch, &budget)
            .await
            .unwrap();
        // A held card: AV1 needs about H.264's bytes for its quality, so it is left out.
        assert!(
            choice
                .skip
                .as_deref()
                .is_some_and(|w| w.starts_with("published without AV1")),
            "{choice:?}"
        );
        let crfs = choice.crfs;
        assert_eq!(crfs.len(), rungs.len());
        assert!(crfs[0] > fallback[0], "{crfs:?} from {fallback:?}");
        for (crf, base) in crfs.iter().zip(&fallback) {
            assert!(
                (*base..=MAX_CRF).contains(crf),
                "{crfs:?} from {fallback:?}"
            );
        }
        // The trial files are gone.
        assert_eq!(std::fs::read_dir(&scratch).unwrap().count(), 0);

        let fixed = av1_extras(&picture, &rungs, LadderMode::Fixed, &[]);
        let none = av1_crfs(&src, &rungs, &fixed, &opts, &scratch, &budget)
            .await
            .unwrap();
        assert_eq!(none, Av1Choice::default());
        let h264_only = Extras::plan(&CodecOptions::default(), &picture, rungs.len())
            .0
            .with_rates(LadderMode::Adaptive, &h264);
        let none = av1_crfs(&src, &rungs, &h264_only, &opts, &scratch, &budget)
            .await
            .unwrap();
        assert_eq!(none, Av1Choice::default());
    }
}
