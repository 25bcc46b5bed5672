//! First-hour polish, seen through the API: where a queued item stands in the queue, the
//! library's search, filters, sorts and pages, and telling a re-upload of the same file.

use crate::common;

use common::*;
use serde_json::Value;

async fn item(s: &TestServer, token: &str, id: &str) -> Value {
    s.get(&format!("/v1/media/{id}"), token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// With no worker free, each queued item says how many jobs go before it: an image uploaded
/// after two videos is next (images take seconds), the videos keep their order.
#[tokio::test]
async fn queued_items_say_how_many_jobs_are_ahead() {
    let s = TestServer::start_with(&[("WORKERS", "0")]).await;
    let token = s.user_token("queue@example.com").await;
    let mp4 = read(&fixtures().mp4);
    let v1 = s.upload_ok(&token, "one.mp4", mp4.clone()).await;
    let v2 = s.upload_ok(&token, "two.mp4", mp4).await;
    let img = s
        .upload_ok(&token, "frame.png", read(&fixtures().png))
        .await;
    let pos = |v: Value| v["queue_position"].clone();
    assert_eq!(pos(item(&s, &token, img["id"].as_str().unwrap()).await), 0);
    assert_eq!(pos(item(&s, &token, v1["id"].as_str().unwrap()).await), 1);
    assert_eq!(pos(item(&s, &token, v2["id"].as_str().unwrap()).await), 2);

    // The library's list says the same.
    let page: Value = s
        .get("/v1/media", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed: Vec<(String, Value)> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["filename"].as_str().unwrap().to_string(), pos(i.clone())))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("frame.png".to_string(), 0.into()),
            ("two.mp4".to_string(), 2.into()),
            ("one.mp4".to_string(), 1.into()),
        ]
    );
    s.stop().await;
}

/// Once processed, an item has no place in the queue.
#[tokio::test]
async fn processed_items_have_no_queue_position() {
    let s = TestServer::start_with(&[("WORKERS", "1")]).await;
    let token = s.user_token("done@example.com").await;
    let done = s
        .upload_ready(&token, "frame.png", read(&fixtures().png), 60)
        .await;
    assert!(done["queue_position"].is_null(), "{done}");
    s.stop().await;
}

async fn upload_titled(
    s: &TestServer,
    token: &str,
    file: &str,
    bytes: Vec<u8>,
    title: &str,
) -> Value {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(file.to_string());
    let form = reqwest::multipart::Form::new()
        .part("file", part)
        .text("title", title.to_string());
    let r = s
        .client
        .post(s.url("/v1/media"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    r.json().await.unwrap()
}

/// Every page of `query` (without `cursor`), following `next_cursor`: the titles in order.
async fn titles(s: &TestServer, token: &str, query: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("/v1/media?{query}");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={}", urlencoding(c)));
        }
        let r = s.get(&url, token).send().await.unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::OK, "{url}");
        let page: Value = r.json().await.unwrap();
        for i in page["items"].as_array().unwrap() {
            out.push(i["title"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

fn urlencoding(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The library searches titles, filters by kind and status, sorts four ways and pages through
/// each with the cursor it gives; nonsense in any parameter is a 400 naming it.
#[tokio::test]
async fn the_library_searches_filters_sorts_and_pages() {
    let s = TestServer::start_with(&[("WORKERS", "0")]).await;
    // The first account is the admin, whose list is everyone's.
    let other = s.user_token("admin@example.com").await;
    let token = s.user_token("library@example.com").await;
    let png = read(&fixtures().png);
    let wav = read(&fixtures().wav);
    let mp4 = read(&fixtures().mp4);
    let mut big_png = png.clone();
    big_png.extend(std::iter::repeat_n(0u8, 100)); // same picture, bigger file
    upload_titled(&s, &token, "a.png", png.clone(), "Beach day").await;
    upload_titled(&s, &token, "b.mp4", mp4.clone(), "Concert").await;
    upload_titled(&s, &token, "c.png", big_png.clone(), "beach NIGHT").await;
    upload_titled(&s, &token, "d.wav", wav.clone(), "Alpha").await;
    // Someone else's: never in this library.
    upload_titled(&s, &other, "e.png", png.clone(), "Beach party").await;

    assert_eq!(
        titles(&s, &token, "").await,
        ["Alpha", "beach NIGHT", "Concert", "Beach day"]
    );
    assert_eq!(
        titles(&s, &token, "sort=oldest&limit=1").await,
        ["Beach day", "Concert", "beach NIGHT", "Alpha"]
    );
    assert_eq!(
        titles(&s, &token, "sort=title&limit=3").await,
        ["Alpha", "Beach day", "beach NIGHT", "Concert"]
    );
    let mut by_size = [
        (png.len(), "Beach day"),
        (mp4.len(), "Concert"),
        (big_png.len(), "beach NIGHT"),
        (wav.len(), "Alpha"),
    ];
    by_size.sort_by_key(|&(size, _)| std::cmp::Reverse(size));
    assert_eq!(
        titles(&s, &token, "sort=size&limit=1").await,
        by_size.iter().map(|(_, t)| *t).collect::<Vec<_>>()
    );
    assert_eq!(
        titles(&s, &token, "q=BEACH&sort=title&limit=1").await,
        ["Beach day", "beach NIGHT"]
    );
    assert_eq!(
        titles(&s, &token, "kind=image&sort=oldest").await,
        ["Beach day", "beach NIGHT"]
    );
    assert_eq!(
        titles(&s, &token, "status=queued&kind=audio").await,
        ["Alpha"]
    );
    assert!(titles(&s, &token, "status=ready").await.is_empty());
    // The same file: by the original's SHA-256, any case of hex.
    let sha = sha256_hex(&png).to_uppercase();
    assert_eq!(
        titles(&s, &token, &format!("sha256={sha}")).await,
        ["Beach day"]
    );

    for (query, names) in [
        ("sort=random", "sort"),
        ("sha256=abc", "sha256"),
        ("cursor=not-a-cursor", "cursor"),
        (
            "sort=title&cursor=0190a000-0000-7000-8000-000000000000.x.QQ",
            "cursor",
        ),
        ("q=%07bell", "q"),
        ("kind=film", "kind"),
        ("limit=0", "limit"),
    ] {
        let r = s
            .get(&format!("/v1/media?{query}"), &token)
            .send()
            .await
            .unwrap();
        let msg = expect_error(r, reqwest::StatusCode::BAD_REQUEST).await;
        assert!(msg.contains(names), "{query}: {msg}");
    }
    s.stop().await;
}

/// `GET /v1/play/{token}` says what a signed link plays (the share page's title and URLs), and
/// answers a tampered token with 401 and a revoked one (the item made private) with 404.
#[tokio::test]
async fn a_playback_token_describes_its_item() {
    let s = TestServer::start_with(&[("WORKERS", "1")]).await;
    let token = s.user_token("share@example.com").await;
    let img = upload_titled(&s, &token, "pic.png", read(&fixtures().png), "Garden").await;
    let id = img["id"].as_str().unwrap();
    assert_eq!(s.wait_done(&token, id, 60).await["status"], "ready");
    let patch = |vis: &'static str| {
        s.client
            .patch(s.url(&format!("/v1/media/{id}")))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "visibility": vis }))
            .send()
    };
    assert!(patch("unlisted").await.unwrap().status().is_success());
    let minted: Value = s
        .client
        .post(s.url(&format!("/v1/media/{id}/playback-token")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let t = minted["token"].as_str().unwrap();

    let r = s
        .client
        .get(s.url(&format!("/v1/play/{t}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    let shared: Value = r.json().await.unwrap();
    assert_eq!(shared["title"], "Garden");
    assert_eq!(shared["kind"], "image");
    assert_eq!(shared["expires_at"], minted["expires_at"]);
    let variants = shared["variants"].as_array().unwrap();
    assert!(!variants.is_empty(), "{shared}");
    for v in variants {
        let url = v["url"].as_str().unwrap();
        assert!(url.starts_with(&format!("/v1/play/{t}/")), "{url}");
        let r = s.client.get(s.url(url)).send().await.unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::OK, "{url}");
    }

    let tampered = format!(
        "{}{}",
        &t[..t.len() - 2],
        if t.ends_with("AA") { "BB" } else { "AA" }
    );
    let r = s
        .client
        .get(s.url(&format!("/v1/play/{tampered}")))
        .send()
        .await
        .unwrap();
    let msg = expect_error(r, reqwest::StatusCode::UNAUTHORIZED).await;
    assert!(msg.contains("invalid"), "{msg}");

    // Made private after it was minted: the link stops working.
    assert!(patch("private").await.unwrap().status().is_success());
    let r = s
        .client
        .get(s.url(&format!("/v1/play/{t}")))
        .send()
        .await
        .unwrap();
    expect_error(r, reqwest::StatusCode::NOT_FOUND).await;
    s.stop().await;
}
