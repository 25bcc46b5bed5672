//! Uploaded text tracks added to a ready item's stored HLS master and DASH manifest as they are
//! served, so that a track is published (or withdrawn) at once, without re-encoding or
//! rewriting stored files. Pure text in, text out.
//!
//! HLS (RFC 8216 §4.3.4.1–2): one `EXT-X-MEDIA:TYPE=SUBTITLES` per track in the group
//! [`GROUP`] — the group the source's own subtitle streams use, so a master that already has it
//! gets only the new renditions — and `SUBTITLES="subs"` on every variant that names no group.
//! DASH: one text `AdaptationSet` per track before the period ends.

use mediaserver_core::{TextTrack, TextTrackKind};
use std::fmt::Write as _;

/// The HLS subtitles group every text track is in.
pub(crate) const GROUP: &str = "subs";

/// A value for an HLS quoted-string attribute, which may not hold `"`, CR or LF.
fn hls_quoted(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '"' => '\'',
            '\r' | '\n' => ' ',
            c => c,
        })
        .collect()
}

/// `master` with `tracks` added (unchanged when there are none).
pub(crate) fn hls_master(master: &str, tracks: &[TextTrack]) -> String {
    if tracks.is_empty() {
        return master.to_string();
    }
    // RFC 8216 §4.3.4.1.1: every rendition of a group has its own NAME — the source's tracks
    // are already in the group, and an owner may upload two tracks with one label.
    let mut names: Vec<String> = master
        .lines()
        .filter_map(|l| l.strip_prefix("#EXT-X-MEDIA:"))
        .filter(|a| attribute(a, "TYPE") == Some("SUBTITLES"))
        .filter(|a| attribute(a, "GROUP-ID") == Some(GROUP))
        .filter_map(|a| attribute(a, "NAME").map(str::to_string))
        .collect();
    let mut media = String::new();
    for t in tracks {
        let label = hls_quoted(&t.label);
        let name = (1..)
            .map(|n| match n {
                1 => label.clone(),
                n => format!("{label} ({n})"),
            })
            .find(|candidate| !names.contains(candidate))
            .unwrap_or(label);
        let _ = write!(
            media,
            "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"{GROUP}\",LANGUAGE=\"{}\",NAME=\"{name}\",DEFAULT=NO,AUTOSELECT=YES,",
            hls_quoted(&t.language),
        );
        names.push(name);
        if t.kind == TextTrackKind::Captions {
            media.push_str("CHARACTERISTICS=\"public.accessibility.transcribes-spoken-dialog,public.accessibility.describes-music-and-sound\",");
        }
        let _ = writeln!(media, "URI=\"text-{}.m3u8\"", t.id);
    }
    let mut out = String::with_capacity(master.len() + media.len() + 64);
    let mut inserted = false;
    for line in master.lines() {
        if let Some(attrs) = line.strip_prefix("#EXT-X-STREAM-INF:") {
            if !inserted {
                out.push_str(&media);
                inserted = true;
            }
            out.push_str(line);
            if !has_attribute(attrs, "SUBTITLES") {
                let _ = write!(out, ",SUBTITLES=\"{GROUP}\"");
            }
            out.push('\n');
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    if !inserted {
        // No variant at all (nothing a player could pick): the renditions at the end still
        // describe the item.
        out.push_str(&media);
    }
    out
}

/// The value of attribute `name` in an attribute list, without its quotes.
fn attribute<'a>(attrs: &'a str, name: &str) -> Option<&'a str> {
    let mut in_quotes = false;
    let mut start = 0;
    for (i, c) in attrs.char_indices().chain([(attrs.len(), ',')]) {
        match c {
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => {
                if let Some((key, value)) = attrs[start..i].split_once('=') {
                    if key == name {
                        return Some(value.trim_matches('"'));
                    }
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    None
}

/// Whether an attribute list names `name` (outside quoted values).
fn has_attribute(attrs: &str, name: &str) -> bool {
    let mut in_quotes = false;
    let mut start = 0;
    for (i, c) in attrs.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => {
                if attrs[start..i].split('=').next() == Some(name) {
                    return true;
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    attrs[start..].split('=').next() == Some(name)
}

/// The one-segment HLS media playlist of text track `id` on an item `duration_ms` long (RFC 8216
/// §3.5: the whole WebVTT file is its one segment).
pub(crate) fn media_playlist(id: &str, duration_ms: u64) -> String {
    let secs = duration_ms as f64 / 1000.0;
    format!(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:{}\n#EXT-X-MEDIA-SEQUENCE:0\n\
         #EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:{secs:.3},\ntext-{id}.vtt\n#EXT-X-ENDLIST\n",
        duration_ms.div_ceil(1000).max(1)
    )
}

/// XML-escapes an attribute value or text.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// `mpd` with one text adaptation set per track before the (last) period's end; unchanged when
/// there are no tracks or no period.
pub(crate) fn dash_manifest(mpd: &str, tracks: &[TextTrack]) -> String {
    let Some(at) = mpd.rfind("</Period>") else {
        return mpd.to_string();
    };
    if tracks.is_empty() {
        return mpd.to_string();
    }
    let mut sets = String::new();
    for t in tracks {
        let role = match t.kind {
            TextTrackKind::Subtitles => "subtitle",
            TextTrackKind::Captions => "caption",
        };
        let _ = write!(
            sets,
            "\t\t<AdaptationSet contentType=\"text\" mimeType=\"text/vtt\" lang=\"{lang}\">\n\
             \t\t\t<Role schemeIdUri=\"urn:mpeg:dash:role:2011\" value=\"{role}\"/>\n\
             \t\t\t<Label>{label}</Label>\n\
             \t\t\t<Representation id=\"text-{id}\" bandwidth=\"256\">\n\
             \t\t\t\t<BaseURL>text-{id}.vtt</BaseURL>\n\
             \t\t\t</Representation>\n\
             \t\t</AdaptationSet>\n",
            lang = xml(&t.language),
            label = xml(&t.label),
            id = xml(&t.id),
        );
    }
    // Keep the closing tag's own indentation: insert at the start of its line.
    let line_start = mpd[..at].rfind('\n').map_or(at, |n| n + 1);
    let insert_at = if mpd[line_start..at].trim().is_empty() {
        line_start
    } else {
        at
    };
    let mut out = String::with_capacity(mpd.len() + sets.len());
    out.push_str(&mpd[..insert_at]);
    out.push_str(&sets);
    out.push_str(&mpd[insert_at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mediaserver_core::TextTrackSource;

    fn track(id: &str, lang: &str, label: &str, kind: TextTrackKind) -> TextTrack {
        TextTrack {
            id: id.into(),
            language: lang.into(),
            label: label.into(),
            kind,
            source: TextTrackSource::Upload,
        }
    }

    const MASTER: &str = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"English\",LANGUAGE=\"en\",DEFAULT=YES,AUTOSELECT=YES,URI=\"media_3.m3u8\"\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,CODECS=\"avc1.64001e,mp4a.40.2\",AUDIO=\"aud\"\nmedia_0.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=300000,RESOLUTION=426x240,CODECS=\"avc1.64001e,mp4a.40.2\",AUDIO=\"aud\"\nmedia_1.m3u8\n";

    #[test]
    fn hls_gets_a_rendition_per_track_and_every_variant_the_group() {
        let tracks = [
            track("uab1", "en", "English \"CC\"", TextTrackKind::Captions),
            track("ucd2", "pt-BR", "Português", TextTrackKind::Subtitles),
        ];
        let out = hls_master(MASTER, &tracks);
        let want = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"English\",LANGUAGE=\"en\",DEFAULT=YES,AUTOSELECT=YES,URI=\"media_3.m3u8\"\n\
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",LANGUAGE=\"en\",NAME=\"English 'CC'\",DEFAULT=NO,AUTOSELECT=YES,CHARACTERISTICS=\"public.accessibility.transcribes-spoken-dialog,public.accessibility.describes-music-and-sound\",URI=\"text-uab1.m3u8\"\n\
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",LANGUAGE=\"pt-BR\",NAME=\"Português\",DEFAULT=NO,AUTOSELECT=YES,URI=\"text-ucd2.m3u8\"\n\
#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,CODECS=\"avc1.64001e,mp4a.40.2\",AUDIO=\"aud\",SUBTITLES=\"subs\"\nmedia_0.m3u8\n\
#EXT-X-STREAM-INF:BANDWIDTH=300000,RESOLUTION=426x240,CODECS=\"avc1.64001e,mp4a.40.2\",AUDIO=\"aud\",SUBTITLES=\"subs\"\nmedia_1.m3u8\n";
        assert_eq!(out, want);
        assert_eq!(hls_master(MASTER, &[]), MASTER);
    }

    #[test]
    fn hls_master_with_embedded_subtitles_keeps_its_group() {
        let master = "#EXTM3U\n#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",LANGUAGE=\"fr\",NAME=\"French\",DEFAULT=NO,AUTOSELECT=YES,URI=\"text-s0.m3u8\"\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"avc1.64001e,mp4a.40.2\",SUBTITLES=\"subs\"\nmedia_0.m3u8\n";
        let out = hls_master(
            master,
            &[track("u1", "en", "English", TextTrackKind::Subtitles)],
        );
        assert_eq!(out.matches("SUBTITLES=\"subs\"").count(), 1, "{out}");
        assert_eq!(out.matches("TYPE=SUBTITLES").count(), 2, "{out}");
        // The new rendition comes after the stored one, before the variants.
        let fr = out.find("text-s0.m3u8").unwrap();
        let en = out.find("text-u1.m3u8").unwrap();
        let inf = out.find("#EXT-X-STREAM-INF").unwrap();
        assert!(fr < en && en < inf, "{out}");
    }

    #[test]
    fn names_stay_unique_in_the_group() {
        let master = "#EXTM3U\n#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",LANGUAGE=\"en\",NAME=\"English\",DEFAULT=NO,AUTOSELECT=YES,URI=\"text-s0.m3u8\"\n#EXT-X-STREAM-INF:BANDWIDTH=1,SUBTITLES=\"subs\"\nmedia_0.m3u8\n";
        let out = hls_master(
            master,
            &[
                track("u1", "en", "English", TextTrackKind::Subtitles),
                track("u2", "en", "English", TextTrackKind::Captions),
            ],
        );
        for name in [
            "NAME=\"English\",",
            "NAME=\"English (2)\",",
            "NAME=\"English (3)\",",
        ] {
            assert_eq!(out.matches(name).count(), 1, "{name} in {out}");
        }
    }

    #[test]
    fn text_playlist_is_one_segment_as_long_as_the_item() {
        assert_eq!(
            media_playlist("u1", 4_040),
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:5\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:4.040,\ntext-u1.vtt\n#EXT-X-ENDLIST\n"
        );
    }

    #[test]
    fn attribute_names_are_found_outside_quotes_only() {
        assert!(has_attribute("BANDWIDTH=1,SUBTITLES=\"x\"", "SUBTITLES"));
        assert!(has_attribute("SUBTITLES=\"x\",BANDWIDTH=1", "SUBTITLES"));
        assert!(!has_attribute(
            "CODECS=\"a,SUBTITLES=b\",BANDWIDTH=1",
            "SUBTITLES"
        ));
    }

    #[test]
    fn dash_gets_a_text_adaptation_set_per_track() {
        let mpd = "<?xml version=\"1.0\"?>\n<MPD>\n\t<Period id=\"0\" start=\"PT0S\">\n\t\t<AdaptationSet contentType=\"video\"></AdaptationSet>\n\t</Period>\n</MPD>\n";
        let out = dash_manifest(
            mpd,
            &[
                track("u1", "en", "English <CC> & more", TextTrackKind::Captions),
                track("u2", "fr", "Français", TextTrackKind::Subtitles),
            ],
        );
        let want = "<?xml version=\"1.0\"?>\n<MPD>\n\t<Period id=\"0\" start=\"PT0S\">\n\t\t<AdaptationSet contentType=\"video\"></AdaptationSet>\n\
\t\t<AdaptationSet contentType=\"text\" mimeType=\"text/vtt\" lang=\"en\">\n\
\t\t\t<Role schemeIdUri=\"urn:mpeg:dash:role:2011\" value=\"caption\"/>\n\
\t\t\t<Label>English &lt;CC&gt; &amp; more</Label>\n\
\t\t\t<Representation id=\"text-u1\" bandwidth=\"256\">\n\
\t\t\t\t<BaseURL>text-u1.vtt</BaseURL>\n\
\t\t\t</Representation>\n\
\t\t</AdaptationSet>\n\
\t\t<AdaptationSet contentType=\"text\" mimeType=\"text/vtt\" lang=\"fr\">\n\
\t\t\t<Role schemeIdUri=\"urn:mpeg:dash:role:2011\" value=\"subtitle\"/>\n\
\t\t\t<Label>Français</Label>\n\
\t\t\t<Representation id=\"text-u2\" bandwidth=\"256\">\n\
\t\t\t\t<BaseURL>text-u2.vtt</BaseURL>\n\
\t\t\t</Representation>\n\
\t\t</AdaptationSet>\n\
\t</Period>\n</MPD>\n";
        assert_eq!(out, want);
        assert_eq!(dash_manifest(mpd, &[]), mpd);
        assert_eq!(
            dash_manifest("<MPD/>", &[track("u1", "en", "x", TextTrackKind::Captions)]),
            "<MPD/>"
        );
    }
}
