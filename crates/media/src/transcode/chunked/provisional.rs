//! Provisional `EVENT` playlists while chunks are still being encoded.

use super::assemble::ffmpeg_form;
use super::{ChunkOutput, ChunkedPlan, RestOutput};
use crate::error::{MediaError, Result};
use crate::transcode::package::{
    event_media_playlist, master_playlist, media_playlist_name, AudioRendition, Variant,
};
use crate::transcode::tracks::rendition_of;
use crate::transcode::video::AUDIO_BITRATE;
use crate::transcode::{subtitles, VideoCodec, HLS_MASTER, STREAM_DIR};

/// The `EVENT` media playlists of the contiguous prefix of `done` chunks (0, 1, … — a chunk
/// after a gap is not listed yet), and once `rest` is there (or the source has no audio), the
/// master: `BANDWIDTH` from the rate caps, as the single encode's provisional master has it.
/// The audio tracks' playlists are the rest's own, already final. (relative path, content)
/// pairs; empty while chunk 0 is not done.
pub fn provisional(
    plan: &ChunkedPlan,
    done: &[ChunkOutput],
    rest: Option<&RestOutput>,
) -> Result<Vec<(String, String)>> {
    let mut prefix: Vec<&ChunkOutput> = Vec::new();
    for range in &plan.ranges {
        match done.iter().find(|c| c.index == range.index) {
            Some(c) => prefix.push(c),
            None => break,
        }
    }
    let Some(first) = prefix.first() else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for stream in &first.streams {
        let segments = prefix
            .iter()
            .flat_map(|c| c.streams.iter().filter(|s| s.stream == stream.stream))
            .flat_map(|s| s.segments.iter().map(|seg| (seg.number, seg.duration)));
        let text = ffmpeg_form(stream.stream, segments);
        let live = event_media_playlist(&text, plan.segment_seconds.into())
            .map_err(|e| MediaError::bad_output_from(media_playlist_name(stream.stream), e))?;
        out.push((
            format!("{STREAM_DIR}/{}", media_playlist_name(stream.stream)),
            live.text,
        ));
    }

    let planned_audio = plan.audio_tracks().len();
    let rest = match rest {
        Some(rest) => rest,
        None if planned_audio > 0 => return Ok(out),
        None => &RestOutput {
            audio: Vec::new(),
            mpd: None,
            text_tracks: Vec::new(),
            warnings: Vec::new(),
            storyboard: false,
            tiles: Vec::new(),
            tiles_total: None,
            files: Vec::new(),
            wall_seconds: 0.0,
            cpu_seconds: None,
            video_frames_decoded: None,
        },
    };
    let v = plan.video()?;
    let n = plan.rungs.len();
    let audio_codecs = rest.audio.first().map(|a| a.codecs.clone());
    let audio_bandwidth = if rest.audio.is_empty() {
        0
    } else {
        AUDIO_BITRATE
    };
    let mut variants = Vec::new();
    for s in &first.streams {
        // H.264 rungs are streams 0..n; the extra codecs' follow the planned audio streams.
        let rung_index = if s.stream < n {
            s.stream
        } else {
            (s.stream - n - planned_audio) % n.max(1)
        };
        let Some(rung) = plan.rungs.get(rung_index) else {
            continue;
        };
        let codec = VideoCodec::of_codecs(&s.codecs).unwrap_or(VideoCodec::H264);
        variants.push(Variant {
            uri: media_playlist_name(s.stream),
            bandwidth: codec.scale(rung.maxrate) + audio_bandwidth,
            average_bandwidth: None,
            resolution: Some((rung.width, rung.height)),
            frame_rate: Some(plan.picture.rung_fps(v, rung.width.min(rung.height))),
            codecs: match &audio_codecs {
                Some(a) => format!("{},{a}", s.codecs),
                None => s.codecs.clone(),
            },
        });
    }
    let audio: Vec<AudioRendition> = rest
        .audio
        .iter()
        .map(|t| rendition_of(&t.info, Some(media_playlist_name(t.stream))))
        .collect();
    let mut master = master_playlist(&variants, &audio);
    if !rest.text_tracks.is_empty() {
        master = subtitles::add_to_master(&master, &rest.text_tracks);
    }
    out.push((HLS_MASTER.to_string(), master));
    Ok(out)
}
