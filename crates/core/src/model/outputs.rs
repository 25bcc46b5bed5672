//! What processing published for an item: renditions, audio and text tracks, image variants,
//! downloads, and what the source video was. Stored as one JSON document.

use super::{string_enum, ParseEnumError};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

/// One rung of the published ladder (audio renditions have width and height 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Rendition {
    pub name: String,
    pub width: i32,
    pub height: i32,
    /// Peak bits per second, as advertised in the HLS master playlist.
    pub bandwidth: i64,
    /// RFC 6381 codecs string, e.g. `avc1.64001f,mp4a.40.2`.
    pub codecs: String,
    /// The video codec (`h264`, `av1`, `hevc`); `None` for audio renditions and for items
    /// processed before it was recorded (those are H.264).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codec: Option<String>,
}

/// A published audio track (each is a stereo AAC rendition in HLS and DASH).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AudioTrack {
    /// Position in the published order; 0 is the default track.
    pub id: i32,
    /// ISO 639 code from the source (`und` when it had none).
    pub language: String,
    /// The source's title, else the language's English name, else `Audio N`.
    pub name: String,
    /// Channels as published.
    pub channels: i32,
    /// The track players select first.
    pub default: bool,
}

string_enum!(
    /// The HDR transfer a video source was tagged with: `pq` (SMPTE ST 2084, HDR10) or `hlg`
    /// (ARIB STD-B67 hybrid log-gamma). Every rung is tone-mapped to SDR BT.709.
    Hdr, "hdr" { Pq => "pq", Hlg => "hlg" }
);

/// What the source video stream was, and what the pipeline made of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SourceVideo {
    /// ffprobe's codec name, e.g. `h264`, `hevc`, `prores`.
    pub codec: String,
    /// Display size: sample aspect ratio applied and swapped for a ±90° rotation.
    pub width: i32,
    pub height: i32,
    /// The rungs' constant frame rate (the source's nominal rate, at most 60).
    pub fps: f64,
    /// The source's HDR transfer (tone-mapped to SDR), `None` for SDR.
    pub hdr: Option<Hdr>,
    /// The source was interlaced (and every rung was deinterlaced).
    pub interlaced: bool,
    /// Clockwise rotation from the display matrix, in degrees: 0, 90, 180 or 270.
    pub rotation: i32,
    /// ffprobe's pixel format, e.g. `yuv420p10le`.
    pub pixel_format: String,
}

/// Whether a text track transcribes speech only (`subtitles`) or also sounds and speakers
/// (`captions`, for viewers who cannot hear the audio).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TextTrackKind {
    Subtitles,
    Captions,
}

/// Where a text track came from: a subtitle stream of the source, or a file the owner uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TextTrackSource {
    Embedded,
    Upload,
}

/// A WebVTT text track published beside the streams (HLS `SUBTITLES` rendition, DASH text
/// adaptation set). Its files are [`crate::layout::text_track_vtt`] and
/// [`crate::layout::text_track_playlist`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TextTrack {
    /// `s0`, `s1`… for the source's streams in order; uploads get their own ids. Only ASCII
    /// letters, digits and `-`: it is part of the file names.
    pub id: String,
    /// ISO 639 code (`und` when unknown).
    pub language: String,
    /// What players show in their captions menu.
    pub label: String,
    pub kind: TextTrackKind,
    pub source: TextTrackSource,
}

/// An image variant (e.g. `thumb` as WebP).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Variant {
    pub name: String,
    pub width: i32,
    pub height: i32,
    pub content_type: String,
    /// Object key relative to the item's output prefix, e.g. `variants/thumb.webp`.
    pub path: String,
}

/// Everything processing produced for an item. Paths are relative to the item's outputs prefix
/// (`media/{id}/`, see [`crate::layout`]) in the output bucket. Stored as one JSON document: it
/// is written once, when processing finishes.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MediaOutputs {
    pub renditions: Vec<Rendition>,
    pub variants: Vec<Variant>,
    /// HLS master playlist, e.g. `stream/master.m3u8`.
    pub hls: Option<String>,
    /// DASH manifest, e.g. `stream/manifest.mpd` (segments shared with HLS).
    pub dash: Option<String>,
    pub thumbnail: Option<String>,
    /// Storyboard WebVTT; its cues point into a sprite next to it.
    pub storyboard: Option<String>,
    /// Total bytes of all outputs.
    pub bytes: i64,
    /// Every published audio track, default first.
    pub audio_tracks: Vec<AudioTrack>,
    /// What processing left out of the source and why, for the user (e.g. an audio track that
    /// could not be decoded).
    pub warnings: Vec<String>,
    /// The source video stream (`None` for audio and images, and for items processed before
    /// it was recorded).
    pub source: Option<SourceVideo>,
    /// Text tracks made from the source's subtitle streams (uploaded ones live in the database).
    pub text_tracks: Vec<TextTrack>,
    /// Files to download, remuxed from the published rungs without re-encoding: MP4s of some
    /// video rungs, an M4A of the default audio track (see [`crate::layout::download_file`]).
    pub downloads: Vec<Download>,
    /// How the item was encoded, what it cost and how good each rendition came out (`None` for
    /// images and audio, and items processed before it was recorded).
    pub encode: Option<crate::EncodeReport>,
}

/// A downloadable file made from the published streams (`downloads/{name}.mp4|.m4a`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Download {
    /// `720p`… for a video rung, `audio` for the M4A: the last segment of its public path.
    pub name: String,
    /// Relative to the item's outputs prefix, e.g. `downloads/720p.mp4`.
    pub path: String,
    /// 0 for the M4A.
    pub width: i32,
    pub height: i32,
    pub bytes: i64,
    /// `video/mp4` or `audio/mp4`.
    pub content_type: String,
}
