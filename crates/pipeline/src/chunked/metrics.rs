//! `/metrics` for chunked encoding (issue 15), in the process that does the work (the `metrics`
//! facade is process-wide; a `mediaserver worker` keeps its own).

use mediaserver_core::JobKind;

/// A whole job became a split of `chunks` chunks.
pub(crate) fn split(chunks: u32) {
    metrics::counter!("chunked_items_total").increment(1);
    metrics::counter!("chunk_jobs_queued_total", "kind" => "chunk").increment(u64::from(chunks));
    metrics::counter!("chunk_jobs_queued_total", "kind" => "rest").increment(1);
}

/// A chunk or rest job completed.
pub(crate) fn part_done(kind: JobKind) {
    metrics::counter!("chunk_jobs_completed_total", "kind" => kind.as_str()).increment(1);
}

/// A chunk, rest or assemble job runs in this process until the guard is dropped
/// (`chunk_jobs_running{kind}`).
pub(crate) struct Running(JobKind);

impl Running {
    pub(crate) fn start(kind: JobKind) -> Running {
        metrics::gauge!("chunk_jobs_running", "kind" => kind.as_str()).increment(1.0);
        Running(kind)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        metrics::gauge!("chunk_jobs_running", "kind" => self.0.as_str()).decrement(1.0);
    }
}
