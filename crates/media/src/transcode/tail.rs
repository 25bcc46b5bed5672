//! No stream ends on a sliver (issue 15 §2): a final segment shorter than
//! [`SHORTEST_LAST_SEGMENT`] is folded into the one before it.
//!
//! ffmpeg's dash muxer cuts a stream whenever a key packet reaches the next multiple of the
//! segment duration, so a stream that runs a few milliseconds past a cut ends on a segment of
//! a frame or two: AAC's priming frame puts one 21 ms frame past the last cut of a clip whose
//! length is a multiple of the (audio) segment duration (6 s at 2 s cuts: 1.984, 2.005, 2.005,
//! 0.021 s), and a video a frame longer than a multiple of the keyframe cadence ends on a
//! one-frame segment. hls.js never loads a fragment that short (its look-up tolerance is
//! 0.25 s): the buffer ends short of the duration, `MediaSource` never ends, and playback sits
//! a few milliseconds before the end forever (no `ended`, no `loop`).
//!
//! The fold appends the tail's fragments (`moof` + `mdat`; its `styp` and `sidx` dropped) to
//! the segment before it — a CMAF segment may hold several fragments — extends that segment's
//! `sidx` over them, and gives the two one `EXTINF` in ffmpeg's HLS playlist and one `S` in
//! the MPD's timeline. Every path that writes segment lists runs it on ffmpeg's output before
//! reading it: one job (`video.rs`, `audio.rs`), a chunked encode's last chunk
//! (`chunked/encode.rs`) and its audio (`chunked/rest.rs`); progressive publishing holds back
//! the segments near the end that a fold could still change (`live.rs`, [`HOLD_BACK`]).

use super::chunked::mpd::{exact_durations, set_timeline, timelines};
use super::package::{media_playlist_name, repair_media_playlist};
use crate::error::{MediaError, Result};
use std::path::Path;

/// A final segment shorter than this (seconds) is folded into the one before it.
pub(crate) const SHORTEST_LAST_SEGMENT: f64 = 0.5;

/// Progressive publishing reports a segment only when it ends at least this long (seconds)
/// before the probed duration: a segment a later fold could still grow is never published
/// before its final bytes (segment names are never reused for other bytes). The margin over
/// [`SHORTEST_LAST_SEGMENT`] covers a probed duration a little off.
pub(crate) const HOLD_BACK: f64 = SHORTEST_LAST_SEGMENT + 0.5;

/// Folds the final segment of each of `streams` (output stream numbers, as ffmpeg named the
/// files in `stream_dir` and the representations of `mpd`) into the one before it when it is
/// shorter than [`SHORTEST_LAST_SEGMENT`]: files, ffmpeg's media playlist and the timeline.
/// Returns the MPD to use (write it back). A stream whose playlist is missing (an audio track
/// that produced nothing) is left to the caller; one whose fragments cannot be joined safely
/// is left as it is, with a warning.
pub(crate) async fn fold_short_tails(
    stream_dir: &Path,
    mpd: &str,
    streams: &[usize],
) -> Result<String> {
    let lines = timelines(mpd)?;
    let mut mpd = mpd.to_string();
    for &stream in streams {
        let name = media_playlist_name(stream);
        let text = match tokio::fs::read_to_string(stream_dir.join(&name)).await {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e.into()),
        };
        let parsed = repair_media_playlist(&text)
            .map_err(|e| MediaError::bad_output_from(name.clone(), e))?;
        let n = parsed.segments.len();
        let Some((tail_uri, tail)) = parsed.segments.last().filter(|_| n >= 2) else {
            continue;
        };
        if *tail >= SHORTEST_LAST_SEGMENT {
            continue;
        }
        let (prev_uri, prev) = &parsed.segments[n - 2];
        let Some(line) = lines.iter().find(|l| l.id == stream.to_string()) else {
            tracing::warn!(
                stream,
                "a short last segment without a timeline: not folded"
            );
            continue;
        };
        if line.segments.len() != n {
            tracing::warn!(
                stream,
                "the playlist and the MPD disagree on the segments: the short last one is not folded"
            );
            continue;
        }
        for uri in [prev_uri, tail_uri] {
            if uri.contains('/') || uri.contains('\\') || uri.starts_with('.') {
                return Err(MediaError::bad_output(format!(
                    "unexpected playlist URI {uri:?}"
                )));
            }
        }
        let before = tokio::fs::read(stream_dir.join(prev_uri)).await?;
        let last = tokio::fs::read(stream_dir.join(tail_uri)).await?;
        let Some(joined) = join_fragments(&before, &last) else {
            tracing::warn!(
                stream,
                "the short last segment's fragments cannot be joined: not folded"
            );
            continue;
        };
        let Some(folded) = fold_playlist(&text, prev + tail) else {
            continue;
        };
        // The joined segment first (under a temporary name, then renamed over the earlier
        // one), then the tail goes, then the lists that name them.
        let part = stream_dir.join(format!("{prev_uri}.fold"));
        tokio::fs::write(&part, &joined).await?;
        tokio::fs::rename(&part, stream_dir.join(prev_uri)).await?;
        tokio::fs::remove_file(stream_dir.join(tail_uri)).await?;
        tokio::fs::write(stream_dir.join(&name), folded).await?;
        let mut segments = line.segments.clone();
        if let Some((_, d)) = segments.pop() {
            if let Some(before) = segments.last_mut() {
                before.1 += d;
            }
        }
        mpd = set_timeline(&mpd, stream, &segments)?;
        tracing::debug!(
            stream,
            tail,
            "short last segment folded into the one before"
        );
    }
    // A joined segment may be the longest one now, and ffmpeg states both durations in
    // tenths (every path's MPD comes through here).
    exact_durations(&mpd)
}

/// ffmpeg's media playlist `text` with its last two segments as one of `seconds`, under the
/// earlier one's name, its target duration raised if the joined segment needs it (RFC 8216
/// §4.3.3.1: every `EXTINF`, rounded, at most the target; 4.3 + 0.3 s makes 5 over a 4).
/// `None` when it does not have two.
fn fold_playlist(text: &str, seconds: f64) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let is_uri = |l: &&str| !l.trim().is_empty() && !l.trim_start().starts_with('#');
    let last = lines.iter().rposition(is_uri)?;
    let prev = lines[..last].iter().rposition(is_uri)?;
    let prev_inf = lines[..prev]
        .iter()
        .rposition(|l| l.trim_start().starts_with("#EXTINF:"))?;
    let mut out = String::with_capacity(text.len());
    for (i, line) in lines.iter().enumerate() {
        if i == prev_inf {
            out.push_str(&format!("#EXTINF:{seconds:.6},\n"));
        } else if let Some(target) = line.strip_prefix("#EXT-X-TARGETDURATION:") {
            let target = target.trim().parse::<u64>().unwrap_or(0);
            let target = target.max(seconds.round() as u64);
            out.push_str(&format!("#EXT-X-TARGETDURATION:{target}\n"));
        } else if i <= prev || i > last {
            out.push_str(line);
            out.push('\n');
        }
    }
    Some(out)
}

/// `ffmpeg`'s playlist `text` cut after its first `count` segments (what progressive
/// publishing may report of it).
pub(crate) fn first_segments(text: &str, count: usize) -> String {
    let mut out = String::with_capacity(text.len());
    let mut seen = 0;
    for line in text.lines() {
        let is_uri = !line.trim().is_empty() && !line.trim_start().starts_with('#');
        if seen == count && (is_uri || line.starts_with("#EXTINF")) {
            break;
        }
        out.push_str(line);
        out.push('\n');
        if is_uri {
            seen += 1;
        }
    }
    out
}

/// How many of `durations` (a stream's segments in order, seconds) end at least
/// [`HOLD_BACK`] before `duration`: what progressive publishing may report.
pub(crate) fn reportable(durations: impl IntoIterator<Item = f64>, duration: f64) -> usize {
    let mut end = 0.0;
    durations
        .into_iter()
        .take_while(|d| {
            end += d;
            end + HOLD_BACK <= duration
        })
        .count()
}

/// `before` with the fragments of `tail` appended, its `sidx` (if any) extended over them.
/// `None` when that cannot be done safely: no fragment in `tail`, a track fragment whose data
/// offsets count from the file's start (`base-data-offset-present`), or a `sidx` of another
/// shape than ffmpeg's (one reference).
fn join_fragments(before: &[u8], tail: &[u8]) -> Option<Vec<u8>> {
    let mut appended = Vec::with_capacity(tail.len());
    let mut tail_sidx = None;
    let mut moofs = 0;
    for (kind, range) in top_boxes(tail)? {
        match &kind {
            b"styp" => {}
            b"sidx" => tail_sidx = tail_sidx.or(Some(range)),
            _ => {
                if &kind == b"moof" {
                    if absolute_offsets(&tail[range.clone()])? {
                        return None;
                    }
                    moofs += 1;
                }
                appended.extend_from_slice(&tail[range]);
            }
        }
    }
    if moofs == 0 {
        return None;
    }
    let mut out = before.to_vec();
    let boxes = top_boxes(before)?;
    if let Some((_, range)) = boxes.iter().find(|(k, _)| k == b"sidx") {
        let extra_duration = match tail_sidx {
            Some(r) => sidx_reference(&tail[r])?.1,
            None => return None,
        };
        let (at, _) = sidx_reference(&before[range.clone()])?;
        let at = range.start + at;
        let size = u32::from_be_bytes(out.get(at..at + 4)?.try_into().ok()?);
        let (kind_bit, referenced) = (size & 0x8000_0000, size & 0x7fff_ffff);
        let referenced = referenced.checked_add(u32::try_from(appended.len()).ok()?)?;
        if referenced > 0x7fff_ffff {
            return None;
        }
        out[at..at + 4].copy_from_slice(&(kind_bit | referenced).to_be_bytes());
        let d = u32::from_be_bytes(out.get(at + 4..at + 8)?.try_into().ok()?);
        out[at + 4..at + 8].copy_from_slice(&d.checked_add(extra_duration)?.to_be_bytes());
    }
    out.extend_from_slice(&appended);
    Some(out)
}

/// A `sidx` box (whole, header included) with exactly one reference: the offset of that
/// reference inside the box and its `subsegment_duration`.
fn sidx_reference(sidx: &[u8]) -> Option<(usize, u32)> {
    // size, type, version + flags, reference_ID, timescale, then the version's times.
    let version = *sidx.get(8)?;
    let times = if version == 0 { 8 } else { 16 };
    let count_at = 8 + 4 + 4 + 4 + times + 2;
    let count = u16::from_be_bytes(sidx.get(count_at..count_at + 2)?.try_into().ok()?);
    if count != 1 {
        return None;
    }
    let at = count_at + 2;
    let d = u32::from_be_bytes(sidx.get(at + 4..at + 8)?.try_into().ok()?);
    Some((at, d))
}

/// Whether a `moof` (whole box) has a track fragment whose data offsets count from the start
/// of the file (`tfhd` flag `base-data-offset-present`). `None`: malformed.
fn absolute_offsets(moof: &[u8]) -> Option<bool> {
    for (kind, traf) in top_boxes(moof.get(8..)?)? {
        if &kind != b"traf" {
            continue;
        }
        let traf = moof.get(8..)?.get(traf)?;
        for (kind, tfhd) in top_boxes(traf.get(8..)?)? {
            if &kind == b"tfhd" {
                let tfhd = traf.get(8..)?.get(tfhd)?;
                let flags = u32::from_be_bytes(tfhd.get(8..12)?.try_into().ok()?) & 0x00ff_ffff;
                if flags & 0x1 != 0 {
                    return Some(true);
                }
            }
        }
    }
    Some(false)
}

/// The top-level boxes of `data` as (type, byte range of the whole box). `None` when a box
/// header is malformed or runs past the end.
fn top_boxes(data: &[u8]) -> Option<Vec<([u8; 4], std::ops::Range<usize>)>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let header = data.get(at..at + 8)?;
        let size = u32::from_be_bytes(header[..4].try_into().ok()?) as u64;
        let kind: [u8; 4] = header[4..8].try_into().ok()?;
        let size = match size {
            0 => (data.len() - at) as u64,
            1 => u64::from_be_bytes(data.get(at + 8..at + 16)?.try_into().ok()?),
            n => n,
        };
        let end = at.checked_add(usize::try_from(size).ok()?)?;
        if size < 8 || end > data.len() {
            return None;
        }
        out.push((kind, at..end));
        at = end;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mp4_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    /// A segment as ffmpeg's dash muxer writes one: styp, sidx (one reference), moof, mdat.
    fn segment(tfhd_flags: u32, duration: u32, payload: &[u8]) -> Vec<u8> {
        let mut tfhd = 0u32.to_be_bytes().to_vec();
        tfhd[1..4].copy_from_slice(&tfhd_flags.to_be_bytes()[1..4]);
        tfhd.extend_from_slice(&1u32.to_be_bytes());
        let traf = mp4_box(b"traf", &mp4_box(b"tfhd", &tfhd));
        let moof = mp4_box(b"moof", &[mp4_box(b"mfhd", &[0; 8]), traf].concat());
        let mdat = mp4_box(b"mdat", payload);
        let mut sidx = vec![0, 0, 0, 0]; // version 0, flags
        sidx.extend_from_slice(&1u32.to_be_bytes()); // reference_ID
        sidx.extend_from_slice(&48000u32.to_be_bytes()); // timescale
        sidx.extend_from_slice(&0u32.to_be_bytes()); // earliest presentation time
        sidx.extend_from_slice(&0u32.to_be_bytes()); // first offset
        sidx.extend_from_slice(&[0, 0, 0, 1]); // reserved, reference_count
        sidx.extend_from_slice(&((moof.len() + mdat.len()) as u32).to_be_bytes());
        sidx.extend_from_slice(&duration.to_be_bytes());
        sidx.extend_from_slice(&0x9000_0000u32.to_be_bytes());
        [
            mp4_box(b"styp", b"msdh\0\0\0\0msdhmsix"),
            mp4_box(b"sidx", &sidx),
            moof,
            mdat,
        ]
        .concat()
    }

    #[test]
    fn fragments_are_appended_and_the_sidx_covers_them() {
        let before = segment(0x020000, 96256, b"earlier frames");
        let tail = segment(0x020000, 1024, b"one frame");
        let joined = join_fragments(&before, &tail).unwrap();
        let boxes = top_boxes(&joined).unwrap();
        let kinds: Vec<&[u8; 4]> = boxes.iter().map(|(k, _)| k).collect();
        assert_eq!(
            kinds,
            [b"styp", b"sidx", b"moof", b"mdat", b"moof", b"mdat"]
        );
        let tail_fragment = top_boxes(&tail).unwrap()[2].1.start;
        assert_eq!(joined.len(), before.len() + tail.len() - tail_fragment);
        assert!(joined.ends_with(b"one frame"));
        let (at, d) = sidx_reference(&joined[boxes[1].1.clone()]).unwrap();
        assert_eq!(d, 96256 + 1024);
        let at = boxes[1].1.start + at;
        let size = u32::from_be_bytes(joined[at..at + 4].try_into().unwrap());
        // The one reference spans both fragments, from the first moof to the end.
        assert_eq!(size as usize, joined.len() - boxes[2].1.start);
        // Data offsets from the file's start would point elsewhere once moved: left alone.
        assert_eq!(
            join_fragments(&before, &segment(0x000001, 1024, b"x")),
            None
        );
        // Nothing to append.
        assert_eq!(join_fragments(&before, &mp4_box(b"styp", b"msdh")), None);
        assert_eq!(join_fragments(&before, b"\0\0\0\x40moof"), None);
    }

    const PLAYLIST: &str = "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:1\n#EXT-X-MAP:URI=\"init-5.m4s\"\n#EXTINF:1.984000,\n#EXT-X-PROGRAM-DATE-TIME:2026-12-06T00:00:00.000+0000\nchunk-5-00001.m4s\n#EXTINF:2.005000,\n#EXT-X-PROGRAM-DATE-TIME:2026-12-06T00:00:01.984+0000\nchunk-5-00002.m4s\n#EXTINF:2.005000,\n#EXT-X-PROGRAM-DATE-TIME:2026-12-06T00:00:03.989+0000\nchunk-5-00003.m4s\n#EXTINF:0.021000,\n#EXT-X-PROGRAM-DATE-TIME:2026-12-06T00:00:05.994+0000\nchunk-5-00004.m4s\n#EXT-X-ENDLIST\n";

    #[test]
    fn playlists_lose_the_tail_and_its_time_goes_to_the_segment_before() {
        let folded = fold_playlist(PLAYLIST, 2.026).unwrap();
        let parsed = repair_media_playlist(&folded).unwrap();
        assert_eq!(
            parsed.segments,
            vec![
                ("chunk-5-00001.m4s".to_string(), 1.984),
                ("chunk-5-00002.m4s".to_string(), 2.005),
                ("chunk-5-00003.m4s".to_string(), 2.026),
            ]
        );
        assert!(
            folded.ends_with("chunk-5-00003.m4s\n#EXT-X-ENDLIST\n"),
            "{folded}"
        );
        assert!(!folded.contains("00004"));
        // ffmpeg's target duration is kept while the joined segment fits it...
        assert!(folded.contains("#EXT-X-TARGETDURATION:2\n"), "{folded}");
        // ...and raised when it does not (4.3 + 0.3 s rounds to 5).
        let longer = PLAYLIST
            .replace(
                "#EXTINF:2.005000,\n#EXT-X-PROGRAM-DATE-TIME:2026-12-06T00:00:03",
                "#EXTINF:4.300000,\n#EXT-X-PROGRAM-DATE-TIME:2026-12-06T00:00:03",
            )
            .replace("TARGETDURATION:2", "TARGETDURATION:4")
            .replace("#EXTINF:0.021000,", "#EXTINF:0.300000,");
        let folded = fold_playlist(&longer, 4.6).unwrap();
        assert!(folded.contains("#EXT-X-TARGETDURATION:5\n"), "{folded}");
        assert!(!folded.contains("#EXT-X-TARGETDURATION:4"), "{folded}");
        let parsed = repair_media_playlist(&folded).unwrap();
        assert_eq!(
            parsed.segments.last(),
            Some(&("chunk-5-00003.m4s".to_string(), 4.6))
        );
        assert_eq!(fold_playlist("#EXTM3U\n#EXTINF:1.0,\na.m4s\n", 1.0), None);
    }

    #[test]
    fn progressive_reports_stop_short_of_a_possible_fold() {
        let first_two = first_segments(PLAYLIST, 2);
        let parsed = repair_media_playlist(&first_two).unwrap();
        assert_eq!(parsed.segments.len(), 2);
        assert!(!first_two.contains("00003"));
        assert_eq!(
            first_segments(PLAYLIST, 0).lines().last(),
            Some("#EXT-X-MAP:URI=\"init-5.m4s\"")
        );
        // 6.016 s: the third segment ends 21 ms before the end and may still grow.
        let d = [1.984, 2.005, 2.005, 0.021];
        assert_eq!(reportable(d, 6.016), 2);
        // A longer source: they all end well before it.
        assert_eq!(reportable(d, 20.0), 4);
        assert_eq!(reportable([4.0], 4.5), 0);
    }
}
