//! Text tracks from the source's subtitle streams: every text-based stream (mov_text, SubRip,
//! ASS/SSA, WebVTT…) becomes a WebVTT file with a one-segment HLS media playlist, a
//! `SUBTITLES` rendition in the HLS master and a text adaptation set in the MPD.
//! Picture-based streams (PGS, DVD, DVB…) cannot become text: they are left out with a warning.
//!
//! The conversion is its own ffmpeg run, demux-only (no video is decoded), run beside the encode
//! and only when there is a text stream, so a source without one costs exactly what it did. A
//! stream that fails to convert is left out with a warning; it never fails the item.

use super::tracks::{english_name, language_code};
use super::video::Args;
use super::{DASH_MANIFEST, STREAM_DIR};
use crate::error::{MediaError, Result};
use crate::probe::{file_url, ProbeInfo, SubtitleInfo};
use crate::process::{self, Budget};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The HLS group every variant names (`SUBTITLES="subs"`).
pub const TEXT_GROUP: &str = "subs";
/// HLS `CHARACTERISTICS` of a captions track (RFC 8216 4.3.4.1; Apple's accessibility UTIs).
pub const CAPTIONS_CHARACTERISTICS: &str =
    "public.accessibility.transcribes-spoken-dialog,public.accessibility.describes-music-and-sound";
/// The DASH `bandwidth` of a text representation: nominal, the file is fetched whole.
const TEXT_BANDWIDTH: u32 = 256;
/// Scratch directory (inside the output directory) for ffmpeg's WebVTT before it is published.
const SCRATCH_DIR: &str = ".subtitles";

/// Codecs ffmpeg decodes to text, hence can write as WebVTT.
const TEXT_CODECS: &[&str] = &[
    "mov_text",
    "subrip",
    "srt",
    "ass",
    "ssa",
    "webvtt",
    "text",
    "microdvd",
    "mpl2",
    "jacosub",
    "realtext",
    "sami",
    "stl",
    "subviewer",
    "subviewer1",
    "vplayer",
    "pjs",
    "eia_608",
];
/// Picture-based codecs, by the name a user knows them under.
const PICTURE_CODECS: &[(&str, &str)] = &[
    ("hdmv_pgs_subtitle", "PGS"),
    ("dvd_subtitle", "DVD/VobSub"),
    ("dvb_subtitle", "DVB"),
    ("xsub", "XSUB"),
];

/// Whether a text track transcribes speech only or also sounds and speakers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TextKind {
    Subtitles,
    Captions,
}

/// A published text track: `stream/text-{id}.vtt` and `stream/text-{id}.m3u8`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextTrackInfo {
    /// `s0`, `s1`… in source order among the published streams.
    pub id: String,
    /// ISO 639 code from the source's tag, `und` when it has none.
    pub language: String,
    /// The stream's title, else the language's English name, else `Subtitles N`.
    pub label: String,
    pub kind: TextKind,
}

/// A text track's WebVTT file, relative to the output directory.
pub fn text_track_vtt(id: &str) -> String {
    format!("{STREAM_DIR}/text-{id}.vtt")
}

/// A text track's HLS media playlist, relative to the output directory.
pub fn text_track_playlist(id: &str) -> String {
    format!("{STREAM_DIR}/text-{id}.m3u8")
}

/// A stream to convert.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PlannedText {
    /// The source stream (`-map 0:INDEX`).
    pub source_index: usize,
    /// 1-based among the source's subtitle streams (what a user counts).
    pub position: usize,
    /// What it will be published as (the id is final only once it converted).
    pub info: TextTrackInfo,
}

/// Which subtitle streams become text tracks, and a warning per stream that cannot.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct TextPlan {
    pub tracks: Vec<PlannedText>,
    pub warnings: Vec<String>,
}

/// Plans every subtitle stream of `probe`: text ones in source order, labels unique (an HLS group
/// needs that), the others left out with a warning.
pub(crate) fn plan(probe: &ProbeInfo) -> TextPlan {
    let mut plan = TextPlan::default();
    for (i, s) in probe.subtitle_streams.iter().enumerate() {
        let position = i + 1;
        let language = language_code(s.language.as_deref());
        if !TEXT_CODECS.contains(&s.codec.as_str()) {
            plan.warnings.push(unconvertible(position, &language, s));
            continue;
        }
        let n = plan.tracks.len();
        let base = s
            .title
            .clone()
            .or_else(|| english_name(&language).map(str::to_string))
            .unwrap_or_else(|| format!("Subtitles {}", n + 1));
        let mut label = base.clone();
        let mut k = 2;
        while plan.tracks.iter().any(|t| t.info.label == label) {
            label = format!("{base} ({k})");
            k += 1;
        }
        plan.tracks.push(PlannedText {
            source_index: s.index,
            position,
            info: TextTrackInfo {
                id: format!("s{n}"),
                language,
                label,
                kind: if s.captions {
                    TextKind::Captions
                } else {
                    TextKind::Subtitles
                },
            },
        });
    }
    plan
}

fn unconvertible(position: usize, language: &str, s: &SubtitleInfo) -> String {
    match PICTURE_CODECS.iter().find(|(codec, _)| *codec == s.codec) {
        Some((_, name)) => format!(
            "subtitle track {position} ({language}) is a picture-based format ({name}) and was left out"
        ),
        None if s.codec.is_empty() => format!(
            "subtitle track {position} ({language}) is in a format that could not be read and was left out"
        ),
        None => format!(
            "subtitle track {position} ({language}) is in a format that cannot be turned into text ({}) and was left out",
            s.codec
        ),
    }
}

/// What the conversion run produced: per planned track, its WebVTT text, or `None` when it
/// failed (then a warning says so).
#[derive(Debug, Default)]
pub(crate) struct Extracted {
    converted: Vec<(PlannedText, String)>,
    warnings: Vec<String>,
}

/// Converts the planned streams of `input` to WebVTT in one demux-only ffmpeg run (nothing runs
/// when there is none). When that run fails, each stream is tried alone, so one broken stream
/// costs only itself. Errors only on cancellation, timeout or local I/O.
pub(crate) async fn extract(
    input: &Path,
    out_dir: &Path,
    plan: &TextPlan,
    budget: &Budget,
) -> Result<Extracted> {
    extract_from(file_url(input).as_os_str(), out_dir, plan, budget).await
}

/// [`extract`] from what ffmpeg opens: a `file:` path or a URL (a chunked encode's rest job).
pub(crate) async fn extract_from(
    input: &std::ffi::OsStr,
    out_dir: &Path,
    plan: &TextPlan,
    budget: &Budget,
) -> Result<Extracted> {
    let mut extracted = Extracted {
        converted: Vec::new(),
        warnings: plan.warnings.clone(),
    };
    if plan.tracks.is_empty() {
        return Ok(extracted);
    }
    let scratch = out_dir.join(SCRATCH_DIR);
    match tokio::fs::remove_dir_all(&scratch).await {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
        _ => {}
    }
    tokio::fs::create_dir_all(&scratch).await?;
    let all: Vec<&PlannedText> = plan.tracks.iter().collect();
    let together = convert(input, &scratch, &all, budget).await?;
    for track in &plan.tracks {
        let text = if together {
            read_vtt(&scratch, track).await?
        } else {
            // Alone, so that its failure is its own.
            if convert(input, &scratch, &[track], budget).await? {
                read_vtt(&scratch, track).await?
            } else {
                None
            }
        };
        match text {
            Some(text) => extracted.converted.push((track.clone(), text)),
            None => {
                tracing::warn!(
                    stream = track.source_index,
                    "subtitle stream could not be converted: left out"
                );
                extracted.warnings.push(format!(
                    "subtitle track {} ({}, {}) could not be converted to WebVTT and was left out",
                    track.position, track.info.language, track.info.label
                ));
            }
        }
    }
    let _ = tokio::fs::remove_dir_all(&scratch).await;
    Ok(extracted)
}

fn scratch_file(scratch: &Path, track: &PlannedText) -> PathBuf {
    scratch.join(format!("{}.vtt", track.source_index))
}

/// One ffmpeg run writing each of `tracks` as WebVTT; whether it succeeded.
async fn convert(
    input: &std::ffi::OsStr,
    scratch: &Path,
    tracks: &[&PlannedText],
    budget: &Budget,
) -> Result<bool> {
    let mut a = Args::default();
    a.push_all(["-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-i"]);
    a.push(input);
    for t in tracks {
        a.push_all(["-map", &format!("0:{}", t.source_index)]);
        a.push_all(["-c:s", "webvtt", "-map_metadata", "-1", "-f", "webvtt"]);
        a.push(file_url(&scratch_file(scratch, t)));
    }
    let finished = process::run("ffmpeg", &a.0, "ffmpeg subtitles", budget, |_| {}).await?;
    if !finished.success() {
        tracing::warn!(
            error = %finished.stderr_tail,
            streams = tracks.len(),
            "ffmpeg could not convert subtitles"
        );
    }
    Ok(finished.success())
}

/// The WebVTT ffmpeg wrote for `track`, if it is WebVTT with at least one cue (a stream none of
/// whose packets decoded comes out as a bare header: nothing to offer a viewer).
async fn read_vtt(scratch: &Path, track: &PlannedText) -> Result<Option<String>> {
    match tokio::fs::read(scratch_file(scratch, track)).await {
        Ok(bytes) => Ok(with_timestamp_map(&String::from_utf8_lossy(&bytes))
            .filter(|vtt| vtt.lines().any(|l| l.contains("-->")))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The header that says the cue times are on the media's own timeline (RFC 8216 3.5: cue time
/// 0 is media timestamp 0). They are: ffmpeg moved the cues by the same input offset as the
/// encode's streams, whose fMP4 decode times start at 0. Written out rather than left implicit
/// because players differ in what they assume without it.
const TIMESTAMP_MAP: &str = "X-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000";

/// `vtt` with [`TIMESTAMP_MAP`] in its header, if it is WebVTT.
fn with_timestamp_map(vtt: &str) -> Option<String> {
    let vtt = vtt.strip_prefix('\u{feff}').unwrap_or(vtt);
    let (first, rest) = vtt.split_once('\n').unwrap_or((vtt, ""));
    let first = first.trim_end_matches('\r');
    if first != "WEBVTT" && !first.starts_with("WEBVTT ") && !first.starts_with("WEBVTT\t") {
        return None;
    }
    let rest = rest
        .lines()
        .filter(|l| !l.starts_with("X-TIMESTAMP-MAP="))
        .collect::<Vec<_>>()
        .join("\n");
    Some(format!("{first}\n{TIMESTAMP_MAP}\n{rest}\n"))
}

/// The published text tracks and every warning about the source's subtitle streams.
#[derive(Debug, Default)]
pub(crate) struct PublishedText {
    pub tracks: Vec<TextTrackInfo>,
    pub warnings: Vec<String>,
}

/// Writes each converted track's WebVTT file and playlist (ids renumbered over what converted,
/// in source order), and names them in the HLS master and the MPD under `out_dir`.
/// `duration` is the media's, as packaged.
pub(crate) async fn publish(
    out_dir: &Path,
    extracted: Extracted,
    duration: f64,
) -> Result<PublishedText> {
    let published = write_tracks(out_dir, extracted, duration).await?;
    let tracks = &published.tracks;
    if !tracks.is_empty() {
        let master_path = out_dir.join(super::HLS_MASTER);
        let master = tokio::fs::read_to_string(&master_path).await?;
        tokio::fs::write(&master_path, add_to_master(&master, tracks)).await?;
        let mpd_path = out_dir.join(DASH_MANIFEST);
        let mpd = tokio::fs::read_to_string(&mpd_path).await?;
        tokio::fs::write(&mpd_path, add_to_mpd(&mpd, tracks)?).await?;
    }
    Ok(published)
}

/// The files half of [`publish`]: each converted track's WebVTT file and playlist, without
/// touching the master or the MPD (a chunked encode's rest job, whose final step names them).
pub(crate) async fn write_tracks(
    out_dir: &Path,
    extracted: Extracted,
    duration: f64,
) -> Result<PublishedText> {
    let mut tracks = Vec::with_capacity(extracted.converted.len());
    for (n, (planned, vtt)) in extracted.converted.into_iter().enumerate() {
        let mut info = planned.info;
        info.id = format!("s{n}");
        tokio::fs::write(out_dir.join(text_track_vtt(&info.id)), vtt).await?;
        tokio::fs::write(
            out_dir.join(text_track_playlist(&info.id)),
            media_playlist(file_name(&text_track_vtt(&info.id)), duration),
        )
        .await?;
        tracks.push(info);
    }
    Ok(PublishedText {
        tracks,
        warnings: extracted.warnings,
    })
}

/// The last path segment: manifests name their files relative to the stream folder.
fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// A VOD media playlist whose one segment is the whole WebVTT file.
pub fn media_playlist(vtt: &str, duration: f64) -> String {
    let duration = if duration.is_finite() && duration > 0.0 {
        duration
    } else {
        0.0
    };
    let target = (duration.ceil() as u64).max(1);
    format!(
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-TARGETDURATION:{target}\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:{duration:.6},\n{vtt}\n#EXT-X-ENDLIST\n"
    )
}

/// A quoted-string attribute's value: no `"` and no line breaks (RFC 8216 4.2).
fn quoted(s: &str) -> String {
    s.chars()
        .map(|c| if c == '"' { '\'' } else { c })
        .filter(|c| !c.is_control())
        .collect()
}

/// One `EXT-X-MEDIA:TYPE=SUBTITLES` line per track, before the first variant, and
/// `SUBTITLES="subs"` on every variant.
pub fn add_to_master(master: &str, tracks: &[TextTrackInfo]) -> String {
    if tracks.is_empty() {
        return master.to_string();
    }
    let mut media = String::new();
    for t in tracks {
        let _ = write!(
            media,
            "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"{TEXT_GROUP}\",LANGUAGE=\"{}\",NAME=\"{}\",DEFAULT=NO,AUTOSELECT=YES",
            quoted(&t.language),
            quoted(&t.label),
        );
        if t.kind == TextKind::Captions {
            let _ = write!(media, ",CHARACTERISTICS=\"{CAPTIONS_CHARACTERISTICS}\"");
        }
        let _ = writeln!(media, ",URI=\"{}\"", file_name(&text_track_playlist(&t.id)));
    }
    media.push('\n');
    let mut out = String::with_capacity(master.len() + media.len());
    let mut inserted = false;
    for line in master.lines() {
        if let Some(attrs) = line.strip_prefix("#EXT-X-STREAM-INF:") {
            if !inserted {
                out.push_str(&media);
                inserted = true;
            }
            let _ = writeln!(out, "#EXT-X-STREAM-INF:{attrs},SUBTITLES=\"{TEXT_GROUP}\"");
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    if !inserted {
        out.push_str(&media);
    }
    out
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 allows no other control characters.
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// One text adaptation set per track, after the period's other sets.
pub fn add_to_mpd(mpd: &str, tracks: &[TextTrackInfo]) -> Result<String> {
    if tracks.is_empty() {
        return Ok(mpd.to_string());
    }
    const CLOSE: &str = "</Period>";
    let at = mpd
        .rfind(CLOSE)
        .ok_or_else(|| MediaError::bad_output("the MPD has no Period"))?;
    // Indented like ffmpeg's own sets.
    let mut sets = String::new();
    for t in tracks {
        let role = match t.kind {
            TextKind::Subtitles => "subtitle",
            TextKind::Captions => "caption",
        };
        let name = file_name(&text_track_vtt(&t.id)).to_string();
        let _ = write!(
            sets,
            "\t\t<AdaptationSet contentType=\"text\" mimeType=\"text/vtt\" lang=\"{}\">\n\
             \t\t\t<Label>{}</Label>\n\
             \t\t\t<Role schemeIdUri=\"urn:mpeg:dash:role:2011\" value=\"{role}\"/>\n\
             \t\t\t<Representation id=\"text-{}\" bandwidth=\"{TEXT_BANDWIDTH}\">\n\
             \t\t\t\t<BaseURL>{}</BaseURL>\n\
             \t\t\t</Representation>\n\
             \t\t</AdaptationSet>\n",
            xml_escape(&t.language),
            xml_escape(&t.label),
            xml_escape(&t.id),
            xml_escape(&name),
        );
    }
    let line_start = mpd[..at].rfind('\n').map(|i| i + 1).unwrap_or(at);
    let at = if mpd[line_start..at].trim().is_empty() {
        line_start
    } else {
        at
    };
    let out = format!("{}{sets}{}", &mpd[..at], &mpd[at..]);
    roxmltree::Document::parse(&out)
        .map_err(|e| MediaError::bad_output_from("the MPD with text tracks is not XML", e))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(index: usize, codec: &str, lang: Option<&str>, title: Option<&str>) -> SubtitleInfo {
        SubtitleInfo {
            index,
            codec: codec.into(),
            language: lang.map(str::to_string),
            title: title.map(str::to_string),
            captions: false,
        }
    }

    fn probe(subs: Vec<SubtitleInfo>) -> ProbeInfo {
        ProbeInfo {
            format_name: "matroska,webm".into(),
            duration: Some(3.0),
            size: 1,
            bit_rate: None,
            video: None,
            audio: None,
            audio_streams: Vec::new(),
            subtitle_streams: subs,
        }
    }

    #[test]
    fn text_streams_kept_in_order_pictures_left_out_with_words() {
        let mut sdh = sub(5, "ass", Some("eng"), None);
        sdh.captions = true;
        let p = plan(&probe(vec![
            sub(2, "subrip", Some("eng"), None),
            sub(3, "hdmv_pgs_subtitle", Some("fra"), None),
            sub(4, "mov_text", None, None),
            sdh,
            sub(6, "dvb_teletext", Some("deu"), None),
            sub(7, "webvtt", Some("spa"), Some("Español \"forced\"")),
        ]));
        let got: Vec<_> = p
            .tracks
            .iter()
            .map(|t| {
                (
                    t.source_index,
                    t.info.id.as_str(),
                    t.info.language.as_str(),
                    t.info.label.as_str(),
                    t.info.kind,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (2, "s0", "eng", "English", TextKind::Subtitles),
                (4, "s1", "und", "Subtitles 2", TextKind::Subtitles),
                (5, "s2", "eng", "English (2)", TextKind::Captions),
                (7, "s3", "spa", "Español \"forced\"", TextKind::Subtitles),
            ]
        );
        assert_eq!(
            p.warnings,
            vec![
                "subtitle track 2 (fra) is a picture-based format (PGS) and was left out",
                "subtitle track 5 (deu) is in a format that cannot be turned into text (dvb_teletext) and was left out",
            ]
        );
        assert_eq!(plan(&probe(vec![])), TextPlan::default());
    }

    fn track(id: &str, language: &str, label: &str, kind: TextKind) -> TextTrackInfo {
        TextTrackInfo {
            id: id.into(),
            language: language.into(),
            label: label.into(),
            kind,
        }
    }

    #[test]
    fn master_names_the_group_on_every_variant() {
        let master = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",LANGUAGE=\"eng\",NAME=\"English\",DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"2\",URI=\"media_2.m3u8\"\n\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"avc1\",AUDIO=\"audio\"\nmedia_0.m3u8\n\n#EXT-X-STREAM-INF:BANDWIDTH=2,CODECS=\"avc1\",AUDIO=\"audio\"\nmedia_1.m3u8\n\n";
        let out = add_to_master(
            master,
            &[
                track("s0", "eng", "English", TextKind::Subtitles),
                track("s1", "spa", "Sub\"títulos\n", TextKind::Captions),
            ],
        );
        assert_eq!(
            out,
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",LANGUAGE=\"eng\",NAME=\"English\",DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"2\",URI=\"media_2.m3u8\"\n\n\
             #EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",LANGUAGE=\"eng\",NAME=\"English\",DEFAULT=NO,AUTOSELECT=YES,URI=\"text-s0.m3u8\"\n\
             #EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",LANGUAGE=\"spa\",NAME=\"Sub'títulos\",DEFAULT=NO,AUTOSELECT=YES,CHARACTERISTICS=\"public.accessibility.transcribes-spoken-dialog,public.accessibility.describes-music-and-sound\",URI=\"text-s1.m3u8\"\n\n\
             #EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"avc1\",AUDIO=\"audio\",SUBTITLES=\"subs\"\nmedia_0.m3u8\n\n\
             #EXT-X-STREAM-INF:BANDWIDTH=2,CODECS=\"avc1\",AUDIO=\"audio\",SUBTITLES=\"subs\"\nmedia_1.m3u8\n\n"
        );
        assert_eq!(add_to_master(master, &[]), master);
    }

    #[test]
    fn timestamp_map_in_the_header() {
        assert_eq!(
            with_timestamp_map("WEBVTT\n\n00:01.000 --> 00:02.000\nHi\n").unwrap(),
            "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n00:01.000 --> 00:02.000\nHi\n"
        );
        assert_eq!(
            with_timestamp_map("\u{feff}WEBVTT\r\nX-TIMESTAMP-MAP=MPEGTS:9,LOCAL:00:00:00.000\n\n")
                .unwrap(),
            "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n"
        );
        assert_eq!(with_timestamp_map("WEBVTTX\n"), None);
        assert_eq!(with_timestamp_map(""), None);
    }

    #[test]
    fn playlist_is_one_whole_file_segment() {
        assert_eq!(
            media_playlist("text-s0.vtt", 6.04),
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-TARGETDURATION:7\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:6.040000,\ntext-s0.vtt\n#EXT-X-ENDLIST\n"
        );
        assert!(media_playlist("x.vtt", f64::NAN).contains("#EXT-X-TARGETDURATION:1\n"));
    }

    #[test]
    fn mpd_gets_one_text_set_per_track() {
        let mpd = "<?xml version=\"1.0\"?>\n<MPD>\n\t<Period id=\"0\" start=\"PT0.0S\">\n\t\t<AdaptationSet id=\"0\" contentType=\"video\"></AdaptationSet>\n\t</Period>\n</MPD>\n";
        let out = add_to_mpd(
            mpd,
            &[
                track("s0", "eng", "English", TextKind::Subtitles),
                track("s1", "fra", "Français <SDH> & co", TextKind::Captions),
            ],
        )
        .unwrap();
        let doc = roxmltree::Document::parse(&out).unwrap();
        let period = doc
            .descendants()
            .find(|n| n.has_tag_name("Period"))
            .unwrap();
        let sets: Vec<_> = period
            .children()
            .filter(|n| n.has_tag_name("AdaptationSet"))
            .collect();
        assert_eq!(sets.len(), 3);
        let text: Vec<_> = sets[1..]
            .iter()
            .map(|s| {
                assert_eq!(s.attribute("contentType"), Some("text"));
                assert_eq!(s.attribute("mimeType"), Some("text/vtt"));
                let child = |name: &str| s.children().find(|n| n.has_tag_name(name)).unwrap();
                let role = child("Role");
                assert_eq!(
                    role.attribute("schemeIdUri"),
                    Some("urn:mpeg:dash:role:2011")
                );
                let rep = child("Representation");
                assert_eq!(rep.attribute("bandwidth"), Some("256"));
                let base = rep.children().find(|n| n.has_tag_name("BaseURL")).unwrap();
                (
                    s.attribute("lang").unwrap(),
                    child("Label").text().unwrap(),
                    role.attribute("value").unwrap(),
                    rep.attribute("id").unwrap(),
                    base.text().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            text,
            vec![
                ("eng", "English", "subtitle", "text-s0", "text-s0.vtt"),
                (
                    "fra",
                    "Français <SDH> & co",
                    "caption",
                    "text-s1",
                    "text-s1.vtt"
                ),
            ]
        );
        assert!(out.ends_with("\t</Period>\n</MPD>\n"), "{out}");
        assert!(add_to_mpd("<MPD/>", &[track("s0", "eng", "E", TextKind::Subtitles)]).is_err());
    }
}
