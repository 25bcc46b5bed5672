//! Accounts, tokens and API keys over real HTTP against a real server.

use crate::common;

use common::{expect_error, TestServer, PASSWORD};
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn first_user_is_admin_and_later_users_are_not() {
    let s = TestServer::start().await;
    let r = s.register("First@Example.com", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let first: Value = r.json().await.unwrap();
    assert_eq!(first["role"], "admin");
    assert_eq!(first["email"], "first@example.com");
    assert!(first.get("password_hash").is_none());

    let r = s.register("second@example.com", PASSWORD).await;
    let second: Value = r.json().await.unwrap();
    assert_eq!(second["role"], "user");
}

#[tokio::test]
async fn registration_rejects_bad_input() {
    let s = TestServer::start().await;
    // Malformed JSON.
    let r = s
        .client
        .post(s.url("/v1/auth/register"))
        .header("content-type", "application/json")
        .body("{\"email\": \"a@b.co\", ")
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::BAD_REQUEST).await;
    // Weak password.
    let msg = expect_error(
        s.register("weak@example.com", "short").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(msg.contains("password"), "{msg}");
    // Not an email.
    expect_error(
        s.register("not-an-email", PASSWORD).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    // A role cannot be chosen by the client.
    let r = s
        .client
        .post(s.url("/v1/auth/register"))
        .json(&json!({"email": "sneaky@example.com", "password": PASSWORD, "role": "admin"}))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::BAD_REQUEST).await;
    // Duplicate email, differing only in case.
    assert_eq!(
        s.register("dup@example.com", PASSWORD).await.status(),
        StatusCode::CREATED
    );
    let msg = expect_error(
        s.register("DUP@example.com", PASSWORD).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(msg.contains("already exists"), "{msg}");
}

#[tokio::test]
async fn login_issues_tokens_and_hides_which_part_was_wrong() {
    let s = TestServer::start().await;
    s.register("me@example.com", PASSWORD).await;
    let r = s.login("ME@example.com", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    let pair: Value = r.json().await.unwrap();
    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["expires_in"], 900);
    let token = pair["access_token"].as_str().unwrap();
    let me: Value = s
        .get("/v1/auth/me", token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "me@example.com");
    assert_eq!(me["role"], "admin");

    let wrong_password = expect_error(
        s.login("me@example.com", "wrong password").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let unknown_user = expect_error(
        s.login("nobody@example.com", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(wrong_password, unknown_user);
}

#[tokio::test]
async fn bad_tokens_are_401() {
    let s = TestServer::start_with(&[("ACCESS_TOKEN_TTL_SECONDS", "1")]).await;
    let token = s.user_token("me@example.com").await;
    assert_eq!(
        s.get("/v1/auth/me", &token).send().await.unwrap().status(),
        StatusCode::OK
    );

    // Missing.
    let r = s.client.get(s.url("/v1/auth/me")).send().await.unwrap();
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    expect_error(r, StatusCode::UNAUTHORIZED).await;
    // Garbage, wrong scheme, tampered payload, tampered signature.
    expect_error(
        s.get("/v1/auth/me", "garbage").send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let r = s
        .client
        .get(s.url("/v1/auth/me"))
        .header("authorization", format!("Basic {token}"))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::UNAUTHORIZED).await;
    let parts: Vec<&str> = token.split('.').collect();
    let forged_payload = {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
        claims["sub"] = json!("someone-else");
        format!(
            "{}.{}.{}",
            parts[0],
            b64.encode(claims.to_string()),
            parts[2]
        )
    };
    expect_error(
        s.get("/v1/auth/me", &forged_payload).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let mut bad_sig = token.clone();
    let last = bad_sig.pop().unwrap();
    bad_sig.push(if last == 'A' { 'B' } else { 'A' });
    expect_error(
        s.get("/v1/auth/me", &bad_sig).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;

    // Expired.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    expect_error(
        s.get("/v1/auth/me", &token).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn tokens_from_another_server_secret_are_rejected() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    let token = a.user_token("me@example.com").await;
    b.user_token("me@example.com").await;
    expect_error(
        b.get("/v1/auth/me", &token).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

async fn refresh(s: &TestServer, token: &str) -> reqwest::Response {
    s.client
        .post(s.url("/v1/auth/refresh"))
        .json(&json!({"refresh_token": token}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    let s = TestServer::start().await;
    s.register("me@example.com", PASSWORD).await;
    let pair: Value = s
        .login("me@example.com", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let r1 = pair["refresh_token"].as_str().unwrap().to_string();

    let r = refresh(&s, &r1).await;
    assert_eq!(r.status(), StatusCode::OK);
    let pair2: Value = r.json().await.unwrap();
    let r2 = pair2["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(r1, r2);
    let access = pair2["access_token"].as_str().unwrap();
    assert_eq!(
        s.get("/v1/auth/me", access).send().await.unwrap().status(),
        StatusCode::OK
    );

    // Reusing the first token fails and revokes the second as well.
    expect_error(refresh(&s, &r1).await, StatusCode::UNAUTHORIZED).await;
    expect_error(refresh(&s, &r2).await, StatusCode::UNAUTHORIZED).await;
    expect_error(
        refresh(&s, "mrt_not-a-token").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    let s = TestServer::start().await;
    s.register("me@example.com", PASSWORD).await;
    let pair: Value = s
        .login("me@example.com", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let rt = pair["refresh_token"].as_str().unwrap();
    let r = s
        .client
        .post(s.url("/v1/auth/logout"))
        .json(&json!({"refresh_token": rt}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    expect_error(refresh(&s, rt).await, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn logout_ends_the_sessions_access_tokens_at_once() {
    let s = TestServer::start().await;
    s.register("me@example.com", PASSWORD).await;
    let login = || async {
        let pair: Value = s
            .login("me@example.com", PASSWORD)
            .await
            .json()
            .await
            .unwrap();
        (
            pair["access_token"].as_str().unwrap().to_string(),
            pair["refresh_token"].as_str().unwrap().to_string(),
        )
    };
    let me = |token: String| {
        let req = s.get("/v1/auth/me", &token);
        async move { req.send().await.unwrap() }
    };
    let (access, refresh_token) = login().await;
    // Another session of the same user (another device).
    let (other_access, _) = login().await;
    // The session's token after a refresh belongs to it as much as the first one.
    let pair: Value = refresh(&s, &refresh_token).await.json().await.unwrap();
    let refreshed = pair["access_token"].as_str().unwrap().to_string();
    let rotated = pair["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(me(access.clone()).await.status(), StatusCode::OK);
    assert_eq!(me(refreshed.clone()).await.status(), StatusCode::OK);

    let r = s
        .client
        .post(s.url("/v1/auth/logout"))
        .json(&json!({"refresh_token": rotated}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // Every access token of the session is refused at once, not when it expires...
    for token in [access, refreshed] {
        let msg = expect_error(me(token.clone()).await, StatusCode::UNAUTHORIZED).await;
        assert!(msg.contains("log in again"), "{msg}");
        let r = s
            .client
            .post(s.url("/v1/api-keys"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        expect_error(r, StatusCode::UNAUTHORIZED).await;
    }
    // ...and the other session goes on.
    assert_eq!(me(other_access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn api_keys_are_shown_once_and_work_as_bearer_tokens() {
    let s = TestServer::start().await;
    let token = s.user_token("me@example.com").await;
    let r = s
        .client
        .post(s.url("/v1/api-keys"))
        .bearer_auth(&token)
        .json(&json!({"name": "ci uploader"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    let key = created["key"].as_str().unwrap();
    assert!(key.starts_with("msk_"));
    assert_eq!(created["name"], "ci uploader");
    assert!(key.starts_with(created["prefix"].as_str().unwrap()));

    let me: Value = s
        .get("/v1/auth/me", key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "me@example.com");
    // Without a body a default name is used.
    let r = s
        .client
        .post(s.url("/v1/api-keys"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    // Unknown keys and unauthenticated creation are refused.
    expect_error(
        s.get("/v1/auth/me", "msk_unknown").send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let r = s.client.post(s.url("/v1/api-keys")).send().await.unwrap();
    expect_error(r, StatusCode::UNAUTHORIZED).await;
    // The key is stored hashed: the plaintext appears nowhere in the database file.
    let db = std::fs::read(s.dir.path().join("mediaserver.db")).unwrap_or_default();
    let wal = std::fs::read(s.dir.path().join("mediaserver.db-wal")).unwrap_or_default();
    let needle = key.as_bytes();
    for bytes in [&db, &wal] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "plaintext API key stored"
        );
    }
}

#[tokio::test]
async fn registration_can_be_closed() {
    let s = TestServer::start_with(&[("ALLOW_REGISTRATION", "false")]).await;
    let msg = expect_error(
        s.register("me@example.com", PASSWORD).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(msg.contains("closed"), "{msg}");
}

#[tokio::test]
async fn by_default_only_the_first_account_may_sign_up() {
    // ALLOW_REGISTRATION unset (empty counts as unset).
    let s = TestServer::start_with(&[("ALLOW_REGISTRATION", "")]).await;
    let r = s.register("admin@example.com", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let admin: serde_json::Value = r.json().await.unwrap();
    assert_eq!(admin["role"], "admin");
    let r = s.register("someone@example.com", PASSWORD).await;
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    let msg = expect_error(r, StatusCode::FORBIDDEN).await;
    assert!(msg.contains("ask an administrator"), "{msg}");
    assert!(msg.contains("mediaserver user create"), "{msg}");
    assert!(msg.contains("ALLOW_REGISTRATION=true"), "{msg}");
    // The admin can still sign in; nobody else was created.
    assert_eq!(
        s.login("admin@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
    assert!(s
        .state
        .repo
        .user_by_email("someone@example.com")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn allow_registration_true_keeps_sign_up_open() {
    let s = TestServer::start_with(&[("ALLOW_REGISTRATION", "true")]).await;
    for email in ["a@example.com", "b@example.com", "c@example.com"] {
        assert_eq!(
            s.register(email, PASSWORD).await.status(),
            StatusCode::CREATED
        );
    }
}

#[tokio::test]
async fn registration_false_closes_even_the_first_account() {
    let s = TestServer::start_with(&[("ALLOW_REGISTRATION", "false")]).await;
    let msg = expect_error(
        s.register("first@example.com", PASSWORD).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(msg.contains("mediaserver user create"), "{msg}");
}

#[tokio::test]
async fn repeated_failed_logins_are_refused() {
    let s = TestServer::start().await;
    s.register("me@example.com", PASSWORD).await;
    for _ in 0..10 {
        expect_error(
            s.login("me@example.com", "wrong password").await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    let r = s.login("me@example.com", PASSWORD).await;
    assert!(r.headers().contains_key("retry-after"));
    expect_error(r, StatusCode::TOO_MANY_REQUESTS).await;
}

#[tokio::test]
async fn tokens_survive_a_restart_with_the_generated_secret() {
    let s = TestServer::start().await;
    let token = s.user_token("me@example.com").await;
    let secret_path = s.dir.path().join("jwt-secret");
    let secret = std::fs::read_to_string(&secret_path).unwrap();
    assert!(secret.trim().len() >= 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret_path)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "secret readable by others: {mode:o}");
    }
    let dir = s.stop().await;
    let s = TestServer::start_in(dir, &[]).await;
    assert_eq!(
        s.get("/v1/auth/me", &token).send().await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(std::fs::read_to_string(&secret_path).unwrap(), secret);
}
