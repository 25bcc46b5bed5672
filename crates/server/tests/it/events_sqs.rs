//! `EVENTS_SOURCE=sqs:<queue URL>` against moto (scripts/services.sh): a real bucket
//! notification configuration sends S3's ObjectCreated events to an SQS queue, the consumer
//! records each object once and deletes a message only after it is recorded.

use crate::backends::{fresh_bucket, required_env};
use crate::common::{self, fixtures, read, TestServer};
use mediaserver_storage::{aws_signer, AwsSigner, ObjectKey, S3Options};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// moto's default account and region.
const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

fn signer(endpoint: &str) -> AwsSigner {
    aws_signer(&S3Options {
        bucket: "signer".into(),
        endpoint: Some(endpoint.to_string()),
        region: REGION.into(),
        path_style: true,
        access_key_id: Some("test".into()),
        secret_access_key: Some("test".into()),
        ..Default::default()
    })
    .unwrap()
}

/// One SQS JSON-protocol call to moto.
async fn sqs(endpoint: &str, action: &str, body: Value) -> Value {
    let client = reqwest::Client::new();
    let mut req = client
        .post(format!("{endpoint}/"))
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", format!("AmazonSQS.{action}"))
        .body(body.to_string())
        .build()
        .unwrap();
    signer(endpoint)
        .sign(&mut req, "sqs", REGION)
        .await
        .unwrap();
    let resp = client.execute(req).await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    assert!(status.is_success(), "SQS {action}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// A fresh queue (messages invisible for `visibility` seconds once received); its URL and ARN.
async fn fresh_queue(endpoint: &str, visibility: u32) -> (String, String) {
    let name = format!("q{}", &mediaserver_core::new_id().replace('-', "")[..16]);
    let v = sqs(
        endpoint,
        "CreateQueue",
        json!({"QueueName": name, "Attributes": {"VisibilityTimeout": visibility.to_string()}}),
    )
    .await;
    let url = v["QueueUrl"].as_str().unwrap().to_string();
    (url, format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"))
}

/// Messages in the queue, visible or being handled.
async fn queue_depth(endpoint: &str, queue_url: &str) -> u64 {
    let v = sqs(
        endpoint,
        "GetQueueAttributes",
        json!({"QueueUrl": queue_url, "AttributeNames": ["All"]}),
    )
    .await;
    let n = |k: &str| {
        v["Attributes"][k]
            .as_str()
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0)
    };
    n("ApproximateNumberOfMessages") + n("ApproximateNumberOfMessagesNotVisible")
}

async fn send(endpoint: &str, queue_url: &str, body: &str) {
    sqs(
        endpoint,
        "SendMessage",
        json!({"QueueUrl": queue_url, "MessageBody": body}),
    )
    .await;
}

/// PutBucketNotificationConfiguration: every ObjectCreated event of `bucket` to the queue.
async fn notify_queue(endpoint: &str, bucket: &str, queue_arn: &str) {
    let xml = format!(
        r#"<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><QueueConfiguration><Id>mediaserver</Id><Queue>{queue_arn}</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration></NotificationConfiguration>"#
    );
    let client = reqwest::Client::new();
    let mut req = client
        .put(format!("{endpoint}/{bucket}?notification"))
        .body(xml)
        .build()
        .unwrap();
    signer(endpoint).sign(&mut req, "s3", REGION).await.unwrap();
    let resp = client.execute(req).await.unwrap();
    let status = resp.status();
    assert!(
        status.is_success(),
        "PutBucketNotificationConfiguration: {status} {}",
        resp.text().await.unwrap()
    );
}

fn s3_event(bucket: &str, key: &str, etag: &str) -> String {
    json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": REGION,
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
               "object": {"key": key, "size": 1, "eTag": etag}}
    }]})
    .to_string()
}

async fn items(s: &TestServer, token: &str) -> Vec<Value> {
    let page: Value = s
        .get("/v1/media", token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["items"].as_array().cloned().unwrap_or_default()
}

async fn start(
    endpoint: &str,
    media: &str,
    output: &str,
    queue_url: &str,
    workers: &str,
) -> (TestServer, mediaserver::config::Config) {
    let dir = tempfile::tempdir().unwrap();
    let source = format!("sqs:{queue_url}");
    let config = common::config_with(
        dir.path(),
        &[
            ("STORAGE_PROVIDER", "AWSBucket"),
            ("STORAGE_ENDPOINT", endpoint),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("MEDIA_BUCKET", media),
            ("OUTPUT_BUCKET", output),
            ("EVENTS_SOURCE", &source),
            ("WORKERS", workers),
            (
                "JWT_SECRET",
                "0123456789abcdef0123456789abcdef0123456789abcdef",
            ),
        ],
    );
    let state = mediaserver::build_state(&config).await.unwrap();
    (TestServer::start_state(dir, &config, state).await, config)
}

#[tokio::test]
async fn a_file_dropped_into_the_bucket_reaches_the_server_through_sqs_and_is_transcoded() {
    let endpoint = required_env("MEDIASERVER_TEST_S3_ENDPOINT");
    let media = fresh_bucket(&endpoint).await;
    let output = fresh_bucket(&endpoint).await;
    let (queue_url, queue_arn) = fresh_queue(&endpoint, 30).await;
    // S3 sends its s3:TestEvent to the queue when the configuration is set: the consumer
    // ignores (and deletes) it.
    notify_queue(&endpoint, &media, &queue_arn).await;

    let (s, config) = start(&endpoint, &media, &output, &queue_url, "1").await;
    let token = s.user_token("admin@example.com").await;
    let stop = CancellationToken::new();
    let consumer = {
        let (ingest, stop) = (s.state.ingest.clone(), stop.clone());
        tokio::spawn(async move { mediaserver::run_events(&config, ingest, stop, false).await })
    };

    // Dropped straight into the bucket, as another system would: no API call.
    s.state
        .media_store
        .put_bytes(
            &ObjectKey::new("drops/holiday clip.mp4".to_string()).unwrap(),
            read(&fixtures().mp4).into(),
        )
        .await
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(60);
    let item = loop {
        if let Some(i) = items(&s, &token).await.into_iter().next() {
            break i;
        }
        assert!(Instant::now() < deadline, "no item from the bucket event");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(item["title"], "holiday clip");
    let id = item["id"].as_str().unwrap().to_string();
    let done = s.wait_done(&token, &id, 120).await;
    assert_eq!(done["status"], "ready", "{done}");
    let master = s
        .get(&format!("/v1/media/{id}/hls/master.m3u8"), &token)
        .send()
        .await
        .unwrap();
    assert!(master.status().is_success(), "{}", master.status());

    // Every message (the test event and the object's) was deleted once handled.
    let deadline = Instant::now() + Duration::from_secs(30);
    while queue_depth(&endpoint, &queue_url).await > 0 {
        assert!(Instant::now() < deadline, "messages left in the queue");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(items(&s, &token).await.len(), 1);
    stop.cancel();
    consumer.await.unwrap().unwrap();
    s.stop().await;
}

#[tokio::test]
async fn duplicates_make_one_job_malformed_messages_are_dropped_and_unrecorded_ones_come_again() {
    let endpoint = required_env("MEDIASERVER_TEST_S3_ENDPOINT");
    let media = fresh_bucket(&endpoint).await;
    // Received messages come back after a second when not deleted.
    let (queue_url, _) = fresh_queue(&endpoint, 1).await;
    let (s, config) = start(&endpoint, &media, &media, &queue_url, "0").await;
    s.state
        .media_store
        .put_bytes(
            &ObjectKey::new("in/a.mp4".to_string()).unwrap(),
            read(&fixtures().mp4).into(),
        )
        .await
        .unwrap();
    let event = s3_event(&media, "in/a.mp4", "etag-a");

    // No account yet, so no owner for the item: the message must stay in the queue, and a
    // one-off run says so (an error: `watch --once` exits non-zero, as on OCI Streaming).
    send(&endpoint, &queue_url, &event).await;
    let left = mediaserver::run_events(
        &config,
        s.state.ingest.clone(),
        CancellationToken::new(),
        true,
    )
    .await
    .unwrap_err();
    assert!(
        format!("{left:#}").contains("could not be handled yet"),
        "{left:#}"
    );
    assert_eq!(
        queue_depth(&endpoint, &queue_url).await,
        1,
        "kept for later"
    );

    // Now there is an owner. The same event again, a body that is no event, S3's test event
    // and an object of another bucket arrive too.
    let token = s.user_token("admin@example.com").await;
    send(&endpoint, &queue_url, &event).await;
    send(&endpoint, &queue_url, "this is not JSON").await;
    send(
        &endpoint,
        &queue_url,
        r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"x"}"#,
    )
    .await;
    send(
        &endpoint,
        &queue_url,
        &s3_event("someone-elses-bucket", "in/b.mp4", "etag-b"),
    )
    .await;
    // A restarted consumer: the kept message is delivered again (after its visibility timeout).
    let deadline = Instant::now() + Duration::from_secs(30);
    while queue_depth(&endpoint, &queue_url).await > 0 {
        mediaserver::run_events(
            &config,
            s.state.ingest.clone(),
            CancellationToken::new(),
            true,
        )
        .await
        .unwrap();
        assert!(Instant::now() < deadline, "messages left in the queue");
    }

    let list = items(&s, &token).await;
    assert_eq!(list.len(), 1, "{list:?}");
    let id = list[0]["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(s.state.repo.jobs_for_media(&id).await.unwrap().len(), 1);
    s.stop().await;
}

#[tokio::test]
async fn mediaserver_watch_consumes_the_queue_as_its_own_process() {
    let endpoint = required_env("MEDIASERVER_TEST_S3_ENDPOINT");
    let media = fresh_bucket(&endpoint).await;
    let (queue_url, queue_arn) = fresh_queue(&endpoint, 30).await;
    notify_queue(&endpoint, &media, &queue_arn).await;
    let (s, _) = start(&endpoint, &media, &media, &queue_url, "0").await;
    let token = s.user_token("admin@example.com").await;
    s.state
        .media_store
        .put_bytes(
            &ObjectKey::new("from elsewhere/c.mp4".to_string()).unwrap(),
            read(&fixtures().mp4).into(),
        )
        .await
        .unwrap();

    // The same database and bucket, EVENTS_CONSUMER=watch: the separate process consumes.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_mediaserver"))
        .args(["watch", "--once"])
        .env("DATA_DIR", s.dir.path())
        .env("STORAGE_PROVIDER", "AWSBucket")
        .env("STORAGE_ENDPOINT", &endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("MEDIA_BUCKET", &media)
        .env(
            "JWT_SECRET",
            "0123456789abcdef0123456789abcdef0123456789abcdef",
        )
        .env("EVENTS_SOURCE", format!("sqs:{queue_url}"))
        .env("EVENTS_CONSUMER", "watch")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "mediaserver watch --once: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = items(&s, &token).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["title"], "c");
    assert_eq!(queue_depth(&endpoint, &queue_url).await, 0);
    s.stop().await;
}

#[tokio::test]
async fn mediaserver_serve_consumes_the_queue_by_default() {
    let endpoint = required_env("MEDIASERVER_TEST_S3_ENDPOINT");
    let media = fresh_bucket(&endpoint).await;
    let (queue_url, queue_arn) = fresh_queue(&endpoint, 30).await;
    notify_queue(&endpoint, &media, &queue_arn).await;
    // This one only answers the API (its config has the source, but nothing here consumes it).
    let (s, _) = start(&endpoint, &media, &media, &queue_url, "0").await;
    let token = s.user_token("admin@example.com").await;
    let mut serve = tokio::process::Command::new(env!("CARGO_BIN_EXE_mediaserver"))
        .arg("serve")
        .env("DATA_DIR", s.dir.path())
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .env("WORKERS", "0")
        .env("STORAGE_PROVIDER", "AWSBucket")
        .env("STORAGE_ENDPOINT", &endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("MEDIA_BUCKET", &media)
        .env(
            "JWT_SECRET",
            "0123456789abcdef0123456789abcdef0123456789abcdef",
        )
        .env("EVENTS_SOURCE", format!("sqs:{queue_url}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    s.state
        .media_store
        .put_bytes(
            &ObjectKey::new("dropped.mp4".to_string()).unwrap(),
            read(&fixtures().mp4).into(),
        )
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while items(&s, &token).await.is_empty() {
        assert!(
            serve.try_wait().unwrap().is_none(),
            "mediaserver serve exited"
        );
        assert!(Instant::now() < deadline, "serve did not consume the queue");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    serve.kill().await.unwrap();
    assert_eq!(items(&s, &token).await.len(), 1);
    s.stop().await;
}
