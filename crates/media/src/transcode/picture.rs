//! What the picture needs before the ladder's scalers, done once on the single decode ahead of
//! the `split`: flattening an alpha channel, deinterlacing, a constant frame rate, tone-mapping
//! HDR to SDR BT.709.
//!
//! An ordinary SDR progressive source gets only the `fps` filter (a timestamp step, no pixel
//! work) and no extra ffmpeg run; the `idet` sample runs only for a stream whose header does not
//! say whether it is interlaced.

use super::video::Args;
use crate::error::Result;
use crate::probe::{file_url, Hdr, VideoInfo};
use crate::process::{self, Budget};
use std::path::Path;

/// Which field comes first, for the deinterlacer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Fields {
    /// The decoded frames say (the stream header gave a field order).
    Flagged,
    /// Found by `idet`, in a stream whose frames say nothing (they would read as bottom first).
    TopFirst,
    BottomFirst,
}

/// Above this the rate is divided down (an integer step, so frames are dropped evenly).
pub const MAX_FPS: f64 = 60.0;
/// Rungs whose short side is at most this play a rate above [`HALVE_ABOVE`] at half of it
/// (60 → 30, 50 → 25, 59.94 → 29.97), as YouTube serves its 144p–480p: at the same bitrate each
/// frame gets twice the bits (SSIM 0.965 → 0.978 at 480p) and the rung costs ~20 % less CPU
/// (BENCHMARKS.md). Every kept frame is one of the full-rate frames, so the keyframes forced by
/// time fall on the same instants in every rung.
pub const HALF_RATE_MAX_SHORT_SIDE: u32 = 480;
/// Rates above this (fps) are halved on the small rungs.
pub const HALVE_ABOVE: f64 = 31.0;
/// How much of a stream of unknown field order `idet` looks at.
const IDET_FRAMES: u32 = 120;

/// The filters (and output tags) that make the decoded picture progressive, CFR and SDR.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Picture {
    /// Interlaced source: `bwdif`, one frame per frame (25i → 25p, 30i → 30p), so the rate
    /// stays the source's and the ladder's bitrates still fit.
    pub deinterlace: Option<Fields>,
    /// The constant output rate `(num, den)`; `None` when the source says nothing usable
    /// (then its timestamps are kept as they are).
    pub rate: Option<(u32, u32)>,
    /// Tone-mapped to SDR BT.709 from this transfer.
    pub hdr: Option<Hdr>,
    /// The source has an alpha channel (ProRes 4444, QuickTime Animation, PNG in MOV): it is
    /// composited over black, as players and editors show it, instead of dropped, which would
    /// reveal whatever colour an encoder left under transparent pixels.
    pub alpha: bool,
}

impl Picture {
    /// Decides everything from the probe, and for a stream that does not say whether it is
    /// interlaced, from an `idet` look at its first frames.
    pub async fn plan(input: &Path, v: &VideoInfo, budget: &Budget) -> Result<Picture> {
        let deinterlace = match v.interlaced() {
            Some(true) => Some(Fields::Flagged),
            Some(false) => None,
            None => idet_sample(input, v, budget).await?,
        };
        Ok(Picture::from_probe(v, deinterlace))
    }

    pub fn from_probe(v: &VideoInfo, deinterlace: Option<Fields>) -> Picture {
        Picture {
            deinterlace,
            rate: output_rate(v),
            hdr: v.hdr(),
            alpha: has_alpha(&v.pix_fmt) || v.decoder().is_some(),
        }
    }

    /// Frames per second of the output (the probed average when the rate is left alone).
    pub fn fps(&self, v: &VideoInfo) -> f64 {
        match self.rate {
            Some((n, d)) => n as f64 / d as f64,
            None => v.fps,
        }
    }

    /// The constant rate of a rung whose short side is `short_side` pixels: the picture's, or
    /// half of it on a small rung (see [`HALF_RATE_MAX_SHORT_SIDE`]). `None` as for `rate`.
    pub fn rung_rate(&self, short_side: u32) -> Option<(u32, u32)> {
        let (n, d) = self.rate?;
        if short_side <= HALF_RATE_MAX_SHORT_SIDE && n as f64 / d as f64 > HALVE_ABOVE {
            Some(reduce(n, d.saturating_mul(2)))
        } else {
            Some((n, d))
        }
    }

    /// Frames per second of a rung (see [`Picture::rung_rate`]).
    pub fn rung_fps(&self, v: &VideoInfo, short_side: u32) -> f64 {
        match self.rung_rate(short_side) {
            Some((n, d)) => n as f64 / d as f64,
            None => self.fps(v),
        }
    }

    /// The filter (with a trailing comma) a rung of `short_side` needs after the split to get
    /// its own rate; empty when it keeps the picture's.
    pub fn rung_filter(&self, short_side: u32) -> String {
        match (self.rung_rate(short_side), self.rate) {
            (Some(r), Some(full)) if r != full => format!("fps={}/{},", r.0, r.1),
            _ => String::new(),
        }
    }

    /// The filter chain (comma-separated, possibly empty) for the decoded video.
    pub fn chain(&self, v: &VideoInfo) -> String {
        let (timing, tone_map) = (self.chain_to_rate(), self.tone_map(v));
        [timing, tone_map]
            .into_iter()
            .filter(|f| !f.is_empty())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The part of [`Picture::chain`] that decides which frames there are and when
    /// (alpha flattening, deinterlacing, the constant rate); possibly empty.
    pub fn chain_to_rate(&self) -> String {
        let mut f: Vec<String> = Vec::new();
        if self.alpha {
            // Colour × alpha is the picture over black; the alpha plane is then dropped by the
            // rungs' `format`.
            f.push("premultiply=inplace=1".into());
        }
        if let Some(fields) = self.deinterlace {
            let parity = match fields {
                Fields::Flagged => "auto",
                Fields::TopFirst => "tff",
                Fields::BottomFirst => "bff",
            };
            // deint=all: a stream idet found combed does not flag its frames as interlaced.
            f.push(format!("bwdif=mode=send_frame:parity={parity}:deint=all"));
        }
        if let Some((n, d)) = self.rate {
            f.push(format!("fps={n}/{d}"));
        }
        f.join(",")
    }

    /// The rest of [`Picture::chain`]: the tone-map, frame by frame (a pixel's value depends on
    /// that pixel alone, so it can follow a filter that picks frames); possibly empty.
    pub fn tone_map(&self, v: &VideoInfo) -> String {
        let mut f: Vec<String> = Vec::new();
        if let Some(hdr) = self.hdr {
            // zimg linearises (100 nits = 1.0), Hable compresses the highlights, then BT.709
            // primaries, transfer and matrix in limited range. The input side is spelled out
            // so a stream with only its transfer tagged is read as BT.2020.
            let primaries = v.color_primaries.as_deref().unwrap_or("bt2020");
            let matrix = v.color_space.as_deref().unwrap_or("bt2020nc");
            f.push(format!(
                "zscale=tin={}:pin={primaries}:min={matrix}:t=linear:npl=100",
                hdr.transfer()
            ));
            f.push("format=gbrpf32le".into());
            f.push("zscale=p=bt709".into());
            f.push("tonemap=tonemap=hable:desat=0".into());
            f.push("zscale=t=bt709:m=bt709:r=tv".into());
            f.push("format=yuv420p".into());
        }
        f.join(",")
    }

    /// Output options for the encoded rungs: BT.709 tags after a tone-map.
    pub fn output_args(&self) -> &'static [&'static str] {
        if self.hdr.is_some() {
            &[
                "-color_primaries",
                "bt709",
                "-color_trc",
                "bt709",
                "-colorspace",
                "bt709",
                "-color_range",
                "tv",
            ]
        } else {
            &[]
        }
    }
}

/// Whether ffmpeg's pixel format `pix_fmt` carries alpha (`yuva420p`, `yuva444p12le`, `argb`,
/// `rgba64be`, `gbrap10le`, `ya8`, …).
pub fn has_alpha(pix_fmt: &str) -> bool {
    pix_fmt.starts_with("yuva")
        || pix_fmt.starts_with("gbrap")
        || pix_fmt.starts_with("ya")
        || ["argb", "abgr", "rgba", "bgra"]
            .iter()
            .any(|p| pix_fmt.starts_with(p))
}

/// The constant rate to encode at: the stream's base rate (`r_frame_rate`) when it is at or a
/// little above the average (constant streams, variable ones with frames missing); otherwise
/// (a timestamp-only rate such as 90000, a field rate) the average snapped to a common rate; above [`MAX_FPS`] divided by the smallest integer that brings it under
/// (120 → 60, 100 → 50, 90 → 45).
pub fn output_rate(v: &VideoInfo) -> Option<(u32, u32)> {
    let avg = v.fps;
    // r_frame_rate is ffmpeg's guess at the stream's base rate: the nominal one for a constant
    // stream and for one with dropped frames (average below it), a timescale or a field rate
    // (twice the average and more) for others.
    let nominal = match v.rate {
        Some((n, d)) if avg <= 0.0 || (0.99..=1.5).contains(&(n as f64 / d as f64 / avg)) => (n, d),
        _ if avg > 0.0 => snap(avg),
        rate => rate?,
    };
    let (n, d) = nominal;
    let fps = n as f64 / d as f64;
    if fps <= MAX_FPS + 1e-9 {
        return Some(nominal);
    }
    let k = (fps / MAX_FPS - 1e-9).ceil().max(1.0) as u32;
    Some(reduce(n, d.saturating_mul(k)))
}

/// Snaps an average rate to the nearest usual one within 5 %, else to a whole number.
fn snap(avg: f64) -> (u32, u32) {
    const COMMON: &[(u32, u32)] = &[
        (24000, 1001),
        (24, 1),
        (25, 1),
        (30000, 1001),
        (30, 1),
        (48, 1),
        (50, 1),
        (60000, 1001),
        (60, 1),
        (90, 1),
        (100, 1),
        (120, 1),
        (240, 1),
    ];
    let rel = |&(n, d): &(u32, u32)| ((n as f64 / d as f64) - avg).abs() / avg;
    COMMON
        .iter()
        .copied()
        .min_by(|a, b| rel(a).total_cmp(&rel(b)))
        .filter(|r| rel(r) <= 0.05)
        .unwrap_or(((avg.round() as u32).clamp(1, 1000), 1))
}

fn reduce(n: u32, d: u32) -> (u32, u32) {
    let (mut a, mut b) = (n, d);
    while b != 0 {
        (a, b) = (b, a % b);
    }
    let g = a.max(1);
    (n / g, d / g)
}

/// Runs `idet` over the first frames; interlaced when it sees more field-ordered frames than
/// progressive ones. A sample that fails to run says "progressive": the encode that follows
/// reports the file's real problem.
async fn idet_sample(input: &Path, v: &VideoInfo, budget: &Budget) -> Result<Option<Fields>> {
    let mut a = Args::default();
    a.push_all(["-hide_banner", "-nostdin", "-nostats", "-loglevel", "info"]);
    a.push("-i");
    a.push(file_url(input));
    a.push_all(["-map", &format!("0:{}", v.index), "-an", "-sn", "-dn"]);
    a.push_all(["-frames:v", &IDET_FRAMES.to_string(), "-vf", "idet"]);
    a.push_all(["-f", "null", "-"]);
    let finished = process::run("ffmpeg", &a.0, "ffmpeg idet sample", budget, |_| {}).await?;
    if !finished.success() {
        tracing::debug!(stderr = %finished.stderr_tail, "idet sample failed; assuming progressive");
        return Ok(None);
    }
    let verdict = parse_idet(&finished.stderr_tail);
    tracing::debug!(?verdict, "idet sample (tff, bff, progressive)");
    Ok(match verdict {
        Some((tff, bff, progressive)) if tff + bff > progressive => Some(if tff >= bff {
            Fields::TopFirst
        } else {
            Fields::BottomFirst
        }),
        _ => None,
    })
}

/// (TFF, BFF, progressive) from idet's `Multi frame detection:` line.
fn parse_idet(stderr: &str) -> Option<(u64, u64, u64)> {
    let line = stderr
        .lines()
        .rev()
        .find_map(|l| l.split_once("Multi frame detection:"))?
        .1;
    let count = |key: &str| -> Option<u64> {
        let after = line.split_once(key)?.1.trim_start();
        after.split_whitespace().next().and_then(|n| n.parse().ok())
    };
    Some((count("TFF:")?, count("BFF:")?, count("Progressive:")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(rate: Option<(u32, u32)>, fps: f64) -> VideoInfo {
        VideoInfo {
            rate,
            fps,
            ..Default::default()
        }
    }

    #[test]
    fn constant_rates_are_kept_exactly() {
        for r in [(25, 1), (30000, 1001), (24000, 1001), (60, 1), (50, 1)] {
            let fps = r.0 as f64 / r.1 as f64;
            assert_eq!(output_rate(&v(Some(r), fps)), Some(r));
        }
        // No average known: the stream's rate.
        assert_eq!(output_rate(&v(Some((25, 1)), 0.0)), Some((25, 1)));
        assert_eq!(output_rate(&v(None, 0.0)), None);
    }

    #[test]
    fn variable_rates_snap_to_the_nominal_one() {
        // A phone: timestamps at 1/90000 s, averaging just under 30.
        assert_eq!(output_rate(&v(Some((90000, 1)), 29.6)), Some((30000, 1001)));
        assert_eq!(output_rate(&v(Some((120, 1)), 24.3)), Some((24, 1)));
        // Frames dropped from a 30 fps stream: still 30.
        assert_eq!(output_rate(&v(Some((30, 1)), 24.0)), Some((30, 1)));
        // A field-rate r_frame_rate on a 25i stream.
        assert_eq!(output_rate(&v(Some((50, 1)), 25.0)), Some((25, 1)));
        // Nothing common near: rounded.
        assert_eq!(output_rate(&v(None, 17.2)), Some((17, 1)));
    }

    #[test]
    fn above_sixty_is_divided_down() {
        assert_eq!(output_rate(&v(Some((120, 1)), 120.0)), Some((60, 1)));
        assert_eq!(output_rate(&v(Some((100, 1)), 100.0)), Some((50, 1)));
        assert_eq!(output_rate(&v(Some((240, 1)), 240.0)), Some((60, 1)));
        assert_eq!(output_rate(&v(Some((90, 1)), 90.0)), Some((45, 1)));
        assert_eq!(
            output_rate(&v(Some((120000, 1001)), 119.88)),
            Some((60000, 1001))
        );
    }

    /// A stream that says it is progressive costs no extra ffmpeg run: with a budget that
    /// refuses every subprocess, planning it still succeeds; a stream that says nothing asks.
    #[tokio::test]
    async fn idet_runs_only_when_the_field_order_is_unknown() {
        let cancel = tokio_util::sync::CancellationToken::new();
        cancel.cancel();
        let budget = Budget::new(std::time::Duration::from_secs(5), cancel);
        let input = Path::new("/nonexistent.mp4");
        let mut v = VideoInfo {
            field_order: Some("progressive".into()),
            rate: Some((25, 1)),
            fps: 25.0,
            ..Default::default()
        };
        let p = Picture::plan(input, &v, &budget).await.unwrap();
        assert_eq!(p.deinterlace, None);
        v.field_order = Some("bb".into());
        let p = Picture::plan(input, &v, &budget).await.unwrap();
        assert_eq!(p.deinterlace, Some(Fields::Flagged));
        v.field_order = None;
        let err = Picture::plan(input, &v, &budget).await.unwrap_err();
        assert!(matches!(err, crate::MediaError::Cancelled), "{err}");
    }

    #[test]
    fn idet_summary() {
        let tail = "[Parsed_idet_0 @ 0x5] Repeated Fields: Neither:   119 Top:     0 Bottom:     0\n\
            [Parsed_idet_0 @ 0x5] Single frame detection: TFF:    80 BFF:     0 Progressive:    20 Undetermined:    19\n\
            [Parsed_idet_0 @ 0x5] Multi frame detection: TFF:   101 BFF:     0 Progressive:    18 Undetermined:     0\n";
        assert_eq!(parse_idet(tail), Some((101, 0, 18)));
        assert_eq!(parse_idet("nothing"), None);
    }

    #[test]
    fn small_rungs_halve_rates_above_thirty() {
        let at = |rate| Picture {
            deinterlace: None,
            rate,
            hdr: None,
            alpha: false,
        };
        let p = at(Some((60000, 1001)));
        assert_eq!(p.rung_rate(720), Some((60000, 1001)));
        assert_eq!(p.rung_rate(480), Some((30000, 1001)));
        assert_eq!(p.rung_rate(240), Some((30000, 1001)));
        assert_eq!(p.rung_filter(720), "");
        assert_eq!(p.rung_filter(360), "fps=30000/1001,");
        assert_eq!(at(Some((50, 1))).rung_rate(480), Some((25, 1)));
        assert_eq!(at(Some((60, 1))).rung_rate(240), Some((30, 1)));
        // 30 and below stay as they are on every rung.
        for r in [(30, 1), (30000, 1001), (25, 1), (24, 1)] {
            assert_eq!(at(Some(r)).rung_rate(240), Some(r));
            assert_eq!(at(Some(r)).rung_filter(240), "");
        }
        // No known rate: nothing to halve.
        assert_eq!(at(None).rung_rate(240), None);
        assert_eq!(at(None).rung_filter(240), "");
        let v = VideoInfo {
            fps: 59.94,
            ..Default::default()
        };
        assert!((p.rung_fps(&v, 240) - 29.97).abs() < 0.01);
        assert!((at(None).rung_fps(&v, 240) - 59.94).abs() < 0.01);
    }

    #[test]
    fn alpha_formats() {
        for f in [
            "yuva444p12le",
            "yuva420p",
            "argb",
            "rgba",
            "bgra",
            "abgr",
            "rgba64be",
            "gbrap10le",
            "ya8",
        ] {
            assert!(has_alpha(f), "{f}");
        }
        for f in [
            "yuv420p",
            "yuv422p10le",
            "yuvj422p",
            "rgb24",
            "gbrp",
            "gray",
            "bgr0",
            "pal8",
            "",
        ] {
            assert!(!has_alpha(f), "{f}");
        }
        let v = VideoInfo {
            rate: Some((25, 1)),
            fps: 25.0,
            pix_fmt: "yuva444p12le".into(),
            ..Default::default()
        };
        let p = Picture::from_probe(&v, None);
        assert_eq!(p.chain(&v), "premultiply=inplace=1,fps=25/1");
    }

    #[test]
    fn progressive_sdr_gets_only_a_rate() {
        let src = VideoInfo {
            rate: Some((30, 1)),
            fps: 30.0,
            field_order: Some("progressive".into()),
            ..Default::default()
        };
        let p = Picture::from_probe(&src, None);
        assert_eq!(p.chain(&src), "fps=30/1");
        assert!(p.output_args().is_empty());
        let hlg = VideoInfo {
            color_transfer: Some("arib-std-b67".into()),
            ..src.clone()
        };
        let p = Picture::from_probe(&hlg, Some(Fields::Flagged));
        let chain = p.chain(&hlg);
        assert!(
            chain.starts_with("bwdif=mode=send_frame:parity=auto"),
            "{chain}"
        );
        assert!(
            chain.contains("zscale=tin=arib-std-b67:pin=bt2020:min=bt2020nc:t=linear"),
            "{chain}"
        );
        assert!(p.output_args().contains(&"bt709"));
        let p = Picture::from_probe(&src, Some(Fields::TopFirst));
        assert!(p
            .chain(&src)
            .starts_with("bwdif=mode=send_frame:parity=tff"));
    }
}
