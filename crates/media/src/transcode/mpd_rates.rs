//! Rungs of different frame rates in the one DASH video adaptation set: the small rungs of a
//! 50/60 fps source play at half the rate (`Picture::rung_rate`), and ffmpeg's dash muxer puts
//! each rung's `frameRate` on the set it wrote for that rung. Before those sets are joined
//! (`package::merge_video_sets`) each rate moves onto the representations, where it stays
//! true.

use super::package::drop_attribute;

/// When the video sets' `frameRate`s differ, `xml` with each set's copied onto the
/// representations inside it; `None` when they agree (nothing to move).
pub(super) fn rates_on_representations(xml: &str) -> Option<String> {
    const OPEN: &str = "<AdaptationSet";
    const REP: &str = "<Representation";
    // (end of the start tag, frame rate) of every video set.
    let mut sets = Vec::new();
    let mut from = 0;
    while let Some(at) = xml[from..].find(OPEN).map(|i| from + i) {
        let end = xml[at..].find('>').map(|i| at + i + 1)?;
        let tag = &xml[at..end];
        if tag.contains(r#"contentType="video""#) {
            sets.push((end, xml_attribute(tag, "frameRate")?.to_string()));
        }
        from = end;
    }
    if sets.windows(2).all(|w| w[0].1 == w[1].1) {
        return None;
    }
    let mut out = String::with_capacity(xml.len() + 32 * sets.len());
    let mut copied = 0;
    for (end, rate) in &sets {
        let set_end = xml[*end..]
            .find("</AdaptationSet>")
            .map_or(xml.len(), |i| end + i);
        let mut at = *end;
        while let Some(rep) = xml[at..set_end].find(REP).map(|j| at + j + REP.len()) {
            out.push_str(&xml[copied..rep]);
            out.push_str(&format!(r#" frameRate="{rate}""#));
            copied = rep;
            at = rep;
        }
    }
    out.push_str(&xml[copied..]);
    Some(out)
}

/// The value of ` name="…"` in an XML start tag.
fn xml_attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let needle = format!(r#" {name}=""#);
    let start = tag.find(&needle)? + needle.len();
    let len = tag[start..].find('"')?;
    Some(&tag[start..start + len])
}

/// `xml` without ` name="…"` on every video adaptation set (one per codec).
pub(super) fn drop_video_sets_attribute(xml: &str, name: &str) -> String {
    let mut out = String::with_capacity(xml.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some(at) = xml[from..].find("<AdaptationSet").map(|i| from + i) {
        let Some(end) = xml[at..].find('>').map(|i| at + i + 1) else {
            break;
        };
        let tag = &xml[at..end];
        if tag.contains(r#"contentType="video""#) {
            out.push_str(&xml[copied..at]);
            out.push_str(&drop_attribute(tag, name));
            copied = end;
        }
        from = end;
    }
    out.push_str(&xml[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::super::package::merge_video_sets;

    #[test]
    fn rungs_of_different_rates_keep_theirs() {
        let xml = r#"<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><Period>
          <AdaptationSet id="0" contentType="video" frameRate="60/1" maxWidth="1280" par="16:9">
            <Representation id="0" width="1280" height="720" sar="1:1"/>
          </AdaptationSet>
          <AdaptationSet id="1" contentType="video" frameRate="30/1" maxWidth="854" par="427:240">
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
        assert_eq!(sets[0].attribute("frameRate"), None, "{out}");
        let rates: Vec<_> = doc
            .descendants()
            .filter(|n| n.tag_name().name() == "Representation")
            .map(|n| (n.attribute("id").unwrap(), n.attribute("frameRate")))
            .collect();
        assert_eq!(
            rates,
            [("0", Some("60/1")), ("1", Some("30/1")), ("2", None)],
            "{out}"
        );
        // One rate: it stays on the set.
        let same = xml.replace("30/1", "60/1");
        let out = merge_video_sets(&same).unwrap();
        assert!(
            out.contains(r#"contentType="video" frameRate="60/1""#),
            "{out}"
        );
        assert!(
            !out.contains(r#"<Representation id="0" frameRate"#),
            "{out}"
        );
    }
}
