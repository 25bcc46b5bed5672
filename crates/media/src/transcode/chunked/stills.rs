//! The rest job's thumbnail and the last chunk's storyboard tiles without decoding the whole
//! source, and the picture's last frame, which its pacer needs.
//!
//! A single encode takes its stills from the constant-rate picture
//! (`Picture::chain_to_rate`): the thumbnail is its first frame at or after
//! `THUMBNAIL_AT` of the duration (`trim=start=…`), a storyboard tile the frame
//! `fps=1/interval` keeps for each tick. Both are arithmetic on the picture's frame numbers
//! (pts at the constant rate) given its first frame (the plan's) and its last one, which only
//! the end of the source tells: [`last_frame`] decodes the last seconds the way the last chunk
//! does. Each still is then decoded where it is ([`make`]): an accurate seek two frames before
//! it and the `trim` a chunk starts with (`encode.rs`), so it is the single encode's frame,
//! through the same tone-map, scaler and JPEG encoder — the same bytes. Up to [`BATCH`] seeks
//! share one ffmpeg process (an input each: the process's start costs as much as decoding a
//! few dozen 720p frames). Stills closer together than a seek costs (measured on the first
//! ones, against the tail's decode) come from one contiguous decode, picked by frame number.

use super::frames::frame_time;
use super::picks::{thumbnail_frame, tile_frames, tile_name, tile_output};
use super::{ChunkedPlan, Input};
use crate::error::Result;
use crate::process::{self, Budget};
use crate::transcode::storyboard::Layout;
use crate::transcode::video::{thumbnail_size, Args, THUMBNAIL_AT};
use crate::transcode::THUMBNAIL;
use std::path::Path;

/// How far before the video's probed end [`last_frame`] starts decoding: enough for a
/// duration the container rounds or overstates a little.
const TAIL_SECONDS: f64 = 6.0;

/// Decodes (inputs, each seeking to its own span of stills) in one ffmpeg process: each opens
/// the source and keeps a decoder (single-threaded: a few frames each).
const BATCH: usize = 8;

/// Enough of a run's stderr for ffmpeg's closing statistics.
const STATS_TAIL_BYTES: usize = 64 * 1024;

/// What ffmpeg runs cost: video frames decoded (its own count) and CPU seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Cost {
    pub decoded: u64,
    pub cpu: Option<f64>,
}

impl Cost {
    pub fn add(&mut self, decoded: u64, cpu: Option<f64>) {
        self.decoded += decoded;
        self.cpu = self.cpu.zip(cpu).map(|(a, b)| a + b);
    }
}

/// The picture's last frame (pts at its constant rate), and what finding it cost.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tail {
    pub last: u64,
    pub cost: Cost,
}

/// Decodes the source's last [`TAIL_SECONDS`] through the picture's frame-deciding chain and
/// counts the frames, as the last chunk makes them (the same seek and trim). `None` when that
/// decode found no frame or failed: the video ends before its probed duration says (or the
/// end is broken), and only a full decode tells what a single encode makes of it.
pub(super) async fn last_frame(
    input: &Input,
    plan: &ChunkedPlan,
    threads: Option<u32>,
    budget: &Budget,
) -> Result<Option<Tail>> {
    let v = plan.video()?;
    let (num, den) = plan.rate()?;
    let end = match v.duration.filter(|d| d.is_finite() && *d > 0.0) {
        Some(d) => d.min(plan.duration),
        None => plan.duration,
    };
    let from = ((end - TAIL_SECONDS).max(0.0) * num as f64 / den as f64).floor() as u64;
    let from = from.max(plan.first);
    let mut a = head_args(threads);
    push_input(&mut a, input, plan, from, None);
    a.push_all(["-filter_complex", &picture_graph(plan, 0, from)]);
    a.push_all(["-map", "[v0]", "-fps_mode", "passthrough"]);
    a.push_all(["-c:v", "wrapped_avframe", "-f", "framecrc", "-"]);
    let mut out = Vec::new();
    let finished = process::run_keeping(
        "ffmpeg",
        &a.0,
        "ffmpeg last frames",
        budget,
        STATS_TAIL_BYTES,
        |b| out.extend_from_slice(b),
    )
    .await?;
    if !finished.success() {
        tracing::info!(
            stderr = %finished.stderr_tail.lines().rev().take(3).collect::<Vec<_>>().join(" | "),
            "the end of the video did not decode on its own: the rest job decodes all of it"
        );
        return Ok(None);
    }
    let frames = String::from_utf8_lossy(&out)
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .count() as u64;
    if frames == 0 {
        tracing::info!(
            from,
            "no frame after {from}: the video ends before its probed duration; the rest job decodes all of it"
        );
        return Ok(None);
    }
    let mut cost = Cost {
        decoded: 0,
        cpu: Some(0.0),
    };
    cost.add(decoded_frames(&finished.stderr_tail), finished.cpu_seconds);
    Ok(Some(Tail {
        last: from + frames - 1,
        cost,
    }))
}

/// The options every run here starts with; logs at `verbose` for ffmpeg's decoded-frame count.
fn head_args(threads: Option<u32>) -> Args {
    let mut a = Args::default();
    a.push_all(["-hide_banner", "-nostdin", "-y", "-loglevel", "verbose"]);
    a.push("-nostats");
    if let Some(t) = threads {
        a.push_all(["-filter_complex_threads", &t.to_string()]);
    }
    a
}

/// Adds an input whose picture starts exactly on frame `from` once [`picture_graph`] trims
/// it: an accurate seek two frames early (the constant-rate filter then gives `from` the
/// source frame a single encode gives it, see `encode.rs`). `decoder_threads`: the decoder's
/// own threads (default: ffmpeg's choice).
fn push_input(
    a: &mut Args,
    input: &Input,
    plan: &ChunkedPlan,
    from: u64,
    decoder_threads: Option<u32>,
) {
    if let Some((option, decoder)) = plan.probe.video.as_ref().and_then(|v| v.decoder()) {
        a.push_all([option.as_str(), decoder]);
    }
    if let Some(t) = decoder_threads {
        a.push_all(["-threads", &t.to_string()]);
    }
    let (num, den) = plan.picture.rate.unwrap_or((1, 1));
    let seek = if from >= EARLY {
        frame_time(num, den, from - EARLY)
    } else {
        0.0
    };
    if seek > 0.0 {
        a.push_all(["-ss", &format!("{seek:.6}")]);
    }
    a.push("-i");
    a.push(input.ffmpeg_url());
}

/// Frames a decode starts before the one it wants (see `encode.rs`).
const EARLY: u64 = 2;

/// The filter graph's chain for input `k` added by [`push_input`]: the picture's frame-deciding
/// filters and a `trim` of the frames before `from`, as `[v{k}]`.
fn picture_graph(plan: &ChunkedPlan, k: usize, from: u64) -> String {
    let to_rate = plan.picture.chain_to_rate();
    let to_rate = if to_rate.is_empty() {
        to_rate
    } else {
        to_rate + ","
    };
    let index = plan.probe.video.as_ref().map(|v| v.index).unwrap_or(0);
    format!(
        "[{k}:{index}]{to_rate}trim=start_pts={}[v{k}]",
        from.min(EARLY)
    )
}

/// ffmpeg's own count of the video frames it decoded, from its closing statistics (logged at
/// `verbose`: "Input stream #0:0 (video): … packets read (… bytes); N frames decoded;").
pub(super) fn decoded_frames(stderr: &str) -> u64 {
    stderr
        .lines()
        .filter(|l| l.contains("(video):"))
        .filter_map(|l| {
            let before = l.split(" frames decoded").next()?;
            if before.len() == l.len() {
                return None;
            }
            before.rsplit(' ').next()?.trim().parse::<u64>().ok()
        })
        .sum()
}

/// One still to make: its picture frame and where it goes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Still {
    Thumbnail(u64),
    /// The tile's frame and its 1-based file number in the tiles directory.
    Tile(u64, usize),
}

impl Still {
    fn frame(self) -> u64 {
        match self {
            Still::Thumbnail(m) | Still::Tile(m, _) => m,
        }
    }
}

/// What [`make`] made: its cost, the tiles it wrote (file names relative to `out_dir`) and
/// how many the storyboard has in all (the chunks make the others).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Made {
    pub cost: Cost,
    pub tiles: Vec<String>,
    pub total: u32,
}

/// Makes the thumbnail (`out_dir/thumbnail.jpg`) and the storyboard tiles from picture frame
/// `from` on (`out_dir/.storyboard-tiles/NNNNN.jpg`: the last chunk's range; the chunks before
/// it make theirs while they encode) of a picture whose last frame is `tail.last`, as a single
/// encode makes them, decoding only around each. `None` when a still did not come out (the
/// caller then decodes everything); the thumbnail is missing only where a single encode
/// misses it too (its time past the end).
#[allow(clippy::too_many_arguments)]
pub(super) async fn make(
    input: &Input,
    out_dir: &Path,
    plan: &ChunkedPlan,
    layout: &Layout,
    tail: &Tail,
    from: u64,
    threads: Option<u32>,
    budget: &Budget,
) -> Result<Option<Made>> {
    let last = tail.last;
    let rate = plan.rate()?;
    let at = plan.probe.media_duration().unwrap_or(0.0) * THUMBNAIL_AT;
    let all = tile_frames(plan.first, last, rate, layout.interval, layout.capacity());
    let total = all.len();
    let mut stills: Vec<Still> = all
        .into_iter()
        .enumerate()
        .map(|(i, m)| Still::Tile(m, i + 1))
        .filter(|s| s.frame() >= from)
        .collect();
    let tiles: Vec<usize> = stills
        .iter()
        .filter_map(|s| match s {
            Still::Tile(_, n) => Some(*n),
            Still::Thumbnail(_) => None,
        })
        .collect();
    let thumbnail = thumbnail_frame(at, plan.first, last, rate);
    if let Some(m) = thumbnail {
        stills.push(Still::Thumbnail(m));
    }
    stills.sort_by_key(|s| s.frame());

    // Stills nearer each other than a seek costs come from one decode: a second of frames
    // apart until two lone stills have measured what a seek costs here (see [`reach`]).
    let second = (rate.0 as u64).div_ceil(rate.1.max(1) as u64).max(1);
    let mut lone = Cost {
        decoded: 0,
        cpu: Some(0.0),
    };
    let mut lone_runs = 0u64;
    let mut cost = Cost {
        decoded: 0,
        cpu: Some(0.0),
    };
    let mut i = 0;
    while i < stills.len() {
        let reach = match lone_runs {
            0 | 1 => second,
            n => reach(&lone, n, &tail.cost).max(second),
        };
        // Up to BATCH spans in one process (its start costs more than a seek at 720p).
        let mut spans: Vec<&[Still]> = Vec::with_capacity(BATCH);
        while i < stills.len() && spans.len() < BATCH {
            let mut j = i + 1;
            while j < stills.len() && stills[j].frame() - stills[j - 1].frame() <= reach {
                j += 1;
            }
            spans.push(&stills[i..j]);
            i = j;
        }
        let Some((decoded, cpu)) =
            decode_spans(input, out_dir, plan, layout, &spans, threads, budget).await?
        else {
            return Ok(None);
        };
        cost.add(decoded, cpu);
        if spans.iter().all(|s| s.len() == 1) {
            lone_runs += spans.len() as u64;
            lone.add(decoded, cpu);
        }
    }

    // Every planned still came out.
    let mut written = Vec::with_capacity(tiles.len());
    for n in tiles {
        let name = tile_name(n);
        if !non_empty(&out_dir.join(&name)).await {
            tracing::warn!(tile = n, "a storyboard tile did not come out of its seek");
            return Ok(None);
        }
        written.push(name);
    }
    if thumbnail.is_some() && !non_empty(&out_dir.join(THUMBNAIL)).await {
        tracing::warn!("the thumbnail did not come out of its seek");
        return Ok(None);
    }
    Ok(Some(Made {
        cost,
        tiles: written,
        total: total as u32,
    }))
}

async fn non_empty(path: &Path) -> bool {
    tokio::fs::metadata(path)
        .await
        .map(|m| m.len() > 0)
        .unwrap_or(false)
}

/// How many frames apart two stills may be and still come from one decode: as many as a seek
/// of its own costs. A lone still's run (`lone`, over `runs` of them) costs the process's start
/// (opening the source, probing it) and the frames from the keyframe before it; its CPU over
/// the CPU one frame costs — from the tail's run (`tail`), which decodes many more frames, less
/// a lone run — is how many frames of one decode cost as much. Without CPU figures, the frames
/// a lone run decoded.
fn reach(lone: &Cost, runs: u64, tail: &Cost) -> u64 {
    let frames = lone.decoded as f64 / runs as f64;
    let (Some(lone_cpu), Some(tail_cpu)) = (lone.cpu, tail.cpu) else {
        return frames as u64;
    };
    let lone_cpu = lone_cpu / runs as f64;
    let per_frame = if tail.decoded as f64 > 2.0 * frames && tail_cpu > lone_cpu {
        (tail_cpu - lone_cpu) / (tail.decoded as f64 - frames)
    } else {
        tail_cpu / tail.decoded.max(1) as f64
    };
    if per_frame > 0.0 {
        (lone_cpu / per_frame).max(frames) as u64
    } else {
        frames as u64
    }
}

/// One ffmpeg process decoding each of `spans` (each sorted by frame) from its first still to
/// its last, writing each still: `(decoded frames, CPU seconds)`, or `None` when ffmpeg failed.
async fn decode_spans(
    input: &Input,
    out_dir: &Path,
    plan: &ChunkedPlan,
    layout: &Layout,
    spans: &[&[Still]],
    threads: Option<u32>,
    budget: &Budget,
) -> Result<Option<(u64, Option<f64>)>> {
    let v = plan.video()?;
    let tone_map = plan.picture.tone_map(v);
    let tone_map = if tone_map.is_empty() {
        tone_map
    } else {
        tone_map + ","
    };
    let (tw, th) = thumbnail_size(v);
    let mut a = head_args(threads);
    let mut graph = Vec::new();
    let mut outputs = Args::default();
    for (k, stills) in spans.iter().enumerate() {
        let from = stills[0].frame();
        // Frame numbers after the trim (the span's first frame is 0).
        let pick = |frames: &[u64]| {
            frames
                .iter()
                .map(|m| format!("eq(n\\,{})", m - from))
                .collect::<Vec<_>>()
                .join("+")
        };
        let thumb: Vec<u64> = stills
            .iter()
            .filter_map(|s| match s {
                Still::Thumbnail(m) => Some(*m),
                Still::Tile(..) => None,
            })
            .collect();
        let tiles: Vec<(u64, usize)> = stills
            .iter()
            .filter_map(|s| match s {
                Still::Tile(m, n) => Some((*m, *n)),
                Still::Thumbnail(_) => None,
            })
            .collect();
        // A span's tiles are numbered one after another (stills sorted by frame, tiles in
        // tick order): anything else would misnumber them.
        if tiles.windows(2).any(|w| w[1].1 != w[0].1 + 1) {
            return Ok(None);
        }
        push_input(&mut a, input, plan, from, Some(1));
        graph.push(picture_graph(plan, k, from));
        // The chain ends after its last still. `-frames:v` alone did not end it: with the
        // picked frames passed through (`-fps_mode passthrough`; `vfr` the same) ffmpeg 5.1
        // went on decoding every input of a batch to the end of the file after its outputs had
        // their frames (a batch of 10-minute 1080p spans took ~50 s of CPU instead of ~6).
        let through = stills.last().map_or(from, |s| s.frame()) - from + 1;
        graph.push(format!("[v{k}]trim=end_frame={through}[e{k}]"));
        let both = !thumb.is_empty() && !tiles.is_empty();
        let (thumb_in, tiles_in) = if both {
            graph.push(format!("[e{k}]split=2[vthumb{k}][vtiles{k}]"));
            (format!("[vthumb{k}]"), format!("[vtiles{k}]"))
        } else {
            (format!("[e{k}]"), format!("[e{k}]"))
        };
        // The outputs' options are the single encode's (the same JPEG encoder settings), but
        // for passing the picked frames through as they are.
        if !thumb.is_empty() {
            // As the single encode's thumbnail branch: the tone-map, its size, square pixels.
            graph.push(format!(
                "{thumb_in}select='{}',{tone_map}scale={tw}:{th},setsar=1[thumb{k}]",
                pick(&thumb)
            ));
            outputs.push_all([
                "-map",
                &format!("[thumb{k}]"),
                "-frames:v",
                "1",
                "-q:v",
                "3",
            ]);
            outputs.push_all(["-fps_mode", "passthrough", "-map_metadata", "-1"]);
            outputs.push_all(["-f", "image2", "-update", "1"]);
            outputs.push(crate::probe::file_url(&out_dir.join(THUMBNAIL)));
        }
        if !tiles.is_empty() {
            // As the storyboard branch after its `fps`: the tone-map and the tile scaler.
            let frames: Vec<u64> = tiles.iter().map(|t| t.0).collect();
            graph.push(format!(
                "{tiles_in}select='{}',{tone_map}scale={}:{}[tiles{k}]",
                pick(&frames),
                layout.tile_width,
                layout.tile_height
            ));
            let count = tiles.len().to_string();
            outputs.push_all(["-map", &format!("[tiles{k}]"), "-frames:v", &count]);
            tile_output(&mut outputs, tiles[0].1, out_dir);
        }
    }
    a.push_all(["-filter_complex", &graph.join(";")]);
    a.0.extend(outputs.0);
    let finished = process::run_keeping(
        "ffmpeg",
        &a.0,
        "ffmpeg stills",
        budget,
        STATS_TAIL_BYTES,
        |_| {},
    )
    .await?;
    if !finished.success() {
        tracing::warn!(
            stderr = %finished.stderr_tail.lines().rev().take(3).collect::<Vec<_>>().join(" | "),
            "a seek for the stills failed"
        );
        return Ok(None);
    }
    Ok(Some((
        decoded_frames(&finished.stderr_tail),
        finished.cpu_seconds,
    )))
}

#[cfg(test)]
#[path = "stills_seeks.rs"]
mod seeks;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoded_frames_from_the_closing_statistics() {
        let log = "Input file #0 (file:/x.mp4):\n  Input stream #0:0 (video): 123 packets read (4567 bytes); 120 frames decoded; \n  Input stream #0:1 (audio): 9 packets read (99 bytes); 9 frames decoded (9216 samples); \n  Total: 132 packets (4666 bytes) demuxed\n";
        assert_eq!(decoded_frames(log), 120);
        assert_eq!(decoded_frames("nothing"), 0);
    }

    #[test]
    fn a_seek_is_worth_the_frames_it_costs() {
        let cost = |decoded, cpu| Cost { decoded, cpu };
        // Two lone runs of 35 frames at 0.1 s each; the tail's 215 frames took 0.28 s: a frame
        // costs 1 ms, a run 0.1 s — stills up to 100 frames apart come from one decode.
        assert_eq!(reach(&cost(70, Some(0.2)), 2, &cost(215, Some(0.28))), 100);
        // Seeks that decode more than they cost in starting up: what they decode.
        assert_eq!(reach(&cost(400, Some(0.2)), 2, &cost(215, Some(0.28))), 200);
        // No CPU figures: the frames a seek decodes.
        assert_eq!(reach(&cost(70, None), 2, &cost(215, Some(0.28))), 35);
    }
}
