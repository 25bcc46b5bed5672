//! The MPD of a chunked encode, stitched from the chunks' and the rest's: each chunk's ffmpeg
//! MPD gives its representations' timelines; chunk 0's is the skeleton the final MPD is built
//! on (everything else in it — codecs, sizes, rates, templates — is the same in every chunk),
//! with the rest's audio adaptation sets put where a single encode has them.

use crate::error::{MediaError, Result};
use std::fmt::Write as _;

/// One representation's `SegmentTemplate` timescale and timeline as (t, d) per segment.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Timeline {
    pub id: String,
    pub timescale: u64,
    pub segments: Vec<(u64, u64)>,
}

/// Every representation's timeline (`S` repeats expanded, implicit `t`s filled in).
pub(crate) fn timelines(xml: &str) -> Result<Vec<Timeline>> {
    let doc = roxmltree::Document::parse(xml)
        .map_err(|e| MediaError::bad_output_from("unreadable MPD", e))?;
    let mut out = Vec::new();
    for rep in doc
        .descendants()
        .filter(|n| n.tag_name().name() == "Representation")
    {
        let Some(template) = rep
            .descendants()
            .find(|n| n.tag_name().name() == "SegmentTemplate")
        else {
            continue;
        };
        let num = |n: roxmltree::Node, a: &str| n.attribute(a).and_then(|v| v.parse::<u64>().ok());
        let timescale = num(template, "timescale").unwrap_or(1);
        let mut segments = Vec::new();
        let mut next = 0u64;
        for s in template
            .descendants()
            .filter(|n| n.tag_name().name() == "S")
        {
            let d = num(s, "d")
                .ok_or_else(|| MediaError::bad_output("an MPD timeline entry without d"))?;
            let mut t = num(s, "t").unwrap_or(next);
            for _ in 0..=num(s, "r").unwrap_or(0) {
                segments.push((t, d));
                t += d;
            }
            next = t;
        }
        out.push(Timeline {
            id: rep.attribute("id").unwrap_or_default().to_string(),
            timescale,
            segments,
        });
    }
    Ok(out)
}

/// `xml` with the `id` of each `AdaptationSet` and `Representation` renamed per `map`
/// (from, to); ids not in the map are kept. Both at once, so chains never collide.
pub(super) fn renumber(xml: &str, map: &[(usize, usize)]) -> Result<String> {
    let doc = roxmltree::Document::parse(xml)
        .map_err(|e| MediaError::bad_output_from("unreadable MPD", e))?;
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    for node in doc
        .descendants()
        .filter(|n| matches!(n.tag_name().name(), "AdaptationSet" | "Representation"))
    {
        let Some(attr) = node.attributes().find(|a| a.name() == "id") else {
            continue;
        };
        let Some(to) = attr
            .value()
            .parse::<usize>()
            .ok()
            .and_then(|from| map.iter().find(|(f, _)| *f == from).map(|(_, t)| *t))
        else {
            continue;
        };
        edits.push((attr.range_value(), to.to_string()));
    }
    edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    let mut out = xml.to_string();
    for (r, with) in edits {
        out.replace_range(r, &with);
    }
    Ok(out)
}

/// The `<S>` elements of a timeline, as ffmpeg writes them: `t` on the first and after a gap,
/// equal durations folded into `r`.
fn timeline_xml(segments: &[(u64, u64)], indent: &str) -> String {
    let mut out = String::new();
    let mut i = 0;
    let mut expected: Option<u64> = None;
    while i < segments.len() {
        let (t, d) = segments[i];
        let mut repeat = 0;
        while i + repeat + 1 < segments.len() && segments[i + repeat + 1].1 == d && {
            let (tn, _) = segments[i + repeat + 1];
            tn == t + (repeat as u64 + 1) * d
        } {
            repeat += 1;
        }
        out.push_str(indent);
        out.push_str("<S ");
        if expected != Some(t) {
            let _ = write!(out, "t=\"{t}\" ");
        }
        let _ = write!(out, "d=\"{d}\" ");
        if repeat > 0 {
            let _ = write!(out, "r=\"{repeat}\" ");
        }
        out.push_str("/>\n");
        expected = Some(t + (repeat as u64 + 1) * d);
        i += repeat + 1;
    }
    out
}

/// `xml` with representation `id`'s `SegmentTimeline` content replaced by `segments`.
pub(crate) fn set_timeline(xml: &str, id: usize, segments: &[(u64, u64)]) -> Result<String> {
    let missing = || MediaError::bad_output(format!("the MPD has no timeline for {id}"));
    let rep = xml
        .find(&format!("<Representation id=\"{id}\""))
        .ok_or_else(missing)?;
    let open = rep + xml[rep..].find("<SegmentTimeline>").ok_or_else(missing)?;
    let body = open + "<SegmentTimeline>".len();
    let close = body + xml[body..].find("</SegmentTimeline>").ok_or_else(missing)?;
    // ffmpeg's layout: one `S` per line, indented one step deeper than the closing tag.
    let line_start = xml[..close].rfind('\n').map(|i| i + 1).unwrap_or(close);
    let indent = format!("{}\t", &xml[line_start..close]);
    Ok(format!(
        "{}\n{}{}",
        &xml[..body],
        timeline_xml(segments, &indent),
        &xml[line_start..]
    ))
}

/// `xml` with the rest's audio adaptation sets (`audio_mpd`'s) inserted before the first
/// video set of a codec other than H.264 (where a single encode numbers them), or at the end
/// of the period.
pub(super) fn insert_audio_sets(xml: &str, audio_mpd: &str) -> Result<String> {
    let doc = roxmltree::Document::parse(audio_mpd)
        .map_err(|e| MediaError::bad_output_from("unreadable audio MPD", e))?;
    let mut sets = String::new();
    for set in doc
        .descendants()
        .filter(|n| n.tag_name().name() == "AdaptationSet")
    {
        let r = set.range();
        let line_start = audio_mpd[..r.start]
            .rfind('\n')
            .map(|i| i + 1)
            .unwrap_or(r.start);
        sets.push_str(&audio_mpd[line_start..r.end]);
        sets.push('\n');
    }
    let main = roxmltree::Document::parse(xml)
        .map_err(|e| MediaError::bad_output_from("unreadable MPD", e))?;
    let first_extra = main
        .descendants()
        .filter(|n| n.tag_name().name() == "AdaptationSet")
        .find(|set| {
            set.descendants()
                .filter_map(|r| r.attribute("codecs"))
                .any(|c| c.starts_with("av01") || c.starts_with("hvc1") || c.starts_with("hev1"))
        })
        .map(|set| set.range().start);
    let at = match first_extra {
        Some(start) => xml[..start].rfind('\n').map(|i| i + 1).unwrap_or(start),
        None => {
            let close = xml
                .find("</Period>")
                .ok_or_else(|| MediaError::bad_output("the MPD has no Period"))?;
            xml[..close].rfind('\n').map(|i| i + 1).unwrap_or(close)
        }
    };
    Ok(format!("{}{sets}{}", &xml[..at], &xml[at..]))
}

/// `PT[H][M]S.fffS`, to the millisecond (ffmpeg's `write_time` truncates to tenths: PT8.0S for
/// 8.08 s, and dash.js then ends the stream early).
pub(crate) fn duration_attr(seconds: f64) -> String {
    let ms = (seconds.max(0.0) * 1e3).round() as u64;
    let total = ms / 1000;
    let (h, m, s) = (total / 3600, (total / 60) % 60, total % 60);
    let mut out = String::from("PT");
    if h > 0 {
        let _ = write!(out, "{h}H");
    }
    if h > 0 || m > 0 {
        let _ = write!(out, "{m}M");
    }
    let _ = write!(out, "{s}.{:03}S", ms % 1000);
    out
}

/// `xml` with `mediaPresentationDuration` the media's end (the latest end of a representation's
/// timeline, past its `presentationTimeOffset`) and `maxSegmentDuration` its longest segment,
/// both to the millisecond — what the segments are, not ffmpeg's tenths. Unchanged when the
/// MPD has no timeline.
pub(crate) fn exact_durations(xml: &str) -> Result<String> {
    let doc = roxmltree::Document::parse(xml)
        .map_err(|e| MediaError::bad_output_from("unreadable MPD", e))?;
    let mut offsets = std::collections::HashMap::new();
    for rep in doc
        .descendants()
        .filter(|n| n.tag_name().name() == "Representation")
    {
        let offset = rep
            .descendants()
            .find(|n| n.tag_name().name() == "SegmentTemplate")
            .and_then(|t| t.attribute("presentationTimeOffset"))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        offsets.insert(rep.attribute("id").unwrap_or_default().to_string(), offset);
    }
    let (mut end, mut longest): (Option<f64>, f64) = (None, 0.0);
    for line in timelines(xml)? {
        let scale = line.timescale.max(1) as f64;
        if let Some((t, d)) = line.segments.last() {
            let offset = offsets.get(&line.id).copied().unwrap_or(0);
            let e = (t + d).saturating_sub(offset) as f64 / scale;
            end = Some(end.map_or(e, |x| x.max(e)));
        }
        for (_, d) in &line.segments {
            longest = longest.max(*d as f64 / scale);
        }
    }
    let Some(end) = end else {
        return Ok(xml.to_string());
    };
    let out = set_mpd_attr(xml, "mediaPresentationDuration", &duration_attr(end));
    Ok(set_mpd_attr(
        &out,
        "maxSegmentDuration",
        &duration_attr(longest),
    ))
}

/// `minBufferTime` as ffmpeg's dash muxer writes it for `seconds` (`write_time`: hours and
/// minutes only when there are any, tenths of a second).
pub(crate) fn buffer_time(seconds: u32) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    let mut out = String::from("PT");
    if h > 0 {
        out.push_str(&format!("{h}H"));
    }
    if h > 0 || m > 0 {
        out.push_str(&format!("{m}M"));
    }
    out.push_str(&format!("{s}.0S"));
    out
}

/// `xml` with the MPD element's attribute `name` set to `value` (if it has one).
pub(crate) fn set_mpd_attr(xml: &str, name: &str, value: &str) -> String {
    let Some(mpd) = xml.find("<MPD") else {
        return xml.to_string();
    };
    let end = mpd + xml[mpd..].find('>').unwrap_or(0);
    let needle = format!("{name}=\"");
    let Some(at) = xml[mpd..end].find(&needle).map(|i| mpd + i + needle.len()) else {
        return xml.to_string();
    };
    let Some(len) = xml[at..].find('"') else {
        return xml.to_string();
    };
    format!("{}{value}{}", &xml[..at], &xml[at + len..])
}

#[cfg(test)]
mod tests {
    use super::*;

    const MPD: &str = "<?xml version=\"1.0\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" mediaPresentationDuration=\"PT8.0S\">\n\t<Period id=\"0\">\n\t\t<AdaptationSet id=\"0\" contentType=\"video\">\n\t\t\t<Representation id=\"0\" codecs=\"avc1.64000d\">\n\t\t\t\t<SegmentTemplate timescale=\"15360\" startNumber=\"1\">\n\t\t\t\t\t<SegmentTimeline>\n\t\t\t\t\t\t<S t=\"61440\" d=\"30720\" r=\"1\" />\n\t\t\t\t\t\t<S d=\"15360\" />\n\t\t\t\t\t</SegmentTimeline>\n\t\t\t\t</SegmentTemplate>\n\t\t\t</Representation>\n\t\t</AdaptationSet>\n\t\t<AdaptationSet id=\"1\" contentType=\"video\">\n\t\t\t<Representation id=\"1\" codecs=\"av01.0.05M.08\">\n\t\t\t\t<SegmentTemplate timescale=\"15360\">\n\t\t\t\t\t<SegmentTimeline>\n\t\t\t\t\t\t<S t=\"0\" d=\"30720\" />\n\t\t\t\t\t</SegmentTimeline>\n\t\t\t\t</SegmentTemplate>\n\t\t\t</Representation>\n\t\t</AdaptationSet>\n\t</Period>\n</MPD>\n";

    #[test]
    fn reads_renumbers_and_rewrites_timelines() {
        let t = timelines(MPD).unwrap();
        assert_eq!(t[0].timescale, 15360);
        assert_eq!(
            t[0].segments,
            vec![(61440, 30720), (92160, 30720), (122880, 15360)]
        );
        let r = renumber(MPD, &[(0, 1), (1, 3)]).unwrap();
        assert!(r.contains("<AdaptationSet id=\"1\" contentType=\"video\">\n\t\t\t<Representation id=\"1\" codecs=\"avc1"), "{r}");
        assert!(r.contains("<Representation id=\"3\" codecs=\"av01"), "{r}");
        let segs = [
            (0, 30720),
            (30720, 30720),
            (61440, 30720),
            (92160, 100),
            (100000, 5),
        ];
        let out = set_timeline(MPD, 0, &segs).unwrap();
        assert!(out.contains("\t\t\t\t\t<SegmentTimeline>\n\t\t\t\t\t\t<S t=\"0\" d=\"30720\" r=\"2\" />\n\t\t\t\t\t\t<S d=\"100\" />\n\t\t\t\t\t\t<S t=\"100000\" d=\"5\" />\n\t\t\t\t\t</SegmentTimeline>"), "{out}");
        assert_eq!(timelines(&out).unwrap()[0].segments, segs);
        assert_eq!(timelines(&out).unwrap()[1], t[1]);
    }

    #[test]
    fn audio_goes_before_the_extra_codecs() {
        let audio = "<MPD><Period>\n\t\t<AdaptationSet id=\"2\" contentType=\"audio\" lang=\"eng\">\n\t\t\t<Representation id=\"2\"/>\n\t\t</AdaptationSet>\n</Period></MPD>";
        let out = insert_audio_sets(MPD, audio).unwrap();
        let a = out.find("contentType=\"audio\"").unwrap();
        assert!(
            out.find("avc1").unwrap() < a && a < out.find("av01").unwrap(),
            "{out}"
        );
        roxmltree::Document::parse(&out).unwrap();
        let only_h264 = MPD.replace("av01.0.05M.08", "avc1.64000c");
        let out = insert_audio_sets(&only_h264, audio).unwrap();
        assert!(out.contains("</AdaptationSet>\n\t\t<AdaptationSet id=\"2\" contentType=\"audio\" lang=\"eng\">\n\t\t\t<Representation id=\"2\"/>\n\t\t</AdaptationSet>\n\t</Period>"), "{out}");
    }

    #[test]
    fn buffer_times_as_ffmpeg_writes_them() {
        assert_eq!(buffer_time(8), "PT8.0S");
        assert_eq!(buffer_time(120), "PT2M0.0S");
        assert_eq!(buffer_time(3605), "PT1H0M5.0S");
    }

    #[test]
    fn durations_to_the_millisecond() {
        assert_eq!(duration_attr(30.0), "PT30.000S");
        assert_eq!(duration_attr(4.96), "PT4.960S");
        assert_eq!(duration_attr(8.0832), "PT8.083S");
        assert_eq!(duration_attr(3725.5), "PT1H2M5.500S");
        assert_eq!(duration_attr(125.0), "PT2M5.000S");
        assert_eq!(duration_attr(59.9996), "PT1M0.000S");
        assert_eq!(
            set_mpd_attr(MPD, "mediaPresentationDuration", "PT30.0S"),
            MPD.replace("PT8.0S", "PT30.0S")
        );
    }

    #[test]
    fn the_segments_state_the_durations() {
        let mpd = MPD.replace(
            "mediaPresentationDuration=\"PT8.0S\"",
            "mediaPresentationDuration=\"PT8.0S\" maxSegmentDuration=\"PT1.0S\"",
        );
        // Representation 0 ends at (122880 + 15360) / 15360 = 9 s, 1 at 2 s; the longest
        // segment is 2 s.
        let out = exact_durations(&mpd).unwrap();
        assert!(
            out.contains("mediaPresentationDuration=\"PT9.000S\" maxSegmentDuration=\"PT2.000S\""),
            "{out}"
        );
        // Past the presentation time offset, to the millisecond.
        let shifted = mpd
            .replace(
                "startNumber=\"1\"",
                "startNumber=\"1\" presentationTimeOffset=\"61440\"",
            )
            .replace("<S d=\"15360\" />", "<S d=\"1241\" />");
        let out = exact_durations(&shifted).unwrap();
        assert!(
            out.contains("mediaPresentationDuration=\"PT4.081S\""),
            "{out}"
        );
        let none = "<MPD mediaPresentationDuration=\"PT1.0S\"><Period/></MPD>";
        assert_eq!(exact_durations(none).unwrap(), none);
    }
}
