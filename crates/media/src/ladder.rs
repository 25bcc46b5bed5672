//! Which renditions to encode for a source: a pure function of the probed video and a ladder.

use crate::probe::VideoInfo;
use serde::{Deserialize, Serialize};

/// One configured step of the ladder: a short-side size and its target video bitrate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LadderRung {
    /// The short side in pixels (the "720" of 720p; for portrait sources it is the width).
    pub height: u32,
    /// Target video bitrate in bits per second.
    pub bitrate: u64,
}

const fn rung(height: u32, kbps: u64) -> LadderRung {
    LadderRung {
        height,
        bitrate: kbps * 1000,
    }
}

pub const DEFAULT_LADDER: &[LadderRung] = &[
    rung(2160, 14000),
    rung(1440, 8000),
    rung(1080, 5000),
    rung(720, 2800),
    rung(480, 1400),
    rung(360, 800),
    rung(240, 400),
];

/// A rendition to encode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rung {
    /// Named by its short side: `720p`.
    pub name: String,
    pub width: u32,
    pub height: u32,
    /// bits/s for `-b:v`.
    pub bitrate: u64,
    /// bits/s for `-maxrate` (≈1.07× bitrate).
    pub maxrate: u64,
    /// bits for `-bufsize` (≈1.5× bitrate).
    pub bufsize: u64,
}

/// Capping a rung at the source's bitrate never goes below this: a bogus tiny source bitrate
/// (some containers report nonsense) must not produce an unwatchable encode.
pub const MIN_VIDEO_BITRATE: u64 = 50_000;

/// Plans the renditions for `video` from `ladder`, highest first.
///
/// * Sizes compare the source's short side with each rung, so a 720x1280 portrait source gets a
///   720p rung of 720x1280; the long side keeps the aspect ratio.
/// * Never upscales; all dimensions are even (4:2:0 needs it).
/// * A rung's bitrate is capped at 1.1× the source's own video bitrate when that is known:
///   spending more bits than the source has cannot add quality.
/// * A source smaller than every rung gets one rung at its own (even) size, with the smallest
///   rung's bitrate scaled by pixel count.
pub fn plan(video: &VideoInfo, ladder: &[LadderRung]) -> Vec<Rung> {
    let (w, h) = (video.width, video.height);
    if w == 0 || h == 0 {
        return Vec::new();
    }
    let (short, long) = (w.min(h), w.max(h));
    let portrait = h > w;
    let orient = |s: u32, l: u32| if portrait { (s, l) } else { (l, s) };

    let mut steps: Vec<LadderRung> = ladder.iter().copied().filter(|r| r.height > 0).collect();
    steps.sort_by_key(|r| std::cmp::Reverse(r.height));
    steps.dedup_by_key(|r| r.height);

    let mut out: Vec<Rung> = steps
        .iter()
        .filter(|r| r.height <= short)
        .map(|r| {
            let s = even_down(r.height);
            let l = even_round(long as f64 * s as f64 / short as f64).min(even_down(long));
            let (width, height) = orient(s, l);
            make_rung(width, height, cap(r.bitrate, video.bit_rate))
        })
        .collect();

    if out.is_empty() {
        let smallest = steps
            .last()
            .copied()
            .unwrap_or(DEFAULT_LADDER[DEFAULT_LADDER.len() - 1]);
        let (width, height) = (even_down(w), even_down(h));
        // The smallest rung as it would look at this source's aspect ratio.
        let rung_pixels = smallest.height as f64
            * even_round(long as f64 * smallest.height as f64 / short as f64) as f64;
        let scaled = smallest.bitrate as f64 * (width as f64 * height as f64) / rung_pixels;
        let bitrate = (scaled.round() as u64).max(MIN_VIDEO_BITRATE);
        out.push(make_rung(width, height, cap(bitrate, video.bit_rate)));
    }
    out
}

fn make_rung(width: u32, height: u32, bitrate: u64) -> Rung {
    Rung {
        name: format!("{}p", width.min(height)),
        width,
        height,
        bitrate,
        maxrate: bitrate.saturating_mul(107) / 100,
        bufsize: bitrate.saturating_mul(3) / 2,
    }
}

fn cap(bitrate: u64, source: Option<u64>) -> u64 {
    match source {
        Some(src) if src > 0 => bitrate.min((src.saturating_mul(11) / 10).max(MIN_VIDEO_BITRATE)),
        _ => bitrate,
    }
}

fn even_down(x: u32) -> u32 {
    (x & !1).max(2)
}

fn even_round(x: f64) -> u32 {
    (((x / 2.0).round() as u32) * 2).max(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn video(width: u32, height: u32, bit_rate: Option<u64>) -> VideoInfo {
        VideoInfo {
            index: 0,
            codec: "h264".into(),
            width,
            height,
            rotation: 0,
            fps: 30.0,
            duration: None,
            bit_rate,
            pix_fmt: "yuv420p".into(),
            ..Default::default()
        }
    }

    fn sizes(rungs: &[Rung]) -> Vec<(String, u32, u32)> {
        rungs
            .iter()
            .map(|r| (r.name.clone(), r.width, r.height))
            .collect()
    }

    #[test]
    fn landscape_1080p_gets_1080_and_below() {
        let r = plan(&video(1920, 1080, None), DEFAULT_LADDER);
        assert_eq!(
            sizes(&r),
            vec![
                ("1080p".into(), 1920, 1080),
                ("720p".into(), 1280, 720),
                ("480p".into(), 854, 480),
                ("360p".into(), 640, 360),
                ("240p".into(), 426, 240),
            ]
        );
        assert_eq!(r[0].bitrate, 5_000_000);
        assert_eq!(r[0].maxrate, 5_350_000);
        assert_eq!(r[0].bufsize, 7_500_000);
    }

    #[test]
    fn portrait_compares_the_short_side() {
        let r = plan(&video(720, 1280, None), DEFAULT_LADDER);
        assert_eq!(r[0].name, "720p");
        assert_eq!((r[0].width, r[0].height), (720, 1280));
        assert_eq!((r[1].width, r[1].height), (480, 854));
        assert_eq!(r.len(), 4);
    }

    #[test]
    fn never_upscales_and_dimensions_are_even() {
        for (w, h) in [
            (1921, 1081),
            (853, 480),
            (1000, 562),
            (3840, 2160),
            (333, 250),
        ] {
            for r in plan(&video(w, h, None), DEFAULT_LADDER) {
                assert!(r.width <= w && r.height <= h, "{w}x{h} → {r:?}");
                assert_eq!(r.width % 2, 0, "{r:?}");
                assert_eq!(r.height % 2, 0, "{r:?}");
            }
        }
        assert_eq!(plan(&video(3840, 2160, None), DEFAULT_LADDER).len(), 7);
        let odd = plan(&video(853, 480, None), DEFAULT_LADDER);
        assert_eq!((odd[0].width, odd[0].height), (852, 480));
    }

    #[test]
    fn bitrate_is_capped_near_the_source() {
        let r = plan(&video(1920, 1080, Some(2_000_000)), DEFAULT_LADDER);
        assert_eq!(r[0].bitrate, 2_200_000);
        assert_eq!(r[1].bitrate, 2_200_000);
        assert_eq!(r[2].bitrate, 1_400_000);
        assert_eq!(r[0].maxrate, 2_354_000);
        // A nonsense source bitrate does not starve the encode.
        let r = plan(&video(1920, 1080, Some(10)), DEFAULT_LADDER);
        assert!(r.iter().all(|r| r.bitrate == MIN_VIDEO_BITRATE));
    }

    #[test]
    fn tiny_source_gets_one_rung_at_its_own_size() {
        let r = plan(&video(160, 120, None), DEFAULT_LADDER);
        assert_eq!(sizes(&r), vec![("120p".into(), 160, 120)]);
        // 160x120 is a quarter of 240p at 4:3 (320x240): a quarter of 400k.
        assert_eq!(r[0].bitrate, 100_000);
        assert_eq!(r[0].maxrate, 107_000);
        assert_eq!(r[0].bufsize, 150_000);
        let r = plan(&video(101, 75, None), DEFAULT_LADDER);
        assert_eq!(sizes(&r), vec![("74p".into(), 100, 74)]);
        assert_eq!(r[0].bitrate, MIN_VIDEO_BITRATE);
        let r = plan(&video(120, 200, Some(60_000)), DEFAULT_LADDER);
        assert_eq!(sizes(&r), vec![("120p".into(), 120, 200)]);
        assert_eq!(r[0].bitrate, 66_000);
    }

    #[test]
    fn custom_ladders_are_sorted_and_deduplicated() {
        let ladder = [rung(360, 700), rung(720, 2500), rung(360, 900)];
        let r = plan(&video(1280, 720, None), &ladder);
        assert_eq!(
            sizes(&r),
            vec![("720p".into(), 1280, 720), ("360p".into(), 640, 360)]
        );
        assert!(plan(&video(0, 0, None), DEFAULT_LADDER).is_empty());
        // Empty ladder: still one rung, from the default's smallest.
        assert_eq!(plan(&video(640, 360, None), &[]).len(), 1);
    }
}
