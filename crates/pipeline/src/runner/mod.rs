//! Where a claimed job's work happens. The worker loop (`worker.rs`: claim, lease, retry,
//! record, webhooks) hands each job to one [`JobRunner`] and knows nothing of which it is:
//!
//! * [`in_process`]: ffmpeg in this process, publishing segments while it encodes;
//! * [`container_instances`]: `mediaserver transcode` in an OCI Container Instance per job.
//!
//! Another runner (Kubernetes Jobs…) is one more file here implementing [`JobRunner`]; runners
//! that start `mediaserver transcode` elsewhere share its contract in [`remote`].

pub mod container_instances;
pub mod in_process;
pub mod remote;
pub mod scratch;

use std::sync::Arc;

use async_trait::async_trait;
use mediaserver_core::layout::outputs_prefix;
use mediaserver_core::{Job, Media, MediaId};
use mediaserver_db::{DbError, DynRepo, MediaReady};
use mediaserver_storage::Storage;
use tokio_util::sync::CancellationToken;

use crate::progress::ProgressReporter;
use crate::PipelineError;

/// Runs one claimed job. The worker has checked that the item exists; it records what
/// [`JobRunner::run`] returns (or the failure, retried per the retry policy) and takes the
/// outputs back when a job fails or the item was deleted meanwhile.
#[async_trait]
pub trait JobRunner: Send + Sync {
    /// Processes `media` for `job` and publishes its outputs under the item's output prefix:
    /// a run that follows an earlier attempt first takes the item off playback (reusing or
    /// replacing what that attempt published), then marks the item processing, reports the
    /// encode's progress, and returns what to record.
    ///
    /// Ends early with [`PipelineError::Cancelled`] when `cancel` fires (a lost lease); on
    /// shutdown the worker may also drop the future after its grace period, which must stop
    /// any local work (child processes are killed on drop).
    async fn run(
        &self,
        job: &Job,
        media: &Media,
        ctx: &RunContext,
        cancel: &CancellationToken,
    ) -> Result<JobDone, PipelineError>;

    /// Whether the work goes on after this process lets go of the job (a container instance
    /// keeps running, and the job's next claim waits for it). Then a job handed back on
    /// shutdown keeps what it published; otherwise the worker takes that back.
    fn outlives_hand_back(&self) -> bool {
        false
    }

    /// Removes what runs that died with their process (a SIGKILLed worker) left behind, such
    /// as local scratch files; logs what it removed. Called when workers start and every few
    /// minutes after; must never touch the work of a live run, in this process or another.
    async fn sweep(&self) {}
}

/// What a job's run ended with (issue 15: a long video's job splits into parts).
// One short-lived value per job: boxing the large variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum JobDone {
    /// The item is processed (a `whole` job, or a chunked item's `assemble` step): record it.
    Ready(MediaReady),
    /// A `whole` job planned a chunked encode (its plan is stored): queue `chunks` chunk jobs
    /// and the rest job in the transaction that completes it.
    Split { chunks: u32 },
    /// A `chunk` or `rest` job published its part and stored its record.
    Part,
}

/// What a runner gets besides the job: the stores and the database, for nothing but the item.
#[derive(Clone)]
pub struct RunContext {
    pub repo: DynRepo,
    /// Where originals are.
    pub media_store: Arc<dyn Storage>,
    /// Where outputs are published (served to players).
    pub output_store: Arc<dyn Storage>,
}

impl RunContext {
    /// Reports the encode progress of `media_id` (0–95 % of the item's progress).
    pub fn progress(&self, media_id: &MediaId) -> ProgressReporter {
        ProgressReporter::new(self.repo.clone(), media_id.clone())
    }

    /// Takes an item off playback (`playable` off) without touching its published objects,
    /// which a later attempt may reuse.
    pub async fn hide(&self, media_id: &MediaId) -> Result<(), PipelineError> {
        if let Some(m) = self.repo.get_media(media_id).await? {
            if m.playable {
                match self
                    .repo
                    .set_media_progress(media_id, m.progress, Some(false))
                    .await
                {
                    Ok(()) | Err(DbError::NotFound) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(())
    }

    /// Takes an item's published outputs back: first `playable` off, then the objects.
    pub async fn unpublish(&self, media_id: &MediaId) -> Result<(), PipelineError> {
        self.hide(media_id).await?;
        let removed = self
            .output_store
            .delete_prefix(&outputs_prefix(media_id))
            .await?;
        if removed > 0 {
            tracing::info!(removed, "took back published outputs");
        }
        Ok(())
    }
}
