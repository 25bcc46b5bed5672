//! ffprobe: what is in a file, reduced to what planning and the API need.

use crate::error::{MediaError, Result};
use crate::process::{self, Budget, Collect};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// ffprobe JSON is small; a file whose metadata makes it larger than this is hostile.
const MAX_PROBE_OUTPUT: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeInfo {
    /// ffprobe's `format_name`, e.g. `mov,mp4,m4a,3gp,3g2,mj2`, `mp3`, `png_pipe`.
    pub format_name: String,
    /// Seconds; `None` when neither the container nor a stream knows it (still images).
    pub duration: Option<f64>,
    /// Bytes, as ffprobe saw the file.
    pub size: u64,
    pub bit_rate: Option<u64>,
    /// The first real video stream (attached pictures such as cover art are not video).
    pub video: Option<VideoInfo>,
    /// The first audio stream.
    pub audio: Option<AudioInfo>,
    /// Every audio stream, in source order (`audio` is the first of them).
    #[serde(default)]
    pub audio_streams: Vec<AudioInfo>,
    /// Every subtitle stream, in source order (text and picture-based alike).
    #[serde(default)]
    pub subtitle_streams: Vec<SubtitleInfo>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VideoInfo {
    /// Absolute stream index in the input (for `-map 0:INDEX`).
    pub index: usize,
    pub codec: String,
    /// Display size: sample aspect ratio applied and swapped for a ±90° rotation, i.e. what a
    /// player shows and what ffmpeg (which auto-rotates) feeds the filter graph.
    pub width: u32,
    pub height: u32,
    /// Clockwise rotation to apply for display, in degrees: 0, 90, 180 or 270 (a phone held
    /// upright records 90).
    pub rotation: u32,
    /// Average frame rate; 0.0 when unknown.
    pub fps: f64,
    /// The stream's own duration in seconds, when the container records one.
    pub duration: Option<f64>,
    pub bit_rate: Option<u64>,
    pub pix_fmt: String,
    /// The stream's nominal rate (`r_frame_rate`) as `(num, den)`, when it is a real rate.
    #[serde(default)]
    pub rate: Option<(u32, u32)>,
    /// ffprobe's `field_order`: `progressive`, `tt`, `bb`, `tb`, `bt`, or `None` (unknown).
    #[serde(default)]
    pub field_order: Option<String>,
    /// ffprobe's colour tags (`color_transfer`, `color_primaries`, `color_space`), e.g.
    /// `arib-std-b67`, `bt2020`, `bt2020nc`; `None` when untagged.
    #[serde(default)]
    pub color_transfer: Option<String>,
    #[serde(default)]
    pub color_primaries: Option<String>,
    #[serde(default)]
    pub color_space: Option<String>,
    /// WebM's `alpha_mode` tag: VP8/VP9 with an alpha channel carried beside the picture, which
    /// only libvpx's decoders read (ffmpeg's own report and decode `yuv420p`).
    #[serde(default)]
    pub alpha_mode: bool,
}

/// A high-dynamic-range transfer function: what the picture needs tone-mapping from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Hdr {
    /// SMPTE ST 2084 (HDR10, Dolby Vision's base layer).
    Pq,
    /// ARIB STD-B67 hybrid log-gamma (phones, broadcast).
    Hlg,
}

impl Hdr {
    pub fn as_str(self) -> &'static str {
        match self {
            Hdr::Pq => "pq",
            Hdr::Hlg => "hlg",
        }
    }

    /// The transfer's name as ffprobe prints it and zscale takes it.
    pub fn transfer(self) -> &'static str {
        match self {
            Hdr::Pq => "smpte2084",
            Hdr::Hlg => "arib-std-b67",
        }
    }
}

impl VideoInfo {
    /// The HDR transfer the stream is tagged with, if any.
    pub fn hdr(&self) -> Option<Hdr> {
        match self.color_transfer.as_deref()? {
            "smpte2084" => Some(Hdr::Pq),
            "arib-std-b67" => Some(Hdr::Hlg),
            _ => None,
        }
    }

    /// The decoder to ask for instead of ffmpeg's default, as `(input option, decoder)`
    /// (`-c:INDEX`): libvpx for VP8/VP9 with alpha, so that the alpha channel is decoded.
    pub fn decoder(&self) -> Option<(String, &'static str)> {
        if !self.alpha_mode {
            return None;
        }
        let decoder = match self.codec.as_str() {
            "vp9" => "libvpx-vp9",
            "vp8" => "libvpx",
            _ => return None,
        };
        Some((format!("-c:{}", self.index), decoder))
    }

    /// What the stream says about interlacing: `Some(true)` for a field order, `Some(false)`
    /// for `progressive`, `None` when it does not say (then only looking at frames can tell).
    pub fn interlaced(&self) -> Option<bool> {
        match self.field_order.as_deref()? {
            "progressive" => Some(false),
            "tt" | "bb" | "tb" | "bt" => Some(true),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioInfo {
    /// Absolute stream index in the input (for `-map 0:INDEX`).
    pub index: usize,
    pub codec: String,
    pub channels: u32,
    pub sample_rate: u32,
    pub bit_rate: Option<u64>,
    /// The stream's own duration in seconds, when the container records one.
    pub duration: Option<f64>,
    /// The `language` tag as the container has it (normally ISO 639-2, e.g. `eng`).
    #[serde(default)]
    pub language: Option<String>,
    /// The `title` tag (e.g. `Director's commentary`).
    #[serde(default)]
    pub title: Option<String>,
    /// The container marks it as the default track.
    #[serde(default)]
    pub default: bool,
}

/// A subtitle stream of the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubtitleInfo {
    /// Absolute stream index in the input (for `-map 0:INDEX`).
    pub index: usize,
    /// ffprobe's codec name (`mov_text`, `subrip`, `ass`, `hdmv_pgs_subtitle`…; empty if
    /// ffmpeg does not know it).
    pub codec: String,
    /// The `language` tag as the container has it.
    pub language: Option<String>,
    /// The `title` tag.
    pub title: Option<String>,
    /// The container marks it as meant for viewers who cannot hear (`hearing_impaired` or
    /// `captions` disposition): captions rather than subtitles.
    pub captions: bool,
}

impl ProbeInfo {
    /// A single picture rather than a timed stream (ffmpeg's image demuxers): route it to the
    /// image pipeline, not the video ladder.
    pub fn is_still_image(&self) -> bool {
        self.format_name == "image2" || self.format_name.ends_with("_pipe")
    }

    /// How long the audio and video last: the longer of their stream durations, else the
    /// container's. Unlike the container duration it ignores subtitle and data tracks, which
    /// may run longer and are not transcoded.
    pub fn media_duration(&self) -> Option<f64> {
        let video = self.video.as_ref().and_then(|v| v.duration);
        let audio = self.audio.as_ref().and_then(|a| a.duration);
        match (video, audio) {
            (Some(v), Some(a)) => Some(v.max(a)),
            (v, a) => v.or(a).or(self.duration),
        }
    }
}

/// Runs ffprobe on `path` and parses its answer.
///
/// Anything ffprobe cannot read (not media, truncated, empty) and files without an audio or video
/// stream are [`MediaError::Unusable`].
pub async fn probe(path: &Path, timeout: Duration) -> Result<ProbeInfo> {
    let meta = tokio::fs::metadata(path).await?;
    if !meta.is_file() {
        return Err(MediaError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the input is not a regular file",
        )));
    }
    if meta.len() == 0 {
        return Err(MediaError::unusable("the file is empty"));
    }
    let budget = Budget::new(timeout, CancellationToken::new());
    let mut out = Collect::new(MAX_PROBE_OUTPUT);
    let finished = process::run(
        "ffprobe",
        [
            "-v".as_ref(),
            "error".as_ref(),
            "-print_format".as_ref(),
            "json".as_ref(),
            "-show_format".as_ref(),
            "-show_streams".as_ref(),
            file_url(path).as_os_str(),
        ],
        "ffprobe",
        &budget,
        |chunk| out.push(chunk),
    )
    .await?;
    if !finished.success() {
        // The file exists and is readable (checked above), so a refusal is about its content,
        // unless ffprobe was killed or its stderr blames the machine.
        return Err(crate::diagnose::classify(finished, "audio or video", true));
    }
    if out.overflowed {
        return Err(MediaError::unusable("ffprobe output is implausibly large"));
    }
    let text = String::from_utf8_lossy(&out.bytes);
    let info = parse(&text)?;
    if info.video.is_none() && info.audio.is_none() {
        return Err(MediaError::unusable(
            "the file has no audio or video stream",
        ));
    }
    Ok(info)
}

/// `file:` keeps ffmpeg from reading a path as a protocol URL or an option.
pub(crate) fn file_url(path: &Path) -> std::path::PathBuf {
    let mut s = std::ffi::OsString::from("file:");
    s.push(path.as_os_str());
    s.into()
}

/// Parses `ffprobe -print_format json -show_format -show_streams` output.
pub fn parse(json: &str) -> Result<ProbeInfo> {
    let raw: RawProbe = serde_json::from_str(json)
        .map_err(|e| MediaError::unusable(format!("unreadable ffprobe output: {e}")))?;
    let format = raw
        .format
        .ok_or_else(|| MediaError::unusable("ffprobe found no container format"))?;

    let video = raw
        .streams
        .iter()
        .filter(|s| s.codec_type.as_deref() == Some("video") && !s.is_attached_picture())
        .find_map(video_info);
    let audio_streams: Vec<AudioInfo> = raw
        .streams
        .iter()
        .filter(|s| s.codec_type.as_deref() == Some("audio"))
        .filter_map(audio_info)
        .collect();
    let audio = audio_streams.first().cloned();
    let subtitle_streams = raw
        .streams
        .iter()
        .filter(|s| s.codec_type.as_deref() == Some("subtitle"))
        .map(subtitle_info)
        .collect();

    // Some containers (raw streams, a few mkv) know only per-stream durations.
    let duration = parse_f64(format.duration.as_deref()).or_else(|| {
        raw.streams
            .iter()
            .filter_map(|s| parse_f64(s.duration.as_deref()))
            .reduce(f64::max)
    });

    Ok(ProbeInfo {
        format_name: format.format_name.unwrap_or_default(),
        duration,
        size: parse_u64(format.size.as_deref()).unwrap_or(0),
        bit_rate: parse_u64(format.bit_rate.as_deref()),
        video,
        audio,
        audio_streams,
        subtitle_streams,
    })
}

fn subtitle_info(s: &RawStream) -> SubtitleInfo {
    SubtitleInfo {
        index: s.index,
        codec: s.codec_name.clone().unwrap_or_default(),
        language: s.tag_any("language").map(str::to_string),
        title: s.tag_any("title").map(str::to_string),
        captions: s.flag("hearing_impaired") || s.flag("captions"),
    }
}

fn video_info(s: &RawStream) -> Option<VideoInfo> {
    let (w, h) = (s.width.filter(|w| *w > 0)?, s.height.filter(|h| *h > 0)?);
    // Anamorphic sources: the display width is the coded width stretched by the SAR.
    let w = match parse_ratio(s.sample_aspect_ratio.as_deref()) {
        Some(sar) if (sar - 1.0).abs() > 1e-6 => ((w as f64 * sar).round() as u32).max(1),
        _ => w,
    };
    let rotation = s.rotation();
    let (width, height) = if rotation % 180 == 90 { (h, w) } else { (w, h) };
    let fps = parse_ratio(s.avg_frame_rate.as_deref())
        .or_else(|| parse_ratio(s.r_frame_rate.as_deref()))
        .unwrap_or(0.0);
    Some(VideoInfo {
        index: s.index,
        codec: s.codec_name.clone().unwrap_or_default(),
        width,
        height,
        rotation,
        fps,
        duration: s.own_duration(),
        bit_rate: s.bit_rate(),
        pix_fmt: s.pix_fmt.clone().unwrap_or_default(),
        rate: parse_rational(s.r_frame_rate.as_deref()),
        field_order: known(&s.field_order),
        color_transfer: known(&s.color_transfer),
        color_primaries: known(&s.color_primaries),
        color_space: known(&s.color_space),
        alpha_mode: s.tag_any("alpha_mode") == Some("1"),
    })
}

fn audio_info(s: &RawStream) -> Option<AudioInfo> {
    Some(AudioInfo {
        index: s.index,
        codec: s.codec_name.clone().unwrap_or_default(),
        channels: s.channels.unwrap_or(0),
        sample_rate: parse_u64(s.sample_rate.as_deref())
            .and_then(|r| u32::try_from(r).ok())
            .unwrap_or(0),
        bit_rate: s.bit_rate(),
        duration: s.own_duration(),
        language: s.tag_any("language").map(str::to_string),
        title: s.tag_any("title").map(str::to_string),
        default: s
            .disposition
            .get("default")
            .and_then(serde_json::Value::as_i64)
            == Some(1),
    })
}

#[derive(Deserialize)]
struct RawProbe {
    #[serde(default)]
    streams: Vec<RawStream>,
    format: Option<RawFormat>,
}

#[derive(Deserialize)]
struct RawFormat {
    format_name: Option<String>,
    duration: Option<String>,
    size: Option<String>,
    bit_rate: Option<String>,
}

#[derive(Deserialize)]
struct RawStream {
    #[serde(default)]
    index: usize,
    codec_type: Option<String>,
    codec_name: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    sample_aspect_ratio: Option<String>,
    avg_frame_rate: Option<String>,
    r_frame_rate: Option<String>,
    bit_rate: Option<String>,
    pix_fmt: Option<String>,
    field_order: Option<String>,
    color_transfer: Option<String>,
    color_primaries: Option<String>,
    color_space: Option<String>,
    channels: Option<u32>,
    sample_rate: Option<String>,
    duration: Option<String>,
    start_time: Option<String>,
    #[serde(default)]
    disposition: HashMap<String, serde_json::Value>,
    #[serde(default)]
    tags: HashMap<String, serde_json::Value>,
    #[serde(default)]
    side_data_list: Vec<RawSideData>,
}

#[derive(Deserialize)]
struct RawSideData {
    rotation: Option<serde_json::Value>,
}

impl RawStream {
    fn is_attached_picture(&self) -> bool {
        self.disposition
            .get("attached_pic")
            .and_then(serde_json::Value::as_i64)
            == Some(1)
    }

    /// The stream's duration: ffprobe's, else from Matroska's `DURATION` tag (`HH:MM:SS.nnn…`,
    /// all an MKV stream has). Without it an MKV whose subtitles outlast the video would count
    /// as the video's length and make the encode look truncated. ffmpeg writes the tag as the
    /// stream's end timestamp, so a stream that starts late (a copy of a broadcast recording)
    /// lasts the tag minus its start.
    fn own_duration(&self) -> Option<f64> {
        parse_f64(self.duration.as_deref()).or_else(|| {
            let tag = self.tag_any("DURATION")?;
            let mut end = 0.0;
            for part in tag.split(':') {
                end = end * 60.0 + part.parse::<f64>().ok()?;
            }
            let secs = end - parse_f64(self.start_time.as_deref()).unwrap_or(0.0);
            (secs.is_finite() && secs > 0.0).then_some(secs)
        })
    }

    /// A disposition flag that is set.
    fn flag(&self, name: &str) -> bool {
        self.disposition
            .get(name)
            .and_then(serde_json::Value::as_i64)
            == Some(1)
    }

    fn tag(&self, key: &str) -> Option<&str> {
        self.tags.get(key).and_then(serde_json::Value::as_str)
    }

    /// A tag whatever the case of its key (Matroska writes `LANGUAGE`, MP4 `language`), trimmed,
    /// if not empty.
    fn tag_any(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .and_then(|(_, v)| v.as_str())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    /// Clockwise rotation from the display matrix (ffprobe prints it counter-clockwise, so a
    /// phone's portrait video shows -90) or the legacy `rotate` tag (clockwise), as 0/90/180/270.
    fn rotation(&self) -> u32 {
        let degrees = self
            .side_data_list
            .iter()
            .find_map(|sd| match &sd.rotation {
                Some(serde_json::Value::Number(n)) => n.as_f64(),
                Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
                _ => None,
            })
            .map(|ccw: f64| -ccw)
            .or_else(|| self.tag("rotate").and_then(|r| r.trim().parse().ok()))
            .unwrap_or(0.0);
        if !degrees.is_finite() {
            return 0;
        }
        let quarter_turns = (degrees / 90.0).round() as i64;
        (quarter_turns.rem_euclid(4) * 90) as u32
    }

    /// The stream's bit rate, or Matroska's statistics tag when the container has no field.
    fn bit_rate(&self) -> Option<u64> {
        parse_u64(self.bit_rate.as_deref())
            .or_else(|| parse_u64(self.tag("BPS")))
            .or_else(|| parse_u64(self.tag("BPS-eng")))
            .filter(|b| *b > 0)
    }
}

fn parse_f64(s: Option<&str>) -> Option<f64> {
    s?.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
}

fn parse_u64(s: Option<&str>) -> Option<u64> {
    s?.trim().parse().ok()
}

/// ffprobe's `unknown` / `unspecified` / `reserved` values say nothing.
fn known(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty() && !matches!(*v, "unknown" | "unspecified" | "reserved"))
        .map(str::to_string)
}

/// `"30000/1001"` → `(30000, 1001)`; zero, `"0/0"` and absurd rates (over 1000 fps, which
/// ffprobe prints for some timestamp-only streams) → None.
fn parse_rational(s: Option<&str>) -> Option<(u32, u32)> {
    let (n, d) = s?.split_once('/')?;
    let (n, d): (u32, u32) = (n.trim().parse().ok()?, d.trim().parse().ok()?);
    (n > 0 && d > 0 && n / d <= 1000).then_some((n, d))
}

/// `"30000/1001"` → 29.97; `"0/0"`, `"N/A"` → None.
fn parse_ratio(s: Option<&str>) -> Option<f64> {
    let (n, d) = s?.split_once(['/', ':'])?;
    let (n, d): (f64, f64) = (n.trim().parse().ok()?, d.trim().parse().ok()?);
    (n > 0.0 && d > 0.0)
        .then(|| n / d)
        .filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_rotate_tag_and_mkv_bitrate_tag() {
        let json = r#"{"streams":[{"index":0,"codec_type":"video","codec_name":"h264",
            "width":1920,"height":1080,"avg_frame_rate":"0/0","r_frame_rate":"25/1",
            "tags":{"rotate":"270","BPS":"4000000"}}],
            "format":{"format_name":"matroska,webm","duration":"N/A"}}"#;
        let p = parse(json).unwrap();
        let v = p.video.unwrap();
        assert_eq!((v.width, v.height, v.rotation), (1080, 1920, 270));
        assert_eq!(v.fps, 25.0);
        assert_eq!(v.bit_rate, Some(4_000_000));
        assert_eq!(p.duration, None);
    }

    #[test]
    fn field_order_colour_tags_and_rate() {
        let json = r#"{"streams":[{"index":0,"codec_type":"video","width":1920,"height":1080,
            "avg_frame_rate":"25/1","r_frame_rate":"50/1","field_order":"tt",
            "color_transfer":"arib-std-b67","color_primaries":"bt2020","color_space":"bt2020nc"}],
            "format":{"format_name":"mpegts","duration":"2.0"}}"#;
        let v = parse(json).unwrap().video.unwrap();
        assert_eq!(v.rate, Some((50, 1)));
        assert_eq!(v.interlaced(), Some(true));
        assert_eq!(v.hdr(), Some(Hdr::Hlg));
        assert_eq!(v.color_primaries.as_deref(), Some("bt2020"));
        let json = r#"{"streams":[{"index":0,"codec_type":"video","width":64,"height":64,
            "r_frame_rate":"90000/1","field_order":"unknown","color_transfer":"unknown",
            "color_primaries":"unspecified"}],"format":{"format_name":"avi"}}"#;
        let v = parse(json).unwrap().video.unwrap();
        // A timescale is not a frame rate; `unknown` says nothing.
        assert_eq!(v.rate, None);
        assert_eq!(v.interlaced(), None);
        assert_eq!((v.hdr(), v.color_primaries), (None, None));
        let json = r#"{"streams":[{"index":0,"codec_type":"video","width":64,"height":64,
            "field_order":"progressive","color_transfer":"smpte2084"}],"format":{}}"#;
        let v = parse(json).unwrap().video.unwrap();
        assert_eq!((v.interlaced(), v.hdr()), (Some(false), Some(Hdr::Pq)));
    }

    #[test]
    fn webm_alpha_asks_for_libvpx() {
        let json = r#"{"streams":[{"index":1,"codec_type":"video","codec_name":"vp9",
            "width":64,"height":64,"pix_fmt":"yuv420p","tags":{"alpha_mode":"1"}}],
            "format":{"format_name":"matroska,webm"}}"#;
        let v = parse(json).unwrap().video.unwrap();
        assert!(v.alpha_mode);
        assert_eq!(v.decoder(), Some(("-c:1".to_string(), "libvpx-vp9")));
        let vp8 = json
            .replace("vp9", "vp8")
            .replace(r#""index":1"#, r#""index":0"#);
        let v = parse(&vp8).unwrap().video.unwrap();
        assert_eq!(v.decoder(), Some(("-c:0".to_string(), "libvpx")));
        // No alpha, or another codec: ffmpeg's own decoder.
        let plain = json.replace(r#""alpha_mode":"1""#, r#""alpha_mode":"0""#);
        assert_eq!(parse(&plain).unwrap().video.unwrap().decoder(), None);
        let h264 = json.replace("vp9", "h264");
        assert_eq!(parse(&h264).unwrap().video.unwrap().decoder(), None);
    }

    #[test]
    fn anamorphic_display_width() {
        let json = r#"{"streams":[{"index":0,"codec_type":"video","width":720,"height":480,
            "sample_aspect_ratio":"32:27","avg_frame_rate":"30000/1001"}],
            "format":{"format_name":"mpeg","duration":"1.5"}}"#;
        let v = parse(json).unwrap().video.unwrap();
        assert_eq!((v.width, v.height), (853, 480));
        assert!((v.fps - 29.97).abs() < 0.01);
    }

    #[test]
    fn matroska_duration_tags_bound_the_media_not_the_subtitles() {
        let json = r#"{"streams":[
            {"index":0,"codec_type":"video","width":64,"height":64,
             "tags":{"DURATION":"00:00:03.000000000"}},
            {"index":1,"codec_type":"audio","channels":2,"sample_rate":"48000",
             "tags":{"DURATION":"00:01:02.500000000"}},
            {"index":2,"codec_type":"subtitle","codec_name":"subrip",
             "tags":{"DURATION":"00:02:00.000000000"}}],
            "format":{"format_name":"matroska,webm","duration":"120.0"}}"#;
        let p = parse(json).unwrap();
        assert_eq!(p.video.as_ref().unwrap().duration, Some(3.0));
        assert_eq!(p.media_duration(), Some(62.5));
        // ffmpeg's muxer writes the end timestamp: a stream starting at 10 s ending at 14 s.
        let late = r#"{"streams":[
            {"index":0,"codec_type":"video","width":64,"height":64,"start_time":"10.000000",
             "tags":{"DURATION":"00:00:14.000000000"}},
            {"index":1,"codec_type":"audio","channels":2,"sample_rate":"48000",
             "start_time":"9.977000","tags":{"DURATION":"00:00:14.000000000"}}],
            "format":{"format_name":"matroska,webm","duration":"14.0"}}"#;
        let p = parse(late).unwrap();
        assert_eq!(p.video.as_ref().unwrap().duration, Some(4.0));
        assert!((p.media_duration().unwrap() - 4.023).abs() < 1e-9);
        for bad in ["", "x:00", "00:00:00.000000000"] {
            let json = format!(
                r#"{{"streams":[{{"index":0,"codec_type":"video","width":64,"height":64,
                "tags":{{"DURATION":"{bad}"}}}}],"format":{{"format_name":"matroska","duration":"9.0"}}}}"#
            );
            assert_eq!(parse(&json).unwrap().media_duration(), Some(9.0), "{bad}");
        }
    }

    #[test]
    fn every_subtitle_stream_with_language_title_and_kind() {
        let json = r#"{"streams":[
            {"index":0,"codec_type":"video","width":64,"height":64},
            {"index":1,"codec_type":"subtitle","codec_name":"subrip","tags":{"LANGUAGE":"eng"}},
            {"index":2,"codec_type":"subtitle","codec_name":"ass",
             "tags":{"language":"spa","title":" SDH "},"disposition":{"hearing_impaired":1}},
            {"index":3,"codec_type":"subtitle","codec_name":"mov_text","disposition":{"captions":1}},
            {"index":4,"codec_type":"subtitle"}],
            "format":{"format_name":"matroska,webm","duration":"3.0"}}"#;
        let p = parse(json).unwrap();
        let got: Vec<_> = p
            .subtitle_streams
            .iter()
            .map(|s| {
                (
                    s.index,
                    s.codec.as_str(),
                    s.language.as_deref(),
                    s.title.as_deref(),
                    s.captions,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (1, "subrip", Some("eng"), None, false),
                (2, "ass", Some("spa"), Some("SDH"), true),
                (3, "mov_text", None, None, true),
                (4, "", None, None, false),
            ]
        );
    }

    #[test]
    fn media_duration_ignores_longer_subtitles() {
        let json = r#"{"streams":[
            {"index":0,"codec_type":"video","width":64,"height":64,"duration":"10.0"},
            {"index":1,"codec_type":"audio","channels":2,"sample_rate":"48000","duration":"9.5"},
            {"index":2,"codec_type":"subtitle","duration":"100.0"}],
            "format":{"format_name":"mov,mp4","duration":"100.0"}}"#;
        let p = parse(json).unwrap();
        assert_eq!(p.duration, Some(100.0));
        assert_eq!(p.media_duration(), Some(10.0));
        let no_stream_durations = r#"{"streams":[{"index":0,"codec_type":"audio"}],
            "format":{"format_name":"matroska,webm","duration":"7.0"}}"#;
        assert_eq!(
            parse(no_stream_durations).unwrap().media_duration(),
            Some(7.0)
        );
    }

    #[test]
    fn every_audio_stream_with_language_title_and_default() {
        let json = r#"{"streams":[
            {"index":0,"codec_type":"video","width":64,"height":64},
            {"index":1,"codec_type":"audio","codec_name":"aac","channels":2,"sample_rate":"48000",
             "tags":{"language":"eng"},"disposition":{"default":0}},
            {"index":2,"codec_type":"audio","codec_name":"ac3","channels":6,"sample_rate":"48000",
             "tags":{"LANGUAGE":"spa","TITLE":"  Español 5.1 "},"disposition":{"default":1}},
            {"index":3,"codec_type":"audio","codec_name":"opus","channels":2,
             "tags":{"title":""}}],
            "format":{"format_name":"matroska,webm","duration":"3.0"}}"#;
        let p = parse(json).unwrap();
        let got: Vec<_> = p
            .audio_streams
            .iter()
            .map(|a| {
                (
                    a.index,
                    a.channels,
                    a.language.as_deref(),
                    a.title.as_deref(),
                    a.default,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (1, 2, Some("eng"), None, false),
                (2, 6, Some("spa"), Some("Español 5.1"), true),
                (3, 2, None, None, false),
            ]
        );
        assert_eq!(p.audio.unwrap().index, 1);
    }

    #[test]
    fn empty_or_broken_output_is_unusable() {
        assert!(parse("{}").unwrap_err().is_permanent());
        assert!(parse("not json").unwrap_err().is_permanent());
    }

    #[test]
    fn rotation_normalises() {
        for (r, want) in [
            (-90.0, 90),
            (90.0, 270),
            (180.0, 180),
            (-180.0, 180),
            (360.0, 0),
        ] {
            let s = RawStream {
                side_data_list: vec![RawSideData {
                    rotation: Some(serde_json::json!(r)),
                }],
                ..serde_json::from_str("{}").unwrap()
            };
            assert_eq!(s.rotation(), want, "{r}");
        }
    }
}
