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
            let mut progressed = false;
            match self.read(handler, stop, once, &mut progressed).await {
                Ok(()) => return Ok(()),
                Err(e) if once => return Err(e),
                Err(e) => {
                    tracing::warn!(error = format!("{e:#}"), stream = %self.stream_id, "reading the stream failed; will retry from the last commit");
                    let pause = next_pause(&mut backoff, progressed);
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = stop.cancelled() => return Ok(()),
                    }
                }
            }
        }
    }

    /// From a fresh group cursor until stopped (or, with `once`, until an empty batch). `Err`
    /// when the stream could not be read or a message has to come again; `progressed` says
    /// whether the stream was read successfully before that (a batch committed, or nothing
    /// left to read).
    async fn read(
        &self,
        handler: &Handler,
        stop: &CancellationToken,
        once: bool,
        progressed: &mut bool,
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
                *progressed = true;
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
            *progressed = true;
        }
    }
}

/// The pause before reading again after a failed read: the backoff starts over when the read
/// had got somewhere, so one long outage does not make every later hiccup wait a minute. A
/// message that cannot be handled yet fails before any progress, so its retries still back off.
fn next_pause(backoff: &mut Backoff, progressed: bool) -> Duration {
    if progressed {
        backoff.reset();
    }
    backoff.next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_starts_over_after_a_read_that_got_somewhere() {
        let mut backoff = Backoff::new();
        let s = Duration::from_secs;
        // A long outage: nothing read between the failures.
        let outage: Vec<Duration> = (0..8).map(|_| next_pause(&mut backoff, false)).collect();
        assert_eq!(outage, [1, 2, 4, 8, 16, 32, 60, 60].map(s));
        // The stream came back, batches were committed, then one failure: a short pause.
        assert_eq!(next_pause(&mut backoff, true), s(1));
        // Failing again straight away (nothing read since): doubling from there.
        assert_eq!(next_pause(&mut backoff, false), s(2));
        assert_eq!(next_pause(&mut backoff, false), s(4));
        assert_eq!(next_pause(&mut backoff, true), s(1));
    }
}
