//! Consuming bucket events from a queue or stream (`EVENTS_SOURCE`), for deployments without a
//! public HTTPS endpoint: `sqs.rs` (S3 event notifications in SQS) and `streaming.rs` (OCI
//! Events in an OCI Stream). Runs inside `mediaserver serve` (`EVENTS_CONSUMER=serve`) or in
//! `mediaserver watch`.
//!
//! At-least-once: a message is deleted (SQS) or committed past (Streaming) only after every
//! object it announces is recorded — the media row, its event and its job in one transaction
//! (`Ingest::ingest_object`); a message seen twice records nothing new (the same object version
//! is a duplicate). What cannot ever succeed — a body that is not an event, an object in
//! another bucket, an unusable key, an object that is gone, one its upload refuses (see
//! [`may_succeed_later`]) — is logged and dropped; what may
//! succeed later — the database or the bucket unreachable, no owner yet — leaves the message
//! to come again.

mod sqs;
mod streaming;

use crate::config::{Config, EventsSource};
use mediaserver_api::{parse_bucket_event, ParsedEvent};
use mediaserver_core::ErrorChain;
use mediaserver_ingest::{Ingest, IngestError, IngestOutcome};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub use sqs::SqsQueue;

/// What to do with a message once it was handled.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Disposition {
    /// Recorded, a duplicate, or something that can never be recorded: delete / commit.
    Done,
    /// Keep it: it comes again (SQS: after its visibility timeout; Streaming: from the last
    /// commit).
    Retry,
}

/// Consumes `config.events.source` until `stop` (with `once`: until the source has nothing
/// more to give, then returns). Errors talking to the source are logged and retried with
/// backoff; only a source that cannot be set up at all is an error.
pub async fn run_events(
    config: &Config,
    ingest: Ingest,
    stop: CancellationToken,
    once: bool,
) -> anyhow::Result<()> {
    let Some(source) = config.events.source.clone() else {
        return Ok(());
    };
    let handler = Handler {
        ingest,
        owner_email: config.http.events_owner_email.clone(),
    };
    tracing::info!(%source, "consuming bucket events");
    match source {
        EventsSource::Sqs { queue_url, region } => {
            let queue = SqsQueue::new(config, queue_url, region)?;
            sqs::consume(&queue, &handler, &stop, once).await
        }
        EventsSource::OciStreaming {
            stream_id,
            group,
            endpoint,
        } => {
            // The principal may not be ready at start (instance metadata, federation): retried
            // like any other failure of the source, except for a one-off run.
            let http = mediaserver_oci::default_http_client()?;
            let mut backoff = Backoff::new();
            let oci = loop {
                match mediaserver_oci::OciClient::connect(&config.oci, http.clone()).await {
                    Ok(c) => break c,
                    Err(e) if once => return Err(e.into()),
                    Err(e) => {
                        tracing::warn!(error = %ErrorChain(&e), "connecting to OCI for the event stream failed; will retry");
                        if !backoff.wait(&stop).await {
                            return Ok(());
                        }
                    }
                }
            };
            let endpoint =
                endpoint.unwrap_or_else(|| mediaserver_oci::streaming::default_endpoint(&oci));
            let reader = streaming::Reader {
                oci,
                endpoint,
                stream_id,
                group,
                instance: crate::worker_name(),
            };
            reader.consume(&handler, &stop, once).await
        }
    }
}

/// Turns one message body into recorded items.
pub(crate) struct Handler {
    ingest: Ingest,
    owner_email: Option<String>,
}

impl Handler {
    pub(crate) async fn handle(&self, body: &[u8], message: &str) -> Disposition {
        let objects = match parse_bucket_event(body) {
            Ok(ParsedEvent::Objects(o)) => o,
            Ok(ParsedEvent::Ignored(why)) => {
                tracing::debug!(%message, %why, "event ignored");
                return Disposition::Done;
            }
            Err(reason) => {
                tracing::warn!(%message, %reason, body = %excerpt(body), "not a bucket event; dropped");
                return Disposition::Done;
            }
        };
        let owner = match self.ingest.event_owner(self.owner_email.as_deref()).await {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(%message, error = %ErrorChain(&e), "no owner for new items yet; the event will come again");
                return Disposition::Retry;
            }
        };
        let bucket = self.ingest.media_store().bucket().to_string();
        for o in objects {
            if o.bucket != bucket {
                tracing::warn!(%message, key = %o.key, bucket = %o.bucket, media_bucket = %bucket, "event for another bucket than MEDIA_BUCKET; dropped");
                continue;
            }
            match self
                .ingest
                .ingest_object(&owner, &o.key, o.etag.as_deref(), o.source)
                .await
            {
                Ok(outcome) => log_outcome(message, &outcome),
                Err(e) if !may_succeed_later(&e) => {
                    tracing::warn!(%message, key = %o.key, error = %ErrorChain(&e), "announced object cannot be recorded; dropped")
                }
                Err(e) => {
                    tracing::warn!(%message, key = %o.key, error = %ErrorChain(&e), "could not record the object; the event will come again");
                    return Disposition::Retry;
                }
            }
        }
        Disposition::Done
    }
}

/// Whether the same message could record its object later: an outage, or an upload whose
/// lease another request holds. What the object or its upload row itself is refused for (the
/// API's 4xx: a direct upload of another size than declared, an empty or non-media file, a key
/// or row this server cannot use) never changes for this message — the client's next PUT is a
/// new event — and a message that keeps coming back holds up every later one on a stream.
fn may_succeed_later(e: &IngestError) -> bool {
    match e {
        IngestError::Db(_)
        | IngestError::Storage(_)
        | IngestError::NotStored(_)
        | IngestError::Interrupted(_)
        | IngestError::Locked
        | IngestError::LocksPoisoned
        | IngestError::NoOwner
        | IngestError::UnknownOwner { .. } => true,
        IngestError::TooLarge { .. }
        | IngestError::QuotaExceeded { .. }
        | IngestError::Empty
        | IngestError::NotMedia { .. }
        | IngestError::UnusableFilename(_)
        | IngestError::NotUploaded { .. }
        | IngestError::SizeMismatch { .. }
        | IngestError::AlreadyRecorded
        | IngestError::UnusableKey(_)
        | IngestError::MissingObject { .. }
        | IngestError::InvalidUploadKey(_)
        | IngestError::UploadState(_)
        | IngestError::SourceMissing => false,
    }
}

fn log_outcome(message: &str, outcome: &IngestOutcome) {
    match outcome {
        IngestOutcome::Created { key, media_id } => {
            tracing::info!(%message, %key, %media_id, "queued from a bucket event")
        }
        IngestOutcome::Duplicate { key, .. } => {
            tracing::debug!(%message, %key, "already recorded")
        }
        IngestOutcome::Skipped { key, reason } => {
            tracing::debug!(%message, %key, %reason, "skipped")
        }
        IngestOutcome::Refused {
            key,
            media_id,
            reason,
        } => tracing::warn!(%message, %key, %media_id, %reason, "recorded as failed"),
    }
}

/// The start of a body for a log line: printable characters only.
fn excerpt(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(200)])
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Doubling waits between failed calls to the source, 1 s up to a minute.
pub(crate) struct Backoff(Duration);

impl Backoff {
    pub(crate) fn new() -> Self {
        Backoff(Duration::from_secs(1))
    }

    pub(crate) fn reset(&mut self) {
        self.0 = Duration::from_secs(1);
    }

    /// The next wait, doubling the one after it.
    pub(crate) fn next(&mut self) -> Duration {
        let d = self.0;
        self.0 = (self.0 * 2).min(Duration::from_secs(60));
        d
    }

    /// Waits (or returns false at once when stopped).
    pub(crate) async fn wait(&mut self, stop: &CancellationToken) -> bool {
        let d = self.next();
        tokio::select! {
            _ = tokio::time::sleep(d) => true,
            _ = stop.cancelled() => false,
        }
    }
}
