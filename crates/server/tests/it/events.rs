//! Bucket events and the bucket watcher: objects that arrive in the media bucket by another
//! route become queued items, once per object version.

use crate::common;

use common::{expect_error, fixtures, read, TestServer, PASSWORD};
use mediaserver_storage::ObjectKey;
use reqwest::StatusCode;
use serde_json::{json, Value};

const SECRET: &str = "events-secret-for-tests";

fn oci_event(key: &str, bucket: &str, etag: &str) -> Value {
    json!({
        "cloudEventsVersion": "0.1",
        "eventTypeVersion": "2.0",
        "eventType": "com.oraclecloud.objectstorage.createobject",
        "source": "ObjectStorage",
        "eventID": "unique-id",
        "eventTime": "2026-11-22T10:00:00Z",
        "contentType": "application/json",
        "data": {
            "compartmentId": "ocid1.compartment.oc1..example",
            "resourceName": key,
            "resourceId": format!("/n/ns/b/{bucket}/o/{key}"),
            "additionalDetails": {"bucketName": bucket, "namespace": "ns", "eTag": etag, "archivalState": "Available"}
        }
    })
}

async fn put(s: &TestServer, key: &str, bytes: Vec<u8>) {
    s.state
        .media_store
        .put_bytes(&ObjectKey::new(key.to_string()).unwrap(), bytes.into())
        .await
        .unwrap();
}

async fn post_event(
    s: &TestServer,
    body: &Value,
    auth: Option<&str>,
    query_token: Option<&str>,
) -> reqwest::Response {
    let mut url = s.url("/v1/events/object-storage");
    if let Some(t) = query_token {
        url = format!("{url}?token={t}");
    }
    let mut req = s.client.post(url).json(body);
    if let Some(a) = auth {
        req = req.bearer_auth(a);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn the_same_oci_event_twice_makes_one_item_and_one_job() {
    let s = TestServer::start_with(&[("EVENTS_SECRET", SECRET)]).await;
    let admin = s.user_token("admin@example.com").await;
    put(&s, "incoming/holiday clip.mp4", read(&fixtures().mp4)).await;
    let event = oci_event("incoming/holiday clip.mp4", "media", "etag-1");

    let r = post_event(&s, &event, Some(SECRET), None).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let first: Value = r.json().await.unwrap();
    assert_eq!(first["results"][0]["result"], "created", "{first}");
    let id = first["results"][0]["media_id"]
        .as_str()
        .unwrap()
        .to_string();

    // Redelivered (notification services retry), this time with the token in the query.
    let r = post_event(&s, &event, None, Some(SECRET)).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let second: Value = r.json().await.unwrap();
    assert_eq!(second["results"][0]["result"], "duplicate", "{second}");
    assert_eq!(second["results"][0]["media_id"], id.as_str());

    let page: Value = s
        .get("/v1/media", &admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let item = &page["items"][0];
    assert_eq!(item["status"], "queued");
    assert_eq!(item["kind"], "video");
    assert_eq!(item["title"], "holiday clip");
    assert_eq!(
        s.state
            .repo
            .jobs_for_media(&id.parse().unwrap())
            .await
            .unwrap()
            .len(),
        1
    );

    // A new version of the same key is a new item.
    let r = post_event(
        &s,
        &oci_event("incoming/holiday clip.mp4", "media", "etag-2"),
        Some(SECRET),
        None,
    )
    .await;
    let third: Value = r.json().await.unwrap();
    assert_eq!(third["results"][0]["result"], "created");

    // The original stays where it was uploaded and is deleted with the item.
    let r = s
        .client
        .delete(s.url(&format!("/v1/media/{id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(s
        .state
        .media_store
        .head(&ObjectKey::new("incoming/holiday clip.mp4").unwrap())
        .await
        .is_err());
}

#[tokio::test]
async fn s3_and_cloudevents_1_0_notifications_are_accepted() {
    let s = TestServer::start_with(&[
        ("EVENTS_SECRET", SECRET),
        ("EVENTS_OWNER_EMAIL", "owner@example.com"),
    ])
    .await;
    s.user_token("admin@example.com").await;
    let owner = s.user_token("owner@example.com").await;
    put(&s, "in/my song é.wav", read(&fixtures().wav)).await;
    put(&s, "in/photo.png", read(&fixtures().png)).await;
    put(&s, "in/notes.txt", b"not media".to_vec()).await;

    let s3 = json!({"Records": [
        {"eventVersion": "2.1", "eventSource": "minio:s3", "eventName": "s3:ObjectCreated:Put",
         "s3": {"bucket": {"name": "media"}, "object": {"key": "in/my+song+%C3%A9.wav", "size": 10, "eTag": "abc"}}},
        {"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
         "s3": {"bucket": {"name": "media"}, "object": {"key": "in/notes.txt", "eTag": "def"}}}
    ]});
    let r = post_event(&s, &s3, Some(SECRET), None).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["results"][0]["result"], "created", "{body}");
    assert_eq!(body["results"][1]["result"], "skipped", "{body}");

    let ce = json!({"specversion": "1.0", "type": "com.oraclecloud.objectstorage.createobject", "source": "objectstorage", "id": "1",
        "data": {"resourceName": "in/photo.png", "additionalDetails": {"bucketName": "media", "namespace": "ns", "eTag": "e"}}});
    let body: Value = post_event(&s, &ce, Some(SECRET), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["results"][0]["result"], "created", "{body}");

    let page: Value = s
        .get("/v1/media", &owner)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut kinds: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["audio", "image"]);
}

#[tokio::test]
async fn events_are_authenticated_and_validated() {
    let s = TestServer::start_with(&[("EVENTS_SECRET", SECRET)]).await;
    s.register("admin@example.com", PASSWORD).await;
    put(&s, "in/a.mp4", read(&fixtures().mp4)).await;
    let event = oci_event("in/a.mp4", "media", "e1");

    expect_error(
        post_event(&s, &event, None, None).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_error(
        post_event(&s, &event, Some("wrong"), None).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_error(
        post_event(&s, &event, None, Some("wrong")).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let msg = expect_error(
        post_event(&s, &json!({"hello": "world"}), Some(SECRET), None).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(msg.contains("unrecognised"), "{msg}");
    let r = s
        .client
        .post(s.url("/v1/events/object-storage"))
        .bearer_auth(SECRET)
        .body("{not json")
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::BAD_REQUEST).await;
    let msg = expect_error(
        post_event(
            &s,
            &oci_event("in/a.mp4", "other-bucket", "e1"),
            Some(SECRET),
            None,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(msg.contains("MEDIA_BUCKET"), "{msg}");
    let msg = expect_error(
        post_event(
            &s,
            &oci_event("in/missing.mp4", "media", "e1"),
            Some(SECRET),
            None,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(msg.contains("does not exist"), "{msg}");

    // Without a secret configured the endpoint does not exist.
    let closed = TestServer::start().await;
    expect_error(
        post_event(&closed, &event, Some(SECRET), None).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn watch_queues_new_bucket_objects_once() {
    let s = TestServer::start().await;
    let admin = s.user_token("admin@example.com").await;
    put(&s, "drop/a.mp4", read(&fixtures().mp4)).await;
    put(&s, "drop/b.png", read(&fixtures().png)).await;
    put(&s, "elsewhere/c.png", read(&fixtures().png)).await;
    let data_dir = s.dir.path().to_path_buf();
    let watch = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_mediaserver"))
            .args(["watch", "--prefix", "drop/", "--once"])
            .env("DATA_DIR", &data_dir)
            .env_remove("DATABASE_URL")
            .env_remove("STORAGE_PROVIDER")
            .output()
            .unwrap()
    };
    for _ in 0..2 {
        let out = watch();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let page: Value = s
        .get("/v1/media", &admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut names: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["filename"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["a.mp4", "b.png"]);
}

/// OCI Notifications' HTTPS subscriptions: credentials only as Basic auth in the URL, after a
/// `WWW-Authenticate: Basic` challenge, and a `SubscriptionConfirmation` whose URL must be
/// fetched before any event is delivered.
#[tokio::test]
async fn oci_notifications_basic_auth_and_subscription_confirmation() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let s = events_server(true).await;
    let _admin = s.user_token("admin@example.com").await;

    // Unauthenticated: 401 offering Basic.
    let r = s
        .client
        .post(s.url("/v1/events/object-storage"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let challenges: Vec<_> = r
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert!(
        challenges.iter().any(|c| c.starts_with("Basic")),
        "{challenges:?}"
    );
    expect_error(r, StatusCode::UNAUTHORIZED).await;
    // Other endpoints never offer Basic (browsers would prompt for it).
    let r = s.client.get(s.url("/v1/media")).send().await.unwrap();
    assert!(r
        .headers()
        .get_all("www-authenticate")
        .iter()
        .all(|v| !v.to_str().unwrap().starts_with("Basic")));

    // A stand-in for the confirmation endpoint, counting visits.
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().route(
        "/confirm",
        axum::routing::get(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                "confirmed"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let confirm = format!("http://{}/confirm?id=abc", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let confirmation = |url: &str, user_pass: (&str, &str)| {
        s.client
            .post(s.url("/v1/events/object-storage"))
            .basic_auth(user_pass.0, Some(user_pass.1))
            .header("X-OCI-NS-MessageType", "SubscriptionConfirmation")
            .header("X-OCI-NS-ConfirmationURL", url)
            .json(&json!({"ConfirmationURL": url, "Message": "confirm"}))
            .send()
    };
    let r = confirmation(&confirm, ("events", "wrong")).await.unwrap();
    expect_error(r, StatusCode::UNAUTHORIZED).await;
    assert_eq!(hits.load(Ordering::SeqCst), 0);
    let r = confirmation(&confirm, ("events", SECRET)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    // A link anywhere else is not followed.
    let r = confirmation("https://attacker.example.com/x", ("events", SECRET))
        .await
        .unwrap();
    expect_error(r, StatusCode::BAD_GATEWAY).await;

    // Events themselves with Basic auth.
    put(&s, "in/basic.png", read(&fixtures().png)).await;
    let r = s
        .client
        .post(s.url("/v1/events/object-storage"))
        .basic_auth("events", Some(SECRET))
        .json(&oci_event("in/basic.png", "media", "e-basic"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["results"][0]["result"], "created", "{body}");
    s.stop().await;
}

/// A server whose events endpoint is on; `loopback` is the test switch that lets subscription
/// confirmations reach a local stand-in (never set outside tests).
async fn events_server(loopback: bool) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let config = common::config_with(dir.path(), &[("EVENTS_SECRET", SECRET)]);
    let ingest = mediaserver::build_ingest(&config).await.unwrap();
    let output = ingest.media_store().clone();
    let settings = mediaserver_api::ApiSettings {
        allow_loopback_confirmation: loopback,
        ..mediaserver::api_settings(&config)
    };
    let state = mediaserver_api::AppState::new(
        ingest,
        output,
        b"events-tests-jwt-secret-0123456789",
        settings,
    );
    TestServer::start_state(dir, &config, state).await
}

/// A local stand-in for a confirmation endpoint: `/confirm` answers 200, `/redirect` sends to
/// `/confirm`. Returns its address and the number of visits to `/confirm`.
async fn confirmation_stand_in() -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new()
        .route(
            "/confirm",
            axum::routing::get(move || {
                let counter = counter.clone();
                async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                    "confirmed"
                }
            }),
        )
        .route(
            "/redirect",
            axum::routing::get(|| async { axum::response::Redirect::temporary("/confirm") }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, hits)
}

/// A loopback port nothing listens on.
async fn closed_port() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

/// Posts a `SubscriptionConfirmation` carrying `url`; returns the status and body.
async fn confirm(s: &TestServer, url: &str) -> (StatusCode, String) {
    let r = s
        .client
        .post(s.url("/v1/events/object-storage"))
        .bearer_auth(SECRET)
        .header("X-OCI-NS-MessageType", "SubscriptionConfirmation")
        .header("X-OCI-NS-ConfirmationURL", url)
        .json(&json!({"ConfirmationURL": url}))
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

/// Every refused confirmation gets one and the same answer, whatever the target was: refused
/// up front, unreachable, an open or a closed port, a redirect. Nothing is fetched.
#[tokio::test]
async fn subscription_confirmation_is_refused_alike_for_anything_but_oci_notifications() {
    use std::sync::atomic::Ordering;
    let s = events_server(false).await;
    let _admin = s.user_token("admin@example.com").await;
    let (open, hits) = confirmation_stand_in().await;
    let closed = closed_port().await;
    let (open_port, closed_port) = (open.port(), closed.port());
    let targets = [
        // Loopback, an open and a closed port, by address and by name.
        format!("http://{open}/confirm"),
        format!("http://{closed}/confirm"),
        format!("https://{open}/confirm"),
        format!("http://localhost:{open_port}/confirm"),
        format!("https://[::1]:{closed_port}/confirm"),
        format!("https://[::ffff:127.0.0.1]:{open_port}/confirm"),
        // Private, link-local (the instance metadata service), CGNAT, unique-local.
        "https://10.0.0.1/confirm".to_string(),
        "https://192.168.1.1/confirm".to_string(),
        "https://169.254.169.254/opc/v2/instance/".to_string(),
        "https://100.64.0.1/confirm".to_string(),
        "https://[fd00::1]/confirm".to_string(),
        // Look-alikes of OCI's domains.
        "https://cell1.notification.us-ashburn-1.oci.oraclecloud.evil/confirm".to_string(),
        "https://notification.us-ashburn-1.oraclecloud.com.attacker.example/confirm".to_string(),
        "https://notification.us-ashburn-1.oraclecloudx.com/confirm".to_string(),
        // OCI, but not over HTTPS on its port, or not Notifications.
        "http://notification.us-ashburn-1.oraclecloud.com/confirm".to_string(),
        "https://notification.us-ashburn-1.oraclecloud.com:8443/confirm".to_string(),
        "https://objectstorage.us-ashburn-1.oraclecloud.com/n/ns/b/b/o/o".to_string(),
    ];
    let mut answers = Vec::new();
    for target in &targets {
        let (status, body) = confirm(&s, target).await;
        assert!(
            !body.contains(&open_port.to_string()) && !body.contains(&closed_port.to_string()),
            "{target}: {body}"
        );
        answers.push((target, status, body));
    }
    for (target, status, body) in &answers {
        eprintln!("{target} -> {status} {body}");
    }
    let (_, status, body) = &answers[0];
    assert_eq!(*status, StatusCode::BAD_GATEWAY, "{body}");
    let v: Value = serde_json::from_str(body).unwrap();
    assert_eq!(v["error"]["code"], "confirmation_failed", "{body}");
    for (target, s2, b2) in &answers {
        assert_eq!((s2, b2), (status, body), "{target} is answered differently");
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "a refused target was fetched"
    );
}

/// A confirmation URL that redirects is not followed (with loopback allowed for the test).
#[tokio::test]
async fn subscription_confirmation_follows_no_redirect() {
    use std::sync::atomic::Ordering;
    let s = events_server(true).await;
    let _admin = s.user_token("admin@example.com").await;
    let (open, hits) = confirmation_stand_in().await;
    let redirected = confirm(&s, &format!("http://{open}/redirect")).await;
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the redirect was followed: {redirected:?}"
    );
    let refused = confirm(&s, &format!("http://{}/confirm", closed_port().await)).await;
    assert_eq!(refused.0, StatusCode::BAD_GATEWAY, "{}", refused.1);
    assert_eq!(
        redirected, refused,
        "a redirect is answered like any failure"
    );
    // The switch lets the stand-in itself be reached.
    let (status, body) = confirm(&s, &format!("http://{open}/confirm")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

/// The realm domains confirmations are fetched from are the OCI client's realm table (the API
/// crate keeps its own copy: it must not depend on mediaserver-oci).
#[test]
fn confirmation_realm_domains_are_the_oci_realms() {
    let mut api: Vec<&str> = mediaserver_api::OCI_REALM_DOMAINS.to_vec();
    let mut oci: Vec<&str> = mediaserver_oci::region::realm_domains().collect();
    api.sort_unstable();
    oci.sort_unstable();
    assert_eq!(api, oci);
}
