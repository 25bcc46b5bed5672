//! Chunked encoding (issue 15): a long video's rungs encoded range by range by any number of
//! workers, and put together into exactly what one [`super::video`] run publishes (the same
//! files, segment for segment; `tests/chunked.rs` compares them).
//!
//! * [`plan`] decides once, over the whole source, everything the parts must agree on: the
//!   rungs, the picture chain, each rung's CRF from ONE complexity probe, the audio and text
//!   plans, and where the chunks start. A chunk starts on the first frame of one of the single
//!   encode's segments: `frames.rs` repeats ffmpeg's arithmetic (forced keyframes counted from
//!   the first frame, whose timestamp is measured; the dash muxer's cut rule) and checks that
//!   each chunk, cutting from its own start, cuts where the single encode does. A plan made
//!   for progressive publishing reproduces that single encode's shorter first segment and its
//!   keyframes on the segment grid after it (`head.rs`, `Cadence`): what a head published
//!   before the chunks run needs.
//! * [`encode_chunk`] encodes every video output stream for one range: an accurate input seek
//!   two frames early and a `trim` after the constant-rate filter (so each frame is the source
//!   frame a single encode picks), exactly the range's frames (`-frames:v:N`), keyframes forced
//!   on the single encode's frames, `-output_ts_offset`; segments renamed to their global
//!   numbers and their `tfdt` moved onto the single encode's timeline (`tfdt.rs`: ffmpeg writes
//!   it chunk-relative and puts the offset in the init segment's edit list, which is why only
//!   chunk 0's init segments are kept). After a head, chunk 0 reports its segments as they
//!   complete, and encodes and reports its range's audio too (the rest job's segments byte for
//!   byte), so players go on from the head without waiting for the other parts. Beside the
//!   rungs, a branch picks the storyboard tiles
//!   whose frames are in the range (`picks.rs`): the stills come from the decode the
//!   chunk makes anyway (all but the last chunk, whose tiles depend on the last frame).
//! * [`encode_rest`] encodes what is not a video rung, once for the whole source: every audio
//!   track (no AAC priming at chunk borders; a stamp-sized "pacer" video stream, made up with
//!   the picture's frames, makes the dash muxer cut the audio segments where a single encode's
//!   rungs make it cut them), the text tracks, and the thumbnail and the last chunk's
//!   storyboard tiles, each decoded where it is (`stills.rs`: the frames a single encode picks,
//!   found by arithmetic; only the source's last seconds decoded to find its last frame). No
//!   full decode, but where the end of the video does not decode on its own.
//! * [`assemble`] writes the HLS media playlists, the master and the MPD from the records alone
//!   (it needs the init segments, not the media segments) and pastes every part's tiles into
//!   the storyboard sprite; [`provisional`] the `EVENT` playlists of a done prefix of chunks.
//!
//! What runs as one job instead ([`plan`] answers `None`): no constant frame rate, and the few
//! cases where no frame starts a chunk in every rung the way a single encode would.

mod assemble;
mod encode;
mod frames;
pub(crate) mod mpd;
mod picks;
mod provisional;
mod ranges;
mod records;
mod rest;
mod stills;
mod tfdt;

pub use assemble::{assemble, Assembled};
pub use encode::encode_chunk;
pub(crate) use encode::segment_name;
pub use provisional::provisional;
pub use ranges::{plan_ranges, ChunkRange};
pub use records::{ChunkOutput, ChunkSegment, ChunkStream, RestAudio, RestOutput};
pub use rest::encode_rest;

use super::codecs::{self, Extras, VideoCodec};
use super::command::video_outputs;
use super::picture::Picture;
use super::storyboard::Layout;
use super::tracks::{self, PlannedTrack};
use super::{complexity, head, invalid_options, video, VideoOptions, STREAM_DIR};
use crate::error::Result;
use crate::ladder::{self, Rung};
use crate::probe::{ProbeInfo, VideoInfo};
use crate::process::Budget;
use frames::StreamKeys;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// When a source is chunked (`CHUNK_SECONDS`, `CHUNK_MIN_SECONDS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkSettings {
    /// Length of a chunk (rounded up to a multiple of the segment duration); 0 turns chunking
    /// off.
    pub chunk_seconds: u32,
    /// Sources no longer than this run as one job.
    pub min_seconds: u32,
}

impl Default for ChunkSettings {
    fn default() -> Self {
        ChunkSettings {
            chunk_seconds: 60,
            min_seconds: 120,
        }
    }
}

/// What a chunk or the rest reads: a local file, or a URL ffmpeg can seek in with range
/// requests (a presigned HTTPS URL of the original); a chunk then reads only its range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    File(PathBuf),
    Url(String),
}

impl From<&Path> for Input {
    fn from(p: &Path) -> Self {
        Input::File(p.to_path_buf())
    }
}

impl From<PathBuf> for Input {
    fn from(p: PathBuf) -> Self {
        Input::File(p)
    }
}

impl Input {
    /// ffmpeg's name for it (`file:` keeps a path starting with `-` or holding `:` a path).
    pub fn ffmpeg_url(&self) -> std::ffi::OsString {
        match self {
            Input::File(p) => crate::probe::file_url(p).into_os_string(),
            Input::Url(u) => u.into(),
        }
    }
}

/// Everything decided once for the whole source that every chunk, the rest and the final step
/// must agree on. Travels as JSON (`media/{id}/chunks/plan.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChunkedPlan {
    pub ranges: Vec<ChunkRange>,
    /// The source's probed media duration, seconds.
    pub duration: f64,
    /// The probe the plan was made from (the audio and text plans, sizes, the decoder).
    probe: ProbeInfo,
    picture: Picture,
    rungs: Vec<Rung>,
    /// Adaptive mode: each rung's CRF from the one complexity probe; empty otherwise.
    crfs: Vec<u32>,
    /// Adaptive mode with AV1: each AV1 rung's CRF from the one run of AV1 trials; empty
    /// otherwise (the fixed offsets).
    #[serde(default)]
    av1_crfs: Vec<u32>,
    /// Set where the trials found AV1 not worth publishing on this source: the warning the
    /// item records (every part then encodes without AV1).
    #[serde(default)]
    av1_skip: Option<String>,
    segment_seconds: u32,
    keyframe_seconds: u32,
    /// A shorter first segment of this many seconds (`head.rs`: a plan made for progressive
    /// publishing, where the single encode cuts one), keyframes at that time and every
    /// segment after it; `None`: every `keyframe_seconds`.
    #[serde(default)]
    first_segment: Option<u32>,
    /// The picture's first frame (its pts at the constant rate: not 0 when the video starts
    /// after another stream).
    first: u64,
    /// Each range's first frame (pts at the picture's rate): the keyframe a single encode
    /// starts the range's first segment on.
    starts: Vec<u64>,
    /// Which keyframe (`n_forced`) each range starts on.
    keys: Vec<u64>,
    /// The output streams whose init and first segments a head published while the plan was
    /// made (`head.rs`): chunk 0 and the rest job keep those where their own init segment is
    /// the same (what players may already hold stays published).
    #[serde(default)]
    pub head: Vec<usize>,
}

impl ChunkedPlan {
    /// How many chunk jobs.
    pub fn chunks(&self) -> usize {
        self.ranges.len()
    }

    fn video(&self) -> Result<&VideoInfo> {
        self.probe
            .video
            .as_ref()
            .ok_or_else(|| invalid_options("the chunk plan has no video stream"))
    }

    /// The picture's constant rate (a plan exists only with one).
    fn rate(&self) -> Result<(u32, u32)> {
        self.picture
            .rate
            .ok_or_else(|| invalid_options("the chunk plan has no constant frame rate"))
    }

    /// The range `index`, or an error naming it.
    fn range(&self, index: u32) -> Result<&ChunkRange> {
        self.ranges.get(index as usize).ok_or_else(|| {
            invalid_options(format!(
                "chunk index {index} is not in the plan (chunks 0..{})",
                self.ranges.len()
            ))
        })
    }

    /// `opts` must cut segments and keyframes as the plan did.
    fn check_options(&self, opts: &VideoOptions) -> Result<()> {
        if opts.segment_seconds != self.segment_seconds
            || opts.keyframe_seconds != self.keyframe_seconds
        {
            return Err(invalid_options(format!(
                "the chunk plan was made for {} s segments and {} s keyframes, not {} and {}",
                self.segment_seconds,
                self.keyframe_seconds,
                opts.segment_seconds,
                opts.keyframe_seconds
            )));
        }
        Ok(())
    }

    /// The extra codecs' streams, as a single encode of this plan with `opts` has them.
    fn extras(&self, opts: &VideoOptions) -> Extras {
        Extras::plan(&opts.codecs, &self.picture, self.rungs.len())
            .0
            .with_rates(opts.ladder_mode, &self.crfs)
            .with_av1(&complexity::Av1Choice {
                crfs: self.av1_crfs.clone(),
                skip: self.av1_skip.clone(),
            })
    }

    fn audio_tracks(&self) -> Vec<PlannedTrack> {
        tracks::plan(&self.probe)
    }

    /// What the head published (`head`), as this plan's parts name their files: per stream its
    /// init and first segment, relative to the output directory.
    pub fn head_files(&self) -> Vec<(usize, String, String)> {
        self.head
            .iter()
            .map(|&s| {
                (
                    s,
                    format!("{STREAM_DIR}/init-{s}.m4s"),
                    format!("{STREAM_DIR}/{}", encode::segment_name(s, 1)),
                )
            })
            .collect()
    }

    /// Where the single encode this plan reproduces with `opts` forces keyframes.
    fn cadence(&self, opts: &VideoOptions) -> Cadence {
        Cadence::new(
            self.keyframe_seconds,
            self.segment_seconds,
            self.first_segment,
            &self.extras(opts),
        )
    }
}

/// Where a single encode forces keyframes and cuts segments: every `keyframe` seconds into
/// `segment`-second segments, or with a shorter `first` segment, keyframes at its end and every
/// segment after it (`head.rs`); with AV1 among the codecs, every stream's keyframes by frame
/// number (`codecs::gops`) instead.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cadence {
    keyframe: u32,
    segment: u32,
    first: Option<u32>,
    frame_numbered: bool,
}

impl Cadence {
    /// A single encode's whose video streams are `extras`' (frame-numbered keyframes with AV1).
    fn new(keyframe: u32, segment: u32, first: Option<u32>, extras: &Extras) -> Cadence {
        Cadence {
            keyframe,
            segment,
            first,
            frame_numbered: extras.has(VideoCodec::Av1),
        }
    }

    /// The dash muxer's `seg_duration`: told the first segment's length, it cuts on every
    /// keyframe (there is one per segment after it).
    fn muxer_seconds(self) -> u32 {
        self.first.unwrap_or(self.segment)
    }
}

/// Every video output stream of a single encode, in its order: (rung, codec, output stream
/// number in a single encode, number ffmpeg gives it in a chunk, which has no audio).
fn video_streams(
    rungs: usize,
    audio: usize,
    extras: &Extras,
) -> Vec<(usize, VideoCodec, usize, usize)> {
    let single = video_outputs(rungs, audio, extras);
    let chunk = video_outputs(rungs, 0, extras);
    single
        .into_iter()
        .zip(chunk)
        .map(|((rung, codec, stream), (_, _, own))| (rung, codec, stream, own))
        .collect()
}

/// How output streams of rung `rung` place keyframes (see `frames.rs`), how many picture
/// frames one of its frames spans (2 on a half-rate rung), and its own rate.
fn rung_keys(
    picture: &Picture,
    v: &VideoInfo,
    rungs: &[Rung],
    rung: usize,
    cadence: Cadence,
) -> Option<(StreamKeys, u64, (u32, u32))> {
    let full = picture.rate?;
    let r = &rungs[rung];
    let own = picture.rung_rate(r.width.min(r.height))?;
    let ratio = if own == full { 1 } else { 2 };
    let keys = match (cadence.frame_numbered, cadence.first) {
        (true, _) => StreamKeys::Every(codecs::gops(picture, v, rungs, cadence.keyframe)[rung]),
        (false, Some(first)) => StreamKeys::Head {
            num: own.0,
            den: own.1,
            first,
            seg: cadence.segment,
        },
        (false, None) => StreamKeys::ByTime {
            num: own.0,
            den: own.1,
            k: cadence.keyframe,
        },
    };
    Some((keys, ratio, own))
}

/// Where the chunks really start: the ideal `ranges` (whole numbers of segments of the planned
/// length) moved onto the single encode's own segments.
struct Boundaries {
    ranges: Vec<ChunkRange>,
    starts: Vec<u64>,
    keys: Vec<u64>,
}

/// Simulates the single encode's keyframes and segment cuts (`frames.rs`) and puts each chunk
/// on the start of its first segment; checks that each chunk's own muxer, counting from the
/// chunk's start, cuts where the single one does. `None` (one job) where it would not, or
/// where no frame starts a range in every rung.
fn boundaries(
    picture: &Picture,
    v: &VideoInfo,
    rungs: &[Rung],
    ideal: &[ChunkRange],
    first: u64,
    duration: f64,
    cadence: Cadence,
) -> Option<Boundaries> {
    let (num, den) = picture.rate?;
    let (keys, ratio0, _) = rung_keys(picture, v, rungs, 0, cadence)?;
    let mut per_rung = Vec::with_capacity(rungs.len());
    for rung in 0..rungs.len() {
        let (keys, ratio, _) = rung_keys(picture, v, rungs, rung, cadence)?;
        // Frame-numbered keyframes and half-rate rungs count frames from the first one.
        if first > 0 && (cadence.frame_numbered || ratio > 1) {
            return None;
        }
        per_rung.push((keys, ratio));
    }
    // Every keyframe of the first rung after the first frame, to the end. ffmpeg's forced
    // keyframes count time (or frames) from the first frame, wherever it starts.
    let total = (duration * num as f64 / den as f64).ceil() as u64 + 1;
    let mut keyframes = Vec::new();
    let mut j = 1;
    loop {
        // In the picture's frames (the first rung may run at half the rate).
        let m = first + keys.frame(j) * ratio0;
        if m >= total {
            break;
        }
        keyframes.push((j, m));
        j += 1;
    }
    let seg = cadence.muxer_seconds();
    let cuts = frames::segment_starts(first, keyframes.iter().map(|(_, m)| *m), num, den, seg);
    let mut ranges = Vec::new();
    let mut starts = Vec::new();
    let mut key_index = Vec::new();
    for range in ideal {
        let Some(&frame) = cuts.get(range.first_segment as usize - 1) else {
            break;
        };
        let j = if range.index == 0 {
            0
        } else {
            keyframes.iter().find(|(_, m)| *m == frame)?.0
        };
        // The same instant is a keyframe of every rung (half-rate ones count every other
        // frame).
        if per_rung
            .iter()
            .any(|(keys, ratio)| j > 0 && first + keys.frame(j) * ratio != frame)
        {
            tracing::info!("rungs at different rates share no frame at a chunk border: one job");
            return None;
        }
        starts.push(frame);
        key_index.push(j);
        ranges.push(range.clone());
    }
    if ranges.len() < 2 {
        return None;
    }
    for i in 0..ranges.len() {
        let from = starts[i];
        let to = starts.get(i + 1).copied().unwrap_or(u64::MAX);
        let single: Vec<u64> = cuts
            .iter()
            .copied()
            .filter(|c| (from..to).contains(c))
            .collect();
        let own = frames::segment_starts(
            from,
            keyframes.iter().map(|(_, m)| *m).filter(|m| *m < to),
            num,
            den,
            seg,
        );
        if single != own {
            tracing::info!(chunk = i, "a chunk would cut segments elsewhere: one job");
            return None;
        }
        let r = &mut ranges[i];
        r.start = if i == 0 {
            0.0
        } else {
            frames::frame_time(num, den, from)
        };
        r.end = match starts.get(i + 1) {
            Some(&next) => frames::frame_time(num, den, next),
            None => duration,
        };
        r.first_segment = cuts.iter().position(|c| *c == from)? as u32 + 1;
        r.segments = single.len() as u32;
    }
    Some(Boundaries {
        ranges,
        starts,
        keys: key_index,
    })
}

/// Plans a chunked encode of the video `input` (`probe` describes it), or `None` when it runs
/// as one job: not above `chunks.min_seconds`, chunking off, audio-only, a still image, a
/// video [`super::video`] refuses, or no constant frame rate (or rungs at half of a rate whose
/// keyframe intervals are not a whole even number of frames, where no frame starts a range in
/// every rung). The adaptive ladder's complexity probe runs here, once.
///
/// With progressive packaging (`opts.packaging`) and a head wanted (`head.rs`), the head's first
/// segments are encoded while the probe runs and reported as progressive packaging, relative to
/// `work_dir` (which also holds the AV1 trials' files).
pub async fn plan(
    input: &Path,
    probe: &ProbeInfo,
    opts: &VideoOptions,
    chunks: &ChunkSettings,
    work_dir: &Path,
) -> Result<Option<ChunkedPlan>> {
    let Some(v) = probe.video.as_ref() else {
        return Ok(None);
    };
    let k = opts.keyframe_seconds;
    if probe.is_still_image()
        || k == 0
        || opts.segment_seconds == 0
        || !opts.segment_seconds.is_multiple_of(k)
        || v.width as u64 * v.height as u64 > video::MAX_VIDEO_PIXELS
        || v.width.min(v.height) < 2
    {
        // `video()` says what is wrong with it.
        return Ok(None);
    }
    let Some(duration) = probe.media_duration() else {
        return Ok(None);
    };
    let Some(ranges) = plan_ranges(
        duration,
        chunks.chunk_seconds,
        chunks.min_seconds,
        opts.segment_seconds,
    ) else {
        return Ok(None);
    };
    let rungs = ladder::plan(v, &opts.ladder);
    if rungs.is_empty() {
        return Ok(None);
    }
    let budget = Budget::new(opts.timeout, opts.cancel.clone());
    let picture = Picture::plan(input, v, &budget).await?;
    if picture.rate.is_none() {
        return Ok(None);
    }
    let Some(first) = frames::first_frame_pts(input, v, &picture, &budget).await? else {
        return Ok(None);
    };
    // As the single encode with these options cuts: a shorter first segment when it publishes
    // progressively (H.264 alone).
    let extras = Extras::plan(&opts.codecs, &picture, rungs.len()).0;
    let segment = opts.segment_seconds;
    let cadence = Cadence::new(k, segment, head::first_segment(opts, &extras), &extras);
    let Some(bounds) = boundaries(&picture, v, &rungs, &ranges, first, duration, cadence) else {
        return Ok(None);
    };
    let (crfs, head) = match cadence
        .first
        .filter(|_| head::wanted(opts, &extras, &picture, Some(duration)))
    {
        Some(first) => {
            let audio = tracks::plan(probe);
            let layout = Layout::new(Some(duration), v.width, v.height);
            let plan = head::HeadPlan {
                input,
                out_dir: work_dir,
                video: v,
                picture: &picture,
                duration: Some(duration),
                rungs: &rungs,
                audio: &audio,
                opts,
                layout: &layout,
                extras: &extras,
                first,
            };
            let live = video::live_plan(&extras, &rungs, &audio, &picture, v, opts, Some(duration));
            let niced = budget.niced(head::PROBE_NICENESS);
            let probe =
                video::adaptive_crfs(input, v, &picture, Some(duration), &rungs, opts, &niced);
            let (crfs, head) = head::beside_probe(&plan, &live, &budget, probe).await?;
            (
                crfs,
                head.map(|h| h.streams.into_iter().map(|(s, _)| s).collect()),
            )
        }
        None => (
            video::adaptive_crfs(input, v, &picture, Some(duration), &rungs, opts, &budget).await?,
            None,
        ),
    };
    let extras = extras.with_rates(opts.ladder_mode, &crfs);
    let source = complexity::Source {
        input,
        video: v,
        picture: &picture,
        duration: Some(duration),
    };
    let av1 = complexity::av1_crfs(&source, &rungs, &extras, opts, work_dir, &budget).await?;
    // Without AV1 after all (its trials found it would not pay), the single encode forces its
    // keyframes by time again, and so must the chunks.
    let published = Cadence::new(k, segment, cadence.first, &extras.with_av1(&av1));
    let bounds = if published != cadence {
        match boundaries(&picture, v, &rungs, &ranges, first, duration, published) {
            Some(b) => b,
            None => return Ok(None),
        }
    } else {
        bounds
    };
    let ranges = bounds.ranges;
    let (starts, keys) = (bounds.starts, bounds.keys);
    Ok(Some(ChunkedPlan {
        ranges,
        duration,
        probe: probe.clone(),
        picture,
        rungs,
        crfs,
        av1_crfs: av1.crfs,
        av1_skip: av1.skip,
        segment_seconds: opts.segment_seconds,
        keyframe_seconds: k,
        first_segment: cadence.first,
        first,
        starts,
        keys,
        head: head.unwrap_or_default(),
    }))
}
