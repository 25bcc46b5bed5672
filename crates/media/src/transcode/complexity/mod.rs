//! The adaptive ladder's complexity probe: before the encode, each rung is trial-encoded on a
//! few short windows of the source at [`PROBE_CRF`] with x264's own SSIM measurement, and
//! [`choose_crf`] turns the SSIM of the rung's worst window into its CRF: content that keeps its
//! quality at the probe's CRF everywhere sampled gets it (a slide deck costs a fraction of its
//! ladder bitrate), content that does not somewhere gets a lower CRF, down to one where the
//! ladder bitrate (the cap) binds, as the fixed ladder would spend it.
//!
//! `windows.rs`: where the windows are (3–8 spread over the video, at most
//! `MAX_SAMPLED_SECONDS` of frames whatever the length) and how each is read (from its
//! keyframe, or from its exact start where windows would collapse onto one keyframe).
//! `trials.rs`: the trial encoders' per-frame log, cut into windows, and the worst window.
//! The windows are decoded once and encoded once per rung, in one ffmpeg run with an encoder
//! per rung. `av1.rs`: with AV1 asked for, each AV1 rung's CRF from trial encodes on the same
//! windows against the H.264 rung's.

mod av1;
mod trials;
mod windows;

pub(super) use av1::{av1_crfs, Av1Choice, Source};

use super::picture::Picture;
use super::video::Args;
use super::VideoOptions;
use crate::error::Result;
use crate::ladder::Rung;
use crate::probe::{file_url, VideoInfo};
use crate::process::{self, Budget};
use std::path::Path;
use trials::trials_of;
use windows::{key_points, keyframes_before, seeks, windows, Seek};

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

/// The CRF for a rung whose probe at [`PROBE_CRF`] measured luma SSIM `ssim` (on its worst
/// window: `trials::deciding_ssim`).
pub fn choose_crf(ssim: f64) -> u32 {
    let db = |s: f64| -10.0 * (1.0 - s.clamp(0.0, 0.999_999)).log10();
    let short = db(TARGET_SSIM) - db(ssim);
    if short <= 0.0 {
        return PROBE_CRF;
    }
    let steps = (short / DB_PER_CRF).ceil() as u32;
    PROBE_CRF.saturating_sub(steps).max(MIN_CRF)
}

/// The SSIM that decides each rung (its worst window's, `trials::deciding_ssim`); `None` for the whole
/// probe when the video is too short or the trial run failed (the caller falls back to the
/// default CRFs: a probe never fails an encode).
pub(super) async fn probe(
    input: &Path,
    v: &VideoInfo,
    picture: &Picture,
    duration: Option<f64>,
    rungs: &[Rung],
    opts: &VideoOptions,
    budget: &Budget,
) -> Result<Option<Vec<f64>>> {
    let end = duration.unwrap_or(0.0);
    let windows = windows(end);
    Ok(
        probe_windows(input, v, picture, (&windows, end), rungs, opts, budget)
            .await?
            .map(|p| p.deciding()),
    )
}

/// What the trial run of every rung found.
#[derive(Debug, Clone)]
struct Probed {
    /// Frames each window was cut to, in order.
    expected: Vec<usize>,
    /// By rung.
    trials: Vec<trials::Trial>,
    seeks: Vec<Seek>,
    cpu_seconds: Option<f64>,
}

impl Probed {
    fn deciding(&self) -> Vec<f64> {
        self.trials
            .iter()
            .map(|t| t.deciding(&self.expected))
            .collect()
    }
}

/// [`probe`] on the given windows (`(start, length)`, before [`seeks`] decides how to read them)
/// of a video ending at `end`.
async fn probe_windows(
    input: &Path,
    v: &VideoInfo,
    picture: &Picture,
    (windows, end): (&[(f64, f64)], f64),
    rungs: &[Rung],
    opts: &VideoOptions,
    budget: &Budget,
) -> Result<Option<Probed>> {
    if windows.is_empty() || rungs.is_empty() {
        return Ok(None);
    }
    let keys = keyframes_before(input, v, &key_points(windows, end), budget).await?;
    let seeks = seeks(windows, &keys, end);
    // One ffmpeg run for every rung: the windows are decoded once and split into each rung's
    // own trial encoder (the same encoder settings and frames as a run per rung, so the same
    // SSIM). Decoding the windows again for each rung was about a quarter of the probe's CPU,
    // and the probe runs before the encode, on the way to the first playable segment.
    let args = trial_args(input, v, picture, &seeks, rungs, &opts.preset, opts.threads);
    let finished = process::run_keeping(
        "ffmpeg",
        &args,
        "ffmpeg complexity probe",
        budget,
        TRIAL_LOG_BYTES,
        |_| {},
    )
    .await?;
    let trials = finished
        .success()
        .then(|| trials_of(&finished.stderr_tail, rungs.len()))
        .flatten();
    let Some(trials) = trials else {
        let tail = &finished.stderr_tail;
        let from = (tail.len().saturating_sub(2048)..tail.len())
            .find(|&i| tail.is_char_boundary(i))
            .unwrap_or(0);
        tracing::warn!(
            stderr = &tail[from..],
            "complexity probe failed; default CRFs"
        );
        return Ok(None);
    };
    let probed = Probed {
        expected: frames_per_window(&seeks, picture.fps(v)),
        trials,
        seeks,
        cpu_seconds: finished.cpu_seconds,
    };
    tracing::debug!(
        cpu_seconds = probed.cpu_seconds,
        rungs = rungs.len(),
        windows = ?probed.seeks,
        by_window = ?probed
            .trials
            .iter()
            .map(|t| t.windows(&probed.expected))
            .collect::<Vec<_>>(),
        "complexity probe finished"
    );
    Ok(Some(probed))
}

/// Room for the trial run's log at debug level: a line per decoded frame (~100 bytes) and per
/// encoded frame and rung (~140), for at most 4 s of frames (plus up to 10 s of lead per
/// window) at 60 fps and eight rungs, about 1 MB; a log cut short costs the per-window figures
/// (the summaries' means decide then), not the probe.
const TRIAL_LOG_BYTES: usize = 4 << 20;

/// The frames each window is cut to at `fps` (the picture chain's output rate).
fn frames_per_window(seeks: &[Seek], fps: f64) -> Vec<usize> {
    let fps = if fps.is_finite() && fps > 0.0 {
        fps
    } else {
        30.0
    };
    seeks
        .iter()
        .map(|s| ((s.length * fps + 1e-6).floor() as usize).max(1))
        .collect()
}

/// The windows as every trial run reads them: one input per window in `a` (as `seeks` says),
/// and the graph that puts each through the picture chain from time 0, cuts it to exactly its
/// frame count and concatenates them (ends after `concat`, unlabelled).
fn sampled_windows(
    a: &mut Args,
    input: &Path,
    v: &VideoInfo,
    picture: &Picture,
    seeks: &[Seek],
) -> String {
    let fps = picture.fps(v);
    let frames = frames_per_window(seeks, fps);
    // Two frames more than the window is read, so the cut below always has its frames.
    let margin = if fps.is_finite() && fps > 0.0 {
        2.0 / fps
    } else {
        0.1
    };
    for seek in seeks {
        if let Some((option, decoder)) = v.decoder() {
            a.push_all([option.as_str(), decoder]);
        }
        // From the keyframe at or before `start` where that is a distinct sample (decoding up to
        // the exact instant would cost more than the trial encode on a long-GOP source), from
        // the instant itself where windows collapsed onto one keyframe (`windows::seeks`).
        if !seek.accurate {
            a.push("-noaccurate_seek");
        }
        a.push_all(["-ss", &format!("{:.3}", seek.start)]);
        a.push_all(["-t", &format!("{:.3}", seek.length + margin)]);
        a.push("-i");
        a.push(file_url(input));
    }
    // Each window from time 0 (concat keeps the windows' own timestamps otherwise, and a
    // constant-rate filter then drops most frames of the later windows) through its own picture
    // chain, cut to exactly its frame count: the encoders' frames then map onto the windows.
    let chain = picture.chain(v);
    let mut graph = String::new();
    for (k, n) in frames.iter().enumerate() {
        graph.push_str(&format!("[{k}:{}]setpts=PTS-STARTPTS,", v.index));
        if !chain.is_empty() {
            graph.push_str(&chain);
            graph.push(',');
        }
        graph.push_str(&format!("trim=end_frame={n}[w{k}];"));
    }
    for k in 0..seeks.len() {
        graph.push_str(&format!("[w{k}]"));
    }
    graph.push_str(&format!("concat=n={}:v=1:a=0", seeks.len()));
    graph
}

/// The trial run of `rungs`: each window through the picture chain, cut to its frame count, the
/// windows concatenated, then one branch per rung (its own scaler and x264 at the probe's CRF,
/// under its cap) into a null output; logged at debug level for x264's per-frame SSIM.
fn trial_args(
    input: &Path,
    v: &VideoInfo,
    picture: &Picture,
    seeks: &[Seek],
    rungs: &[Rung],
    preset: &str,
    threads: Option<u32>,
) -> Vec<std::ffi::OsString> {
    let mut a = Args::default();
    a.push_all(["-hide_banner", "-nostdin", "-nostats", "-loglevel", "debug"]);
    if let Some(t) = threads {
        a.push_all(["-filter_complex_threads", &t.to_string()]);
    }
    let mut graph = sampled_windows(&mut a, input, v, picture, seeks);
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

    /// Every sampled frame reaches the trial encoder (counted by x264 itself), and its log
    /// gives each one's SSIM: the windows of a long-GOP source, each timed from its own
    /// keyframe, are not thinned by the picture chain's constant-rate filter, and each is cut
    /// to exactly its frame count, so the frames map onto their windows.
    #[test]
    fn the_trial_encodes_every_sampled_frame() {
        let dir = tempfile::tempdir().unwrap();
        let (src, v, picture) =
            x264_source(dir.path(), "testsrc2=s=320x180:r=30:d=30", 250, 320, 180);
        let rung = crate::ladder::plan(&v, crate::ladder::DEFAULT_LADDER)[0].clone();
        let seeks = seeks(&windows(30.0), &[], 30.0);
        let args = trial_args(
            &src,
            &v,
            &picture,
            &seeks,
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
        let expected = frames_per_window(&seeks, 30.0);
        assert_eq!(expected, [18, 18, 18]);
        let trial = &trials_of(&stderr, 1).unwrap()[0];
        assert_eq!(trial.frames, 54, "{stderr}");
        assert_eq!(trial.per_frame.len(), 54);
        assert_eq!(trial.windows(&expected).len(), 3);
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

    /// The CRFs the probe chooses on `windows` of `src`.
    async fn crfs_on(src: &Path, windows: &[(f64, f64)], rungs: &[Rung]) -> (Vec<u32>, Vec<Seek>) {
        let info = crate::probe::probe(src, std::time::Duration::from_secs(30))
            .await
            .unwrap();
        let v = info.video.clone().unwrap();
        let budget = Budget::new(std::time::Duration::from_secs(120), Default::default());
        let picture = Picture::plan(src, &v, &budget).await.unwrap();
        let opts = VideoOptions {
            preset: "veryfast".into(),
            threads: Some(1),
            ..Default::default()
        };
        let end = info.media_duration().unwrap();
        let probed = probe_windows(src, &v, &picture, (windows, end), rungs, &opts, &budget)
            .await
            .unwrap()
            .expect("every rung measured");
        let crfs = probed.deciding().into_iter().map(choose_crf).collect();
        (crfs, probed.seeks)
    }

    /// A `seconds` long 640x360 10 fps source in `dir`: a held test card for the first half,
    /// testsrc2 under heavy noise for the second; keyframes every `gop` frames.
    fn easy_then_hard(dir: &Path, seconds: u32, gop: u32) -> std::path::PathBuf {
        let src = dir.join("easy-then-hard.mp4");
        let half = seconds * 10 / 2;
        let graph = format!(
            "testsrc=s=640x360:r=10:d=1,trim=end_frame=1,loop=loop={}:size=1,\
             setpts=N/10/TB[easy];\
             testsrc2=s=640x360:r=10:d={},noise=alls=45:allf=t+u[hard];\
             [easy][hard]concat=n=2:v=1:a=0,format=yuv420p[v]",
            half - 1,
            seconds / 2
        );
        let made = std::process::Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-f", "lavfi"])
            .args(["-i", "nullsrc=s=16x16:d=0.1", "-filter_complex", &graph])
            .args(["-map", "[v]", "-c:v", "libx264", "-preset", "ultrafast"])
            .args(["-crf", "12", "-x264-params"])
            .arg(format!("keyint={gop}:min-keyint={gop}:scenecut=0"))
            .arg(&src)
            .status()
            .unwrap();
        assert!(made.success());
        src
    }

    /// A video that is easy for its first half and hard for its second: the probe samples the
    /// hard half too and gives it the hard half's CRFs (within a step), well below what the easy
    /// half alone gets. Five minutes (five windows), small and at 10 fps to keep it cheap.
    #[tokio::test]
    async fn a_video_that_turns_hard_half_way_gets_the_hard_crfs() {
        let dir = tempfile::tempdir().unwrap();
        let src = easy_then_hard(dir.path(), 300, 50);
        let info = crate::probe::probe(&src, std::time::Duration::from_secs(30))
            .await
            .unwrap();
        let v = info.video.clone().unwrap();
        let duration = info.media_duration().unwrap();
        assert!((duration - 300.0).abs() < 1.0, "{duration}");
        let rungs = crate::ladder::plan(&v, crate::ladder::DEFAULT_LADDER);
        assert_eq!(rungs.len(), 2, "{rungs:?}");
        let whole = windows(duration);
        assert_eq!(whole.len(), 5, "{whole:?}");
        let (mixed, _) = crfs_on(&src, &whole, &rungs).await;
        // The same rule on each half alone.
        let (easy, _) = crfs_on(&src, &windows(140.0), &rungs).await;
        let hard_windows: Vec<(f64, f64)> = windows(140.0)
            .into_iter()
            .map(|(s, l)| (s + 155.0, l))
            .collect();
        let (hard, _) = crfs_on(&src, &hard_windows, &rungs).await;
        for i in 0..rungs.len() {
            assert!(hard[i] < easy[i], "easy {easy:?} hard {hard:?}");
            assert!(
                mixed[i] <= hard[i] + 1,
                "the hard half missed: mixed {mixed:?}, hard {hard:?}, easy {easy:?}"
            );
        }
    }

    /// The benchmark's short `midway` case: 6 s, easy then hard, one keyframe (at 0). Read from
    /// the keyframe before each, the three windows all sampled the first 0.4 s and the hard half
    /// went unseen (SSIM below the fixed ladder's on the small rungs); now the collapse is seen
    /// (ffprobe's keyframe at or before each window) and the later windows are read from their
    /// own start: the hard half decides.
    #[tokio::test]
    async fn windows_collapsed_onto_one_keyframe_still_see_the_hard_half() {
        let dir = tempfile::tempdir().unwrap();
        let src = easy_then_hard(dir.path(), 6, 250);
        let info = crate::probe::probe(&src, std::time::Duration::from_secs(30))
            .await
            .unwrap();
        let v = info.video.clone().unwrap();
        let rungs = crate::ladder::plan(&v, crate::ladder::DEFAULT_LADDER);
        let (crfs, seeks) = crfs_on(&src, &windows(6.0), &rungs).await;
        assert_eq!(seeks.len(), 3, "{seeks:?}");
        assert!(!seeks[0].accurate && seeks[0].start == 0.0, "{seeks:?}");
        assert!(seeks[1..].iter().all(|s| s.accurate), "{seeks:?}");
        // What the easy half alone gets, and the hard half alone.
        let (easy, _) = crfs_on(&src, &[(0.5, 0.4), (1.5, 0.4), (2.5, 0.4)], &rungs).await;
        let (hard, _) = crfs_on(&src, &[(3.5, 0.4), (4.2, 0.4), (5.0, 0.4)], &rungs).await;
        for i in 0..rungs.len() {
            assert!(hard[i] < easy[i], "easy {easy:?} hard {hard:?}");
            assert!(
                crfs[i] <= hard[i] + 1,
                "the hard half missed: {crfs:?}, hard {hard:?}, easy {easy:?}"
            );
        }
    }

    /// For BENCHMARKS.md, not a test: on each source named in PROBE_COMPARE (comma-separated),
    /// each window's SSIM per rung and the CRFs each way of deciding gives (the mean of every
    /// sampled frame, as before; the worst window; the second worst), with the probe's CPU
    /// seconds, as `cargo test -p mediaserver-media --lib -- --ignored --nocapture
    /// compare_deciding_rules`.
    #[tokio::test]
    #[ignore]
    async fn compare_deciding_rules() {
        let sources = std::env::var("PROBE_COMPARE").unwrap_or_default();
        let budget = Budget::new(std::time::Duration::from_secs(3600), Default::default());
        let opts = VideoOptions {
            preset: "veryfast".into(),
            ..Default::default()
        };
        for src in sources.split(',').filter(|s| !s.is_empty()) {
            let src = Path::new(src);
            let info = crate::probe::probe(src, std::time::Duration::from_secs(60))
                .await
                .unwrap();
            let v = info.video.clone().unwrap();
            let d = info.media_duration().unwrap();
            let picture = Picture::plan(src, &v, &budget).await.unwrap();
            let rungs = crate::ladder::plan(&v, crate::ladder::DEFAULT_LADDER);
            let p = probe_windows(src, &v, &picture, (&windows(d), d), &rungs, &opts, &budget)
                .await
                .unwrap()
                .unwrap();
            let by_window: Vec<Vec<f64>> =
                p.trials.iter().map(|t| t.windows(&p.expected)).collect();
            let mean: Vec<u32> = p.trials.iter().map(|t| choose_crf(t.mean)).collect();
            let worst: Vec<u32> = p.deciding().into_iter().map(choose_crf).collect();
            let second: Vec<u32> = by_window
                .iter()
                .map(|w| {
                    let mut w = w.clone();
                    w.sort_by(f64::total_cmp);
                    choose_crf(*w.get(1).or(w.first()).unwrap_or(&1.0))
                })
                .collect();
            println!(
                "PROBE {} {d:.0}s: seeks {:?} cpu {:.2}s crfs mean {mean:?} worst {worst:?} second {second:?} windows {by_window:.4?}",
                src.display(),
                p.seeks
                    .iter()
                    .map(|s| format!("{:.2}{}", s.start, if s.accurate { "a" } else { "k" }))
                    .collect::<Vec<_>>(),
                p.cpu_seconds.unwrap_or(f64::NAN),
            );
        }
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
        // The default preset; one thread, because x264 under a binding VBV cap is not
        // deterministic between runs with frame threads.
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

        let points = key_points(&windows(8.0), 8.0);
        let keys = keyframes_before(&src, &v, &points, &budget).await.unwrap();
        let seeks = seeks(&windows(8.0), &keys, 8.0);
        let expected = frames_per_window(&seeks, 30.0);
        let args = trial_args(&src, &v, &picture, &seeks, &rungs, "veryfast", Some(1));
        let inputs = args.iter().filter(|a| *a == "-i").count();
        assert_eq!(inputs, seeks.len(), "the windows are decoded once");
        let alone: Vec<f64> = rungs
            .iter()
            .map(|r| {
                let rung = std::slice::from_ref(r);
                let args = trial_args(&src, &v, &picture, &seeks, rung, "veryfast", Some(1));
                let out = std::process::Command::new("ffmpeg")
                    .args(&args)
                    .output()
                    .unwrap();
                let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
                assert!(out.status.success(), "{stderr}");
                let trial = &trials_of(&stderr, 1).unwrap()[0];
                assert!(!trial.per_frame.is_empty(), "per-frame SSIMs logged");
                trial.deciding(&expected)
            })
            .collect();
        assert_eq!(together, alone);
        // Distinct per rung, so a mix-up of the order would show.
        assert!(alone.windows(2).all(|w| w[0] != w[1]), "{alone:?}");
    }
}
