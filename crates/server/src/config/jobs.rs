//! Processing jobs: how many run in this process (`WORKERS`), where (`JOB_RUNNER`, see
//! `job_runner.rs`), the retry policy (`JOB_MAX_ATTEMPTS`, `JOB_RETRY_BACKOFF_SECONDS`,
//! `JOB_RETRY_BACKOFF_MAX_SECONDS`, `JOB_OUTAGE_RETRY_HOURS`), the lease
//! (`JOB_LEASE_SECONDS`), the encoder
//! (`TRANSCODE_PRESET`, `TRANSCODE_TIMEOUT_SECONDS`, `TRANSCODE_PROGRESS_SECONDS`), which rungs
//! get downloads (`DOWNLOAD_RENDITIONS`) and scratch space (`TEMP_DIR`).

use super::job_runner::{self, RunnerChoice};
use super::storage::StorageProvider;
use super::vars::{err, ConfigError, Vars};
use mediaserver_core::RetryPolicy;
use mediaserver_pipeline::{DownloadRenditions, LadderMode};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How processing jobs run.
#[derive(Debug, Clone)]
pub struct JobConfig {
    /// In-process workers of `serve` (`WORKERS`; 0: API only), and the default concurrency of
    /// `worker`.
    pub workers: usize,
    /// `JOB_RUNNER`: in-process workers, or one OCI Container Instance per job.
    pub runner: RunnerChoice,
    /// Attempts, backoff between them (see `mediaserver_core::retry`).
    pub retry: RetryPolicy,
    /// A worker that stops renewing its lease for this long loses the job to another worker
    /// (renewed every third of it while the job runs).
    pub lease_secs: u64,
    /// x264 preset for every rung.
    pub preset: String,
    /// Upper bound for one ffmpeg run.
    pub timeout_secs: u64,
    /// How often `transcode` to a bucket rewrites its progress object (what a remote job runner
    /// reads); 0 on every whole percent.
    pub progress_interval_secs: u64,
    /// Where workers keep their scratch files (`$DATA_DIR/tmp` by default).
    pub temp_dir: PathBuf,
    /// Which rungs get an MP4 download (`highest,lowest` by default; `all`; `none`: no
    /// downloads at all, not even the M4A).
    pub downloads: DownloadRenditions,
    /// `LADDER_MODE` (see `ladder.rs`).
    pub ladder_mode: LadderMode,
    /// `CHUNK_SECONDS`, `CHUNK_MIN_SECONDS` (see `chunks.rs`).
    pub chunks: mediaserver_pipeline::ChunkSettings,
}

/// Short, so a killed worker's job moves on quickly; three renewals per lease ride out a slow
/// database round trip.
pub const DEFAULT_LEASE_SECS: u64 = 15;

const X264_PRESETS: &[&str] = &[
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
];

pub(super) fn from_vars(
    vars: &Vars,
    data_dir: &Path,
    storage: StorageProvider,
) -> Result<JobConfig, ConfigError> {
    let workers = vars.parse_or("WORKERS", 1usize)?;
    let retry = retry_policy(vars)?;
    let lease_secs = vars.parse_or("JOB_LEASE_SECONDS", DEFAULT_LEASE_SECS)?;
    if !(3..=3600).contains(&lease_secs) {
        return Err(err("JOB_LEASE_SECONDS", "must be between 3 and 3600"));
    }
    let preset = vars
        .get("TRANSCODE_PRESET")
        .unwrap_or_else(|| "veryfast".into());
    if !X264_PRESETS.contains(&preset.as_str()) {
        return Err(err(
            "TRANSCODE_PRESET",
            format!(
                "'{preset}' is not an x264 preset; use one of {}",
                X264_PRESETS.join(", ")
            ),
        ));
    }
    let timeout_secs = vars.parse_or("TRANSCODE_TIMEOUT_SECONDS", 6 * 3600u64)?;
    if timeout_secs == 0 {
        return Err(err("TRANSCODE_TIMEOUT_SECONDS", "must be greater than 0"));
    }
    let progress_interval_secs = vars.parse_or("TRANSCODE_PROGRESS_SECONDS", 5u64)?;
    let temp_dir = vars
        .get("TEMP_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| data_dir.join("tmp"));
    let downloads = match vars.get("DOWNLOAD_RENDITIONS") {
        None => DownloadRenditions::default(),
        Some(v) => v
            .to_ascii_lowercase()
            .parse()
            .map_err(|e: String| err("DOWNLOAD_RENDITIONS", e))?,
    };
    let runner = job_runner::from_vars(vars, storage)?;
    let ladder_mode = super::ladder::from_vars(vars)?;
    let chunks = super::chunks::from_vars(vars)?;
    Ok(JobConfig {
        chunks,
        downloads,
        ladder_mode,
        workers,
        runner,
        retry,
        lease_secs,
        preset,
        timeout_secs,
        progress_interval_secs,
        temp_dir,
    })
}

/// The retry policy: attempts, and the backoff between them doubling from its base to its cap.
fn retry_policy(vars: &Vars) -> Result<RetryPolicy, ConfigError> {
    let max_attempts = vars.parse_or("JOB_MAX_ATTEMPTS", 3i32)?;
    if !(1..=100).contains(&max_attempts) {
        return Err(err("JOB_MAX_ATTEMPTS", "must be between 1 and 100"));
    }
    let backoff_base = vars.parse_or("JOB_RETRY_BACKOFF_SECONDS", 10u64)?;
    if !(1..=86_400).contains(&backoff_base) {
        return Err(err(
            "JOB_RETRY_BACKOFF_SECONDS",
            "must be between 1 and 86400",
        ));
    }
    let backoff_cap = vars.parse_or("JOB_RETRY_BACKOFF_MAX_SECONDS", 600u64)?;
    if !(backoff_base..=86_400).contains(&backoff_cap) {
        return Err(err(
            "JOB_RETRY_BACKOFF_MAX_SECONDS",
            "must be at least JOB_RETRY_BACKOFF_SECONDS and at most 86400",
        ));
    }
    let outage_hours = vars.parse_or("JOB_OUTAGE_RETRY_HOURS", 24u64)?;
    if outage_hours > 24 * 30 {
        return Err(err(
            "JOB_OUTAGE_RETRY_HOURS",
            "must be at most 720 (30 days)",
        ));
    }
    Ok(RetryPolicy {
        max_attempts,
        backoff_base: Duration::from_secs(backoff_base),
        backoff_cap: Duration::from_secs(backoff_cap),
        outage_retry_for: Duration::from_secs(outage_hours * 3600),
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::cfg;
    use super::*;

    #[test]
    fn retry_policy_from_the_job_variables() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.jobs.retry, RetryPolicy::default());
        let c = cfg(&[
            ("JOB_MAX_ATTEMPTS", "5"),
            ("JOB_RETRY_BACKOFF_SECONDS", "2"),
            ("JOB_RETRY_BACKOFF_MAX_SECONDS", "30"),
        ])
        .unwrap();
        assert_eq!(c.jobs.retry.max_attempts, 5);
        assert_eq!(c.jobs.retry.backoff(1).as_secs(), 2);
        assert_eq!(c.jobs.retry.backoff(9).as_secs(), 30);
        let e = cfg(&[
            ("JOB_RETRY_BACKOFF_SECONDS", "60"),
            ("JOB_RETRY_BACKOFF_MAX_SECONDS", "30"),
        ])
        .unwrap_err();
        assert_eq!(e.var, "JOB_RETRY_BACKOFF_MAX_SECONDS");
        assert_eq!(
            cfg(&[("JOB_RETRY_BACKOFF_SECONDS", "0")]).unwrap_err().var,
            "JOB_RETRY_BACKOFF_SECONDS"
        );
        let c = cfg(&[("JOB_OUTAGE_RETRY_HOURS", "2")]).unwrap();
        assert_eq!(c.jobs.retry.outage_retry_for, Duration::from_secs(7200));
        // 0: every outage counts as an attempt.
        let c = cfg(&[("JOB_OUTAGE_RETRY_HOURS", "0")]).unwrap();
        assert_eq!(c.jobs.retry.outage_retry_for, Duration::ZERO);
        assert_eq!(
            cfg(&[("JOB_OUTAGE_RETRY_HOURS", "1000")]).unwrap_err().var,
            "JOB_OUTAGE_RETRY_HOURS"
        );
    }

    #[test]
    fn download_renditions() {
        assert_eq!(
            cfg(&[]).unwrap().jobs.downloads,
            DownloadRenditions::default()
        );
        assert_eq!(
            cfg(&[("DOWNLOAD_RENDITIONS", "ALL")])
                .unwrap()
                .jobs
                .downloads,
            DownloadRenditions::All
        );
        assert_eq!(
            cfg(&[("DOWNLOAD_RENDITIONS", "lowest")])
                .unwrap()
                .jobs
                .downloads,
            DownloadRenditions::Pick {
                highest: false,
                lowest: true
            }
        );
        let e = cfg(&[("DOWNLOAD_RENDITIONS", "best")]).unwrap_err();
        assert_eq!(e.var, "DOWNLOAD_RENDITIONS");
        assert!(e.to_string().contains("'best'"), "{e}");
    }

    #[test]
    fn the_lease_is_short_by_default_and_bounded() {
        assert_eq!(cfg(&[]).unwrap().jobs.lease_secs, 15);
        assert_eq!(
            cfg(&[("JOB_LEASE_SECONDS", "40")]).unwrap().jobs.lease_secs,
            40
        );
        for bad in ["2", "3601", "x"] {
            assert_eq!(
                cfg(&[("JOB_LEASE_SECONDS", bad)]).unwrap_err().var,
                "JOB_LEASE_SECONDS"
            );
        }
    }
}
