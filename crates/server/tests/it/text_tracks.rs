//! Uploaded captions, end to end: a SubRip and a WebVTT file added to a ready video are
//! normalised to WebVTT, published at once in the HLS master and the DASH manifest as served
//! (and in the item JSON), play through signed URLs, and leave everything (manifests, storage)
//! when deleted; every bad upload is a 4xx naming the problem with nothing stored.

use crate::common;

use common::{expect_error, fixtures, read, TestServer};
use reqwest::StatusCode;
use serde_json::Value;
use std::path::PathBuf;

/// A 4 s 320x240 clip with sound.
fn four_seconds() -> PathBuf {
    common::ffmpeg_fixture(
        "captions-4s.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25:duration=4",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=4",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
        ],
    )
}

async fn ready_video(s: &TestServer, token: &str) -> String {
    let id = s.upload_ok(token, "clip.mp4", read(&four_seconds())).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let item = s.wait_done(token, &id, 120).await;
    assert_eq!(item["status"], "ready", "{item}");
    id
}

async fn post_track(
    s: &TestServer,
    token: &str,
    id: &str,
    query: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    s.client
        .post(s.url(&format!("/v1/media/{id}/text-tracks?{query}")))
        .bearer_auth(token)
        .header("content-type", "text/plain; charset=utf-8")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn text(s: &TestServer, path: &str, token: Option<&str>) -> (StatusCode, String) {
    let mut req = s.client.get(s.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// The `TYPE=SUBTITLES` renditions of a master playlist, as attribute maps.
fn subtitle_renditions(master: &str) -> Vec<std::collections::HashMap<String, String>> {
    master
        .lines()
        .filter_map(|l| l.strip_prefix("#EXT-X-MEDIA:"))
        .map(attributes)
        .filter(|a| a.get("TYPE").map(String::as_str) == Some("SUBTITLES"))
        .collect()
}

/// An HLS attribute list (quoted values unquoted; commas inside quotes kept).
fn attributes(list: &str) -> std::collections::HashMap<String, String> {
    let mut out = std::collections::HashMap::new();
    let (mut key, mut val, mut in_key, mut quoted) = (String::new(), String::new(), true, false);
    for c in list.chars().chain([',']) {
        match c {
            '=' if in_key => in_key = false,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.insert(std::mem::take(&mut key), std::mem::take(&mut val));
                in_key = true;
            }
            c if in_key => key.push(c),
            c => val.push(c),
        }
    }
    out
}

/// The text adaptation sets of an MPD: (lang, role, label, BaseURL).
fn text_sets(mpd: &str) -> Vec<(String, String, String, String)> {
    let doc = roxmltree::Document::parse(mpd).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("AdaptationSet") && n.attribute("contentType") == Some("text"))
        .map(|set| {
            assert_eq!(set.attribute("mimeType"), Some("text/vtt"));
            let child = |name: &str| set.descendants().find(|n| n.has_tag_name(name)).unwrap();
            (
                set.attribute("lang").unwrap().to_string(),
                child("Role").attribute("value").unwrap().to_string(),
                child("Label").text().unwrap().to_string(),
                child("BaseURL").text().unwrap().to_string(),
            )
        })
        .collect()
}

const SRT: &str = "1\r\n00:00:00,500 --> 00:00:01,500\r\n<font color=\"#fff\">[music]</font>\r\n\r\n2\r\n00:00:02,000 --> 00:00:03,250\r\nHello & <i>welcome</i>\r\n\r\n3\r\n00:00:03,500 --> 00:00:09,000\r\nThe end runs past the clip\r\n";

const VTT: &str =
    "\u{feff}WEBVTT\n\nNOTE translated\n\nbom\n00:01.000 --> 00:02.000 align:start line:0\nOlá\n";

#[tokio::test]
async fn uploaded_captions_are_published_at_once_and_leave_with_delete() {
    let s = TestServer::start_with(&[("WORKERS", "1"), ("TRANSCODE_PRESET", "ultrafast")]).await;
    let token = s.user_token("owner@example.com").await;
    let id = ready_video(&s, &token).await;
    let base = format!("/v1/media/{id}");
    // Fetched (and so cached) before any track exists: the add must still show at once.
    let r = s
        .get(&format!("{base}/hls/master.m3u8"), &token)
        .send()
        .await
        .unwrap();
    assert!(r.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("no-cache"));
    let etag_before = r.headers()["etag"].clone();
    let before = r.text().await.unwrap();
    assert!(subtitle_renditions(&before).is_empty(), "{before}");
    let (_, mpd_before) = text(&s, &format!("{base}/dash/manifest.mpd"), Some(&token)).await;
    assert!(text_sets(&mpd_before).is_empty());

    let r = post_track(
        &s,
        &token,
        &id,
        "language=en&label=English%20CC&kind=captions",
        SRT,
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let cc: Value = r.json().await.unwrap();
    let cc_id = cc["id"].as_str().unwrap().to_string();
    assert!(cc_id.starts_with('u') && cc_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    assert_eq!(cc["language"], "en");
    assert_eq!(cc["label"], "English CC");
    assert_eq!(cc["kind"], "captions");
    assert_eq!(cc["source"], "upload");
    assert_eq!(cc["url"], format!("{base}/hls/text-{cc_id}.vtt"));

    let r = post_track(&s, &token, &id, "language=pt-br", VTT).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let pt: Value = r.json().await.unwrap();
    let pt_id = pt["id"].as_str().unwrap().to_string();
    assert_eq!(pt["language"], "pt-BR");
    assert_eq!(pt["label"], "Portuguese", "the language's name by default");
    assert_eq!(pt["kind"], "subtitles");

    // The served WebVTT: normalised, cues at their times, the last cut at the clip's end.
    let (status, vtt) = text(&s, &format!("{base}/hls/text-{cc_id}.vtt"), Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    let item: Value = s
        .get(&base, &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let end = item["duration_seconds"].as_f64().unwrap();
    assert!((3.9..4.2).contains(&end), "{end}");
    let end_ts = format!("00:00:0{:.3}", end);
    assert_eq!(
        vtt,
        format!(
            "WEBVTT\n\n1\n00:00:00.500 --> 00:00:01.500\n[music]\n\n2\n00:00:02.000 --> 00:00:03.250\nHello &amp; <i>welcome</i>\n\n3\n00:00:03.500 --> {end_ts}\nThe end runs past the clip\n"
        )
    );
    let (_, vtt) = text(&s, &format!("{base}/dash/text-{pt_id}.vtt"), Some(&token)).await;
    assert_eq!(
        vtt,
        "WEBVTT\n\nbom\n00:00:01.000 --> 00:00:02.000 align:start line:0\nOlá\n"
    );

    // A player (or cache) revalidating the master it had gets the new one, then a 304.
    let r = s
        .get(&format!("{base}/hls/master.m3u8"), &token)
        .header("if-none-match", etag_before)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let etag_after = r.headers()["etag"].clone();
    let r = s
        .get(&format!("{base}/hls/master.m3u8"), &token)
        .header("if-none-match", etag_after)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);

    // HLS: one rendition per track, every variant names the group, playlists of one segment.
    let (_, master) = text(&s, &format!("{base}/hls/master.m3u8"), Some(&token)).await;
    let subs = subtitle_renditions(&master);
    assert_eq!(subs.len(), 2, "{master}");
    let en = &subs[0];
    assert_eq!(en["GROUP-ID"], "subs");
    assert_eq!(en["LANGUAGE"], "en");
    assert_eq!(en["NAME"], "English CC");
    assert_eq!(en["DEFAULT"], "NO");
    assert_eq!(en["AUTOSELECT"], "YES");
    assert!(en["CHARACTERISTICS"].contains("public.accessibility.describes-music-and-sound"));
    assert_eq!(en["URI"], format!("text-{cc_id}.m3u8"));
    assert_eq!(subs[1]["LANGUAGE"], "pt-BR");
    assert!(!subs[1].contains_key("CHARACTERISTICS"));
    let variants: Vec<_> = master
        .lines()
        .filter_map(|l| l.strip_prefix("#EXT-X-STREAM-INF:"))
        .map(attributes)
        .collect();
    assert!(!variants.is_empty());
    for v in &variants {
        assert_eq!(
            v.get("SUBTITLES").map(String::as_str),
            Some("subs"),
            "{master}"
        );
    }
    let (status, playlist) = text(&s, &format!("{base}/hls/text-{cc_id}.m3u8"), Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(playlist.contains("#EXT-X-PLAYLIST-TYPE:VOD"), "{playlist}");
    assert!(
        playlist.contains(&format!(
            "#EXTINF:{end:.3},\ntext-{cc_id}.vtt\n#EXT-X-ENDLIST"
        )),
        "{playlist}"
    );

    // ffmpeg's WebVTT reader finds the cues at their times in the served file (ffmpeg 5's HLS
    // reader skips subtitle renditions, so the file is read as the manifests name it).
    let probe = common::ffprobe(
        &s.url(&format!(
            "/v1/play/{}/hls/text-{cc_id}.vtt",
            signed_token(&item)
        )),
        "packet=pts_time,duration_time",
    )
    .await;
    let times: Vec<(f64, f64)> = probe["packets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let f = |k: &str| p[k].as_str().unwrap().parse::<f64>().unwrap();
            (f("pts_time"), f("duration_time"))
        })
        .collect();
    assert_eq!(times.len(), 3, "{probe}");
    assert_eq!(&times[..2], &[(0.5, 1.0), (2.0, 1.25)], "{probe}");
    assert_eq!(times[2].0, 3.5);
    assert!((times[2].0 + times[2].1 - end).abs() < 0.002, "{probe}");

    // DASH: one text adaptation set per track; its BaseURL serves the same file.
    let (_, mpd) = text(&s, &format!("{base}/dash/manifest.mpd"), Some(&token)).await;
    let sets = text_sets(&mpd);
    assert_eq!(
        sets,
        vec![
            (
                "en".into(),
                "caption".into(),
                "English CC".into(),
                format!("text-{cc_id}.vtt")
            ),
            (
                "pt-BR".into(),
                "subtitle".into(),
                "Portuguese".into(),
                format!("text-{pt_id}.vtt")
            ),
        ]
    );
    let (status, _) = text(&s, &format!("{base}/dash/{}", sets[0].3), Some(&token)).await;
    assert_eq!(status, StatusCode::OK);

    // The item JSON and the list route: both tracks, with URLs that play with the token alone.
    let item: Value = s
        .get(&base, &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tracks = item["text_tracks"].as_array().unwrap();
    assert_eq!(tracks.len(), 2, "{item}");
    assert_eq!(tracks[0]["id"], cc_id.as_str());
    assert_eq!(tracks[0]["source"], "upload");
    let signed = tracks[0]["signed_url"].as_str().unwrap();
    let (status, vtt) = text(&s, signed, None).await;
    assert_eq!(status, StatusCode::OK, "{signed}");
    assert!(vtt.starts_with("WEBVTT\n"));
    let tok = signed_token(&item);
    for path in [
        format!("{base}/hls/text-{cc_id}.vtt?token={tok}"),
        format!("{base}/dash/text-{pt_id}.vtt?token={tok}"),
        format!("/v1/play/{tok}/hls/text-{pt_id}.m3u8"),
        format!("/v1/play/{tok}/dash/text-{cc_id}.vtt"),
    ] {
        let (status, _) = text(&s, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    let (_, signed_master) = text(&s, &format!("/v1/play/{tok}/hls/master.m3u8"), None).await;
    assert_eq!(subtitle_renditions(&signed_master).len(), 2);
    // The item is private: without a token or login the captions are not served.
    let (status, _) = text(&s, &format!("{base}/hls/text-{cc_id}.vtt"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let list: Value = s
        .get(&format!("{base}/text-tracks"), &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 2);

    // Delete: gone from both manifests at once, from storage, and from the lists.
    let r = s
        .client
        .delete(s.url(&format!("{base}/text-tracks/{cc_id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (_, master) = text(&s, &format!("{base}/hls/master.m3u8"), Some(&token)).await;
    let subs = subtitle_renditions(&master);
    assert_eq!(subs.len(), 1, "{master}");
    assert_eq!(subs[0]["LANGUAGE"], "pt-BR");
    let (_, mpd) = text(&s, &format!("{base}/dash/manifest.mpd"), Some(&token)).await;
    assert_eq!(text_sets(&mpd).len(), 1);
    let (status, _) = text(&s, &format!("{base}/hls/text-{cc_id}.vtt"), Some(&token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let stored = stored_text_files(&s, &id).await;
    assert_eq!(
        stored,
        vec![
            format!("stream/text-{pt_id}.m3u8"),
            format!("stream/text-{pt_id}.vtt")
        ]
    );
    let r = s
        .client
        .delete(s.url(&format!("{base}/text-tracks/{cc_id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::NOT_FOUND).await;

    // Deleting the item takes the remaining track's files and row with it.
    let r = s
        .client
        .delete(s.url(&base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(stored_text_files(&s, &id).await.is_empty());
    let id: mediaserver_core::MediaId = id.parse().unwrap();
    assert!(s.state.repo.text_tracks(&id).await.unwrap().is_empty());
}

fn signed_token(item: &Value) -> String {
    item["signed"]["token"].as_str().unwrap().to_string()
}

/// Names of the item's stored text-track files, relative to its outputs, sorted.
async fn stored_text_files(s: &TestServer, id: &str) -> Vec<String> {
    let id: mediaserver_core::MediaId = id.parse().unwrap();
    let prefix = mediaserver_core::layout::outputs_prefix(&id);
    let mut names: Vec<String> = s
        .state
        .output_store
        .list(&prefix)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.key.to_string().trim_start_matches(&prefix).to_string())
        .filter(|k| k.starts_with("stream/text-"))
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn bad_caption_uploads_are_refused_with_the_reason_and_nothing_is_stored() {
    let s = TestServer::start_with(&[("WORKERS", "1"), ("TRANSCODE_PRESET", "ultrafast")]).await;
    let token = s.user_token("owner@example.com").await;
    let other = s.user_token("other@example.com").await;
    let id = ready_video(&s, &token).await;
    let good = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nhi\n";
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "language=en",
            b"just some words\n".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "neither WebVTT",
        ),
        (
            "language=en",
            b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nok\n\n00:00:02.000 --> 00:00:0x.000\nbad\n"
                .to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "line 6",
        ),
        (
            "language=en",
            b"1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\n00:00:03,000 -> 00:00:04,000\nbad\n"
                .to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "line 6",
        ),
        (
            "language=en",
            b"WEBVTT\n\nNOTE nothing here\n".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "no cues",
        ),
        (
            "language=en",
            b"\xff\xfeW\0E\0".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "UTF-8",
        ),
        (
            "language=en",
            b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nok\n\n00:00:05.000 --> 00:00:06.000\nlate\n"
                .to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "line 6: the cue starts at 00:00:05.000, after the item ends",
        ),
        (
            "language=xx",
            good.into(),
            StatusCode::BAD_REQUEST,
            "language: \"xx\" is not an ISO 639",
        ),
        (
            "language=english",
            good.into(),
            StatusCode::BAD_REQUEST,
            "language:",
        ),
        (
            "",
            good.into(),
            StatusCode::BAD_REQUEST,
            "language: required",
        ),
        (
            "language=en&kind=karaoke",
            good.into(),
            StatusCode::BAD_REQUEST,
            "kind:",
        ),
        (
            "language=en&label=a%0Ab",
            good.into(),
            StatusCode::BAD_REQUEST,
            "label: must not contain control characters",
        ),
        ("language=en", Vec::new(), StatusCode::BAD_REQUEST, "empty"),
        (
            "language=en",
            {
                let mut big = good.as_bytes().to_vec();
                big.resize(5 * 1024 * 1024 + 1, b'\n');
                big
            },
            StatusCode::PAYLOAD_TOO_LARGE,
            "at most 5 MiB",
        ),
    ];
    for (query, body, status, says) in cases {
        let r = post_track(&s, &token, &id, query, body).await;
        let msg = expect_error(r, status).await;
        assert!(msg.contains(says), "{query}: {msg:?} should say {says:?}");
    }
    // A body without a declared length over the limit is refused as well.
    let chunks =
        futures::stream::iter((0..6).map(|_| Ok::<_, std::io::Error>(vec![b'\n'; 1024 * 1024])));
    let r = post_track(
        &s,
        &token,
        &id,
        "language=en",
        reqwest::Body::wrap_stream(chunks),
    )
    .await;
    let msg = expect_error(r, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert!(msg.contains("at most 5 MiB"), "{msg}");

    // Someone else's item: as if it did not exist, for every route.
    let r = post_track(&s, &other, &id, "language=en", good).await;
    expect_error(r, StatusCode::NOT_FOUND).await;
    let r = s
        .get(&format!("/v1/media/{id}/text-tracks"), &other)
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::NOT_FOUND).await;

    let list: Value = s
        .get(&format!("/v1/media/{id}/text-tracks"), &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"], serde_json::json!([]));
    assert!(stored_text_files(&s, &id).await.is_empty());

    // The owner's good upload works; the other user cannot delete it.
    let r = post_track(&s, &token, &id, "language=en", good).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let track: Value = r.json().await.unwrap();
    let r = s
        .client
        .delete(s.url(&format!(
            "/v1/media/{id}/text-tracks/{}",
            track["id"].as_str().unwrap()
        )))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::NOT_FOUND).await;
    assert_eq!(stored_text_files(&s, &id).await.len(), 2);
}

#[tokio::test]
async fn captions_wait_for_a_ready_item() {
    // No workers: the upload stays queued.
    let s = TestServer::start().await;
    let token = s.user_token("owner@example.com").await;
    let id = s.upload_ok(&token, "clip.mp4", read(&fixtures().mp4)).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = post_track(
        &s,
        &token,
        &id,
        "language=en",
        "WEBVTT\n\n00:00.000 --> 00:00.500\nhi\n",
    )
    .await;
    let msg = expect_error(r, StatusCode::CONFLICT).await;
    assert!(msg.contains("wait until it is ready"), "{msg}");
    assert!(stored_text_files(&s, &id).await.is_empty());
}

#[tokio::test]
async fn a_track_the_database_refuses_leaves_no_files() {
    let s = TestServer::start_with(&[("WORKERS", "1"), ("TRANSCODE_PRESET", "ultrafast")]).await;
    let token = s.user_token("owner@example.com").await;
    let id = ready_video(&s, &token).await;
    // The database refuses every new track row once the files are already stored.
    {
        use sqlx::Connection;
        let db = s.dir.path().join("mediaserver.db");
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        sqlx::query(
            "CREATE TRIGGER refuse_tracks BEFORE INSERT ON text_tracks \
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();
    }
    let r = post_track(
        &s,
        &token,
        &id,
        "language=en",
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nhi\n",
    )
    .await;
    assert!(r.status().is_server_error(), "{}", r.status());
    assert!(stored_text_files(&s, &id).await.is_empty());
    // Nor does the manifest name anything.
    let (_, master) = text(&s, &format!("/v1/media/{id}/hls/master.m3u8"), Some(&token)).await;
    assert!(subtitle_renditions(&master).is_empty(), "{master}");
}
