//! OCI Events delivered to an OCI Stream, read as a member of a consumer group: a group cursor
//! (after the group's last commit), GetMessages, and ConsumerCommit once every message of the
//! batch is handled. A message that must come again (see [`Disposition::Retry`]) leaves the
//! batch uncommitted: after a pause a fresh group cursor starts again from the last commit, and
//! what was already recorded is a duplicate then.

use super::{Backoff, Disposition, Handler};
use mediaserver_oci::streaming::StreamClient;
use mediaserver_oci::OciClient;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Messages per GetMessages.
const BATCH: u32 = 100;
/// Pause after an empty GetMessages (which answers at once; OCI allows five per second and
/// partition per group).
const IDLE: Duration = Duration::from_secs(1);

pub(super) struct Reader {
    pub(super) oci: OciClient,
    pub(super) endpoint: String,
    pub(super) stream_id: String,
    pub(super) group: String,
    pub(super) instance: String,
}

impl Reader {
    pub(super) async fn consume(
        &self,
        handler: &Handler,
        stop: &CancellationToken,
        once: bool,
    ) -> anyhow::Result<()> {
        let mut backoff = Backoff::new();
        loop {
            match self.read(handler, stop, once).await {
                Ok(()) => return Ok(()),
                Err(e) if once => return Err(e),
                Err(e) => {
                    tracing::warn!(error = format!("{e:#}"), stream = %self.stream_id, "reading the stream failed; will retry from the last commit");
                    if !backoff.wait(stop).await {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// From a fresh group cursor until stopped (or, with `once`, until an empty batch). `Err`
    /// when the stream could not be read or a message has to come again.
    async fn read(
        &self,
        handler: &Handler,
        stop: &CancellationToken,
        once: bool,
    ) -> anyhow::Result<()> {
        let client =
            StreamClient::connect(self.oci.clone(), &self.endpoint, &self.stream_id).await?;
        let mut cursor = client.group_cursor(&self.group, &self.instance).await?;
        loop {
            let batch = tokio::select! {
                b = client.get_messages(&cursor, BATCH) => b?,
                _ = stop.cancelled() => return Ok(()),
            };
            if batch.messages.is_empty() {
                if once {
                    return Ok(());
                }
                cursor = batch.next_cursor;
                tokio::select! {
                    _ = tokio::time::sleep(IDLE) => continue,
                    _ = stop.cancelled() => return Ok(()),
                }
            }
            for m in &batch.messages {
                let id = format!("{}/{}", m.partition, m.offset);
                if handler.handle(&m.value, &id).await == Disposition::Retry {
                    anyhow::bail!("message {id} could not be handled yet");
                }
            }
            cursor = client.commit(&batch.next_cursor).await?;
        }
    }
}
