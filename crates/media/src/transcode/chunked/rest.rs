//! The rest job: everything of a chunked video that is not a video rung, for the whole source:
//! every audio track into the dash muxer in one ffmpeg run (one encode of the whole source: no
//! AAC priming at chunk borders), beside it the subtitles' demux-only run, the thumbnail, and
//! the storyboard tiles of the last chunk's range (the chunks before it make theirs from their
//! own decode; the final step pastes them all into the sprite).
//!
//! The audio run needs no picture: its pacer (the video stream that makes the dash muxer cut
//! the audio where a single encode's rungs make it cut it) is made up — a lavfi `color` source
//! with the picture's frames, from the plan's first to the last one `stills::last_frame` finds
//! by decoding the source's last seconds. The stills are decoded where they are
//! (`stills.rs`), a seek each. Where the end of the video does not decode on its own (it
//! stops before its probed duration) or a still does not come out, the rest job decodes every
//! frame as before: the pacer from the decoded picture and the stills from the same decode.

use super::mpd::renumber;
use super::stills::{self, Cost};
use super::{ChunkedPlan, Input, RestAudio, RestOutput};
use crate::error::{MediaError, Result};
use crate::process::{self, Budget};
use crate::progress::{Progress, ProgressParser};
use crate::transcode::command::{forced_keyframes, gop, ENCODER};
use crate::transcode::package::{self, media_playlist_name, repair_media_playlist};
use crate::transcode::rate;
use crate::transcode::storyboard::Layout;
use crate::transcode::tracks::{self, publish_audio, PlannedTrack, AUDIO_CHANNELS};
use crate::transcode::video::{self, thumbnail_size, Args, AUDIO_BITRATE, THUMBNAIL_AT, TILES_DIR};
use crate::transcode::{
    classify_failure, prepare_out_dir, subtitles, VideoOptions, DASH_MANIFEST, STORYBOARD_IMAGE,
    STREAM_DIR, THUMBNAIL,
};
use std::path::Path;

/// The output stream of the pacer (see [`rest_args`]).
const PACER: usize = 0;

/// Encodes every audio track (output streams numbered after the video rungs, as in a single
/// encode), converts the text tracks, and makes the thumbnail and the last chunk's storyboard
/// tiles, into `out_dir` (`stream/` for the audio and text tracks). The storyboard's sprite and
/// WebVTT index and the text tracks' place in the manifests are the final step's.
pub async fn encode_rest(
    input: &Input,
    out_dir: &Path,
    plan: &ChunkedPlan,
    opts: &VideoOptions,
    progress: impl FnMut(Progress) + Send,
) -> Result<RestOutput> {
    plan.check_options(opts)?;
    let v = plan.video()?;
    let rungs = plan.rungs.len();
    let duration = plan.probe.media_duration();
    let stream_dir = prepare_out_dir(out_dir).await?;
    match tokio::fs::remove_file(out_dir.join(STORYBOARD_IMAGE)).await {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
        _ => {}
    }
    clear_stills(out_dir).await?;
    let tiles = out_dir.join(TILES_DIR);
    let budget = Budget::new(opts.timeout, opts.cancel.clone());
    let layout = Layout::new(duration, v.width, v.height);
    let text_plan = subtitles::plan(&plan.probe);
    let mut run = AudioRun {
        input,
        out_dir,
        plan,
        layout: &layout,
        opts,
        budget: &budget,
        planned: plan.audio_tracks(),
        parser: ProgressParser::new(duration, progress),
        // What the plan decided for the whole item (AV1 left out) is said once, here.
        warnings: plan.av1_skip.iter().cloned().collect(),
    };
    let started = std::time::Instant::now();
    let url = input.ffmpeg_url();
    let threads = opts.threads;

    // The picture's last frame, from its last seconds: the pacer's length, and where the
    // storyboard's last tiles are.
    let tail = stills::last_frame(input, plan, threads, &budget).await?;
    let mut cost = tail.map(|t| t.cost).unwrap_or(Cost {
        decoded: 0,
        cpu: Some(0.0),
    });
    let mut decoded_all = tail.is_none();
    // The last chunk's storyboard tiles: the chunks before it make theirs.
    let from = plan.starts.last().copied().unwrap_or(plan.first);
    let mut made_tiles = None;
    let extracted = match tail {
        Some(tail) => {
            let pictures = Pictures::Made { last: tail.last };
            let (encoded, extracted, made) = tokio::join!(
                run.encode(pictures),
                subtitles::extract_from(&url, out_dir, &text_plan, &budget),
                stills::make(input, out_dir, plan, &layout, &tail, from, threads, &budget)
            );
            let (audio_cpu, extracted) = (encoded?, extracted?);
            cost.add(0, audio_cpu);
            match made? {
                Some(made) => {
                    cost.add(made.cost.decoded, made.cost.cpu);
                    made_tiles = Some((made.tiles, made.total));
                }
                None => {
                    // Not what the arithmetic said: everything from one full decode, the
                    // pacer included (its length came from the same arithmetic).
                    tracing::warn!(
                        "the stills did not come out of their seeks: decoding all of the video"
                    );
                    clear_stills(out_dir).await?;
                    prepare_out_dir(out_dir).await?;
                    decoded_all = true;
                    let cpu = run.encode(Pictures::Decoded).await?;
                    cost.add(0, cpu);
                }
            }
            extracted
        }
        None => {
            let (encoded, extracted) = tokio::join!(
                run.encode(Pictures::Decoded),
                subtitles::extract_from(&url, out_dir, &text_plan, &budget)
            );
            cost.add(0, encoded?);
            extracted?
        }
    };

    let AudioRun {
        planned,
        mut warnings,
        ..
    } = run;
    // The audio streams as a single encode numbers them: after the video rungs.
    let mut audio = Vec::new();
    let mut mpd = None;
    if !planned.is_empty() {
        rate::remove_streams(&stream_dir, &[PACER]).await?;
        let map: Vec<(usize, usize)> = (0..planned.len()).map(|i| (i + 1, rungs + i)).collect();
        renumber_files(&stream_dir, &map).await?;
        let xml = tokio::fs::read_to_string(out_dir.join(DASH_MANIFEST)).await?;
        let xml = package::remove_adaptation_sets(&xml, &[PACER])?;
        let xml = renumber(&xml, &map)?;
        // No audio track ends on a sliver, as in a single encode (`tail.rs`).
        let own: Vec<usize> = map.iter().map(|m| m.1).collect();
        let xml = crate::transcode::tail::fold_short_tails(&stream_dir, &xml, &own).await?;
        tokio::fs::write(out_dir.join(DASH_MANIFEST), &xml).await?;
        let reps = package::parse_mpd(&xml)?;
        let audio_reps: Vec<_> = reps.iter().filter(|r| r.content_type == "audio").collect();
        if audio_reps.len() != planned.len() {
            return Err(MediaError::bad_output(format!(
                "the audio MPD has {} representations, expected {}",
                audio_reps.len(),
                planned.len()
            )));
        }
        let published =
            publish_audio(out_dir, &stream_dir, &xml, rungs, &planned, &audio_reps).await?;
        warnings.extend(published.warnings);
        for (i, track) in published.tracks.into_iter().enumerate() {
            // `media_{stream}.m3u8`, as publish_audio names what it finalised.
            let stream = track
                .stats
                .uri
                .strip_prefix("media_")
                .and_then(|n| n.strip_suffix(".m3u8"))
                .and_then(|n| n.parse().ok())
                .unwrap_or(rungs + i);
            let playlist = tokio::fs::read_to_string(stream_dir.join(&track.stats.uri)).await?;
            let parsed = repair_media_playlist(&playlist)
                .map_err(|e| MediaError::bad_output_from(track.stats.uri.clone(), e))?;
            let mut segments = Vec::with_capacity(parsed.segments.len());
            for (uri, d) in &parsed.segments {
                segments.push((*d, tokio::fs::metadata(stream_dir.join(uri)).await?.len()));
            }
            audio.push(RestAudio {
                info: track.info,
                stream,
                codecs: track.codecs,
                playlist,
                segments,
                peak_bps: track.stats.peak_bps,
                average_bps: track.stats.average_bps,
                duration: track.stats.duration,
            });
        }
        // publish_audio may have left out a track that produced nothing.
        mpd = Some(tokio::fs::read_to_string(out_dir.join(DASH_MANIFEST)).await?);
    }
    for name in [
        DASH_MANIFEST.to_string(),
        format!("{STREAM_DIR}/master.m3u8"),
    ] {
        let _ = tokio::fs::remove_file(out_dir.join(name)).await;
    }
    let packaged = audio.iter().map(|a| a.duration).fold(0.0, f64::max);
    let text = subtitles::write_tracks(out_dir, extracted, packaged.max(plan.duration)).await?;
    warnings.extend(text.warnings);

    let thumbnail_ok = tokio::fs::metadata(out_dir.join(THUMBNAIL))
        .await
        .map(|m| m.len() > 0)
        .unwrap_or(false);
    if !thumbnail_ok {
        // As a single encode does: the trim window missed every frame (a duration the
        // container overstated), so the first frame.
        match input {
            Input::File(path) => {
                video::fallback_thumbnail(path, out_dir, v, &plan.picture, &budget).await?
            }
            Input::Url(_) => {
                return Err(MediaError::unusable(
                    "no frame of the video could be decoded",
                ))
            }
        }
    }
    // The tiles are working files: the final step makes the sprite of the chunks' and these.
    let (tiles, tiles_total) = match made_tiles {
        Some(made) => made,
        None => {
            // One decode made every tile, numbered from 1.
            let mut all = Vec::new();
            let mut entries = tokio::fs::read_dir(&tiles).await?;
            while let Some(entry) = entries.next_entry().await? {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.ends_with(".jpg") {
                    all.push(format!("{TILES_DIR}/{name}"));
                }
            }
            all.sort();
            let total = all.len() as u32;
            (all, total)
        }
    };

    let mut files = Vec::new();
    let mut entries = tokio::fs::read_dir(&stream_dir).await?;
    while let Some(entry) = entries.next_entry().await? {
        files.push(format!(
            "{STREAM_DIR}/{}",
            entry.file_name().to_string_lossy()
        ));
    }
    files.sort();
    files.push(THUMBNAIL.to_string());
    Ok(RestOutput {
        audio,
        mpd,
        text_tracks: text.tracks,
        warnings,
        storyboard: false,
        tiles,
        tiles_total: Some(tiles_total),
        files,
        wall_seconds: started.elapsed().as_secs_f64(),
        cpu_seconds: cost.cpu,
        video_frames_decoded: (!decoded_all).then_some(cost.decoded),
    })
}

/// Removes the thumbnail and the storyboard tiles (an earlier attempt's, or the seeks' before
/// a full decode makes them again), leaving an empty tiles directory.
async fn clear_stills(out_dir: &Path) -> Result<()> {
    match tokio::fs::remove_file(out_dir.join(THUMBNAIL)).await {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
        _ => {}
    }
    let tiles = out_dir.join(TILES_DIR);
    let _ = tokio::fs::remove_dir_all(&tiles).await;
    tokio::fs::create_dir_all(&tiles).await?;
    Ok(())
}

/// Where the rest's pictures come from.
#[derive(Debug, Clone, Copy)]
enum Pictures {
    /// One decode of every frame: the pacer from the decoded picture, the thumbnail and the
    /// storyboard tiles from the same decode.
    Decoded,
    /// None decoded by the audio run: a made-up pacer with the picture's frames up to `last`
    /// (the stills are made apart, by `stills::make`).
    Made { last: u64 },
}

/// The rest's audio run: what every attempt of it needs, and what it keeps between them (the
/// tracks left after one that does not decode, the progress, the warnings).
struct AudioRun<'a, F: FnMut(Progress)> {
    input: &'a Input,
    out_dir: &'a Path,
    plan: &'a ChunkedPlan,
    layout: &'a Layout,
    opts: &'a VideoOptions,
    budget: &'a Budget,
    planned: Vec<PlannedTrack>,
    parser: ProgressParser<F>,
    warnings: Vec<String>,
}

impl<F: FnMut(Progress) + Send> AudioRun<'_, F> {
    /// Runs the rest's ffmpeg (the audio tracks and their pacer, and with
    /// [`Pictures::Decoded`] the stills), leaving out an audio track that does not decode (and
    /// running again without it). Nothing to run: made pictures and no audio. CPU seconds of
    /// its runs.
    async fn encode(&mut self, pictures: Pictures) -> Result<Option<f64>> {
        let mut cpu = Some(0.0);
        loop {
            if self.planned.is_empty() && matches!(pictures, Pictures::Made { .. }) {
                return Ok(cpu);
            }
            let args = rest_args(
                self.input,
                self.out_dir,
                self.plan,
                &self.planned,
                self.layout,
                self.opts,
                pictures,
            );
            let parser = &mut self.parser;
            let finished = process::run(
                "ffmpeg",
                &args,
                "ffmpeg audio and stills",
                self.budget,
                |chunk| parser.push(chunk),
            )
            .await?;
            cpu = cpu.zip(finished.cpu_seconds).map(|(a, b)| a + b);
            if finished.success() {
                return Ok(cpu);
            }
            match tracks::drop_undecodable(&mut self.planned, &finished.stderr_tail) {
                Some(warning) => {
                    self.warnings.push(warning);
                    prepare_out_dir(self.out_dir).await?;
                }
                None => return Err(classify_failure(finished, "a video")),
            }
        }
    }
}

/// The rest's ffmpeg command: the audio tracks, encoded as a single encode encodes them, with
/// their pacer into the dash muxer (none: no dash output); with [`Pictures::Decoded`] the
/// decoded picture (through the plan's chain, as a single encode does) into the pacer and the
/// thumbnail and storyboard branches, with [`Pictures::Made`] a made-up pacer and no stills.
fn rest_args(
    input: &Input,
    out_dir: &Path,
    plan: &ChunkedPlan,
    audio: &[PlannedTrack],
    layout: &Layout,
    opts: &VideoOptions,
    pictures: Pictures,
) -> Vec<std::ffi::OsString> {
    let v = plan.probe.video.as_ref();
    let mut a = Args::default();
    a.push_all(["-hide_banner", "-nostdin", "-y", "-loglevel", "error"]);
    a.push_all(["-nostats", "-progress", "pipe:1"]);
    if let Some(t) = opts.threads {
        a.push_all(["-filter_complex_threads", &t.to_string()]);
    }
    if let Some((option, decoder)) = v.and_then(|v| v.decoder()) {
        a.push_all([option.as_str(), decoder]);
    }
    a.push("-i");
    a.push(input.ffmpeg_url());
    // At the rate of the slowest rung (the last, smallest one): its packets lead the
    // interleaving (the same B-frame delay in frames is the longest in time), so its
    // keyframes are the ones that cut the audio in a single encode.
    let slowest = plan
        .rungs
        .last()
        .map(|r| plan.picture.rung_filter(r.width.min(r.height)))
        .unwrap_or_default();
    match (pictures, v) {
        (Pictures::Made { last }, _) => {
            if let (false, Some(rate)) = (audio.is_empty(), plan.picture.rate) {
                a.push_all([
                    "-filter_complex",
                    &made_pacer(rate, plan.first, last, &slowest),
                ]);
            }
        }
        (Pictures::Decoded, None) => {}
        (Pictures::Decoded, Some(v)) => {
            // Only the stills need pictures, and only a few of them: the frames are decided
            // (deinterlace, constant rate) first, then the stills' branches pick theirs, and
            // only those are tone-mapped and scaled (the same pixels: the tone-map works frame
            // by frame). The pacer needs timestamps alone: a stamp made with the cheapest
            // scaler goes through the same frame-deciding filters.
            let pacer = !audio.is_empty();
            let to_rate = with_comma(plan.picture.chain_to_rate());
            let tone_map = with_comma(plan.picture.tone_map(v));
            let mut graph = format!("[0:{}]", v.index);
            if pacer {
                graph.push_str("split=2[stills][space];[stills]");
            }
            let (tw, th) = thumbnail_size(v);
            let at = plan.probe.media_duration().unwrap_or(0.0) * THUMBNAIL_AT;
            // `Layout::filter` (fps=1/interval, then the tile scaler) with the tone-map between.
            graph.push_str(&format!(
                "{to_rate}split=2[sthumb][sstory];\
             [sthumb]trim=start={at:.3},trim=end_frame=1,{tone_map}scale={tw}:{th},setsar=1[thumb];\
             [sstory]fps=1/{},{tone_map}scale={}:{}[story]",
                layout.interval, layout.tile_width, layout.tile_height
            ));
            if pacer {
                graph.push_str(&format!(
                ";[space]scale=64:36:flags=fast_bilinear,{to_rate}{slowest}setsar=1,format=yuv420p[pace]"
            ));
            }
            a.push_all(["-filter_complex", &graph]);
        }
    }
    if !audio.is_empty() {
        // The pacer: a stamp-sized video stream with the rungs' frames and keyframes, so that
        // the dash muxer cuts the audio segments where a single encode's video makes it cut
        // them (then dropped).
        a.push_all(["-map", "[pace]"]);
        a.push_all(["-c:v", ENCODER, "-preset", &opts.preset]);
        let c = plan.cadence(opts);
        let (forced, interval) = forced_keyframes(c.first, c.keyframe, c.segment);
        a.push_all(["-force_key_frames", &forced]);
        a.push_all(["-sc_threshold", "0"]);
        if let Some(gop) = plan
            .probe
            .video
            .as_ref()
            .and_then(|v| gop(plan.picture.fps(v), interval))
        {
            a.push_all(["-g", &gop.to_string()]);
        }
        a.push_all(["-crf", "40", "-fps_mode", "passthrough"]);
        for t in audio {
            a.push_all(["-map", &format!("0:{}", t.source_index)]);
        }
        a.push_all(["-c:a", "aac", "-profile:a", "aac_low"]);
        a.push_all(["-b:a", &AUDIO_BITRATE.to_string()]);
        a.push_all(["-ac", &AUDIO_CHANNELS.to_string(), "-ar", "48000"]);
        if let Some(t) = opts.threads {
            a.push_all(["-threads", &t.to_string()]);
        }
        a.push_all(["-map_metadata", "-1", "-map_chapters", "-1"]);
        let mut sets = vec![format!("id={PACER},streams={PACER}")];
        for (i, t) in audio.iter().enumerate() {
            let i = i + 1;
            let role = if t.info.default { "main" } else { "alternate" };
            a.push_all([
                &format!("-metadata:s:{i}"),
                &format!("language={}", t.info.language),
            ]);
            a.push_all([&format!("-metadata:s:{i}"), &format!("role={role}")]);
            sets.push(format!("id={i},streams={i}"));
        }
        a.push_all(["-max_muxing_queue_size", "4096"]);
        a.0.extend(package::dash_args(
            c.muxer_seconds(),
            &sets.join(" "),
            &out_dir.join(DASH_MANIFEST),
        ));
    }
    if let Pictures::Made { .. } = pictures {
        return a.0;
    }
    a.push_all(["-map", "[thumb]", "-frames:v", "1", "-q:v", "3"]);
    a.push_all(["-map_metadata", "-1", "-f", "image2", "-update", "1"]);
    a.push(crate::probe::file_url(&out_dir.join(THUMBNAIL)));
    let capacity = layout.capacity().to_string();
    a.push_all(["-map", "[story]", "-frames:v", &capacity, "-q:v", "5"]);
    a.push_all(["-map_metadata", "-1", "-f", "image2"]);
    a.push(crate::probe::file_url(
        &out_dir.join(TILES_DIR).join("%05d.jpg"),
    ));
    a.0
}

/// The made-up pacer: a stamp-sized black picture with the picture's frames (pts `first` to
/// `last` at its constant `rate`, as the frame-deciding filters give them), then the slowest
/// rung's own rate filter (`slowest`, with its comma). The `color` source ends after frame
/// `last` with the end-of-stream timestamp the constant-rate filter ends with (the frame after
/// the last), so a half-rate filter keeps the same last frame.
fn made_pacer((num, den): (u32, u32), first: u64, last: u64, slowest: &str) -> String {
    // `color` makes frame k while its time in microseconds (rounded to nearest) is below
    // its duration: up to `last`'s time plus one.
    let us =
        (2 * last as u128 * den as u128 * 1_000_000 + num as u128) / (2 * num.max(1) as u128) + 1;
    let duration = format!("{}.{:06}", us / 1_000_000, us % 1_000_000);
    let skip = if first > 0 {
        format!("trim=start_pts={first},")
    } else {
        String::new()
    };
    format!(
        "color=c=black:s=64x36:r={num}/{den}:d={duration},{skip}{slowest}setsar=1,format=yuv420p[pace]"
    )
}

/// `filters` followed by a comma, to start a chain with; empty stays empty.
fn with_comma(filters: String) -> String {
    if filters.is_empty() {
        filters
    } else {
        filters + ","
    }
}

/// Renames the dash muxer's files of output stream `from` to `to` for each pair (init and
/// media segments, the media playlist and the names in it), through temporary names.
async fn renumber_files(stream_dir: &Path, map: &[(usize, usize)]) -> Result<()> {
    let mut moves = Vec::new();
    let mut entries = tokio::fs::read_dir(stream_dir).await?;
    while let Some(entry) = entries.next_entry().await? {
        let name = entry.file_name().to_string_lossy().into_owned();
        let of = package::segment_stream(&name).map(|(n, _)| n).or_else(|| {
            name.strip_prefix("media_")?
                .strip_suffix(".m3u8")?
                .parse()
                .ok()
        });
        let Some(&(from, to)) = of.and_then(|n| map.iter().find(|(f, _)| *f == n)) else {
            continue;
        };
        let renamed = if name.starts_with("media_") {
            media_playlist_name(to)
        } else if name.starts_with("init-") {
            format!("init-{to}.m4s")
        } else {
            name.replacen(&format!("chunk-{from}-"), &format!("chunk-{to}-"), 1)
        };
        if name.starts_with("media_") {
            let text = tokio::fs::read_to_string(entry.path()).await?;
            let text = text
                .replace(
                    &format!("\"init-{from}.m4s\""),
                    &format!("\"init-{to}.m4s\""),
                )
                .replace(&format!("\nchunk-{from}-"), &format!("\nchunk-{to}-"));
            tokio::fs::write(entry.path(), text).await?;
        }
        moves.push((name, renamed));
    }
    for (from, _) in &moves {
        tokio::fs::rename(
            stream_dir.join(from),
            stream_dir.join(format!("{from}.part")),
        )
        .await?;
    }
    for (from, to) in &moves {
        tokio::fs::rename(stream_dir.join(format!("{from}.part")), stream_dir.join(to)).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_made_pacer_ends_on_the_last_frame() {
        // 30 fps, frames 0..=359: `color` makes frame 359 (11.966667 s) and not 360 (12 s).
        assert_eq!(
            made_pacer((30, 1), 0, 359, ""),
            "color=c=black:s=64x36:r=30/1:d=11.966668,setsar=1,format=yuv420p[pace]"
        );
        // 29.97 fps from frame 1, then the half-rate filter of a small rung.
        assert_eq!(
            made_pacer((30000, 1001), 1, 899, "fps=15000/1001,"),
            "color=c=black:s=64x36:r=30000/1001:d=29.996634,trim=start_pts=1,fps=15000/1001,setsar=1,format=yuv420p[pace]"
        );
    }
}
