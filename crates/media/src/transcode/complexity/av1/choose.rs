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
}
