//! What an outside test battery found (issue 12): control characters in text fields, long file
//! names, oversized JSON bodies, slow clients, and how originals are served.

use crate::common;

use base64::Engine;
use common::{expect_error, fixtures, read, TestServer};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub(crate) const EVENTS: &str = "events-secret-for-tests";

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Asserts a 400 whose message names `field`.
async fn refused(r: Response, field: &str) {
    let msg = expect_error(r, StatusCode::BAD_REQUEST).await;
    assert!(
        msg.contains(field),
        "the message does not name {field}: {msg}"
    );
}

/// Every text field a client gives refuses control characters with a 400 naming the field, and
/// nothing is kept. Run on SQLite and PostgreSQL (which cannot store NUL at all): the answers
/// must be the same. `s` has `EVENTS_SECRET` = [`EVENTS`].
pub(crate) async fn control_characters_are_refused_in_every_text_field(s: &TestServer) {
    let token = s.user_token("me@example.com").await;
    let mp4 = read(&fixtures().mp4);
    let nul = "a\u{0}b";

    // Accounts: the email at registration and at login, an API key's name.
    let r = s.register("x\u{0}@example.com", common::PASSWORD).await;
    refused(r, "email").await;
    let r = s.login("me\u{0}@example.com", common::PASSWORD).await;
    refused(r, "email").await;
    let r = s
        .client
        .post(s.url("/v1/api-keys"))
        .bearer_auth(&token)
        .json(&json!({"name": nul}))
        .send()
        .await
        .unwrap();
    refused(r, "name").await;
    let r = s
        .client
        .post(s.url("/v1/api-keys"))
        .bearer_auth(&token)
        .json(&json!({"name": "tab\there"}))
        .send()
        .await
        .unwrap();
    refused(r, "name").await;

    // One-request uploads: title and file name in the query, title as a form field.
    for (query, field) in [
        ("filename=clip.mp4&title=a%00b", "title"),
        ("filename=a%00b.mp4", "filename"),
        ("filename=a%1Bb.mp4", "filename"),
    ] {
        let r = s
            .client
            .post(s.url(&format!("/v1/media?{query}")))
            .bearer_auth(&token)
            .body(mp4.clone())
            .send()
            .await
            .unwrap();
        refused(r, field).await;
    }
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(mp4.clone()).file_name("clip.mp4"),
        )
        .text("title", nul);
    let r = s
        .client
        .post(s.url("/v1/media"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    refused(r, "title").await;

    // tus metadata.
    for (metadata, field) in [
        (format!("filename {}", b64("a\u{0}.mp4")), "filename"),
        (
            format!("filename {},title {}", b64("a.mp4"), b64(nul)),
            "title",
        ),
    ] {
        let r = s
            .client
            .post(s.url("/v1/uploads/"))
            .bearer_auth(&token)
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", "10")
            .header("Upload-Metadata", metadata)
            .send()
            .await
            .unwrap();
        refused(r, field).await;
    }

    // Direct uploads.
    for (body, field) in [
        (json!({"filename": "a\u{0}.mp4", "size": 10}), "filename"),
        (
            json!({"filename": "a.mp4", "size": 10, "title": nul}),
            "title",
        ),
    ] {
        let r = s
            .client
            .post(s.url("/v1/media/direct-upload"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        refused(r, field).await;
    }

    // Changing an item's title.
    let item = s.upload_ok(&token, "clip.mp4", mp4.clone()).await;
    let id = item["id"].as_str().unwrap();
    let r = s
        .client
        .patch(s.url(&format!("/v1/media/{id}")))
        .bearer_auth(&token)
        .json(&json!({"title": nul}))
        .send()
        .await
        .unwrap();
    refused(r, "title").await;

    // A bucket event's ETag is stored with the item.
    s.state
        .media_store
        .put_bytes(
            &mediaserver_storage::ObjectKey::new("in/clip.mp4").unwrap(),
            mp4.clone().into(),
        )
        .await
        .unwrap();
    let event = json!({"Records": [{"eventName": "ObjectCreated:Put", "s3": {
        "bucket": {"name": s.state.media_store.bucket()},
        "object": {"key": "in/clip.mp4", "eTag": nul}}}]});
    let r = s
        .client
        .post(s.url("/v1/events/object-storage"))
        .bearer_auth(EVENTS)
        .json(&event)
        .send()
        .await
        .unwrap();
    refused(r, "eTag").await;

    // Nothing was kept but the one good upload.
    let page: Value = s
        .get("/v1/media", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(page["items"][0]["title"], "clip");
}

#[tokio::test]
async fn api_control_characters_are_refused_on_sqlite() {
    let s = TestServer::start_with(&[("EVENTS_SECRET", EVENTS)]).await;
    assert_eq!(s.state.repo.backend(), "sqlite");
    control_characters_are_refused_in_every_text_field(&s).await;
}

/// `stem` repeated `times` times, then `.mp4`.
fn long_name(stem: &str, times: usize) -> String {
    format!("{}.mp4", stem.repeat(times))
}

#[tokio::test]
async fn api_long_file_names_are_cut_at_a_character_boundary() {
    let s = TestServer::start().await;
    let token = s.user_token("me@example.com").await;
    let mp4 = read(&fixtures().mp4);
    // 90 CJK characters (270 bytes), 130 emoji (520 bytes), 300 ASCII bytes; and a name hiding
    // its real extension behind a right-to-left override.
    for name in [
        long_name("漢", 90),
        long_name("😀", 130),
        long_name("a", 300),
        "invoice\u{202E}4pm.exe".to_string(),
    ] {
        // One request (multipart), tus and direct uploads all name the original the same way.
        let item = s.upload_ok(&token, &name, mp4.clone()).await;
        let filename = item["filename"].as_str().unwrap().to_string();
        assert!(
            filename.len() <= 200,
            "{} bytes: {filename}",
            filename.len()
        );
        let bidi = |c: char| mediaserver_core::is_bidi_control(c);
        assert!(!filename.chars().any(bidi), "{filename:?}");
        if name.ends_with(".mp4") {
            assert!(filename.ends_with(".mp4"), "extension lost: {filename}");
            let first = name.chars().next().unwrap();
            assert!(
                filename
                    .trim_end_matches(".mp4")
                    .chars()
                    .all(|c| c == first),
                "{filename}"
            );
        } else {
            assert_eq!(filename, "invoice4pm.exe");
        }
        let id = item["id"].as_str().unwrap();
        let original = s
            .get(&format!("/v1/media/{id}/original"), &token)
            .send()
            .await
            .unwrap();
        assert_eq!(original.status(), StatusCode::OK);
        assert_eq!(original.bytes().await.unwrap().to_vec(), mp4);

        // tus: created, then the whole file in one PATCH.
        let r = s
            .client
            .post(s.url("/v1/uploads/"))
            .bearer_auth(&token)
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", mp4.len().to_string())
            .header("Upload-Metadata", format!("filename {}", b64(&name)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "tus create {name}");
        let url = s.url(r.headers()["location"].to_str().unwrap());
        let r = s
            .client
            .patch(&url)
            .bearer_auth(&token)
            .header("Tus-Resumable", "1.0.0")
            .header("Content-Type", "application/offset+octet-stream")
            .header("Upload-Offset", "0")
            .body(mp4.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "tus patch {name}");
        let id = r.headers()["mediaserver-media-id"].to_str().unwrap();
        let item: Value = s
            .get(&format!("/v1/media/{id}"), &token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(item["filename"].as_str().unwrap(), filename);

        // Direct upload (Local storage: a one-time URL on this server).
        let r = s
            .client
            .post(s.url("/v1/media/direct-upload"))
            .bearer_auth(&token)
            .json(&json!({"filename": name, "size": mp4.len()}))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let direct: Value = r.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{direct}");
        let r = s
            .client
            .put(direct["upload_url"].as_str().unwrap())
            .body(mp4.clone())
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "direct PUT {name}: {}", r.status());
        let complete = direct["complete_url"].as_str().unwrap();
        let complete = if complete.starts_with('/') {
            s.url(complete)
        } else {
            complete.to_string()
        };
        let r = s
            .client
            .post(complete)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "complete {name}: {}", r.status());
        let item: Value = r.json().await.unwrap();
        assert_eq!(item["filename"].as_str().unwrap(), filename);
    }
}

#[tokio::test]
async fn api_oversized_json_bodies_are_one_json_413_everywhere() {
    let s = TestServer::start_with(&[("EVENTS_SECRET", EVENTS)]).await;
    let token = s.user_token("me@example.com").await;
    let item = s.upload_ok(&token, "clip.mp4", read(&fixtures().mp4)).await;
    let id = item["id"].as_str().unwrap();
    // A valid JSON document just over the 2 MiB every JSON body is held to.
    let big = serde_json::to_vec(&json!({"name": "x".repeat(2 * 1024 * 1024 + 16)})).unwrap();
    for (method, path) in [
        ("POST", "/v1/auth/register".to_string()),
        ("POST", "/v1/auth/login".to_string()),
        ("POST", "/v1/auth/refresh".to_string()),
        ("POST", "/v1/auth/logout".to_string()),
        ("POST", "/v1/api-keys".to_string()),
        ("PATCH", format!("/v1/media/{id}")),
        ("POST", format!("/v1/media/{id}/playback-token")),
        ("POST", "/v1/media/direct-upload".to_string()),
        ("POST", "/v1/events/object-storage".to_string()),
    ] {
        let r = s
            .client
            .request(method.parse().unwrap(), s.url(&path))
            .bearer_auth(if path.starts_with("/v1/events") {
                EVENTS
            } else {
                &token
            })
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        assert_eq!(
            status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{method} {path}: {text}"
        );
        let v: Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{method} {path}: not JSON: {text}"));
        assert_eq!(v["error"]["code"], "payload_too_large", "{method} {path}");
    }
}

#[tokio::test]
async fn api_originals_are_downloads_never_sniffed() {
    let s = TestServer::start().await;
    let token = s.user_token("me@example.com").await;
    // A JPEG+HTML polyglot: JPEG's magic bytes, then a page a browser would run if it sniffed.
    let mut polyglot =
        b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00".to_vec();
    polyglot
        .extend_from_slice(b"<html><body><script>alert(document.domain)</script></body></html>");
    polyglot.resize(4096, b' ');
    let r = s
        .client
        .post(s.url("/v1/media?filename=cat%20%22pic%22.html"))
        .bearer_auth(&token)
        .body(polyglot)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let item: Value = r.json().await.unwrap();
    assert_eq!(item["content_type"], "image/jpeg");
    let id = item["id"].as_str().unwrap();
    for method in [reqwest::Method::GET, reqwest::Method::HEAD] {
        let r = s
            .client
            .request(method.clone(), s.url(&format!("/v1/media/{id}/original")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let h = r.headers();
        assert_eq!(h["content-type"], "image/jpeg");
        assert_eq!(h["x-content-type-options"], "nosniff", "{method}");
        let cd = h["content-disposition"].to_str().unwrap();
        assert!(
            cd.starts_with("attachment; filename=\"cat _pic_.html\"; filename*=UTF-8''"),
            "{method}: {cd}"
        );
    }
    // A range request of the original carries it too.
    let r = s
        .client
        .get(s.url(&format!("/v1/media/{id}/original")))
        .header("range", "bytes=0-9")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
}

/// Reads until the server closes the connection (EOF or reset); returns how long that took, or
/// `None` if it was still open after `limit`.
async fn closed_within(conn: &mut tokio::net::TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout_at((started + limit).into(), conn.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
            // A 408 or similar before closing is fine.
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test]
async fn api_slow_clients_are_disconnected_while_others_are_served() {
    let s = TestServer::start_with(&[("HTTP_HEADER_TIMEOUT_SECONDS", "1")]).await;
    let addr = s.url.trim_start_matches("http://").to_string();

    // Slowloris: a request line and one header, never the blank line that ends them.
    let mut partial = tokio::net::TcpStream::connect(&addr).await.unwrap();
    partial
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // A connection that never sends anything at all.
    let mut silent = tokio::net::TcpStream::connect(&addr).await.unwrap();
    // One that starts like HTTP/2's preface and stops.
    let mut preface = tokio::net::TcpStream::connect(&addr).await.unwrap();
    preface.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();

    // Meanwhile everybody else is served.
    let r = s.client.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    for (what, conn) in [
        ("partial headers", &mut partial),
        ("silent", &mut silent),
        ("partial HTTP/2 preface", &mut preface),
    ] {
        let took = closed_within(conn, Duration::from_secs(5)).await;
        assert!(took.is_some(), "{what}: still open after 5 s");
    }
    // (A new client: the server has closed the first one's idle connection by now.)
    let r = reqwest::get(s.url("/healthz")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // A keep-alive connection that goes quiet between requests is closed as well.
    let mut idle = tokio::net::TcpStream::connect(&addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    idle.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
    assert!(
        closed_within(&mut idle, Duration::from_secs(5))
            .await
            .is_some(),
        "a second request's headers never finished, but the connection stayed open"
    );
}

#[tokio::test]
async fn api_connections_over_the_limit_wait_for_a_free_slot() {
    let s = TestServer::start_with(&[
        ("HTTP_MAX_CONNECTIONS", "2"),
        ("HTTP_HEADER_TIMEOUT_SECONDS", "2"),
    ])
    .await;
    let addr = s.url.trim_start_matches("http://").to_string();
    // Two silent connections take both slots...
    let mut a = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let _b = tokio::net::TcpStream::connect(&addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // ...so a real request waits (its connection is not accepted) until they time out.
    let started = Instant::now();
    let client = reqwest::Client::new();
    let r = client.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1000),
        "served after {waited:?}, while both slots were taken"
    );
    assert!(
        closed_within(&mut a, Duration::from_secs(1))
            .await
            .is_some(),
        "the silent connection is still open"
    );
}
