//! ffmpeg transcoding into CMAF segments published as both HLS and DASH.
//!
//! Output layout under `out_dir` (all paths in the outputs are relative to it, with `/`):
//!
//! ```text
//! stream/manifest.mpd                 DASH (SegmentTemplate + SegmentTimeline)
//! stream/master.m3u8                  HLS master (v7), written by us
//! stream/media_N.m3u8                 HLS media playlist of output stream N (VOD)
//! stream/init-N.m4s                   CMAF header of stream N
//! stream/chunk-N-00001.m4s …          CMAF segments of stream N, shared by HLS and DASH
//! stream/text-sN.vtt, text-sN.m3u8   a text track per text subtitle stream of the source
//! thumbnail.jpg, storyboard.jpg, storyboard.vtt   (video only; no storyboard under ~0.5 s)
//! downloads/720p.mp4, downloads/audio.m4a        (made afterwards by [`make_downloads`])
//! ```
//!
//! Output streams are numbered as encoded: video rungs first (highest first), then one audio
//! rendition per source audio track (the default track first), each its own DASH adaptation set
//! with `lang` and `Role`, all in the one HLS audio group every variant names.
//!
//! With a [`PackagingSender`] in the options, the transcode also reports complete segments and
//! growing `EVENT` playlists while ffmpeg runs (see [`PackagingUpdate`]), for publishing before
//! the encode ends; the finished output is the same either way.

mod audio;
pub mod chunked;
mod clip;
mod codecs;
mod command;
mod complexity;
mod download;
mod head;
mod live;
mod mp4;
mod mpd_rates;
mod package;
mod picture;
mod provenance;
mod rate;
mod storyboard;
mod subtitles;
mod tail;
mod tracks;
mod video;

pub use crate::progress::Progress;
pub use audio::audio;
pub use clip::cut;
pub use codecs::{
    parse_codec_list, CodecOptions, VideoCodec, AV1_PRESETS, DEFAULT_AV1_PRESET,
    DEFAULT_HEVC_PRESET, X265_PRESETS,
};
pub use download::{
    make_downloads, DownloadInfo, DownloadRenditions, AUDIO_DOWNLOAD, DOWNLOADS_DIR,
};
pub use live::{PackagingSender, PackagingUpdate, POLL_INTERVAL};
pub use package::media_playlist_name;
pub use package::segment_stream;
// For `crate::frames`, which reads the published playlists.
pub(crate) use package::{attribute, repair_media_playlist};
pub use provenance::{encoder_tag, rendition_files, EncodeInfo, RenditionFiles, RungEncode};
pub use rate::{near_duplicates, LadderMode, NEAR_DUPLICATE};
pub use subtitles::{text_track_playlist, text_track_vtt, TextKind, TextTrackInfo, TEXT_GROUP};
pub use tracks::{english_name, language_code, AudioTrackInfo};
pub use video::video;

use crate::error::{MediaError, Result};
use crate::ladder::{LadderRung, DEFAULT_LADDER};
use crate::process::Finished;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Where packaging output goes, relative to `out_dir`.
pub const STREAM_DIR: &str = "stream";
pub const HLS_MASTER: &str = "stream/master.m3u8";
pub const DASH_MANIFEST: &str = "stream/manifest.mpd";
pub const THUMBNAIL: &str = "thumbnail.jpg";
pub const STORYBOARD_IMAGE: &str = "storyboard.jpg";
pub const STORYBOARD_VTT: &str = "storyboard.vtt";

/// Default bound on one whole transcode (all its subprocesses together).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(4 * 3600);

#[derive(Debug, Clone)]
pub struct VideoOptions {
    /// x264 preset (`ultrafast` … `veryslow`).
    pub preset: String,
    pub ladder: Vec<LadderRung>,
    /// Segment length; a multiple of `keyframe_seconds`.
    pub segment_seconds: u32,
    /// Keyframe cadence, identical in every rung so players can switch at any segment.
    pub keyframe_seconds: u32,
    /// Bound on the whole call (encode, and the fallback thumbnail if one is needed).
    pub timeout: Duration,
    /// Encoder and filter threads; `None` lets ffmpeg decide (all cores).
    pub threads: Option<u32>,
    /// Cancelling kills ffmpeg and makes the call return [`MediaError::Cancelled`]. Dropping the
    /// future kills it too.
    pub cancel: CancellationToken,
    /// Progressive packaging reports while ffmpeg runs (never awaited: see [`PackagingUpdate`]).
    pub packaging: Option<PackagingSender>,
    /// AV1 and HEVC renditions besides H.264 (`VIDEO_CODECS`).
    pub codecs: CodecOptions,
    /// Fixed bitrates, or capped CRF with near-duplicate rungs dropped (see `rate.rs`).
    pub ladder_mode: LadderMode,
}

impl Default for VideoOptions {
    fn default() -> Self {
        VideoOptions {
            preset: "veryfast".into(),
            ladder: DEFAULT_LADDER.to_vec(),
            segment_seconds: 4,
            keyframe_seconds: 2,
            timeout: DEFAULT_TIMEOUT,
            threads: None,
            cancel: CancellationToken::new(),
            packaging: None,
            codecs: CodecOptions::default(),
            ladder_mode: LadderMode::default(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct AudioOptions {
    /// One AAC-LC stereo 48 kHz rendition of the default track per bitrate (bits/s), highest
    /// first; every other track gets one rendition at the highest.
    pub bitrates: Vec<u64>,
    pub segment_seconds: u32,
    pub timeout: Duration,
    pub threads: Option<u32>,
    pub cancel: CancellationToken,
    /// As for video: one variant per bitrate, reported while ffmpeg runs.
    pub packaging: Option<PackagingSender>,
}

impl Default for AudioOptions {
    fn default() -> Self {
        AudioOptions {
            bitrates: vec![128_000, 64_000],
            segment_seconds: 4,
            timeout: DEFAULT_TIMEOUT,
            threads: None,
            cancel: CancellationToken::new(),
            packaging: None,
        }
    }
}

/// One HLS variant / DASH representation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenditionInfo {
    /// `720p` for video, `128k` for audio-only renditions.
    pub name: String,
    /// 0 for audio-only renditions.
    pub width: u32,
    pub height: u32,
    /// The HLS `BANDWIDTH`: peak bits/s (the larger of maxrate and the measured peak segment
    /// bitrate), including the audio rendition for video.
    pub bandwidth: u64,
    /// RFC 6381 codecs, e.g. `avc1.640028,mp4a.40.2`.
    pub codecs: String,
    /// The video codec; `None` for audio-only renditions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codec: Option<VideoCodec>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoOutput {
    /// Highest first.
    pub renditions: Vec<RenditionInfo>,
    /// Whether there is an audio rendition.
    pub audio: bool,
    /// Every published audio track, default first.
    #[serde(default)]
    pub audio_tracks: Vec<AudioTrackInfo>,
    /// What was left out of the source and why (e.g. an audio track that could not be decoded).
    #[serde(default)]
    pub warnings: Vec<String>,
    /// A WebVTT track per text subtitle stream of the source, in source order.
    #[serde(default)]
    pub text_tracks: Vec<TextTrackInfo>,
    /// Seconds, as packaged (the longest media playlist).
    pub duration: f64,
    /// The source's display size.
    pub width: u32,
    pub height: u32,
    /// The rungs' constant frame rate (the source's nominal rate, at most 60).
    #[serde(default)]
    pub fps: f64,
    /// The source's HDR transfer, tone-mapped to SDR BT.709 in every rung.
    #[serde(default)]
    pub hdr: Option<crate::probe::Hdr>,
    /// The source was interlaced (header or `idet`), and every rung was deinterlaced.
    #[serde(default)]
    pub interlaced: bool,
    pub hls_master: String,
    pub dash_manifest: String,
    pub thumbnail: String,
    /// `None` when the video is too short for a single storyboard tile (under about half a
    /// second).
    pub storyboard_vtt: Option<String>,
    pub storyboard_image: Option<String>,
    /// How the rungs were encoded, what that cost and what it weighs.
    #[serde(default)]
    pub encode: EncodeInfo,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioOutput {
    /// Highest bitrate first; `width`/`height` are 0.
    pub renditions: Vec<RenditionInfo>,
    pub duration: f64,
    pub hls_master: String,
    pub dash_manifest: String,
    /// Every published audio track, default first (the default one is the bitrate ladder).
    #[serde(default)]
    pub audio_tracks: Vec<AudioTrackInfo>,
    /// What was left out of the source and why.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// A WebVTT track per text subtitle stream of the source, in source order.
    #[serde(default)]
    pub text_tracks: Vec<TextTrackInfo>,
}

fn invalid_options(msg: impl Into<String>) -> MediaError {
    MediaError::Io(std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        msg.into(),
    ))
}

/// Creates `out_dir` and an empty `out_dir/stream` (a retry must not publish stale segments).
async fn prepare_out_dir(out_dir: &Path) -> Result<PathBuf> {
    let stream = out_dir.join(STREAM_DIR);
    match tokio::fs::remove_dir_all(&stream).await {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    tokio::fs::create_dir_all(&stream).await?;
    Ok(stream)
}

/// Awaits `encode` while, given a sender, a [`live::Watcher`] reports progressive packaging
/// alongside it (in the same task, so every watcher await yields to the encode); the watcher
/// stops the moment `encode` finishes, before anything rewrites ffmpeg's playlists.
async fn with_watcher<T>(
    encode: impl std::future::Future<Output = T>,
    out_dir: &Path,
    plan: live::LivePlan,
    sender: Option<&PackagingSender>,
) -> T {
    let Some(tx) = sender else {
        return encode.await;
    };
    let stop = CancellationToken::new();
    let watcher = live::Watcher::new(out_dir, plan, tx.clone());
    let (out, ()) = tokio::join!(
        async {
            let out = encode.await;
            stop.cancel();
            out
        },
        watcher.run(stop.clone())
    );
    out
}

/// A failed ffmpeg run on an input that should be `what` ("a video", "audio"): `Unusable` when
/// its stderr says the input could not be decoded, otherwise a retryable `Subprocess`.
fn classify_failure(finished: Finished, what: &str) -> MediaError {
    crate::diagnose::classify(finished, what, false)
}

/// Packaged output much shorter than the probed duration means the decoder ran out of data:
/// a truncated upload that ffprobe could still open (e.g. `moov` at the front).
fn check_not_truncated(probed: Option<f64>, packaged: f64) -> Result<()> {
    if let Some(expected) = probed {
        if expected > 0.0 && packaged < expected * 0.9 - 0.5 {
            return Err(MediaError::unusable(format!(
                "the upload is truncated: only {packaged:.2}s of {expected:.2}s could be decoded"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    fn finished(code: i32, tail: &str) -> Finished {
        Finished {
            program: "ffmpeg".into(),
            status: std::process::ExitStatus::from_raw(code << 8),
            stderr_tail: tail.into(),
            cpu_seconds: None,
        }
    }

    #[test]
    fn classifies_failures() {
        let e = classify_failure(
            finished(
                1,
                "[mov @ 0x1] stream 0, offset 0x1: partial file\nsomething else",
            ),
            "a video",
        );
        assert!(e.is_permanent(), "{e}");
        assert!(e.to_string().contains("partial file"));
        let e = classify_failure(
            finished(
                1,
                "Error while decoding stream #0:0\nNo space left on device",
            ),
            "a video",
        );
        assert!(matches!(e, MediaError::Subprocess { .. }), "{e}");
        let e = classify_failure(finished(1, "Conversion failed!"), "a video");
        assert!(matches!(e, MediaError::Subprocess { .. }), "{e}");
    }

    #[test]
    fn truncation() {
        assert!(check_not_truncated(Some(10.0), 9.9).is_ok());
        assert!(check_not_truncated(Some(2.0), 1.5).is_ok());
        assert!(check_not_truncated(None, 0.1).is_ok());
        assert!(check_not_truncated(Some(10.0), 3.0)
            .unwrap_err()
            .is_permanent());
    }
}
