//! S3 event notifications delivered to an SQS queue: ReceiveMessage with long polling
//! (`WaitTimeSeconds` 20), DeleteMessage once a message is handled. SQS's JSON protocol
//! (`X-Amz-Target: AmazonSQS.*`), signed with SigV4 and the bucket's credentials
//! (`mediaserver_storage::aws_signer`: object_store's credential chain and signer). Not the
//! AWS SDK: it would bring its own HTTP stack and credential chain for three calls. A queue
//! subscribed through SNS delivers the notification inside an SNS envelope, which is unwrapped.

use super::{Backoff, Disposition, Handler};
use crate::config::Config;
use anyhow::Context;
use serde_json::{json, Value};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Long-poll wait of one ReceiveMessage (SQS's maximum).
const WAIT_SECONDS: u64 = 20;

/// A message as ReceiveMessage returns it.
#[derive(Debug, Clone)]
pub struct SqsMessage {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
}

/// One queue: its URL, the endpoint (the URL's origin), the signing region.
#[derive(Debug, Clone)]
pub struct SqsQueue {
    http: reqwest::Client,
    signer: mediaserver_storage::AwsSigner,
    queue_url: url::Url,
    endpoint: url::Url,
    region: String,
}

impl SqsQueue {
    pub fn new(config: &Config, queue_url: url::Url, region: String) -> anyhow::Result<Self> {
        let s = &config.storage;
        let signer = mediaserver_storage::aws_signer(&mediaserver_storage::S3Options {
            bucket: s.media_bucket.clone(),
            endpoint: s.endpoint.clone(),
            region: region.clone(),
            path_style: s.path_style,
            access_key_id: s.access_key_id.clone(),
            secret_access_key: s.secret_access_key.as_ref().map(|k| k.expose().to_string()),
            ..Default::default()
        })
        .context("AWS credentials for the SQS queue (AWS_* variables)")?;
        let mut endpoint = queue_url.clone();
        endpoint.set_path("/");
        endpoint.set_query(None);
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .context("building the SQS HTTP client")?;
        Ok(SqsQueue {
            http,
            signer,
            queue_url,
            endpoint,
            region,
        })
    }

    async fn call(&self, action: &str, body: Value, timeout: Duration) -> anyhow::Result<Value> {
        let mut req = self
            .http
            .post(self.endpoint.clone())
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", format!("AmazonSQS.{action}"))
            .body(body.to_string())
            .timeout(timeout)
            .build()
            .with_context(|| format!("building SQS {action}"))?;
        self.signer
            .sign(&mut req, "sqs", &self.region)
            .await
            .with_context(|| format!("signing SQS {action}"))?;
        let resp = self
            .http
            .execute(req)
            .await
            .map_err(|e| e.without_url())
            .with_context(|| format!("SQS {action} at {}", self.endpoint))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| e.without_url())
            .with_context(|| format!("reading SQS {action}'s answer"))?;
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if !status.is_success() {
            let kind = value["__type"].as_str().unwrap_or("unknown error");
            let message = value["message"]
                .as_str()
                .or(value["Message"].as_str())
                .unwrap_or_default();
            anyhow::bail!("SQS {action} answered {status}: {kind} {message}");
        }
        Ok(value)
    }

    /// ReceiveMessage: up to ten messages, waiting up to `wait` for the first.
    pub async fn receive(&self, wait: Duration) -> anyhow::Result<Vec<SqsMessage>> {
        let v = self
            .call(
                "ReceiveMessage",
                json!({
                    "QueueUrl": self.queue_url.as_str(),
                    "MaxNumberOfMessages": 10,
                    "WaitTimeSeconds": wait.as_secs(),
                }),
                wait + Duration::from_secs(15),
            )
            .await?;
        let Some(messages) = v["Messages"].as_array() else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(messages.len());
        for m in messages {
            let (Some(id), Some(handle)) = (m["MessageId"].as_str(), m["ReceiptHandle"].as_str())
            else {
                anyhow::bail!("SQS ReceiveMessage: a message without MessageId or ReceiptHandle");
            };
            out.push(SqsMessage {
                message_id: id.to_string(),
                receipt_handle: handle.to_string(),
                body: m["Body"].as_str().unwrap_or_default().to_string(),
            });
        }
        Ok(out)
    }

    /// DeleteMessage.
    pub async fn delete(&self, receipt_handle: &str) -> anyhow::Result<()> {
        self.call(
            "DeleteMessage",
            json!({"QueueUrl": self.queue_url.as_str(), "ReceiptHandle": receipt_handle}),
            Duration::from_secs(30),
        )
        .await
        .map(|_| ())
    }
}

/// The S3 notification in a message: the body itself, or the `Message` of an SNS envelope.
fn notification(body: &str) -> std::borrow::Cow<'_, str> {
    if let Ok(v) = serde_json::from_str::<Value>(body) {
        if v["Type"].as_str() == Some("Notification") {
            if let Some(inner) = v["Message"].as_str() {
                return inner.to_string().into();
            }
        }
    }
    body.into()
}

pub(super) async fn consume(
    queue: &SqsQueue,
    handler: &Handler,
    stop: &CancellationToken,
    once: bool,
) -> anyhow::Result<()> {
    let mut backoff = Backoff::new();
    // `once`: a short wait, and done at the first empty answer.
    let wait = Duration::from_secs(if once { 1 } else { WAIT_SECONDS });
    // `once`: the messages left in the queue for later, an error at the end (as the stream's
    // reader, which cannot commit past such a message, answers too).
    let mut left = Vec::new();
    loop {
        let received = tokio::select! {
            r = queue.receive(wait) => r,
            _ = stop.cancelled() => return Ok(()),
        };
        let messages = match received {
            Ok(m) => {
                backoff.reset();
                m
            }
            Err(e) if once => return Err(e),
            Err(e) => {
                tracing::warn!(
                    error = format!("{e:#}"),
                    "receiving from SQS failed; will retry"
                );
                if !backoff.wait(stop).await {
                    return Ok(());
                }
                continue;
            }
        };
        if messages.is_empty() && once {
            return match left.as_slice() {
                [] => Ok(()),
                ids => Err(anyhow::anyhow!(
                    "{} message(s) could not be handled yet and stay in the queue: {}",
                    ids.len(),
                    ids.join(", ")
                )),
            };
        }
        for m in messages {
            match handler
                .handle(notification(&m.body).as_bytes(), &m.message_id)
                .await
            {
                Disposition::Done => {
                    if let Err(e) = queue.delete(&m.receipt_handle).await {
                        // It comes again and is a duplicate then.
                        tracing::warn!(message = %m.message_id, error = format!("{e:#}"), "deleting a handled SQS message failed");
                    }
                }
                Disposition::Retry if once => left.push(m.message_id),
                Disposition::Retry => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sns_envelopes_are_unwrapped() {
        let inner = r#"{"Records":[]}"#;
        let sns = json!({"Type": "Notification", "Message": inner}).to_string();
        assert_eq!(notification(&sns), inner);
        assert_eq!(notification(inner), inner);
        assert_eq!(notification("not json"), "not json");
    }
}
