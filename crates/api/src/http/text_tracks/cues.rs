//! An uploaded caption file (WebVTT or SubRip) parsed and written back as normalised WebVTT:
//! UTF-8 without BOM, `\n` line ends, `HH:MM:SS.mmm` times, cues in start order, NOTE blocks
//! and header metadata dropped, STYLE and REGION blocks, cue identifiers and cue settings kept.
//! SubRip text gets what WebVTT needs: its `<b>`/`<i>`/`<u>` kept, `<font>` and `{\an8}`-style
//! override tags dropped, a stray `<` or `&` escaped.
//!
//! Written here rather than taken from a crate: the Rust subtitle crates (`subparse`, `srtlib`,
//! `aspasia`) are unmaintained or parse one format only, none reports the line of a fault, and
//! none writes the normalised WebVTT HLS and DASH players need; both formats are a few
//! line-oriented rules (WebVTT: W3C WebVTT §4, SubRip's de-facto form).

use std::fmt::Write as _;

/// What is wrong with a file, for the client (a line number where there is one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CueError {
    #[error("the file is not UTF-8 text")]
    NotUtf8,
    #[error("line {line}: {what}")]
    Line { line: usize, what: String },
    #[error("the file has no cues")]
    NoCues,
    #[error("the file is neither WebVTT (it starts with `WEBVTT`) nor SubRip (numbered cues with `00:00:01,000 --> 00:00:02,000` times)")]
    Unknown,
}

fn at(line: usize, what: impl Into<String>) -> CueError {
    CueError::Line {
        line,
        what: what.into(),
    }
}

/// One cue, times in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cue {
    /// The cue's identifier (WebVTT) or number (SubRip); never contains `-->`.
    pub(crate) id: Option<String>,
    pub(crate) start_ms: u64,
    pub(crate) end_ms: u64,
    /// WebVTT cue settings (`align:start line:0`), as given.
    pub(crate) settings: String,
    /// Payload lines, WebVTT-safe, none blank.
    pub(crate) text: Vec<String>,
    /// 1-based line of the timing line in the uploaded file, for errors found later.
    pub(crate) line: usize,
}

/// A parsed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cues {
    /// STYLE and REGION blocks of a WebVTT file, as given.
    pub(crate) header_blocks: Vec<String>,
    /// Sorted by start (stable: equal starts keep the file's order).
    pub(crate) cues: Vec<Cue>,
}

impl Cues {
    /// The normalised WebVTT file.
    pub(crate) fn to_webvtt(&self) -> String {
        let mut out = String::from("WEBVTT\n");
        for block in &self.header_blocks {
            out.push('\n');
            out.push_str(block);
            out.push('\n');
        }
        for cue in &self.cues {
            out.push('\n');
            if let Some(id) = &cue.id {
                out.push_str(id);
                out.push('\n');
            }
            out.push_str(&timestamp(cue.start_ms));
            out.push_str(" --> ");
            out.push_str(&timestamp(cue.end_ms));
            if !cue.settings.is_empty() {
                out.push(' ');
                out.push_str(&cue.settings);
            }
            out.push('\n');
            for line in &cue.text {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }
}

/// `HH:MM:SS.mmm`.
pub(crate) fn timestamp(ms: u64) -> String {
    let mut s = String::with_capacity(12);
    let _ = write!(
        s,
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    );
    s
}

/// Parses a WebVTT or SubRip file (told apart by the `WEBVTT` signature).
pub(crate) fn parse(bytes: &[u8]) -> Result<Cues, CueError> {
    let text = std::str::from_utf8(bytes).map_err(|_| CueError::NotUtf8)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // CRLF and lone CR both end a line (WebVTT §4.1; SubRip files come from every system).
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = text.split('\n').collect();
    let first = lines.first().copied().unwrap_or("");
    let mut cues =
        if first == "WEBVTT" || first.starts_with("WEBVTT ") || first.starts_with("WEBVTT\t") {
            parse_webvtt(&lines)?
        } else if first.starts_with("WEBVTT") {
            return Err(at(
                1,
                "the WebVTT signature must be followed by a space, a tab or the line's end",
            ));
        } else {
            parse_srt(&lines)?
        };
    if cues.cues.is_empty() {
        return Err(CueError::NoCues);
    }
    cues.cues.sort_by_key(|c| c.start_ms);
    Ok(cues)
}

/// Blocks of non-blank lines, each with the 1-based number of its first line.
fn blocks<'a>(lines: &'a [&'a str], from: usize) -> Vec<(usize, &'a [&'a str])> {
    let mut out = Vec::new();
    let mut i = from;
    while i < lines.len() {
        if lines[i].trim().is_empty() {
            i += 1;
            continue;
        }
        let start = i;
        while i < lines.len() && !lines[i].trim().is_empty() {
            i += 1;
        }
        out.push((start + 1, &lines[start..i]));
    }
    out
}

fn parse_webvtt(lines: &[&str]) -> Result<Cues, CueError> {
    // The header runs to the first blank line; its metadata lines (and any X-TIMESTAMP-MAP,
    // which would move every cue in HLS players) are not kept.
    let mut i = 0;
    while i < lines.len() && !lines[i].trim().is_empty() {
        if lines[i].contains("-->") && i > 0 {
            return Err(at(
                i + 1,
                "a blank line must separate the WEBVTT header from the first cue",
            ));
        }
        i += 1;
    }
    let mut out = Cues {
        header_blocks: Vec::new(),
        cues: Vec::new(),
    };
    for (line, block) in blocks(lines, i) {
        let head = block[0];
        let keyword = |k: &str| {
            head == k || head.starts_with(&format!("{k} ")) || head.starts_with(&format!("{k}\t"))
        };
        if keyword("NOTE") {
            continue;
        }
        if (keyword("STYLE") || keyword("REGION")) && !block[0].contains("-->") {
            if !out.cues.is_empty() {
                return Err(at(
                    line,
                    format!("{head}: STYLE and REGION blocks must come before the first cue"),
                ));
            }
            if let Some((n, _)) = block.iter().enumerate().find(|(_, l)| l.contains("-->")) {
                return Err(at(
                    line + n,
                    "`-->` is not allowed in a STYLE or REGION block",
                ));
            }
            out.header_blocks.push(block.join("\n"));
            continue;
        }
        let (id, timing_at) = if head.contains("-->") {
            (None, 0)
        } else {
            (Some(head.to_string()), 1)
        };
        let Some(timing) = block.get(timing_at).filter(|t| t.contains("-->")) else {
            return Err(at(line, format!("{:?} is neither a cue timing line (`00:00:01.000 --> 00:00:02.000`) nor followed by one", clip(head))));
        };
        let timing_line = line + timing_at;
        let (start_ms, end_ms, settings) = parse_timing(timing, timing_line, false)?;
        let text = block[timing_at + 1..]
            .iter()
            .enumerate()
            .map(|(n, l)| {
                if l.contains("-->") {
                    Err(at(timing_line + 1 + n, "`-->` is not allowed in cue text"))
                } else {
                    Ok(l.to_string())
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        out.cues.push(Cue {
            id,
            start_ms,
            end_ms,
            settings: check_settings(settings, timing_line)?,
            text,
            line: timing_line,
        });
    }
    Ok(out)
}

fn parse_srt(lines: &[&str]) -> Result<Cues, CueError> {
    let mut cues = Vec::new();
    for (line, block) in blocks(lines, 0) {
        // The cue number, then the timing line; a file whose numbers are missing still has its
        // times.
        let (id, timing_at) = if block[0].contains("-->") {
            (None, 0)
        } else if block[0].trim().chars().all(|c| c.is_ascii_digit()) {
            (Some(block[0].trim().to_string()), 1)
        } else if cues.is_empty() && line == 1 {
            return Err(CueError::Unknown);
        } else {
            return Err(at(line, format!("expected a cue number or a timing line (`00:00:01,000 --> 00:00:02,000`), found {:?}", clip(block[0]))));
        };
        let Some(timing) = block.get(timing_at) else {
            return Err(at(
                line,
                "a cue number must be followed by a timing line (`00:00:01,000 --> 00:00:02,000`)",
            ));
        };
        let timing_line = line + timing_at;
        if !timing.contains("-->") && cues.is_empty() && line == 1 {
            return Err(CueError::Unknown);
        }
        // SubRip's optional `X1:… Y1:…` coordinates have no WebVTT meaning.
        let (start_ms, end_ms, _) = parse_timing(timing, timing_line, true)?;
        let text: Vec<String> = block[timing_at + 1..]
            .iter()
            .map(|l| srt_text(l))
            .filter(|l| !l.trim().is_empty())
            .collect();
        if text.is_empty() {
            continue;
        }
        cues.push(Cue {
            id,
            start_ms,
            end_ms,
            settings: String::new(),
            text,
            line: timing_line,
        });
    }
    Ok(Cues {
        header_blocks: Vec::new(),
        cues,
    })
}

/// A line quoted in an error, at most 40 characters.
fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}

/// `start --> end [settings]`.
fn parse_timing(line: &str, n: usize, srt: bool) -> Result<(u64, u64, &str), CueError> {
    let bad = || {
        at(
            n,
            if srt {
                format!(
                    "expected `00:00:01,000 --> 00:00:02,000`, found {:?}",
                    clip(line)
                )
            } else {
                format!(
                    "expected `00:00:01.000 --> 00:00:02.000`, found {:?}",
                    clip(line)
                )
            },
        )
    };
    let (left, right) = line.split_once("-->").ok_or_else(bad)?;
    let right = right.trim_start();
    let (end, settings) = right
        .split_once([' ', '\t'])
        .map(|(e, s)| (e, s.trim()))
        .unwrap_or((right, ""));
    let start = parse_time(left.trim(), srt).ok_or_else(bad)?;
    let end = parse_time(end.trim(), srt).ok_or_else(bad)?;
    if end <= start {
        return Err(at(
            n,
            format!(
                "the cue ends ({}) before or when it starts ({})",
                timestamp(end),
                timestamp(start)
            ),
        ));
    }
    Ok((start, end, settings))
}

/// `[HH:]MM:SS.mmm` (SubRip: `HH:MM:SS,mmm`, also with `.`; some tools write 1 or 2 digit
/// fractions or hours of one digit).
fn parse_time(s: &str, srt: bool) -> Option<u64> {
    let (hms, frac) = if srt {
        s.split_once([',', '.'])?
    } else {
        s.split_once('.')?
    };
    let digits = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit());
    if !digits(frac) || frac.len() > 3 || (!srt && frac.len() != 3) {
        return None;
    }
    let ms: u64 = format!("{frac:0<3}").parse().ok()?;
    let parts: Vec<&str> = hms.split(':').collect();
    let (h, m, sec) = match parts.as_slice() {
        [m, s] if !srt => ("0", *m, *s),
        [h, m, s] => (*h, *m, *s),
        _ => return None,
    };
    if !digits(h) || h.len() > 6 || !digits(m) || !digits(sec) {
        return None;
    }
    if (!srt && (m.len() != 2 || sec.len() != 2 || parts.len() == 3 && h.len() < 2))
        || m.len() > 2
        || sec.len() > 2
    {
        return None;
    }
    let (h, m, sec): (u64, u64, u64) = (h.parse().ok()?, m.parse().ok()?, sec.parse().ok()?);
    if m > 59 || sec > 59 {
        return None;
    }
    Some(((h * 60 + m) * 60 + sec) * 1000 + ms)
}

/// WebVTT cue settings: `name:value` pairs of the five the format knows; anything else would be
/// dropped by every player, so it is refused where the client can see it.
fn check_settings(settings: &str, n: usize) -> Result<String, CueError> {
    let mut out = Vec::new();
    for item in settings.split_whitespace() {
        let ok = item.split_once(':').is_some_and(|(k, v)| {
            !v.is_empty()
                && matches!(
                    k,
                    "vertical" | "line" | "position" | "size" | "align" | "region"
                )
        });
        if !ok {
            return Err(at(n, format!("unknown cue setting {:?} (WebVTT knows vertical, line, position, size, align, region)", clip(item))));
        }
        out.push(item);
    }
    Ok(out.join(" "))
}

/// A SubRip text line made WebVTT-safe: `<b>`, `<i>`, `<u>` kept; other tags (`<font …>`) and
/// `{\…}` override codes dropped; `<`, `&` and `-->` escaped.
fn srt_text(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        match c {
            '{' if rest.starts_with("{\\") => match rest.find('}') {
                Some(end) => rest = &rest[end + 1..],
                None => {
                    out.push('{');
                    rest = &rest[1..];
                }
            },
            '<' => {
                let tag_end = rest.find('>');
                let tag = tag_end.map(|e| &rest[1..e]);
                match tag {
                    Some(t)
                        if matches!(
                            t.to_ascii_lowercase().as_str(),
                            "b" | "i" | "u" | "/b" | "/i" | "/u"
                        ) =>
                    {
                        out.push('<');
                        out.push_str(&t.to_ascii_lowercase());
                        out.push('>');
                        rest = &rest[t.len() + 2..];
                    }
                    Some(t)
                        if {
                            let name = t.trim_start_matches('/');
                            name.len() >= 4 && name[..4].eq_ignore_ascii_case("font")
                        } =>
                    {
                        rest = &rest[t.len() + 2..];
                    }
                    _ => {
                        out.push_str("&lt;");
                        rest = &rest[1..];
                    }
                }
            }
            '&' => {
                let entity = rest[1..].find(';').map(|e| &rest[1..1 + e]).filter(|e| {
                    !e.is_empty()
                        && e.len() <= 10
                        && (e.chars().all(|c| c.is_ascii_alphanumeric())
                            || e.strip_prefix('#').is_some_and(|d| {
                                !d.is_empty() && d.chars().all(|c| c.is_ascii_digit())
                            }))
                });
                out.push_str(if entity.is_some() { "&" } else { "&amp;" });
                rest = &rest[1..];
            }
            '-' if rest.starts_with("-->") => {
                out.push_str("--&gt;");
                rest = &rest[3..];
            }
            _ => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err_line(input: &str) -> (usize, String) {
        match parse(input.as_bytes()).unwrap_err() {
            CueError::Line { line, what } => (line, what),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn subrip_becomes_webvtt() {
        let srt = "\u{feff}1\r\n00:00:01,000 --> 00:00:02,500\r\nHello <font color=\"red\">world</font>\r\n<I>again</I> & more {\\an8}\r\n\r\n\r\n2\r\n00:00:00,5 --> 00:00:00,900 X1:10 X2:20 Y1:1 Y2:2\r\nfirst -> a < b\r\n\r\n3\r\n01:02:03,004 --> 01:02:04,000\r\n\r\n";
        let cues = parse(srt.as_bytes()).unwrap();
        assert_eq!(
            cues.to_webvtt(),
            "WEBVTT\n\n2\n00:00:00.500 --> 00:00:00.900\nfirst -> a &lt; b\n\n1\n00:00:01.000 --> 00:00:02.500\nHello world\n<i>again</i> &amp; more \n"
        );
    }

    #[test]
    fn webvtt_is_kept_with_ids_settings_and_styles() {
        let vtt = "WEBVTT - a title\nKind: captions\nX-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000\n\nSTYLE\n::cue { color: yellow }\n\nNOTE a comment\nspanning lines\n\nintro\n00:01.000 --> 00:02.000 align:start line:0\n<v Roger>[door slams]</v> &amp;\n\n00:00:00.250 --> 00:00:00.750\nfirst\n";
        let cues = parse(vtt.as_bytes()).unwrap();
        assert_eq!(
            cues.to_webvtt(),
            "WEBVTT\n\nSTYLE\n::cue { color: yellow }\n\n00:00:00.250 --> 00:00:00.750\nfirst\n\nintro\n00:00:01.000 --> 00:00:02.000 align:start line:0\n<v Roger>[door slams]</v> &amp;\n"
        );
        // Normalising is idempotent.
        let again = parse(cues.to_webvtt().as_bytes()).unwrap();
        assert_eq!(again.to_webvtt(), cues.to_webvtt());
    }

    #[test]
    fn faults_name_their_line() {
        let (line, what) = err_line(
            "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nok\n\n00:00:03.000 -> 00:00:04.000\nbad\n",
        );
        assert_eq!(line, 6);
        assert!(what.contains("is neither a cue timing line"), "{what}");
        let (line, what) = err_line("WEBVTT\n\n00:00:05.000 --> 00:00:04.000\nbackwards\n");
        assert_eq!(line, 3);
        assert!(what.contains("ends (00:00:04.000) before"), "{what}");
        let (line, what) = err_line(
            "1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\n00:00:61,000 --> 00:01:02,000\nbad\n",
        );
        assert_eq!(line, 6);
        assert!(
            what.contains("expected `00:00:01,000 --> 00:00:02,000`"),
            "{what}"
        );
        let (line, what) = err_line("WEBVTT\n\n00:00:01.000 --> 00:00:02.000 colour:red\nx\n");
        assert_eq!(line, 3);
        assert!(
            what.contains("unknown cue setting \"colour:red\""),
            "{what}"
        );
        let (line, _) = err_line("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n\nSTYLE\n::cue {}\n");
        assert_eq!(line, 5);
        let (line, _) = err_line("WEBVTTX\n");
        assert_eq!(line, 1);
        let (line, _) = err_line("1\n00:00:01,000 --> 00:00:02,000\nok\n\nnot a number\n");
        assert_eq!(line, 5);
    }

    #[test]
    fn garbage_empty_and_binary_files_are_refused() {
        assert_eq!(parse(b"hello there\n"), Err(CueError::Unknown));
        assert_eq!(parse(b"\x89PNG\r\n\x1a\n\0\0\xff"), Err(CueError::NotUtf8));
        assert_eq!(parse(b""), Err(CueError::NoCues));
        assert_eq!(
            parse(b"WEBVTT\n\nNOTE only a note\n"),
            Err(CueError::NoCues)
        );
        // A SubRip cue with no text is no cue.
        assert_eq!(
            parse(b"1\n00:00:01,000 --> 00:00:02,000\n"),
            Err(CueError::NoCues)
        );
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("00:01.000", false), Some(1000));
        assert_eq!(
            parse_time("1:00:01.000", false),
            None,
            "WebVTT hours have two digits"
        );
        assert_eq!(parse_time("100:00:01.001", false), Some(360_001_001));
        assert_eq!(parse_time("00:01.00", false), None);
        assert_eq!(parse_time("0:00:01,5", true), Some(1500));
        assert_eq!(parse_time("00:00:01.250", true), Some(1250));
        assert_eq!(parse_time("00:60:01,000", true), None);
        assert_eq!(parse_time("-1:00:01,000", true), None);
        assert_eq!(timestamp(3_723_004), "01:02:03.004");
    }
}
