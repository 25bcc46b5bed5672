//! What a chunk job and the rest job leave for the final step (JSON records).

use crate::transcode::{AudioTrackInfo, TextTrackInfo};
use serde::{Deserialize, Serialize};

/// One media segment a chunk wrote, under its final (global) number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkSegment {
    /// Global 1-based number: the file is `stream/chunk-{stream}-{number:05}.m4s`.
    pub number: u32,
    /// Seconds, as the HLS `EXTINF` of a single encode says.
    pub duration: f64,
    pub bytes: u64,
    /// Its DASH `SegmentTimeline` entry: start and length in the stream's `timescale`.
    pub t: u64,
    pub d: u64,
}

/// One video output stream (a rung in one codec) of one chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkStream {
    /// The output stream number a single encode gives it (`init-{stream}.m4s`).
    pub stream: usize,
    /// RFC 6381, read from the init segment.
    pub codecs: String,
    /// The DASH timescale of its `SegmentTemplate`.
    pub timescale: u64,
    pub init_bytes: u64,
    pub segments: Vec<ChunkSegment>,
    /// The encoder's own version and settings (x264's SEI), from the first segment.
    #[serde(default)]
    pub encoder_tag: Option<(String, String)>,
    /// Its first segment is the head's (`ChunkedPlan::head`), kept in place of the chunk's own.
    #[serde(default)]
    pub head: bool,
}

/// What chunk job `index` wrote (its record: `media/{id}/chunks/{index}.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkOutput {
    pub index: u32,
    /// Every video output stream, in the order of the single encode's outputs.
    pub streams: Vec<ChunkStream>,
    /// The MPD ffmpeg wrote for this chunk, representation ids renumbered to the final stream
    /// numbers (the final MPD is built on chunk 0's).
    pub mpd: String,
    /// Files written, relative to the output directory (`stream/init-0.m4s`, …).
    pub files: Vec<String>,
    /// Storyboard tiles written (`.storyboard-tiles/00012.jpg`, relative to the output
    /// directory): working files, not published under these names; the final step makes the
    /// sprite of every part's.
    #[serde(default)]
    pub tiles: Vec<String>,
    pub wall_seconds: f64,
    pub cpu_seconds: Option<f64>,
}

/// One published audio track of the rest job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestAudio {
    pub info: AudioTrackInfo,
    /// Its output stream number (after the video rungs, as in a single encode).
    pub stream: usize,
    pub codecs: String,
    /// Its finished (VOD) media playlist, `stream/media_{stream}.m3u8`.
    pub playlist: String,
    /// (seconds, bytes) per segment, in order.
    pub segments: Vec<(f64, u64)>,
    pub peak_bps: u64,
    pub average_bps: u64,
    pub duration: f64,
}

impl ChunkOutput {
    /// Records `bytes` as the size of `stream`'s first segment: the head's, kept in place of
    /// this chunk's own (`ChunkedPlan::head`).
    pub fn keep_first_segment(&mut self, stream: usize, bytes: u64) {
        for s in self.streams.iter_mut().filter(|s| s.stream == stream) {
            if let Some(first) = s.segments.iter_mut().find(|seg| seg.number == 1) {
                first.bytes = bytes;
                s.head = true;
            }
        }
    }
}

/// What the rest job wrote (its record: `media/{id}/chunks/rest.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestOutput {
    /// Default track first.
    pub audio: Vec<RestAudio>,
    /// The audio adaptation sets' MPD as ffmpeg wrote it (ids renumbered); `None` without
    /// audio.
    pub mpd: Option<String>,
    pub text_tracks: Vec<TextTrackInfo>,
    /// What was left out of the source and why.
    pub warnings: Vec<String>,
    /// Whether it made the storyboard sprite itself (`storyboard.jpg`, a record from before the
    /// chunks made tiles; `tiles_total` is then `None`).
    pub storyboard: bool,
    /// Storyboard tiles written (as [`ChunkOutput::tiles`]): the last chunk's range, or every
    /// tile when it decoded the whole video.
    #[serde(default)]
    pub tiles: Vec<String>,
    /// How many tiles the storyboard has, the chunks' included (the final step checks it has
    /// them all); `None` in a record that made the sprite itself.
    #[serde(default)]
    pub tiles_total: Option<u32>,
    /// Files written, relative to the output directory.
    pub files: Vec<String>,
    pub wall_seconds: f64,
    pub cpu_seconds: Option<f64>,
    /// Video frames its ffmpeg runs decoded (ffmpeg's own count): the stills' seeks and the
    /// end's few seconds. `None` when it decoded the whole video (the end did not decode on
    /// its own, or a still did not come out of its seek).
    #[serde(default)]
    pub video_frames_decoded: Option<u64>,
}

impl RestOutput {
    /// Records `bytes` as the size of audio `stream`'s first segment: the head's, kept in place
    /// of this job's own (`ChunkedPlan::head`; the same AAC frames, so its rates stand).
    pub fn keep_first_segment(&mut self, stream: usize, bytes: u64) {
        for a in self.audio.iter_mut().filter(|a| a.stream == stream) {
            if let Some(first) = a.segments.first_mut() {
                first.1 = bytes;
            }
        }
    }
}
