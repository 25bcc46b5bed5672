//! An item's progress while a runner works on it: the encode fills 0–95 %, publishing and
//! recording the rest.

use crate::ErrorChain;
use mediaserver_core::MediaId;
use mediaserver_db::DynRepo;

/// The item's progress (percent) once `fraction` (0.0–1.0) of the encode is done.
pub(crate) fn encode_percent(fraction: f64) -> i32 {
    (fraction.clamp(0.0, 1.0) * 95.0).round() as i32
}

/// Writes one item's encode progress to the database. Best effort: a failed write is logged
/// and tried again with the next report; an unchanged percentage is not written again.
pub struct ProgressReporter {
    repo: DynRepo,
    media_id: MediaId,
    last: Option<i32>,
}

impl ProgressReporter {
    pub fn new(repo: DynRepo, media_id: MediaId) -> Self {
        ProgressReporter {
            repo,
            media_id,
            last: None,
        }
    }

    /// Records that `fraction` (0.0–1.0) of the encode is done.
    pub async fn report(&mut self, fraction: f64) {
        let pct = encode_percent(fraction);
        if self.last == Some(pct) {
            return;
        }
        match self
            .repo
            .set_media_progress(&self.media_id, pct, None)
            .await
        {
            Ok(()) => self.last = Some(pct),
            Err(e) => tracing::debug!(error = %ErrorChain(&e), "progress update failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::encode_percent;

    #[test]
    fn the_encode_fills_up_to_95_percent() {
        assert_eq!(encode_percent(0.0), 0);
        assert_eq!(encode_percent(0.5), 48);
        assert_eq!(encode_percent(1.0), 95);
        assert_eq!(encode_percent(1.5), 95);
        assert_eq!(encode_percent(-1.0), 0);
    }
}
