//! Pictures on demand: a still (JPEG, WebP, PNG) at any time and size, and a short looping
//! animation (animated WebP, GIF), made from a published stream rather than the original.
//!
//! Why the stream: a still needs one segment of one rung (its init segment and a few seconds of
//! media, tens of kilobytes to a few megabytes) where the original may be gigabytes, and the
//! picture matches what viewers see (deinterlaced, tone-mapped, rotated, constant rate). The rung
//! is the smallest at least as large as the picture asked for, so nothing is upscaled that a
//! larger rung could have given; past the top rung the top rung is used.
//!
//! The caller fetches the files these functions name ([`choose_stream`], [`segments_between`])
//! into one local file — the init segment then the media segments, a fragmented MP4 whose `tfdt`
//! boxes keep the stream's own timestamps — and hands it to [`still`] or [`animation`], which
//! seek by those timestamps (`-seek_timestamp 1`), so a time means the same in every segment.

use crate::error::{MediaError, Result};
use crate::process::{self, Budget};
use crate::transcode::{attribute, repair_media_playlist};
use std::ffi::OsString;
use std::path::Path;

/// How a still fills a box of `width` × `height` when both are given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Within the box, aspect kept: one side may be shorter.
    Contain,
    /// Covers the box, aspect kept, the overflow cropped around the centre: exactly the box.
    Cover,
    /// Stretched to exactly the box.
    Fill,
    /// Contained, then padded with black around the centre: exactly the box.
    Pad,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StillFormat {
    Jpeg,
    Webp,
    Png,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnimationFormat {
    Webp,
    Gif,
}

/// A still: the frame shown at `time` seconds, scaled as asked (no size: the rung's own).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StillSpec {
    pub time: f64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub fit: Fit,
    pub format: StillFormat,
}

/// An animation of `start..end` seconds at `fps`, `width` wide (height by aspect), looping.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnimationSpec {
    pub start: f64,
    pub end: f64,
    pub width: u32,
    pub fps: u32,
    pub format: AnimationFormat,
}

/// The media playlist (a bare name next to the master) of the video rung to read for a picture
/// of `width` × `height` (either may be unknown): the smallest rung covering both, else the
/// largest. `None` when the master names no video rung (audio items).
pub fn choose_stream(master: &str, width: Option<u32>, height: Option<u32>) -> Option<String> {
    let mut rungs: Vec<(u32, u32, String)> = Vec::new();
    let mut lines = master.lines().map(str::trim).filter(|l| !l.is_empty());
    while let Some(line) = lines.next() {
        let Some(attrs) = line.strip_prefix("#EXT-X-STREAM-INF:") else {
            continue;
        };
        let Some(uri) = lines.next().filter(|l| !l.starts_with('#')) else {
            continue;
        };
        let size = attribute(attrs, "RESOLUTION")
            .and_then(|r| r.split_once('x'))
            .and_then(|(w, h)| Some((w.parse::<u32>().ok()?, h.parse::<u32>().ok()?)));
        if let Some((w, h)) = size {
            rungs.push((w, h, uri.to_string()));
        }
    }
    rungs.sort_by_key(|r| (r.0 * r.1, r.0));
    let covers =
        |r: &&(u32, u32, String)| width.is_none_or(|w| r.0 >= w) && height.is_none_or(|h| r.1 >= h);
    let pick = match (width, height) {
        // No size asked: the rung's own size is the picture's, so the largest.
        (None, None) => rungs.last(),
        _ => rungs.iter().find(covers).or(rungs.last()),
    };
    pick.map(|r| r.2.clone())
}

/// What to fetch from a media playlist for `start..=end` seconds: its init segment first, then
/// the media segments overlapping that span (bare names next to the playlist).
pub fn segments_between(playlist: &str, start: f64, end: f64) -> Result<Vec<String>> {
    let parsed = repair_media_playlist(playlist)
        .map_err(|e| MediaError::bad_output(format!("a published playlist: {e}")))?;
    let init = parsed
        .init
        .ok_or_else(|| MediaError::bad_output("a published playlist names no init segment"))?;
    let mut names = vec![bare(&init)?.to_string()];
    let mut at = 0.0;
    for (uri, duration) in &parsed.segments {
        let (from, to) = (at, at + duration);
        at = to;
        if to > start && from <= end {
            names.push(bare(uri)?.to_string());
        }
    }
    if names.len() == 1 {
        // A time past the last segment's end (rounding in EXTINF) falls in the last one.
        let (uri, _) = parsed
            .segments
            .last()
            .ok_or_else(|| MediaError::bad_output("a published playlist has no segments"))?;
        names.push(bare(uri)?.to_string());
    }
    Ok(names)
}

/// Playlist URIs this crate writes are bare names; anything else would leave the folder.
fn bare(uri: &str) -> Result<&str> {
    if uri.is_empty() || uri.contains('/') || uri.contains('\\') || uri.starts_with('.') {
        return Err(MediaError::bad_output(format!(
            "unexpected playlist URI {uri:?}"
        )));
    }
    Ok(uri)
}

/// The scale (and crop or pad) for a still, or `None` for the rung's own size.
fn still_filter(spec: &StillSpec) -> Option<String> {
    let (w, h) = (spec.width, spec.height);
    Some(match (w, h) {
        (None, None) => return None,
        (Some(w), None) => format!("scale={w}:-1"),
        (None, Some(h)) => format!("scale=-1:{h}"),
        (Some(w), Some(h)) => match spec.fit {
            Fit::Contain => format!("scale={w}:{h}:force_original_aspect_ratio=decrease"),
            Fit::Cover => {
                format!("scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h}")
            }
            Fit::Fill => format!("scale={w}:{h}"),
            Fit::Pad => format!(
                "scale={w}:{h}:force_original_aspect_ratio=decrease,\
                 pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color=black"
            ),
        },
    })
}

/// The still `spec` asks for, from `input` (see the module's note), written to `out`. A time
/// at or past the last frame gives the last frame. `duration` is the stream's, in seconds.
pub async fn still(
    input: &Path,
    spec: &StillSpec,
    duration: f64,
    out: &Path,
    budget: &Budget,
) -> Result<()> {
    // The last frame starts before the end: a seek to the very end would find nothing.
    let time = spec.time.min(duration - 0.1).max(0.0);
    let mut args = seek_args(input, time, None);
    let mut filter = still_filter(spec).unwrap_or_else(|| "null".into());
    filter.push_str(",setsar=1");
    args.extend(["-vf".into(), filter.into()]);
    let codec: &[&str] = match spec.format {
        StillFormat::Jpeg => &[
            "-pix_fmt", "yuvj420p", "-c:v", "mjpeg", "-q:v", "3", "-f", "image2",
        ],
        StillFormat::Png => &["-pix_fmt", "rgb24", "-c:v", "png", "-f", "image2"],
        StillFormat::Webp => &[
            "-pix_fmt", "yuv420p", "-c:v", "libwebp", "-quality", "80", "-f", "webp",
        ],
    };
    args.extend(["-frames:v", "1"].map(Into::into));
    args.extend(codec.iter().map(Into::into));
    args.push(out.as_os_str().to_owned());
    run(args, out, "ffmpeg still", budget).await
}

/// The animation `spec` asks for, from `input`, written to `out`: `end - start` seconds at
/// `fps`, looping forever. GIF gets a palette made for these frames (palettegen, paletteuse).
pub async fn animation(
    input: &Path,
    spec: &AnimationSpec,
    out: &Path,
    budget: &Budget,
) -> Result<()> {
    let length = (spec.end - spec.start).max(0.0);
    let mut args = seek_args(input, spec.start, Some(length));
    let base = format!(
        "fps={},scale={}:-2:flags=lanczos,setsar=1",
        spec.fps, spec.width
    );
    match spec.format {
        AnimationFormat::Webp => {
            args.extend(["-vf".into(), format!("{base},format=yuv420p").into()]);
            args.extend(
                [
                    "-c:v",
                    "libwebp_anim",
                    "-quality",
                    "70",
                    // Level 1 of 6: ~40 % faster than the default 4 for ~18 % more bytes
                    // (10 s of 640 px at 15 fps: 6.2 s instead of 10.9 s).
                    "-compression_level",
                    "1",
                    "-loop",
                    "0",
                    "-f",
                    "webp",
                ]
                .map(Into::into),
            );
        }
        AnimationFormat::Gif => {
            let graph = format!(
                "{base},split[a][b];[a]palettegen=stats_mode=diff[p];[b][p]paletteuse=dither=bayer"
            );
            args.extend(["-vf".into(), graph.into()]);
            args.extend(["-loop", "0", "-f", "gif"].map(Into::into));
        }
    }
    args.push(out.as_os_str().to_owned());
    run(args, out, "ffmpeg animation", budget).await
}

/// The input, read from `time` by the stream's own timestamps, the first video stream only.
fn seek_args(input: &Path, time: f64, length: Option<f64>) -> Vec<OsString> {
    let mut args: Vec<OsString> = ["-hide_banner", "-nostdin", "-y", "-seek_timestamp", "1"]
        .map(Into::into)
        .to_vec();
    args.extend(["-ss".into(), format!("{time:.3}").into()]);
    if let Some(l) = length {
        args.extend(["-t".into(), format!("{l:.3}").into()]);
    }
    args.extend(["-i".into(), input.as_os_str().to_owned()]);
    args.extend(["-map", "0:v:0", "-an", "-sn", "-dn", "-map_metadata", "-1"].map(Into::into));
    args
}

async fn run(args: Vec<OsString>, out: &Path, what: &str, budget: &Budget) -> Result<()> {
    let finished = process::run("ffmpeg", &args, what, budget, |_| {}).await?;
    if !finished.success() {
        return Err(finished.into_error());
    }
    match tokio::fs::metadata(out).await {
        Ok(m) if m.len() > 0 => Ok(()),
        _ => Err(MediaError::bad_output(format!("{what} wrote nothing"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASTER: &str = "#EXTM3U\n#EXT-X-VERSION:7\n\
        #EXT-X-STREAM-INF:BANDWIDTH=5000000,RESOLUTION=1920x1080,CODECS=\"avc1.640028\"\nmedia_0.m3u8\n\
        #EXT-X-STREAM-INF:BANDWIDTH=2000000,RESOLUTION=1280x720,CODECS=\"avc1.64001f\"\nmedia_1.m3u8\n\
        #EXT-X-STREAM-INF:BANDWIDTH=500000,RESOLUTION=640x360,CODECS=\"avc1.64001e\"\nmedia_2.m3u8\n";

    #[test]
    fn picks_the_smallest_rung_that_covers() {
        let pick = |w, h| choose_stream(MASTER, w, h);
        assert_eq!(pick(Some(320), None).as_deref(), Some("media_2.m3u8"));
        assert_eq!(pick(Some(640), Some(360)).as_deref(), Some("media_2.m3u8"));
        assert_eq!(pick(Some(641), None).as_deref(), Some("media_1.m3u8"));
        assert_eq!(pick(None, Some(800)).as_deref(), Some("media_0.m3u8"));
        assert_eq!(
            pick(Some(1920), Some(1920)).as_deref(),
            Some("media_0.m3u8")
        );
        assert_eq!(pick(None, None).as_deref(), Some("media_0.m3u8"));
        assert_eq!(choose_stream("#EXTM3U\n", Some(10), None), None);
    }

    #[test]
    fn fetches_only_the_segments_of_the_span() {
        let playlist = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:1\n\
            #EXT-X-MAP:URI=\"init-0.m4s\"\n#EXTINF:4.000000,\nchunk-0-00001.m4s\n\
            #EXTINF:4.000000,\nchunk-0-00002.m4s\n#EXTINF:2.000000,\nchunk-0-00003.m4s\n#EXT-X-ENDLIST\n";
        let get = |s, e| segments_between(playlist, s, e).unwrap();
        assert_eq!(get(0.0, 0.0), ["init-0.m4s", "chunk-0-00001.m4s"]);
        assert_eq!(get(5.5, 5.5), ["init-0.m4s", "chunk-0-00002.m4s"]);
        assert_eq!(
            get(3.0, 9.0),
            [
                "init-0.m4s",
                "chunk-0-00001.m4s",
                "chunk-0-00002.m4s",
                "chunk-0-00003.m4s"
            ]
        );
        assert_eq!(get(10.0, 10.0), ["init-0.m4s", "chunk-0-00003.m4s"]);
        assert_eq!(get(12.0, 12.0), ["init-0.m4s", "chunk-0-00003.m4s"]);
        let escaping = playlist.replace("chunk-0-00002.m4s", "../x.m4s");
        assert!(segments_between(&escaping, 5.0, 5.0).is_err());
    }

    #[test]
    fn fit_filters() {
        let spec = |w, h, fit| StillSpec {
            time: 0.0,
            width: w,
            height: h,
            fit,
            format: StillFormat::Jpeg,
        };
        assert_eq!(still_filter(&spec(None, None, Fit::Cover)), None);
        assert_eq!(
            still_filter(&spec(Some(200), None, Fit::Cover)).as_deref(),
            Some("scale=200:-1")
        );
        assert_eq!(
            still_filter(&spec(Some(200), Some(100), Fit::Cover)).as_deref(),
            Some("scale=200:100:force_original_aspect_ratio=increase,crop=200:100")
        );
    }
}
