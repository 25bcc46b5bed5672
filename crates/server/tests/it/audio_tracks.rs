//! Every audio track of an upload reaches the player, end to end: languages and names in the
//! HLS master and the MPD as served, the item listing its tracks, and an undecodable track
//! left out with a warning instead of failing the item.

use crate::common;

use common::{ffprobe, read, TestServer};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

/// A 2 s 320x240 MKV: English (default), Spanish titled "Español", and a French track whose
/// packets are overwritten byte by byte (noise bsf) so that nothing in it decodes.
fn three_languages_one_broken() -> PathBuf {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("fixtures/languages-{}.mkv", std::process::id()));
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let ok = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args([
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25:duration=2",
        ])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:duration=2"])
        .args(["-f", "lavfi", "-i", "sine=frequency=550:duration=2"])
        .args(["-f", "lavfi", "-i", "sine=frequency=660:duration=2"])
        .args(["-map", "0:v", "-map", "1:a", "-map", "2:a", "-map", "3:a"])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ])
        .args(["-c:a", "aac", "-bsf:a:2", "noise=amount=1"])
        .args([
            "-metadata:s:a:0",
            "language=eng",
            "-metadata:s:a:1",
            "language=spa",
        ])
        .args([
            "-metadata:s:a:1",
            "title=Español",
            "-metadata:s:a:2",
            "language=fra",
        ])
        .arg(&out)
        .status()
        .unwrap()
        .success();
    assert!(ok, "ffmpeg failed making the fixture");
    out
}

#[tokio::test]
async fn every_decodable_audio_track_is_played_in_its_language() {
    let s = TestServer::start_with(&[("WORKERS", "1"), ("TRANSCODE_PRESET", "ultrafast")]).await;
    let token = s.user_token("me@example.com").await;
    let source = three_languages_one_broken();
    let id = s.upload_ok(&token, "languages.mkv", read(&source)).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let _ = std::fs::remove_file(&source);
    let item = s.wait_done(&token, &id, 120).await;
    assert_eq!(item["status"], "ready", "{item}");
    assert_eq!(
        item["audio_tracks"],
        serde_json::json!([
            {"id": 0, "language": "eng", "name": "English", "channels": 2, "default": true},
            {"id": 1, "language": "spa", "name": "Español", "channels": 2, "default": false},
        ]),
        "{item}"
    );
    let warnings = item["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{item}");
    assert!(warnings[0].as_str().unwrap().contains("fra"), "{item}");

    let signed: Value = s
        .client
        .post(s.url(&format!("/v1/media/{id}/playback-token")))
        .bearer_auth(&token)
        .json(&serde_json::json!({"ttl_seconds": 600}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hls = s.url(signed["hls"].as_str().unwrap());
    let dash = s.url(signed["dash"].as_str().unwrap());

    // The master as served: one EXT-X-MEDIA per track, in the variants' group.
    let master = s
        .client
        .get(&hls)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let media: Vec<&str> = master
        .lines()
        .filter(|l| l.starts_with("#EXT-X-MEDIA:TYPE=AUDIO"))
        .collect();
    assert_eq!(media.len(), 2, "{master}");
    assert!(
        media[0].contains(r#"LANGUAGE="eng",NAME="English",DEFAULT=YES,AUTOSELECT=YES"#),
        "{master}"
    );
    assert!(
        media[1].contains(r#"LANGUAGE="spa",NAME="Español",DEFAULT=NO,AUTOSELECT=YES"#),
        "{master}"
    );
    assert!(!master.contains("fra"), "{master}");

    // The MPD as served: an audio adaptation set per track with lang and Role.
    let mpd = s
        .client
        .get(&dash)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let doc = roxmltree::Document::parse(&mpd).unwrap();
    let sets: Vec<(Option<&str>, Option<&str>)> = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "AdaptationSet")
        .filter(|n| n.attribute("contentType") == Some("audio"))
        .map(|n| {
            let role = n
                .children()
                .find(|c| c.tag_name().name() == "Role")
                .and_then(|r| r.attribute("value"));
            (n.attribute("lang"), role)
        })
        .collect();
    assert_eq!(
        sets,
        vec![
            (Some("eng"), Some("main")),
            (Some("spa"), Some("alternate"))
        ],
        "{mpd}"
    );

    // What a player decodes over HTTP: both tracks, stereo AAC, tagged with their language.
    for url in [&hls, &dash] {
        let probed = ffprobe(
            url,
            "stream=codec_type,codec_name,channels:stream_tags=language",
        )
        .await;
        let mut audio: Vec<(String, i64)> = probed["streams"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|st| st["codec_type"] == "audio")
            .map(|st| {
                assert_eq!(st["codec_name"], "aac", "{probed}");
                (
                    st["tags"]["language"].as_str().unwrap_or("").to_string(),
                    st["channels"].as_i64().unwrap(),
                )
            })
            .collect();
        audio.sort();
        assert_eq!(
            audio,
            vec![("eng".to_string(), 2), ("spa".to_string(), 2)],
            "{url}: {probed}"
        );
    }
}
