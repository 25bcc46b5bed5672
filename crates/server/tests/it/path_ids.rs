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
    // One hex digit short; the braced and the simple forms, which the UUID parser accepts but
    // which are not ids.
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

/// One request to send with each id in place of `{id}` in its path.
struct Probe {
    method: Method,
    path: String,
    bearer: Option<String>,
    tus_version: Option<&'static str>,
    body: Option<&'static str>,
}

fn probe(method: Method, path: &str) -> Probe {
    Probe {
        method,
        path: path.to_string(),
        bearer: None,
        tus_version: None,
        body: None,
    }
}

impl Probe {
    fn bearer(self, token: &str) -> Probe {
        Probe {
            bearer: Some(token.to_string()),
            ..self
        }
    }
    fn tus(self, version: &'static str) -> Probe {
        Probe {
            tus_version: Some(version),
            ..self
        }
    }
    fn body(self, body: &'static str) -> Probe {
        Probe {
            body: Some(body),
            ..self
        }
    }

    async fn send(&self, s: &TestServer, id: &str) -> reqwest::Response {
        let mut req = s
            .client
            .request(self.method.clone(), s.url(&self.path.replace("{id}", id)));
        if let Some(b) = &self.bearer {
            req = req.bearer_auth(b);
        }
        if let Some(v) = self.tus_version {
            req = req.header("tus-resumable", v);
        }
        if let Some(b) = self.body {
            let ct = if self.path.starts_with("/v1/uploads/") {
                "application/offset+octet-stream"
            } else {
                "application/json"
            };
            req = req
                .header("content-type", ct)
                .header("upload-offset", "0")
                .body(b);
        }
        req.send().await.unwrap()
    }
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

    use Method as M;
    let hls = "/v1/media/{id}/hls/master.m3u8";
    let probes = [
        probe(M::GET, "/v1/media/{id}").bearer(&alice),
        probe(M::GET, "/v1/media/{id}"),
        probe(M::GET, "/v1/media/{id}").bearer("bad"),
        probe(M::GET, "/v1/media/{id}/original"),
        probe(M::DELETE, "/v1/media/{id}").bearer(&alice),
        probe(M::DELETE, "/v1/media/{id}"),
        probe(M::PATCH, "/v1/media/{id}")
            .bearer(&alice)
            .body(r#"{"title":"x"}"#),
        probe(M::PATCH, "/v1/media/{id}").bearer(&alice).body("{"),
        probe(M::PATCH, "/v1/media/{id}")
            .bearer(&alice)
            .body(r#"{"owner":1}"#),
        probe(M::POST, "/v1/media/{id}/playback-token").bearer(&alice),
        probe(M::POST, "/v1/media/{id}/playback-token")
            .bearer(&alice)
            .body("{"),
        probe(M::POST, "/v1/media/{id}/complete").bearer(&alice),
        probe(M::POST, "/v1/media/{id}/complete"),
        probe(M::GET, hls).bearer(&alice),
        probe(M::HEAD, "/v1/media/{id}/thumbnail.jpg"),
        // A token for another item is refused before the path's id is looked at.
        probe(M::GET, &format!("{hls}?token={token}")),
        probe(M::GET, &format!("{hls}?token=nope")),
        probe(M::HEAD, "/v1/uploads/{id}")
            .bearer(&alice)
            .tus("1.0.0"),
        probe(M::PATCH, "/v1/uploads/{id}")
            .bearer(&alice)
            .tus("1.0.0")
            .body("abc"),
        probe(M::DELETE, "/v1/uploads/{id}")
            .bearer(&alice)
            .tus("1.0.0"),
        probe(M::DELETE, "/v1/uploads/{id}")
            .bearer(&alice)
            .tus("0.2.0"),
        probe(M::DELETE, "/v1/uploads/{id}").tus("1.0.0"),
        probe(M::PUT, "/v1/uploads/direct/{id}?token=x").body("abc"),
        probe(M::PUT, "/v1/uploads/direct/{id}"),
    ];
    for p in &probes {
        let expected = answer(p.send(&s, UNKNOWN).await).await;
        assert!(
            expected.0.is_client_error(),
            "{} {}: {expected:?}",
            p.method,
            p.path
        );
        for id in MALFORMED {
            let got = answer(p.send(&s, id).await).await;
            assert_eq!(got, expected, "{} {} with id {id}", p.method, p.path);
        }
    }
    // The answers above are the ones an id that names nothing gets: still there for its owner.
    let r = s.get(&format!("/v1/media/{item}"), &alice).send().await;
    assert_eq!(r.unwrap().status(), StatusCode::OK);
}
