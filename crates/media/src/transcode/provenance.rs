//! What a video encode records about itself: per rung the parameters ffmpeg was given and the
//! filter chain that fed the encoder, the encoder's own version and settings as it wrote them
//! into the stream, the bytes published; and the run's wall and CPU time.

use super::package::repair_media_playlist;
use super::STREAM_DIR;
use crate::error::{MediaError, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The encode of a video, as run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct EncodeInfo {
    /// Wall-clock seconds of the encoding ffmpeg run(s).
    pub wall_seconds: f64,
    /// Their CPU seconds (user + system); `None` where the platform does not say.
    pub cpu_seconds: Option<f64>,
    /// Highest first, as the renditions.
    pub rungs: Vec<RungEncode>,
}

/// One encoded rung.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RungEncode {
    /// The rendition's name (`720p`).
    pub name: String,
    pub width: u32,
    pub height: u32,
    /// `h264`.
    pub codec: String,
    /// ffmpeg's encoder (`libx264`).
    pub encoder: String,
    pub preset: String,
    pub profile: String,
    /// The quality target (x264's CRF), when the rung had one (adaptive ladder).
    pub crf: Option<u32>,
    /// The average bitrate asked for; 0 under a quality target.
    pub bitrate: u64,
    pub maxrate: u64,
    pub bufsize: u64,
    /// GOP cap in frames (`-g`); 0 when not set.
    pub gop: u64,
    pub fps: f64,
    /// The filters from the decoded source stream to this rung's encoder input (the picture
    /// chain, the rung's own rate, the scaler): the reference quality is measured against.
    pub filter: String,
    /// The rung's media playlist, relative to the output directory (`stream/media_0.m3u8`).
    pub playlist: String,
    /// The encoder's version line from the stream (`x264 core 164 r3095 baee400`).
    pub encoder_version: Option<String>,
    /// The encoder's settings from the stream (x264's `options:` string).
    pub encoder_settings: Option<String>,
    /// Bytes of the rung's init and media segments.
    pub bytes: u64,
    /// The first segment's CRF when it was encoded ahead of the complexity probe (the head,
    /// `head.rs`: x264's default for the rung); the rest is at `crf`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_crf: Option<u32>,
    /// That first segment's length, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_seconds: Option<u32>,
}

/// A rung's published files: the init segment and the media segments with their durations.
#[derive(Debug, Clone, PartialEq)]
pub struct RenditionFiles {
    /// Relative to the output directory.
    pub init: Option<String>,
    /// (path relative to the output directory, seconds), in order.
    pub segments: Vec<(String, f64)>,
}

/// Reads the finished media playlist `playlist` (relative to `out_dir`).
pub async fn rendition_files(out_dir: &Path, playlist: &str) -> Result<RenditionFiles> {
    let text = tokio::fs::read_to_string(out_dir.join(playlist)).await?;
    let parsed =
        repair_media_playlist(&text).map_err(|e| MediaError::bad_output_from(playlist, e))?;
    let dir = |uri: &str| format!("{STREAM_DIR}/{uri}");
    Ok(RenditionFiles {
        init: parsed.init.as_deref().map(dir),
        segments: parsed
            .segments
            .iter()
            .map(|(uri, d)| (dir(uri), *d))
            .collect(),
    })
}

/// Fills in what only the written files say: each rung's bytes and the encoder's own tag.
pub(super) async fn read_outputs(out_dir: &Path, rungs: &mut [RungEncode]) -> Result<()> {
    for rung in rungs {
        let files = rendition_files(out_dir, &rung.playlist).await?;
        let mut bytes = 0;
        for path in files
            .init
            .iter()
            .chain(files.segments.iter().map(|(p, _)| p))
        {
            bytes += tokio::fs::metadata(out_dir.join(path)).await?.len();
        }
        rung.bytes = bytes;
        // x264 writes its version and settings into an SEI of the first frame.
        if let Some((first, _)) = files.segments.first() {
            let data = tokio::fs::read(out_dir.join(first)).await?;
            if let Some((version, settings)) = encoder_tag(&data) {
                rung.encoder_version = Some(version);
                rung.encoder_settings = Some(settings);
            }
        }
    }
    Ok(())
}

/// The version and settings an encoder wrote as text into the stream: x264's `x264 - core 164
/// r3095 baee400 - H.264/MPEG-4 AVC codec - … - options: cabac=1 …` (and x265's `x265 (build
/// 199) - 3.5 - H.265/HEVC codec - … - options: …`).
pub fn encoder_tag(data: &[u8]) -> Option<(String, String)> {
    let start = [b"x264 - core ".as_slice(), b"x265 (build ".as_slice()]
        .iter()
        .filter_map(|needle| find(data, needle))
        .min()?;
    let text: String = data[start..]
        .iter()
        .take_while(|b| (0x20..0x7f).contains(*b))
        .map(|&b| b as char)
        .collect();
    let (head, settings) = text.split_once(" - options: ")?;
    let version = head
        .split(" - ")
        .take_while(|part| !part.starts_with("H.26"))
        .collect::<Vec<_>>()
        .join(" ");
    Some((version, settings.trim().to_string()))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_x264_tag() {
        let mut data = vec![0u8, 0, 1, 6, 5, 0xff];
        data.extend_from_slice(b"x264 - core 164 r3095 baee400 - H.264/MPEG-4 AVC codec - Copyleft 2003-2022 - http://www.videolan.org/x264.html - options: cabac=1 ref=1 bitrate=300 ratetol=1.0\0\x80rest");
        let (version, settings) = encoder_tag(&data).unwrap();
        assert_eq!(version, "x264 core 164 r3095 baee400");
        assert_eq!(settings, "cabac=1 ref=1 bitrate=300 ratetol=1.0");
    }

    #[test]
    fn reads_the_x265_tag_and_nothing_from_other_streams() {
        let data = b"..x265 (build 199) - 3.5+1-f0c1022b6:[Linux][GCC 11.2.0][64 bit] 8bit - H.265/HEVC codec - Copyright 2013-2018 (c) Multicoreware, Inc - http://x265.org - options: cpuid=1111039 frame-threads=2\0";
        let (version, settings) = encoder_tag(data).unwrap();
        assert_eq!(
            version,
            "x265 (build 199) 3.5+1-f0c1022b6:[Linux][GCC 11.2.0][64 bit] 8bit"
        );
        assert_eq!(settings, "cpuid=1111039 frame-threads=2");
        assert_eq!(encoder_tag(b"\0\0\x01\x65no tag here"), None);
        // Cut off before its settings: not a tag.
        assert_eq!(encoder_tag(b"x264 - core 164 r1 - H.264\0"), None);
    }
}
