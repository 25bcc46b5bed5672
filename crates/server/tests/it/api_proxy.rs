//! Behind a reverse proxy: who the client is (the login throttle's key) and the absolute URLs the
//! API hands out, with forwarding headers believed only from `TRUSTED_PROXIES`. The test client
//! connects from 127.0.0.1, so `TRUSTED_PROXIES=127.0.0.1` makes it the proxy.

use crate::common;

use common::{expect_error, TestServer, PASSWORD};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn login_via(
    s: &TestServer,
    headers: &[(&str, &str)],
    email: &str,
    password: &str,
) -> reqwest::Response {
    let mut req = s
        .client
        .post(s.url("/v1/auth/login"))
        .json(&json!({"email": email, "password": password}));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn behind_a_trusted_proxy_one_client_locked_out_does_not_lock_out_another() {
    let s = TestServer::start_with(&[("TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")]).await;
    s.register("victim@example.com", PASSWORD).await;
    s.register("other@example.com", PASSWORD).await;
    // The attacker, behind the proxy, guesses the victim's password.
    let attacker = [("x-forwarded-for", "203.0.113.7")];
    for _ in 0..10 {
        expect_error(
            login_via(&s, &attacker, "victim@example.com", "wrong password").await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    let r = login_via(&s, &attacker, "victim@example.com", PASSWORD).await;
    assert!(r.headers().contains_key("retry-after"));
    expect_error(r, StatusCode::TOO_MANY_REQUESTS).await;

    // Another client through the same proxy (a chain through a second trusted proxy, and the
    // RFC 7239 header) logs in, to the victim's account and to its own.
    let victim = [("x-forwarded-for", "198.51.100.20, 10.1.2.3")];
    let r = login_via(&s, &victim, "victim@example.com", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    let other = [("forwarded", "for=\"[2001:db8::1]:4711\";proto=https")];
    let r = login_via(&s, &other, "other@example.com", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    // A client that puts the attacker's address in front of its own is still itself: the
    // right-most address the trusted proxy did not add is the client.
    let claims_attacker = [("x-forwarded-for", "203.0.113.7, 198.51.100.20")];
    let r = login_via(&s, &claims_attacker, "victim@example.com", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn forwarding_headers_from_an_untrusted_peer_are_ignored() {
    // No TRUSTED_PROXIES: the peer is the client, whatever it claims.
    let s = TestServer::start().await;
    s.register("me@example.com", PASSWORD).await;
    for i in 0..10 {
        let spoofed = format!("203.0.113.{i}");
        let headers = [
            ("x-forwarded-for", spoofed.as_str()),
            ("forwarded", &format!("for={spoofed}")),
        ];
        expect_error(
            login_via(&s, &headers, "me@example.com", "wrong password").await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    let fresh = [("x-forwarded-for", "198.51.100.99")];
    let r = login_via(&s, &fresh, "me@example.com", PASSWORD).await;
    expect_error(r, StatusCode::TOO_MANY_REQUESTS).await;

    // A trusted list that does not name this peer is no trust either.
    let s = TestServer::start_with(&[("TRUSTED_PROXIES", "10.0.0.0/8")]).await;
    s.register("me@example.com", PASSWORD).await;
    for i in 0..10 {
        let spoofed = format!("203.0.113.{i}");
        expect_error(
            login_via(
                &s,
                &[("x-forwarded-for", &spoofed)],
                "me@example.com",
                "wrong password",
            )
            .await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    let r = login_via(&s, &fresh, "me@example.com", PASSWORD).await;
    expect_error(r, StatusCode::TOO_MANY_REQUESTS).await;
}

async fn direct_upload(
    s: &TestServer,
    token: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, String) {
    let mut req = s
        .client
        .post(s.url("/v1/media/direct-upload"))
        .bearer_auth(token)
        .json(&json!({"filename": "clip.mp4", "size": 10}));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

#[tokio::test]
async fn absolute_urls_never_carry_untrusted_host_headers() {
    let s = TestServer::start().await;
    let token = s.user_token("me@example.com").await;
    let port = s.url.rsplit(':').next().unwrap().to_string();

    // Forwarded host and scheme from an untrusted peer: ignored, the Host header is used.
    let (status, body) = direct_upload(
        &s,
        &token,
        &[
            ("x-forwarded-host", "evil.example"),
            ("x-forwarded-proto", "javascript"),
            ("forwarded", "host=evil.example;proto=javascript"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(!body.contains("evil"), "{body}");
    assert!(!body.contains("javascript"), "{body}");
    let d: Value = serde_json::from_str(&body).unwrap();
    let url = d["upload_url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("http://127.0.0.1:{port}/v1/uploads/direct/")),
        "{url}"
    );
    // It is the URL that works.
    let r = s.client.put(url).body(vec![0u8; 10]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    // A Host that is not a host[:port] is never copied into a URL.
    for bad in [
        "javascript://x",
        "evil.example@127.0.0.1",
        "evil example",
        "evil.example/x",
        "evil.example:99999",
    ] {
        let (status, body) = direct_upload(&s, &token, &[("host", bad)]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(!body.contains("javascript"), "{body}");
        assert!(!body.contains("evil"), "{body}");
        assert!(body.contains("EXTERNAL_URL"), "{body}");
    }
}

#[tokio::test]
async fn absolute_urls_follow_trusted_proxies_and_external_url() {
    let s = TestServer::start_with(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    let token = s.user_token("me@example.com").await;
    let (status, body) = direct_upload(
        &s,
        &token,
        &[
            ("x-forwarded-host", "media.example.com"),
            ("x-forwarded-proto", "https"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let d: Value = serde_json::from_str(&body).unwrap();
    let url = d["upload_url"].as_str().unwrap();
    assert!(
        url.starts_with("https://media.example.com/v1/uploads/direct/"),
        "{url}"
    );
    // Even a trusted proxy's header must be a host.
    let (status, body) = direct_upload(&s, &token, &[("x-forwarded-host", "javascript://x")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(!body.contains("javascript"), "{body}");

    // EXTERNAL_URL wins over every header.
    let s = TestServer::start_with(&[
        ("TRUSTED_PROXIES", "127.0.0.1"),
        ("EXTERNAL_URL", "https://videos.example.org/"),
    ])
    .await;
    let token = s.user_token("me@example.com").await;
    let (status, body) = direct_upload(
        &s,
        &token,
        &[
            ("host", "javascript://x"),
            ("x-forwarded-host", "evil.example"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(
        !body.contains("evil") && !body.contains("javascript"),
        "{body}"
    );
    let d: Value = serde_json::from_str(&body).unwrap();
    let url = d["upload_url"].as_str().unwrap();
    assert!(
        url.starts_with("https://videos.example.org/v1/uploads/direct/"),
        "{url}"
    );
}
