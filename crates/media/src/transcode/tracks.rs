//! Which audio tracks to publish, in what order, under which language and name: a pure function
//! of the probe. Every source audio stream becomes one stereo AAC rendition; the source's
//! default track comes first (it is the one players pick), the rest keep their source order.

use super::package::{self, AudioRendition, MpdRepresentation, PlaylistStats};
use super::DASH_MANIFEST;
use crate::error::Result;
use crate::probe::{AudioInfo, ProbeInfo};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Channels of every published audio rendition: 5.1 and 7.1 are downmixed by ffmpeg's standard
/// matrix (`-ac 2`: centre and surrounds at -3 dB, LFE dropped).
pub const AUDIO_CHANNELS: u32 = 2;

/// A published audio track.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudioTrackInfo {
    /// Position in the published order, 0 being the default track.
    pub id: u32,
    /// ISO 639 code from the source's language tag (as the source spells it, lower case);
    /// `und` when the source says nothing usable.
    pub language: String,
    /// The source's title tag, else the language's English name, else `Audio N`.
    pub name: String,
    /// Channels as published (always stereo).
    pub channels: u32,
    /// The track players select first.
    pub default: bool,
}

/// A track to encode: where it comes from and what it will be published as.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PlannedTrack {
    /// The source stream (`-map 0:INDEX`).
    pub source_index: usize,
    pub info: AudioTrackInfo,
}

/// Plans every audio stream of `probe`: default first, names unique (an HLS group needs that).
pub(crate) fn plan(probe: &ProbeInfo) -> Vec<PlannedTrack> {
    let streams: &[AudioInfo] = &probe.audio_streams;
    let default_pos = streams.iter().position(|a| a.default).unwrap_or(0);
    let mut order: Vec<(usize, &AudioInfo)> = streams.iter().enumerate().collect();
    if default_pos < order.len() {
        let d = order.remove(default_pos);
        order.insert(0, d);
    }
    let mut out: Vec<PlannedTrack> = Vec::with_capacity(order.len());
    for (id, (source_pos, a)) in order.into_iter().enumerate() {
        let language = language_code(a.language.as_deref());
        let base = a
            .title
            .clone()
            .or_else(|| english_name(&language).map(str::to_string))
            .unwrap_or_else(|| format!("Audio {}", source_pos + 1));
        let mut name = base.clone();
        let mut n = 2;
        while out.iter().any(|t| t.info.name == name) {
            name = format!("{base} ({n})");
            n += 1;
        }
        out.push(PlannedTrack {
            source_index: a.index,
            info: AudioTrackInfo {
                id: id as u32,
                language,
                name,
                channels: AUDIO_CHANNELS,
                default: id == 0,
            },
        });
    }
    out
}

/// When ffmpeg failed because it could not find or open the decoder of one of `planned`'s
/// source streams (a codec this build does not have, a header it cannot read), that track is
/// removed (the next one becoming the default) and the warning for the item returned: the
/// caller runs ffmpeg again without it. `None` when the failure is anything else.
pub(crate) fn drop_undecodable(planned: &mut Vec<PlannedTrack>, stderr: &str) -> Option<String> {
    let stream = crate::diagnose::undecodable_stream(stderr)?;
    let pos = planned.iter().position(|t| t.source_index == stream)?;
    let track = planned.remove(pos);
    for (id, t) in planned.iter_mut().enumerate() {
        t.info.id = id as u32;
        t.info.default = id == 0;
    }
    tracing::warn!(
        stream,
        "no decoder for this audio track in this ffmpeg: left out"
    );
    Some(left_out(&track))
}

fn left_out(track: &PlannedTrack) -> String {
    format!(
        "audio track {} ({}, {}) could not be decoded and was left out",
        track.source_index, track.info.language, track.info.name
    )
}

/// An audio track as it went out: its final playlist and codecs.
pub(crate) struct PublishedTrack {
    pub info: AudioTrackInfo,
    pub stats: PlaylistStats,
    pub codecs: String,
}

pub(crate) struct PublishedAudio {
    /// Default first; ids renumbered in this order.
    pub tracks: Vec<PublishedTrack>,
    /// One line per source track left out, for the item.
    pub warnings: Vec<String>,
}

/// Finalises each audio track's playlist. A track ffmpeg could not decode produces no segment
/// at all (ffmpeg carries on with the other streams): it is left out of the MPD and the master,
/// its init segment removed, and a warning says so, rather than failing the whole video.
pub(crate) async fn publish_audio(
    out_dir: &Path,
    stream_dir: &Path,
    mpd: &str,
    first_stream: usize,
    planned: &[PlannedTrack],
    reps: &[&MpdRepresentation],
) -> Result<PublishedAudio> {
    let mut tracks = Vec::new();
    let mut warnings = Vec::new();
    let mut dead = Vec::new();
    for (i, (track, rep)) in planned.iter().zip(reps).enumerate() {
        let stream = first_stream + i;
        let playlist = stream_dir.join(package::media_playlist_name(stream));
        if rep.segments == 0 || !tokio::fs::try_exists(&playlist).await.unwrap_or(false) {
            tracing::warn!(
                stream = track.source_index,
                "audio track produced nothing: left out"
            );
            warnings.push(left_out(track));
            dead.push(stream);
            remove_if_exists(&stream_dir.join(format!("init-{stream}.m4s"))).await?;
            remove_if_exists(&playlist).await?;
            continue;
        }
        let stats = package::finalize_media_playlist(stream_dir, stream).await?;
        tracks.push(PublishedTrack {
            info: track.info.clone(),
            stats,
            codecs: rep.codecs.clone(),
        });
    }
    if !dead.is_empty() {
        let pruned = package::remove_adaptation_sets(mpd, &dead)?;
        tokio::fs::write(out_dir.join(DASH_MANIFEST), pruned).await?;
        // The first surviving track becomes the default.
        for (id, t) in tracks.iter_mut().enumerate() {
            t.info.id = id as u32;
            t.info.default = id == 0;
        }
    }
    Ok(PublishedAudio { tracks, warnings })
}

/// How a track appears in the HLS master; `uri: None` for a track carried by the variants.
pub(crate) fn rendition_of(t: &AudioTrackInfo, uri: Option<String>) -> AudioRendition {
    AudioRendition {
        uri,
        channels: t.channels,
        language: t.language.clone(),
        name: t.name.clone(),
        default: t.default,
    }
}

async fn remove_if_exists(path: &Path) -> Result<()> {
    match tokio::fs::remove_file(path).await {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok(()),
    }
}

/// The tag if it is an ISO 639 code (two or three letters, optionally with a region such as
/// `en-US`, which is cut), lower case; otherwise `und`.
pub fn language_code(tag: Option<&str>) -> String {
    let primary = tag
        .map(str::trim)
        .and_then(|t| t.split(['-', '_']).next())
        .unwrap_or("");
    if (2..=3).contains(&primary.len()) && primary.chars().all(|c| c.is_ascii_alphabetic()) {
        primary.to_ascii_lowercase()
    } else {
        "und".into()
    }
}

/// English names of the languages people most often tag, by ISO 639-1 and 639-2 (B and T)
/// code. A code not listed falls back to `Audio N`.
const LANGUAGES: &[(&[&str], &str)] = &[
    (&["en", "eng"], "English"),
    (&["es", "spa"], "Spanish"),
    (&["fr", "fre", "fra"], "French"),
    (&["de", "ger", "deu"], "German"),
    (&["it", "ita"], "Italian"),
    (&["pt", "por"], "Portuguese"),
    (&["nl", "dut", "nld"], "Dutch"),
    (&["sv", "swe"], "Swedish"),
    (&["no", "nor"], "Norwegian"),
    (&["nb", "nob"], "Norwegian Bokmål"),
    (&["da", "dan"], "Danish"),
    (&["fi", "fin"], "Finnish"),
    (&["is", "ice", "isl"], "Icelandic"),
    (&["pl", "pol"], "Polish"),
    (&["cs", "cze", "ces"], "Czech"),
    (&["sk", "slo", "slk"], "Slovak"),
    (&["hu", "hun"], "Hungarian"),
    (&["ro", "rum", "ron"], "Romanian"),
    (&["bg", "bul"], "Bulgarian"),
    (&["el", "gre", "ell"], "Greek"),
    (&["ru", "rus"], "Russian"),
    (&["uk", "ukr"], "Ukrainian"),
    (&["hr", "hrv"], "Croatian"),
    (&["sr", "srp"], "Serbian"),
    (&["sl", "slv"], "Slovenian"),
    (&["tr", "tur"], "Turkish"),
    (&["ar", "ara"], "Arabic"),
    (&["he", "heb"], "Hebrew"),
    (&["fa", "per", "fas"], "Persian"),
    (&["hi", "hin"], "Hindi"),
    (&["bn", "ben"], "Bengali"),
    (&["ta", "tam"], "Tamil"),
    (&["ur", "urd"], "Urdu"),
    (&["zh", "chi", "zho"], "Chinese"),
    (&["ja", "jpn"], "Japanese"),
    (&["ko", "kor"], "Korean"),
    (&["vi", "vie"], "Vietnamese"),
    (&["th", "tha"], "Thai"),
    (&["id", "ind"], "Indonesian"),
    (&["ms", "may", "msa"], "Malay"),
    (&["ca", "cat"], "Catalan"),
    (&["eu", "baq", "eus"], "Basque"),
    (&["gl", "glg"], "Galician"),
    (&["ga", "gle"], "Irish"),
    (&["cy", "wel", "cym"], "Welsh"),
    (&["la", "lat"], "Latin"),
    (&["sw", "swa"], "Swahili"),
    (&["tl", "tgl"], "Tagalog"),
];

/// The English name of an ISO 639 code, when it is a common one.
pub fn english_name(code: &str) -> Option<&'static str> {
    LANGUAGES
        .iter()
        .find(|(codes, _)| codes.contains(&code))
        .map(|(_, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(index: usize, lang: Option<&str>, title: Option<&str>, default: bool) -> AudioInfo {
        AudioInfo {
            index,
            codec: "aac".into(),
            channels: 2,
            sample_rate: 48000,
            bit_rate: None,
            duration: None,
            language: lang.map(str::to_string),
            title: title.map(str::to_string),
            default,
        }
    }

    fn probe(streams: Vec<AudioInfo>) -> ProbeInfo {
        ProbeInfo {
            format_name: "matroska,webm".into(),
            duration: Some(3.0),
            size: 1,
            bit_rate: None,
            video: None,
            audio: streams.first().cloned(),
            audio_streams: streams,
            subtitle_streams: Vec::new(),
        }
    }

    #[test]
    fn default_first_then_source_order_with_names() {
        let p = probe(vec![
            stream(1, Some("eng"), None, false),
            stream(2, Some("spa"), Some("Español"), true),
            stream(3, None, None, false),
            stream(4, Some("xx-YY"), None, false),
            stream(5, Some("english please"), None, false),
        ]);
        let got: Vec<_> = plan(&p)
            .into_iter()
            .map(|t| {
                (
                    t.source_index,
                    t.info.id,
                    t.info.language,
                    t.info.name,
                    t.info.default,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (2, 0, "spa".into(), "Español".into(), true),
                (1, 1, "eng".into(), "English".into(), false),
                (3, 2, "und".into(), "Audio 3".into(), false),
                (4, 3, "xx".into(), "Audio 4".into(), false),
                (5, 4, "und".into(), "Audio 5".into(), false),
            ]
        );
    }

    #[test]
    fn a_track_without_a_decoder_is_dropped_and_the_next_is_default() {
        let mut t = plan(&probe(vec![
            stream(1, Some("eng"), None, true),
            stream(2, Some("spa"), None, false),
            stream(3, Some("fra"), None, false),
        ]));
        let stderr = "Decoder (codec none) not found for input stream #0:1";
        let warning = drop_undecodable(&mut t, stderr).unwrap();
        assert!(
            warning.contains("audio track 1 (eng, English)"),
            "{warning}"
        );
        let got: Vec<_> = t
            .iter()
            .map(|t| (t.source_index, t.info.id, t.info.default))
            .collect();
        assert_eq!(got, vec![(2, 0, true), (3, 1, false)]);
        // The video stream, or a failure naming no stream, is not the audio's to fix.
        assert!(
            drop_undecodable(&mut t, "Decoder (codec x) not found for input stream #0:0").is_none()
        );
        assert!(drop_undecodable(&mut t, "Conversion failed!").is_none());
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn no_default_keeps_the_first_and_names_stay_unique() {
        let p = probe(vec![
            stream(0, Some("ENG"), None, false),
            stream(1, Some("en"), None, false),
        ]);
        let t = plan(&p);
        assert_eq!(t[0].source_index, 0);
        assert!(t[0].info.default && !t[1].info.default);
        assert_eq!(t[0].info.language, "eng");
        assert_eq!(t[0].info.name, "English");
        assert_eq!(t[1].info.name, "English (2)");
        assert!(plan(&probe(vec![])).is_empty());
    }
}
