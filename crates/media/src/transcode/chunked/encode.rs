//! One chunk: every video output stream for one range of the source.

use super::frames::{frame_time, list_time};
use super::mpd::{renumber, timelines};
use super::picks::{chunk_tiles, tile_name, tiles_in};
use super::tfdt::shift;
use super::{rung_keys, video_streams, ChunkOutput, ChunkSegment, ChunkStream, ChunkedPlan, Input};
use crate::error::{MediaError, Result};
use crate::process::{self, Budget};
use crate::progress::{Progress, ProgressParser};
use crate::transcode::codecs;
use crate::transcode::command::{build_args, Plan, Span};
use crate::transcode::live::LivePlan;
use crate::transcode::package::{
    media_playlist_name, remove_adaptation_sets, repair_media_playlist,
};
use crate::transcode::storyboard::Layout;
use crate::transcode::tail;
use crate::transcode::tracks::{rendition_of, PlannedTrack};
use crate::transcode::video::TILES_DIR;
use crate::transcode::{
    check_not_truncated, classify_failure, mp4, prepare_out_dir, provenance, with_watcher,
    VideoOptions, DASH_MANIFEST, STREAM_DIR,
};
use std::path::Path;

/// Encodes chunk `index` of `plan` from `input` into `out_dir/stream/`: this chunk's media
/// segments under their final names, and for chunk 0 the init segments (a later chunk's own
/// differ: their edit lists start the track at the chunk's start; they are removed), and
/// (but for the last chunk) the storyboard tiles whose frames are in its range, in
/// `out_dir/.storyboard-tiles/` (working files for the final step's sprite). Nothing else: the
/// chunk's own playlists and MPD are read and removed. `opts` must be the options the plan was
/// made with (segment and keyframe durations are checked; codecs, preset and ladder mode are
/// taken from it).
///
/// Progressive packaging (`opts.packaging`) is reported only by chunk 0 of a plan whose head was
/// published (`ChunkedPlan::head`): H.264 alone, its files are the single encode's as ffmpeg
/// writes them (stream numbers, segment names, a timeline from 0), so its segments after the
/// head's are reported as they complete, in `EVENT` playlists. It then also encodes the audio
/// of its range, as the head does (the same AAC encoder from 0, cut at the same keyframes: the
/// rest job's segments byte for byte), so players do not wait for the rest job; those audio
/// files are reported only (the rest job's are the recorded ones). A later chunk's are renamed
/// and moved onto the timeline once it is done: published as a whole then.
pub async fn encode_chunk(
    input: &Input,
    out_dir: &Path,
    plan: &ChunkedPlan,
    index: u32,
    opts: &VideoOptions,
    progress: impl FnMut(Progress) + Send,
) -> Result<ChunkOutput> {
    let range = plan.range(index)?.clone();
    plan.check_options(opts)?;
    let v = plan.video()?;
    let (num, den) = plan.rate()?;
    let k = plan.keyframe_seconds;
    let extras = plan.extras(opts);
    let audio = plan.audio_tracks().len();
    let streams = video_streams(plan.rungs.len(), audio, &extras);
    let i = index as usize;
    let first = plan.starts[i];
    let next = plan.starts.get(i + 1).copied();
    let j0 = plan.keys[i];
    // Keyframe intervals of this chunk; the last one's list runs past the end (harmless).
    let j1 = match plan.keys.get(i + 1) {
        Some(&j) => j,
        None => j0 + ((range.end - range.start) / k as f64).ceil() as u64 + 2,
    };
    let mut frames = Vec::with_capacity(streams.len());
    let mut keyframes = Vec::with_capacity(streams.len());
    for &(rung, _, _, _) in &streams {
        let (keys, ratio, (n, d)) =
            rung_keys(&plan.picture, v, &plan.rungs, rung, plan.cadence(opts)).ok_or_else(
                || MediaError::Io(std::io::Error::other("the chunk plan has no frame rate")),
            )?;
        frames.push(next.map(|next| (next - first) / ratio));
        // Chunk 0 starts where a single encode does: its keyframes are forced the same way.
        // A later chunk counts its frames from its own first: each keyframe a single encode
        // forces (counted from the source's first frame) by its frame in the chunk.
        let list: Vec<String> = if index == 0 {
            Vec::new()
        } else {
            let base = keys.frame(j0);
            (j0..j1)
                .map(|j| list_time(n, d, keys.frame(j) - base))
                .collect()
        };
        keyframes.push(list.join(","));
    }
    let start = if index == 0 {
        0.0
    } else {
        frame_time(num, den, first)
    };
    // The input is read from two frames early: the constant-rate filter then gives the
    // range's first frame the source frame a single encode gives it (the nearest one, which
    // may lie up to half a frame before the range's start), with the same rounding (a whole
    // number of frames moved); the frames before it are dropped and the timestamps start at 0.
    const EARLY: u64 = 2;
    let early = if index == 0 {
        0.0
    } else {
        frame_time(num, den, first.saturating_sub(EARLY))
    };
    let mut span = Span {
        input: input.ffmpeg_url(),
        seek: early,
        // A second more than the range: the constant-rate filter needs input to make the
        // range's last frames; `-frames:v` cuts exactly.
        read: next.map(|next| frame_time(num, den, next) - early + 1.0),
        trim: if index == 0 {
            String::new()
        } else {
            format!("trim=start_pts={},setpts=PTS-STARTPTS", first.min(EARLY))
        },
        offset: start,
        frames,
        keyframes,
        tiles: None,
    };

    let stream_dir = prepare_out_dir(out_dir).await?;
    let budget = Budget::new(opts.timeout, opts.cancel.clone());
    // The storyboard's layout as the rest job plans it (over the probed duration).
    let layout = Layout::new(plan.probe.media_duration(), v.width, v.height);
    // The storyboard tiles in this range, from the frames this chunk decodes anyway (the
    // last chunk's are the rest job's: which they are depends on the last frame).
    let tiles_dir = out_dir.join(TILES_DIR);
    let _ = tokio::fs::remove_dir_all(&tiles_dir).await;
    let tiles = match next {
        Some(next) => tiles_in(
            plan.first,
            (first, next),
            (num, den),
            layout.interval,
            layout.capacity(),
        ),
        None => Vec::new(),
    };
    if !tiles.is_empty() {
        tokio::fs::create_dir_all(&tiles_dir).await?;
        let (filter, outputs) =
            chunk_tiles(&tiles, first, &layout, out_dir, ("[stiles]", "[tiles]"));
        span.tiles = Some((filter, outputs.0));
    }
    let reported: Vec<(usize, String)> = plan.head.iter().map(|&s| (s, String::new())).collect();
    let progressive = index == 0
        && next.is_some()
        && extras.streams().is_empty()
        && !reported.is_empty()
        && opts.packaging.is_some();
    let tracks = plan.audio_tracks();
    let with_audio: &[PlannedTrack] = if progressive { &tracks } else { &[] };
    let args = build_args(&Plan {
        input: Path::new(""),
        out_dir,
        video: v,
        picture: &plan.picture,
        duration: Some(range.end - range.start),
        rungs: &plan.rungs,
        audio: with_audio,
        opts,
        layout: &layout,
        extras: &extras,
        crfs: &plan.crfs,
        span: Some(&span),
        first: plan.first_segment,
    });
    let mut parser = ProgressParser::new(Some(range.end - range.start), progress);
    let started = std::time::Instant::now();
    let run = process::run("ffmpeg", &args, "ffmpeg chunk encode", &budget, |chunk| {
        parser.push(chunk)
    });
    let finished = if progressive {
        // The master is out (the head's): the codecs and renditions are not needed again.
        let n = streams.len();
        let live = LivePlan {
            streams: n + tracks.len(),
            variants: Vec::new(),
            audio: tracks
                .iter()
                .enumerate()
                .map(|(i, t)| (n + i, rendition_of(&t.info, None)))
                .collect(),
            segment_seconds: plan.segment_seconds,
            audio_segment_seconds: plan.first_segment,
            reported,
            duration: Some(range.end),
        };
        with_watcher(run, out_dir, live, opts.packaging.as_ref()).await?
    } else {
        run.await?
    };
    if !finished.success() {
        return Err(classify_failure(finished, "a video"));
    }
    let wall_seconds = started.elapsed().as_secs_f64();

    // What ffmpeg wrote, renamed to what a single encode names it.
    let own: Vec<usize> = streams.iter().map(|s| s.3).collect();
    let mpd = tokio::fs::read_to_string(out_dir.join(DASH_MANIFEST)).await?;
    // Its own audio (progressive chunk 0) is the rest job's to record.
    let audio_streams: Vec<usize> = (streams.len()..streams.len() + with_audio.len()).collect();
    let mpd = if audio_streams.is_empty() {
        mpd
    } else {
        remove_adaptation_sets(&mpd, &audio_streams)?
    };
    // The last chunk ends every stream: no sliver at the end, as a single encode (`tail.rs`).
    let mpd = match next {
        None => tail::fold_short_tails(&stream_dir, &mpd, &own).await?,
        Some(_) => mpd,
    };
    let mpd = codecs::name_codecs(&stream_dir, &mpd, &own).await?;
    let lines = timelines(&mpd)?;
    let mut renames = Vec::new();
    let mut out_streams = Vec::with_capacity(streams.len());
    for &(rung, _, stream, own) in &streams {
        let (_, ratio, (rate_n, rate_d)) =
            rung_keys(&plan.picture, v, &plan.rungs, rung, plan.cadence(opts)).ok_or_else(
                || MediaError::Io(std::io::Error::other("the chunk plan has no frame rate")),
            )?;
        let name = media_playlist_name(own);
        let text = tokio::fs::read_to_string(stream_dir.join(&name))
            .await
            .map_err(|e| MediaError::bad_output_from(format!("ffmpeg wrote no {name}"), e))?;
        let playlist =
            repair_media_playlist(&text).map_err(|e| MediaError::bad_output_from(name, e))?;
        let line = lines
            .iter()
            .find(|l| l.id == own.to_string())
            .ok_or_else(|| MediaError::bad_output(format!("the MPD has no timeline for {own}")))?;
        let wrote = playlist.segments.len();
        // The decoder ran out of data before the range's end: a truncated upload, as a single
        // encode would find it (and say it).
        let end = range.start + playlist.segments.iter().map(|s| s.1).sum::<f64>();
        if next.is_some() && wrote < range.segments as usize {
            return Err(MediaError::unusable(format!(
                "the upload is truncated: only {end:.2}s of {:.2}s could be decoded",
                plan.duration
            )));
        }
        if next.is_none() {
            check_not_truncated(Some(plan.duration), end)?;
        }
        if wrote != line.segments.len()
            || (next.is_some() && wrote != range.segments as usize)
            || wrote == 0
        {
            return Err(MediaError::bad_output(format!(
                "chunk {index} stream {stream}: {wrote} segments in the playlist, {} in the MPD, {} planned",
                line.segments.len(),
                range.segments
            )));
        }
        let init_name = format!("init-{own}.m4s");
        let init = tokio::fs::read(stream_dir.join(&init_name)).await?;
        let codecs = mp4::codec_string(&init)
            .ok_or_else(|| MediaError::bad_output(format!("{init_name}: an unknown codec")))?;
        if index == 0 {
            renames.push((init_name, format!("init-{stream}.m4s")));
        } else {
            // Not the single encode's: its edit list starts the track at this chunk's start.
            // Chunk 0's is the one published.
            tokio::fs::remove_file(stream_dir.join(&init_name)).await?;
        }
        let mut segments = Vec::with_capacity(wrote);
        let mut encoder_tag = None;
        for (i, ((uri, duration), (t, d))) in
            playlist.segments.iter().zip(&line.segments).enumerate()
        {
            let path = stream_dir.join(uri);
            if i == 0 {
                encoder_tag = provenance::encoder_tag(&tokio::fs::read(&path).await?);
            }
            if index > 0 {
                // Onto the single encode's timeline: the frames before this chunk's first, at
                // this stream's rate, in its timescale.
                let before = (first - plan.first) / ratio;
                let delta = (before as u128 * rate_d as u128 * line.timescale as u128
                    / rate_n as u128) as u64;
                let mut data = tokio::fs::read(&path).await?;
                if shift(&mut data, delta)? == 0 {
                    return Err(MediaError::bad_output(format!("{uri}: no fragment")));
                }
                tokio::fs::write(&path, &data).await?;
            }
            let bytes = tokio::fs::metadata(&path).await?.len();
            let number = range.first_segment + i as u32;
            renames.push((uri.clone(), segment_name(stream, number)));
            segments.push(ChunkSegment {
                number,
                duration: *duration,
                bytes,
                t: *t,
                d: *d,
            });
        }
        out_streams.push(ChunkStream {
            stream,
            codecs,
            timescale: line.timescale,
            init_bytes: init.len() as u64,
            segments,
            encoder_tag,
            head: false,
        });
    }
    let files = renames
        .iter()
        .map(|(_, to)| format!("{STREAM_DIR}/{to}"))
        .collect();
    // Chunk 0's names are already the final ones (its files may still be being uploaded as it
    // reported them): only the others move.
    renames.retain(|(from, to)| from != to);
    // Through temporary names: a final name may be another stream's name from ffmpeg.
    for (from, _) in &renames {
        tokio::fs::rename(
            stream_dir.join(from),
            stream_dir.join(format!("{from}.part")),
        )
        .await?;
    }
    for (from, to) in &renames {
        tokio::fs::rename(stream_dir.join(format!("{from}.part")), stream_dir.join(to)).await?;
    }
    // The chunk's own manifests describe only it: the final step writes the real ones.
    let mut entries = tokio::fs::read_dir(&stream_dir).await?;
    while let Some(entry) = entries.next_entry().await? {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".m3u8") || name.ends_with(".mpd") {
            tokio::fs::remove_file(entry.path()).await?;
        }
    }
    let map: Vec<(usize, usize)> = streams.iter().map(|s| (s.3, s.2)).collect();
    let mut tile_files = Vec::with_capacity(tiles.len());
    for &(_, n) in &tiles {
        let name = tile_name(n);
        let made = tokio::fs::metadata(out_dir.join(&name))
            .await
            .is_ok_and(|m| m.len() > 0);
        if !made {
            return Err(MediaError::bad_output(format!(
                "chunk {index}: storyboard tile {n} did not come out"
            )));
        }
        tile_files.push(name);
    }
    Ok(ChunkOutput {
        index,
        streams: out_streams,
        tiles: tile_files,
        mpd: renumber(&mpd, &map)?,
        files,
        wall_seconds,
        cpu_seconds: finished.cpu_seconds,
    })
}

/// `chunk-{stream}-{number:05}.m4s`, as the dash muxer names a single encode's segments.
pub(crate) fn segment_name(stream: usize, number: u32) -> String {
    format!("chunk-{stream}-{number:05}.m4s")
}
