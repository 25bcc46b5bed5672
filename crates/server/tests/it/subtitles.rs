//! Text subtitle streams of an upload reach the player, end to end: the HLS master's
//! `SUBTITLES` group, each track's playlist and WebVTT file, and the MPD's text adaptation sets,
//! all fetched through the signed playback URLs; a picture-based stream is left out with a
//! warning on the item. The one-shot `mediaserver transcode` writes the same tracks and reports
//! them in its summary (what a Container Instances runner reads back).

use crate::common;
use crate::workers::bin;

use common::{read, TestServer};
use mediaserver_core::{TextTrack, TextTrackKind, TextTrackSource};
use mediaserver_pipeline::runner::remote::TranscodeSummary;
use reqwest::Url;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

const SRT: &str =
    "1\n00:00:00,500 --> 00:00:01,500\nHello\n\n2\n00:00:02,000 --> 00:00:02,800\nGoodbye\n";
const ASS: &str = "[Script Info]\nScriptType: v4.00+\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n\
Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,Hola\n";

/// A PGS stream of one empty display set, byte by byte (ffmpeg encodes no picture-based
/// subtitle from text; only the codec matters, it is never decoded).
fn pgs(path: &Path) {
    let mut sup = Vec::new();
    let pcs: &[u8] = &[0, 64, 0, 64, 0x10, 0, 0, 0x80, 0, 0, 0];
    for (kind, payload) in [(0x16u8, pcs), (0x80, &[][..])] {
        sup.extend_from_slice(b"PG");
        sup.extend_from_slice(&90_000u32.to_be_bytes());
        sup.extend_from_slice(&0u32.to_be_bytes());
        sup.push(kind);
        sup.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        sup.extend_from_slice(payload);
    }
    std::fs::write(path, sup).unwrap();
}

/// A 3 s 320x240 MKV with a sine track and subtitles: SubRip (eng), ASS (spa, titled
/// "Español"), PGS (fra).
fn two_languages_and_pictures() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("fixtures/subtitles-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (srt, ass, sup) = (dir.join("a.srt"), dir.join("a.ass"), dir.join("a.sup"));
    std::fs::write(&srt, SRT).unwrap();
    std::fs::write(&ass, ASS).unwrap();
    pgs(&sup);
    let out = dir.join("subtitles.mkv");
    let ok = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args([
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25:duration=3",
        ])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:duration=3"])
        .arg("-i")
        .arg(&srt)
        .arg("-i")
        .arg(&ass)
        .arg("-i")
        .arg(&sup)
        .args([
            "-map", "0:v", "-map", "1:a", "-map", "2", "-map", "3", "-map", "4",
        ])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ])
        .args([
            "-c:a", "aac", "-c:s:0", "srt", "-c:s:1", "ass", "-c:s:2", "copy",
        ])
        .args(["-metadata:s:s:0", "language=eng"])
        .args([
            "-metadata:s:s:1",
            "language=spa",
            "-metadata:s:s:1",
            "title=Español",
        ])
        .args(["-metadata:s:s:2", "language=fra"])
        .arg(&out)
        .status()
        .unwrap()
        .success();
    assert!(ok, "ffmpeg failed making the fixture");
    out
}

/// Cue texts of a WebVTT file, in order.
fn cue_texts(vtt: &str) -> Vec<String> {
    assert!(vtt.starts_with("WEBVTT"), "{vtt}");
    vtt.split("\n\n")
        .filter(|block| block.contains("-->"))
        .map(|block| {
            block
                .lines()
                .skip_while(|l| !l.contains("-->"))
                .skip(1)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect()
}

/// `NAME="value"` or `NAME=value` from an HLS attribute list.
fn attr<'a>(list: &'a str, name: &str) -> Option<&'a str> {
    let at = list.find(&format!("{name}="))?;
    let rest = &list[at + name.len() + 1..];
    match rest.strip_prefix('"') {
        Some(q) => q.split('"').next(),
        None => rest.split(',').next(),
    }
}

async fn text(s: &TestServer, url: &Url) -> (reqwest::StatusCode, String, String) {
    let r = s.client.get(url.clone()).send().await.unwrap();
    let status = r.status();
    let ctype = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ctype, r.text().await.unwrap())
}

#[tokio::test]
async fn subtitle_streams_are_published_in_hls_and_dash() {
    let s = TestServer::start_with(&[("WORKERS", "1"), ("TRANSCODE_PRESET", "ultrafast")]).await;
    let token = s.user_token("me@example.com").await;
    let source = two_languages_and_pictures();
    let id = s.upload_ok(&token, "subtitles.mkv", read(&source)).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let item = s.wait_done(&token, &id, 120).await;
    assert_eq!(item["status"], "ready", "{item}");
    assert_eq!(
        item["warnings"],
        json!(["subtitle track 3 (fra) is a picture-based format (PGS) and was left out"]),
        "{item}"
    );

    let signed: Value = s
        .client
        .post(s.url(&format!("/v1/media/{id}/playback-token")))
        .bearer_auth(&token)
        .json(&json!({"ttl_seconds": 600}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hls = Url::parse(&s.url(signed["hls"].as_str().unwrap())).unwrap();
    let dash = Url::parse(&s.url(signed["dash"].as_str().unwrap())).unwrap();

    // HLS: a SUBTITLES rendition per text stream, every variant naming the group.
    let (status, _, master) = text(&s, &hls).await;
    assert!(status.is_success(), "{status}");
    let media: Vec<&str> = master
        .lines()
        .filter_map(|l| l.strip_prefix("#EXT-X-MEDIA:TYPE=SUBTITLES,"))
        .collect();
    let got: Vec<_> = media
        .iter()
        .map(|a| {
            assert_eq!(attr(a, "GROUP-ID"), Some("subs"), "{master}");
            (
                attr(a, "LANGUAGE").unwrap(),
                attr(a, "NAME").unwrap(),
                attr(a, "URI").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("eng", "English", "text-s0.m3u8"),
            ("spa", "Español", "text-s1.m3u8")
        ],
        "{master}"
    );
    let variants: Vec<&str> = master
        .lines()
        .filter(|l| l.starts_with("#EXT-X-STREAM-INF:"))
        .collect();
    assert!(!variants.is_empty());
    assert!(
        variants.iter().all(|v| v.ends_with(",SUBTITLES=\"subs\"")),
        "{master}"
    );

    // Each track's playlist and file, through the signed URL the master is under.
    let want = [
        ("text-s0.m3u8", vec!["Hello", "Goodbye"]),
        ("text-s1.m3u8", vec!["Hola"]),
    ];
    for (playlist, cues) in &want {
        let url = hls.join(playlist).unwrap();
        let (status, ctype, body) = text(&s, &url).await;
        assert!(status.is_success(), "{url}: {status}");
        assert!(ctype.contains("mpegurl"), "{ctype}");
        assert!(body.contains("#EXT-X-ENDLIST"), "{body}");
        let segment = body
            .lines()
            .find(|l| !l.starts_with('#') && !l.is_empty())
            .unwrap();
        let (status, ctype, vtt) = text(&s, &url.join(segment).unwrap()).await;
        assert!(status.is_success(), "{segment}: {status}");
        assert!(ctype.starts_with("text/vtt"), "{ctype}");
        assert_eq!(&cue_texts(&vtt), cues, "{vtt}");
    }

    // DASH: a text adaptation set per track, whose BaseURL resolves under the signed MPD URL.
    let (status, _, mpd) = text(&s, &dash).await;
    assert!(status.is_success(), "{status}");
    let doc = roxmltree::Document::parse(&mpd).unwrap();
    let sets: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("AdaptationSet"))
        .filter(|n| n.attribute("contentType") == Some("text"))
        .map(|set| {
            assert_eq!(set.attribute("mimeType"), Some("text/vtt"), "{mpd}");
            let child = |name: &str| set.children().find(|n| n.has_tag_name(name)).unwrap();
            let rep = child("Representation");
            let base = rep.children().find(|n| n.has_tag_name("BaseURL")).unwrap();
            (
                set.attribute("lang").unwrap().to_string(),
                child("Label").text().unwrap().to_string(),
                child("Role").attribute("value").unwrap().to_string(),
                base.text().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        sets,
        vec![
            (
                "eng".to_string(),
                "English".to_string(),
                "subtitle".to_string(),
                "text-s0.vtt".to_string()
            ),
            (
                "spa".to_string(),
                "Español".to_string(),
                "subtitle".to_string(),
                "text-s1.vtt".to_string()
            ),
        ],
        "{mpd}"
    );
    for ((_, _, _, base), (_, cues)) in sets.iter().zip(&want) {
        let (status, _, vtt) = text(&s, &dash.join(base).unwrap()).await;
        assert!(status.is_success(), "{base}: {status}");
        assert_eq!(&cue_texts(&vtt), cues, "{vtt}");
    }
    // Without the token's path, the same file is not served.
    let bare = s.url(&format!("/v1/media/{id}/hls/text-s0.vtt"));
    let r = s.client.get(&bare).send().await.unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());

    // The one-shot transcode: the same tracks in its summary and on disk.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let result = bin()
        .arg("transcode")
        .arg(&source)
        .arg(&out)
        .args(["--preset", "ultrafast"])
        .env("DATA_DIR", dir.path())
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(source.parent().unwrap());
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let summary: Value = serde_json::from_slice(&result.stdout).unwrap();
    assert_eq!(
        summary["text_tracks"],
        json!([
            {"id": "s0", "language": "eng", "label": "English", "kind": "subtitles", "source": "embedded"},
            {"id": "s1", "language": "spa", "label": "Español", "kind": "subtitles", "source": "embedded"},
        ]),
        "{summary}"
    );
    assert_eq!(summary["warnings"], item["warnings"], "{summary}");
    for (name, cues) in [
        ("text-s0.vtt", ["Hello", "Goodbye"].as_slice()),
        ("text-s1.vtt", &["Hola"]),
    ] {
        let vtt = std::fs::read_to_string(out.join("stream").join(name)).unwrap();
        assert_eq!(cue_texts(&vtt), cues, "{vtt}");
    }
    assert!(out.join("stream/text-s1.m3u8").is_file());
    // What a remote runner reads back from the summary it wrote.
    let written = std::fs::read(out.join("transcode.json")).unwrap();
    let ready = serde_json::from_slice::<TranscodeSummary>(&written)
        .unwrap()
        .into_ready();
    assert_eq!(
        ready.outputs.text_tracks,
        vec![
            TextTrack {
                id: "s0".into(),
                language: "eng".into(),
                label: "English".into(),
                kind: TextTrackKind::Subtitles,
                source: TextTrackSource::Embedded,
            },
            TextTrack {
                id: "s1".into(),
                language: "spa".into(),
                label: "Español".into(),
                kind: TextTrackKind::Subtitles,
                source: TextTrackSource::Embedded,
            },
        ]
    );
}
