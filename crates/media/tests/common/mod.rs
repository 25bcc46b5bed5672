//! Test helpers: lavfi-generated inputs and ffprobe-based checks of transcode outputs.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs ffmpeg with `args` (after common quiet flags), panicking on failure.
pub fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg runs");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A two-slide deck `w`x`h` at `rate` (e.g. `30`, `25/2`) into `path` (H.264, near-lossless):
/// a fractal held `each` seconds, then a test card held as long — content where SVT-AV1 saves
/// nothing against x264 — with a sine track when `audio`.
pub fn make_slides(path: &Path, w: u32, h: u32, rate: &str, each: u32, audio: bool) {
    let hold = |src: &str, label: &str| {
        format!(
            "{src}=s={w}x{h}:r={rate},trim=end_frame=1,loop=loop=-1:size=1,fps={rate},\
             trim=duration={each},setpts=PTS-STARTPTS[{label}]"
        )
    };
    let graph = format!(
        "{};{};[a][b]concat=n=2:v=1:a=0,format=yuv420p[v]",
        hold("mandelbrot", "a"),
        hold("testsrc", "b")
    );
    let sine = format!("sine=frequency=440:sample_rate=44100:duration={}", 2 * each);
    let mut args = vec!["-f", "lavfi", "-i", "nullsrc=s=16x16:d=0.04"];
    if audio {
        args.extend(["-f", "lavfi", "-i", &sine]);
    }
    // The video first, then the audio, as a camera file has them.
    args.extend(["-filter_complex", &graph, "-map", "[v]"]);
    if audio {
        args.extend(["-map", "1:a", "-c:a", "aac"]);
    }
    let out = path.to_string_lossy().into_owned();
    args.extend([
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-crf",
        "12",
        &out,
    ]);
    ffmpeg(&args);
}

/// A testsrc2 clip `w`x`h` at `fps`, `seconds` long, with a sine track when `audio`.
pub fn make_video(
    dir: &Path,
    name: &str,
    w: u32,
    h: u32,
    fps: u32,
    seconds: f64,
    audio: bool,
) -> PathBuf {
    let path = dir.join(name);
    let src = format!("testsrc2=size={w}x{h}:rate={fps}:duration={seconds}");
    let sine = format!("sine=frequency=440:sample_rate=44100:duration={seconds}");
    let mut args = vec!["-f", "lavfi", "-i", &src];
    if audio {
        args.extend(["-f", "lavfi", "-i", &sine, "-c:a", "aac", "-b:a", "96k"]);
    }
    let p = path.to_string_lossy().into_owned();
    args.extend([
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        &p,
    ]);
    ffmpeg(&args);
    path
}

/// A testsrc2 clip of exactly `frames` frames (25 fps), with a sine track as long when `audio`:
/// shorter than any storyboard interval. (`-frames:v` would also cut the audio after the last
/// frame, so the sources are bounded by duration; ffprobe confirms the frame count.)
pub fn make_frames(dir: &Path, name: &str, w: u32, h: u32, frames: u32, audio: bool) -> PathBuf {
    let path = dir.join(name);
    let seconds = frames as f64 / 25.0;
    let src = format!("testsrc2=size={w}x{h}:rate=25:duration={seconds}");
    let sine = format!("sine=frequency=440:sample_rate=44100:duration={seconds}");
    let mut args = vec!["-f", "lavfi", "-i", &src];
    if audio {
        args.extend(["-f", "lavfi", "-i", &sine, "-c:a", "aac", "-b:a", "96k"]);
    }
    let p = path.to_string_lossy().into_owned();
    args.extend([
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        &p,
    ]);
    ffmpeg(&args);
    let counted = ffprobe_json(
        &path,
        &[
            "-select_streams",
            "v:0",
            "-count_frames",
            "-show_entries",
            "stream=nb_read_frames",
        ],
    );
    assert_eq!(
        counted["streams"][0]["nb_read_frames"],
        frames.to_string(),
        "{counted}"
    );
    path
}

pub fn ffprobe_json(path: &Path, extra: &[&str]) -> serde_json::Value {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-print_format", "json"])
        .args(extra)
        .arg(path)
        .output()
        .expect("ffprobe runs");
    assert!(
        out.status.success(),
        "ffprobe {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// (width, height) of the first video stream.
pub fn dimensions(path: &Path) -> (u32, u32) {
    let j = ffprobe_json(
        path,
        &[
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=width,height",
        ],
    );
    let s = &j["streams"][0];
    (
        s["width"].as_u64().unwrap() as u32,
        s["height"].as_u64().unwrap() as u32,
    )
}

/// A parsed HLS media playlist.
#[derive(Debug)]
pub struct MediaPlaylist {
    pub text: String,
    pub init: String,
    pub segments: Vec<(String, f64)>,
}

pub fn read_media_playlist(stream: &Path, uri: &str) -> MediaPlaylist {
    let text = std::fs::read_to_string(stream.join(uri)).unwrap();
    assert!(text.starts_with("#EXTM3U\n"), "{uri}: {text}");
    assert!(text.contains("#EXT-X-PLAYLIST-TYPE:VOD\n"), "{uri}: {text}");
    assert!(text.trim_end().ends_with("#EXT-X-ENDLIST"), "{uri}: {text}");
    assert!(!text.contains("PROGRAM-DATE-TIME"), "{uri}: {text}");
    let version: u32 = tag_value(&text, "#EXT-X-VERSION:").parse().unwrap();
    assert!(version >= 6, "{uri}: fMP4 needs version ≥ 6");
    let target: f64 = tag_value(&text, "#EXT-X-TARGETDURATION:").parse().unwrap();
    let map = tag_value(&text, "#EXT-X-MAP:");
    let init = attr(map, "URI").unwrap().to_string();
    assert!(stream.join(&init).is_file(), "{init} missing");
    let mut segments = Vec::new();
    let mut pending = None;
    for line in text.lines() {
        if let Some(d) = line.strip_prefix("#EXTINF:") {
            pending = Some(d.trim_end_matches(',').parse::<f64>().unwrap());
        } else if !line.starts_with('#') && !line.is_empty() {
            let d = pending.take().expect("EXTINF before URI");
            assert!(d.round() <= target, "{uri}: EXTINF {d} > target {target}");
            assert!(stream.join(line).is_file(), "{line} missing");
            segments.push((line.to_string(), d));
        }
    }
    assert!(!segments.is_empty());
    MediaPlaylist {
        text,
        init,
        segments,
    }
}

pub fn tag_value<'a>(text: &'a str, tag: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(tag))
        .unwrap_or_else(|| panic!("no {tag} in {text}"))
}

/// `NAME=value` from an HLS attribute list.
pub fn attr<'a>(list: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = list;
    loop {
        let (k, after) = rest.split_once('=')?;
        let (v, tail) = match after.strip_prefix('"') {
            Some(q) => {
                let end = q.find('"')?;
                (&q[..end], q[end + 1..].trim_start_matches(','))
            }
            None => after.split_once(',').unwrap_or((after, "")),
        };
        if k == name {
            return Some(v);
        }
        rest = tail;
    }
}

/// A variant of the master playlist.
#[derive(Debug)]
pub struct StreamInf {
    pub attrs: HashMap<String, String>,
    pub uri: String,
}

pub struct Master {
    pub text: String,
    pub variants: Vec<StreamInf>,
    pub audio_uri: Option<String>,
}

pub fn read_master(stream: &Path) -> Master {
    let text = std::fs::read_to_string(stream.join("master.m3u8")).unwrap();
    assert!(text.starts_with("#EXTM3U\n"));
    assert_eq!(tag_value(&text, "#EXT-X-VERSION:"), "7");
    let mut variants = Vec::new();
    let mut audio_uri = None;
    let mut lines = text.lines().filter(|l| !l.is_empty());
    while let Some(line) = lines.next() {
        if let Some(a) = line.strip_prefix("#EXT-X-MEDIA:") {
            assert_eq!(attr(a, "TYPE"), Some("AUDIO"));
            let uri = attr(a, "URI").unwrap().to_string();
            assert!(stream.join(&uri).is_file());
            audio_uri = Some(uri);
        } else if let Some(a) = line.strip_prefix("#EXT-X-STREAM-INF:") {
            let mut attrs = HashMap::new();
            for key in [
                "BANDWIDTH",
                "AVERAGE-BANDWIDTH",
                "RESOLUTION",
                "CODECS",
                "AUDIO",
                "FRAME-RATE",
            ] {
                if let Some(v) = attr(a, key) {
                    attrs.insert(key.to_string(), v.to_string());
                }
            }
            let uri = lines.next().unwrap().to_string();
            assert!(stream.join(&uri).is_file(), "{uri} missing");
            variants.push(StreamInf { attrs, uri });
        }
    }
    Master {
        text,
        variants,
        audio_uri,
    }
}

/// Representations of the MPD: (id, contentType, width, height, codecs, segment count).
pub fn read_mpd(stream: &Path) -> Vec<(String, String, u32, u32, String, usize)> {
    let xml = std::fs::read_to_string(stream.join("manifest.mpd")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(doc.root_element().attribute("type"), Some("static"));
    let mut out = Vec::new();
    for set in doc
        .descendants()
        .filter(|n| n.has_tag_name(("urn:mpeg:dash:schema:mpd:2011", "AdaptationSet")))
        // Text sets (WebVTT files) have no segments.
        .filter(|n| n.attribute("contentType") != Some("text"))
    {
        let ct = set.attribute("contentType").unwrap().to_string();
        for rep in set
            .children()
            .filter(|n| n.tag_name().name() == "Representation")
        {
            let segs: usize = rep
                .descendants()
                .filter(|n| n.tag_name().name() == "S")
                .map(|s| {
                    1 + s
                        .attribute("r")
                        .map(|r| r.parse::<usize>().unwrap())
                        .unwrap_or(0)
                })
                .sum();
            let template = rep
                .descendants()
                .find(|n| n.tag_name().name() == "SegmentTemplate")
                .unwrap();
            let id = rep.attribute("id").unwrap().to_string();
            // The DASH names resolve to the same files the HLS playlists use.
            let init = template
                .attribute("initialization")
                .unwrap()
                .replace("$RepresentationID$", &id);
            assert!(stream.join(&init).is_file(), "{init}");
            out.push((
                id,
                ct.clone(),
                rep.attribute("width")
                    .map(|w| w.parse().unwrap())
                    .unwrap_or(0),
                rep.attribute("height")
                    .map(|h| h.parse().unwrap())
                    .unwrap_or(0),
                rep.attribute("codecs").unwrap().to_string(),
                segs,
            ));
        }
    }
    out
}

/// Concatenates init + segments of a media playlist into one playable fMP4 file.
pub fn concat_rendition(stream: &Path, playlist: &MediaPlaylist, dest: &Path) {
    let mut bytes = std::fs::read(stream.join(&playlist.init)).unwrap();
    for (seg, _) in &playlist.segments {
        bytes.extend(std::fs::read(stream.join(seg)).unwrap());
    }
    std::fs::write(dest, bytes).unwrap();
}

/// (keyframe pts times, end time = max pts + duration) of the first stream of `kind` (v / a).
pub fn packets(path: &Path, kind: &str) -> (Vec<f64>, f64) {
    let j = ffprobe_json(
        path,
        &[
            "-select_streams",
            &format!("{kind}:0"),
            "-show_entries",
            "packet=pts_time,duration_time,flags",
        ],
    );
    let mut keys = Vec::new();
    let mut end: f64 = 0.0;
    for p in j["packets"].as_array().unwrap() {
        let pts: f64 = p["pts_time"].as_str().unwrap().parse().unwrap();
        let dur: f64 = p["duration_time"]
            .as_str()
            .map(|d| d.parse().unwrap())
            .unwrap_or(0.0);
        end = end.max(pts + dur);
        if p["flags"].as_str().unwrap().contains('K') {
            keys.push(pts);
        }
    }
    (keys, end)
}

/// Names of running processes whose command line mentions `needle`.
pub fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(needle) {
                found.push(cmdline);
            }
        }
    }
    found
}

/// Each representation's segment durations in seconds, from the MPD's `SegmentTimeline`.
pub fn mpd_durations(mpd: &str) -> HashMap<String, Vec<f64>> {
    let doc = roxmltree::Document::parse(mpd).unwrap();
    let mut out = HashMap::new();
    for rep in doc
        .descendants()
        .filter(|n| n.tag_name().name() == "Representation")
    {
        let template = rep
            .descendants()
            .chain(rep.parent().unwrap().children())
            .find(|n| n.tag_name().name() == "SegmentTemplate")
            .unwrap();
        let timescale: f64 = template.attribute("timescale").unwrap().parse().unwrap();
        let mut d = Vec::new();
        for s in template
            .descendants()
            .filter(|n| n.tag_name().name() == "S")
        {
            let len: f64 = s.attribute("d").unwrap().parse().unwrap();
            let r: usize = s.attribute("r").map_or(0, |r| r.parse().unwrap());
            d.extend(std::iter::repeat_n(len / timescale, r + 1));
        }
        out.insert(rep.attribute("id").unwrap().to_string(), d);
    }
    out
}
