//! User administration, invitations, the jobs view and per-user quotas, over real HTTP against a
//! real server (SQLite, local storage: what is stored is checked on disk).

use crate::common;

use common::{expect_error, fixtures, read, video, TestServer, PASSWORD};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use std::path::Path;

/// Every file under `dir` (the local storage root), relative paths.
fn stored_files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn storage(s: &TestServer) -> std::path::PathBuf {
    s.dir.path().join("storage")
}

async fn login_tokens(s: &TestServer, email: &str) -> Value {
    let r = s.login(email, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK, "login {email}");
    r.json().await.unwrap()
}

async fn send_json(
    s: &TestServer,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Response {
    let mut rb = s.client.request(method, s.url(path)).bearer_auth(token);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    rb.send().await.unwrap()
}

async fn create_user(s: &TestServer, admin: &str, email: &str) -> Value {
    let r = send_json(
        s,
        reqwest::Method::POST,
        "/v1/admin/users",
        admin,
        Some(json!({"email": email, "password": PASSWORD})),
    )
    .await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn users(s: &TestServer, admin: &str) -> Vec<Value> {
    let r = s.get("/v1/admin/users", admin).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let page: Value = r.json().await.unwrap();
    page["items"].as_array().unwrap().clone()
}

fn find<'a>(list: &'a [Value], email: &str) -> &'a Value {
    list.iter()
        .find(|u| u["email"] == email)
        .unwrap_or_else(|| panic!("{email} not in {list:?}"))
}

#[tokio::test]
async fn admin_routes_refuse_everyone_else() {
    let s = TestServer::start().await;
    let admin = s.user_token("admin@example.com").await;
    let user = s.user_token("user@example.com").await;
    let me: Value = s
        .get("/v1/auth/me", &user)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let user_id = me["id"].as_str().unwrap().to_string();
    let id_path = format!("/v1/admin/users/{user_id}");
    let calls: Vec<(reqwest::Method, &str, Option<Value>)> = vec![
        (reqwest::Method::GET, "/v1/admin/users", None),
        (
            reqwest::Method::POST,
            "/v1/admin/users",
            Some(json!({"email": "x@example.com", "password": PASSWORD})),
        ),
        (
            reqwest::Method::POST,
            "/v1/admin/invitations",
            Some(json!({})),
        ),
        (
            reqwest::Method::PATCH,
            &id_path,
            Some(json!({"disabled": true})),
        ),
        (reqwest::Method::DELETE, &id_path, None),
        (reqwest::Method::GET, "/v1/admin/jobs", None),
    ];
    for (method, path, body) in calls {
        let r = send_json(&s, method.clone(), path, &user, body.clone()).await;
        let msg = expect_error(r, StatusCode::FORBIDDEN).await;
        assert!(msg.contains("admin"), "{method} {path}: {msg}");
        let mut rb = s.client.request(method.clone(), s.url(path));
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        expect_error(rb.send().await.unwrap(), StatusCode::UNAUTHORIZED).await;
    }
    // Nothing happened: the user is still there, enabled, and no account was made.
    let list = users(&s, &admin).await;
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(find(&list, "user@example.com")["disabled"], false);
}

#[tokio::test]
async fn admin_creates_users_while_sign_up_is_closed() {
    // The default: only the first account may register.
    let s = TestServer::start_with(&[("ALLOW_REGISTRATION", "")]).await;
    let admin = s.user_token("admin@example.com").await;
    expect_error(
        s.register("late@example.com", PASSWORD).await,
        StatusCode::FORBIDDEN,
    )
    .await;

    let created = create_user(&s, &admin, "New@Example.com").await;
    assert_eq!(created["email"], "new@example.com");
    assert_eq!(created["role"], "user");
    assert!(created.get("password_hash").is_none());
    login_tokens(&s, "new@example.com").await;

    // An admin made directly; a duplicate is 409; bad input is 400.
    let r = send_json(
        &s,
        reqwest::Method::POST,
        "/v1/admin/users",
        &admin,
        Some(json!({"email": "boss@example.com", "password": PASSWORD, "role": "admin"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = send_json(
        &s,
        reqwest::Method::POST,
        "/v1/admin/users",
        &admin,
        Some(json!({"email": "new@example.com", "password": PASSWORD})),
    )
    .await;
    expect_error(r, StatusCode::CONFLICT).await;
    let r = send_json(
        &s,
        reqwest::Method::POST,
        "/v1/admin/users",
        &admin,
        Some(json!({"email": "weak@example.com", "password": "short"})),
    )
    .await;
    assert!(expect_error(r, StatusCode::BAD_REQUEST)
        .await
        .contains("password"));

    let list = users(&s, &admin).await;
    assert_eq!(list.len(), 3);
    let new = find(&list, "new@example.com");
    assert_eq!(new["role"], "user");
    assert_eq!(new["disabled"], false);
    assert_eq!(new["media_count"], 0);
    assert_eq!(new["storage_bytes"], 0);
    assert_eq!(find(&list, "boss@example.com")["role"], "admin");
}

#[tokio::test]
async fn an_invitation_opens_registration_once() {
    let s = TestServer::start_with(&[("ALLOW_REGISTRATION", "")]).await;
    let admin = s.user_token("admin@example.com").await;
    let r = send_json(
        &s,
        reqwest::Method::POST,
        "/v1/admin/invitations",
        &admin,
        Some(json!({})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let inv: Value = r.json().await.unwrap();
    let token = inv["token"].as_str().unwrap().to_string();
    let url = inv["url"].as_str().unwrap();
    assert!(url.starts_with(&s.url), "{url}");
    assert!(
        url.ends_with(&format!("/#/register?invite={token}")),
        "{url}"
    );

    let register = |email: &'static str, invite: String| {
        let s = &s;
        async move {
            s.client
                .post(s.url("/v1/auth/register"))
                .json(&json!({"email": email, "password": PASSWORD, "invite": invite}))
                .send()
                .await
                .unwrap()
        }
    };
    let r = register("invited@example.com", token.clone()).await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["role"], "user");
    login_tokens(&s, "invited@example.com").await;

    // Used once: a second account cannot come through it.
    let msg = expect_error(
        register("second@example.com", token.clone()).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(msg.contains("already been used"), "{msg}");
    let msg = expect_error(
        register("third@example.com", "inv_nonsense".into()).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(msg.contains("invitation"), "{msg}");

    // An invitation for one address, as admin: another address cannot use it, that one can.
    let r = send_json(
        &s,
        reqwest::Method::POST,
        "/v1/admin/invitations",
        &admin,
        Some(json!({"email": "Named@Example.com", "role": "admin", "expires_in_seconds": 3600})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let inv: Value = r.json().await.unwrap();
    let named = inv["token"].as_str().unwrap().to_string();
    let msg = expect_error(
        register("other@example.com", named.clone()).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(msg.contains("named@example.com"), "{msg}");
    let r = register("named@example.com", named).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["role"], "admin");

    // Bad invitation requests.
    for bad in [
        json!({"role": "emperor"}),
        json!({"expires_in_seconds": 0}),
        json!({"email": "not an email"}),
    ] {
        let r = send_json(
            &s,
            reqwest::Method::POST,
            "/v1/admin/invitations",
            &admin,
            Some(bad),
        )
        .await;
        expect_error(r, StatusCode::BAD_REQUEST).await;
    }
}

#[tokio::test]
async fn a_disabled_user_is_locked_out_at_once() {
    let s = TestServer::start().await;
    let admin = s.user_token("admin@example.com").await;
    let access = s.user_token("user@example.com").await;
    let tokens = login_tokens(&s, "user@example.com").await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    let r = send_json(&s, reqwest::Method::POST, "/v1/api-keys", &access, None).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let key: Value = r.json().await.unwrap();
    let key = key["key"].as_str().unwrap().to_string();
    let me: Value = s
        .get("/v1/auth/me", &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = me["id"].as_str().unwrap().to_string();

    let r = send_json(
        &s,
        reqwest::Method::PATCH,
        &format!("/v1/admin/users/{id}"),
        &admin,
        Some(json!({"disabled": true})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let changed: Value = r.json().await.unwrap();
    assert_eq!(changed["disabled"], true);

    // Every credential the user already holds stops working, and login is refused.
    for credential in [&access, &key] {
        let r = s.get("/v1/media", credential).send().await.unwrap();
        let status = r.status();
        assert!(
            status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN,
            "{status}"
        );
        expect_error(r, status).await;
    }
    let r = s
        .client
        .post(s.url("/v1/auth/refresh"))
        .json(&json!({"refresh_token": refresh}))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::UNAUTHORIZED).await;
    let msg = expect_error(
        s.login("user@example.com", PASSWORD).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(msg.contains("account disabled"), "{msg}");
    // A wrong password still says only that.
    expect_error(
        s.login("user@example.com", "wrong password!").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(
        find(&users(&s, &admin).await, "user@example.com")["disabled"],
        true
    );

    // Enabled again: logging in works, and so does the API key.
    let r = send_json(
        &s,
        reqwest::Method::PATCH,
        &format!("/v1/admin/users/{id}"),
        &admin,
        Some(json!({"disabled": false})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    login_tokens(&s, "user@example.com").await;
    let r = s.get("/v1/media", &key).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_admin_cannot_lock_themself_out() {
    let s = TestServer::start().await;
    let admin = s.user_token("admin@example.com").await;
    let me: Value = s
        .get("/v1/auth/me", &admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path = format!("/v1/admin/users/{}", me["id"].as_str().unwrap());
    for body in [json!({"disabled": true}), json!({"role": "user"})] {
        let r = send_json(&s, reqwest::Method::PATCH, &path, &admin, Some(body)).await;
        let msg = expect_error(r, StatusCode::CONFLICT).await;
        assert!(msg.contains("your own account"), "{msg}");
    }
    let r = send_json(&s, reqwest::Method::DELETE, &path, &admin, None).await;
    let msg = expect_error(r, StatusCode::CONFLICT).await;
    assert!(msg.contains("your own account"), "{msg}");
    // Unknown and malformed ids are the same 404; bad bodies 400.
    for id in ["0190a0a0-0000-7000-8000-000000000000", "nope"] {
        let r = send_json(
            &s,
            reqwest::Method::PATCH,
            &format!("/v1/admin/users/{id}"),
            &admin,
            Some(json!({"disabled": true})),
        )
        .await;
        expect_error(r, StatusCode::NOT_FOUND).await;
    }
    let r = send_json(
        &s,
        reqwest::Method::PATCH,
        &path,
        &admin,
        Some(json!({"role": "superuser"})),
    )
    .await;
    expect_error(r, StatusCode::BAD_REQUEST).await;
    // Still an admin, still enabled.
    let r = s.get("/v1/admin/users", &admin).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // Another admin, demoted: the access token they hold (which names the role it was issued
    // with) stops working at once; logged in again they are a plain user.
    let other = s.user_token("other@example.com").await;
    let them: Value = s
        .get("/v1/auth/me", &other)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let their_path = format!("/v1/admin/users/{}", them["id"].as_str().unwrap());
    let r = send_json(
        &s,
        reqwest::Method::PATCH,
        &their_path,
        &admin,
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let other = login_tokens(&s, "other@example.com").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        s.get("/v1/admin/users", &other)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let r = send_json(
        &s,
        reqwest::Method::PATCH,
        &their_path,
        &admin,
        Some(json!({"role": "user"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    expect_error(
        s.get("/v1/admin/users", &other).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let other = login_tokens(&s, "other@example.com").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    expect_error(
        s.get("/v1/admin/users", &other).send().await.unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
}

async fn start_tus(s: &TestServer, token: &str, length: u64) -> Response {
    s.client
        .post(s.url("/v1/uploads/"))
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", length.to_string())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn deleting_a_user_deletes_their_media_and_objects() {
    let s = TestServer::start().await;
    let admin = s.user_token("admin@example.com").await;
    let user = s.user_token("user@example.com").await;
    let png = read(&fixtures().png);
    let a = s.upload_ok(&user, "a.png", png.clone()).await;
    s.upload_ok(&user, "b.png", png.clone()).await;
    // An unfinished tus upload with bytes in storage.
    let r = start_tus(&s, &user, 10_000).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let r = s
        .client
        .patch(s.url(&loc))
        .bearer_auth(&user)
        .header("Tus-Resumable", "1.0.0")
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Offset", "0")
        .body(video(10_000)[..6000].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(!stored_files(&storage(&s)).is_empty());

    let list = users(&s, &admin).await;
    let u = find(&list, "user@example.com");
    assert_eq!(u["media_count"], 2);
    assert_eq!(
        u["storage_bytes"].as_u64().unwrap(),
        2 * png.len() as u64 + 10_000,
        "originals plus the unfinished upload's declared length: {u}"
    );
    let id = u["id"].as_str().unwrap().to_string();

    let r = send_json(
        &s,
        reqwest::Method::DELETE,
        &format!("/v1/admin/users/{id}"),
        &admin,
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // Nothing of theirs is left in storage (the admin has nothing there either).
    assert_eq!(stored_files(&storage(&s)), Vec::<String>::new());
    let r = s
        .get(&format!("/v1/media/{}", a["id"].as_str().unwrap()), &admin)
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::NOT_FOUND).await;
    assert_eq!(users(&s, &admin).await.len(), 1);
    expect_error(
        s.login("user@example.com", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_error(
        s.get("/v1/media", &user).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // Gone is gone.
    let r = send_json(
        &s,
        reqwest::Method::DELETE,
        &format!("/v1/admin/users/{id}"),
        &admin,
        None,
    )
    .await;
    expect_error(r, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn the_quota_refuses_uploads_and_keeps_nothing() {
    let png = read(&fixtures().png);
    let quota = png.len() as u64 + 20_000;
    let s = TestServer::start_with(&[("USER_QUOTA_BYTES", &quota.to_string())]).await;
    let user = s.user_token("user@example.com").await;
    s.upload_ok(&user, "a.png", png.clone()).await;
    let files_before = stored_files(&storage(&s));
    let used = png.len() as u64;
    let left = quota - used;

    let me: Value = s
        .get("/v1/auth/me", &user)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["storage"]["used_bytes"], used, "{me}");
    assert_eq!(me["storage"]["quota_bytes"], quota, "{me}");

    let too_big = video(left as usize + 1000);
    let check = |msg: String| {
        assert!(msg.contains("USER_QUOTA_BYTES"), "{msg}");
        assert!(msg.contains(&quota.to_string()), "{msg}");
        assert!(msg.contains(&used.to_string()), "{msg}");
    };
    // One request, its length declared (multipart).
    check(
        expect_error(
            s.upload(&user, "big.mp4", too_big.clone()).await,
            StatusCode::PAYLOAD_TOO_LARGE,
        )
        .await,
    );
    // One request, raw body, length unknown (chunked): refused once the count passes the quota.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        too_big.chunks(4096).map(|c| Ok(c.to_vec())).collect();
    let r = s
        .client
        .post(s.url("/v1/media?filename=big.mp4"))
        .bearer_auth(&user)
        .header("content-type", "application/octet-stream")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    check(expect_error(r, StatusCode::PAYLOAD_TOO_LARGE).await);
    // tus creation.
    check(
        expect_error(
            start_tus(&s, &user, left + 1).await,
            StatusCode::PAYLOAD_TOO_LARGE,
        )
        .await,
    );
    // A direct upload.
    let r = send_json(
        &s,
        reqwest::Method::POST,
        "/v1/media/direct-upload",
        &user,
        Some(json!({"filename": "big.mp4", "size": left + 1})),
    )
    .await;
    check(expect_error(r, StatusCode::PAYLOAD_TOO_LARGE).await);

    // Nothing was kept: one item, the same files, no unfinished upload counted.
    let page: Value = s
        .get("/v1/media", &user)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(stored_files(&storage(&s)), files_before);
    let me: Value = s
        .get("/v1/auth/me", &user)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["storage"]["used_bytes"], used, "{me}");

    // Pending uploads count: a tus upload reserving what is left leaves room for nothing more.
    let r = start_tus(&s, &user, left).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    check(
        expect_error(
            s.upload(&user, "b.png", png.clone()).await,
            StatusCode::PAYLOAD_TOO_LARGE,
        )
        .await,
    );
    // Another user has their own quota.
    let other = s.user_token("other@example.com").await;
    s.upload_ok(&other, "a.png", png).await;
}

#[tokio::test]
async fn the_jobs_view_lists_failed_jobs_first() {
    let s = TestServer::start().await;
    let admin = s.user_token("admin@example.com").await;
    let user = s.user_token("user@example.com").await;
    let png = read(&fixtures().png);
    let mut ids = Vec::new();
    for name in ["done.png", "failed.png", "running.png", "queued.png"] {
        let item = s.upload_ok(&user, name, png.clone()).await;
        ids.push(item["id"].as_str().unwrap().to_string());
    }
    // Jobs are claimed oldest first: move the first three to done, failed and running.
    let repo = &s.state.repo;
    let lease = std::time::Duration::from_secs(600);
    let claim = || async {
        repo.claim_job("w", lease, chrono::Utc::now())
            .await
            .unwrap()
            .unwrap()
    };
    let done = claim().await;
    assert!(repo.complete_job(&done.id, "w").await.unwrap());
    let failed = claim().await;
    repo.fail_job(&failed.id, "w", "the file is damaged", None)
        .await
        .unwrap();
    claim().await;

    let r = s.get("/v1/admin/jobs", &admin).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let page: Value = r.json().await.unwrap();
    let jobs = page["items"].as_array().unwrap();
    let order: Vec<(&str, &str)> = jobs
        .iter()
        .map(|j| {
            (
                j["status"].as_str().unwrap(),
                j["media_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        order,
        vec![
            ("failed", ids[1].as_str()),
            ("running", ids[2].as_str()),
            ("queued", ids[3].as_str()),
            ("done", ids[0].as_str()),
        ]
    );
    let f = &jobs[0];
    assert_eq!(f["title"], "failed");
    assert_eq!(f["owner_email"], "user@example.com");
    assert_eq!(f["attempts"], 1);
    assert_eq!(f["last_error"], "the file is damaged");
    assert!(
        f["updated_at"].is_string() && f["created_at"].is_string(),
        "{f}"
    );

    let r = s
        .get("/v1/admin/jobs?status=failed", &admin)
        .send()
        .await
        .unwrap();
    let page: Value = r.json().await.unwrap();
    let only: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["media_id"].as_str().unwrap())
        .collect();
    assert_eq!(only, vec![ids[1].as_str()]);
    let r = s
        .get("/v1/admin/jobs?status=bogus", &admin)
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::BAD_REQUEST).await;

    // The failed item can be retried from there (the existing retry endpoint).
    let r = send_json(
        &s,
        reqwest::Method::POST,
        &format!("/v1/media/{}/retry", ids[1]),
        &admin,
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
}

#[tokio::test]
async fn the_admin_routes_are_in_the_api_document_with_every_status() {
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
    let expected: &[(&str, &str, &[&str])] = &[
        (
            "/v1/admin/users",
            "get",
            &["200", "400", "401", "403", "503"],
        ),
        (
            "/v1/admin/users",
            "post",
            &["201", "400", "401", "403", "409", "413", "503", "507"],
        ),
        (
            "/v1/admin/users/{id}",
            "patch",
            &[
                "200", "400", "401", "403", "404", "409", "413", "503", "507",
            ],
        ),
        (
            "/v1/admin/users/{id}",
            "delete",
            &["204", "401", "403", "404", "409", "423", "503", "507"],
        ),
        (
            "/v1/admin/invitations",
            "post",
            &["201", "400", "401", "403", "413", "503", "507"],
        ),
        (
            "/v1/admin/jobs",
            "get",
            &["200", "400", "401", "403", "503"],
        ),
    ];
    for (path, method, statuses) in expected {
        let op = &spec["paths"][path][method];
        assert!(op.is_object(), "{method} {path} missing");
        let mut got: Vec<&str> = op["responses"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        got.sort();
        assert_eq!(&got, statuses, "{method} {path}");
        assert_eq!(op["tags"][0], "admin", "{method} {path}");
    }
    let register = &spec["components"]["schemas"]["RegisterRequest"]["properties"];
    assert!(register["invite"].is_object(), "{register}");
    assert!(spec["paths"]["/v1/auth/login"]["post"]["responses"]["403"].is_object());
    for (path, method) in [("/v1/admin/users", "get"), ("/v1/admin/jobs", "get")] {
        for p in spec["paths"][path][method]["parameters"]
            .as_array()
            .unwrap()
        {
            assert_eq!(p["in"], "query", "{method} {path}: {p}");
        }
    }
    let me = &spec["paths"]["/v1/auth/me"]["get"]["responses"]["200"];
    assert!(me.to_string().contains("MeView"), "{me}");
    assert!(spec["components"]["schemas"]["JobView"]["properties"]["last_error"].is_object());
}
