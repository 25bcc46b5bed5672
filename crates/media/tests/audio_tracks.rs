//! Every source audio track published, with language and name, in both HLS and DASH; a track
//! that cannot be decoded is left out with a warning. Generated clips, checked with ffprobe,
//! ffmpeg's astats and the playlist/MPD text.

// A panic is how a test reports failure; the workspace's unwrap/expect lints are for code that ships.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use mediaserver_media::probe;
use mediaserver_media::transcode::{self, VideoOptions};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn fast() -> VideoOptions {
    VideoOptions {
        preset: "ultrafast".into(),
        timeout: Duration::from_secs(300),
        ..Default::default()
    }
}

/// The master's `EXT-X-MEDIA` lines, as attribute lists, in order.
fn media_lines(master: &str) -> Vec<String> {
    master
        .lines()
        .filter_map(|l| l.strip_prefix("#EXT-X-MEDIA:"))
        .map(str::to_string)
        .collect()
}

/// Audio adaptation sets of the MPD: (lang, Role value, representation id).
fn mpd_audio_sets(stream: &Path) -> Vec<(Option<String>, Option<String>, String)> {
    let xml = std::fs::read_to_string(stream.join("manifest.mpd")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    doc.descendants()
        .filter(|n| n.tag_name().name() == "AdaptationSet")
        .filter(|n| n.attribute("contentType") == Some("audio"))
        .map(|set| {
            let role = set
                .children()
                .find(|n| n.tag_name().name() == "Role")
                .map(|r| {
                    assert_eq!(r.attribute("schemeIdUri"), Some("urn:mpeg:dash:role:2011"));
                    r.attribute("value").unwrap().to_string()
                });
            let reps: Vec<_> = set
                .children()
                .filter(|n| n.tag_name().name() == "Representation")
                .collect();
            assert_eq!(reps.len(), 1, "one representation per audio set");
            (
                set.attribute("lang").map(str::to_string),
                role,
                reps[0].attribute("id").unwrap().to_string(),
            )
        })
        .collect()
}

/// Per-channel RMS level (dB) of `path` between `from` and `to` seconds, from ffmpeg's astats.
fn rms_db(path: &Path, from: f64, to: f64) -> Vec<f64> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-i"])
        .arg(path)
        .args([
            "-af",
            &format!("atrim={from}:{to},astats=measure_overall=none"),
            "-f",
            "null",
            "-",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| l.split("RMS level dB:").nth(1))
        .map(|v| {
            let v = v.trim();
            if v == "-inf" {
                f64::NEG_INFINITY
            } else {
                v.parse().unwrap()
            }
        })
        .collect()
}

/// A 3 s 320x240 clip with three audio tracks: English mono (not default), Spanish mono with a
/// title (the default) and an untagged 5.1 track whose first half has signal only in the front
/// left channel and the LFE, its second half only in the centre.
fn three_track_source(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("three.mkv");
    let surround = "aevalsrc=if(lt(t\\,1.5)\\,0.5*sin(440*2*PI*t)\\,0)|0|if(gte(t\\,1.5)\\,0.5*sin(660*2*PI*t)\\,0)|0.5*sin(60*2*PI*t)|0|0:c=5.1:s=48000:d=3";
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25:duration=3",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=44100:duration=3",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=660:sample_rate=44100:duration=3",
        "-f",
        "lavfi",
        "-i",
        surround,
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-map",
        "2:a",
        "-map",
        "3:a",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-metadata:s:a:0",
        "language=eng",
        "-metadata:s:a:1",
        "language=spa",
        "-metadata:s:a:1",
        "title=Español",
        "-disposition:a:0",
        "0",
        "-disposition:a:1",
        "default",
        "-disposition:a:2",
        "0",
        path.to_str().unwrap(),
    ]);
    let j = ffprobe_json(&path, &["-show_streams", "-select_streams", "a"]);
    assert_eq!(j["streams"][2]["channels"], 6, "{j}");
    path
}

#[tokio::test]
async fn every_audio_track_is_published_with_language_and_name() {
    let dir = tempfile::tempdir().unwrap();
    let input = three_track_source(dir.path());
    let out = dir.path().join("out");
    let info = probe::probe(&input, Duration::from_secs(30)).await.unwrap();
    let result = transcode::video(&input, &out, &info, &fast(), |_| {})
        .await
        .unwrap();
    let stream = out.join("stream");

    // HLS: one EXT-X-MEDIA per track, the source's default first, all in the variants' group.
    let master = read_master(&stream);
    let media = media_lines(&master.text);
    assert_eq!(media.len(), 3, "{}", master.text);
    let expect = [
        ("spa", "Español", "YES"),
        ("eng", "English", "NO"),
        ("und", "Audio 3", "NO"),
    ];
    for (m, (lang, name, default)) in media.iter().zip(expect) {
        assert_eq!(attr(m, "TYPE"), Some("AUDIO"), "{m}");
        assert_eq!(attr(m, "GROUP-ID"), Some("audio"), "{m}");
        assert_eq!(attr(m, "LANGUAGE"), Some(lang), "{m}");
        assert_eq!(attr(m, "NAME"), Some(name), "{m}");
        assert_eq!(attr(m, "DEFAULT"), Some(default), "{m}");
        assert_eq!(attr(m, "AUTOSELECT"), Some("YES"), "{m}");
        assert_eq!(attr(m, "CHANNELS"), Some("2"), "{m}");
    }
    assert!(!master.variants.is_empty());
    for v in &master.variants {
        assert_eq!(v.attrs.get("AUDIO").map(String::as_str), Some("audio"));
    }

    // Every track: AAC-LC stereo 48 kHz for the whole clip.
    let uris: Vec<String> = media
        .iter()
        .map(|m| attr(m, "URI").unwrap().to_string())
        .collect();
    let mut joined_files = Vec::new();
    for (i, uri) in uris.iter().enumerate() {
        let playlist = read_media_playlist(&stream, uri);
        let joined = out.join(format!("check-audio-{i}.mp4"));
        concat_rendition(&stream, &playlist, &joined);
        let j = ffprobe_json(&joined, &["-show_streams"]);
        let s = &j["streams"][0];
        assert_eq!(s["codec_name"], "aac", "{uri}");
        assert_eq!(s["profile"], "LC", "{uri}");
        assert_eq!(s["channels"], 2, "{uri}");
        assert_eq!(s["sample_rate"], "48000", "{uri}");
        let (_, end) = packets(&joined, "a");
        assert!((end - 3.0).abs() <= 0.1, "{uri} lasts {end}");
        joined_files.push(joined);
    }

    // The 5.1 track is downmixed by the standard matrix: front left to the left only, the LFE
    // dropped, the centre equally to both sides.
    let surround = &joined_files[2];
    let first = rms_db(surround, 0.3, 1.2);
    assert_eq!(first.len(), 2, "{first:?}");
    assert!(first[0] > -20.0, "front left reaches the left: {first:?}");
    assert!(first[1] < -60.0, "nothing on the right: {first:?}");
    let second = rms_db(surround, 1.8, 2.7);
    assert!(second[0] > -25.0 && second[1] > -25.0, "{second:?}");
    assert!(
        (second[0] - second[1]).abs() < 0.5,
        "centre balanced: {second:?}"
    );

    // DASH: one adaptation set per track, with lang and Role, in the same order.
    let sets = mpd_audio_sets(&stream);
    assert_eq!(
        sets.iter()
            .map(|(l, r, _)| (l.as_deref().unwrap(), r.as_deref().unwrap()))
            .collect::<Vec<_>>(),
        vec![("spa", "main"), ("eng", "alternate"), ("und", "alternate")]
    );
    for ((_, _, id), uri) in sets.iter().zip(&uris) {
        assert_eq!(uri, &format!("media_{id}.m3u8"));
    }

    // What the item will list.
    let tracks: Vec<_> = result
        .audio_tracks
        .iter()
        .map(|t| {
            (
                t.id,
                t.language.as_str(),
                t.name.as_str(),
                t.channels,
                t.default,
            )
        })
        .collect();
    assert_eq!(
        tracks,
        vec![
            (0, "spa", "Español", 2, true),
            (1, "eng", "English", 2, false),
            (2, "und", "Audio 3", 2, false),
        ]
    );
    assert!(result.audio && result.warnings.is_empty());
}

#[tokio::test]
async fn an_undecodable_audio_track_is_left_out_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("bad-audio.mkv");
    // The second track's packets are overwritten byte by byte (noise bsf, amount=1): still AAC
    // by its header, but nothing in it decodes.
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25:duration=3",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=3",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=660:duration=3",
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-map",
        "2:a",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-bsf:a:1",
        "noise=amount=1",
        "-metadata:s:a:0",
        "language=eng",
        "-metadata:s:a:1",
        "language=spa",
        input.to_str().unwrap(),
    ]);
    // The premise: ffmpeg decodes no frame of that track.
    let decoded = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-v", "error", "-i"])
        .arg(&input)
        .args(["-map", "0:2", "-f", "framecrc", "-"])
        .output()
        .unwrap();
    let frames = String::from_utf8_lossy(&decoded.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .count();
    assert_eq!(frames, 0);

    let out = dir.path().join("out");
    let info = probe::probe(&input, Duration::from_secs(30)).await.unwrap();
    assert_eq!(info.audio_streams.len(), 2);
    let result = transcode::video(&input, &out, &info, &fast(), |_| {})
        .await
        .unwrap();
    let stream = out.join("stream");

    let master = read_master(&stream);
    let media = media_lines(&master.text);
    assert_eq!(media.len(), 1, "{}", master.text);
    assert_eq!(attr(&media[0], "LANGUAGE"), Some("eng"));
    assert_eq!(attr(&media[0], "DEFAULT"), Some("YES"));
    let sets = mpd_audio_sets(&stream);
    assert_eq!(sets.len(), 1, "{sets:?}");
    assert_eq!(sets[0].0.as_deref(), Some("eng"));
    // Nothing of the dead stream is left to publish.
    let dead = result.renditions.len() + 1;
    for entry in std::fs::read_dir(&stream).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            transcode::segment_stream(&name).map(|(s, _)| s) != Some(dead),
            "{name} published"
        );
        assert_ne!(name, format!("media_{dead}.m3u8"));
    }
    // And the video still plays with the good track.
    let playlist = read_media_playlist(&stream, attr(&media[0], "URI").unwrap());
    let joined = out.join("check-audio.mp4");
    concat_rendition(&stream, &playlist, &joined);
    assert_eq!(
        ffprobe_json(&joined, &["-show_streams"])["streams"][0]["channels"],
        2
    );

    assert_eq!(result.audio_tracks.len(), 1);
    assert_eq!(result.warnings.len(), 1, "{:?}", result.warnings);
    assert!(result.warnings[0].contains("spa"), "{:?}", result.warnings);
}

#[tokio::test]
async fn audio_only_uploads_keep_every_track_too() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("two.mka");
    // English (the default) and a 7.1 German track with a title, plus a third whose packets
    // are noise: nothing in it decodes.
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=3",
        "-f",
        "lavfi",
        "-i",
        "aevalsrc=0.5*sin(440*2*PI*t)|0.5*sin(550*2*PI*t)|0.5*sin(660*2*PI*t)|0|0|0|0.3*sin(330*2*PI*t)|0.3*sin(770*2*PI*t):c=7.1:s=48000:d=3",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=660:duration=3",
        "-map",
        "0:a",
        "-map",
        "1:a",
        "-map",
        "2:a",
        "-c:a",
        "aac",
        "-bsf:a:2",
        "noise=amount=1",
        "-metadata:s:a:0",
        "language=eng",
        "-metadata:s:a:1",
        "language=ger",
        "-metadata:s:a:1",
        "title=Deutsch (7.1)",
        "-metadata:s:a:2",
        "language=ita",
        input.to_str().unwrap(),
    ]);
    let info = probe::probe(&input, Duration::from_secs(30)).await.unwrap();
    assert_eq!(info.audio_streams.len(), 3);
    assert_eq!(info.audio_streams[1].channels, 8);
    let out = dir.path().join("out");
    let result = transcode::audio(
        &input,
        &out,
        &info,
        &transcode::AudioOptions::default(),
        |_| {},
    )
    .await
    .unwrap();
    let stream = out.join("stream");

    // HLS: the bitrate ladder of the default track as variants, in one group with the other.
    let master = std::fs::read_to_string(stream.join("master.m3u8")).unwrap();
    let media = media_lines(&master);
    assert_eq!(media.len(), 2, "{master}");
    assert_eq!(attr(&media[0], "LANGUAGE"), Some("eng"), "{master}");
    assert_eq!(attr(&media[0], "NAME"), Some("English"), "{master}");
    assert_eq!(attr(&media[0], "DEFAULT"), Some("YES"), "{master}");
    assert_eq!(
        attr(&media[0], "URI"),
        None,
        "carried by the variants: {master}"
    );
    assert_eq!(attr(&media[1], "LANGUAGE"), Some("ger"), "{master}");
    assert_eq!(attr(&media[1], "NAME"), Some("Deutsch (7.1)"), "{master}");
    assert_eq!(attr(&media[1], "DEFAULT"), Some("NO"), "{master}");
    assert_eq!(attr(&media[1], "AUTOSELECT"), Some("YES"), "{master}");
    let variants: Vec<&str> = master
        .lines()
        .filter_map(|l| l.strip_prefix("#EXT-X-STREAM-INF:"))
        .collect();
    assert_eq!(variants.len(), 2, "{master}");
    for v in &variants {
        assert_eq!(attr(v, "AUDIO"), Some("audio"), "{master}");
        assert_eq!(attr(v, "CODECS"), Some("mp4a.40.2"), "{master}");
    }
    for uri in master
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(str::to_string)
        .chain(attr(&media[1], "URI").map(str::to_string))
    {
        let playlist = read_media_playlist(&stream, &uri);
        let joined = out.join(format!("check-{uri}.mp4"));
        concat_rendition(&stream, &playlist, &joined);
        let s = &ffprobe_json(&joined, &["-show_streams"])["streams"][0];
        assert_eq!(
            (s["codec_name"].as_str(), s["channels"].as_i64()),
            (Some("aac"), Some(2)),
            "{uri}"
        );
    }

    // DASH: the ladder in one set, the German track in another, the broken one nowhere.
    let sets = mpd_audio_sets_any(&stream);
    assert_eq!(
        sets,
        vec![
            (Some("eng".to_string()), Some("main".to_string()), 2),
            (Some("ger".to_string()), Some("alternate".to_string()), 1),
        ]
    );
    assert_eq!(
        result
            .audio_tracks
            .iter()
            .map(|t| (t.id, t.language.as_str(), t.default))
            .collect::<Vec<_>>(),
        vec![(0, "eng", true), (1, "ger", false)]
    );
    assert_eq!(result.warnings.len(), 1, "{:?}", result.warnings);
    assert!(result.warnings[0].contains("ita"));
}

/// Audio adaptation sets: (lang, Role, number of representations).
fn mpd_audio_sets_any(stream: &Path) -> Vec<(Option<String>, Option<String>, usize)> {
    let xml = std::fs::read_to_string(stream.join("manifest.mpd")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    doc.descendants()
        .filter(|n| n.tag_name().name() == "AdaptationSet")
        .map(|set| {
            assert_eq!(set.attribute("contentType"), Some("audio"));
            (
                set.attribute("lang").map(str::to_string),
                set.children()
                    .find(|n| n.tag_name().name() == "Role")
                    .and_then(|r| r.attribute("value"))
                    .map(str::to_string),
                set.children()
                    .filter(|n| n.tag_name().name() == "Representation")
                    .count(),
            )
        })
        .collect()
}
