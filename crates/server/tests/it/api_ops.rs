//! Health, readiness, metrics, OpenAPI, docs, request ids and JSON 404s.

use crate::common;

use common::{expect_error, fixtures, read, TestServer};
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn health_and_readiness() {
    let s = TestServer::start().await;
    let r = s.client.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = s.client.get(s.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["database"], "ok");
    assert_eq!(body["media_storage"], "ok");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_uploaded_bytes() {
    let s = TestServer::start().await;
    let token = s.user_token("me@example.com").await;
    let png = read(&fixtures().png);
    let item = s.upload_ok(&token, "a.png", png.clone()).await;
    let id = item["id"].as_str().unwrap();
    s.get(&format!("/v1/media/{id}"), &token)
        .send()
        .await
        .unwrap();
    let text = s
        .client
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("http_requests_total{"), "{text}");
    // Labelled by the route template, not the concrete id.
    assert!(text.contains("route=\"/v1/media/{id}\""), "{text}");
    assert!(!text.contains(id), "raw ids leak into labels");
    assert!(text.contains("status=\"201\""));
    assert!(text.contains("http_request_duration_seconds_bucket{"));
    let uploaded = text
        .lines()
        .find(|l| l.starts_with("media_uploaded_bytes_total"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse::<f64>().ok())
        .expect("media_uploaded_bytes_total present");
    assert!(uploaded >= png.len() as f64);
}

#[tokio::test]
async fn openapi_describes_the_api_and_docs_render_offline() {
    let s = TestServer::start().await;
    let spec: Value = s
        .client
        .get(s.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    let paths = spec["paths"].as_object().unwrap();
    for p in [
        "/v1/auth/register",
        "/v1/auth/login",
        "/v1/auth/refresh",
        "/v1/auth/me",
        "/v1/api-keys",
        "/v1/media",
        "/v1/media/{id}",
        "/v1/media/{id}/original",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(paths.contains_key(p), "missing {p}");
    }
    assert!(spec["components"]["schemas"]["MediaView"].is_object());

    let r = s.client.get(s.url("/docs/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // Never framed (clickjacking), like the app's own pages.
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    assert_eq!(
        r.headers()["content-security-policy"],
        "frame-ancestors 'none'"
    );
    let html = r.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    // Every script and stylesheet the page loads is served by us, not a CDN.
    assert!(!html.contains("https://"), "docs page loads remote assets");
    for asset in [
        "/docs/swagger-ui.css",
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-initializer.js",
    ] {
        let r = s.client.get(s.url(asset)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{asset}");
    }
}

#[tokio::test]
async fn responses_carry_request_ids_and_unknown_paths_are_json_404() {
    let s = TestServer::start().await;
    let r = s.client.get(s.url("/healthz")).send().await.unwrap();
    assert!(r.headers().contains_key("x-request-id"));
    let r = s
        .client
        .get(s.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "abc-123");
    expect_error(
        s.client.get(s.url("/v1/nothing")).send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn cors_allows_players_on_other_origins() {
    let s = TestServer::start().await;
    let r = s
        .client
        .request(reqwest::Method::OPTIONS, s.url("/v1/media"))
        .header("origin", "https://player.example")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization,range")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
}
