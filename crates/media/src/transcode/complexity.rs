//! The adaptive ladder's complexity probe: before the encode, each rung is trial-encoded on three
//! short windows of the source at [`PROBE_CRF`] with x264's own SSIM measurement, and
//! [`choose_crf`] turns that SSIM into the rung's CRF: content that keeps its quality at the
//! probe's CRF gets it (a slide deck costs a fraction of its ladder bitrate), content that does not
//! gets a lower CRF, down to one where the ladder bitrate (the cap) binds, as the fixed ladder
//! would spend it.
//!
//! The windows are spread evenly over the video (centred at (2k+1)/2n of it, from the keyframe at
//! or before each: 1/6, 1/2 and 5/6 for three), one per minute between three and eight, each 2 %
//! of the length but 0.4–0.8 s and at most [`MAX_SAMPLED_SECONDS`] in all, so the probe's cost
//! does not grow with the length (it runs before the first segment can exist). They are decoded
//! once and encoded once per rung, in one ffmpeg run with an encoder per rung (each logs its
//! summary, with the SSIM, when closed).

use super::picture::Picture;
use super::video::Args;
use super::VideoOptions;
use crate::error::Result;
use crate::ladder::Rung;
use crate::probe::{file_url, VideoInfo};
use crate::process::{self, Budget};
use std::path::Path;

/// The CRF every rung is probed at, and the highest any rung gets.
pub const PROBE_CRF: u32 = 28;
/// The lowest CRF a rung gets: at this quality target anything harder than a slide deck runs
/// into its cap, which is the fixed ladder's bitrate.
pub const MIN_CRF: u32 = 18;
/// The luma SSIM a rung aims for (in dB: −10·log10(1 − SSIM)); 0.985 keeps the measured SSIM
/// (luma and chroma) above 0.98 with a margin.
pub const TARGET_SSIM: f64 = 0.985;
/// SSIM dB gained per CRF step down (x264, veryfast: about 0.6 on the benchmark's clips;
/// assuming less makes the choice err on the side of quality).
const DB_PER_CRF: f64 = 0.5;

/// The videos shorter than this are not probed (they get [`super::rate::crf`]'s defaults).
const MIN_PROBE_SECONDS: f64 = 2.0;

/// The CRF for a rung whose probe at [`PROBE_CRF`] measured luma SSIM `ssim`.
pub fn choose_crf(ssim: f64) -> u32 {
    let db = |s: f64| -10.0 * (1.0 - s.clamp(0.0, 0.999_999)).log10();
    let short = db(TARGET_SSIM) - db(ssim);
    if short <= 0.0 {
        return PROBE_CRF;
    }
    let steps = (short / DB_PER_CRF).ceil() as u32;
    PROBE_CRF.saturating_sub(steps).max(MIN_CRF)
}

/// The most seconds of video the probe samples, whatever the length: at 1080p with five rungs
/// about 6 CPU seconds (3 s on two cores). Sampling 2 % up to 30 s (before) cost ~39 CPU s on
/// 10 minutes and decided the benchmark's clips no differently.
pub const MAX_SAMPLED_SECONDS: f64 = 4.0;
/// Bounds of one window: shorter windows are mostly their first (key)frame; past a second more
/// of the same shot tells the probe little that another place in the video would not.
const MIN_WINDOW_SECONDS: f64 = 0.4;
const MAX_WINDOW_SECONDS: f64 = 0.8;
/// Windows: at least three (the start, middle and end of a short clip), one more per minute,
/// at most eight (a change of content anywhere in a long video is at most 1/16 of it away
/// from a window).
const MIN_WINDOWS: usize = 3;
const MAX_WINDOWS: usize = 8;
const SECONDS_PER_WINDOW: f64 = 60.0;

/// `(start, length)` of the probe's windows over `duration` seconds; empty when too short.
pub fn windows(duration: f64) -> Vec<(f64, f64)> {
    if !duration.is_finite() || duration < MIN_PROBE_SECONDS {
        return Vec::new();
    }
    let n = ((duration / SECONDS_PER_WINDOW).ceil() as usize).clamp(MIN_WINDOWS, MAX_WINDOWS);
    let cap = MAX_WINDOW_SECONDS.min(MAX_SAMPLED_SECONDS / n as f64);
    let len = (duration * 0.02).clamp(MIN_WINDOW_SECONDS, cap);
    (0..n)
        .map(|k| {
            let centre = duration * (2 * k + 1) as f64 / (2 * n) as f64;
            ((centre - len / 2.0).max(0.0), len)
        })
        .collect()
}

/// What the probe measured per rung; `None` for the whole probe when the video is too short or
/// the trial run failed (the caller falls back to the default CRFs: a probe never fails an
/// encode).
pub(super) async fn probe(
    input: &Path,
    v: &VideoInfo,
    picture: &Picture,
    duration: Option<f64>,
    rungs: &[Rung],
    opts: &VideoOptions,
    budget: &Budget,
) -> Result<Option<Vec<f64>>> {
    let windows = windows(duration.unwrap_or(0.0));
    probe_windows(input, v, picture, &windows, rungs, opts, budget).await
}

/// [`probe`] on the given windows.
async fn probe_windows(
    input: &Path,
    v: &VideoInfo,
    picture: &Picture,
    windows: &[(f64, f64)],
    rungs: &[Rung],
    opts: &VideoOptions,
    budget: &Budget,
) -> Result<Option<Vec<f64>>> {
    if windows.is_empty() || rungs.is_empty() {
        return Ok(None);
    }
    // One ffmpeg run for every rung: the windows are decoded once and split into each rung's
    // own trial encoder (the same encoder settings and frames as a run per rung, so the same
    // SSIM). Decoding the windows again for each rung was about a quarter of the probe's CPU,
    // and the probe runs before the encode, on the way to the first playable segment.
    let args = trial_args(
        input,
        v,
        picture,
        windows,
        rungs,
        &opts.preset,
        opts.threads,
    );
    let tail = SUMMARY_BYTES * (rungs.len() + 1);
    let finished = process::run_keeping(
        "ffmpeg",
        &args,
        "ffmpeg complexity probe",
        budget,
        tail,
        |_| {},
    )
    .await?;
    tracing::debug!(
        cpu_seconds = finished.cpu_seconds,
        rungs = rungs.len(),
        windows = windows.len(),
        sampled_seconds = windows.iter().map(|w| w.1).sum::<f64>(),
        "complexity probe finished"
    );
    let ssims = finished
        .success()
        .then(|| ssims_of(&finished.stderr_tail, rungs.len()))
        .flatten();
    if ssims.is_none() {
        let tail = &finished.stderr_tail;
        let from = (tail.len().saturating_sub(2048)..tail.len())
            .find(|&i| tail.is_char_boundary(i))
            .unwrap_or(0);
        tracing::warn!(
            stderr = &tail[from..],
            "complexity probe failed; default CRFs"
        );
    }
    Ok(ssims)
}

/// Room for one x264 summary (about 1.5 KB at `-loglevel info`) in the kept stderr.
const SUMMARY_BYTES: usize = 4096;

/// The trial run of `rungs`: the windows concatenated, the picture chain, then one branch per
/// rung (its own scaler and x264 at the probe's CRF, under its cap) into a null output.
fn trial_args(
    input: &Path,
    v: &VideoInfo,
    picture: &Picture,
    windows: &[(f64, f64)],
    rungs: &[Rung],
    preset: &str,
    threads: Option<u32>,
) -> Vec<std::ffi::OsString> {
    let mut a = Args::default();
    a.push_all(["-hide_banner", "-nostdin", "-nostats", "-loglevel", "info"]);
    if let Some(t) = threads {
        a.push_all(["-filter_complex_threads", &t.to_string()]);
    }
    for (start, len) in windows {
        if let Some((option, decoder)) = v.decoder() {
            a.push_all([option.as_str(), decoder]);
        }
        // From the keyframe at or before `start`: decoding up to the exact instant would cost
        // more than the trial encode on a long-GOP source.
        a.push_all(["-noaccurate_seek", "-ss", &format!("{start:.3}")]);
        a.push_all(["-t", &format!("{len:.3}")]);
        a.push("-i");
        a.push(file_url(input));
    }
    // Each window from time 0: concat keeps the windows' own timestamps otherwise, and the
    // constant-rate filter in the picture chain then drops most frames of the later windows
    // (a 30 s long-GOP source: 17 of 54 sampled frames reached the encoder).
    let mut graph = String::new();
    for k in 0..windows.len() {
        graph.push_str(&format!("[{k}:{}]setpts=PTS-STARTPTS[w{k}];", v.index));
    }
    for k in 0..windows.len() {
        graph.push_str(&format!("[w{k}]"));
    }
    graph.push_str(&format!("concat=n={}:v=1:a=0", windows.len()));
    let chain = picture.chain(v);
    if !chain.is_empty() {
        graph.push(',');
        graph.push_str(&chain);
    }
    graph.push_str(&format!(",split={}", rungs.len()));
    for i in 0..rungs.len() {
        graph.push_str(&format!("[t{i}]"));
    }
    for (i, rung) in rungs.iter().enumerate() {
        graph.push_str(&format!(
            ";[t{i}]{}scale={}:{},setsar=1,format=yuv420p[v{i}]",
            picture.rung_filter(rung.width.min(rung.height)),
            rung.width,
            rung.height
        ));
    }
    a.push_all(["-filter_complex", &graph]);
    for (i, rung) in rungs.iter().enumerate() {
        a.push_all(["-map", &format!("[v{i}]")]);
        a.push_all(["-c:v", "libx264", "-preset", preset, "-profile:v", "high"]);
        a.push_all(["-crf", &PROBE_CRF.to_string()]);
        a.push_all(["-maxrate", &rung.bitrate.to_string()]);
        a.push_all(["-bufsize", &rung.bufsize.to_string()]);
        a.push_all(["-x264-params", "ssim=1"]);
        if let Some(t) = threads {
            a.push_all(["-threads", &t.to_string()]);
        }
        a.push_all(["-f", "null", "-"]);
    }
    a.0
}

/// Each encoder's SSIM, in output order, when there are exactly `n`: x264 logs its summary when
/// its encoder is closed, and ffmpeg closes them in the order of the outputs.
fn ssims_of(stderr: &str, n: usize) -> Option<Vec<f64>> {
    let mut ssims = Vec::with_capacity(n);
    let mut rest = stderr;
    while let Some(at) = rest.find("SSIM Mean Y:") {
        rest = &rest[at..];
        ssims.push(ssim_of(rest)?);
        rest = &rest["SSIM Mean Y:".len()..];
    }
    (ssims.len() == n).then_some(ssims)
}

/// The first x264 `SSIM Mean Y:0.9876543 (19.082db)` summary line.
fn ssim_of(stderr: &str) -> Option<f64> {
    let at = stderr.find("SSIM Mean Y:")? + "SSIM Mean Y:".len();
    let value: String = stderr[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    value.parse().ok().filter(|s: &f64| (0.0..=1.0).contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 30 fps `width`x`height` H.264 source from the lavfi graph `lavfi` (keyframes every
    /// `gop` frames) in `dir`, as the probe describes it, and a picture plan that only fixes the
    /// rate.
    fn x264_source(
        dir: &Path,
        lavfi: &str,
        gop: u32,
        width: u32,
        height: u32,
    ) -> (std::path::PathBuf, VideoInfo, Picture) {
        let src = dir.join("src.mp4");
        let made = std::process::Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i"])
            .arg(lavfi)
            .args(["-c:v", "libx264", "-preset", "ultrafast", "-g"])
            .arg(gop.to_string())
            .arg(&src)
            .status()
            .unwrap();
        assert!(made.success());
        let v = VideoInfo {
            index: 0,
            codec: "h264".into(),
            width,
            height,
            fps: 30.0,
            pix_fmt: "yuv420p".into(),
            ..Default::default()
        };
        let picture = Picture {
            deinterlace: None,
            rate: Some((30, 1)),
            hdr: None,
            alpha: false,
        };
        (src, v, picture)
    }

    /// Every sampled frame reaches the trial encoder (counted by x264 itself): the windows of a
    /// long-GOP source, each timed from its own keyframe, are not thinned by the picture
    /// chain's constant-rate filter after the concat.
    #[test]
    fn the_trial_encodes_every_sampled_frame() {
        let dir = tempfile::tempdir().unwrap();
        let (src, v, picture) =
            x264_source(dir.path(), "testsrc2=s=320x180:r=30:d=30", 250, 320, 180);
        let rung = crate::ladder::plan(&v, crate::ladder::DEFAULT_LADDER)[0].clone();
        let windows = windows(30.0);
        let args = trial_args(
            &src,
            &v,
            &picture,
            &windows,
            std::slice::from_ref(&rung),
            "ultrafast",
            None,
        );
        let out = std::process::Command::new("ffmpeg")
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        // x264's summary: `frame I:1     Avg QP:…`, `frame P:53    Avg QP:…`.
        let encoded: u32 = stderr
            .lines()
            .filter_map(|l| l.split("] frame ").nth(1))
            .filter_map(|l| {
                l.split(':')
                    .nth(1)?
                    .split_whitespace()
                    .next()?
                    .parse::<u32>()
                    .ok()
            })
            .sum();
        let sampled: f64 = windows.iter().map(|(_, len)| len * 30.0).sum();
        assert!(
            (encoded as f64 - sampled).abs() <= windows.len() as f64,
            "x264 encoded {encoded} frames of {sampled} sampled: {stderr}"
        );
        assert!(ssim_of(&stderr).is_some(), "{stderr}");
    }

    #[test]
    fn easy_content_keeps_the_probe_crf_hard_content_goes_to_the_cap() {
        assert_eq!(choose_crf(0.999), PROBE_CRF);
        assert_eq!(choose_crf(TARGET_SSIM), PROBE_CRF);
        // A little short of the target: a step or two down.
        let near = choose_crf(0.980);
        assert!((PROBE_CRF - 3..PROBE_CRF).contains(&near), "{near}");
        // Far short (a fast pan, noise): the lowest CRF, where the cap binds.
        assert_eq!(choose_crf(0.85), MIN_CRF);
        assert_eq!(choose_crf(0.3), MIN_CRF);
        assert_eq!(choose_crf(0.0), MIN_CRF);
        // Monotonic: worse probe, lower (better) CRF.
        let crfs: Vec<u32> = (0..=100)
            .map(|i| choose_crf(0.9 + i as f64 * 0.001))
            .collect();
        assert!(crfs.windows(2).all(|w| w[0] <= w[1]), "{crfs:?}");
    }

    /// The rule changed (it was 2 % of the length per window up to 10 s, ~6 % of the frames:
    /// 30 s of frames per rung on 10 minutes, four fifths of the time to first play): clips up
    /// to 40 s keep the windows the benchmark's clips were decided with; longer ones get more,
    /// shorter windows spread over the whole video, at most MAX_SAMPLED_SECONDS in all.
    #[test]
    fn windows_are_spread_over_the_video_and_bounded() {
        assert!(windows(1.0).is_empty());
        assert!(windows(f64::NAN).is_empty());
        assert!(windows(f64::INFINITY).is_empty());
        // 20 s, as before: 0.4 s at 1/6, 1/2 and 5/6.
        let w = windows(20.0);
        assert_eq!(w.len(), 3);
        assert_eq!(w[0], (20.0 / 6.0 - 0.2, 0.4));
        assert!((w[1].0 - 9.8).abs() < 1e-9);
        // 30 s, as before: 2 % of it.
        assert!(windows(30.0).iter().all(|w| (w.1 - 0.6).abs() < 1e-9));
        // 1 minute: three windows of 0.8 s (2 % would be 1.2 s).
        let w = windows(60.0);
        assert_eq!(w.len(), 3);
        assert!(w.iter().all(|w| (w.1 - 0.8).abs() < 1e-9), "{w:?}");
        // 10 minutes: eight windows of 0.5 s centred on each eighth: 4 s, not 30 s.
        let w = windows(600.0);
        assert_eq!(w.len(), 8);
        for (k, (start, len)) in w.iter().enumerate() {
            assert!((len - 0.5).abs() < 1e-9, "{w:?}");
            let centre = 600.0 * (2 * k + 1) as f64 / 16.0;
            assert!((start + len / 2.0 - centre).abs() < 1e-9, "{w:?}");
        }
        // Every length: inside the video, in order, not overlapping.
        for d in [
            2.0, 2.5, 5.0, 19.9, 41.0, 59.0, 61.0, 299.0, 600.0, 3600.0, 86400.0,
        ] {
            let w = windows(d);
            assert!(
                w.iter().all(|(s, l)| *s >= 0.0 && s + l <= d + 1e-9),
                "{d}: {w:?}"
            );
            assert!(
                w.windows(2).all(|p| p[0].0 + p[0].1 <= p[1].0),
                "{d}: {w:?}"
            );
        }
    }

    /// What the probe samples does not grow with the length: an hour samples what ten minutes
    /// do, at most MAX_SAMPLED_SECONDS of frames in at most MAX_WINDOWS windows (before: 900
    /// frames of a 30 fps hour, 30 s encoded once per rung).
    #[test]
    fn an_hour_samples_no_more_than_ten_minutes() {
        let frames = |d: f64| windows(d).iter().map(|w| w.1 * 30.0).sum::<f64>();
        assert!(frames(3600.0) <= MAX_SAMPLED_SECONDS * 30.0 + 1e-9);
        assert!((frames(3600.0) - frames(600.0)).abs() < 1e-9);
        assert!(windows(3600.0).len() <= MAX_WINDOWS);
        for d in (2..=4 * 3600).step_by(37) {
            let w = windows(d as f64);
            let sampled: f64 = w.iter().map(|w| w.1).sum();
            assert!(sampled <= MAX_SAMPLED_SECONDS + 1e-9, "{d}: {w:?}");
            assert!((MIN_WINDOWS..=MAX_WINDOWS).contains(&w.len()), "{d}: {w:?}");
        }
        // Spread over the whole hour, not bunched: one window in each eighth of it.
        let w = windows(3600.0);
        for (k, (start, len)) in w.iter().enumerate() {
            assert!(*start >= k as f64 * 450.0 && start + len <= (k + 1) as f64 * 450.0);
        }
    }

    /// A video that is easy for its first half and hard for its second: the probe samples the
    /// hard half too and gives it the hard half's CRFs (within a step), well below what the easy
    /// half alone gets. Five minutes (five windows), small and at 10 fps to keep it cheap.
    #[tokio::test]
    async fn a_video_that_turns_hard_half_way_gets_the_hard_crfs() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("easy-then-hard.mp4");
        let graph = "testsrc=s=640x360:r=10:d=1,trim=end_frame=1,loop=loop=1499:size=1,\
                     setpts=N/10/TB[easy];\
                     testsrc2=s=640x360:r=10:d=150,noise=alls=45:allf=t+u[hard];\
                     [easy][hard]concat=n=2:v=1:a=0,format=yuv420p[v]";
        let made = std::process::Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-f", "lavfi"])
            .args(["-i", "nullsrc=s=16x16:d=0.1", "-filter_complex", graph])
            .args(["-map", "[v]", "-c:v", "libx264", "-preset", "ultrafast"])
            .args(["-crf", "12", "-g", "50"])
            .arg(&src)
            .status()
            .unwrap();
        assert!(made.success());
        let info = crate::probe::probe(&src, std::time::Duration::from_secs(30))
            .await
            .unwrap();
        let v = info.video.clone().unwrap();
        let duration = info.media_duration().unwrap();
        assert!((duration - 300.0).abs() < 1.0, "{duration}");
        let budget = Budget::new(std::time::Duration::from_secs(120), Default::default());
        let picture = Picture::plan(&src, &v, &budget).await.unwrap();
        let rungs = crate::ladder::plan(&v, crate::ladder::DEFAULT_LADDER);
        assert_eq!(rungs.len(), 2, "{rungs:?}");
        let opts = VideoOptions {
            preset: "veryfast".into(),
            threads: Some(1),
            ..Default::default()
        };
        let crfs = |w: Vec<(f64, f64)>| {
            let (src, v, picture, rungs, opts, budget) =
                (&src, &v, &picture, &rungs, &opts, &budget);
            async move {
                probe_windows(src, v, picture, &w, rungs, opts, budget)
                    .await
                    .unwrap()
                    .expect("every rung measured")
                    .into_iter()
                    .map(choose_crf)
                    .collect::<Vec<u32>>()
            }
        };
        let whole = windows(duration);
        assert_eq!(whole.len(), 5, "{whole:?}");
        let mixed = crfs(whole).await;
        // The same rule on each half alone.
        let easy = crfs(windows(140.0)).await;
        let hard = crfs(
            windows(140.0)
                .into_iter()
                .map(|(s, l)| (s + 155.0, l))
                .collect(),
        )
        .await;
        for i in 0..rungs.len() {
            assert!(hard[i] < easy[i], "easy {easy:?} hard {hard:?}");
            assert!(
                mixed[i] <= hard[i] + 1,
                "the hard half missed: mixed {mixed:?}, hard {hard:?}, easy {easy:?}"
            );
        }
    }

    /// The rule before 2026-12-05 (2 % of the length per window, 0.4–10 s, three windows), for
    /// the comparison in BENCHMARKS.md, not a test: on each source named in PROBE_COMPARE
    /// (comma-separated), the CRFs either rule chooses and the probe's CPU seconds, as
    /// `cargo test -p mediaserver-media --lib -- --ignored --nocapture compare_probe_rules`.
    #[tokio::test]
    #[ignore]
    async fn compare_probe_rules() {
        let before = |d: f64| -> Vec<(f64, f64)> {
            let len = (d * 0.02).clamp(0.4, 10.0);
            [1.0, 3.0, 5.0]
                .iter()
                .map(|k| ((d * k / 6.0 - len / 2.0).max(0.0), len))
                .collect()
        };
        let sources = std::env::var("PROBE_COMPARE").unwrap_or_default();
        let budget = Budget::new(std::time::Duration::from_secs(3600), Default::default());
        for src in sources.split(',').filter(|s| !s.is_empty()) {
            let src = Path::new(src);
            let info = crate::probe::probe(src, std::time::Duration::from_secs(60))
                .await
                .unwrap();
            let v = info.video.clone().unwrap();
            let d = info.media_duration().unwrap();
            let picture = Picture::plan(src, &v, &budget).await.unwrap();
            let rungs = crate::ladder::plan(&v, crate::ladder::DEFAULT_LADDER);
            for (rule, w) in [("before", before(d)), ("after", windows(d))] {
                let args = trial_args(src, &v, &picture, &w, &rungs, "veryfast", None);
                let tail = SUMMARY_BYTES * (rungs.len() + 1);
                let done = process::run_keeping("ffmpeg", &args, "probe", &budget, tail, |_| {})
                    .await
                    .unwrap();
                let ssims = ssims_of(&done.stderr_tail, rungs.len()).unwrap();
                let crfs: Vec<u32> = ssims.iter().map(|s| choose_crf(*s)).collect();
                let sampled: f64 = w.iter().map(|w| w.1).sum();
                println!(
                    "PROBE {} {d:.0}s {rule}: windows {} sampled {sampled:.1}s cpu {:.2}s crfs {crfs:?} ssims {ssims:.4?}",
                    src.display(),
                    w.len(),
                    done.cpu_seconds.unwrap_or(f64::NAN),
                );
            }
        }
    }

    #[test]
    fn reads_x264s_summary() {
        let tail = "[libx264 @ 0x5] kb/s:1.0\n[libx264 @ 0x55b5] SSIM Mean Y:0.8085228 ( 7.179db)\n[libx264 @ 0x55b5] kb/s:1204.73\n";
        assert_eq!(ssim_of(tail), Some(0.8085228));
        assert_eq!(ssim_of("Conversion failed!"), None);
        assert_eq!(ssim_of("SSIM Mean Y:nan"), None);
        let two = format!("{tail}[libx264 @ 0x66] SSIM Mean Y:0.9912345 (20.5db)\n");
        assert_eq!(ssims_of(&two, 2), Some(vec![0.8085228, 0.9912345]));
        // A summary missing (an encoder that failed, a tail too short): no guess.
        assert_eq!(ssims_of(&two, 3), None);
        assert_eq!(ssims_of(tail, 2), None);
        assert_eq!(ssims_of("SSIM Mean Y:0.9 SSIM Mean Y:nan", 2), None);
    }

    /// The probe decodes the sampled windows once for every rung (one ffmpeg run), and each
    /// rung's trial in it measures exactly what a run of that rung alone measures, in the
    /// rungs' order: the adaptive ladder's choices do not depend on how the probe is run.
    #[tokio::test]
    async fn one_run_for_every_rung_measures_what_a_run_per_rung_measures() {
        let dir = tempfile::tempdir().unwrap();
        let (src, v, picture) = x264_source(
            dir.path(),
            "testsrc2=s=1280x720:r=30:d=8,noise=alls=20:allf=t",
            60,
            1280,
            720,
        );
        let rungs = crate::ladder::plan(&v, crate::ladder::DEFAULT_LADDER);
        assert_eq!(rungs.len(), 4, "{rungs:?}");
        // The default preset, whose summaries the kept stderr must hold; one thread, because
        // x264 under a binding VBV cap is not deterministic between runs with frame threads.
        let opts = VideoOptions {
            preset: "veryfast".into(),
            threads: Some(1),
            ..Default::default()
        };
        let budget = Budget::new(std::time::Duration::from_secs(120), Default::default());
        let together = probe(&src, &v, &picture, Some(8.0), &rungs, &opts, &budget)
            .await
            .unwrap()
            .expect("every rung measured");

        let windows = windows(8.0);
        let args = trial_args(&src, &v, &picture, &windows, &rungs, "veryfast", Some(1));
        let inputs = args.iter().filter(|a| *a == "-i").count();
        assert_eq!(inputs, windows.len(), "the windows are decoded once");
        let alone: Vec<f64> = rungs
            .iter()
            .map(|r| {
                let rung = std::slice::from_ref(r);
                let args = trial_args(&src, &v, &picture, &windows, rung, "veryfast", Some(1));
                let out = std::process::Command::new("ffmpeg")
                    .args(&args)
                    .output()
                    .unwrap();
                let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
                assert!(out.status.success(), "{stderr}");
                ssims_of(&stderr, 1).unwrap()[0]
            })
            .collect();
        assert_eq!(together, alone);
        // Distinct per rung, so a mix-up of the order would show.
        assert!(alone.windows(2).all(|w| w[0] != w[1]), "{alone:?}");
    }
}
