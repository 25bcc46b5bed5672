//! Cutting a clip: `start..end` of a source, frame-accurate, into an intermediate file that is
//! then processed like any upload. ffmpeg seeks to the keyframe before `start` and decodes up to
//! it (`-ss` before `-i` while re-encoding is exact), so the clip's first frame is the source's
//! first frame at or after `start`; the video is re-encoded near-losslessly (x264 CRF 10) and
//! the audio losslessly (FLAC) into Matroska, which holds both and every audio track.

use crate::error::{MediaError, Result};
use crate::process::{self, Budget};
use std::path::Path;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Writes `start..end` (seconds) of `input` to `output` (Matroska). Video (the first stream,
/// when `video`) and every audio track; subtitles and data streams are left out.
pub async fn cut(
    input: &Path,
    output: &Path,
    start: f64,
    end: f64,
    video: bool,
    timeout: Duration,
    cancel: CancellationToken,
) -> Result<()> {
    if !(start.is_finite() && end.is_finite() && start >= 0.0 && end > start) {
        return Err(MediaError::unusable(format!(
            "cannot cut {start}..{end}: not a range"
        )));
    }
    let budget = Budget::new(timeout, cancel);
    let mut args: Vec<std::ffi::OsString> = vec![
        "-hide_banner".into(),
        "-nostdin".into(),
        "-y".into(),
        "-ss".into(),
        format!("{start:.6}").into(),
        "-i".into(),
        input.as_os_str().to_owned(),
        "-t".into(),
        format!("{:.6}", end - start).into(),
    ];
    if video {
        args.extend(
            [
                "-map", "0:v:0", "-c:v", "libx264", "-preset", "veryfast", "-crf", "10",
            ]
            .map(Into::into),
        );
    } else {
        args.push("-vn".into());
    }
    args.extend(
        [
            "-map",
            "0:a?",
            "-c:a",
            "flac",
            "-sn",
            "-dn",
            "-map_metadata",
            "0",
            "-f",
            "matroska",
        ]
        .map(Into::into),
    );
    args.push(output.as_os_str().to_owned());
    let finished = process::run("ffmpeg", &args, "ffmpeg clip cut", &budget, |_| {}).await?;
    if !finished.success() {
        return Err(crate::diagnose::classify(finished, "a clip", false));
    }
    Ok(())
}
