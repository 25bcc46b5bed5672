//! The final step: playlists, master and MPD from the records, as a single encode's.
//!
//! From ffmpeg's MPD on, this follows [`crate::transcode::video`] step by step (joined video
//! sets, measured bandwidths, near-duplicate rungs dropped, variants, text tracks, encode
//! report); what differs is where the facts come from: the chunks' records instead of the
//! files on disk, so only the init segments need be here.

use super::encode::segment_name;
use super::mpd::{buffer_time, exact_durations, insert_audio_sets, set_mpd_attr, set_timeline};
use super::picks::tile_name;
use super::{video_streams, ChunkOutput, ChunkedPlan, RestOutput};
use crate::error::{MediaError, Result};
use crate::transcode::command::rung_report;
use crate::transcode::package::{
    self, master_playlist, media_playlist_name, playlist_stats, repair_media_playlist,
    AudioRendition, PlaylistStats,
};
use crate::transcode::provenance::EncodeInfo;
use crate::transcode::storyboard::Layout;
use crate::transcode::tracks::rendition_of;
use crate::transcode::video::{video_variant, AudioShare, TILES_DIR};
use crate::transcode::{
    check_not_truncated, codecs, rate, subtitles, text_track_playlist, text_track_vtt,
    VideoOptions, VideoOutput, DASH_MANIFEST, HLS_MASTER, STORYBOARD_IMAGE, STORYBOARD_VTT,
    STREAM_DIR, THUMBNAIL,
};
use std::fmt::Write as _;
use std::path::Path;

/// What [`assemble`] made.
#[derive(Debug, Clone, PartialEq)]
pub struct Assembled {
    /// What a single `video()` run of the same source returns.
    pub output: VideoOutput,
    /// Files written by this step (relative to `out_dir`): media playlists, master, MPD, text
    /// track playlists, the storyboard's sprite (from the parts' tiles, which must be in
    /// `out_dir/.storyboard-tiles/`) and index.
    pub written: Vec<String>,
    /// Files of rungs the adaptive ladder dropped (relative paths, already published by the
    /// chunks): to delete.
    pub delete: Vec<String>,
}

/// `out_dir` holds the init segments (`stream/init-N.m4s`) and the parts' storyboard tiles
/// only. Writes the HLS media playlists, the master and the MPD (measured
/// `BANDWIDTH`/`AVERAGE-BANDWIDTH`, near-duplicate rungs dropped in adaptive mode, CODECS from
/// the init segments) and the storyboard's sprite and index exactly as a single job's.
/// `chunks` holds every chunk's record, in any order.
pub async fn assemble(
    out_dir: &Path,
    plan: &ChunkedPlan,
    chunks: &[ChunkOutput],
    rest: &RestOutput,
    opts: &VideoOptions,
) -> Result<Assembled> {
    plan.check_options(opts)?;
    let v = plan.video()?;
    let rungs = &plan.rungs;
    let mut ordered: Vec<&ChunkOutput> = Vec::with_capacity(plan.ranges.len());
    for range in &plan.ranges {
        let chunk = chunks
            .iter()
            .find(|c| c.index == range.index)
            .ok_or_else(|| {
                MediaError::Io(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("chunk {} has no record", range.index),
                ))
            })?;
        ordered.push(chunk);
    }
    let extras = plan.extras(opts);
    let streams = video_streams(rungs.len(), plan.audio_tracks().len(), &extras);
    let stream_dir = out_dir.join(STREAM_DIR);
    tokio::fs::create_dir_all(&stream_dir).await?;

    // The MPD ffmpeg would have written for the whole source: chunk 0's with every chunk's
    // timeline, and the rest's audio sets where a single encode has them.
    let mut mpd = ordered[0].mpd.clone();
    let mut video_stats = Vec::with_capacity(streams.len());
    let mut bytes = Vec::with_capacity(streams.len());
    let mut written = Vec::new();
    for &(_, _, stream, _) in &streams {
        let parts: Vec<_> = ordered
            .iter()
            .map(|c| {
                c.streams
                    .iter()
                    .find(|s| s.stream == stream)
                    .ok_or_else(|| {
                        MediaError::bad_output(format!("chunk {} has no stream {stream}", c.index))
                    })
            })
            .collect::<Result<_>>()?;
        let timeline: Vec<(u64, u64)> = parts
            .iter()
            .flat_map(|p| p.segments.iter().map(|s| (s.t, s.d)))
            .collect();
        mpd = set_timeline(&mpd, stream, &timeline)?;
        let segments: Vec<_> = parts.iter().flat_map(|p| &p.segments).collect();
        let playlist = media_playlist(stream, segments.iter().map(|s| (s.number, s.duration)))?;
        let uri = media_playlist_name(stream);
        tokio::fs::write(stream_dir.join(&uri), &playlist).await?;
        written.push(format!("{STREAM_DIR}/{uri}"));
        let sizes: Vec<(u64, f64)> = segments.iter().map(|s| (s.bytes, s.duration)).collect();
        video_stats.push(playlist_stats(uri, &sizes));
        bytes.push(parts[0].init_bytes + sizes.iter().map(|(b, _)| b).sum::<u64>());
    }
    if let Some(audio_mpd) = &rest.mpd {
        mpd = insert_audio_sets(&mpd, audio_mpd)?;
    }
    // The media's end and longest segment, to the millisecond, from the joined timelines.
    mpd = exact_durations(&mpd)?;
    if plan.first_segment.is_some() {
        // ffmpeg writes twice the length of the last segment it cut before the end: in a
        // single encode a whole segment, in chunk 0's MPD (the base here) the short first one.
        mpd = set_mpd_attr(
            &mpd,
            "minBufferTime",
            &buffer_time(2 * plan.segment_seconds),
        );
    }
    // Codecs as a single encode names them, read from the init segments here.
    let own: Vec<usize> = streams.iter().map(|s| s.2).collect();
    let mpd = codecs::name_codecs(&stream_dir, &mpd, &own).await?;
    let mpd = package::merge_video_sets(&mpd)?;
    let reps = package::parse_mpd(&mpd)?;
    let video_reps: Vec<_> = streams
        .iter()
        .map(|o| {
            reps.iter()
                .find(|r| r.content_type == "video" && r.id == o.2.to_string())
                .ok_or_else(|| {
                    MediaError::bad_output(format!("the MPD has no representation {}", o.2))
                })
        })
        .collect::<Result<_>>()?;
    for (rep, (rung, _, _, _)) in video_reps.iter().zip(&streams) {
        let rung = &rungs[*rung];
        if (rep.width, rep.height) != (rung.width, rung.height) {
            return Err(MediaError::bad_output(format!(
                "rendition {} came out {}x{}, planned {}x{}",
                rung.name, rep.width, rep.height, rung.width, rung.height
            )));
        }
    }
    let audio_stats: Vec<PlaylistStats> = rest
        .audio
        .iter()
        .map(|a| PlaylistStats {
            uri: media_playlist_name(a.stream),
            segments: a.segments.len(),
            duration: a.duration,
            peak_bps: a.peak_bps,
            average_bps: a.average_bps,
        })
        .collect();
    let duration = video_stats
        .iter()
        .chain(&audio_stats)
        .map(|s| s.duration)
        .fold(0.0, f64::max);
    check_not_truncated(plan.probe.media_duration(), duration)?;

    // From here as `video()`: bandwidths, dropped rungs, variants.
    let audio = AudioShare::new(&audio_stats, rest.audio.first().map(|t| t.codecs.as_str()));
    let dropped = rate::rungs_to_drop(opts.ladder_mode, &video_stats[..rungs.len()]);
    let dropped_streams: Vec<usize> = streams
        .iter()
        .filter(|o| dropped.contains(&o.0))
        .map(|o| o.2)
        .collect();
    let mut delete = Vec::new();
    let mut mpd = mpd;
    if opts.ladder_mode == rate::LadderMode::Adaptive {
        for &stream in &dropped_streams {
            let init = format!("{STREAM_DIR}/init-{stream}.m4s");
            let _ = tokio::fs::remove_file(out_dir.join(&init)).await;
            delete.push(init);
            for chunk in &ordered {
                for s in chunk.streams.iter().filter(|s| s.stream == stream) {
                    for seg in &s.segments {
                        delete.push(format!("{STREAM_DIR}/{}", segment_name(stream, seg.number)));
                    }
                }
            }
            // Provisional playlists of it may have been published.
            let playlist = format!("{STREAM_DIR}/{}", media_playlist_name(stream));
            let _ = tokio::fs::remove_file(out_dir.join(&playlist)).await;
            written.retain(|w| *w != playlist);
            delete.push(playlist);
        }
        let measured: Vec<(usize, u64)> = streams
            .iter()
            .zip(&video_stats)
            .map(|(o, s)| (o.2, s.peak_bps))
            .collect();
        mpd = rate::rewrite_representations(&mpd, &dropped_streams, &measured)?;
        if !dropped.is_empty() {
            let names: Vec<&str> = dropped.iter().map(|&i| rungs[i].name.as_str()).collect();
            tracing::info!(?names, "dropped rungs within 15 % of the next one up");
        }
    }
    let mut variants = Vec::new();
    let mut renditions = Vec::new();
    for (((rung_index, codec, _, _), rep), stats) in
        streams.iter().zip(&video_reps).zip(&video_stats)
    {
        if dropped.contains(rung_index) {
            continue;
        }
        let rung = &rungs[*rung_index];
        let fps = plan.picture.rung_fps(v, rung.width.min(rung.height));
        let (variant, rendition) = video_variant(
            rung,
            *codec,
            &rep.codecs,
            stats,
            &audio,
            opts.ladder_mode,
            fps,
        );
        variants.push(variant);
        renditions.push(rendition);
    }
    let audio_renditions: Vec<AudioRendition> = rest
        .audio
        .iter()
        .map(|t| rendition_of(&t.info, Some(media_playlist_name(t.stream))))
        .collect();
    let mut master = master_playlist(&variants, &audio_renditions);
    if !rest.text_tracks.is_empty() {
        master = subtitles::add_to_master(&master, &rest.text_tracks);
        mpd = subtitles::add_to_mpd(&mpd, &rest.text_tracks)?;
        for t in &rest.text_tracks {
            let vtt = text_track_vtt(&t.id);
            let name = vtt.rsplit('/').next().unwrap_or(&vtt);
            let playlist = text_track_playlist(&t.id);
            tokio::fs::write(
                out_dir.join(&playlist),
                subtitles::media_playlist(name, duration),
            )
            .await?;
            written.push(playlist);
        }
    }
    tokio::fs::write(out_dir.join(DASH_MANIFEST), &mpd).await?;
    tokio::fs::write(out_dir.join(HLS_MASTER), &master).await?;
    written.push(DASH_MANIFEST.into());
    written.push(HLS_MASTER.into());
    let layout = Layout::new(plan.probe.media_duration(), v.width, v.height);
    let storyboard = match rest.tiles_total {
        Some(total) => {
            let tiles = ordered.iter().map(|c| &c.tiles);
            let made = sprite(out_dir, &layout, tiles, rest, total).await?;
            if made {
                written.push(STORYBOARD_IMAGE.into());
            }
            made
        }
        // A rest record from before the chunks made tiles: it made the sprite.
        None => rest.storyboard,
    };
    if storyboard {
        tokio::fs::write(
            out_dir.join(STORYBOARD_VTT),
            layout.vtt(duration, STORYBOARD_IMAGE),
        )
        .await?;
        written.push(STORYBOARD_VTT.into());
    }

    let cpu = ordered
        .iter()
        .map(|c| c.cpu_seconds)
        .chain([rest.cpu_seconds])
        .try_fold(0.0, |sum, c| c.map(|c| sum + c));
    let mut encoded = Vec::new();
    for (i, &(rung, codec, stream, _)) in streams.iter().enumerate() {
        if dropped.contains(&rung) {
            continue;
        }
        let mut e = rung_report(
            stream,
            rung,
            codec,
            rungs,
            &plan.crfs,
            &plan.picture,
            v,
            opts,
            &extras,
            plan.first_segment,
        );
        e.bytes = bytes[i];
        if let Some((version, settings)) = ordered[0]
            .streams
            .iter()
            .find(|s| s.stream == stream)
            .and_then(|s| s.encoder_tag.clone())
        {
            e.encoder_version = Some(version);
            e.encoder_settings = Some(settings);
        }
        // The head's first segment, at the rung's default CRF (as `head::report` says it).
        if ordered[0]
            .streams
            .iter()
            .any(|s| s.stream == stream && s.head)
        {
            e.head_crf = Some(rate::crf(&rungs[rung]));
            e.head_seconds = plan.first_segment;
        }
        encoded.push(e);
    }
    let output = VideoOutput {
        encode: EncodeInfo {
            // The work, summed over the jobs (they may have run side by side).
            wall_seconds: ordered.iter().map(|c| c.wall_seconds).sum::<f64>() + rest.wall_seconds,
            cpu_seconds: cpu,
            rungs: encoded,
        },
        renditions,
        audio: !rest.audio.is_empty(),
        audio_tracks: rest.audio.iter().map(|t| t.info.clone()).collect(),
        warnings: rest.warnings.clone(),
        text_tracks: rest.text_tracks.clone(),
        duration,
        width: v.width,
        height: v.height,
        fps: plan.picture.fps(v),
        hdr: plan.picture.hdr,
        interlaced: plan.picture.deinterlace.is_some(),
        hls_master: HLS_MASTER.into(),
        dash_manifest: DASH_MANIFEST.into(),
        thumbnail: THUMBNAIL.into(),
        storyboard_vtt: storyboard.then(|| STORYBOARD_VTT.into()),
        storyboard_image: storyboard.then(|| STORYBOARD_IMAGE.into()),
    };
    Ok(Assembled {
        output,
        written,
        delete,
    })
}

/// The VOD media playlist of output stream `stream` over `segments` (global number, seconds),
/// normalised exactly as a single encode's (ffmpeg's form through `repair_media_playlist`).
pub(super) fn media_playlist(
    stream: usize,
    segments: impl Iterator<Item = (u32, f64)>,
) -> Result<String> {
    Ok(repair_media_playlist(&ffmpeg_form(stream, segments))
        .map_err(|e| MediaError::bad_output_from(media_playlist_name(stream), e))?
        .text)
}

/// A media playlist as ffmpeg's dash muxer writes one.
pub(super) fn ffmpeg_form(stream: usize, segments: impl Iterator<Item = (u32, f64)>) -> String {
    let mut body = String::new();
    let mut target: u64 = 0;
    for (number, d) in segments {
        target = target.max(d.round() as u64);
        let _ = write!(body, "#EXTINF:{d:.6},\n{}\n", segment_name(stream, number));
    }
    format!(
        "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:{target}\n#EXT-X-MEDIA-SEQUENCE:1\n#EXT-X-MAP:URI=\"init-{stream}.m4s\"\n{body}"
    )
}

/// Pastes the storyboard tiles every part made (`chunks`' and the `rest`'s, fetched into
/// `out_dir/.storyboard-tiles/`) into `out_dir/storyboard.jpg`, as a single encode does; `false`
/// (no storyboard) when there are none. The parts' records must name exactly the tiles
/// `1..=total`: one missing is an error, not a storyboard with a hole (a tile that does not
/// decode is left out, as a single encode leaves it out).
async fn sprite<'a>(
    out_dir: &Path,
    layout: &Layout,
    chunks: impl Iterator<Item = &'a Vec<String>>,
    rest: &'a RestOutput,
    total: u32,
) -> Result<bool> {
    let mut names: Vec<&String> = chunks.flatten().chain(&rest.tiles).collect();
    names.sort();
    names.dedup();
    let expected: Vec<String> = (1..=total as usize).map(tile_name).collect();
    if names.len() != expected.len() || names.iter().zip(&expected).any(|(a, b)| *a != b) {
        return Err(MediaError::bad_output(format!(
            "the parts made {} of the storyboard's {total} tiles",
            names.len()
        )));
    }
    if total == 0 {
        return Ok(false);
    }
    let tiles = out_dir.join(TILES_DIR);
    let image = out_dir.join(STORYBOARD_IMAGE);
    let placed = {
        let (layout, tiles, image) = (*layout, tiles.clone(), image.clone());
        tokio::task::spawn_blocking(move || layout.assemble(&tiles, &image))
            .await
            .map_err(|e| MediaError::Io(std::io::Error::other(e)))??
    };
    let _ = tokio::fs::remove_dir_all(&tiles).await;
    Ok(placed > 0)
}
