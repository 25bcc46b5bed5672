//! Downloads: plain MP4s of published video rungs (with the default audio track) and an M4A of
//! the default audio track, remuxed from the CMAF segments already in `stream/` — no
//! re-encoding, so they cost a copy of the bytes and seconds of CPU.
//!
//! A stream's init segment followed by its media segments is a valid fragmented MP4 (each
//! segment's `tfdt` carries its decode time); ffmpeg copies that into an ordinary MP4 with the
//! `moov` at the front (`-movflags +faststart`), so players and editors can start before the
//! end arrives. Which playlists are which comes from the master playlist this crate wrote.

use super::codecs::VideoCodec;
use super::package::{attribute, repair_media_playlist};
use super::STREAM_DIR;
use crate::error::{MediaError, Result};
use crate::process::{self, Budget};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

/// Where downloads go, relative to `out_dir`.
pub const DOWNLOADS_DIR: &str = "downloads";
/// The name of the audio-only download (`downloads/audio.m4a`).
pub const AUDIO_DOWNLOAD: &str = "audio";
/// Scratch space for the concatenated streams, inside `out_dir` and removed before returning.
const REMUX_SCRATCH: &str = ".remux";

/// Which video rungs get an MP4 (`DOWNLOAD_RENDITIONS`). The M4A of the default audio track is
/// made whenever anything is (audio items get only that).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownloadRenditions {
    /// No downloads at all.
    None,
    /// The highest rung, the lowest, or both (one file when there is one rung).
    Pick { highest: bool, lowest: bool },
    /// Every rung.
    All,
}

impl Default for DownloadRenditions {
    fn default() -> Self {
        DownloadRenditions::Pick {
            highest: true,
            lowest: true,
        }
    }
}

impl std::str::FromStr for DownloadRenditions {
    type Err = String;

    /// `highest,lowest` (any non-empty subset), `all` or `none`.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim() {
            "all" => return Ok(DownloadRenditions::All),
            "none" => return Ok(DownloadRenditions::None),
            _ => {}
        }
        let (mut highest, mut lowest) = (false, false);
        for part in s.split(',').map(str::trim) {
            match part {
                "highest" => highest = true,
                "lowest" => lowest = true,
                other => {
                    return Err(format!(
                        "'{other}' is not one of highest, lowest (comma-separated), all, none"
                    ))
                }
            }
        }
        Ok(DownloadRenditions::Pick { highest, lowest })
    }
}

impl DownloadRenditions {
    /// Indices (into `n` rungs ordered highest first) that get an MP4, in that order.
    fn pick(self, n: usize) -> Vec<usize> {
        match self {
            _ if n == 0 => Vec::new(),
            DownloadRenditions::None => Vec::new(),
            DownloadRenditions::All => (0..n).collect(),
            DownloadRenditions::Pick { highest, lowest } => {
                let mut out = Vec::new();
                if highest {
                    out.push(0);
                }
                if lowest && !out.contains(&(n - 1)) {
                    out.push(n - 1);
                }
                out
            }
        }
    }
}

/// One file made, with its path relative to `out_dir` (`downloads/720p.mp4`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadInfo {
    pub name: String,
    pub path: String,
    /// 0 for the M4A.
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    pub content_type: String,
}

/// What the master playlist says about the published streams.
#[derive(Debug, Default, PartialEq)]
struct Streams {
    /// Video variants, highest first: (media playlist, width, height).
    video: Vec<(String, u32, u32)>,
    /// The default audio track's media playlist.
    audio: Option<String>,
}

fn parse_master(text: &str) -> Streams {
    let mut video = Vec::new();
    let mut default_audio = None;
    // Audio-only ladders: the variants carry the default track (highest bitrate first).
    let mut audio_variants: Vec<(u64, String)> = Vec::new();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    while let Some(line) = lines.next() {
        if let Some(attrs) = line.strip_prefix("#EXT-X-MEDIA:") {
            if attribute(attrs, "TYPE") == Some("AUDIO")
                && attribute(attrs, "DEFAULT") == Some("YES")
            {
                default_audio = attribute(attrs, "URI").map(str::to_string);
            }
        } else if let Some(attrs) = line.strip_prefix("#EXT-X-STREAM-INF:") {
            let Some(uri) = lines.next().filter(|l| !l.starts_with('#')) else {
                continue;
            };
            let size = attribute(attrs, "RESOLUTION")
                .and_then(|r| r.split_once('x'))
                .and_then(|(w, h)| Some((w.parse::<u32>().ok()?, h.parse::<u32>().ok()?)));
            // Downloads are H.264, what every player and editor opens; the AV1 and HEVC
            // variants are the same pictures again.
            let other_codec = attribute(attrs, "CODECS")
                .and_then(VideoCodec::of_codecs)
                .is_some_and(|c| c != VideoCodec::H264);
            match size {
                Some(_) if other_codec => {}
                Some((w, h)) => video.push((uri.to_string(), w, h)),
                None => {
                    let bw = attribute(attrs, "BANDWIDTH")
                        .and_then(|b| b.parse().ok())
                        .unwrap_or(0);
                    audio_variants.push((bw, uri.to_string()));
                }
            }
        }
    }
    video.sort_by_key(|v| std::cmp::Reverse((v.2, v.1)));
    audio_variants.sort_by_key(|v| std::cmp::Reverse(v.0));
    let audio = default_audio.or_else(|| audio_variants.into_iter().next().map(|(_, u)| u));
    Streams { video, audio }
}

/// Makes the downloads `choice` asks for from `out_dir/stream/` (a finished transcode's, or the
/// same files fetched back from storage) into `out_dir/downloads/`. Items without a master
/// playlist (images) get none.
pub async fn make_downloads(
    out_dir: &Path,
    choice: DownloadRenditions,
    timeout: Duration,
    cancel: CancellationToken,
) -> Result<Vec<DownloadInfo>> {
    if choice == DownloadRenditions::None {
        return Ok(Vec::new());
    }
    let stream_dir = out_dir.join(STREAM_DIR);
    let master = match tokio::fs::read_to_string(stream_dir.join("master.m3u8")).await {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let streams = parse_master(&master);
    let scratch = out_dir.join(REMUX_SCRATCH);
    tokio::fs::create_dir_all(&scratch).await?;
    let budget = Budget::new(timeout, cancel);
    let made = remux_all(out_dir, &stream_dir, &scratch, &streams, choice, &budget).await;
    // Never published: the scratch copies are as large as the streams.
    if let Err(e) = tokio::fs::remove_dir_all(&scratch).await {
        tracing::warn!(dir = %scratch.display(), error = %e, "cannot remove remux scratch");
    }
    made
}

async fn remux_all(
    out_dir: &Path,
    stream_dir: &Path,
    scratch: &Path,
    streams: &Streams,
    choice: DownloadRenditions,
    budget: &Budget,
) -> Result<Vec<DownloadInfo>> {
    let downloads = out_dir.join(DOWNLOADS_DIR);
    tokio::fs::create_dir_all(&downloads).await?;
    let audio = match &streams.audio {
        Some(uri) => Some(join_stream(stream_dir, uri, &scratch.join("audio.mp4")).await?),
        None => None,
    };
    let mut out = Vec::new();
    for i in choice.pick(streams.video.len()) {
        let (uri, width, height) = &streams.video[i];
        let video = join_stream(stream_dir, uri, &scratch.join("video.mp4")).await?;
        let name = format!("{}p", width.min(height));
        let path = format!("{DOWNLOADS_DIR}/{name}.mp4");
        let mut args: Vec<std::ffi::OsString> = vec!["-i".into(), video.into_os_string()];
        if let Some(a) = &audio {
            args.extend(["-i".into(), a.clone().into_os_string()]);
        }
        args.extend(["-map".into(), "0:v:0".into()]);
        if audio.is_some() {
            args.extend(["-map".into(), "1:a:0".into()]);
        }
        let bytes = remux(args, &out_dir.join(&path), budget).await?;
        out.push(DownloadInfo {
            name,
            path,
            width: *width,
            height: *height,
            bytes,
            content_type: "video/mp4".into(),
        });
    }
    if let Some(a) = audio {
        let path = format!("{DOWNLOADS_DIR}/{AUDIO_DOWNLOAD}.m4a");
        let args = vec![
            "-i".into(),
            a.into_os_string(),
            "-map".into(),
            "0:a:0".into(),
        ];
        let bytes = remux(args, &out_dir.join(&path), budget).await?;
        out.push(DownloadInfo {
            name: AUDIO_DOWNLOAD.into(),
            path,
            width: 0,
            height: 0,
            bytes,
            content_type: "audio/mp4".into(),
        });
    }
    Ok(out)
}

/// Writes the init segment and every media segment of the media playlist `uri` (a bare name in
/// `stream_dir`) one after the other into `dest`: one fragmented MP4.
async fn join_stream(stream_dir: &Path, uri: &str, dest: &Path) -> Result<PathBuf> {
    let text = tokio::fs::read_to_string(stream_dir.join(bare(uri)?))
        .await
        .map_err(|e| MediaError::bad_output_from(format!("reading {uri}"), e))?;
    let playlist = repair_media_playlist(&text).map_err(|e| MediaError::bad_output_from(uri, e))?;
    let init = playlist
        .init
        .ok_or_else(|| MediaError::bad_output(format!("{uri} names no init segment")))?;
    let mut file = tokio::fs::File::create(dest).await?;
    for part in
        std::iter::once(init.as_str()).chain(playlist.segments.iter().map(|(u, _)| u.as_str()))
    {
        let mut src = tokio::fs::File::open(stream_dir.join(bare(part)?))
            .await
            .map_err(|e| MediaError::bad_output_from(format!("{uri} references {part}"), e))?;
        tokio::io::copy(&mut src, &mut file).await?;
    }
    file.flush().await?;
    Ok(dest.to_path_buf())
}

/// Playlist URIs this crate writes are bare names; anything else would leave the directory.
fn bare(uri: &str) -> Result<&str> {
    if uri.is_empty() || uri.contains('/') || uri.contains('\\') || uri.starts_with('.') {
        return Err(MediaError::bad_output(format!(
            "unexpected playlist URI {uri:?}"
        )));
    }
    Ok(uri)
}

/// `ffmpeg {inputs and maps} -c copy -movflags +faststart dest`; the file's size.
async fn remux(mut args: Vec<std::ffi::OsString>, dest: &Path, budget: &Budget) -> Result<u64> {
    let mut full: Vec<std::ffi::OsString> =
        vec!["-hide_banner".into(), "-nostdin".into(), "-y".into()];
    full.append(&mut args);
    full.extend(
        [
            "-c",
            "copy",
            "-map_metadata",
            "-1",
            "-movflags",
            "+faststart",
            "-f",
            "mp4",
        ]
        .map(Into::into),
    );
    full.push(dest.as_os_str().to_owned());
    let finished = process::run("ffmpeg", &full, "ffmpeg download remux", budget, |_| {}).await?;
    if !finished.success() {
        return Err(finished.into_error());
    }
    let len = tokio::fs::metadata(dest).await?.len();
    if len == 0 {
        return Err(MediaError::bad_output(format!(
            "ffmpeg wrote an empty {}",
            dest.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        )));
    }
    Ok(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_choice() {
        assert_eq!("highest,lowest".parse(), Ok(DownloadRenditions::default()));
        assert_eq!(
            " highest ".parse(),
            Ok(DownloadRenditions::Pick {
                highest: true,
                lowest: false
            })
        );
        assert_eq!("all".parse(), Ok(DownloadRenditions::All));
        assert_eq!("none".parse(), Ok(DownloadRenditions::None));
        for bad in ["", "best", "highest,", "all,lowest"] {
            assert!(bad.parse::<DownloadRenditions>().is_err(), "{bad}");
        }
    }

    #[test]
    fn picks_rungs() {
        let d = DownloadRenditions::default();
        assert_eq!(d.pick(3), vec![0, 2]);
        assert_eq!(d.pick(1), vec![0]);
        assert_eq!(d.pick(0), Vec::<usize>::new());
        assert_eq!(DownloadRenditions::All.pick(3), vec![0, 1, 2]);
        assert_eq!(DownloadRenditions::None.pick(3), Vec::<usize>::new());
        let low = DownloadRenditions::Pick {
            highest: false,
            lowest: true,
        };
        assert_eq!(low.pick(3), vec![2]);
    }

    #[test]
    fn reads_the_master() {
        let video = "#EXTM3U\n#EXT-X-VERSION:7\n\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",LANGUAGE=\"fr\",NAME=\"Fr\",DEFAULT=NO,AUTOSELECT=YES,CHANNELS=\"2\",URI=\"media_3.m3u8\"\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",LANGUAGE=\"en\",NAME=\"En\",DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"2\",URI=\"media_2.m3u8\"\n\n#EXT-X-STREAM-INF:BANDWIDTH=500000,RESOLUTION=640x360,CODECS=\"avc1,mp4a.40.2\",AUDIO=\"audio\"\nmedia_1.m3u8\n\n#EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=1280x720,CODECS=\"avc1,mp4a.40.2\",AUDIO=\"audio\"\nmedia_0.m3u8\n";
        assert_eq!(
            parse_master(video),
            Streams {
                video: vec![
                    ("media_0.m3u8".into(), 1280, 720),
                    ("media_1.m3u8".into(), 640, 360)
                ],
                audio: Some("media_2.m3u8".into()),
            }
        );
        // AV1 and HEVC variants of the same rungs get no download of their own.
        let more = video.replace(
            "media_0.m3u8\n",
            "media_0.m3u8\n\n#EXT-X-STREAM-INF:BANDWIDTH=500000,RESOLUTION=1280x720,CODECS=\"av01.0.05M.08,mp4a.40.2\",AUDIO=\"audio\"\nmedia_4.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=600000,RESOLUTION=1920x1080,CODECS=\"hvc1.1.6.L93.90,mp4a.40.2\",AUDIO=\"audio\"\nmedia_5.m3u8\n",
        );
        assert_ne!(more, video);
        assert_eq!(parse_master(&more), parse_master(video));
        let audio = "#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",LANGUAGE=\"und\",NAME=\"Audio\",DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"2\"\n#EXT-X-STREAM-INF:BANDWIDTH=64000,CODECS=\"mp4a.40.2\"\nmedia_1.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=128000,CODECS=\"mp4a.40.2\"\nmedia_0.m3u8\n";
        assert_eq!(
            parse_master(audio),
            Streams {
                video: vec![],
                audio: Some("media_0.m3u8".into()),
            }
        );
        assert!(bare("../x").is_err());
        assert!(bare("a/b").is_err());
    }
}
