//! `EVENTS_SOURCE=oci-streaming:<stream OCID>` against the OCI stand-in's Streaming (which
//! verifies every signature and keeps each consumer group's committed offset): OCI Events
//! written to a stream become items; a batch is committed only once recorded, so a restarted
//! consumer resumes after the last commit and what was not committed comes again.

use crate::common::{self, fixtures, read, TestServer};
use mediaserver_oci::streaming::StreamClient;
use mediaserver_oci::{OciClient, PrivateKey};
use mediaserver_oci_standin::Standin;
use mediaserver_storage::ObjectKey;
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const TENANCY: &str = "ocid1.tenancy.oc1..aaaastreams";
const USER: &str = "ocid1.user.oc1..aaaaconsumer";
const STREAM: &str = "ocid1.stream.oc1.iad.amaaaaaamediaevents";
const GROUP: &str = "mediaserver";

/// What an OCI Events rule writes to its stream for a new object (CloudEvents 1.0).
fn create_object(key: &str, etag: &str) -> Vec<u8> {
    json!({
        "specversion": "1.0",
        "type": "com.oraclecloud.objectstorage.createobject",
        "source": "ObjectStorage",
        "id": format!("event-{etag}"),
        "time": "2026-12-05T10:00:00Z",
        "datacontenttype": "application/json",
        "data": {
            "compartmentId": "ocid1.compartment.oc1..example",
            "resourceName": key,
            "resourceId": format!("/n/ns/b/media/o/{key}"),
            "additionalDetails": {"bucketName": "media", "namespace": "ns", "eTag": etag}
        }
    })
    .to_string()
    .into_bytes()
}

/// The stand-in with `STREAM` and an API key it knows; the server's environment for them.
async fn standin(dir: &Path) -> (Standin, Vec<(String, String)>) {
    let standin = Standin::start(TENANCY, "us-ashburn-1").await.unwrap();
    standin.streaming().create_stream(STREAM);
    let key = PrivateKey::generate().unwrap();
    standin.keys().insert_api_key(TENANCY, USER, &key);
    let oci_config = common::write_oci_config(dir, TENANCY, USER, &key);
    let env = vec![
        ("OCI_AUTH".to_string(), "api_key".to_string()),
        ("OCI_CONFIG_FILE".into(), oci_config.display().to_string()),
        ("OCI_STREAMING_ENDPOINT".into(), standin.url().to_string()),
        ("EVENTS_SOURCE".into(), format!("oci-streaming:{STREAM}")),
    ];
    (standin, env)
}

/// Publishes as OCI Events does: PutMessages, signed.
async fn publish(config: &mediaserver::config::Config, endpoint: &str, values: &[&[u8]]) {
    let oci = OciClient::connect(&config.oci, mediaserver_oci::default_http_client().unwrap())
        .await
        .unwrap();
    let client = StreamClient::connect(oci, endpoint, STREAM).await.unwrap();
    client.put_messages(values).await.unwrap();
}

async fn start(
    env: &[(String, String)],
    workers: &str,
) -> (TestServer, mediaserver::config::Config) {
    let dir = tempfile::tempdir().unwrap();
    let mut pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    pairs.push(("WORKERS", workers));
    let config = common::config_with(dir.path(), &pairs);
    let state = mediaserver::build_state(&config).await.unwrap();
    (TestServer::start_state(dir, &config, state).await, config)
}

async fn put(s: &TestServer, key: &str) {
    s.state
        .media_store
        .put_bytes(
            &ObjectKey::new(key.to_string()).unwrap(),
            read(&fixtures().mp4).into(),
        )
        .await
        .unwrap();
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

#[tokio::test]
async fn an_object_announced_on_an_oci_stream_is_recorded_committed_and_transcoded() {
    let keys = tempfile::tempdir().unwrap();
    let (standin, env) = standin(keys.path()).await;
    let (s, config) = start(&env, "1").await;
    let token = s.user_token("admin@example.com").await;
    put(&s, "drops/beach.mp4").await;

    let stop = CancellationToken::new();
    let consumer = {
        let (config, ingest, stop) = (config.clone(), s.state.ingest.clone(), stop.clone());
        tokio::spawn(async move { mediaserver::run_events(&config, ingest, stop, false).await })
    };
    publish(
        &config,
        standin.url(),
        &[&create_object("drops/beach.mp4", "e1")],
    )
    .await;

    let deadline = Instant::now() + Duration::from_secs(60);
    let item = loop {
        if let Some(i) = items(&s, &token).await.into_iter().next() {
            break i;
        }
        assert!(Instant::now() < deadline, "no item from the stream");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(item["title"], "beach");
    let id = item["id"].as_str().unwrap().to_string();
    let done = s.wait_done(&token, &id, 120).await;
    assert_eq!(done["status"], "ready", "{done}");

    // Committed past the message once recorded.
    let deadline = Instant::now() + Duration::from_secs(30);
    while standin.streaming().committed(STREAM, GROUP) != Some(1) {
        assert!(Instant::now() < deadline, "the message was never committed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.cancel();
    consumer.await.unwrap().unwrap();
    assert!(
        standin.streaming().rejections().is_empty(),
        "{:?}",
        standin.streaming().rejections()
    );
    s.stop().await;
}

#[tokio::test]
async fn a_restarted_consumer_resumes_after_its_last_commit_and_gets_what_was_not_committed_again()
{
    let keys = tempfile::tempdir().unwrap();
    let (standin, env) = standin(keys.path()).await;
    let (s, config) = start(&env, "0").await;
    put(&s, "in/a.mp4").await;
    let streaming = standin.streaming();
    // Offsets 0–3: not an event; an object; the same object again; a deletion (ignored).
    streaming.publish(STREAM, b"garbage, not JSON");
    streaming.publish(STREAM, &create_object("in/a.mp4", "ea"));
    streaming.publish(STREAM, &create_object("in/a.mp4", "ea"));
    streaming.publish(
        STREAM,
        json!({"specversion": "1.0", "type": "com.oraclecloud.objectstorage.deleteobject", "data": {}})
            .to_string()
            .as_bytes(),
    );
    let once = || {
        mediaserver::run_events(
            &config,
            s.state.ingest.clone(),
            CancellationToken::new(),
            true,
        )
    };

    // No account yet, so nobody to own the item: nothing of the batch is committed.
    assert!(
        once().await.is_err(),
        "the object could not be recorded yet"
    );
    assert_eq!(streaming.committed(STREAM, GROUP), Some(0));
    assert_eq!(streaming.commits(), 0);

    // A restarted consumer gets the uncommitted messages again, records the object once and
    // commits them all.
    let token = s.user_token("admin@example.com").await;
    let before = streaming.delivered().len();
    once().await.unwrap();
    assert_eq!(streaming.delivered()[before..], [0, 1, 2, 3]);
    assert_eq!(streaming.committed(STREAM, GROUP), Some(4));
    let list = items(&s, &token).await;
    assert_eq!(list.len(), 1, "{list:?}");
    let id = list[0]["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(s.state.repo.jobs_for_media(&id).await.unwrap().len(), 1);

    // The next one starts after the last commit.
    put(&s, "in/b.mp4").await;
    streaming.publish(STREAM, &create_object("in/b.mp4", "eb"));
    let before = streaming.delivered().len();
    once().await.unwrap();
    assert_eq!(streaming.delivered()[before..], [4]);
    assert_eq!(streaming.committed(STREAM, GROUP), Some(5));
    assert_eq!(items(&s, &token).await.len(), 2);
    assert!(
        streaming.rejections().is_empty(),
        "{:?}",
        streaming.rejections()
    );

    // A consumer whose key the service does not know is refused (every request is verified).
    let stranger = tempfile::tempdir().unwrap();
    let other = PrivateKey::generate().unwrap();
    let file = common::write_oci_config(stranger.path(), TENANCY, USER, &other);
    let mut env = env.clone();
    env.push(("OCI_CONFIG_FILE".into(), file.display().to_string()));
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let unknown = common::config_with(stranger.path(), &pairs);
    assert!(mediaserver::run_events(
        &unknown,
        s.state.ingest.clone(),
        CancellationToken::new(),
        true
    )
    .await
    .is_err());
    assert!(!streaming.rejections().is_empty());
    s.stop().await;
}

/// A message whose object this event can never record — a direct upload's object of another
/// size than the upload declared (its client completes or PUTs again; a new PUT is a new
/// event) — is logged and committed past, not retried forever: on a stream, a message that
/// comes again holds back every message after it.
#[tokio::test]
async fn an_object_that_cannot_be_recorded_does_not_hold_up_the_stream() {
    let keys = tempfile::tempdir().unwrap();
    let (standin, env) = standin(keys.path()).await;
    let (s, config) = start(&env, "0").await;
    let token = s.user_token("admin@example.com").await;
    let data = read(&fixtures().mp4);
    let r = s
        .client
        .post(s.url("/v1/media/direct-upload"))
        .bearer_auth(&token)
        .json(&json!({"filename": "short.mp4", "size": data.len() + 10}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    let upload_id: mediaserver_core::UploadId = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let upload = s.state.repo.get_upload(&upload_id).await.unwrap().unwrap();
    // Ten bytes short of what was declared.
    put(&s, &upload.key).await;
    put(&s, "in/good.mp4").await;
    let streaming = standin.streaming();
    streaming.publish(STREAM, &create_object(&upload.key, "short"));
    streaming.publish(STREAM, &create_object("in/good.mp4", "good"));

    mediaserver::run_events(
        &config,
        s.state.ingest.clone(),
        CancellationToken::new(),
        true,
    )
    .await
    .unwrap();
    assert_eq!(streaming.committed(STREAM, GROUP), Some(2));
    let list = items(&s, &token).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["title"], "good");
    // The upload is still its client's to finish.
    let upload = s.state.repo.get_upload(&upload_id).await.unwrap().unwrap();
    assert_eq!(upload.status, mediaserver_core::UploadStatus::Active);
    s.stop().await;
}
