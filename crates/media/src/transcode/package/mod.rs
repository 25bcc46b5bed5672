//! The packaging half: ffmpeg's `dash` muxer writes CMAF segments, the MPD and HLS media
//! playlists in one go; this module reads what it wrote, repairs the HLS side and writes the
//! master playlist itself.
//!
//! What ffmpeg 5.1's dash muxer gets wrong for VOD HLS, and is repaired here:
//! * media playlists have no `#EXT-X-PLAYLIST-TYPE:VOD` and carry wall-clock
//!   `#EXT-X-PROGRAM-DATE-TIME` tags (live-style; meaningless for an upload);
//! * the master's `BANDWIDTH` is the target average bitrate, where RFC 8216 wants the peak;
//!   it has no `AVERAGE-BANDWIDTH`, `FRAME-RATE` or `#EXT-X-INDEPENDENT-SEGMENTS`;
//! * the `AUDIO` group and the audio codec in `CODECS` are silently left out when the audio
//!   encoder reports no bitrate.
//!
//! `mpd.rs` reads and rewrites the MPD, `hls.rs` the media playlists and writes the master.

mod hls;
mod mpd;

pub(super) use hls::playlist_stats;
pub use hls::{
    attribute, empty_event_playlist, event_media_playlist, finalize_media_playlist,
    master_playlist, media_playlist_name, repair_media_playlist, AudioRendition, MalformedPlaylist,
    PlaylistStats, Variant,
};
pub(super) use mpd::drop_attribute;
pub use mpd::{merge_video_sets, parse_mpd, remove_adaptation_sets, MpdRepresentation};
use std::ffi::OsString;
use std::path::Path;

/// The dash muxer options shared by video and audio packaging; `manifest` is the MPD path.
///
/// The segments are fragmented MP4 in the CMAF shape (an init segment plus one `moof`+`mdat` per
/// segment, starting on a keyframe), but deliberately without `movflags=+cmaf`: in ffmpeg 5.1
/// that flag drops the edit list without writing negative composition offsets, so with B-frames
/// the video would start two frames after the audio. The default keeps the edit list.
pub fn dash_args(segment_seconds: u32, adaptation_sets: &str, manifest: &Path) -> Vec<OsString> {
    let mut args: Vec<OsString> = [
        "-f",
        "dash",
        "-seg_duration",
        &segment_seconds.to_string(),
        "-use_template",
        "1",
        "-use_timeline",
        "1",
        "-dash_segment_type",
        "mp4",
        "-single_file",
        "0",
        "-streaming",
        "0",
        "-ldash",
        "0",
        "-write_prft",
        "0",
        "-hls_playlist",
        "1",
        "-hls_master_name",
        "master.m3u8",
        "-adaptation_sets",
        adaptation_sets,
        "-init_seg_name",
        "init-$RepresentationID$.m4s",
        "-media_seg_name",
        "chunk-$RepresentationID$-$Number%05d$.m4s",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    args.push(crate::probe::file_url(manifest).into_os_string());
    args
}

/// The output stream a segment file (named as `dash_args` names them, with or without a
/// directory) belongs to, and whether it is that stream's init segment.
pub fn segment_stream(file: &str) -> Option<(usize, bool)> {
    let name = file.rsplit('/').next()?;
    let stem = name.strip_suffix(".m4s")?;
    if let Some(n) = stem.strip_prefix("init-") {
        return n.parse().ok().map(|n| (n, true));
    }
    let (n, number) = stem.strip_prefix("chunk-")?.split_once('-')?;
    number.parse::<u64>().ok()?;
    n.parse().ok().map(|n| (n, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_streams() {
        assert_eq!(segment_stream("stream/init-2.m4s"), Some((2, true)));
        assert_eq!(segment_stream("chunk-0-00012.m4s"), Some((0, false)));
        assert_eq!(
            segment_stream("stream/chunk-11-00001.m4s"),
            Some((11, false))
        );
        for other in [
            "media_0.m3u8",
            "init-x.m4s",
            "chunk-1.m4s",
            "chunk-1-a.m4s",
            "thumbnail.jpg",
        ] {
            assert_eq!(segment_stream(other), None, "{other}");
        }
    }
}
