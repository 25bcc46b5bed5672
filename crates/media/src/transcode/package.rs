//! The packaging half: ffmpeg's `dash` muxer writes CMAF segments, the MPD and HLS media
//! playlists in one go; this module reads what it wrote, repairs the HLS side and writes the
//! master playlist itself.
//!
//! What ffmpeg 5.1's dash muxer gets wrong for VOD HLS, and is repaired here:
//! * media playlists have no `#EXT-X-PLAYLIST-TYPE:VOD` and carry wall-clock
//!   `#EXT-X-PROGRAM-DATE-TIME` tags (live-style; meaningless for an upload);
//! * the master's `BANDWIDTH` is the target average bitrate, where RFC 8216 wants the peak;
//!   it has no `AVERAGE-BANDWIDTH`, `FRAME-RATE` or `#EXT-X-INDEPENDENT-SEGMENTS`;
//! * the `AUDIO` group and the audio codec in `CODECS` are silently left out when the audio
//!   encoder reports no bitrate.

use super::mpd_rates;
use crate::error::{MediaError, Result};
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::Path;

/// The dash muxer options shared by video and audio packaging; `manifest` is the MPD path.
///
/// The segments are fragmented MP4 in the CMAF shape (an init segment plus one `moof`+`mdat` per
/// segment, starting on a keyframe), but deliberately without `movflags=+cmaf`: in ffmpeg 5.1
/// that flag drops the edit list without writing negative composition offsets, so with B-frames
/// the video would start two frames after the audio. The default keeps the edit list.
pub fn dash_args(segment_seconds: u32, adaptation_sets: &str, manifest: &Path) -> Vec<OsString> {
    let mut args: Vec<OsString> = [
        "-f",
        "dash",
        "-seg_duration",
        &segment_seconds.to_string(),
        "-use_template",
        "1",
        "-use_timeline",
        "1",
        "-dash_segment_type",
        "mp4",
        "-single_file",
        "0",
        "-streaming",
        "0",
        "-ldash",
        "0",
        "-write_prft",
        "0",
        "-hls_playlist",
        "1",
        "-hls_master_name",
        "master.m3u8",
        "-adaptation_sets",
        adaptation_sets,
        "-init_seg_name",
        "init-$RepresentationID$.m4s",
        "-media_seg_name",
        "chunk-$RepresentationID$-$Number%05d$.m4s",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    args.push(crate::probe::file_url(manifest).into_os_string());
    args
}

/// The output stream a segment file (named as [`dash_args`] names them, with or without a
/// directory) belongs to, and whether it is that stream's init segment.
pub fn segment_stream(file: &str) -> Option<(usize, bool)> {
    let name = file.rsplit('/').next()?;
    let stem = name.strip_suffix(".m4s")?;
    if let Some(n) = stem.strip_prefix("init-") {
        return n.parse().ok().map(|n| (n, true));
    }
    let (n, number) = stem.strip_prefix("chunk-")?.split_once('-')?;
    number.parse::<u64>().ok()?;
    n.parse().ok().map(|n| (n, false))
}

/// One `Representation` of the MPD.
#[derive(Debug, Clone, PartialEq)]
pub struct MpdRepresentation {
    pub id: String,
    pub content_type: String,
    pub codecs: String,
    pub bandwidth: u64,
    pub width: u32,
    pub height: u32,
    /// From the SegmentTimeline (`S` elements and their `r` repeats).
    pub segments: usize,
}

/// Joins the consecutive video `AdaptationSet`s ffmpeg's dash muxer wrote (one per rung) into
/// the first of them, so DASH players can switch between the rungs: one set per codec (sets
/// whose representations name different codecs, e.g. `avc1` and `av01`, are never joined;
/// players switch codecs only between sets).
///
/// ffmpeg 5.1 refuses representations whose picture aspect ratios differ at all in one set, and
/// square-pixel rungs of a 16:9 source cannot all be exactly 16:9 (854x480 is 427:240). The
/// joined set loses its `par` (each representation's `width`, `height` and `sar="1:1"` say it);
/// its `maxWidth`/`maxHeight` are the first set's, the largest rung's.
///
/// Rungs of different frame rates (the small ones of a 50/60 fps source run at half of it) each
/// keep theirs: the sets' `frameRate` moves onto their representations first.
pub fn merge_video_sets(xml: &str) -> Result<String> {
    match mpd_rates::rates_on_representations(xml) {
        Some(moved) => {
            let merged = join_video_sets(&moved)?;
            Ok(mpd_rates::drop_video_sets_attribute(&merged, "frameRate"))
        }
        None => join_video_sets(xml),
    }
}

fn join_video_sets(xml: &str) -> Result<String> {
    const OPEN: &str = "<AdaptationSet";
    const CLOSE: &str = "</AdaptationSet>";
    // (start of the tag, end of the start tag, the codec of a video set) of every set, in
    // document order.
    let mut sets = Vec::new();
    let mut from = 0;
    while let Some(at) = xml[from..].find(OPEN).map(|i| from + i) {
        let end = xml[at..]
            .find('>')
            .map(|i| at + i + 1)
            .ok_or_else(|| MediaError::bad_output("an unterminated AdaptationSet in the MPD"))?;
        let video = xml[at..end]
            .contains(r#"contentType="video""#)
            .then(|| set_codec(&xml[end..]));
        sets.push((at, end, video));
        from = end;
    }
    let mut out = String::with_capacity(xml.len());
    let mut copied = 0;
    let mut merged = 0;
    let mut first_of_codec = Vec::new();
    for (i, set) in sets.iter().enumerate() {
        if let Some(codec) = set.2 {
            let joined = i > 0 && sets[i - 1].2 == Some(codec);
            if !joined {
                first_of_codec.push(*set);
            }
        }
    }
    for pair in sets.windows(2) {
        let ((_, _, prev_video), (start, tag_end, video)) = (pair[0], pair[1]);
        if video.is_none() || prev_video != video {
            continue;
        }
        // Cut from the previous set's closing tag to the end of this one's start tag.
        let close = xml[copied..start]
            .rfind(CLOSE)
            .map(|i| copied + i)
            .ok_or_else(|| MediaError::bad_output("an AdaptationSet without its end in the MPD"))?;
        out.push_str(&xml[copied..close]);
        copied = tag_end;
        merged += 1;
    }
    out.push_str(&xml[copied..]);
    if merged > 0 {
        for (start, end, _) in first_of_codec {
            let tag = &xml[start..end];
            let without_par = drop_attribute(tag, "par");
            out = out.replacen(tag, &without_par, 1);
        }
    }
    let doc = roxmltree::Document::parse(&out)
        .map_err(|e| MediaError::bad_output_from("the joined MPD is not XML", e))?;
    let mut codecs: Vec<&str> = Vec::new();
    for set in doc
        .descendants()
        .filter(|n| n.tag_name().name() == "AdaptationSet")
        .filter(|n| n.attribute("contentType") == Some("video"))
    {
        let codec = set
            .children()
            .find_map(|r| r.attribute("codecs"))
            .and_then(|c| c.get(..4))
            .unwrap_or_default();
        if codecs.contains(&codec) {
            return Err(MediaError::bad_output(format!(
                "the MPD still has more than one {codec} video adaptation set"
            )));
        }
        codecs.push(codec);
    }
    Ok(out)
}

/// The codec (sample entry, e.g. `avc1`) of the first representation after an adaptation
/// set's start tag.
fn set_codec(rest: &str) -> &str {
    let end = rest.find("</AdaptationSet>").unwrap_or(rest.len());
    rest[..end]
        .find(r#" codecs=""#)
        .and_then(|i| rest.get(i + 9..i + 13))
        .unwrap_or_default()
}

/// `tag` without ` name="…"`.
pub(super) fn drop_attribute(tag: &str, name: &str) -> String {
    let needle = format!(r#" {name}=""#);
    let Some(at) = tag.find(&needle) else {
        return tag.to_string();
    };
    let value_start = at + needle.len();
    match tag[value_start..].find('"') {
        Some(i) => format!("{}{}", &tag[..at], &tag[value_start + i + 1..]),
        None => tag.to_string(),
    }
}

/// Reads the representations of a (single-period) MPD.
pub fn parse_mpd(xml: &str) -> Result<Vec<MpdRepresentation>> {
    let doc = roxmltree::Document::parse(xml)
        .map_err(|e| MediaError::bad_output_from("unreadable MPD", e))?;
    let mut reps = Vec::new();
    for set in doc
        .descendants()
        .filter(|n| n.tag_name().name() == "AdaptationSet")
    {
        let set_type = set.attribute("contentType").unwrap_or_default();
        for rep in set
            .children()
            .filter(|n| n.tag_name().name() == "Representation")
        {
            let num = |name: &str| rep.attribute(name).and_then(|v| v.parse().ok());
            let content_type = if set_type.is_empty() {
                rep.attribute("mimeType")
                    .and_then(|m| m.split('/').next())
                    .unwrap_or_default()
            } else {
                set_type
            };
            let segments = rep
                .descendants()
                .filter(|n| n.tag_name().name() == "S")
                .map(|s| {
                    1 + s
                        .attribute("r")
                        .and_then(|r| r.parse::<usize>().ok())
                        .unwrap_or(0)
                })
                .sum();
            reps.push(MpdRepresentation {
                id: rep.attribute("id").unwrap_or_default().to_string(),
                content_type: content_type.to_string(),
                codecs: rep.attribute("codecs").unwrap_or_default().to_string(),
                bandwidth: num("bandwidth").unwrap_or(0),
                width: num("width").unwrap_or(0) as u32,
                height: num("height").unwrap_or(0) as u32,
                segments,
            });
        }
    }
    Ok(reps)
}

/// `xml` without the adaptation sets holding a representation of output stream `streams`
/// (a track that produced nothing: players would fail on an empty timeline).
pub fn remove_adaptation_sets(xml: &str, streams: &[usize]) -> Result<String> {
    let doc = roxmltree::Document::parse(xml)
        .map_err(|e| MediaError::bad_output_from("unreadable MPD", e))?;
    let mut cuts: Vec<std::ops::Range<usize>> = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "AdaptationSet")
        .filter(|set| {
            set.children()
                .filter(|n| n.tag_name().name() == "Representation")
                .any(|r| {
                    r.attribute("id")
                        .and_then(|id| id.parse::<usize>().ok())
                        .is_some_and(|id| streams.contains(&id))
                })
        })
        .map(|set| set.range())
        .collect();
    cuts.sort_by_key(|r| std::cmp::Reverse(r.start));
    let mut out = xml.to_string();
    for r in cuts {
        // The element's own line goes with it.
        let start = out[..r.start].trim_end_matches(['\t', ' ']).len();
        let end = if out[r.end..].starts_with('\n') {
            r.end + 1
        } else {
            r.end
        };
        out.replace_range(start..end, "");
    }
    Ok(out)
}

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
pub(super) fn playlist_stats(uri: String, segments: &[(u64, f64)]) -> PlaylistStats {
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
    fn segment_streams() {
        assert_eq!(segment_stream("stream/init-2.m4s"), Some((2, true)));
        assert_eq!(segment_stream("chunk-0-00012.m4s"), Some((0, false)));
        assert_eq!(
            segment_stream("stream/chunk-11-00001.m4s"),
            Some((11, false))
        );
        for other in [
            "media_0.m3u8",
            "init-x.m4s",
            "chunk-1.m4s",
            "chunk-1-a.m4s",
            "thumbnail.jpg",
        ] {
            assert_eq!(segment_stream(other), None, "{other}");
        }
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

    #[test]
    fn removes_the_adaptation_set_of_a_dead_stream() {
        let xml = "<?xml version=\"1.0\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\">\n\t<Period>\n\t\t<AdaptationSet id=\"0\" contentType=\"video\">\n\t\t\t<Representation id=\"0\"/>\n\t\t</AdaptationSet>\n\t\t<AdaptationSet id=\"1\" contentType=\"audio\" lang=\"eng\">\n\t\t\t<Representation id=\"1\"/>\n\t\t</AdaptationSet>\n\t\t<AdaptationSet id=\"2\" contentType=\"audio\" lang=\"spa\">\n\t\t\t<Representation id=\"2\"/>\n\t\t</AdaptationSet>\n\t</Period>\n</MPD>\n";
        let out = remove_adaptation_sets(xml, &[2]).unwrap();
        assert!(!out.contains("spa"), "{out}");
        assert!(out.contains("lang=\"eng\""));
        assert!(out.contains("</AdaptationSet>\n\t</Period>"), "{out}");
        assert_eq!(parse_mpd(&out).unwrap().len(), 2);
        assert_eq!(remove_adaptation_sets(xml, &[]).unwrap(), xml);
    }

    #[test]
    fn video_sets_are_joined() {
        let xml = r#"<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><Period>
          <AdaptationSet id="0" contentType="video" maxWidth="1920" par="16:9">
            <Representation id="0" width="1920" height="1080" sar="1:1"/>
          </AdaptationSet>
          <AdaptationSet id="1" contentType="video" maxWidth="854" par="427:240">
            <Representation id="1" width="854" height="480" sar="1:1"/>
          </AdaptationSet>
          <AdaptationSet id="2" contentType="audio">
            <Representation id="2" codecs="mp4a.40.2"/>
          </AdaptationSet></Period></MPD>"#;
        let out = merge_video_sets(xml).unwrap();
        let doc = roxmltree::Document::parse(&out).unwrap();
        let sets: Vec<_> = doc
            .descendants()
            .filter(|n| n.tag_name().name() == "AdaptationSet")
            .collect();
        assert_eq!(sets.len(), 2, "{out}");
        assert_eq!(sets[0].attribute("maxWidth"), Some("1920"));
        assert_eq!(sets[0].attribute("par"), None);
        let ids: Vec<_> = sets[0]
            .children()
            .filter_map(|n| n.attribute("id"))
            .collect();
        assert_eq!(ids, ["0", "1"]);
        assert_eq!(sets[1].attribute("contentType"), Some("audio"));
        // Nothing to join: unchanged.
        let one = xml.replace(
            r#"contentType="video" maxWidth="854""#,
            r#"contentType="audio""#,
        );
        assert_eq!(merge_video_sets(&one).unwrap(), one);
    }

    #[test]
    fn video_sets_are_joined_per_codec() {
        let set = |id: u32, codecs: &str, width: u32| {
            format!(
                r#"<AdaptationSet id="{id}" contentType="video" frameRate="25/1" par="16:9"><Representation id="{id}" codecs="{codecs}" width="{width}" sar="1:1"/></AdaptationSet>"#
            )
        };
        // No audio between them: H.264's sets and AV1's follow each other.
        let xml = format!(
            r#"<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><Period>{}{}{}{}{}</Period></MPD>"#,
            set(0, "avc1.640028", 1920),
            set(1, "avc1.64001f", 1280),
            set(2, "av01.0.08M.08", 1920),
            set(3, "av01.0.05M.08", 1280),
            set(4, "hvc1.1.6.L120.90", 1920),
        );
        let out = merge_video_sets(&xml).unwrap();
        let doc = roxmltree::Document::parse(&out).unwrap();
        let sets: Vec<Vec<&str>> = doc
            .descendants()
            .filter(|n| n.tag_name().name() == "AdaptationSet")
            .map(|s| s.children().filter_map(|r| r.attribute("id")).collect())
            .collect();
        assert_eq!(sets, [vec!["0", "1"], vec!["2", "3"], vec!["4"]], "{out}");
        assert!(!out.contains("par="), "{out}");
        // Two sets of one codec that could not be joined are an error.
        let split = format!(
            r#"<MPD><Period>{}<AdaptationSet contentType="audio"/>{}</Period></MPD>"#,
            set(0, "avc1.640028", 1920),
            set(1, "avc1.64001f", 1280),
        );
        assert!(merge_video_sets(&split).is_err());
    }

    #[test]
    fn mpd_segments_count_repeats() {
        let xml = r#"<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><Period>
          <AdaptationSet contentType="video"><Representation id="0" codecs="avc1.640028" bandwidth="5000000" width="1920" height="1080">
            <SegmentTemplate><SegmentTimeline><S t="0" d="120120" r="1" /><S d="30030" /></SegmentTimeline></SegmentTemplate>
          </Representation></AdaptationSet>
          <AdaptationSet contentType="audio"><Representation id="1" codecs="mp4a.40.2" bandwidth="128000">
            <SegmentTemplate><SegmentTimeline><S t="0" d="1" /></SegmentTimeline></SegmentTemplate>
          </Representation></AdaptationSet></Period></MPD>"#;
        let reps = parse_mpd(xml).unwrap();
        assert_eq!(reps.len(), 2);
        assert_eq!(reps[0].segments, 3);
        assert_eq!((reps[0].width, reps[0].height), (1920, 1080));
        assert_eq!(reps[1].content_type, "audio");
        assert_eq!(reps[1].segments, 1);
        assert!(parse_mpd("<nope").is_err());
    }
}
