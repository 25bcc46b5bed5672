//! AV1 and HEVC renditions beside the H.264 ladder (`VIDEO_CODECS`), from the same decode.
//!
//! H.264 is always encoded: it is what every player decodes, and the downloads are made from it.
//! Each extra codec gets one output stream per rung, fed by a `split` of that rung's scaled
//! picture (scaled once, encoded two or three times). Its streams come after the audio
//! streams, so the numbering of the H.264 rungs and the audio tracks is the same with or
//! without them; the dash muxer writes them into the same `stream/` folder as sets of their
//! own, one DASH adaptation set per codec once joined ([`super::package::merge_video_sets`]),
//! one HLS variant per rung and codec.
//!
//! Aligned keyframes: ffmpeg 5.1's libsvtav1 wrapper ignores forced keyframes, so AV1 gets
//! a fixed GOP of exactly one keyframe interval in frames ([`gops`]), and with AV1 every other
//! stream's keyframes are forced on the same frame numbers instead of on times; every stream
//! then starts its segments on the same instants. (Without AV1, H.264 and HEVC keep the
//! time-based forcing.)

use super::complexity::Av1Choice;
use super::mp4;
use super::picture::Picture;
use super::provenance::RungEncode;
use super::rate::{self, LadderMode};
use crate::error::{MediaError, Result};
use crate::ladder::Rung;
use crate::probe::VideoInfo;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The codecs a video can be published in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VideoCodec {
    H264,
    Av1,
    Hevc,
}

/// SVT-AV1's preset (0 slowest … 13 fastest) unless `AV1_PRESET` says otherwise: the fastest
/// that still beats H.264 on bytes at equal SSIM (BENCHMARKS.md), so that a 2-core machine
/// encodes a 1080p ladder in AV1 in a few times the H.264 encode's time rather than tens.
/// The top rung gets one step slower (`av1_preset`).
pub const DEFAULT_AV1_PRESET: u8 = 10;
/// SVT-AV1 settings of every AV1 stream (`-svtav1-params`), besides its defaults (`tune=1`,
/// PSNR — SVT-AV1 1.4's only other tune, 0, is "visual quality", which costs SSIM and PSNR;
/// no film grain synthesis): no temporal filtering of the alt-ref frames, which smooths grain and
/// fast motion away (0.03 less SSIM on the fast pan's 720p, BENCHMARKS.md), and no scene-change
/// detection, so the keyframes are those of the fixed GOP that every codec shares.
pub const AV1_PARAMS: &str = "enable-tf=0:scd=0";

/// The SVT-AV1 preset of a rung under `AV1_PRESET` = `preset`; `top`: the ladder's largest
/// rung, which gets one step slower: the least scaled-down picture is where AV1's lead over
/// H.264 is smallest (at the same preset the 1080p top rung came out below H.264's SSIM at 0.7×
/// its bytes; BENCHMARKS.md).
pub fn av1_preset(preset: u8, top: bool) -> u8 {
    if top {
        preset.saturating_sub(1)
    } else {
        preset
    }
}
/// x265's preset unless `HEVC_PRESET` says otherwise (see [`DEFAULT_AV1_PRESET`]).
pub const DEFAULT_HEVC_PRESET: &str = "superfast";
/// x265's presets, fastest first.
pub const X265_PRESETS: &[&str] = &[
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
];
/// SVT-AV1's presets as ffmpeg 5.1 takes them.
pub const AV1_PRESETS: std::ops::RangeInclusive<u8> = 0..=13;

impl VideoCodec {
    /// As `VIDEO_CODECS` and the item JSON spell it.
    pub fn name(self) -> &'static str {
        match self {
            VideoCodec::H264 => "h264",
            VideoCodec::Av1 => "av1",
            VideoCodec::Hevc => "hevc",
        }
    }

    /// The codec of an RFC 6381 `CODECS` value (its first entry's sample entry).
    pub fn of_codecs(codecs: &str) -> Option<VideoCodec> {
        match codecs.get(..4)? {
            "avc1" | "avc3" => Some(VideoCodec::H264),
            "av01" => Some(VideoCodec::Av1),
            "hvc1" | "hev1" => Some(VideoCodec::Hevc),
            _ => None,
        }
    }

    /// The rung's target bitrate for this codec: the H.264 ladder's, scaled by what the codec
    /// saves at the same quality (measured in BENCHMARKS.md). (AV1's rate control is
    /// [`rate::av1_rung_rate`]'s; for AV1 this is only the fixed ladder's BANDWIDTH floor,
    /// which stays 65 % on the top rung too, whose cap is the H.264 rung's: BANDWIDTH is the
    /// measured peak there whenever that is higher.)
    pub(super) fn scale(self, bits: u64) -> u64 {
        let percent = match self {
            VideoCodec::H264 => 100,
            VideoCodec::Av1 => rate::AV1_CAP_PERCENT,
            VideoCodec::Hevc => HEVC_BITRATE_PERCENT,
        };
        bits.saturating_mul(percent) / 100
    }
}

/// An HEVC rung's bitrate as a percentage of the H.264 rung's.
const HEVC_BITRATE_PERCENT: u64 = 70;

impl std::str::FromStr for VideoCodec {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "h264" | "avc" => Ok(VideoCodec::H264),
            "av1" => Ok(VideoCodec::Av1),
            "hevc" | "h265" => Ok(VideoCodec::Hevc),
            other => Err(format!("'{other}' is not one of h264, av1, hevc")),
        }
    }
}

/// Which codecs besides H.264, and how they are encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecOptions {
    /// The extra codecs (never H.264), each once, in the order their variants are listed.
    pub extra: Vec<VideoCodec>,
    /// SVT-AV1 preset, 0–13.
    pub av1_preset: u8,
    /// x265 preset name.
    pub hevc_preset: String,
}

impl Default for CodecOptions {
    fn default() -> Self {
        CodecOptions {
            extra: Vec::new(),
            av1_preset: DEFAULT_AV1_PRESET,
            hevc_preset: DEFAULT_HEVC_PRESET.into(),
        }
    }
}

/// The extra codecs of a `VIDEO_CODECS` list (`h264,av1`, `h264,hevc`, `h264,av1,hevc`): it
/// must name H.264, which is always encoded, and names each codec once.
pub fn parse_codec_list(list: &str) -> std::result::Result<Vec<VideoCodec>, String> {
    let mut all = Vec::new();
    for part in list.split(',') {
        let codec: VideoCodec = part.parse()?;
        if all.contains(&codec) {
            return Err(format!("{} is listed twice", codec.name()));
        }
        all.push(codec);
    }
    if !all.contains(&VideoCodec::H264) {
        return Err("h264 must be in the list: it is every player's fallback".into());
    }
    Ok(all.into_iter().filter(|c| *c != VideoCodec::H264).collect())
}

/// The extra codecs' output streams of one encode.
#[derive(Debug, Clone)]
pub(super) struct Extras {
    codecs: Vec<VideoCodec>,
    av1_preset: u8,
    hevc_preset: String,
    rungs: usize,
    /// The ladder mode and the H.264 rungs' CRFs (see [`Extras::with_rates`]), which AV1's
    /// quality targets follow.
    mode: LadderMode,
    crfs: Vec<u32>,
    /// Each AV1 rung's CRF from the trial encodes (`complexity::av1_crfs`); empty: the fixed
    /// offset from H.264's ([`rate::av1_rung_rate`]).
    av1_crfs: Vec<u32>,
}

/// One output stream of an extra codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ExtraStream {
    pub codec: VideoCodec,
    /// Index into the rungs.
    pub rung: usize,
    /// Counted among the video outputs (`-c:v:N`): after the H.264 rungs.
    pub video_index: usize,
}

impl Extras {
    /// The extra streams for `rungs` rungs. A source without a constant frame rate gets none
    /// (with the warning to record): AV1's fixed GOP would drift from H.264's keyframes, and
    /// players switch only at shared ones.
    pub fn plan(opts: &CodecOptions, picture: &Picture, rungs: usize) -> (Extras, Option<String>) {
        let mut codecs = opts.extra.clone();
        codecs.retain(|c| *c != VideoCodec::H264);
        let mut warning = None;
        if !codecs.is_empty() && picture.rate.is_none() {
            warning = Some(format!(
                "published in H.264 only: the video has no constant frame rate for aligned {} keyframes",
                codecs.iter().map(|c| c.name()).collect::<Vec<_>>().join(" and ")
            ));
            codecs.clear();
        }
        let extras = Extras {
            codecs,
            av1_preset: opts.av1_preset,
            hevc_preset: opts.hevc_preset.clone(),
            rungs,
            mode: LadderMode::Fixed,
            crfs: Vec::new(),
            av1_crfs: Vec::new(),
        };
        (extras, warning)
    }

    /// The H.264 rungs' rate control in `mode` with the CRFs `crfs` (the complexity probe's;
    /// a rung without one gets [`rate::crf`]'s default, as the H.264 encoder does), which each
    /// AV1 rung's quality target follows. Without it, AV1 is encoded as beside a fixed ladder.
    pub fn with_rates(mut self, mode: LadderMode, crfs: &[u32]) -> Extras {
        self.mode = mode;
        self.crfs = crfs.to_vec();
        self
    }

    /// Each AV1 rung's CRF as the trial encodes chose it (`complexity::av1_crfs`), in place of
    /// the fixed offset from H.264's; the caps stay [`rate::av1_rung_rate`]'s. Empty: the offset.
    pub fn with_av1_crfs(mut self, crfs: &[u32]) -> Extras {
        self.av1_crfs = crfs.to_vec();
        self
    }

    /// AV1 as its trials decided (`complexity::av1_crfs`): without AV1 where it does not pay,
    /// else at the trials' CRFs.
    pub fn with_av1(self, choice: &Av1Choice) -> Extras {
        match choice.skip {
            Some(_) => self.without(VideoCodec::Av1),
            None => self.with_av1_crfs(&choice.crfs),
        }
    }

    /// The same without `codec`'s streams.
    pub fn without(mut self, codec: VideoCodec) -> Extras {
        self.codecs.retain(|c| *c != codec);
        self
    }

    /// Whether `codec`'s streams are encoded.
    pub fn has(&self, codec: VideoCodec) -> bool {
        self.codecs.contains(&codec)
    }

    /// The ladder mode the rates were set for ([`Extras::with_rates`]).
    pub fn mode(&self) -> LadderMode {
        self.mode
    }

    /// The H.264 CRF of rung `r` (index `rung`): the probe's, else [`rate::crf`]'s default.
    pub fn h264_crf(&self, r: &Rung, rung: usize) -> u32 {
        self.crfs.get(rung).copied().unwrap_or_else(|| rate::crf(r))
    }

    /// The rate control of rung `r` (index `rung`) in AV1: the trials' CRF where there is one.
    pub fn av1_rate(&self, r: &Rung, rung: usize) -> rate::RungRate {
        let mut rate = rate::av1_rung_rate(self.mode, r, self.h264_crf(r, rung), rung == 0);
        if let Some(&crf) = self.av1_crfs.get(rung) {
            rate.crf = Some(crf);
        }
        rate
    }

    /// The encoder options of rung `r`'s (index `rung`) AV1 stream as output video stream `v`,
    /// with `gop` frames between keyframes: SVT-AV1 at the rung's preset, [`AV1_PARAMS`], capped
    /// CRF at `crf` (a trial's) or [`Extras::av1_rate`]'s.
    pub fn av1_args(
        &self,
        v: usize,
        r: &Rung,
        rung: usize,
        gop: u64,
        crf: Option<u32>,
    ) -> Vec<String> {
        let mut a: Vec<String> = Vec::new();
        let mut push = |key: String, value: String| {
            a.push(key);
            a.push(value);
        };
        push(format!("-c:v:{v}"), "libsvtav1".into());
        push(
            format!("-preset:v:{v}"),
            av1_preset(self.av1_preset, rung == 0).to_string(),
        );
        push(format!("-profile:v:{v}"), "main".into());
        // Exactly one keyframe interval: SVT-AV1 puts a key frame every `g` frames and nowhere
        // else (scene detection off in AV1_PARAMS).
        push(format!("-g:v:{v}"), gop.to_string());
        push(format!("-svtav1-params:v:{v}"), AV1_PARAMS.into());
        // Capped CRF (SVT-AV1 takes the cap as its maximum bitrate).
        let rate = self.av1_rate(r, rung);
        if let Some(crf) = crf.or(rate.crf) {
            push(format!("-crf:v:{v}"), crf.to_string());
        }
        if let Some(bitrate) = rate.bitrate {
            push(format!("-b:v:{v}"), bitrate.to_string());
        }
        push(format!("-maxrate:v:{v}"), rate.maxrate.to_string());
        push(format!("-bufsize:v:{v}"), rate.bufsize.to_string());
        a
    }

    /// How many output streams the extra codecs add.
    pub fn len(&self) -> usize {
        self.codecs.len() * self.rungs
    }

    /// Codec-major: every rung of the first extra codec, then the next codec's.
    pub fn streams(&self) -> Vec<ExtraStream> {
        self.codecs
            .iter()
            .enumerate()
            .flat_map(|(c, codec)| {
                (0..self.rungs).map(move |rung| ExtraStream {
                    codec: *codec,
                    rung,
                    video_index: self.rungs + c * self.rungs + rung,
                })
            })
            .collect()
    }

    /// What ends rung `i`'s scaler in the filter graph: its H.264 label `[v{i}]`, split first
    /// when the extra codecs take the same picture.
    pub fn rung_outputs(&self, i: usize) -> String {
        if self.codecs.is_empty() {
            return format!("[v{i}]");
        }
        let mut out = format!(",split={}[v{i}]", self.codecs.len() + 1);
        for c in &self.codecs {
            out.push_str(&format!("[v{i}{}]", c.name()));
        }
        out
    }

    /// What an extra stream of `codec` for rung `r` (index `rung`) was asked to be, over the
    /// H.264 rung's record `h264` (same size, frame rate and filters): its encoder, preset,
    /// profile, its rate control (see [`Extras::encoder_args`]) and GOP.
    pub fn describe(
        &self,
        h264: RungEncode,
        codec: VideoCodec,
        r: &Rung,
        gops: &[u64],
        rung: usize,
    ) -> RungEncode {
        let (encoder, preset, rate) = match codec {
            VideoCodec::H264 => return h264,
            VideoCodec::Av1 => (
                "libsvtav1",
                av1_preset(self.av1_preset, rung == 0).to_string(),
                self.av1_rate(r, rung),
            ),
            VideoCodec::Hevc => (
                "libx265",
                self.hevc_preset.clone(),
                rate::RungRate {
                    crf: None,
                    bitrate: Some(codec.scale(r.bitrate)),
                    maxrate: codec.scale(r.maxrate),
                    bufsize: codec.scale(r.bufsize),
                    init_occupancy: None,
                },
            ),
        };
        RungEncode {
            codec: codec.name().into(),
            encoder: encoder.into(),
            preset,
            profile: "main".into(),
            crf: rate.crf,
            bitrate: rate.bitrate.unwrap_or(0),
            maxrate: rate.maxrate,
            bufsize: rate.bufsize,
            gop: match codec {
                VideoCodec::Av1 => gops.get(rung).copied().unwrap_or(0),
                _ => h264.gop,
            },
            ..h264
        }
    }

    /// `-map` for every extra stream, in output order (after the audio maps).
    pub fn maps(&self) -> Vec<String> {
        self.streams()
            .iter()
            .flat_map(|s| ["-map".into(), format!("[v{}{}]", s.rung, s.codec.name())])
            .collect()
    }

    /// Per-stream encoder options of the extra streams, appended after the H.264 ones (a
    /// per-stream option given later overrides the general one for that stream). With AV1,
    /// also the frame-numbered keyframes of every video stream.
    pub fn encoder_args(
        &self,
        rungs: &[Rung],
        picture: &Picture,
        video: &VideoInfo,
        keyframe_seconds: u32,
    ) -> Vec<String> {
        let mut a: Vec<String> = Vec::new();
        let mut push = |k: String, v: String| {
            a.push(k);
            a.push(v);
        };
        let gop = gops(picture, video, rungs, keyframe_seconds);
        let with_av1 = self.codecs.contains(&VideoCodec::Av1);
        if with_av1 {
            for (i, g) in gop.iter().enumerate() {
                push(format!("-force_key_frames:v:{i}"), keyframes_every(*g));
            }
        }
        for s in self.streams() {
            let v = s.video_index;
            let rung = &rungs[s.rung];
            match s.codec {
                VideoCodec::Av1 => {
                    let args = self.av1_args(v, rung, s.rung, gop[s.rung], None);
                    for pair in args.chunks(2) {
                        push(pair[0].clone(), pair[1].clone());
                    }
                    continue;
                }
                VideoCodec::Hevc => {
                    push(format!("-c:v:{v}"), "libx265".into());
                    push(format!("-preset:v:{v}"), self.hevc_preset.clone());
                    push(format!("-profile:v:{v}"), "main".into());
                    // `hvc1`: parameter sets in the init segment only, what Apple players
                    // require (`hev1` may carry them in band).
                    push(format!("-tag:v:{v}"), "hvc1".into());
                    // Forced keyframes become IDR frames, and x265 adds none of its own.
                    push(format!("-forced-idr:v:{v}"), "1".into());
                    push(
                        format!("-x265-params:v:{v}"),
                        "scenecut=0:open-gop=0:log-level=error".into(),
                    );
                    if with_av1 {
                        push(
                            format!("-force_key_frames:v:{v}"),
                            keyframes_every(gop[s.rung]),
                        );
                    }
                }
                VideoCodec::H264 => {}
            }
            push(format!("-b:v:{v}"), s.codec.scale(rung.bitrate).to_string());
            push(
                format!("-maxrate:v:{v}"),
                s.codec.scale(rung.maxrate).to_string(),
            );
            push(
                format!("-bufsize:v:{v}"),
                s.codec.scale(rung.bufsize).to_string(),
            );
        }
        a
    }

    /// The dash muxer's adaptation sets of the extra streams, numbered from `first_stream`
    /// (one per stream; joined per codec afterwards like the H.264 ones).
    pub fn adaptation_sets(&self, first_stream: usize) -> Vec<String> {
        (first_stream..first_stream + self.len())
            .map(|s| format!("id={s},streams={s}"))
            .collect()
    }
}

/// `-force_key_frames` on every `g`th frame of a stream.
pub(super) fn keyframes_every(g: u64) -> String {
    format!("expr:not(mod(n,{g}))")
}

/// Each rung's keyframe interval in its own frames: the keyframe cadence at the rung's rate,
/// rounded. A rung at half the picture's rate (see `Picture::rung_rate`) gets exactly half of
/// a full-rate rung's (which is made even if it has to be), so that every rung's keyframes fall
/// on the same instants.
pub(super) fn gops(
    picture: &Picture,
    video: &VideoInfo,
    rungs: &[Rung],
    keyframe_seconds: u32,
) -> Vec<u64> {
    let fps = picture.fps(video);
    let full = (fps * keyframe_seconds as f64).round().clamp(1.0, 10_000.0) as u64;
    let half_rate = |r: &Rung| {
        let short = r.width.min(r.height);
        picture.rung_rate(short) != picture.rate
    };
    let any_half = rungs.iter().any(half_rate);
    let full = if any_half && full % 2 == 1 {
        full + 1
    } else {
        full
    };
    rungs
        .iter()
        .map(|r| if half_rate(r) { full / 2 } else { full })
        .collect()
}

/// `mpd` with each of `streams`' representations naming the codec its init segment holds
/// (profile, level and all, read from the configuration box: see [`mp4::codec_string`]).
pub(super) async fn name_codecs(stream_dir: &Path, mpd: &str, streams: &[usize]) -> Result<String> {
    let mut mpd = mpd.to_string();
    for &stream in streams {
        let file = format!("init-{stream}.m4s");
        let init = tokio::fs::read(stream_dir.join(&file))
            .await
            .map_err(|e| MediaError::bad_output_from(format!("ffmpeg wrote no {file}"), e))?;
        let codecs = mp4::codec_string(&init)
            .ok_or_else(|| MediaError::bad_output(format!("{file}: an unknown codec")))?;
        mpd = set_mpd_codecs(&mpd, stream, &codecs).ok_or_else(|| {
            MediaError::bad_output(format!("the MPD has no codecs for representation {stream}"))
        })?;
    }
    Ok(mpd)
}

/// Rewrites the `codecs` attribute of the MPD's representation `id` (the dash muxer writes a
/// bare `hvc1` for HEVC; players need the profile and level to decide).
pub(super) fn set_mpd_codecs(xml: &str, id: usize, codecs: &str) -> Option<String> {
    let tag_start = xml.find(&format!("<Representation id=\"{id}\""))?;
    let tag_end = tag_start + xml[tag_start..].find('>')?;
    let attr = tag_start + xml[tag_start..tag_end].find(" codecs=\"")? + " codecs=\"".len();
    let value_end = attr + xml[attr..tag_end].find('"')?;
    Some(format!("{}{codecs}{}", &xml[..attr], &xml[value_end..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ladder;

    fn info(fps: f64) -> VideoInfo {
        VideoInfo {
            index: 0,
            codec: "h264".into(),
            width: 1920,
            height: 1080,
            fps,
            pix_fmt: "yuv420p".into(),
            ..Default::default()
        }
    }

    #[test]
    fn parses_codec_lists() {
        assert_eq!(parse_codec_list("h264"), Ok(vec![]));
        assert_eq!(parse_codec_list("h264,av1"), Ok(vec![VideoCodec::Av1]));
        assert_eq!(
            parse_codec_list(" HEVC , h264,av1"),
            Ok(vec![VideoCodec::Hevc, VideoCodec::Av1])
        );
        assert!(parse_codec_list("av1").unwrap_err().contains("h264 must"));
        assert!(parse_codec_list("h264,vp9").unwrap_err().contains("'vp9'"));
        assert!(parse_codec_list("h264,av1,av1")
            .unwrap_err()
            .contains("twice"));
        assert!(parse_codec_list("").is_err());
    }

    #[test]
    fn codec_of_codecs_strings() {
        assert_eq!(
            VideoCodec::of_codecs("avc1.640028,mp4a.40.2"),
            Some(VideoCodec::H264)
        );
        assert_eq!(
            VideoCodec::of_codecs("av01.0.08M.08"),
            Some(VideoCodec::Av1)
        );
        assert_eq!(
            VideoCodec::of_codecs("hvc1.1.6.L93.90"),
            Some(VideoCodec::Hevc)
        );
        assert_eq!(VideoCodec::of_codecs("mp4a.40.2"), None);
        assert_eq!(VideoCodec::of_codecs(""), None);
    }

    #[test]
    fn gops_share_instants_across_rates() {
        // 29.97 fps, 2 s: 60 frames (2.002 s) in every rung.
        let v = info(29.97);
        let rungs = ladder::plan(&v, ladder::DEFAULT_LADDER);
        let picture = Picture::from_probe(&v, None);
        assert!(gops(&picture, &v, &rungs, 2).iter().all(|g| *g == 60));
        // 59.94 fps: the rungs of 480p and below run at half the rate, with half the frames.
        let v = info(59.94);
        let picture = Picture::from_probe(&v, None);
        let g = gops(&picture, &v, &rungs, 2);
        assert_eq!(g, [120, 120, 60, 60, 60]);
        // 33 fps and a 1 s interval: 33 frames cannot be halved, so 34 and 17.
        let v = info(33.0);
        let picture = Picture::from_probe(&v, None);
        assert_eq!(gops(&picture, &v, &rungs, 1), [34, 34, 17, 17, 17]);
    }

    #[test]
    fn extra_streams_follow_the_audio_and_override_per_stream() {
        let v = info(25.0);
        let rungs = ladder::plan(&v, ladder::DEFAULT_LADDER)[3..].to_vec(); // 360p, 240p
        let picture = Picture::from_probe(&v, None);
        let opts = CodecOptions {
            extra: vec![VideoCodec::Av1, VideoCodec::Hevc],
            ..Default::default()
        };
        let (extras, warning) = Extras::plan(&opts, &picture, rungs.len());
        assert_eq!(warning, None);
        assert_eq!(extras.len(), 4);
        assert_eq!(extras.rung_outputs(1), ",split=3[v1][v1av1][v1hevc]");
        assert_eq!(
            extras.maps().join(" "),
            "-map [v0av1] -map [v1av1] -map [v0hevc] -map [v1hevc]"
        );
        // Two rungs and one audio track: the extra streams are 3 to 6.
        assert_eq!(
            extras.adaptation_sets(3).join(" "),
            "id=3,streams=3 id=4,streams=4 id=5,streams=5 id=6,streams=6"
        );
        let args = extras.encoder_args(&rungs, &picture, &v, 2).join(" ");
        assert!(args.starts_with(
            "-force_key_frames:v:0 expr:not(mod(n,50)) -force_key_frames:v:1 expr:not(mod(n,50)) "
        ), "{args}");
        // Beside a fixed ladder: capped CRF at the hard-content target; the top rung (360p
        // here) at the top rung's target under H.264's own cap, one preset step slower than
        // the others, which keep 65 % of theirs.
        assert!(args.contains("-preset:v:3 10 "), "{args}");
        assert!(
            args.contains(
                "-c:v:2 libsvtav1 -preset:v:2 9 -profile:v:2 main -g:v:2 50 \
                 -svtav1-params:v:2 enable-tf=0:scd=0 -crf:v:2 46 -maxrate:v:2 800000 \
                 -bufsize:v:2 1200000 -c:v:3"
            ),
            "{args}"
        );
        assert!(!args.contains("-b:v:2"), "{args}");
        assert!(args.contains("-c:v:5 libx265 -preset:v:5 superfast -profile:v:5 main -tag:v:5 hvc1 -forced-idr:v:5 1"), "{args}");
        assert!(
            args.contains("-force_key_frames:v:5 expr:not(mod(n,50)) -b:v:5 280000"),
            "{args}"
        );

        // HEVC alone keeps the time-based keyframes.
        let hevc = CodecOptions {
            extra: vec![VideoCodec::Hevc],
            ..Default::default()
        };
        let (extras, _) = Extras::plan(&hevc, &picture, rungs.len());
        let args = extras.encoder_args(&rungs, &picture, &v, 2).join(" ");
        assert!(!args.contains("force_key_frames"), "{args}");
        assert_eq!(extras.rung_outputs(0), ",split=2[v0][v0hevc]");

        // Nothing extra: the plain label.
        let (none, _) = Extras::plan(&CodecOptions::default(), &picture, 2);
        assert_eq!(none.len(), 0);
        assert_eq!(none.rung_outputs(0), "[v0]");
        assert!(none.maps().is_empty());
    }

    #[test]
    fn av1_follows_the_h264_quality_target() {
        let v = info(30.0);
        let rungs = ladder::plan(&v, ladder::DEFAULT_LADDER); // 1080p … 240p
        let picture = Picture::from_probe(&v, None);
        let opts = CodecOptions {
            extra: vec![VideoCodec::Av1],
            ..Default::default()
        };
        // The probe's CRFs; the 720p rung was found hard (H.264 at its ladder bitrate).
        let hard = super::super::complexity::MIN_CRF;
        let crfs = [27, hard, 28, 26];
        let (extras, _) = Extras::plan(&opts, &picture, rungs.len());
        let extras = extras.with_rates(LadderMode::Adaptive, &crfs);
        let args = extras.encoder_args(&rungs, &picture, &v, 2).join(" ");
        let stream = |i: usize| {
            let v = rungs.len() + i;
            let from = args.find(&format!("-c:v:{v} ")).unwrap();
            let to = args[from..]
                .find(&format!("-c:v:{} ", v + 1))
                .map_or(args.len(), |e| from + e);
            args[from..to].trim().to_string()
        };
        // 1080p: H.264's CRF 27 + 17, one preset step slower, capped at H.264's 5 Mbit/s.
        assert_eq!(
            stream(0),
            "-c:v:5 libsvtav1 -preset:v:5 9 -profile:v:5 main -g:v:5 60 \
             -svtav1-params:v:5 enable-tf=0:scd=0 -crf:v:5 44 -maxrate:v:5 5000000 \
             -bufsize:v:5 7500000"
        );
        // 720p, hard for H.264: the hard-content target, at the cap.
        assert!(stream(1).contains("-preset:v:6 10 "), "{}", stream(1));
        assert!(
            stream(1).ends_with("-crf:v:6 26 -maxrate:v:6 1820000 -bufsize:v:6 2730000"),
            "{}",
            stream(1)
        );
        // 480p and 360p: + 21; 240p has no probed CRF: x264's default for it, + 21.
        assert!(stream(2).contains("-crf:v:7 49 "), "{}", stream(2));
        assert!(stream(3).contains("-crf:v:8 47 "), "{}", stream(3));
        let default = rate::crf(&rungs[4]) + 21;
        assert!(
            stream(4).contains(&format!("-crf:v:9 {default} ")),
            "{}",
            stream(4)
        );
        // No average-bitrate mode anywhere (SVT-AV1's overshoots).
        assert!(!args.contains("-b:v:"), "{args}");

        // The encode report says the same.
        let h264 = RungEncode {
            gop: 120,
            ..Default::default()
        };
        let gops = gops(&picture, &v, &rungs, 2);
        let d = extras.describe(h264.clone(), VideoCodec::Av1, &rungs[0], &gops, 0);
        assert_eq!(
            (d.encoder.as_str(), d.preset.as_str(), d.crf, d.bitrate),
            ("libsvtav1", "9", Some(44), 0)
        );
        assert_eq!((d.maxrate, d.bufsize, d.gop), (5_000_000, 7_500_000, 60));
        let d = extras.describe(h264, VideoCodec::Av1, &rungs[1], &gops, 1);
        assert_eq!((d.preset.as_str(), d.crf), ("10", Some(26)));
    }

    /// The trials' CRFs replace the offset's, in the command and the report; the caps stay.
    #[test]
    fn av1_takes_the_trials_crfs() {
        let v = info(30.0);
        let rungs = ladder::plan(&v, ladder::DEFAULT_LADDER)[..2].to_vec();
        let picture = Picture::from_probe(&v, None);
        let opts = CodecOptions {
            extra: vec![VideoCodec::Av1],
            ..Default::default()
        };
        let (extras, _) = Extras::plan(&opts, &picture, rungs.len());
        let extras = extras.with_rates(LadderMode::Adaptive, &[25, 23]);
        let offsets = extras.encoder_args(&rungs, &picture, &v, 2).join(" ");
        assert!(
            offsets.contains("-crf:v:2 42 -maxrate:v:2 5000000 "),
            "{offsets}"
        );
        assert!(
            offsets.contains("-crf:v:3 41 -maxrate:v:3 1820000 "),
            "{offsets}"
        );
        let tried = extras.clone().with_av1(&Av1Choice {
            crfs: vec![51, 55],
            skip: None,
        });
        let args = tried.encoder_args(&rungs, &picture, &v, 2).join(" ");
        assert_eq!(
            args,
            offsets
                .replace("-crf:v:2 42 ", "-crf:v:2 51 ")
                .replace("-crf:v:3 41 ", "-crf:v:3 55 ")
        );
        let gops = gops(&picture, &v, &rungs, 2);
        let d = tried.describe(RungEncode::default(), VideoCodec::Av1, &rungs[1], &gops, 1);
        assert_eq!((d.crf, d.maxrate), (Some(55), 1_820_000));
        // H.264's own CRFs are untouched.
        assert_eq!(tried.h264_crf(&rungs[1], 1), 23);
        // Trials that found AV1 not worth it leave no AV1 stream.
        let skipped = extras.with_av1(&Av1Choice {
            crfs: vec![63, 63],
            skip: Some("published without AV1".into()),
        });
        assert!(!skipped.has(VideoCodec::Av1));
        assert_eq!(skipped.len(), 0);
        assert!(skipped.encoder_args(&rungs, &picture, &v, 2).is_empty());
    }

    #[test]
    fn av1_presets_by_rung() {
        assert_eq!(av1_preset(10, true), 9);
        assert_eq!(av1_preset(10, false), 10);
        assert_eq!(av1_preset(0, true), 0);
    }

    #[test]
    fn no_constant_rate_no_extras() {
        let v = info(0.0);
        let mut picture = Picture::from_probe(&v, None);
        picture.rate = None;
        let opts = CodecOptions {
            extra: vec![VideoCodec::Av1],
            ..Default::default()
        };
        let (extras, warning) = Extras::plan(&opts, &picture, 3);
        assert_eq!(extras.len(), 0);
        assert!(warning.unwrap().contains("H.264 only"));
    }

    #[test]
    fn rewrites_one_representations_codecs() {
        let xml = r#"<AdaptationSet><Representation id="1" mimeType="video/mp4" codecs="avc1.64001e" bandwidth="1"/><Representation id="12" mimeType="video/mp4" codecs="hvc1" bandwidth="2"/></AdaptationSet>"#;
        let out = set_mpd_codecs(xml, 12, "hvc1.1.6.L63.90").unwrap();
        assert!(
            out.contains(r#"id="12" mimeType="video/mp4" codecs="hvc1.1.6.L63.90" bandwidth="2""#)
        );
        assert!(out.contains(r#"codecs="avc1.64001e""#));
        assert_eq!(set_mpd_codecs(xml, 2, "x"), None);
    }
}
