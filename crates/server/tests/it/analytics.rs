//! Viewer analytics against the real server: beacons (`POST /v1/media/{id}/views`,
//! `/v1/play/{token}/views`) refused with a 4xx and nothing stored when they should be; one
//! view per session; unique viewers by address (told apart through a trusted proxy's
//! X-Forwarded-For); the report's sums, percentiles, rebuffer ratio and renditions on a
//! processed item; the per-address rate limit; and no address or user agent anywhere in the
//! database file.

use crate::common::*;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

const AGENT: &str = "AnalyticsProbe/7.3 (unmistakable user agent)";

/// A server whose test client is a trusted proxy, so X-Forwarded-For names the viewer.
async fn server(extra: &[(&str, &str)]) -> TestServer {
    let mut env = vec![("TRUSTED_PROXIES", "127.0.0.1")];
    env.extend_from_slice(extra);
    TestServer::start_with(&env).await
}

/// Uploads a (never processed) video as `token`'s user and sets its visibility.
async fn video_item(s: &TestServer, token: &str, visibility: &str) -> String {
    let item = s.upload_ok(token, "clip.mp4", video(64 * 1024)).await;
    let id = item["id"].as_str().unwrap().to_string();
    let r = s
        .client
        .patch(s.url(&format!("/v1/media/{id}")))
        .bearer_auth(token)
        .json(&json!({ "visibility": visibility }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    id
}

async fn post_raw(
    s: &TestServer,
    path: &str,
    from: &str,
    body: impl Into<reqwest::Body>,
) -> Response {
    s.client
        .post(s.url(path))
        .header("x-forwarded-for", from)
        .header("user-agent", AGENT)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn beacon(s: &TestServer, path: &str, from: &str, body: Value) -> Response {
    post_raw(s, path, from, body.to_string()).await
}

async fn accepted(s: &TestServer, path: &str, from: &str, body: Value) {
    let r = beacon(s, path, from, body.clone()).await;
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, StatusCode::ACCEPTED, "{body}: {text}");
}

async fn report(s: &TestServer, token: &str, id: &str) -> Value {
    let r = s
        .get(&format!("/v1/media/{id}/analytics"), token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// Every byte the database holds (file and write-ahead log), for searching.
fn database_bytes(s: &TestServer) -> Vec<u8> {
    let mut all = Vec::new();
    for name in ["mediaserver.db", "mediaserver.db-wal"] {
        if let Ok(b) = std::fs::read(s.dir.path().join(name)) {
            all.extend(b);
        }
    }
    assert!(!all.is_empty(), "no database file");
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn refused_beacons_store_nothing() {
    let s = server(&[]).await;
    let owner = s.user_token("owner@example.com").await;
    let private = video_item(&s, &owner, "private").await;
    let public = video_item(&s, &owner, "public").await;
    let start = json!({"session": "sess-refused-1", "event": "view_start", "startup_ms": 300});
    let ip = "198.51.100.20";

    // A private item without a token or login: the 404 an unknown item gets.
    let r = beacon(&s, &format!("/v1/media/{private}/views"), ip, start.clone()).await;
    expect_error(r, StatusCode::NOT_FOUND).await;
    // Someone else's login does not open it either.
    let stranger = s.user_token("stranger@example.com").await;
    let r = s
        .client
        .post(s.url(&format!("/v1/media/{private}/views")))
        .bearer_auth(&stranger)
        .json(&start)
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::NOT_FOUND).await;
    // Unknown and malformed ids.
    let unknown = mediaserver_core::MediaId::new();
    for path in [
        format!("/v1/media/{unknown}/views"),
        "/v1/media/not-an-id/views".into(),
    ] {
        let r = beacon(&s, &path, ip, start.clone()).await;
        expect_error(r, StatusCode::NOT_FOUND).await;
    }
    // Tokens: a forged one, and one for another item.
    let r = beacon(&s, "/v1/play/not.a.token/views", ip, start.clone()).await;
    expect_error(r, StatusCode::UNAUTHORIZED).await;
    let minted: Value = s
        .client
        .post(s.url(&format!("/v1/media/{public}/playback-token")))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let other_token = minted["token"].as_str().unwrap();
    let r = beacon(
        &s,
        &format!("/v1/media/{private}/views?token={other_token}"),
        ip,
        start.clone(),
    )
    .await;
    expect_error(r, StatusCode::FORBIDDEN).await;

    // Bodies: not JSON, not an object, wrong fields, too large.
    let path = format!("/v1/media/{public}/views");
    for (body, names) in [
        ("{\"session\":".to_string(), "invalid JSON"),
        ("[\"sess-refused-1\",\"view_start\"]".into(), "object"),
        ("{}".into(), "session"),
        (
            json!({"session": "x", "event": "view_start"}).to_string(),
            "session",
        ),
        (
            json!({"session": "sess-refused-1", "event": "watched"}).to_string(),
            "event",
        ),
        (
            json!({"session": "sess-refused-1", "event": "heartbeat", "watch_seconds": 3600})
                .to_string(),
            "watch_seconds",
        ),
        (
            json!({"session": "sess-refused-1", "event": "heartbeat"}).to_string(),
            "watch_seconds",
        ),
        (
            json!({"session": "sess-refused-1", "event": "rebuffer", "duration_ms": -5})
                .to_string(),
            "duration_ms",
        ),
        (
            json!({"session": "sess-refused-1", "event": "error", "message": "bad\u{1b}[31m"})
                .to_string(),
            "message",
        ),
        (
            json!({"session": "sess-refused-1", "event": "view_start", "ip": "1.2.3.4"})
                .to_string(),
            "ip",
        ),
    ] {
        let r = post_raw(&s, &path, ip, body.clone()).await;
        let message = expect_error(r, StatusCode::BAD_REQUEST).await;
        assert!(message.contains(names), "{body}: {message}");
    }
    let huge = json!({"session": "sess-refused-1", "event": "error", "message": "x".repeat(8000)});
    let r = beacon(&s, &path, ip, huge).await;
    expect_error(r, StatusCode::PAYLOAD_TOO_LARGE).await;
    // Not even a login makes a huge or malformed beacon count.
    let r = s
        .client
        .post(s.url(&path))
        .bearer_auth(&owner)
        .body(vec![b'{'; 64 * 1024])
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::PAYLOAD_TOO_LARGE).await;

    for id in [&private, &public] {
        let rep = report(&s, &owner, id).await;
        assert_eq!(rep["views"], 0, "{rep}");
        assert_eq!(rep["watch_seconds"], 0.0, "{rep}");
        assert_eq!(rep["errors"], 0, "{rep}");
        assert_eq!(rep["days"].as_array().unwrap().len(), 30);
    }
    let db = database_bytes(&s);
    assert!(
        !contains(&db, "sess-refused-1"),
        "a refused beacon left a session row"
    );
}

#[tokio::test]
async fn views_count_once_per_session_and_viewers_by_address() {
    let s = server(&[]).await;
    let owner = s.user_token("owner@example.com").await;
    let id = video_item(&s, &owner, "unlisted").await;
    let path = format!("/v1/media/{id}/views");
    let (alice, bob) = ("203.0.113.7", "203.0.113.99");
    let start = |session: &str, ms: u32| json!({"session": session, "event": "view_start", "startup_ms": ms});
    let beat = |session: &str, secs: f64| json!({"session": session, "event": "heartbeat", "watch_seconds": secs, "position_seconds": 12.5});

    // Alice: one session whose start arrives twice (a resent beacon), then another session.
    accepted(&s, &path, alice, start("alice-session-1", 400)).await;
    accepted(&s, &path, alice, start("alice-session-1", 9999)).await;
    accepted(&s, &path, alice, beat("alice-session-1", 10.0)).await;
    accepted(&s, &path, alice, beat("alice-session-1", 7.5)).await;
    accepted(&s, &path, alice, start("alice-session-2", 600)).await;
    accepted(
        &s,
        &path,
        alice,
        json!({"session": "alice-session-2", "event": "end", "watch_seconds": 2.5}),
    )
    .await;
    // Bob, from another address.
    accepted(&s, &path, bob, start("bob-session-1", 800)).await;
    accepted(
        &s,
        &path,
        bob,
        json!({"session": "bob-session-1", "event": "rebuffer", "duration_ms": 2000}),
    )
    .await;
    accepted(
        &s,
        &path,
        bob,
        json!({"session": "bob-session-1", "event": "error", "message": "decoder gave up"}),
    )
    .await;

    let rep = report(&s, &owner, &id).await;
    assert_eq!(rep["views"], 3, "{rep}");
    assert_eq!(rep["unique_viewers"], 2, "{rep}");
    assert_eq!(rep["watch_seconds"], 20.0, "{rep}");
    assert_eq!(rep["startup_ms"], json!({"p50": 600, "p95": 800}), "{rep}");
    assert_eq!(rep["errors"], 1);
    assert_eq!(rep["rebuffer_seconds"], 2.0);
    // Rebuffering over watching plus rebuffering: 2 s / (20 s + 2 s).
    let ratio = rep["rebuffer_ratio"].as_f64().unwrap();
    assert!((ratio - 2.0 / 22.0).abs() < 1e-9, "{rep}");
    let days = rep["days"].as_array().unwrap();
    let today = days.last().unwrap();
    assert_eq!(
        (
            today["views"].clone(),
            today["unique_viewers"].clone(),
            today["watch_seconds"].clone()
        ),
        (json!(3), json!(2), json!(20.0)),
        "{rep}"
    );
    assert_eq!(today["date"], chrono::Utc::now().date_naive().to_string());

    // Nothing in the database is the viewers' addresses or user agent.
    let db = database_bytes(&s);
    assert!(
        contains(&db, "alice-session-1"),
        "the session rows are in this file"
    );
    for secret in [alice, bob, AGENT, "AnalyticsProbe", "decoder gave up"] {
        assert!(!contains(&db, secret), "the database holds {secret:?}");
    }
}

#[tokio::test]
async fn playback_tokens_report_on_private_items() {
    let s = server(&[]).await;
    let owner = s.user_token("owner@example.com").await;
    let id = video_item(&s, &owner, "private").await;
    let minted: Value = s
        .client
        .post(s.url(&format!("/v1/media/{id}/playback-token")))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = minted["token"].as_str().unwrap();
    let ip = "192.0.2.50";
    // The token in the path, as a player playing /v1/play/{token}/… sends it…
    accepted(
        &s,
        &format!("/v1/play/{token}/views"),
        ip,
        json!({"session": "token-path-1", "event": "view_start"}),
    )
    .await;
    // …or as ?token=, and the owner's login works too.
    accepted(
        &s,
        &format!("/v1/media/{id}/views?token={token}"),
        ip,
        json!({"session": "token-query-1", "event": "view_start"}),
    )
    .await;
    let r = s
        .client
        .post(s.url(&format!("/v1/media/{id}/views")))
        .bearer_auth(&owner)
        .json(&json!({"session": "owner-login-1", "event": "view_start"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let rep = report(&s, &owner, &id).await;
    assert_eq!(rep["views"], 3, "{rep}");
    assert_eq!(rep["startup_ms"], json!({"p50": null, "p95": null}));

    // The report is its owner's: others get the 404 an unknown item gets, nobody gets in anonymously.
    let stranger = s.user_token("stranger@example.com").await;
    let r = s
        .get(&format!("/v1/media/{id}/analytics"), &stranger)
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::NOT_FOUND).await;
    let r = s
        .client
        .get(s.url(&format!("/v1/media/{id}/analytics")))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::UNAUTHORIZED).await;
    for (q, field) in [
        ("from=2026-13-01", "from"),
        ("to=tomorrow", "to"),
        ("from=2026-02-01&to=2026-01-01", "from"),
        ("from=2020-01-01&to=2026-01-01", "366"),
    ] {
        let r = s
            .get(&format!("/v1/media/{id}/analytics?{q}"), &owner)
            .send()
            .await
            .unwrap();
        let message = expect_error(r, StatusCode::BAD_REQUEST).await;
        assert!(message.contains(field), "{q}: {message}");
    }
    let r = s
        .get(
            &format!("/v1/media/{id}/analytics?from=2026-01-01&to=2026-01-07"),
            &owner,
        )
        .send()
        .await
        .unwrap();
    let week: Value = r.json().await.unwrap();
    assert_eq!(week["days"].as_array().unwrap().len(), 7);
    assert_eq!(week["views"], 0, "today's views are outside that range");

    // Made private again, the item revokes the tokens minted before.
    for v in ["unlisted", "private"] {
        s.client
            .patch(s.url(&format!("/v1/media/{id}")))
            .bearer_auth(&owner)
            .json(&json!({ "visibility": v }))
            .send()
            .await
            .unwrap();
    }
    let r = beacon(
        &s,
        &format!("/v1/play/{token}/views"),
        ip,
        json!({"session": "token-path-2", "event": "view_start"}),
    )
    .await;
    expect_error(r, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn an_address_gets_a_budget_of_beacons() {
    let s = server(&[("BEACONS_PER_MINUTE", "12")]).await;
    let owner = s.user_token("owner@example.com").await;
    let id = video_item(&s, &owner, "public").await;
    let path = format!("/v1/media/{id}/views");
    let flood = "198.51.100.66";
    let body = json!({"session": "flooding-session", "event": "heartbeat", "watch_seconds": 1});
    let mut accepted_count = 0;
    let limited = loop {
        let r = beacon(&s, &path, flood, body.clone()).await;
        if r.status() != StatusCode::ACCEPTED {
            break r;
        }
        accepted_count += 1;
        assert!(accepted_count <= 12, "no limit after 12 beacons");
    };
    assert_eq!(accepted_count, 12);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));
    let message = expect_error(limited, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(message.contains("too many"), "{message}");
    // What was refused was not counted; other addresses go on.
    accepted(
        &s,
        &path,
        "198.51.100.67",
        json!({"session": "other-address", "event": "view_start"}),
    )
    .await;
    let rep = report(&s, &owner, &id).await;
    assert_eq!(rep["watch_seconds"], 12.0, "{rep}");
    assert_eq!(rep["views"], 1);
}

#[tokio::test]
async fn renditions_and_metrics_of_a_processed_item() {
    let s = server(&[("WORKERS", "1"), ("TRANSCODE_PRESET", "ultrafast")]).await;
    let owner = s.user_token("owner@example.com").await;
    let id = s.upload_ok(&owner, "clip.mp4", read(&short_clip(50))).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let item = s.wait_done(&owner, &id, 120).await;
    assert_eq!(item["status"], "ready", "{item}");
    let rendition = item["renditions"][0]["name"].as_str().unwrap().to_string();
    let ip = "192.0.2.77";
    // The owner plays through the signed URLs the item hands out.
    let token = item["signed"]["token"].as_str().unwrap();
    let path = format!("/v1/play/{token}/views");
    accepted(&s, &path, ip, json!({"session": "processed-1", "event": "view_start", "startup_ms": 250, "rendition": rendition})).await;
    accepted(&s, &path, ip, json!({"session": "processed-1", "event": "heartbeat", "watch_seconds": 10, "rendition": rendition})).await;
    // A name the item does not list is accepted but counted under no rendition.
    accepted(&s, &path, ip, json!({"session": "processed-1", "event": "heartbeat", "watch_seconds": 4, "rendition": "9999p"})).await;
    accepted(
        &s,
        &path,
        ip,
        json!({"session": "processed-1", "event": "rendition", "rendition": "4320p"}),
    )
    .await;
    accepted(
        &s,
        &path,
        ip,
        json!({"session": "processed-1", "event": "end", "watch_seconds": 1.5}),
    )
    .await;
    let rep = report(&s, &owner, &id).await;
    assert_eq!(rep["views"], 1, "{rep}");
    assert_eq!(rep["watch_seconds"], 15.5, "{rep}");
    // The unknown names left the session on its rendition: the heartbeat naming one and the
    // end (naming none) are counted on it.
    assert_eq!(
        rep["renditions"],
        json!({ rendition.clone(): 15.5 }),
        "{rep}"
    );

    // /metrics has the process's totals (shared by every server in this test binary: at least ours).
    let metrics = s
        .client
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let value = |name: &str| -> f64 {
        metrics
            .lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} missing from /metrics:\n{metrics}"))
    };
    assert!(value("views_total") >= 1.0);
    assert!(value("view_watch_milliseconds_total") >= 15_500.0);
    assert!(
        metrics.contains("view_beacons_total{event=\"heartbeat\"}"),
        "{metrics}"
    );
}
