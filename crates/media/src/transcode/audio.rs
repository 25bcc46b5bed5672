//! Audio uploads: an audio-only HLS + DASH ladder (AAC-LC stereo 48 kHz) from one ffmpeg run.

use super::live::{LivePlan, LiveVariant};
use super::package::{self, Variant};
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

/// Transcodes the first audio stream of `input` into one rendition per `opts.bitrates` under
/// `out_dir/stream/` (cover art and any video are ignored).
pub async fn audio(
    input: &Path,
    out_dir: &Path,
    probe: &ProbeInfo,
    opts: &AudioOptions,
    progress: impl FnMut(Progress) + Send,
) -> Result<AudioOutput> {
    let a = probe
        .audio
        .as_ref()
        .ok_or_else(|| MediaError::unusable("the file has no audio stream"))?;
    if opts.bitrates.is_empty() || opts.bitrates.contains(&0) || opts.segment_seconds == 0 {
        return Err(invalid_options(
            "audio needs at least one non-zero bitrate and a segment length",
        ));
    }
    // Only the audio is transcoded: its own duration is what the output should match.
    let expected = a.duration.or(probe.duration);
    let mut bitrates = opts.bitrates.clone();
    bitrates.sort_unstable_by(|x, y| y.cmp(x));

    let stream_dir = prepare_out_dir(out_dir).await?;
    let budget = Budget::new(opts.timeout, opts.cancel.clone());
    let args = build_args(input, out_dir, a.index, &bitrates, opts);
    let mut parser = ProgressParser::new(expected, progress);
    let encode = process::run(
        "ffmpeg",
        &args,
        "ffmpeg audio transcode",
        &budget,
        |chunk| parser.push(chunk),
    );
    let live = LivePlan {
        streams: bitrates.len(),
        variants: bitrates
            .iter()
            .enumerate()
            .map(|(i, b)| LiveVariant {
                stream: i,
                bandwidth: *b,
                resolution: None,
                frame_rate: None,
            })
            .collect(),
        audio: vec![],
        segment_seconds: opts.segment_seconds,
    };
    let finished = with_watcher(encode, out_dir, live, opts.packaging.as_ref()).await?;
    if !finished.success() {
        return Err(classify_failure(finished, "audio"));
    }

    let mpd = tokio::fs::read_to_string(out_dir.join(DASH_MANIFEST)).await?;
    let reps = package::parse_mpd(&mpd)?;
    if reps.len() != bitrates.len() || reps.iter().any(|r| r.content_type != "audio") {
        return Err(MediaError::bad_output(format!(
            "the MPD has {} representations, expected {} audio ones",
            reps.len(),
            bitrates.len()
        )));
    }
    let mut variants = Vec::new();
    let mut renditions = Vec::new();
    let mut duration: f64 = 0.0;
    for (i, (bitrate, rep)) in bitrates.iter().zip(&reps).enumerate() {
        let stats = package::finalize_media_playlist(&stream_dir, i).await?;
        duration = duration.max(stats.duration);
        let bandwidth = stats.peak_bps.max(*bitrate);
        variants.push(Variant {
            uri: stats.uri.clone(),
            bandwidth,
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
        });
    }
    check_not_truncated(expected, duration)?;
    tokio::fs::write(
        out_dir.join(HLS_MASTER),
        package::master_playlist(&variants, &[]),
    )
    .await?;

    Ok(AudioOutput {
        renditions,
        duration,
        hls_master: HLS_MASTER.into(),
        dash_manifest: DASH_MANIFEST.into(),
    })
}

fn build_args(
    input: &Path,
    out_dir: &Path,
    stream: usize,
    bitrates: &[u64],
    opts: &AudioOptions,
) -> Vec<OsString> {
    let mut a = Args::default();
    a.push_all(["-hide_banner", "-nostdin", "-y", "-loglevel", "error"]);
    a.push_all(["-nostats", "-progress", "pipe:1", "-i"]);
    a.push(file_url(input));
    // Decode once: the same input stream mapped once per rendition shares one decoder.
    for _ in bitrates {
        a.push_all(["-map", &format!("0:{stream}")]);
    }
    a.push_all(["-vn", "-c:a", "aac", "-profile:a", "aac_low"]);
    for (i, b) in bitrates.iter().enumerate() {
        a.push_all([&format!("-b:a:{i}"), &b.to_string()]);
    }
    a.push_all(["-ac", "2", "-ar", "48000"]);
    if let Some(t) = opts.threads {
        a.push_all(["-threads", &t.to_string()]);
    }
    a.push_all(["-map_metadata", "-1", "-map_chapters", "-1"]);
    a.0.extend(package::dash_args(
        opts.segment_seconds,
        "id=0,streams=a",
        &out_dir.join(DASH_MANIFEST),
    ));
    a.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_the_audio_stream_once_per_rendition() {
        let args = build_args(
            Path::new("/in/a.mp3"),
            Path::new("/out"),
            1,
            &[128_000, 64_000],
            &AudioOptions::default(),
        );
        let joined = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        assert!(joined.contains("-map 0:1 -map 0:1 -vn -c:a aac"));
        assert!(joined.contains("-b:a:0 128000 -b:a:1 64000 -ac 2 -ar 48000"));
        assert!(joined.contains("-adaptation_sets id=0,streams=a"));
        assert!(joined.ends_with("file:/out/stream/manifest.mpd"));
    }
}
