//! Which stretches of a rendition are compared ([`plan_windows`]), and the source's keyframes
//! they are placed after ([`keyframes`], from ffprobe's packet index).

use crate::error::Result;
use crate::probe::{file_url, VideoInfo};
use crate::process::{self, Budget};
use std::ffi::OsString;
use std::path::Path;

use super::{
    MAX_SAMPLE_SECONDS, MAX_WINDOWS, MAX_WINDOW_SECONDS, MIN_SAMPLE_SECONDS, SAMPLE_FRACTION,
};

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
pub(super) async fn source_keyframes(
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
}
