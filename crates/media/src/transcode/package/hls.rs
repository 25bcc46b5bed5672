//! The HLS side: ffmpeg's media playlists repaired (VOD or growing `EVENT`), what they hold,
//! and the master playlist written here.

use crate::error::{MediaError, Result};
use std::fmt::Write as _;
use std::path::Path;

/// What a repaired media playlist holds.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaylistStats {
    /// File name inside the stream directory, e.g. `media_0.m3u8`.
    pub uri: String,
    pub segments: usize,
    pub duration: f64,
    /// Peak segment bitrate in bits/s (segments shorter than a second are ignored when there
    /// are longer ones: a 20 ms tail segment is mostly box overhead).
    pub peak_bps: u64,
    pub average_bps: u64,
}

/// The HLS media playlist ffmpeg writes for output stream `index`.
pub fn media_playlist_name(index: usize) -> String {
    format!("media_{index}.m3u8")
}

/// Rewrites `stream_dir/media_{index}.m3u8` as a VOD playlist and checks that every URI in it
/// exists.
pub async fn finalize_media_playlist(stream_dir: &Path, index: usize) -> Result<PlaylistStats> {
    let uri = media_playlist_name(index);
    let path = stream_dir.join(&uri);
    let text = tokio::fs::read_to_string(&path)
        .await
        .map_err(|e| MediaError::bad_output_from(format!("ffmpeg wrote no {uri}"), e))?;
    let repaired =
        repair_media_playlist(&text).map_err(|e| MediaError::bad_output_from(uri.as_str(), e))?;

    let mut segments = Vec::new();
    for (uri, duration) in &repaired.segments {
        let len = file_len(stream_dir, uri).await?;
        segments.push((len, *duration));
    }
    if let Some(init) = &repaired.init {
        file_len(stream_dir, init).await?;
    }
    tokio::fs::write(&path, &repaired.text).await?;
    Ok(playlist_stats(uri, &segments))
}

/// The stats of media playlist `uri` from its segments' (bytes, seconds).
pub(in crate::transcode) fn playlist_stats(uri: String, segments: &[(u64, f64)]) -> PlaylistStats {
    let duration: f64 = segments.iter().map(|(_, d)| d).sum();
    let total_bytes: u64 = segments.iter().map(|(len, _)| len).sum();
    let long_enough = segments.iter().any(|(_, d)| *d >= 1.0);
    let peak = segments
        .iter()
        .filter(|(_, d)| *d > 0.0 && (!long_enough || *d >= 1.0))
        .map(|(len, d)| (*len as f64 * 8.0 / d).ceil() as u64)
        .max()
        .unwrap_or(0);
    let average = if duration > 0.0 {
        (total_bytes as f64 * 8.0 / duration).ceil() as u64
    } else {
        0
    };
    PlaylistStats {
        uri,
        segments: segments.len(),
        duration,
        peak_bps: peak,
        average_bps: average,
    }
}

async fn file_len(dir: &Path, uri: &str) -> Result<u64> {
    // ffmpeg writes bare file names; anything else would escape the stream directory.
    if uri.contains('/') || uri.contains('\\') || uri.starts_with('.') {
        return Err(MediaError::bad_output(format!(
            "unexpected playlist URI {uri:?}"
        )));
    }
    let meta = tokio::fs::metadata(dir.join(uri))
        .await
        .map_err(|e| MediaError::bad_output_from(format!("playlist references {uri}"), e))?;
    if meta.len() == 0 {
        return Err(MediaError::bad_output(format!("{uri} is empty")));
    }
    Ok(meta.len())
}

#[derive(Debug, PartialEq)]
pub struct RepairedPlaylist {
    pub text: String,
    pub init: Option<String>,
    /// (uri, EXTINF duration)
    pub segments: Vec<(String, f64)>,
}

/// `#EXT-X-PLAYLIST-TYPE` of a rewritten media playlist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaylistType {
    /// Complete: ends with `#EXT-X-ENDLIST`.
    Vod,
    /// Still growing: segments are only ever appended, no `#EXT-X-ENDLIST` yet.
    Event,
}

/// A media playlist that cannot be rewritten; says what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct MalformedPlaylist(String);

/// Normalises an ffmpeg media playlist into a VOD one: version 7, `PLAYLIST-TYPE:VOD`, a target
/// duration no smaller than any rounded `EXTINF`, no program date times, `ENDLIST`.
pub fn repair_media_playlist(
    text: &str,
) -> std::result::Result<RepairedPlaylist, MalformedPlaylist> {
    rewrite_media_playlist(text, PlaylistType::Vod, 1).map_err(MalformedPlaylist)
}

/// The same normalisation for a playlist ffmpeg is still appending to, as an `EVENT` playlist
/// without `ENDLIST`. RFC 8216 forbids the target duration to change between reloads, so it is
/// at least `min_target` (the planned segment length) from the first version on.
pub fn event_media_playlist(
    text: &str,
    min_target: u64,
) -> std::result::Result<RepairedPlaylist, MalformedPlaylist> {
    rewrite_media_playlist(text, PlaylistType::Event, min_target).map_err(MalformedPlaylist)
}

/// An `EVENT` media playlist with no segment yet (players reload it as a live one), as
/// [`event_media_playlist`] writes its header.
pub fn empty_event_playlist(target: u64) -> String {
    format!(
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-TARGETDURATION:{}\n#EXT-X-MEDIA-SEQUENCE:1\n",
        target.max(1)
    )
}

fn rewrite_media_playlist(
    text: &str,
    kind: PlaylistType,
    min_target: u64,
) -> std::result::Result<RepairedPlaylist, String> {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    if lines.next() != Some("#EXTM3U") {
        return Err("not an M3U8 playlist".into());
    }
    let mut header = Vec::new();
    let mut body = Vec::new();
    let mut init = None;
    let mut segments = Vec::new();
    let mut target: u64 = 0;
    let mut pending: Option<f64> = None;
    for line in lines {
        if let Some(v) = line.strip_prefix("#EXT-X-TARGETDURATION:") {
            target = target.max(v.trim().parse().unwrap_or(0));
        } else if line.starts_with("#EXT-X-VERSION:")
            || line.starts_with("#EXT-X-PLAYLIST-TYPE:")
            || line.starts_with("#EXT-X-PROGRAM-DATE-TIME:")
            || line == "#EXT-X-ENDLIST"
        {
            // Re-emitted below (or dropped, for the date times).
        } else if let Some(v) = line.strip_prefix("#EXT-X-MEDIA-SEQUENCE:") {
            header.push(format!("#EXT-X-MEDIA-SEQUENCE:{}", v.trim()));
        } else if let Some(attrs) = line.strip_prefix("#EXT-X-MAP:") {
            let uri = attribute(attrs, "URI").ok_or("EXT-X-MAP without URI")?;
            init = Some(uri.to_string());
            body.push(line.to_string());
        } else if let Some(v) = line.strip_prefix("#EXTINF:") {
            let d: f64 = v
                .split(',')
                .next()
                .and_then(|d| d.trim().parse().ok())
                .filter(|d: &f64| d.is_finite() && *d >= 0.0)
                .ok_or_else(|| format!("bad EXTINF {line:?}"))?;
            pending = Some(d);
            body.push(format!("#EXTINF:{d:.6},"));
        } else if line.starts_with('#') {
            body.push(line.to_string());
        } else {
            let d = pending
                .take()
                .ok_or_else(|| format!("{line} has no EXTINF"))?;
            target = target.max(d.round() as u64);
            segments.push((line.to_string(), d));
            body.push(line.to_string());
        }
    }
    if segments.is_empty() {
        return Err("no segments".into());
    }
    let kind_name = match kind {
        PlaylistType::Vod => "VOD",
        PlaylistType::Event => "EVENT",
    };
    let mut out = format!("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-PLAYLIST-TYPE:{kind_name}\n");
    let _ = writeln!(
        out,
        "#EXT-X-TARGETDURATION:{}",
        target.max(min_target).max(1)
    );
    for l in header.iter().chain(&body) {
        out.push_str(l);
        out.push('\n');
    }
    if kind == PlaylistType::Vod {
        out.push_str("#EXT-X-ENDLIST\n");
    }
    Ok(RepairedPlaylist {
        text: out,
        init,
        segments,
    })
}

/// The value of `NAME=...` in an attribute list (quoted or not).
pub fn attribute<'a>(attrs: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = attrs;
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let (value, tail) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"')?;
            (&q[..end], q[end + 1..].trim_start_matches(','))
        } else {
            match after.split_once(',') {
                Some((v, t)) => (v, t),
                None => (after, ""),
            }
        };
        if key.trim() == name {
            return Some(value);
        }
        rest = tail;
    }
    None
}

/// A `#EXT-X-STREAM-INF` entry of the master playlist.
#[derive(Debug, Clone)]
pub struct Variant {
    pub uri: String,
    pub bandwidth: u64,
    /// Unknown (and left out) while the encode is still running.
    pub average_bandwidth: Option<u64>,
    pub resolution: Option<(u32, u32)>,
    pub frame_rate: Option<f64>,
    pub codecs: String,
}

/// One audio track of the group every video variant references.
#[derive(Debug, Clone)]
pub struct AudioRendition {
    /// `None` for the track the variants themselves carry (an audio-only ladder).
    pub uri: Option<String>,
    pub channels: u32,
    /// ISO 639 (`und` when unknown).
    pub language: String,
    pub name: String,
    /// The one players pick first (exactly one track of a group has it).
    pub default: bool,
}

pub const AUDIO_GROUP: &str = "audio";

/// Writes the master playlist from scratch (see the module docs for why).
pub fn master_playlist(variants: &[Variant], audio: &[AudioRendition]) -> String {
    let mut out = String::from("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n\n");
    for a in audio {
        // Quoted-string attributes may hold neither `"` nor line breaks (RFC 8216 4.2).
        let name: String = a
            .name
            .chars()
            .map(|c| if c == '"' { '\'' } else { c })
            .filter(|c| !c.is_control())
            .collect();
        let _ = write!(
            out,
            "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"{AUDIO_GROUP}\",LANGUAGE=\"{}\",NAME=\"{name}\",DEFAULT={},AUTOSELECT=YES,CHANNELS=\"{}\"",
            a.language,
            if a.default { "YES" } else { "NO" },
            a.channels,
        );
        match &a.uri {
            Some(uri) => {
                let _ = writeln!(out, ",URI=\"{uri}\"");
            }
            None => out.push('\n'),
        }
    }
    if !audio.is_empty() {
        out.push('\n');
    }
    for v in variants {
        let mut attrs = format!("BANDWIDTH={}", v.bandwidth);
        if let Some(average) = v.average_bandwidth {
            let _ = write!(attrs, ",AVERAGE-BANDWIDTH={average}");
        }
        if let Some((w, h)) = v.resolution {
            let _ = write!(attrs, ",RESOLUTION={w}x{h}");
        }
        if let Some(fps) = v.frame_rate.filter(|f| *f > 0.0 && f.is_finite()) {
            let _ = write!(attrs, ",FRAME-RATE={fps:.3}");
        }
        let _ = write!(attrs, ",CODECS=\"{}\"", v.codecs);
        if !audio.is_empty() {
            let _ = write!(attrs, ",AUDIO=\"{AUDIO_GROUP}\"");
        }
        let _ = writeln!(out, "#EXT-X-STREAM-INF:{attrs}\n{}\n", v.uri);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const FFMPEG_MEDIA: &str = "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:1\n#EXT-X-MAP:URI=\"init-0.m4s\"\n#EXTINF:4.004000,\n#EXT-X-PROGRAM-DATE-TIME:2026-11-22T21:06:49.000+0000\nchunk-0-00001.m4s\n#EXTINF:4.600000,\n#EXT-X-PROGRAM-DATE-TIME:2026-11-22T21:06:53.004+0000\nchunk-0-00002.m4s\n#EXT-X-ENDLIST\n";

    #[test]
    fn repairs_ffmpeg_media_playlists() {
        let r = repair_media_playlist(FFMPEG_MEDIA).unwrap();
        assert_eq!(
            r.text,
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-TARGETDURATION:5\n#EXT-X-MEDIA-SEQUENCE:1\n#EXT-X-MAP:URI=\"init-0.m4s\"\n#EXTINF:4.004000,\nchunk-0-00001.m4s\n#EXTINF:4.600000,\nchunk-0-00002.m4s\n#EXT-X-ENDLIST\n"
        );
        assert_eq!(r.init.as_deref(), Some("init-0.m4s"));
        assert_eq!(r.segments.len(), 2);
        // Idempotent, and a missing ENDLIST is added.
        let again = repair_media_playlist(&r.text.replace("#EXT-X-ENDLIST\n", "")).unwrap();
        assert_eq!(again.text, r.text);
    }

    #[test]
    fn event_playlists_grow_without_endlist() {
        let live = FFMPEG_MEDIA.replace("#EXT-X-ENDLIST\n", "");
        let one_segment = live.split("#EXTINF:4.600000,").next().unwrap().to_string();
        let first = event_media_playlist(&one_segment, 4).unwrap();
        assert_eq!(
            first.text,
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:1\n#EXT-X-MAP:URI=\"init-0.m4s\"\n#EXTINF:4.004000,\nchunk-0-00001.m4s\n"
        );
        assert_eq!(first.init.as_deref(), Some("init-0.m4s"));
        assert_eq!(
            first.segments,
            vec![("chunk-0-00001.m4s".to_string(), 4.004)]
        );
        // The next version only appends; a longer segment raises the target (never lowers it).
        let second = event_media_playlist(&live, 4).unwrap();
        assert!(second.text.contains("#EXT-X-TARGETDURATION:5\n"));
        assert!(second
            .text
            .ends_with("#EXTINF:4.600000,\nchunk-0-00002.m4s\n"));
        assert!(!second.text.contains("ENDLIST"));
        assert!(!second.text.contains("PROGRAM-DATE-TIME"));
        // The planned segment length holds the target steady across short first segments, and
        // an ENDLIST ffmpeg already wrote is not copied into an EVENT playlist.
        let short = FFMPEG_MEDIA
            .replace("4.600000", "1.000000")
            .replace("4.004000", "2.0");
        let e = event_media_playlist(&short, 4).unwrap();
        assert!(e.text.contains("#EXT-X-TARGETDURATION:4\n"), "{}", e.text);
        assert!(!e.text.contains("ENDLIST"));
        // The VOD form of the same playlist is the EVENT form plus ENDLIST, type aside.
        let vod = repair_media_playlist(&live).unwrap();
        assert_eq!(
            vod.text.replace("VOD", "EVENT"),
            format!("{}#EXT-X-ENDLIST\n", second.text)
        );
        assert!(event_media_playlist("#EXTM3U\n#EXT-X-TARGETDURATION:4\n", 4).is_err());
    }

    #[test]
    fn rejects_broken_playlists() {
        assert!(repair_media_playlist("hello").is_err());
        assert!(repair_media_playlist("#EXTM3U\n#EXT-X-VERSION:6\n").is_err());
        assert!(repair_media_playlist("#EXTM3U\nchunk.m4s\n").is_err());
    }

    #[test]
    fn attributes() {
        let a = r#"TYPE=AUDIO,GROUP-ID="a,b",URI="x.m3u8",DEFAULT=YES"#;
        assert_eq!(attribute(a, "GROUP-ID"), Some("a,b"));
        assert_eq!(attribute(a, "URI"), Some("x.m3u8"));
        assert_eq!(attribute(a, "DEFAULT"), Some("YES"));
        assert_eq!(attribute(a, "TYPE"), Some("AUDIO"));
        assert_eq!(attribute(a, "NAME"), None);
    }

    #[test]
    fn master_has_everything_players_need() {
        let m = master_playlist(
            &[Variant {
                uri: "media_0.m3u8".into(),
                bandwidth: 3_000_000,
                average_bandwidth: Some(2_000_000),
                resolution: Some((1280, 720)),
                frame_rate: Some(30.0),
                codecs: "avc1.64001f,mp4a.40.2".into(),
            }],
            &[
                AudioRendition {
                    uri: Some("media_1.m3u8".into()),
                    channels: 2,
                    language: "eng".into(),
                    name: "English".into(),
                    default: true,
                },
                AudioRendition {
                    uri: Some("media_2.m3u8".into()),
                    channels: 2,
                    language: "spa".into(),
                    name: "Say \"hola\"\n".into(),
                    default: false,
                },
            ],
        );
        assert!(m.starts_with("#EXTM3U\n#EXT-X-VERSION:7\n"));
        assert!(m.contains(r#"#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",LANGUAGE="eng",NAME="English",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="media_1.m3u8""#));
        assert!(m.contains("#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",LANGUAGE=\"spa\",NAME=\"Say 'hola'\",DEFAULT=NO,AUTOSELECT=YES,CHANNELS=\"2\",URI=\"media_2.m3u8\"\n"), "{m}");
        assert!(m.contains(r#"#EXT-X-STREAM-INF:BANDWIDTH=3000000,AVERAGE-BANDWIDTH=2000000,RESOLUTION=1280x720,FRAME-RATE=30.000,CODECS="avc1.64001f,mp4a.40.2",AUDIO="audio""#));
        assert!(m.contains("\nmedia_0.m3u8\n"));
    }
}
