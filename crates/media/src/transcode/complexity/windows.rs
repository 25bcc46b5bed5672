//! Where the complexity probe samples: [`windows`] spreads 3–8 short windows over the video
//! (at most [`MAX_SAMPLED_SECONDS`] of frames whatever the length), and [`seeks`] decides how
//! each is read, from the source's keyframes around each window ([`keyframes_before`]): from
//! the keyframe at or before it (nothing decoded before it: the cheap way), or, where that would
//! sample what an earlier window already did (a short or long-GOP source: every window on the
//! one keyframe at 0), from a later keyframe still in the window's own stretch of the video, or
//! else from its exact start, decoding the frames before it — at most [`MAX_LEAD_SECONDS`] of
//! them; a window that would need more is left out.

use crate::error::Result;
use crate::probe::{file_url, VideoInfo};
use crate::process::{self, Budget};
use std::ffi::OsString;
use std::path::Path;

/// The videos shorter than this are not probed (they get [`super::super::rate::crf`]'s defaults).
const MIN_PROBE_SECONDS: f64 = 2.0;

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
pub(super) const MIN_WINDOWS: usize = 3;
pub(super) const MAX_WINDOWS: usize = 8;
const SECONDS_PER_WINDOW: f64 = 60.0;
/// The most seconds of source decoded before a window read from its exact start: x264's
/// default GOP (250 frames) at 25 fps. Decoding 1080p H.264 costs about a thirtieth of what
/// the probe's five trial encoders do per frame, so this is ~1 CPU s per window at worst.
pub const MAX_LEAD_SECONDS: f64 = 10.0;

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

/// How one window is read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Seek {
    /// Seconds from the file's start, as `-ss` counts them.
    pub start: f64,
    pub length: f64,
    /// From exactly `start` (decoding from the keyframe before it), not from that keyframe.
    pub accurate: bool,
}

/// The instants whose keyframe at or before [`seeks`] needs: each window's start, and the
/// latest start in its stretch (up to the next window's start, or `end`, the video's).
pub fn key_points(windows: &[(f64, f64)], end: f64) -> Vec<f64> {
    let mut points = Vec::with_capacity(2 * windows.len());
    for (k, &(start, length)) in windows.iter().enumerate() {
        let stretch_end = windows.get(k + 1).map_or(end, |w| w.0);
        points.push(start);
        if stretch_end - length > start {
            points.push(stretch_end - length);
        }
    }
    points
}

/// How each of `windows` (`(start, length)`, in order, over a video ending at `end`) is read,
/// given `keys`: source keyframe times (seconds as `-ss` counts them) that include the one at
/// or before each of [`key_points`] (the ones [`keyframes_before`] finds; empty when unknown).
/// A window starts at its keyframe unless that sample overlaps what the windows before it
/// sample (they collapsed onto one keyframe); then at a later keyframe in its stretch (before
/// the next window) if there is one, else exactly at its own start when that is at most
/// [`MAX_LEAD_SECONDS`] past the keyframe, and is left out otherwise. The first window is
/// always kept, so the result is empty only when `windows` is.
pub fn seeks(windows: &[(f64, f64)], keys: &[f64], end: f64) -> Vec<Seek> {
    const EPS: f64 = 1e-3;
    let mut out: Vec<Seek> = Vec::with_capacity(windows.len());
    // Where the sample of the windows kept so far ends.
    let mut sampled_to = f64::NEG_INFINITY;
    let key_before = |t: f64| {
        keys.iter()
            .copied()
            .filter(|k| *k <= t + EPS)
            .fold(None, |best: Option<f64>, k| {
                Some(best.map_or(k, |b| b.max(k)))
            })
    };
    for (i, &(start, length)) in windows.iter().enumerate() {
        let key = key_before(start);
        // The last keyframe a window of this stretch can start at and still end before the next.
        let stretch_end = windows.get(i + 1).map_or(end, |w| w.0);
        let later = key_before(stretch_end - length).filter(|l| key.is_some_and(|k| *l > k + EPS));
        let seek = match key {
            // Unknown keyframes: from the keyframe before `start`, wherever that is.
            None => Some(Seek {
                start,
                length,
                accurate: false,
            }),
            Some(k) if k + EPS >= sampled_to => Some(Seek {
                start: k,
                length,
                accurate: false,
            }),
            Some(_) if later.is_some_and(|l| l + EPS >= sampled_to) => Some(Seek {
                start: later.unwrap_or(start),
                length,
                accurate: false,
            }),
            Some(k) if start - k <= MAX_LEAD_SECONDS && start + EPS >= sampled_to => Some(Seek {
                start,
                length,
                accurate: true,
            }),
            Some(_) => None,
        };
        if let Some(s) = seek {
            sampled_to = s.start + s.length;
            out.push(s);
        }
    }
    out
}

/// The source's video keyframe at or before each of `starts` (seconds as `-ss` counts them):
/// one ffprobe that seeks to each and reads a packet, so its cost does not grow with the file.
/// Empty when ffprobe cannot say (the probe then reads each window from its keyframe, as
/// `-noaccurate_seek` finds it).
pub async fn keyframes_before(
    input: &Path,
    v: &VideoInfo,
    starts: &[f64],
    budget: &Budget,
) -> Result<Vec<f64>> {
    if starts.is_empty() {
        return Ok(Vec::new());
    }
    // ffmpeg's `-ss` counts from the file's start time, ffprobe's intervals from zero: the start
    // time is read first (the same probe's format section) and added.
    let start_time = {
        let mut out = process::Collect::new(64 * 1024);
        let args: Vec<OsString> = vec![
            "-v".into(),
            "error".into(),
            "-show_entries".into(),
            "format=start_time".into(),
            "-of".into(),
            "csv=p=0".into(),
            file_url(input).into(),
        ];
        let done = process::run("ffprobe", &args, "ffprobe start time", budget, |c| {
            out.push(c)
        })
        .await?;
        if !done.success() {
            return Ok(Vec::new());
        }
        String::from_utf8_lossy(&out.bytes)
            .trim()
            .parse::<f64>()
            .unwrap_or(0.0)
    };
    let intervals = starts
        .iter()
        .map(|s| format!("{:.3}%+#1", s + start_time))
        .collect::<Vec<_>>()
        .join(",");
    let mut out = process::Collect::new(1024 * 1024);
    let args: Vec<OsString> = vec![
        "-v".into(),
        "error".into(),
        "-select_streams".into(),
        v.index.to_string().into(),
        "-read_intervals".into(),
        intervals.into(),
        "-show_entries".into(),
        "packet=pts_time,flags".into(),
        "-of".into(),
        "csv=p=0".into(),
        file_url(input).into(),
    ];
    let done = process::run("ffprobe", &args, "ffprobe keyframes", budget, |c| {
        out.push(c)
    })
    .await?;
    if !done.success() || out.overflowed {
        return Ok(Vec::new());
    }
    Ok(parse_keys(&String::from_utf8_lossy(&out.bytes), start_time))
}

/// The keyframes (`pts_time,flags` lines flagged `K`) less `start_time`, in order.
fn parse_keys(text: &str, start_time: f64) -> Vec<f64> {
    let mut keys: Vec<f64> = text
        .lines()
        .filter_map(|l| {
            let (pts, flags) = l.split_once(',')?;
            flags.starts_with('K').then_some(())?;
            pts.trim().parse::<f64>().ok()
        })
        .filter(|t| t.is_finite())
        .map(|t| t - start_time)
        .collect();
    keys.sort_by(f64::total_cmp);
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// Keyframes every 8.33 s (x264's default GOP at 30 fps) under a 60 s video's windows
    /// (9.6, 29.6 and 49.6 s): each window starts at its own keyframe, nothing decoded before it.
    #[test]
    fn distinct_keyframes_are_the_cheap_starts() {
        let keys: Vec<f64> = (0..8).map(|i| i as f64 * 250.0 / 30.0).collect();
        let s = seeks(&windows(60.0), &keys, 60.0);
        assert_eq!(s.len(), 3);
        assert!(s.iter().all(|s| !s.accurate && s.length == 0.8), "{s:?}");
        let starts: Vec<f64> = s.iter().map(|s| s.start).collect();
        for (got, want) in starts.iter().zip([250.0 / 30.0, 25.0, 1250.0 / 30.0]) {
            assert!((got - want).abs() < 1e-9, "{starts:?}");
        }
        // Keyframes unknown: each window as planned, from the keyframe ffmpeg finds.
        let s = seeks(&windows(60.0), &[], 60.0);
        assert_eq!(s.len(), 3);
        assert!(s.iter().all(|s| !s.accurate));
        assert_eq!(s[1].start, windows(60.0)[1].0);
    }

    /// A 6 s clip whose only keyframe is at 0 (ultrafast, GOP 250): the three windows would all
    /// sample its first 0.4 s. The collapse is seen, the later windows start exactly where they
    /// were planned (decoding from 0: at most a few seconds).
    #[test]
    fn windows_collapsed_onto_one_keyframe_are_read_from_their_own_start() {
        let w = windows(6.0);
        let s = seeks(&w, &[0.0], 6.0);
        assert_eq!(s.len(), 3, "{s:?}");
        assert_eq!(
            s[0],
            Seek {
                start: 0.0,
                length: 0.4,
                accurate: false
            }
        );
        for (seek, (start, _)) in s[1..].iter().zip(&w[1..]) {
            assert!(seek.accurate, "{s:?}");
            assert_eq!(seek.start, *start);
        }
        // Distinct samples, in order.
        assert!(s
            .windows(2)
            .all(|p| p[0].start + p[0].length <= p[1].start + 1e-9));
    }

    /// Collapse that only decoding far ahead could undo (one keyframe in ten minutes, or one
    /// every four minutes): those windows are left out rather than decode minutes of video;
    /// what is kept never overlaps and never decodes more than MAX_LEAD_SECONDS.
    #[test]
    fn a_window_that_needs_a_long_decode_is_left_out() {
        let w = windows(600.0);
        let s = seeks(&w, &[0.0], 600.0);
        assert_eq!(s.len(), 1, "{s:?}");
        assert!(!s[0].accurate && s[0].start == 0.0);
        // Keyframes at 0, 240 and 480 s (windows at 37.25, 112.25 … 562.25 s): 37.25 reads from
        // 0; 112.25 and 187.25 share it, with no later keyframe in their stretch and minutes to
        // decode: left out; 262.25 reads from 240; 337.25 shares it: out; 412.25 has 480 in its
        // stretch (up to 487.25); 487.25 is 7.25 s past 480: decoded to; 562.25: out.
        let s = seeks(&w, &[0.0, 240.0, 480.0], 600.0);
        let starts: Vec<(f64, bool)> = s.iter().map(|s| (s.start, s.accurate)).collect();
        assert_eq!(
            starts,
            [(0.0, false), (240.0, false), (480.0, false), (487.25, true)]
        );
        // A key a few seconds before each of a 30 s clip's collapsed windows.
        let w = windows(30.0);
        let s = seeks(&w, &[0.0, 12.0], 30.0);
        assert_eq!(s.len(), 2, "{s:?}");
        assert_eq!((s[0].start, s[0].accurate), (0.0, false));
        assert_eq!((s[1].start, s[1].accurate), (12.0, false));
        // (The third, at 24.7 s, is 12.7 s past 12, which is sampled already: left out.) One
        // 8 s past it is decoded to.
        let s3 = seeks(&[(4.7, 0.6), (14.7, 0.6), (20.0, 0.6)], &[0.0, 12.0], 21.0);
        assert_eq!(s3.len(), 3);
        assert_eq!((s3[2].start, s3[2].accurate), (20.0, true));
        for keys in [vec![0.0], vec![0.0, 240.0, 480.0], vec![0.0, 7.0, 9.0]] {
            for d in [3.0, 6.0, 20.0, 45.0, 600.0, 3600.0] {
                let w = windows(d);
                let s = seeks(&w, &keys, d);
                assert!(!s.is_empty());
                assert!(s
                    .windows(2)
                    .all(|p| p[0].start + p[0].length <= p[1].start + 1e-3));
                for seek in s.iter().filter(|s| s.accurate) {
                    let key = keys
                        .iter()
                        .filter(|k| **k <= seek.start)
                        .fold(0.0, |a, b| b.max(a));
                    assert!(seek.start - key <= MAX_LEAD_SECONDS, "{d} {keys:?} {s:?}");
                }
            }
        }
    }

    /// A 20 s clip with x264's default GOP (keyframes at 0, 8.33 and 16.67 s): the windows at
    /// 9.8 and 16.47 s share the keyframe at 8.33. The third is read from 16.67 (still in its
    /// stretch, nothing decoded before it) rather than decoding 8 s up to 16.47 (4 CPU s on
    /// the benchmark's 1080p talking clip, more than half the probe).
    #[test]
    fn a_later_keyframe_in_the_stretch_is_cheaper_than_decoding_to_the_start() {
        let w = windows(20.0);
        let keys = [0.0, 250.0 / 30.0, 500.0 / 30.0];
        let s = seeks(&w, &keys, 20.0);
        assert_eq!(s.len(), 3, "{s:?}");
        assert!(s.iter().all(|s| !s.accurate), "{s:?}");
        assert_eq!(s[1].start, 250.0 / 30.0);
        assert_eq!(s[2].start, 500.0 / 30.0);
        // What to ask ffprobe for: each start and the latest start of its stretch.
        let points = key_points(&w, 20.0);
        assert_eq!(points.len(), 6);
        assert!((points[5] - 19.6).abs() < 1e-9, "{points:?}");
        assert!((points[1] - (w[1].0 - 0.4)).abs() < 1e-9, "{points:?}");
        // A later keyframe past the stretch (at 19.8, too late for a 0.4 s window before 20):
        // decoded to instead.
        let s = seeks(&w, &[0.0, 250.0 / 30.0, 19.8], 20.0);
        assert!(s[2].accurate && s[2].start == w[2].0, "{s:?}");
    }

    #[test]
    fn keyframes_from_the_seeks() {
        // One packet per interval; two intervals on the same keyframe; a non-key packet (a
        // demuxer that seeks to any packet) says nothing.
        let csv = "1.066667,K_\n1.066667,K_\n9.4,K__\n12.5,__\n";
        assert_eq!(parse_keys(csv, 1.066667), [0.0, 9.4 - 1.066667]);
        assert!(parse_keys("", 0.0).is_empty());
    }
}
