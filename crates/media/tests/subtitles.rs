//! Text subtitle streams of the source (SubRip, ASS, WebVTT in MKV; mov_text in MP4) become
//! WebVTT tracks with their language, each with a one-segment HLS playlist, a `SUBTITLES`
//! rendition in the master and a text adaptation set in the MPD; a picture-based stream (PGS)
//! is left out with a warning. Generated clips with cues at known times, checked from the files.

// A panic is how a test reports failure; the workspace's unwrap/expect lints are for code that ships.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use mediaserver_media::probe;
use mediaserver_media::transcode::{self, TextKind, TextTrackInfo, VideoOptions};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn fast() -> VideoOptions {
    VideoOptions {
        preset: "ultrafast".into(),
        timeout: Duration::from_secs(300),
        ..Default::default()
    }
}

const SRT: &str = "1\n00:00:01,000 --> 00:00:02,500\nHello <i>world</i>\n\n2\n00:00:03,000 --> 00:00:03,900\nSecond line\n";
const ASS: &str = "[Script Info]\nScriptType: v4.00+\nPlayResX: 384\nPlayResY: 288\n\n\
[V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n\
Style: Default,Arial,16,&Hffffff,&Hffffff,&H0,&H0,0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,0\n\n\
[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n\
Dialogue: 0,0:00:00.50,0:00:01.50,Default,,0,0,0,,Hola {\\i1}mundo{\\i0}\n\
Dialogue: 0,0:00:02.00,0:00:03.00,Default,,0,0,0,,[música]\n";
const VTT: &str =
    "WEBVTT\n\n00:00:01.200 --> 00:00:02.200\nBonjour\n\n00:00:02.800 --> 00:00:03.500\nEncore\n";

/// A PGS (`.sup`) stream with two display sets, written byte by byte: ffmpeg cannot encode a
/// picture-based subtitle from text, and only the stream's codec matters here (it is never
/// decoded).
fn pgs(dir: &Path) -> PathBuf {
    fn segment(out: &mut Vec<u8>, pts: u32, kind: u8, payload: &[u8]) {
        out.extend_from_slice(b"PG");
        out.extend_from_slice(&pts.to_be_bytes());
        out.extend_from_slice(&0u32.to_be_bytes());
        out.push(kind);
        out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        out.extend_from_slice(payload);
    }
    let mut sup = Vec::new();
    for (pts, number, state) in [(90_000u32, 0u16, 0x80u8), (180_000, 1, 0)] {
        // Presentation composition: 64x64, 25 fps, no objects.
        let mut pcs = vec![0, 64, 0, 64, 0x10];
        pcs.extend_from_slice(&number.to_be_bytes());
        pcs.extend_from_slice(&[state, 0, 0, 0]);
        segment(&mut sup, pts, 0x16, &pcs);
        segment(&mut sup, pts, 0x80, &[]);
    }
    let path = dir.join("pictures.sup");
    std::fs::write(&path, sup).unwrap();
    path
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// A 2.5 s clip with a sine track and, as Matroska: SubRip (eng), ASS (spa, titled, for the
/// hard of hearing), PGS (deu), WebVTT (fra). The PGS stream sits third, so the WebVTT one keeps
/// source order but becomes `s2`. The last cues end at 3.9 s, well after the picture and
/// sound (the container's duration is the cue's, the streams' are in Matroska tags).
fn mkv(dir: &Path) -> PathBuf {
    let out = dir.join("subs.mkv");
    let (srt, ass, vtt) = (
        write(dir, "a.srt", SRT),
        write(dir, "a.ass", ASS),
        write(dir, "a.vtt", VTT),
    );
    let sup = pgs(dir).to_string_lossy().into_owned();
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=160x90:rate=25:duration=2.5",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=2.5",
        "-i",
        &srt,
        "-i",
        &ass,
        "-i",
        &sup,
        "-i",
        &vtt,
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-map",
        "2",
        "-map",
        "3",
        "-map",
        "4",
        "-map",
        "5",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-c:s:0",
        "srt",
        "-c:s:1",
        "ass",
        "-c:s:2",
        "copy",
        "-c:s:3",
        "webvtt",
        "-metadata:s:s:0",
        "language=eng",
        "-metadata:s:s:1",
        "language=spa",
        "-metadata:s:s:1",
        "title=Español SDH",
        "-disposition:s:1",
        "hearing_impaired",
        "-metadata:s:s:2",
        "language=deu",
        "-metadata:s:s:3",
        "language=fra",
        out.to_str().unwrap(),
    ]);
    out
}

/// A 4 s MP4 with two mov_text streams: the SubRip cues tagged English, the WebVTT ones
/// untagged.
fn mp4(dir: &Path) -> PathBuf {
    let out = dir.join("subs.mp4");
    let (srt, vtt) = (write(dir, "b.srt", SRT), write(dir, "b.vtt", VTT));
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=160x90:rate=25:duration=4",
        "-i",
        &srt,
        "-i",
        &vtt,
        "-map",
        "0:v",
        "-map",
        "1",
        "-map",
        "2",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:s",
        "mov_text",
        "-metadata:s:s:0",
        "language=eng",
        out.to_str().unwrap(),
    ]);
    out
}

/// `hh:mm:ss.mmm` or `mm:ss.mmm` in seconds.
fn vtt_time(s: &str) -> f64 {
    let parts: Vec<f64> = s.trim().split(':').map(|p| p.parse().unwrap()).collect();
    parts.iter().fold(0.0, |acc, p| acc * 60.0 + p)
}

/// The cues of a WebVTT file: (start, end, text with its lines joined by `\n`).
fn cues(text: &str) -> Vec<(f64, f64, String)> {
    assert!(text.starts_with("WEBVTT"), "{text}");
    let text = text.replace("\r\n", "\n");
    text.split("\n\n")
        .filter_map(|block| {
            let mut lines = block.lines().skip_while(|l| !l.contains("-->"));
            let timing = lines.next()?;
            let (start, rest) = timing.split_once("-->").unwrap();
            let end = rest.split_whitespace().next().unwrap();
            let body: Vec<&str> = lines.collect();
            Some((vtt_time(start), vtt_time(end), body.join("\n")))
        })
        .collect()
}

fn assert_cues(got: &[(f64, f64, String)], want: &[(f64, f64, &str)], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: {got:?}");
    for ((s, e, text), (ws, we, wtext)) in got.iter().zip(want) {
        assert!(
            (s - ws).abs() < 0.0015 && (e - we).abs() < 0.0015,
            "{what}: cue {text:?} at {s}–{e}, want {ws}–{we}"
        );
        assert_eq!(text, wtext, "{what}");
    }
}

/// Where the cues of subtitle stream `index` of `src` sit on its timeline, as ffprobe reads the
/// packets: (start, end). Muxing the fixture may have moved every stream a little (the AAC
/// encoder's priming), so the times written into the subtitle files are not the reference.
fn source_cue_times(src: &Path, index: usize) -> Vec<(f64, f64)> {
    let probed = ffprobe_json(
        src,
        &[
            "-select_streams",
            &index.to_string(),
            "-show_entries",
            "packet=pts_time,duration_time,size",
        ],
    );
    probed["packets"]
        .as_array()
        .unwrap()
        .iter()
        // mov_text fills the gaps between cues with empty samples.
        .filter(|p| p["size"].as_str().unwrap().parse::<u32>().unwrap() > 2)
        .map(|p| {
            let start: f64 = p["pts_time"].as_str().unwrap().parse().unwrap();
            let duration: f64 = p["duration_time"].as_str().unwrap().parse().unwrap();
            (start, start + duration)
        })
        .collect()
}

/// Where the source's timeline starts (ffmpeg starts every output there: 0 in the published
/// files is this).
fn source_start(src: &Path) -> f64 {
    let probed = ffprobe_json(src, &["-show_entries", "format=start_time"]);
    probed["format"]["start_time"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// The source's cue times, on the published timeline, with the expected texts.
fn expected<'a>(src: &Path, index: usize, texts: &[&'a str]) -> Vec<(f64, f64, &'a str)> {
    let times = source_cue_times(src, index);
    let start = source_start(src);
    assert_eq!(times.len(), texts.len(), "{times:?}");
    times
        .into_iter()
        .zip(texts)
        .map(|((s, e), t)| (s - start, e - start, *t))
        .collect()
}

/// A published WebVTT file: its header maps cue time 0 to media time 0, then its cues.
fn read_vtt(stream: &Path, id: &str) -> Vec<(f64, f64, String)> {
    let text = std::fs::read_to_string(stream.join(format!("text-{id}.vtt"))).unwrap();
    assert!(
        text.starts_with("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n"),
        "{text}"
    );
    cues(&text)
}

/// The first video frame's presentation time in the published fMP4 of the top rung, and in the
/// source (from where its timeline starts): the cues are right only if the video kept the
/// source's timeline (within a frame).
fn check_video_timeline(src: &Path, stream: &Path) {
    let playlist = read_media_playlist(stream, "media_0.m3u8");
    let joined = stream.join("rung0.mp4");
    concat_rendition(stream, &playlist, &joined);
    let start = |p: &Path| -> f64 {
        let probed = ffprobe_json(
            p,
            &[
                "-select_streams",
                "v:0",
                "-show_entries",
                "stream=start_time",
            ],
        );
        probed["streams"][0]["start_time"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let (published, source) = (start(&joined), start(src) - source_start(src));
    std::fs::remove_file(&joined).unwrap();
    assert!(
        (published - source).abs() <= 0.041,
        "the video starts at {published}, the source's at {source}"
    );
}

fn track(id: &str, language: &str, label: &str, kind: TextKind) -> TextTrackInfo {
    TextTrackInfo {
        id: id.into(),
        language: language.into(),
        label: label.into(),
        kind,
    }
}

/// `EXT-X-MEDIA:TYPE=SUBTITLES` attribute lists of the master.
fn subtitle_media(master: &str) -> Vec<&str> {
    master
        .lines()
        .filter_map(|l| l.strip_prefix("#EXT-X-MEDIA:"))
        .filter(|a| attr(a, "TYPE") == Some("SUBTITLES"))
        .collect()
}

/// Text adaptation sets of the MPD: (lang, Role value, Label, representation id, BaseURL).
fn mpd_text_sets(stream: &Path) -> Vec<(String, String, String, String, String)> {
    let xml = std::fs::read_to_string(stream.join("manifest.mpd")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("AdaptationSet"))
        .filter(|n| n.attribute("contentType") == Some("text"))
        .map(|set| {
            assert_eq!(set.attribute("mimeType"), Some("text/vtt"), "{xml}");
            let child = |name: &str| set.children().find(|n| n.has_tag_name(name)).unwrap();
            let role = child("Role");
            assert_eq!(
                role.attribute("schemeIdUri"),
                Some("urn:mpeg:dash:role:2011")
            );
            let rep = child("Representation");
            let base = rep.children().find(|n| n.has_tag_name("BaseURL")).unwrap();
            (
                set.attribute("lang").unwrap().to_string(),
                role.attribute("value").unwrap().to_string(),
                child("Label").text().unwrap().to_string(),
                rep.attribute("id").unwrap().to_string(),
                base.text().unwrap().to_string(),
            )
        })
        .collect()
}

/// The one-segment playlist of a text track: VOD, the whole file, EXTINF the media duration.
fn check_text_playlist(stream: &Path, id: &str, duration: f64) {
    let text = std::fs::read_to_string(stream.join(format!("text-{id}.m3u8"))).unwrap();
    assert!(text.starts_with("#EXTM3U\n"), "{text}");
    assert!(text.contains("#EXT-X-PLAYLIST-TYPE:VOD\n"), "{text}");
    assert!(text.trim_end().ends_with("#EXT-X-ENDLIST"), "{text}");
    let target: u64 = tag_value(&text, "#EXT-X-TARGETDURATION:").parse().unwrap();
    let extinf: f64 = tag_value(&text, "#EXTINF:")
        .trim_end_matches(',')
        .parse()
        .unwrap();
    assert!((extinf - duration).abs() < 1e-3, "{text}");
    assert_eq!(target, duration.ceil() as u64, "{text}");
    let uris: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert_eq!(uris, vec![format!("text-{id}.vtt")], "{text}");
}

#[tokio::test]
async fn mkv_text_streams_become_webvtt_tracks_and_pgs_is_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let src = mkv(dir.path());
    let info = probe::probe(&src, Duration::from_secs(30)).await.unwrap();
    assert_eq!(info.subtitle_streams.len(), 4);
    let out_dir = dir.path().join("out");
    let out = transcode::video(&src, &out_dir, &info, &fast(), |_| {})
        .await
        .unwrap();
    assert_eq!(
        out.text_tracks,
        vec![
            track("s0", "eng", "English", TextKind::Subtitles),
            track("s1", "spa", "Español SDH", TextKind::Captions),
            track("s2", "fra", "French", TextKind::Subtitles),
        ]
    );
    assert_eq!(
        out.warnings,
        vec!["subtitle track 3 (deu) is a picture-based format (PGS) and was left out"]
    );

    let stream = out_dir.join("stream");
    check_video_timeline(&src, &stream);
    // Source streams: 0 video, 1 audio, 2 SubRip, 3 ASS, 4 PGS, 5 WebVTT. The fixture was
    // written from cues at 1.0–2.5 and 3.0–3.9 s (SubRip), 0.5–1.5 and 2.0–3.0 s (ASS),
    // 1.2–2.2 and 2.8–3.5 s (WebVTT), as the source's timeline has them.
    assert_cues(
        &read_vtt(&stream, "s0"),
        &expected(&src, 2, &["Hello <i>world</i>", "Second line"]),
        "SubRip",
    );
    assert_cues(
        &read_vtt(&stream, "s1"),
        &expected(&src, 3, &["Hola <i>mundo</i>", "[música]"]),
        "ASS",
    );
    assert_cues(
        &read_vtt(&stream, "s2"),
        &expected(&src, 5, &["Bonjour", "Encore"]),
        "WebVTT",
    );
    let first = source_cue_times(&src, 2)[0];
    assert!(
        (first.0 - 1.0).abs() < 0.05 && (first.1 - 2.5).abs() < 0.05,
        "{first:?}"
    );
    // Nothing but the published tracks: no scratch left, no file for the PGS stream.
    let mut texts: Vec<String> = std::fs::read_dir(&stream)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("text-"))
        .collect();
    texts.sort();
    assert_eq!(
        texts,
        [
            "text-s0.m3u8",
            "text-s0.vtt",
            "text-s1.m3u8",
            "text-s1.vtt",
            "text-s2.m3u8",
            "text-s2.vtt"
        ]
    );
    assert!(!out_dir.join(".subtitles").exists());

    for id in ["s0", "s1", "s2"] {
        check_text_playlist(&stream, id, out.duration);
    }
    let master = std::fs::read_to_string(stream.join("master.m3u8")).unwrap();
    let media = subtitle_media(&master);
    let got: Vec<_> = media
        .iter()
        .map(|a| {
            assert_eq!(attr(a, "GROUP-ID"), Some("subs"), "{master}");
            assert_eq!(attr(a, "DEFAULT"), Some("NO"), "{master}");
            assert_eq!(attr(a, "AUTOSELECT"), Some("YES"), "{master}");
            (
                attr(a, "LANGUAGE").unwrap(),
                attr(a, "NAME").unwrap(),
                attr(a, "URI").unwrap(),
                attr(a, "CHARACTERISTICS"),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("eng", "English", "text-s0.m3u8", None),
            (
                "spa",
                "Español SDH",
                "text-s1.m3u8",
                Some("public.accessibility.transcribes-spoken-dialog,public.accessibility.describes-music-and-sound")
            ),
            ("fra", "French", "text-s2.m3u8", None),
        ]
    );
    let variants: Vec<&str> = master
        .lines()
        .filter_map(|l| l.strip_prefix("#EXT-X-STREAM-INF:"))
        .collect();
    assert!(!variants.is_empty());
    for v in variants {
        assert_eq!(attr(v, "SUBTITLES"), Some("subs"), "{master}");
        assert_eq!(attr(v, "AUDIO"), Some("audio"), "{master}");
    }

    assert_eq!(
        mpd_text_sets(&stream),
        vec![
            (
                "eng".into(),
                "subtitle".into(),
                "English".into(),
                "text-s0".into(),
                "text-s0.vtt".into()
            ),
            (
                "spa".into(),
                "caption".into(),
                "Español SDH".into(),
                "text-s1".into(),
                "text-s1.vtt".into()
            ),
            (
                "fra".into(),
                "subtitle".into(),
                "French".into(),
                "text-s2".into(),
                "text-s2.vtt".into()
            ),
        ]
    );
    // The audio and video sets are still all there.
    let reps = read_mpd(&stream);
    assert!(reps.iter().any(|r| r.1 == "audio"));
    assert!(reps.iter().any(|r| r.1 == "video"));
}

#[tokio::test]
async fn mp4_mov_text_streams_become_webvtt_tracks() {
    let dir = tempfile::tempdir().unwrap();
    let src = mp4(dir.path());
    let info = probe::probe(&src, Duration::from_secs(30)).await.unwrap();
    let out_dir = dir.path().join("out");
    let out = transcode::video(&src, &out_dir, &info, &fast(), |_| {})
        .await
        .unwrap();
    assert_eq!(
        out.text_tracks,
        vec![
            track("s0", "eng", "English", TextKind::Subtitles),
            track("s1", "und", "Subtitles 2", TextKind::Subtitles),
        ]
    );
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    let stream = out_dir.join("stream");
    check_video_timeline(&src, &stream);
    // Source streams: 0 video, 1 and 2 mov_text (italics survive as a style record).
    assert_cues(
        &read_vtt(&stream, "s0"),
        &expected(&src, 1, &["Hello <i>world</i>", "Second line"]),
        "mov_text eng",
    );
    assert_cues(
        &read_vtt(&stream, "s1"),
        &expected(&src, 2, &["Bonjour", "Encore"]),
        "mov_text und",
    );
    assert_eq!(
        source_cue_times(&src, 1),
        vec![(1.0, 2.5), (3.0, 3.9)],
        "an MP4 without audio keeps the cues where they were written"
    );
    for id in ["s0", "s1"] {
        check_text_playlist(&stream, id, out.duration);
    }
    let master = std::fs::read_to_string(stream.join("master.m3u8")).unwrap();
    assert_eq!(subtitle_media(&master).len(), 2, "{master}");
    let langs: Vec<String> = mpd_text_sets(&stream).into_iter().map(|s| s.0).collect();
    assert_eq!(langs, ["eng", "und"]);
}

#[tokio::test]
async fn a_source_without_subtitles_gets_no_text_tracks() {
    let dir = tempfile::tempdir().unwrap();
    let src = make_video(dir.path(), "plain.mp4", 160, 90, 25, 2.0, true);
    let info = probe::probe(&src, Duration::from_secs(30)).await.unwrap();
    let out_dir = dir.path().join("out");
    let out = transcode::video(&src, &out_dir, &info, &fast(), |_| {})
        .await
        .unwrap();
    assert!(out.text_tracks.is_empty());
    let stream = out_dir.join("stream");
    let master = std::fs::read_to_string(stream.join("master.m3u8")).unwrap();
    assert!(!master.contains("SUBTITLES"), "{master}");
    assert!(mpd_text_sets(&stream).is_empty());
    assert!(std::fs::read_dir(&stream).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with("text-")));
}

/// mov_text streams whose every byte the `noise` filter overwrote decode to nothing (ffmpeg
/// gives up on a run where too many packets fail): with three of them beside a good one the
/// joint conversion fails, and the good one is still published, whole, by its own run; the
/// broken ones are left out with a warning each and the video is not failed.
#[tokio::test]
async fn streams_that_fail_to_convert_are_left_out_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let srt = write(dir.path(), "ok.srt", SRT);
    let src = dir.path().join("broken.mp4");
    let mut args: Vec<String> = [
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=160x90:rate=25:duration=4",
    ]
    .map(String::from)
    .to_vec();
    for _ in 0..4 {
        args.extend(["-i".into(), srt.clone()]);
    }
    args.push("-map".into());
    args.push("0:v".into());
    for i in 1..=4 {
        args.extend(["-map".into(), i.to_string()]);
    }
    args.extend(
        [
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:s",
            "mov_text",
        ]
        .map(String::from),
    );
    for (i, lang) in ["eng", "ita", "deu", "jpn"].iter().enumerate() {
        args.extend([format!("-metadata:s:s:{i}"), format!("language={lang}")]);
        if i > 0 {
            args.extend([format!("-bsf:s:{i}"), "noise=amount=1".into()]);
        }
    }
    args.push(src.to_string_lossy().into_owned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ffmpeg(&args);
    // The fixture does what it says: converting all four in one run fails.
    let joint = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-loglevel", "quiet", "-y", "-i"])
        .arg(&src)
        .args((1..=4).flat_map(|i| {
            [
                "-map".to_string(),
                format!("0:{i}"),
                "-c:s".into(),
                "webvtt".into(),
                "-f".into(),
                "webvtt".into(),
                dir.path()
                    .join(format!("{i}.vtt"))
                    .to_string_lossy()
                    .into_owned(),
            ]
        }))
        .status()
        .unwrap();
    assert!(!joint.success());

    let info = probe::probe(&src, Duration::from_secs(30)).await.unwrap();
    let out_dir = dir.path().join("out");
    let out = transcode::video(&src, &out_dir, &info, &fast(), |_| {})
        .await
        .unwrap();
    assert_eq!(
        out.text_tracks,
        vec![track("s0", "eng", "English", TextKind::Subtitles)]
    );
    assert_eq!(
        out.warnings,
        vec![
            "subtitle track 2 (ita, Italian) could not be converted to WebVTT and was left out",
            "subtitle track 3 (deu, German) could not be converted to WebVTT and was left out",
            "subtitle track 4 (jpn, Japanese) could not be converted to WebVTT and was left out",
        ]
    );
    let stream = out_dir.join("stream");
    assert_cues(
        &read_vtt(&stream, "s0"),
        &expected(&src, 1, &["Hello <i>world</i>", "Second line"]),
        "mov_text",
    );
    assert!(!stream.join("text-s1.vtt").exists());
    let master = std::fs::read_to_string(stream.join("master.m3u8")).unwrap();
    assert_eq!(subtitle_media(&master).len(), 1, "{master}");
    assert_eq!(mpd_text_sets(&stream).len(), 1);
}

/// An audio upload (Matroska audio with a SubRip transcript) gets its text track too.
#[tokio::test]
async fn an_audio_upload_keeps_its_text_stream() {
    let dir = tempfile::tempdir().unwrap();
    let srt = write(dir.path(), "lyrics.srt", SRT);
    let src = dir.path().join("song.mka");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=4",
        "-i",
        &srt,
        "-map",
        "0",
        "-map",
        "1",
        "-c:a",
        "aac",
        "-c:s",
        "srt",
        "-metadata:s:s:0",
        "language=eng",
        src.to_str().unwrap(),
    ]);
    let info = probe::probe(&src, Duration::from_secs(30)).await.unwrap();
    let out_dir = dir.path().join("out");
    let opts = transcode::AudioOptions {
        timeout: Duration::from_secs(300),
        ..Default::default()
    };
    let out = transcode::audio(&src, &out_dir, &info, &opts, |_| {})
        .await
        .unwrap();
    assert_eq!(
        out.text_tracks,
        vec![track("s0", "eng", "English", TextKind::Subtitles)]
    );
    let stream = out_dir.join("stream");
    assert_cues(
        &read_vtt(&stream, "s0"),
        &expected(&src, 1, &["Hello <i>world</i>", "Second line"]),
        "SubRip",
    );
    check_text_playlist(&stream, "s0", out.duration);
    let master = std::fs::read_to_string(stream.join("master.m3u8")).unwrap();
    assert_eq!(subtitle_media(&master).len(), 1, "{master}");
    assert!(master
        .lines()
        .filter(|l| l.starts_with("#EXT-X-STREAM-INF:"))
        .all(|l| attr(l, "SUBTITLES") == Some("subs")));
    assert_eq!(mpd_text_sets(&stream).len(), 1);
}

/// A source whose timestamps start at 10 s (a copy of a broadcast recording): the video and the
/// cues both come out on a timeline starting at 0, the cues still on their frames. (Matroska's
/// per-stream `DURATION` tags are end timestamps here: 14 s for 4 s of media.)
#[tokio::test]
async fn a_source_starting_late_keeps_cues_on_their_frames() {
    let dir = tempfile::tempdir().unwrap();
    let srt = write(dir.path(), "late.srt", SRT);
    let src = dir.path().join("late.mkv");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=160x90:rate=25:duration=4",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=4",
        "-i",
        &srt,
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-map",
        "2",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-c:s",
        "srt",
        "-output_ts_offset",
        "10",
        src.to_str().unwrap(),
    ]);
    assert!(source_start(&src) > 9.9);
    let info = probe::probe(&src, Duration::from_secs(30)).await.unwrap();
    let out_dir = dir.path().join("out");
    let out = transcode::video(&src, &out_dir, &info, &fast(), |_| {})
        .await
        .unwrap();
    assert!((out.duration - 4.0).abs() < 0.2, "{}", out.duration);
    let stream = out_dir.join("stream");
    check_video_timeline(&src, &stream);
    let cues = read_vtt(&stream, "s0");
    assert_cues(
        &cues,
        &expected(&src, 2, &["Hello <i>world</i>", "Second line"]),
        "SubRip",
    );
    assert!((cues[0].0 - 1.0).abs() < 0.05, "{cues:?}");
}
