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
    let img = s
        .upload_ok(&token, "frame.png", read(&fixtures().png))
        .await;
    let done = s.wait_done(&token, img["id"].as_str().unwrap(), 60).await;
    assert_eq!(done["status"], "ready", "{done}");
    assert!(done["queue_position"].is_null(), "{done}");
    s.stop().await;
}
