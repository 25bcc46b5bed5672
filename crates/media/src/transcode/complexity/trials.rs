//! What the trial encoders report and how a rung's CRF is decided from it. Each x264 logs,
//! at debug level, one line per frame with its luma SSIM (`frame= 12 QP=… Slice:B Poc:8 …
//! SSIM Y:0.98765`), and its summary (`SSIM Mean Y:…`, frame counts) when closed; the lines of
//! each encoder carry its address (`[libx264 @ 0x55…]`), and the summaries come in the order of
//! the outputs. The frames are put back in display order and cut into the windows they came
//! from, and the rung is decided on its worst window ([`deciding_ssim`]): a hard part under one
//! window is not diluted by easy ones.

use std::collections::HashMap;

/// One trial encoder's report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trial {
    /// x264's summary: the mean luma SSIM over every frame it encoded.
    pub mean: f64,
    /// Frames encoded, from the summary.
    pub frames: usize,
    /// Each frame's luma SSIM in display order; empty when the per-frame lines are not all
    /// there (a log cut short).
    pub per_frame: Vec<f64>,
}

impl Trial {
    /// The mean luma SSIM of each window, for windows of `expected` frames each (in the order
    /// they were concatenated) at the rate the windows were cut at; a rung at another rate (half
    /// of it on small rungs) has its frames shared out in proportion. Windows that got no frame
    /// are left out; empty when there are no per-frame figures.
    pub fn windows(&self, expected: &[usize]) -> Vec<f64> {
        let total: usize = expected.iter().sum();
        let n = self.per_frame.len();
        if n == 0 || total == 0 {
            return Vec::new();
        }
        let mut sums = vec![(0.0, 0usize); expected.len()];
        let ends: Vec<usize> = expected
            .iter()
            .scan(0, |t, e| {
                *t += e;
                Some(*t)
            })
            .collect();
        for (d, ssim) in self.per_frame.iter().enumerate() {
            // The frame's place on the windows' scale: its middle, in windows' frames.
            let at = (2 * d + 1) as f64 * total as f64 / (2 * n) as f64;
            let k = ends
                .iter()
                .position(|&e| at < e as f64)
                .unwrap_or(ends.len() - 1);
            sums[k].0 += ssim;
            sums[k].1 += 1;
        }
        sums.iter()
            .filter(|(_, count)| *count > 0)
            .map(|(sum, count)| sum / *count as f64)
            .collect()
    }

    /// The SSIM that decides the rung ([`deciding_ssim`] of its windows), or the summary's mean
    /// when the per-frame figures are missing.
    pub fn deciding(&self, expected: &[usize]) -> f64 {
        deciding_ssim(&self.windows(expected)).unwrap_or(self.mean)
    }
}

/// The SSIM a rung's CRF is chosen from, given each window's: the worst. The mean let a hard
/// stretch under one window of three be outvoted by easy ones (the benchmark's `midway` clip:
/// its small rungs got CRF 23 and 25 where its hard half asks 18); a low percentile is the
/// worst one with 3–8 windows. `None` for no windows.
pub fn deciding_ssim(windows: &[f64]) -> Option<f64> {
    windows
        .iter()
        .copied()
        .filter(|s| s.is_finite())
        .fold(None, |worst, s| Some(worst.map_or(s, |w: f64| w.min(s))))
}

/// Each encoder's report, in output order, when there are exactly `n` summaries.
pub fn trials_of(stderr: &str, n: usize) -> Option<Vec<Trial>> {
    #[derive(Default)]
    struct Log {
        coded: usize,
        idr: usize,
        frames: Vec<(usize, f64)>,
        counted: usize,
        broken: bool,
    }
    let mut logs: HashMap<&str, Log> = HashMap::new();
    let mut order: Vec<(&str, f64)> = Vec::with_capacity(n);
    for line in stderr.lines() {
        let Some(at) = line.find("[libx264 @ ") else {
            continue;
        };
        let tagged = &line[at + "[libx264 @ ".len()..];
        let Some((addr, rest)) = tagged.split_once(']') else {
            continue;
        };
        let rest = rest.trim_start();
        if let Some(mean) = rest.strip_prefix("SSIM Mean Y:") {
            let mean = number(mean).filter(|m| (0.0..=1.0).contains(m))?;
            order.push((addr, mean));
        } else if let Some(frame) = rest.strip_prefix("frame=") {
            let log = logs.entry(addr).or_default();
            let slice = field(frame, "Slice:").and_then(|s| s.chars().next());
            let poc = field(frame, "Poc:").and_then(|p| p.parse::<usize>().ok());
            let ssim = field(frame, "SSIM Y:").and_then(number);
            match (slice, poc, ssim) {
                (Some(slice), Some(poc), Some(ssim)) => {
                    // x264 numbers pictures from the last IDR (2 per frame), which every frame
                    // shown before it was coded before.
                    if slice == 'I' && poc == 0 {
                        log.idr = log.coded;
                    }
                    log.frames.push((log.idr + poc / 2, ssim));
                }
                _ => log.broken = true,
            }
            log.coded += 1;
        } else if let Some(count) = ["frame I:", "frame P:", "frame B:"]
            .iter()
            .find_map(|p| rest.strip_prefix(p))
        {
            let count = count.split_whitespace().next()?.parse::<usize>().ok()?;
            logs.entry(addr).or_default().counted += count;
        }
    }
    if order.len() != n {
        return None;
    }
    Some(
        order
            .into_iter()
            .map(|(addr, mean)| {
                let log = logs.remove(addr).unwrap_or_default();
                let mut frames = log.frames;
                frames.sort_by_key(|f| f.0);
                let complete = !log.broken
                    && frames.len() == log.counted
                    && frames.iter().enumerate().all(|(i, f)| f.0 == i);
                Trial {
                    mean,
                    frames: log.counted,
                    per_frame: if complete {
                        frames.into_iter().map(|f| f.1).collect()
                    } else {
                        Vec::new()
                    },
                }
            })
            .collect(),
    )
}

/// The word after `key` in a line of x264's `key:value` fields.
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let at = line.find(key)? + key.len();
    line[at..].split_whitespace().next()
}

/// The leading number of `text` (`0.9876543 (19.082db)` → 0.9876543); `None` for `nan`.
fn number(text: &str) -> Option<f64> {
    let value: String = text
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    value.parse().ok().filter(|s: &f64| s.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hard window among easy ones decides: one window of three at 0.95, two at 0.999 — the
    /// mean (0.983) would have the rung at CRF 26 where the hard window needs the lowest.
    #[test]
    fn the_worst_window_decides() {
        assert_eq!(deciding_ssim(&[0.999, 0.80, 0.999]), Some(0.80));
        assert_eq!(deciding_ssim(&[0.99]), Some(0.99));
        assert_eq!(deciding_ssim(&[]), None);
        assert_eq!(deciding_ssim(&[f64::NAN, 0.97]), Some(0.97));
        use super::super::{choose_crf, MIN_CRF, PROBE_CRF};
        let windows = [0.999, 0.999, 0.95];
        let mean = windows.iter().sum::<f64>() / 3.0;
        assert_eq!(choose_crf(mean), 26, "the mean hides it");
        assert_eq!(choose_crf(deciding_ssim(&windows).unwrap()), MIN_CRF);
        // Easy everywhere: the probe's CRF, as before.
        assert_eq!(
            choose_crf(deciding_ssim(&[0.995, 0.999, 0.99]).unwrap()),
            PROBE_CRF
        );
    }

    #[test]
    fn frames_are_cut_into_their_windows() {
        // Three windows of 4 frames; the last is hard.
        let t = Trial {
            mean: 0.0,
            frames: 12,
            per_frame: [[0.99; 4], [0.98; 4], [0.5; 4]].concat(),
        };
        let w = t.windows(&[4, 4, 4]);
        assert_eq!(w.len(), 3);
        assert!((w[0] - 0.99).abs() < 1e-12 && (w[1] - 0.98).abs() < 1e-12);
        assert!((w[2] - 0.5).abs() < 1e-12);
        assert_eq!(t.deciding(&[4, 4, 4]), 0.5);
        // A half-rate rung: 6 frames for the same 12.
        let half = Trial {
            per_frame: vec![0.99, 0.99, 0.98, 0.98, 0.5, 0.5],
            ..t.clone()
        };
        let w = half.windows(&[4, 4, 4]);
        assert!(
            (w[0] - 0.99).abs() < 1e-12 && (w[2] - 0.5).abs() < 1e-12,
            "{w:?}"
        );
        // Unequal windows.
        let t = Trial {
            per_frame: vec![0.9, 0.9, 0.7, 0.7, 0.7],
            ..Default::default()
        };
        let w = t.windows(&[2, 3]);
        assert!(
            (w[0] - 0.9).abs() < 1e-12 && (w[1] - 0.7).abs() < 1e-12,
            "{w:?}"
        );
        // No per-frame figures: the summary's mean.
        let t = Trial {
            mean: 0.97,
            frames: 12,
            per_frame: Vec::new(),
        };
        assert!(t.windows(&[4, 4, 4]).is_empty());
        assert_eq!(t.deciding(&[4, 4, 4]), 0.97);
    }

    /// Two encoders' lines interleaved as ffmpeg logs them at debug level (coding order: P
    /// before the B frames it anchors), summaries in output order.
    #[test]
    fn reads_each_encoders_frames_in_display_order() {
        let log = "\
[h264 @ 0x1] nal_unit_type: 5(IDR), nal_ref_idc: 3
[libx264 @ 0xb] frame=   0 QP=20.00 NAL=3 Slice:I Poc:0   I:240  P:0    SKIP:0    size=3310 bytes SSIM Y:0.90000
[libx264 @ 0xa] frame=   0 QP=21.15 NAL=3 Slice:I Poc:0   I:240  P:0    SKIP:0    size=3310 bytes SSIM Y:0.99000
[libx264 @ 0xa] frame=   1 QP=25.99 NAL=2 Slice:P Poc:4   I:33   P:55   SKIP:152  size=983 bytes SSIM Y:0.97000
[libx264 @ 0xa] frame=   2 QP=33.84 NAL=2 Slice:B Poc:2   I:4    P:64   SKIP:172  size=423 bytes SSIM Y:0.98000
[libx264 @ 0xa] frame=   3 QP=21.00 NAL=3 Slice:I Poc:0   I:240  P:0    SKIP:0    size=3310 bytes SSIM Y:0.50000
[libx264 @ 0xb] frame=   1 QP=20.00 NAL=3 Slice:P Poc:2   I:240  P:0    SKIP:0    size=3310 bytes SSIM Y:0.80000
[libx264 @ 0xa] frame I:2     Avg QP:21.08  size:  3310
[libx264 @ 0xa] frame P:1     Avg QP:25.99  size:   983
[libx264 @ 0xa] frame B:1     Avg QP:33.84  size:   423
[libx264 @ 0xa] SSIM Mean Y:0.8600000 ( 8.539db)
[libx264 @ 0xa] kb/s:1204.73
[libx264 @ 0xb] frame I:1     Avg QP:20.00  size:  3310
[libx264 @ 0xb] frame P:1     Avg QP:20.00  size:  3310
[libx264 @ 0xb] SSIM Mean Y:0.8500000 ( 8.239db)
";
        let t = trials_of(log, 2).unwrap();
        assert_eq!(t[0].mean, 0.86);
        assert_eq!(t[0].frames, 4);
        // Display order: I(0), B(poc 2), P(poc 4), then the second IDR.
        assert_eq!(t[0].per_frame, [0.99, 0.98, 0.97, 0.5]);
        assert_eq!(t[1].per_frame, [0.9, 0.8]);
        assert_eq!(t[0].deciding(&[3, 1]), 0.5);
        // Not the number of encoders asked about: no guess.
        assert_eq!(trials_of(log, 3), None);
        // A log whose first frames were cut off: the summary's mean only.
        let cut: String = log.lines().skip(3).map(|l| format!("{l}\n")).collect();
        let t = trials_of(&cut, 2).unwrap();
        assert!(t[0].per_frame.is_empty() && t[1].per_frame.is_empty());
        assert_eq!(t[0].deciding(&[3, 1]), 0.86);
    }

    #[test]
    fn reads_x264s_summary() {
        let tail = "[libx264 @ 0x5] kb/s:1.0\n[libx264 @ 0x55b5] SSIM Mean Y:0.8085228 ( 7.179db)\n[libx264 @ 0x55b5] kb/s:1204.73\n";
        assert_eq!(trials_of(tail, 1).unwrap()[0].mean, 0.8085228);
        assert_eq!(trials_of("Conversion failed!", 1), None);
        assert_eq!(trials_of("[libx264 @ 0x1] SSIM Mean Y:nan", 1), None);
        let two = format!("{tail}[libx264 @ 0x66] SSIM Mean Y:0.9912345 (20.5db)\n");
        let means: Vec<f64> = trials_of(&two, 2).unwrap().iter().map(|t| t.mean).collect();
        assert_eq!(means, [0.8085228, 0.9912345]);
        // A summary missing (an encoder that failed, a tail too short): no guess.
        assert_eq!(trials_of(&two, 3), None);
        assert_eq!(trials_of(tail, 2), None);
    }
}
