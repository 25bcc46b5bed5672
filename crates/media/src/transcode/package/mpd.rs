//! The MPD ffmpeg's dash muxer wrote: its representations read, its video sets joined, a
//! dead stream's set removed.

use crate::error::{MediaError, Result};
use crate::transcode::mpd_rates;

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
pub(in crate::transcode) fn drop_attribute(tag: &str, name: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

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
