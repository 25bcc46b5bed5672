//! API keys as a user manages them: listed without their secret, revoked at once, expiring,
//! scoped; and changing one's password.

use crate::common::{self, expect_error, fixtures, read, TestServer, PASSWORD};
use chrono::{DateTime, Utc};
use mediaserver_core::{new_id, ApiKey, Scopes, UserId};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Creates a key with `body` and returns the 201 response's JSON.
async fn create_key(s: &TestServer, token: &str, body: Value) -> Value {
    let r = s
        .client
        .post(s.url("/v1/api-keys"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let created: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

async fn list_keys(s: &TestServer, token: &str) -> (String, Vec<Value>) {
    let r = s.get("/v1/api-keys", token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    (text, v["keys"].as_array().unwrap().clone())
}

async fn me_status(s: &TestServer, token: &str) -> StatusCode {
    s.get("/v1/auth/me", token).send().await.unwrap().status()
}

async fn revoke(s: &TestServer, token: &str, id: &str) -> reqwest::Response {
    s.client
        .delete(s.url(&format!("/v1/api-keys/{id}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

fn scopes(v: &Value) -> Vec<&str> {
    v["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn keys_are_listed_without_their_secret() {
    let s = TestServer::start().await;
    let admin = s.user_token("admin@example.com").await;
    let token = s.user_token("me@example.com").await;
    let plain = create_key(&s, &token, json!({"name": "laptop"})).await;
    let limited = create_key(
        &s,
        &token,
        json!({"name": "ci", "scopes": ["upload", "read"], "expires_in_seconds": 3600}),
    )
    .await;
    // A key created without scopes may do what its owner may: an admin's also administers.
    assert_eq!(scopes(&plain), ["read", "upload", "write"]);
    assert_eq!(scopes(&limited), ["read", "upload"]);
    let admin_key = create_key(&s, &admin, json!({})).await;
    assert_eq!(scopes(&admin_key), ["read", "upload", "write", "admin"]);
    assert_eq!(plain["expires_at"], Value::Null);
    let expires: DateTime<Utc> = limited["expires_at"].as_str().unwrap().parse().unwrap();
    let created: DateTime<Utc> = limited["created_at"].as_str().unwrap().parse().unwrap();
    assert_eq!((expires - created).num_seconds(), 3600);

    let (text, keys) = list_keys(&s, &token).await;
    // Newest first; never the secret (nor anything but its prefix).
    let names: Vec<&str> = keys.iter().map(|k| k["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["ci", "laptop"]);
    for created in [&plain, &limited] {
        let secret = created["key"].as_str().unwrap();
        assert!(!text.contains(secret), "secret listed: {text}");
        assert!(
            !text.contains(&secret[12..]),
            "part of the secret listed: {text}"
        );
    }
    for k in &keys {
        assert!(k.get("key").is_none() && k.get("key_hash").is_none(), "{k}");
        for field in ["id", "name", "prefix", "created_at", "scopes"] {
            assert!(!k[field].is_null(), "{field} missing in {k}");
        }
        assert!(k.as_object().unwrap().contains_key("last_used_at"), "{k}");
        assert!(k.as_object().unwrap().contains_key("expires_at"), "{k}");
    }
    assert_eq!(keys[0]["id"], limited["id"]);
    assert_eq!(keys[0]["prefix"], limited["prefix"]);
    assert_eq!(keys[0]["expires_at"], limited["expires_at"]);
    assert_eq!(scopes(&keys[0]), ["read", "upload"]);
    assert_eq!(keys[1]["last_used_at"], Value::Null);

    // Using a key shows when it was last used.
    let secret = plain["key"].as_str().unwrap();
    assert_eq!(me_status(&s, secret).await, StatusCode::OK);
    let (_, keys) = list_keys(&s, &token).await;
    assert!(keys[1]["last_used_at"].is_string(), "{}", keys[1]);

    // Each user sees only their own keys, and listing needs credentials.
    let (_, admins) = list_keys(&s, &admin).await;
    assert_eq!(admins.len(), 1);
    assert_eq!(admins[0]["id"], admin_key["id"]);
    let r = s.client.get(s.url("/v1/api-keys")).send().await.unwrap();
    expect_error(r, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn a_revoked_key_is_refused_at_once() {
    let s = TestServer::start().await;
    let token = s.user_token("me@example.com").await;
    let other = s.user_token("other@example.com").await;
    let key = create_key(&s, &token, json!({"name": "to revoke"})).await;
    let (id, secret) = (key["id"].as_str().unwrap(), key["key"].as_str().unwrap());
    assert_eq!(me_status(&s, secret).await, StatusCode::OK);

    // Another user's key, an unknown id: 404, and the key still works.
    expect_error(revoke(&s, &other, id).await, StatusCode::NOT_FOUND).await;
    expect_error(revoke(&s, &token, &new_id()).await, StatusCode::NOT_FOUND).await;
    expect_error(revoke(&s, &token, "not-a-key").await, StatusCode::NOT_FOUND).await;
    assert_eq!(me_status(&s, secret).await, StatusCode::OK);

    let r = revoke(&s, &token, id).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let msg = expect_error(
        s.get("/v1/auth/me", secret).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(msg.contains("revoked") || msg.contains("invalid"), "{msg}");
    expect_error(
        s.upload(secret, "a.png", read(&fixtures().png)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // A revoked key is gone: not listed, and revoking it again is 404.
    let (_, keys) = list_keys(&s, &token).await;
    assert!(keys.is_empty(), "{keys:?}");
    expect_error(revoke(&s, &token, id).await, StatusCode::NOT_FOUND).await;
}

/// Stores a key of `user` with a known secret straight through the repository (the server keeps
/// only the SHA-256 of a key), so that a test can make one that has already expired.
async fn store_key(
    s: &TestServer,
    user: &UserId,
    expires_at: Option<DateTime<Utc>>,
) -> (String, ApiKey) {
    let secret = format!("msk_test{}", new_id());
    let key = ApiKey {
        id: new_id(),
        user_id: user.clone(),
        name: "stored".into(),
        prefix: secret[..12].to_string(),
        key_hash: common::sha256_hex(secret.as_bytes()),
        created_at: Utc::now() - chrono::Duration::hours(2),
        expires_at,
        scopes: Scopes::all(),
        last_used_at: None,
        revoked_at: None,
    };
    s.state.repo.insert_api_key(&key).await.unwrap();
    (secret, key)
}

async fn user_id(s: &TestServer, token: &str) -> UserId {
    let me: Value = s
        .get("/v1/auth/me", token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    me["id"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn keys_expire_within_bounds() {
    let s = TestServer::start().await;
    let token = s.user_token("me@example.com").await;
    for bad in [
        json!(0),
        json!(59),
        json!(-5),
        json!(5 * 366 * 86400),
        json!(1.5),
    ] {
        let r = s
            .client
            .post(s.url("/v1/api-keys"))
            .bearer_auth(&token)
            .json(&json!({"expires_in_seconds": bad}))
            .send()
            .await
            .unwrap();
        let msg = expect_error(r, StatusCode::BAD_REQUEST).await;
        assert!(msg.contains("expires_in_seconds"), "{bad}: {msg}");
    }
    // JSON Schema's integers include `60.0`.
    create_key(&s, &token, json!({"expires_in_seconds": 60.0})).await;
    let key = create_key(&s, &token, json!({"expires_in_seconds": 60})).await;
    assert_eq!(
        me_status(&s, key["key"].as_str().unwrap()).await,
        StatusCode::OK
    );

    // A key past its expiry is refused, saying so; one still within it works.
    let me = user_id(&s, &token).await;
    let (expired, _) = store_key(&s, &me, Some(Utc::now() - chrono::Duration::seconds(1))).await;
    let (live, _) = store_key(&s, &me, Some(Utc::now() + chrono::Duration::hours(1))).await;
    let msg = expect_error(
        s.get("/v1/media", &expired).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(msg.contains("expired"), "{msg}");
    assert_eq!(me_status(&s, &live).await, StatusCode::OK);
    // Expired keys stay listed, so their owner sees why and can revoke them.
    let (_, keys) = list_keys(&s, &token).await;
    assert_eq!(keys.len(), 4);
}

#[tokio::test]
async fn scopes_limit_what_a_key_may_do() {
    let s = TestServer::start().await;
    let admin = s.user_token("admin@example.com").await;
    let token = s.user_token("me@example.com").await;
    let png = read(&fixtures().png);
    let item = s.upload_ok(&token, "mine.png", png.clone()).await;
    let item_path = format!("/v1/media/{}", item["id"].as_str().unwrap());
    let missing = |msg: String, scope: &str| {
        assert!(msg.contains(&format!("`{scope}`")), "{scope}: {msg}");
    };

    // A body that is not an object (serde would take an array for the fields in order).
    for body in ["[null, null]", "[\"x\", 3600]", "\"read\""] {
        let r = s
            .client
            .post(s.url("/v1/api-keys"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        expect_error(r, StatusCode::BAD_REQUEST).await;
    }
    // Unknown scopes, none at all, or `admin` for a non-admin are refused.
    for (body, status) in [
        (json!({"scopes": ["read", "root"]}), StatusCode::BAD_REQUEST),
        (json!({"scopes": []}), StatusCode::BAD_REQUEST),
        (json!({"scopes": "read"}), StatusCode::BAD_REQUEST),
        (json!({"scopes": ["admin"]}), StatusCode::FORBIDDEN),
    ] {
        let r = s
            .client
            .post(s.url("/v1/api-keys"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let msg = expect_error(r, status).await;
        assert!(msg.contains("scope"), "{body}: {msg}");
    }

    // Read only: sees, never changes.
    let reader = create_key(&s, &token, json!({"scopes": ["read"]})).await;
    let reader = reader["key"].as_str().unwrap();
    let r = s.get("/v1/media", reader).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        s.get(&item_path, reader).send().await.unwrap().status(),
        StatusCode::OK
    );
    let r = s.upload(reader, "b.png", png.clone()).await;
    missing(expect_error(r, StatusCode::FORBIDDEN).await, "upload");
    let r = s
        .client
        .post(s.url("/v1/uploads"))
        .bearer_auth(reader)
        .header("tus-resumable", "1.0.0")
        .header("upload-length", "10")
        .send()
        .await
        .unwrap();
    missing(expect_error(r, StatusCode::FORBIDDEN).await, "upload");
    let r = s
        .client
        .patch(s.url(&item_path))
        .bearer_auth(reader)
        .json(&json!({"title": "changed"}))
        .send()
        .await
        .unwrap();
    missing(expect_error(r, StatusCode::FORBIDDEN).await, "write");
    let r = s
        .client
        .delete(s.url(&item_path))
        .bearer_auth(reader)
        .send()
        .await
        .unwrap();
    missing(expect_error(r, StatusCode::FORBIDDEN).await, "write");
    // A key cannot make a key that may do more than it may.
    let r = s
        .client
        .post(s.url("/v1/api-keys"))
        .bearer_auth(reader)
        .json(&json!({"scopes": ["read", "upload"]}))
        .send()
        .await
        .unwrap();
    missing(expect_error(r, StatusCode::FORBIDDEN).await, "upload");
    let child = create_key(&s, reader, json!({})).await;
    assert_eq!(scopes(&child), ["read"]);
    // Nothing changed.
    let got: Value = s
        .get(&item_path, &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["title"], item["title"]);

    // Upload only: uploads, sees nothing.
    let uploader = create_key(&s, &token, json!({"scopes": ["upload"]})).await;
    let uploader = uploader["key"].as_str().unwrap();
    s.upload_ok(uploader, "c.png", png.clone()).await;
    let r = s.get("/v1/media", uploader).send().await.unwrap();
    missing(expect_error(r, StatusCode::FORBIDDEN).await, "read");
    let r = s.get(&item_path, uploader).send().await.unwrap();
    missing(expect_error(r, StatusCode::FORBIDDEN).await, "read");

    // Write: changes and deletes.
    let writer = create_key(&s, &token, json!({"scopes": ["write"]})).await;
    let writer = writer["key"].as_str().unwrap();
    let r = s
        .client
        .patch(s.url(&item_path))
        .bearer_auth(writer)
        .json(&json!({"title": "changed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // An admin's key without `admin` is an ordinary user's: it lists its owner's items only.
    let admin_reader = create_key(&s, &admin, json!({"scopes": ["read"]})).await;
    let admin_reader = admin_reader["key"].as_str().unwrap();
    let all: Value = s
        .get("/v1/media", &admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all["items"].as_array().unwrap().len(), 2, "{all}");
    let own: Value = s
        .get("/v1/media", admin_reader)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(own["items"].as_array().unwrap().len(), 0, "{own}");
    let r = s.get(&item_path, admin_reader).send().await.unwrap();
    expect_error(r, StatusCode::NOT_FOUND).await;
    let admin_full = create_key(&s, &admin, json!({"scopes": ["read", "admin"]})).await;
    let r = s
        .get(&item_path, admin_full["key"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

async fn login_pair(s: &TestServer, password: &str) -> (String, String) {
    let r = s.login("me@example.com", password).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    (
        v["access_token"].as_str().unwrap().to_string(),
        v["refresh_token"].as_str().unwrap().to_string(),
    )
}

async fn change_password(
    s: &TestServer,
    token: &str,
    current: &str,
    new: &str,
) -> reqwest::Response {
    s.client
        .post(s.url("/v1/auth/password"))
        .bearer_auth(token)
        .json(&json!({"current_password": current, "new_password": new}))
        .send()
        .await
        .unwrap()
}

async fn refresh_status(s: &TestServer, refresh: &str) -> StatusCode {
    s.client
        .post(s.url("/v1/auth/refresh"))
        .json(&json!({"refresh_token": refresh}))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions() {
    let s = TestServer::start().await;
    let r = s.register("me@example.com", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let (here, here_refresh) = login_pair(&s, PASSWORD).await;
    let (there, there_refresh) = login_pair(&s, PASSWORD).await;
    let key = create_key(&s, &here, json!({})).await;
    let key = key["key"].as_str().unwrap();
    const NEW: &str = "a much better passphrase";

    let msg = expect_error(
        change_password(&s, &here, "not my password", NEW).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(msg.contains("current_password"), "{msg}");
    let msg = expect_error(
        change_password(&s, &here, PASSWORD, "short").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(msg.contains("new_password"), "{msg}");
    let msg = expect_error(
        change_password(&s, &here, PASSWORD, &"long".repeat(65)).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(msg.contains("256 characters"), "{msg}");
    // An API key cannot change the password: that takes a login.
    expect_error(
        change_password(&s, key, PASSWORD, NEW).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // None of that changed anything.
    assert_eq!(me_status(&s, &there).await, StatusCode::OK);

    let r = change_password(&s, &here, PASSWORD, NEW).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // This session goes on; the other one is over, access and refresh token alike.
    assert_eq!(me_status(&s, &here).await, StatusCode::OK);
    assert_eq!(me_status(&s, &there).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        refresh_status(&s, &there_refresh).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(refresh_status(&s, &here_refresh).await, StatusCode::OK);
    // API keys are unaffected.
    assert_eq!(me_status(&s, key).await, StatusCode::OK);
    // Only the new password logs in.
    expect_error(
        s.login("me@example.com", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    login_pair(&s, NEW).await;
}

/// A wrong current password counts as a failed login: guessing through this endpoint runs into
/// the same lock as guessing at the login.
#[tokio::test]
async fn wrong_current_passwords_count_toward_the_login_throttle() {
    let s = TestServer::start().await;
    let token = s.user_token("me@example.com").await;
    let mut statuses = Vec::new();
    for i in 0..11 {
        let r = change_password(&s, &token, &format!("guess number {i}"), "whatever it is").await;
        statuses.push(r.status());
    }
    assert!(
        statuses[..10].iter().all(|s| *s == StatusCode::FORBIDDEN),
        "{statuses:?}"
    );
    assert_eq!(statuses[10], StatusCode::TOO_MANY_REQUESTS);
    expect_error(
        s.login("me@example.com", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
}

/// The new routes are in the API document with every status they answer, and every route that
/// takes a bearer credential declares the 401 and the 403 (missing scope) it can answer.
#[tokio::test]
async fn the_api_document_declares_the_key_routes_and_credential_errors() {
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
    let codes = |path: &str, method: &str| -> Vec<String> {
        let op = &spec["paths"][path][method];
        assert!(op.is_object(), "{method} {path} missing");
        op["responses"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    for (path, method, expected) in [
        ("/v1/api-keys", "get", &["200", "401", "403"][..]),
        ("/v1/api-keys", "post", &["201", "400", "401", "403", "413"]),
        ("/v1/api-keys/{id}", "delete", &["204", "401", "403", "404"]),
        (
            "/v1/auth/password",
            "post",
            &["204", "400", "401", "403", "413", "429"],
        ),
    ] {
        let got = codes(path, method);
        for code in expected {
            assert!(
                got.contains(&code.to_string()),
                "{method} {path}: {code} not in {got:?}"
            );
        }
    }
    let post = &spec["paths"]["/v1/api-keys"]["post"]["requestBody"]["content"]["application/json"];
    assert!(post["schema"].is_object(), "{post}");
    assert!(spec["components"]["schemas"]["Scope"]["enum"].is_array());
    let mut bearer_ops = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let bearer = op["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
            if bearer {
                bearer_ops += 1;
                let got = codes(path, method);
                for code in ["401", "403"] {
                    assert!(
                        got.contains(&code.to_string()),
                        "{method} {path}: no {code}"
                    );
                }
            }
        }
    }
    assert!(bearer_ops > 10, "{bearer_ops}");
}
