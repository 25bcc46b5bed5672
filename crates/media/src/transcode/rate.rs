//! Rate control per rung, and what the adaptive ladder decides from what was produced.
//!
//! * [`LadderMode::Fixed`]: every rung at its ladder bitrate (`-b:v` with `-maxrate`/`-bufsize`),
//!   whatever the content: a slide deck gets the bytes of a football match.
//! * [`LadderMode::Adaptive`]: every rung at a quality target (x264 CRF, chosen per rung by the
//!   complexity probe in `complexity.rs`, else [`crf`]) capped by the
//!   ladder's bitrate as `-maxrate`, with the same `-bufsize` (players' buffer models still hold): easy content costs what it
//!   needs, hard content gets the fixed ladder's rate at most. After the encode, a rung that came
//!   out within [`NEAR_DUPLICATE`] of the next kept one up is dropped ([`near_duplicates`]), and
//!   the manifests carry the measured peak and average of what is left.
//!
//! Rungs are dropped after the encode, from measured sizes, rather than predicted from a probe
//! encode before it: measured bitrates are exact and cost nothing, and a probe of sampled windows
//! costs a share of the encode on every item to save an encode of a rung that is rarely dropped
//! under capped CRF (a smaller picture nearly always needs clearly fewer bits). Progressive
//! publishing has by then uploaded the dropped rung's segments; the final manifests no longer
//! name them and the pipeline deletes them once the final master is up.

use super::package::{segment_stream, PlaylistStats};
use crate::error::{MediaError, Result};
use crate::ladder::Rung;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// How rungs spend bits (`LADDER_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LadderMode {
    /// Each rung at its ladder bitrate; every planned rung published. The library's default,
    /// so callers that say nothing get exactly the behaviour they had.
    #[default]
    Fixed,
    /// Capped CRF per rung; near-duplicate rungs dropped; measured bandwidths.
    Adaptive,
}

impl std::str::FromStr for LadderMode {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "fixed" => Ok(LadderMode::Fixed),
            "adaptive" => Ok(LadderMode::Adaptive),
            other => Err(format!(
                "'{other}' is not a ladder mode; use adaptive or fixed"
            )),
        }
    }
}

impl std::fmt::Display for LadderMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LadderMode::Fixed => "fixed",
            LadderMode::Adaptive => "adaptive",
        })
    }
}

/// A lower rung whose average bitrate is at least this share of the next kept rung up is
/// dropped: a player that can fetch it can nearly fetch the larger picture.
pub const NEAR_DUPLICATE: f64 = 0.85;

/// The x264 CRF of a rung in adaptive mode when the complexity probe (`complexity.rs`) did not
/// run (a video under 2 s) or failed, by its short side: a middle ground, small pictures a little
/// better (each of their pixels covers more of the source).
pub fn crf(rung: &Rung) -> u32 {
    match rung.width.min(rung.height) {
        s if s >= 720 => 23,
        s if s >= 480 => 22,
        _ => 21,
    }
}

/// What a rung's encoder is asked for: a quality target or an average bitrate, under a cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RungRate {
    /// x264's CRF (adaptive mode).
    pub crf: Option<u32>,
    /// The average bitrate (fixed mode, and hard rungs in adaptive mode), bits/s.
    pub bitrate: Option<u64>,
    /// bits/s.
    pub maxrate: u64,
    /// bits.
    pub bufsize: u64,
    /// How full the buffer starts, bits (x264's default when `None`).
    pub init_occupancy: Option<u64>,
}

/// The rate control of `rung` in `mode` with the CRF the probe chose for it.
pub fn rung_rate(mode: LadderMode, rung: &Rung, crf: u32) -> RungRate {
    // A rung the probe found hard (the lowest CRF: its quality target is out of reach within
    // the cap) gets the fixed ladder's average-bitrate encode: at the same bytes, capped CRF
    // spreads them less evenly over a fast pan (BENCHMARKS.md: 0.028 less SSIM at 1080p).
    let mode = if crf <= super::complexity::MIN_CRF {
        LadderMode::Fixed
    } else {
        mode
    };
    match mode {
        LadderMode::Fixed => RungRate {
            crf: None,
            bitrate: Some(rung.bitrate),
            maxrate: rung.maxrate,
            bufsize: rung.bufsize,
            init_occupancy: None,
        },
        // Adaptive caps at the ladder's bitrate itself, not the fixed mode's 1.07× maxrate:
        // hard content then costs what the fixed ladder spent on it, not more (capped CRF runs
        // at its cap where fixed mode's average target sits below its cap). x264 starts with
        // the buffer 90 % full, which a capped quality target spends at once (1.35 s of extra
        // bitrate: +7 % on a 20 s clip); a third of it is room for the first keyframe.
        LadderMode::Adaptive => RungRate {
            crf: Some(crf),
            bitrate: None,
            maxrate: rung.bitrate,
            bufsize: rung.bufsize,
            init_occupancy: Some(rung.bufsize / 3),
        },
    }
}

/// The per-stream rate options of rung `i` (x264's `-b:v:i`… or `-crf:v:i {crf}`…).
pub fn rate_args(mode: LadderMode, i: usize, rung: &Rung, crf: u32) -> Vec<String> {
    let rate = rung_rate(mode, rung, crf);
    let mut args = Vec::new();
    if let Some(crf) = rate.crf {
        args.extend([format!("-crf:v:{i}"), crf.to_string()]);
    }
    if let Some(bitrate) = rate.bitrate {
        args.extend([format!("-b:v:{i}"), bitrate.to_string()]);
    }
    args.extend([format!("-maxrate:v:{i}"), rate.maxrate.to_string()]);
    args.extend([format!("-bufsize:v:{i}"), rate.bufsize.to_string()]);
    if let Some(occupancy) = rate.init_occupancy {
        args.extend([format!("-rc_init_occupancy:v:{i}"), occupancy.to_string()]);
    }
    args
}

/// An AV1 (SVT-AV1) rung's cap as a percentage of the H.264 rung's ladder bitrate: where the
/// cap binds (hard content), AV1 spends at most this share of what H.264 spends. Not on the
/// top rung ([`AV1_TOP_CAP_PERCENT`]).
pub const AV1_CAP_PERCENT: u64 = 65;
/// The top rung's cap, the H.264 rung's own: where SVT-AV1 1.4's capped CRF has to hold its
/// cap on a 1080p picture it drops whole stretches far below the CRF's quality (fast pan at
/// 65 %: SSIM 0.805 against H.264's 0.852; at 100 % with [`AV1_TOP_HARD_CRF`] the cap rarely
/// binds and AV1 beats H.264's SSIM in fewer bytes; BENCHMARKS.md). Smaller rungs keep
/// [`AV1_CAP_PERCENT`], where the same cap binds less and saves bytes.
pub const AV1_TOP_CAP_PERCENT: u64 = 100;
/// SVT-AV1's CRF for a rung that H.264 encodes at an average bitrate (fixed mode, and the
/// rungs the complexity probe found hard). Not lower: SVT-AV1 1.4 meets its cap by raising
/// the quantizer of the frames that overshoot, so a target far beyond the cap ends up worse
/// than a moderate one (fast pan 720p at 65 %: SSIM 0.855 at CRF 12, 0.886 at 20, 0.895 at
/// 26, each above or at H.264's 0.879 only from 20 up; BENCHMARKS.md).
pub const AV1_HARD_CRF: u32 = 26;
/// [`AV1_HARD_CRF`] on the top rung: high enough that the cap rarely binds (see
/// [`AV1_TOP_CAP_PERCENT`]), low enough to keep a grainy picture's SSIM. Measured at 1080p,
/// cap 100 %: talking head with grain ≥ H.264's SSIM up to CRF 46 (0.15× its bytes), fast pan
/// over a detailed image ≤ 0.70× its bytes only from CRF 50 (0.77× at 46, above its SSIM from
/// 45), noise above H.264's SSIM at 40, 46 and 50: quality first. Higher than the CRF a less
/// hard top rung gets (x264 CRF + 17): there the cap binds less.
pub const AV1_TOP_HARD_CRF: u32 = 46;

/// SVT-AV1's CRF (0–63) for a rung of short side `short` whose H.264 CRF is `h264_crf`; `top`:
/// the ladder's largest rung. The same quality target moved onto SVT-AV1's scale, where AV1
/// comes out at equal or better SSIM than H.264 in fewer bytes (BENCHMARKS.md, "AV1 against
/// H.264"). The offset is smallest on the top rung, the least scaled-down picture, where AV1's
/// lead is smallest, and grows on the smaller rungs, where AV1 keeps more SSIM per CRF step
/// than x264 does.
pub fn av1_crf(h264_crf: u32, short: u32, top: bool) -> u32 {
    let offset = match short {
        _ if top => AV1_CRF_OFFSET_TOP,
        s if s >= 720 => AV1_CRF_OFFSET_720,
        _ => AV1_CRF_OFFSET_SMALL,
    };
    (h264_crf + offset).min(63)
}

/// SVT-AV1 CRF over x264 CRF on the top rung (measured on 1080p).
const AV1_CRF_OFFSET_TOP: u32 = 17;
/// … on the other rungs of 720p and above.
const AV1_CRF_OFFSET_720: u32 = 18;
/// … on rungs below 720p.
const AV1_CRF_OFFSET_SMALL: u32 = 21;

/// The rate control of `rung`'s AV1 stream in `mode`, beside the H.264 rung encoded with the
/// CRF `crf` (see [`rung_rate`]; `top`: the ladder's largest rung). Always capped CRF —
/// SVT-AV1's one-pass average-bitrate mode overshoots its target by half on a fast pan
/// (BENCHMARKS.md), which a player's buffer model does not survive — at [`av1_crf`] of H.264's
/// quality target, or [`AV1_HARD_CRF`] ([`AV1_TOP_HARD_CRF`] on the top rung) where H.264 has
/// none; capped at [`AV1_CAP_PERCENT`] ([`AV1_TOP_CAP_PERCENT`] on the top rung) of the ladder
/// bitrate, with that share of its buffer. With the adaptive ladder the AV1 trials
/// (`complexity/av1.rs`) replace this CRF per item, from it upwards; it stays where they do not
/// run (the fixed ladder, a video too short to probe, a failed trial run).
pub fn av1_rung_rate(mode: LadderMode, rung: &Rung, crf: u32, top: bool) -> RungRate {
    let h264 = rung_rate(mode, rung, crf);
    let percent = if top {
        AV1_TOP_CAP_PERCENT
    } else {
        AV1_CAP_PERCENT
    };
    let share = |bits: u64| bits.saturating_mul(percent) / 100;
    let hard = if top { AV1_TOP_HARD_CRF } else { AV1_HARD_CRF };
    RungRate {
        crf: Some(
            h264.crf
                .map(|c| av1_crf(c, rung.width.min(rung.height), top))
                .unwrap_or(hard),
        ),
        bitrate: None,
        maxrate: share(rung.bitrate),
        bufsize: share(rung.bufsize),
        // SVT-AV1 has no initial buffer level to set (ffmpeg's wrapper passes none).
        init_occupancy: None,
    }
}

/// Which rungs (indices into `averages`, highest rung first; average bits/s as produced) to
/// drop: each one within [`NEAR_DUPLICATE`] of the next kept rung up. The top rung is always
/// kept; a rung of unknown (0) bitrate is never dropped.
pub fn near_duplicates(averages: &[u64]) -> Vec<usize> {
    let mut dropped = Vec::new();
    let Some(&first) = averages.first() else {
        return dropped;
    };
    let mut above = first;
    for (i, &avg) in averages.iter().enumerate().skip(1) {
        if avg > 0 && above > 0 && avg as f64 >= above as f64 * NEAR_DUPLICATE {
            dropped.push(i);
        } else {
            above = avg;
        }
    }
    dropped
}

/// The video rungs to drop for `mode`, from their measured playlists (highest first).
pub(super) fn rungs_to_drop(mode: LadderMode, stats: &[PlaylistStats]) -> Vec<usize> {
    match mode {
        LadderMode::Fixed => Vec::new(),
        LadderMode::Adaptive => {
            let averages: Vec<u64> = stats.iter().map(|s| s.average_bps).collect();
            near_duplicates(&averages)
        }
    }
}

/// Removes the files of output streams `streams` from `stream_dir`: init and media segments and
/// the media playlist.
pub(super) async fn remove_streams(stream_dir: &Path, streams: &[usize]) -> Result<()> {
    if streams.is_empty() {
        return Ok(());
    }
    let mut entries = tokio::fs::read_dir(stream_dir).await?;
    while let Some(entry) = entries.next_entry().await? {
        let name = entry.file_name().to_string_lossy().into_owned();
        let of_stream = segment_stream(&name)
            .map(|(n, _)| n)
            .or_else(|| playlist_stream(&name));
        if of_stream.is_some_and(|n| streams.contains(&n)) {
            tokio::fs::remove_file(entry.path()).await?;
        }
    }
    Ok(())
}

/// `media_N.m3u8` → N.
fn playlist_stream(name: &str) -> Option<usize> {
    name.strip_prefix("media_")?
        .strip_suffix(".m3u8")?
        .parse()
        .ok()
}

/// `xml` without the `Representation`s whose id is one of `ids`, and with the `bandwidth` of
/// those in `bandwidths` (id, bits/s) replaced.
pub(super) fn rewrite_representations(
    xml: &str,
    drop: &[usize],
    bandwidths: &[(usize, u64)],
) -> Result<String> {
    let doc = roxmltree::Document::parse(xml)
        .map_err(|e| MediaError::bad_output_from("unreadable MPD", e))?;
    // (range, replacement), applied from the end so earlier ranges stay valid.
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    for rep in doc
        .descendants()
        .filter(|n| n.tag_name().name() == "Representation")
    {
        let Some(id) = rep.attribute("id").and_then(|id| id.parse::<usize>().ok()) else {
            continue;
        };
        let range = rep.range();
        if drop.contains(&id) {
            // The element's own line goes with it.
            let start = xml[..range.start].trim_end_matches(['\t', ' ']).len();
            let end = if xml[range.end..].starts_with('\n') {
                range.end + 1
            } else {
                range.end
            };
            edits.push((start..end, String::new()));
        } else if let Some((_, bps)) = bandwidths.iter().find(|(i, _)| *i == id) {
            let tag_end = xml[range.clone()]
                .find('>')
                .map(|i| range.start + i)
                .ok_or_else(|| MediaError::bad_output("an unterminated Representation"))?;
            let tag = &xml[range.start..tag_end];
            let Some(at) = tag.find(" bandwidth=\"") else {
                continue;
            };
            let value = range.start + at + " bandwidth=\"".len();
            let len = xml[value..]
                .find('"')
                .ok_or_else(|| MediaError::bad_output("an unterminated bandwidth attribute"))?;
            edits.push((value..value + len, bps.to_string()));
        }
    }
    edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    let mut out = xml.to_string();
    for (r, with) in edits {
        out.replace_range(r, &with);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ladder::{plan, DEFAULT_LADDER};
    use crate::probe::VideoInfo;

    fn rungs_1080() -> Vec<Rung> {
        let v = VideoInfo {
            width: 1920,
            height: 1080,
            fps: 30.0,
            ..Default::default()
        };
        plan(&v, DEFAULT_LADDER)
    }

    #[test]
    fn parses_the_mode() {
        assert_eq!("adaptive".parse(), Ok(LadderMode::Adaptive));
        assert_eq!(" Fixed ".parse(), Ok(LadderMode::Fixed));
        assert!("crf"
            .parse::<LadderMode>()
            .unwrap_err()
            .contains("adaptive or fixed"));
        assert_eq!(LadderMode::Adaptive.to_string(), "adaptive");
        assert_eq!(LadderMode::default(), LadderMode::Fixed);
    }

    #[test]
    fn fixed_mode_is_the_ladder_bitrate() {
        let r = &rungs_1080()[0];
        let fixed = "-b:v:0 5000000 -maxrate:v:0 5350000 -bufsize:v:0 7500000";
        assert_eq!(rate_args(LadderMode::Fixed, 0, r, 23).join(" "), fixed);
        // So is a rung the complexity probe found hard, in adaptive mode.
        let hard = super::super::complexity::MIN_CRF;
        assert_eq!(rate_args(LadderMode::Adaptive, 0, r, hard).join(" "), fixed);
        assert!(rate_args(LadderMode::Adaptive, 0, r, hard + 1)[0].starts_with("-crf"));
    }

    #[test]
    fn adaptive_mode_is_crf_capped_by_the_rung() {
        let rungs = rungs_1080();
        for (i, r) in rungs.iter().enumerate() {
            let args = rate_args(LadderMode::Adaptive, i, r, crf(r)).join(" ");
            // The quality target replaces the bitrate; the caps stay the rung's.
            assert!(!args.contains("-b:v"), "{args}");
            assert!(
                args.starts_with(&format!("-crf:v:{i} {} ", crf(r))),
                "{args}"
            );
            assert!(
                args.ends_with(&format!(
                    "-maxrate:v:{i} {} -bufsize:v:{i} {} -rc_init_occupancy:v:{i} {}",
                    r.bitrate,
                    r.bufsize,
                    r.bufsize / 3
                )),
                "{args}"
            );
        }
        // Smaller pictures never get a worse quality target.
        let crfs: Vec<u32> = rungs.iter().map(crf).collect();
        assert!(crfs.windows(2).all(|w| w[0] >= w[1]), "{crfs:?}");
        // A cap planned from a low-bitrate source stays the cap.
        let v = VideoInfo {
            width: 1280,
            height: 720,
            bit_rate: Some(1_000_000),
            ..Default::default()
        };
        let capped = plan(&v, DEFAULT_LADDER);
        let args = rate_args(LadderMode::Adaptive, 0, &capped[0], 20).join(" ");
        assert!(
            args.contains("-maxrate:v:0 1100000 -bufsize:v:0 1650000"),
            "{args}"
        );
    }

    #[test]
    fn av1_is_capped_crf_after_the_h264_target() {
        let rungs = rungs_1080();
        let hard = super::super::complexity::MIN_CRF;
        for (i, r) in rungs.iter().enumerate() {
            let short = r.width.min(r.height);
            // Capped at 65 % of the ladder bitrate, with 65 % of its buffer, in every case but
            // the top rung's, which has H.264's own cap.
            let percent = if i == 0 { 100 } else { 65 };
            let cap = (r.bitrate * percent / 100, r.bufsize * percent / 100);
            for (mode, crf) in [
                (LadderMode::Adaptive, 25),
                (LadderMode::Adaptive, hard),
                (LadderMode::Fixed, 25),
            ] {
                let a = av1_rung_rate(mode, r, crf, i == 0);
                assert_eq!((a.maxrate, a.bufsize), cap, "{r:?}");
                assert_eq!((a.bitrate, a.init_occupancy), (None, None));
                let h264 = rung_rate(mode, r, crf);
                let want = match h264.crf {
                    Some(c) => av1_crf(c, short, i == 0),
                    None if i == 0 => AV1_TOP_HARD_CRF,
                    None => AV1_HARD_CRF,
                };
                assert_eq!(a.crf, Some(want), "{mode} {crf} {r:?}");
            }
        }
        // The 1080p top rung: H.264's CRF 25 + 17; hard for the probe or beside a fixed ladder,
        // the top rung's hard-content target, under H.264's own cap.
        let top = &rungs[0];
        assert_eq!(
            av1_rung_rate(LadderMode::Adaptive, top, 25, true).crf,
            Some(42)
        );
        assert_eq!(
            av1_rung_rate(LadderMode::Adaptive, top, hard, true).crf,
            Some(46)
        );
        assert_eq!(
            av1_rung_rate(LadderMode::Fixed, top, 25, true).crf,
            Some(46)
        );
        assert_eq!(
            av1_rung_rate(LadderMode::Fixed, top, 25, true).maxrate,
            5_000_000
        );
        // The next rung down, hard: CRF 26 under 65 % of its ladder bitrate.
        let second = av1_rung_rate(LadderMode::Fixed, &rungs[1], 25, false);
        assert_eq!((second.crf, second.maxrate), (Some(26), 1_820_000));
        // The offsets: +17 on the top rung whatever its size, +18 on other rungs of 720p and
        // above, +21 below; never past SVT-AV1's 63.
        assert_eq!(av1_crf(27, 1080, true), 44);
        assert_eq!(av1_crf(27, 360, true), 44);
        assert_eq!(av1_crf(23, 720, false), 41);
        assert_eq!(av1_crf(23, 1080, false), 41);
        assert_eq!(av1_crf(28, 480, false), 49);
        assert_eq!(av1_crf(28, 240, false), 49);
        assert_eq!(av1_crf(50, 240, false), 63);
        // A smaller rung never gets a lower AV1 target for the same H.264 one, and a better
        // H.264 target never a worse AV1 one.
        for c in 18..=28 {
            assert!(av1_crf(c, 1080, true) <= av1_crf(c, 720, false));
            assert!(av1_crf(c, 720, false) <= av1_crf(c, 480, false));
            assert!(av1_crf(c, 480, false) <= av1_crf(c + 1, 480, false));
        }
        // Below the top rung the hard target is below anything the probe's CRFs map to; on
        // the top rung it is above (there the cap binds, see AV1_TOP_HARD_CRF).
        assert!(AV1_HARD_CRF < av1_crf(hard + 1, 720, false));
        assert!(AV1_TOP_HARD_CRF > av1_crf(hard + 1, 1080, true));
    }

    #[test]
    fn drops_rungs_within_15_percent_of_the_next_kept_one_up() {
        // Clearly apart: all kept.
        assert!(near_duplicates(&[5_000_000, 2_800_000, 1_400_000]).is_empty());
        // 720p at 90 % of 1080p: dropped; 480p compared with 1080p then.
        assert_eq!(near_duplicates(&[1_000_000, 900_000, 500_000]), vec![1]);
        // A run of near-identical rungs: each compared with the last kept one, so the drift
        // cannot walk down the ladder (800k is 80 % of 1M: kept).
        assert_eq!(
            near_duplicates(&[1_000_000, 900_000, 860_000, 800_000, 700_000]),
            vec![1, 2, 4]
        );
        // Exactly at the threshold is dropped; just under it kept.
        assert_eq!(near_duplicates(&[100_000, 85_000]), vec![1]);
        assert!(near_duplicates(&[100_000, 84_999]).is_empty());
        // A lower rung that came out larger (the cap bit the top one) is dropped too.
        assert_eq!(near_duplicates(&[100_000, 120_000]), vec![1]);
        // The top rung always stays; nothing measured, nothing dropped.
        assert!(near_duplicates(&[1_000]).is_empty());
        assert!(near_duplicates(&[]).is_empty());
        assert!(near_duplicates(&[0, 0]).is_empty());
    }

    fn stats(avg: u64) -> PlaylistStats {
        PlaylistStats {
            uri: String::new(),
            segments: 1,
            duration: 4.0,
            peak_bps: avg,
            average_bps: avg,
        }
    }

    #[test]
    fn fixed_mode_drops_nothing() {
        let s = [stats(1_000_000), stats(990_000)];
        assert!(rungs_to_drop(LadderMode::Fixed, &s).is_empty());
        assert_eq!(rungs_to_drop(LadderMode::Adaptive, &s), vec![1]);
    }

    #[test]
    fn rewrites_representations() {
        let mpd = r#"<MPD>
	<Period>
		<AdaptationSet contentType="video">
			<Representation id="0" codecs="avc1" bandwidth="5000000" width="1920">
				<SegmentTemplate/>
			</Representation>
			<Representation id="1" codecs="avc1" bandwidth="2800000" width="1280">
			</Representation>
			<Representation id="2" bandwidth="1400000"/>
		</AdaptationSet>
		<AdaptationSet contentType="audio">
			<Representation id="3" bandwidth="128000"/>
		</AdaptationSet>
	</Period>
</MPD>
"#;
        let out = rewrite_representations(mpd, &[1], &[(0, 812_345), (2, 99)]).unwrap();
        assert!(
            out.contains(
                r#"<Representation id="0" codecs="avc1" bandwidth="812345" width="1920">"#
            ),
            "{out}"
        );
        assert!(!out.contains(r#"id="1""#), "{out}");
        assert!(
            out.contains(r#"<Representation id="2" bandwidth="99"/>"#),
            "{out}"
        );
        assert!(
            out.contains(r#"<Representation id="3" bandwidth="128000"/>"#),
            "{out}"
        );
        assert!(
            out.contains("</Representation>\n\t\t\t<Representation id=\"2\""),
            "{out}"
        );
        roxmltree::Document::parse(&out).unwrap();
        // Nothing to do: unchanged.
        assert_eq!(rewrite_representations(mpd, &[], &[]).unwrap(), mpd);
    }

    #[tokio::test]
    async fn removes_a_streams_files() {
        let dir = tempfile::tempdir().unwrap();
        for f in [
            "init-0.m4s",
            "chunk-0-00001.m4s",
            "init-1.m4s",
            "chunk-1-00001.m4s",
            "chunk-1-00002.m4s",
            "media_1.m3u8",
            "media_0.m3u8",
            "media_10.m3u8",
            "manifest.mpd",
        ] {
            std::fs::write(dir.path().join(f), b"x").unwrap();
        }
        remove_streams(dir.path(), &[1]).await.unwrap();
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "chunk-0-00001.m4s",
                "init-0.m4s",
                "manifest.mpd",
                "media_0.m3u8",
                "media_10.m3u8"
            ]
        );
    }
}
