//! Which AV1 CRF a rung's trials decide (pure): the candidates tried, whether the trials are to
//! be trusted, and the highest CRF keeping H.264's SSIM.

/// SVT-AV1's highest CRF, and the highest a rung is tried at.
pub const MAX_CRF: u32 = 63;
/// How much SSIM an AV1 trial must keep above the H.264 trial's on the same windows: the
/// windows are a sample (a few seconds at most), and the whole video's difference between the
/// codecs can be smaller than the sample's (BENCHMARKS.md: measured on the benchmark's set).
/// Measured on the benchmark's set: where no cap binds, the trials' difference between the
/// codecs at the chosen CRF was within −0.0010…+0.0012 of the whole clip's.
pub const MARGIN: f64 = 0.0015;
/// A trial is not trusted where H.264's trial encode spent this share of its cap or more.
pub const TRUSTED_CAP_SHARE: f64 = 0.5;
/// AV1 is published only where its trials say it saves at least this share of H.264's bytes
/// (issue 14's goal for AV1): below it, the AV1 rungs would cost encode time and storage
/// beside H.264's for little egress saved, and every player that decodes AV1 would take the
/// AV1 rungs. On near-static content SVT-AV1 spends more than x264 at H.264's SSIM on every
/// rung (BENCHMARKS.md, "AV1 against H.264": the slides).
pub const MIN_SAVING: f64 = 0.30;

/// The CRFs an AV1 rung is tried at, lowest first: `base` (the fixed offset's, what the rung
/// gets without trials), [`MAX_CRF`], and half-way between them.
pub fn candidates(base: u32) -> Vec<u32> {
    let base = base.min(MAX_CRF);
    let mut c = vec![base, (base + MAX_CRF).div_ceil(2), MAX_CRF];
    c.dedup();
    c
}

/// The CRF for an AV1 rung from its trials, or `None` (the fixed offset's) where they are not
/// to be trusted: H.264's trial at [`TRUSTED_CAP_SHARE`] of its cap or more, or AV1's SSIM not
/// falling as its CRF rises (both the marks of a binding cap); else [`choose_av1_crf`] with
/// [`MARGIN`].
pub fn decide(t: &RungTrial) -> Option<u32> {
    let mut av1 = t.av1.clone();
    av1.sort_by_key(|(crf, _)| *crf);
    let falling = av1.windows(2).all(|w| w[1].1 <= w[0].1);
    let share = t.h264_cap_share;
    if share.is_nan() || share >= TRUSTED_CAP_SHARE || !falling {
        return None;
    }
    choose_av1_crf(&t.av1, t.h264, MARGIN)
}

/// Bits per second over `cap` of `bytes` holding `frames` frames at `fps`; infinite (not to
/// be trusted) when any of them is unknown.
pub(super) fn cap_share(bytes: u64, frames: usize, fps: f64, cap: u64) -> f64 {
    if frames == 0 || fps.is_nan() || fps <= 0.0 || cap == 0 {
        return f64::INFINITY;
    }
    bytes as f64 * 8.0 * fps / frames as f64 / cap as f64
}

/// The CRF for an AV1 rung from its trials (`(CRF, SSIM)`), against the H.264 rung's SSIM
/// `h264` on the same frames: the highest CRF whose SSIM stays ≥ `h264` + `margin`, every
/// lower CRF tried included (a higher CRF that passes again after a failing one is not
/// trusted); between a trial that passes and the next one up, which fails, the CRF where the
/// line between them (SSIM in dB: −10·log10(1 − SSIM), about linear in the CRF) crosses the
/// target, rounded down. Where even the lowest trial falls short, the lowest: no trial makes
/// a rung spend more than the fixed offset would. `None` without a usable trial.
pub fn choose_av1_crf(trials: &[(u32, f64)], h264: f64, margin: f64) -> Option<u32> {
    let mut t: Vec<(u32, f64)> = trials
        .iter()
        .copied()
        .filter(|(_, s)| s.is_finite())
        .collect();
    t.sort_by_key(|(crf, _)| *crf);
    let target = h264 + margin;
    let &first = t.first()?;
    if first.1 < target {
        return Some(first.0);
    }
    let mut best = first;
    for &next in &t[1..] {
        if next.1 >= target {
            best = next;
            continue;
        }
        let (at_best, at_next, wanted) = (db(best.1), db(next.1), db(target));
        if at_best <= at_next {
            return Some(best.0);
        }
        let share = ((at_best - wanted) / (at_best - at_next)).clamp(0.0, 1.0);
        let crf = best.0 as f64 + share * (next.0 - best.0) as f64;
        return Some((crf.floor() as u32).clamp(best.0, next.0));
    }
    Some(best.0)
}

/// SSIM in dB.
fn db(ssim: f64) -> f64 {
    -10.0 * (1.0 - ssim.clamp(0.0, 0.999_999)).log10()
}

/// What the trials of one rung measured.
#[derive(Debug, Clone, PartialEq)]
pub struct RungTrial {
    /// Index into the rungs.
    pub rung: usize,
    /// The H.264 rung's SSIM at its own rate control.
    pub h264: f64,
    /// H.264's trial bitrate over its cap.
    pub h264_cap_share: f64,
    /// Each AV1 trial's (CRF, SSIM).
    pub av1: Vec<(u32, f64)>,
    /// The H.264 trial's bytes.
    pub h264_bytes: TrialBytes,
    /// Each AV1 trial's (CRF, bytes).
    pub av1_bytes: Vec<(u32, TrialBytes)>,
}

/// A trial encode's bytes by frame kind. The trials put a keyframe at the start of every
/// window (a fraction of a second), the real encode one every few seconds; and the codecs
/// differ most in their keyframes (on a held slide SVT-AV1's is three times x264's, which
/// refines the picture over the next frames instead) — so the bytes are compared as the real
/// encode's keyframe interval would weigh them ([`TrialBytes::per_frame`]).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TrialBytes {
    /// Bytes and count of the keyframes.
    pub key: u64,
    pub keys: u32,
    /// Bytes and count of the other frames.
    pub inter: u64,
    pub inters: u32,
}

impl TrialBytes {
    /// The mean bytes a frame in an encode with a keyframe every `gop` frames; `None` without
    /// a keyframe (nothing measured).
    pub fn per_frame(&self, gop: u64) -> Option<f64> {
        if self.keys == 0 {
            return None;
        }
        let key = self.key as f64 / self.keys as f64;
        if self.inters == 0 || gop <= 1 {
            return Some(key);
        }
        let inter = self.inter as f64 / self.inters as f64;
        let g = gop as f64;
        Some((key + inter * (g - 1.0)) / g)
    }
}

/// AV1's predicted bytes a frame at `crf` from the trials `sizes` (`(CRF, bytes)`) in an
/// encode with a keyframe every `gop` frames: a tried CRF's own, between two tried CRFs the
/// geometric interpolation (an encoder's bytes fall about exponentially with its CRF), outside
/// them the nearest. `None` without a usable trial.
pub fn predicted_per_frame(sizes: &[(u32, TrialBytes)], crf: u32, gop: u64) -> Option<f64> {
    let mut t: Vec<(u32, f64)> = sizes
        .iter()
        .filter_map(|(c, b)| Some((*c, b.per_frame(gop)?)))
        .filter(|(_, b)| *b > 0.0)
        .collect();
    t.sort_by_key(|(c, _)| *c);
    let &(lo_crf, lo) = t.first()?;
    if crf <= lo_crf {
        return Some(lo);
    }
    if let Some(&(_, exact)) = t.iter().find(|(c, _)| *c == crf) {
        return Some(exact);
    }
    for w in t.windows(2) {
        let ((a, ab), (b, bb)) = (w[0], w[1]);
        if crf <= b {
            let share = (crf - a) as f64 / (b - a) as f64;
            return Some((ab.ln() + share * (bb.ln() - ab.ln())).exp());
        }
    }
    t.last().map(|&(_, b)| b)
}

/// One rung's part in [`bytes_ratio`]: its trials, the CRF chosen for it, the real encode's
/// keyframe interval in its frames, and its frame rate.
pub struct RungBytes<'a> {
    pub trial: &'a RungTrial,
    pub crf: u32,
    pub gop: u64,
    pub fps: f64,
}

/// AV1's predicted bytes over H.264's, summed over `rungs` (each at its chosen CRF, weighed by
/// its frame rate); `None` when a rung's sizes are missing.
pub fn bytes_ratio(rungs: &[RungBytes<'_>]) -> Option<f64> {
    let (mut av1, mut h264) = (0.0, 0.0);
    for r in rungs {
        av1 += predicted_per_frame(&r.trial.av1_bytes, r.crf, r.gop)? * r.fps;
        h264 += r.trial.h264_bytes.per_frame(r.gop)? * r.fps;
    }
    (h264 > 0.0).then(|| av1 / h264)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_span_the_offset_to_the_top() {
        assert_eq!(candidates(44), [44, 54, 63]);
        assert_eq!(candidates(49), [49, 56, 63]);
        assert_eq!(candidates(62), [62, 63]);
        assert_eq!(candidates(63), [63]);
        assert_eq!(candidates(70), [63]);
    }

    #[test]
    fn the_highest_crf_that_keeps_h264s_ssim() {
        let m = 0.001;
        // Every trial above H.264's SSIM (a slide deck): the highest.
        assert_eq!(
            choose_av1_crf(&[(44, 0.999), (54, 0.998), (63, 0.997)], 0.99, m),
            Some(63)
        );
        // None above it, not even the offset's: the offset's, never lower.
        assert_eq!(
            choose_av1_crf(&[(44, 0.95), (54, 0.94), (63, 0.90)], 0.97, m),
            Some(44)
        );
        // Within the margin is not enough.
        assert_eq!(
            choose_av1_crf(&[(44, 0.9705), (54, 0.96), (63, 0.90)], 0.97, m),
            Some(44)
        );
        // Between two trials: where the line in dB crosses the target. 0.99 is 20 dB, 0.98
        // 16.99 dB, the target 0.985 + 0.001 18.54 dB: 48.5 % of the way from 44 to 54.
        assert_eq!(
            choose_av1_crf(&[(44, 0.99), (54, 0.98), (63, 0.95)], 0.985, m),
            Some(48)
        );
        // Just under a trial's SSIM: that trial (and a little of the way on).
        assert_eq!(
            choose_av1_crf(&[(44, 0.99), (54, 0.98), (63, 0.95)], 0.978, m),
            Some(54)
        );
        // Between the upper two.
        let c = choose_av1_crf(&[(44, 0.995), (54, 0.99), (63, 0.95)], 0.97, m).unwrap();
        assert!((55..63).contains(&c), "{c}");
        // Order of the trials does not matter; a NaN is no trial.
        assert_eq!(
            choose_av1_crf(&[(63, 0.95), (44, 0.99), (54, 0.98)], 0.985, m),
            Some(48)
        );
        assert_eq!(
            choose_av1_crf(&[(44, 0.99), (54, f64::NAN)], 0.9, m),
            Some(44)
        );
        // A higher CRF that passes again after a failing one is not believed (the line from
        // 0.99 to 0.96, 13.98 dB, crosses 18.54 dB 24 % of the way; `decide` trusts none).
        assert_eq!(
            choose_av1_crf(&[(44, 0.99), (54, 0.96), (63, 0.99)], 0.985, m),
            Some(46)
        );
        assert_eq!(choose_av1_crf(&[], 0.9, m), None);
        // Monotonic: a better H.264 never gets AV1 a higher CRF.
        let trials = [(46, 0.9900), (55, 0.9850), (63, 0.9700)];
        let crfs: Vec<u32> = (0..60)
            .map(|k| choose_av1_crf(&trials, 0.96 + k as f64 * 0.0005, m).unwrap())
            .collect();
        assert!(crfs.windows(2).all(|w| w[0] >= w[1]), "{crfs:?}");
        assert_eq!((crfs[0], crfs[59]), (63, 46));
    }

    /// Trials under a binding cap are not trusted: the fixed offset's CRF stays.
    #[test]
    fn trials_under_a_binding_cap_decide_nothing() {
        let t = RungTrial {
            rung: 0,
            h264: 0.98,
            h264_cap_share: 0.2,
            av1: vec![(44, 0.99), (54, 0.985), (63, 0.95)],
            h264_bytes: TrialBytes::default(),
            av1_bytes: Vec::new(),
        };
        assert_eq!(decide(&t), choose_av1_crf(&t.av1, t.h264, MARGIN));
        assert!(decide(&t).unwrap() > 44);
        // H.264's trial at half its cap or more.
        let capped = RungTrial {
            h264_cap_share: 0.5,
            ..t.clone()
        };
        assert_eq!(decide(&capped), None);
        let unknown = RungTrial {
            h264_cap_share: f64::NAN,
            ..t.clone()
        };
        assert_eq!(decide(&unknown), None);
        // AV1's SSIM rising with the CRF (the fast pan's 1080p: 0.693 at 46, 0.713 at 55).
        let rising = RungTrial {
            av1: vec![(46, 0.6930), (55, 0.7126), (63, 0.5695)],
            ..t
        };
        assert_eq!(decide(&rising), None);
        // The share: 15 kB of 12 frames at 30 fps is 300 kbit/s, 0.6 of a 500 kbit/s cap.
        assert!((cap_share(15_000, 12, 30.0, 500_000) - 0.6).abs() < 1e-9);
        assert_eq!(cap_share(15_000, 0, 30.0, 500_000), f64::INFINITY);
        assert_eq!(cap_share(15_000, 12, 0.0, 500_000), f64::INFINITY);
    }

    fn bytes(key: u64, keys: u32, inter: u64, inters: u32) -> TrialBytes {
        TrialBytes {
            key,
            keys,
            inter,
            inters,
        }
    }

    /// Keyframes weigh as often as the real encode has them, not as the trials' windows do.
    #[test]
    fn bytes_are_weighed_by_the_real_keyframe_interval() {
        // Two 12-frame windows: 2 keyframes of 9 kB, 22 frames of 100 bytes.
        let b = bytes(18_000, 2, 2_200, 22);
        assert_eq!(b.per_frame(1), Some(9_000.0));
        assert_eq!(b.per_frame(12), Some((9_000.0 + 1_100.0) / 12.0));
        assert_eq!(b.per_frame(60), Some((9_000.0 + 5_900.0) / 60.0));
        assert_eq!(bytes(18_000, 2, 0, 0).per_frame(60), Some(9_000.0));
        assert_eq!(TrialBytes::default().per_frame(60), None);
    }

    #[test]
    fn bytes_between_trials_are_interpolated_geometrically() {
        let sizes = [
            (63, bytes(1_000, 1, 0, 0)),
            (44, bytes(4_000, 1, 0, 0)),
            (54, bytes(2_000, 1, 0, 0)),
        ];
        assert_eq!(predicted_per_frame(&sizes, 44, 60), Some(4_000.0));
        assert_eq!(predicted_per_frame(&sizes, 40, 60), Some(4_000.0));
        assert_eq!(predicted_per_frame(&sizes, 63, 60), Some(1_000.0));
        let mid = predicted_per_frame(&sizes, 49, 60).unwrap();
        assert!((mid - 2_000f64 * 2f64.sqrt()).abs() < 1e-6, "{mid}");
        assert!(predicted_per_frame(&sizes, 58, 60).unwrap() < 2_000.0);
        assert_eq!(predicted_per_frame(&[], 50, 60), None);
    }

    #[test]
    fn the_ratio_sums_every_rungs_bitrate() {
        let trial = |h264: u64, av1: u64| RungTrial {
            rung: 0,
            h264: 0.99,
            h264_cap_share: 0.1,
            av1: vec![(50, 0.995), (63, 0.992)],
            h264_bytes: bytes(h264, 1, 0, 0),
            av1_bytes: vec![(50, bytes(av1 * 2, 1, 0, 0)), (63, bytes(av1, 1, 0, 0))],
        };
        let (big, small) = (trial(10_000, 5_000), trial(1_000, 2_000));
        let rung = |trial, fps| RungBytes {
            trial,
            crf: 63,
            gop: 60,
            fps,
        };
        // (5000 + 2000) / (10000 + 1000)
        let r = bytes_ratio(&[rung(&big, 30.0), rung(&small, 30.0)]).unwrap();
        assert!((r - 7.0 / 11.0).abs() < 1e-9, "{r}");
        // A rung at half the rate weighs half.
        let r = bytes_ratio(&[rung(&big, 30.0), rung(&small, 15.0)]).unwrap();
        assert!((r - 6.0 / 10.5).abs() < 1e-9, "{r}");
        let unmeasured = RungTrial {
            h264_bytes: TrialBytes::default(),
            ..big.clone()
        };
        assert_eq!(bytes_ratio(&[rung(&unmeasured, 30.0)]), None);
    }
}
