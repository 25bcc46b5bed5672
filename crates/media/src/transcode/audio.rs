//! Audio uploads: an audio-only HLS + DASH ladder (AAC-LC stereo 48 kHz) from one ffmpeg run.
//!
//! The default track (see [`tracks`](super::tracks)) gets the bitrate ladder: one HLS variant
//! per bitrate, one DASH adaptation set holding them. Every other source track is one rendition
//! at the top bitrate: an HLS `EXT-X-MEDIA` alternate of the variants' audio group (the default
//! track's entry has no URI: the variants carry it) and a DASH adaptation set of its own, each
//! with its language. Text subtitle streams become text tracks, as for video.

use super::live::{LivePlan, LiveVariant};
use super::package::{self, Variant};
use super::subtitles;
use super::tracks::{self, publish_audio, rendition_of, PlannedTrack};
use super::video::Args;
use super::{
    check_not_truncated, classify_failure, invalid_options, prepare_out_dir, with_watcher,
    AudioOptions, AudioOutput, RenditionInfo, DASH_MANIFEST, HLS_MASTER,
};
use crate::error::{MediaError, Result};
use crate::probe::{file_url, ProbeInfo};
use crate::process::{self, Budget};
use crate::progress::{Progress, ProgressParser};
use std::ffi::OsString;
use std::path::Path;

/// Transcodes every audio stream of `input` under `out_dir/stream/`: the default one into one
/// rendition per `opts.bitrates`, the others at the highest (cover art and any video are
/// ignored).
pub async fn audio(
    input: &Path,
    out_dir: &Path,
    probe: &ProbeInfo,
    opts: &AudioOptions,
    mut progress: impl FnMut(Progress) + Send,
) -> Result<AudioOutput> {
    let mut planned = tracks::plan(probe);
    if planned.is_empty() {
        return Err(MediaError::unusable("the file has no audio stream"));
    }
    if opts.bitrates.is_empty() || opts.bitrates.contains(&0) || opts.segment_seconds == 0 {
        return Err(invalid_options(
            "audio needs at least one non-zero bitrate and a segment length",
        ));
    }
    let mut bitrates = opts.bitrates.clone();
    bitrates.sort_unstable_by(|x, y| y.cmp(x));
    let top = bitrates[0];
    let n = bitrates.len();

    let stream_dir = prepare_out_dir(out_dir).await?;
    let budget = Budget::new(opts.timeout, opts.cancel.clone());
    let mut skipped = Vec::new();
    let text_plan = subtitles::plan(probe);
    // As for video: a track ffmpeg has no decoder for is left out and the rest encoded again.
    let encode = async {
        loop {
            let (main, alternates) = planned.split_first().ok_or_else(|| {
                MediaError::unusable("no audio stream of the file can be decoded")
            })?;
            // Only the audio is transcoded: its own duration is what the output should match.
            let main_info = probe
                .audio_streams
                .iter()
                .find(|a| a.index == main.source_index);
            let expected = main_info.and_then(|a| a.duration).or(probe.duration);
            let args = build_args(input, out_dir, main, alternates, &bitrates, opts);
            let mut parser = ProgressParser::new(expected, &mut progress);
            let encode = process::run(
                "ffmpeg",
                &args,
                "ffmpeg audio transcode",
                &budget,
                |chunk| parser.push(chunk),
            );
            let live = LivePlan {
                streams: n + alternates.len(),
                variants: bitrates
                    .iter()
                    .enumerate()
                    .map(|(i, b)| LiveVariant {
                        stream: i,
                        bandwidth: *b + if alternates.is_empty() { 0 } else { top },
                        resolution: None,
                        frame_rate: None,
                    })
                    .collect(),
                audio: live_audio(main, alternates, n),
                segment_seconds: opts.segment_seconds,
                audio_segment_seconds: None,
                reported: Vec::new(),
                duration: expected,
            };
            let finished = with_watcher(encode, out_dir, live, opts.packaging.as_ref()).await?;
            if finished.success() {
                return Ok(expected);
            }
            match tracks::drop_undecodable(&mut planned, &finished.stderr_tail) {
                Some(warning) => {
                    skipped.push(warning);
                    prepare_out_dir(out_dir).await?;
                }
                None => return Err(classify_failure(finished, "audio")),
            }
        }
    };
    // As for video: the text subtitle streams (lyrics, a transcript) in their own demux-only run.
    let (expected, extracted) = tokio::join!(
        encode,
        subtitles::extract(input, out_dir, &text_plan, &budget)
    );
    let (expected, extracted) = (expected?, extracted?);
    let (main, alternates) = planned
        .split_first()
        .ok_or_else(|| MediaError::unusable("the file has no audio stream"))?;

    let mpd = tokio::fs::read_to_string(out_dir.join(DASH_MANIFEST)).await?;
    // No rendition may end on a sliver players never load (`tail.rs`).
    let every: Vec<usize> = (0..n + alternates.len()).collect();
    let mpd = super::tail::fold_short_tails(&stream_dir, &mpd, &every).await?;
    tokio::fs::write(out_dir.join(DASH_MANIFEST), &mpd).await?;
    let reps = package::parse_mpd(&mpd)?;
    let expected_reps = n + alternates.len();
    if reps.len() != expected_reps || reps.iter().any(|r| r.content_type != "audio") {
        return Err(MediaError::bad_output(format!(
            "the MPD has {} representations, expected {expected_reps} audio ones",
            reps.len(),
        )));
    }
    // The alternates first: one that decoded to nothing is left out (with a warning) and must
    // not count in the variants' bandwidth.
    let alt_reps: Vec<_> = reps[n..].iter().collect();
    let published = publish_audio(out_dir, &stream_dir, &mpd, n, alternates, &alt_reps).await?;
    let alt_peak = published
        .tracks
        .iter()
        .map(|t| t.stats.peak_bps.max(top))
        .max()
        .unwrap_or(0);
    let mut variants = Vec::new();
    let mut renditions = Vec::new();
    let mut duration: f64 = 0.0;
    for (i, (bitrate, rep)) in bitrates.iter().zip(&reps).enumerate() {
        let stats = package::finalize_media_playlist(&stream_dir, i).await?;
        duration = duration.max(stats.duration);
        let bandwidth = stats.peak_bps.max(*bitrate);
        variants.push(Variant {
            uri: stats.uri.clone(),
            bandwidth: bandwidth + alt_peak,
            average_bandwidth: Some(stats.average_bps),
            resolution: None,
            frame_rate: None,
            codecs: rep.codecs.clone(),
        });
        renditions.push(RenditionInfo {
            name: format!("{}k", bitrate / 1000),
            width: 0,
            height: 0,
            bandwidth,
            codecs: rep.codecs.clone(),
            codec: None,
        });
    }
    check_not_truncated(expected, duration)?;

    let mut audio_tracks = vec![main.info.clone()];
    audio_tracks.extend(published.tracks.iter().map(|t| t.info.clone()));
    for (id, t) in audio_tracks.iter_mut().enumerate() {
        t.id = id as u32;
        t.default = id == 0;
    }
    // A single track needs no group: the variants are the whole story, as before.
    let group: Vec<_> = if audio_tracks.len() > 1 {
        audio_tracks
            .iter()
            .zip(
                std::iter::once(None)
                    .chain(published.tracks.iter().map(|t| Some(t.stats.uri.clone()))),
            )
            .map(|(t, uri)| rendition_of(t, uri))
            .collect()
    } else {
        Vec::new()
    };
    tokio::fs::write(
        out_dir.join(HLS_MASTER),
        package::master_playlist(&variants, &group),
    )
    .await?;
    let text = subtitles::publish(out_dir, extracted, duration).await?;
    let mut warnings = skipped;
    warnings.extend(published.warnings);
    warnings.extend(text.warnings);

    Ok(AudioOutput {
        renditions,
        duration,
        hls_master: HLS_MASTER.into(),
        dash_manifest: DASH_MANIFEST.into(),
        audio_tracks,
        warnings,
        text_tracks: text.tracks,
    })
}

/// The provisional master's audio group (empty for a single track).
fn live_audio(
    main: &PlannedTrack,
    alternates: &[PlannedTrack],
    n: usize,
) -> Vec<(usize, package::AudioRendition)> {
    if alternates.is_empty() {
        return Vec::new();
    }
    let mut group = vec![(0, rendition_of(&main.info, None))];
    for (i, t) in alternates.iter().enumerate() {
        let stream = n + i;
        group.push((
            stream,
            rendition_of(&t.info, Some(package::media_playlist_name(stream))),
        ));
    }
    group
}

fn build_args(
    input: &Path,
    out_dir: &Path,
    main: &PlannedTrack,
    alternates: &[PlannedTrack],
    bitrates: &[u64],
    opts: &AudioOptions,
) -> Vec<OsString> {
    let mut a = Args::default();
    a.push_all(["-hide_banner", "-nostdin", "-y", "-loglevel", "error"]);
    a.push_all(["-nostats", "-progress", "pipe:1", "-i"]);
    a.push(file_url(input));
    // Decode once: the same input stream mapped once per rendition shares one decoder.
    for _ in bitrates {
        a.push_all(["-map", &format!("0:{}", main.source_index)]);
    }
    for t in alternates {
        a.push_all(["-map", &format!("0:{}", t.source_index)]);
    }
    a.push_all(["-vn", "-c:a", "aac", "-profile:a", "aac_low"]);
    for (i, b) in bitrates.iter().enumerate() {
        a.push_all([&format!("-b:a:{i}"), &b.to_string()]);
    }
    for i in 0..alternates.len() {
        a.push_all([
            &format!("-b:a:{}", bitrates.len() + i),
            &bitrates[0].to_string(),
        ]);
    }
    a.push_all(["-ac", "2", "-ar", "48000"]);
    if let Some(t) = opts.threads {
        a.push_all(["-threads", &t.to_string()]);
    }
    a.push_all(["-map_metadata", "-1", "-map_chapters", "-1"]);
    // ...except what the dash muxer turns into each set's `lang` and `Role`.
    let ladder: Vec<String> = (0..bitrates.len()).map(|i| i.to_string()).collect();
    let mut sets = format!("id=0,streams={}", ladder.join(","));
    let tagged = std::iter::repeat_n(main, bitrates.len())
        .chain(alternates)
        .enumerate();
    for (stream, t) in tagged {
        let role = if t.info.default { "main" } else { "alternate" };
        let spec = format!("-metadata:s:{stream}");
        a.push_all([&spec, &format!("language={}", t.info.language)]);
        a.push_all([&spec, &format!("role={role}")]);
        if stream >= bitrates.len() {
            sets.push_str(&format!(
                " id={},streams={stream}",
                stream - bitrates.len() + 1
            ));
        }
    }
    a.0.extend(package::dash_args(
        opts.segment_seconds,
        &sets,
        &out_dir.join(DASH_MANIFEST),
    ));
    a.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcode::AudioTrackInfo;

    fn track(source_index: usize, language: &str, default: bool) -> PlannedTrack {
        PlannedTrack {
            source_index,
            info: AudioTrackInfo {
                id: 0,
                language: language.into(),
                name: language.into(),
                channels: 2,
                default,
            },
        }
    }

    fn joined(args: &[OsString]) -> String {
        args.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn maps_the_audio_stream_once_per_rendition() {
        let args = build_args(
            Path::new("/in/a.mp3"),
            Path::new("/out"),
            &track(1, "und", true),
            &[],
            &[128_000, 64_000],
            &AudioOptions::default(),
        );
        let joined = joined(&args);
        assert!(joined.contains("-map 0:1 -map 0:1 -vn -c:a aac"));
        assert!(joined.contains("-b:a:0 128000 -b:a:1 64000 -ac 2 -ar 48000"));
        assert!(joined.contains("-adaptation_sets id=0,streams=0,1 "));
        assert!(joined.ends_with("file:/out/stream/manifest.mpd"));
    }

    #[test]
    fn other_tracks_are_one_set_each_at_the_top_bitrate() {
        let args = build_args(
            Path::new("/in/a.mka"),
            Path::new("/out"),
            &track(2, "spa", true),
            &[track(1, "eng", false), track(3, "fra", false)],
            &[128_000, 64_000],
            &AudioOptions::default(),
        );
        let joined = joined(&args);
        assert!(joined.contains("-map 0:2 -map 0:2 -map 0:1 -map 0:3 -vn"));
        assert!(joined.contains("-b:a:0 128000 -b:a:1 64000 -b:a:2 128000 -b:a:3 128000"));
        assert!(joined.contains("-metadata:s:1 language=spa -metadata:s:1 role=main"));
        assert!(joined.contains("-metadata:s:3 language=fra -metadata:s:3 role=alternate"));
        assert!(joined.contains("-adaptation_sets id=0,streams=0,1 id=1,streams=2 id=2,streams=3 "));
    }
}
