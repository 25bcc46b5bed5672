//! Ids in paths are checked by their type: a malformed id gets exactly the answer an unknown
//! (well-formed) id gets, on every route that takes one, including the answers a route gives
//! before it looks the id up (credentials, a malformed body, a playback token for another item,
//! the tus version).

use crate::common;

use common::{fixtures, read, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// Well-formed, but naming nothing.
const UNKNOWN: &str = "0190f3a0-0000-7000-8000-000000000000";
const MALFORMED: [&str; 5] = [
    "not-an-id",
    "..%2F..%2Fetc",
    // One hex digit short, and in braces (a form the UUID parser knows, but not an id).
    "0190f3a0-0000-7000-8000-00000000000",
    "%7B0190f3a0-0000-7000-8000-000000000000%7D",
    "0190f3a0000070008000000000000000",
];

/// What a client sees of an answer: status, the headers that differ between answers, body.
async fn answer(r: reqwest::Response) -> (StatusCode, Vec<Option<String>>, String) {
    let headers = [
        "content-type",
        "connection",
        "www-authenticate",
        "tus-resumable",
    ]
    .iter()
    .map(|h| r.headers().get(*h).map(|v| v.to_str().unwrap().to_string()))
    .collect();
    (r.status(), headers, r.text().await.unwrap())
}

#[tokio::test]
async fn malformed_ids_are_answered_like_unknown_ones() {
    let s = TestServer::start().await;
    let alice = s.user_token("alice@example.com").await;
    let item = s.upload_ok(&alice, "a.png", read(&fixtures().png)).await;
    let item = item["id"].as_str().unwrap().to_string();
    let r = s
        .client
        .post(s.url(&format!("/v1/media/{item}/playback-token")))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let token = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();

    // (method, path with `{id}`, bearer token, tus version, body).
    let tus = Some("1.0.0");
    let requests: Vec<(Method, String, Option<&str>, Option<&str>, Option<&str>)> = vec![
        (
            Method::GET,
            "/v1/media/{id}".into(),
            Some(&alice),
            None,
            None,
        ),
        (Method::GET, "/v1/media/{id}".into(), None, None, None),
        (
            Method::GET,
            "/v1/media/{id}".into(),
            Some("bad"),
            None,
            None,
        ),
        (
            Method::GET,
            "/v1/media/{id}/original".into(),
            None,
            None,
            None,
        ),
        (
            Method::DELETE,
            "/v1/media/{id}".into(),
            Some(&alice),
            None,
            None,
        ),
        (Method::DELETE, "/v1/media/{id}".into(), None, None, None),
        (
            Method::PATCH,
            "/v1/media/{id}".into(),
            Some(&alice),
            None,
            Some(r#"{"title":"x"}"#),
        ),
        (
            Method::PATCH,
            "/v1/media/{id}".into(),
            Some(&alice),
            None,
            Some("{"),
        ),
        (
            Method::PATCH,
            "/v1/media/{id}".into(),
            Some(&alice),
            None,
            Some(r#"{"owner":1}"#),
        ),
        (
            Method::POST,
            "/v1/media/{id}/playback-token".into(),
            Some(&alice),
            None,
            None,
        ),
        (
            Method::POST,
            "/v1/media/{id}/playback-token".into(),
            Some(&alice),
            None,
            Some("{"),
        ),
        (
            Method::POST,
            "/v1/media/{id}/complete".into(),
            Some(&alice),
            None,
            None,
        ),
        (
            Method::POST,
            "/v1/media/{id}/complete".into(),
            None,
            None,
            None,
        ),
        (
            Method::GET,
            "/v1/media/{id}/hls/master.m3u8".into(),
            Some(&alice),
            None,
            None,
        ),
        (
            Method::HEAD,
            "/v1/media/{id}/thumbnail.jpg".into(),
            None,
            None,
            None,
        ),
        (
            Method::GET,
            format!("/v1/media/{{id}}/hls/master.m3u8?token={token}"),
            None,
            None,
            None,
        ),
        (
            Method::GET,
            "/v1/media/{id}/hls/master.m3u8?token=nope".into(),
            None,
            None,
            None,
        ),
        (
            Method::HEAD,
            "/v1/uploads/{id}".into(),
            Some(&alice),
            tus,
            None,
        ),
        (
            Method::PATCH,
            "/v1/uploads/{id}".into(),
            Some(&alice),
            tus,
            Some("abc"),
        ),
        (
            Method::DELETE,
            "/v1/uploads/{id}".into(),
            Some(&alice),
            tus,
            None,
        ),
        (
            Method::DELETE,
            "/v1/uploads/{id}".into(),
            Some(&alice),
            Some("0.2.0"),
            None,
        ),
        (Method::DELETE, "/v1/uploads/{id}".into(), None, tus, None),
        (
            Method::PUT,
            "/v1/uploads/direct/{id}?token=x".into(),
            None,
            None,
            Some("abc"),
        ),
        (
            Method::PUT,
            "/v1/uploads/direct/{id}".into(),
            None,
            None,
            None,
        ),
    ];
    for (method, path, bearer, version, body) in &requests {
        let send = |id: &str| {
            let mut req = s
                .client
                .request(method.clone(), s.url(&path.replace("{id}", id)));
            if let Some(b) = bearer {
                req = req.bearer_auth(b);
            }
            if let Some(v) = version {
                req = req.header("tus-resumable", *v);
            }
            if let Some(b) = body {
                let ct = if path.starts_with("/v1/uploads/") {
                    "application/offset+octet-stream"
                } else {
                    "application/json"
                };
                req = req
                    .header("content-type", ct)
                    .header("upload-offset", "0")
                    .body(b.to_string());
            }
            req.send()
        };
        let expected = answer(send(UNKNOWN).await.unwrap()).await;
        assert!(
            expected.0.is_client_error(),
            "{method} {path}: {expected:?}"
        );
        for id in MALFORMED {
            let got = answer(send(id).await.unwrap()).await;
            assert_eq!(got, expected, "{method} {path} with id {id}");
        }
    }
    // The answers above are the ones an id that names nothing gets: still there for its owner.
    let r = s.get(&format!("/v1/media/{item}"), &alice).send().await;
    assert_eq!(r.unwrap().status(), StatusCode::OK);
}
