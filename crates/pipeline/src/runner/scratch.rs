//! Jobs' scratch directories under `TEMP_DIR`, and sweeping the ones killed workers left behind
//! (a 1080p job leaves ~100 MB: the original and its outputs).
//!
//! A job's directory is `job-{job id}-{random}`. While the job runs, its runner touches a
//! marker file in it every [`ScratchSettings::touch_every`] — as often as the worker renews the
//! job's lease. A sweep removes a `job-{id}-…` directory when no job of this process uses it
//! and nothing in it has changed for [`ScratchSettings::stale_after`], the lease plus a grace:
//! by then the job's lease has run out, so the worker that made the directory is dead or has
//! been told to stop, whichever process it was.
//!
//! Age, not the job's lease in the database, decides: processes of other deployments (or test
//! servers) may share `TEMP_DIR` with their own databases, where this process would not find
//! the job and would remove a live directory; and a sweep must not depend on the database being
//! up.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

/// Prefix of every job's scratch directory.
const PREFIX: &str = "job-";
/// The file a running job touches (inside its directory, so never published).
const MARKER: &str = ".alive";
/// Beyond the lease: for a stalled worker to notice it lost its job and for clocks of machines
/// sharing `TEMP_DIR` over a network file system to disagree.
const GRACE: Duration = Duration::from_secs(10 * 60);

/// How a live job's directory shows it is live, and when a dead one may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScratchSettings {
    /// How often a running job touches its directory.
    pub touch_every: Duration,
    /// A directory unchanged for this long, of no job of this process, is removed by a sweep.
    pub stale_after: Duration,
}

impl ScratchSettings {
    /// Touched as often as the worker heartbeats a lease of `lease`; stale after the lease and
    /// `GRACE`.
    pub fn for_lease(lease: Duration) -> ScratchSettings {
        ScratchSettings {
            touch_every: (lease / 4).max(Duration::from_millis(250)),
            stale_after: lease + GRACE,
        }
    }
}

impl Default for ScratchSettings {
    fn default() -> Self {
        ScratchSettings::for_lease(Duration::from_secs(60))
    }
}

/// Where jobs of this process get their scratch directories.
#[derive(Debug, Clone)]
pub struct Scratch {
    root: PathBuf,
    settings: ScratchSettings,
    /// Directories of jobs running in this process (shared by clones).
    live: Arc<Mutex<HashSet<PathBuf>>>,
}

/// A directory a sweep removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Swept {
    pub path: PathBuf,
    /// How long nothing in it had changed.
    pub idle: Duration,
    pub bytes: u64,
}

impl Scratch {
    pub fn new(root: PathBuf, settings: ScratchSettings) -> Scratch {
        Scratch {
            root,
            settings,
            live: Arc::default(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A new directory for `job_id`, kept alive (touched) until the result is dropped, which
    /// removes it. The error names no path (it may become an item's reason); the log does.
    pub async fn create(&self, job_id: impl std::fmt::Display) -> std::io::Result<JobScratch> {
        let dir = tempfile::Builder::new()
            .prefix(&format!("{PREFIX}{job_id}-"))
            .tempdir_in(&self.root)
            .map_err(|e| {
                tracing::error!(dir = %self.root.display(), error = %e, "cannot create a job's scratch directory (TEMP_DIR)");
                std::io::Error::from(e.kind())
            })?;
        let path = dir.path().to_path_buf();
        self.live_set().insert(path.clone());
        touch(&path.join(MARKER))?;
        let toucher = tokio::spawn(keep_touching(path.join(MARKER), self.settings.touch_every));
        Ok(JobScratch {
            dir: Some(dir),
            toucher,
            live: self.live.clone(),
        })
    }

    /// Removes the stale job directories under the root (see the module docs); what it removed.
    pub async fn sweep(&self) -> std::io::Result<Vec<Swept>> {
        self.sweep_or_list(true).await
    }

    /// What [`Self::sweep`] would remove, removing nothing (`mediaserver reconcile --dry-run`).
    pub async fn stale(&self) -> std::io::Result<Vec<Swept>> {
        self.sweep_or_list(false).await
    }

    async fn sweep_or_list(&self, remove: bool) -> std::io::Result<Vec<Swept>> {
        let root = self.root.clone();
        let live = self.live_set().clone();
        let stale_after = self.settings.stale_after;
        tokio::task::spawn_blocking(move || sweep_blocking(&root, &live, stale_after, remove))
            .await
            .map_err(std::io::Error::other)?
    }

    fn live_set(&self) -> std::sync::MutexGuard<'_, HashSet<PathBuf>> {
        // A panic while holding the lock cannot leave the set half-updated.
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running job's scratch directory; dropping it stops touching and removes it.
#[derive(Debug)]
pub struct JobScratch {
    dir: Option<tempfile::TempDir>,
    toucher: tokio::task::JoinHandle<()>,
    live: Arc<Mutex<HashSet<PathBuf>>>,
}

impl JobScratch {
    pub fn path(&self) -> &Path {
        self.dir.as_ref().map_or(Path::new(""), |d| d.path())
    }
}

impl Drop for JobScratch {
    fn drop(&mut self) {
        self.toucher.abort();
        if let Some(dir) = self.dir.take() {
            let path = dir.path().to_path_buf();
            // Removed before it leaves the live set, so a sweep never meets it half-deleted.
            drop(dir);
            self.live
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&path);
        }
    }
}

async fn keep_touching(marker: PathBuf, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let m = marker.clone();
        match tokio::task::spawn_blocking(move || touch(&m)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(marker = %marker.display(), error = %e, "cannot touch the job's scratch directory")
            }
            Err(_) => return,
        }
    }
}

fn touch(marker: &Path) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(marker)?
        .set_modified(SystemTime::now())
}

/// `job-` + a hyphenated UUID + `-` + anything: the directories this module makes (and made
/// before job ids were in the name: media ids are UUIDs too). Nothing else under `TEMP_DIR`,
/// which may be shared with other programs, is touched.
fn is_job_dir_name(name: &str) -> bool {
    let Some(rest) = name.strip_prefix(PREFIX) else {
        return false;
    };
    let (Some(id), Some(tail)) = (rest.get(..36), rest.get(36..)) else {
        return false;
    };
    let uuid_shaped = id.char_indices().all(|(i, c)| match i {
        8 | 13 | 18 | 23 => c == '-',
        _ => c.is_ascii_hexdigit(),
    });
    uuid_shaped && tail.len() > 1 && tail.starts_with('-')
}

fn sweep_blocking(
    root: &Path,
    live: &HashSet<PathBuf>,
    stale_after: Duration,
    remove: bool,
) -> std::io::Result<Vec<Swept>> {
    let entries = match std::fs::read_dir(root) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let now = SystemTime::now();
    let mut swept = Vec::new();
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        // file_type() does not follow symlinks: a link is never a job's directory.
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if !is_dir || !is_job_dir_name(&entry.file_name().to_string_lossy()) || live.contains(&path)
        {
            continue;
        }
        let (newest, bytes) = match newest_change(&path) {
            Ok(found) => found,
            // Removed meanwhile (its job finished), or unreadable: not ours to judge now.
            Err(_) => continue,
        };
        // A change "in the future" (another machine's clock) counts as now.
        let idle = now.duration_since(newest).unwrap_or_default();
        if idle <= stale_after {
            continue;
        }
        if !remove {
            swept.push(Swept { path, idle, bytes });
            continue;
        }
        match std::fs::remove_dir_all(&path) {
            Ok(()) => swept.push(Swept { path, idle, bytes }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(dir = %path.display(), error = %e, "cannot remove a stale scratch directory")
            }
        }
    }
    Ok(swept)
}

/// The latest modification time of `dir` and anything in it, and the bytes of its files.
fn newest_change(dir: &Path) -> std::io::Result<(SystemTime, u64)> {
    let mut newest = std::fs::symlink_metadata(dir)?.modified()?;
    let mut bytes = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let meta = entry.metadata()?;
            newest = newest.max(meta.modified()?);
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                bytes += meta.len();
            }
        }
    }
    Ok((newest, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "01a24531-36ca-7407-9527-7ee8e195d1dc";

    fn backdate(path: &Path, age: Duration) {
        if path.is_dir() {
            for e in std::fs::read_dir(path).unwrap().flatten() {
                backdate(&e.path(), age);
            }
        }
        std::fs::File::open(path)
            .unwrap()
            .set_modified(SystemTime::now() - age)
            .unwrap();
    }

    fn dir_with_input(root: &Path, name: &str) -> PathBuf {
        let d = root.join(name);
        std::fs::create_dir_all(d.join("out/stream")).unwrap();
        std::fs::write(d.join("input"), vec![0u8; 1000]).unwrap();
        std::fs::write(d.join("out/stream/chunk-0-00001.m4s"), b"seg").unwrap();
        d
    }

    #[test]
    fn names() {
        assert!(is_job_dir_name(&format!("job-{ID}-Skjrlx")));
        for other in [
            format!("job-{ID}"),
            format!("job-{ID}-"),
            format!("job-{}-abc", &ID[..35]),
            format!("jobs-{ID}-abc"),
            format!("job-{}-abc", ID.replace('-', "x")),
            "transcode-abc".into(),
            "job-é".into(),
        ] {
            assert!(!is_job_dir_name(&other), "{other}");
        }
    }

    #[test]
    fn settings_follow_the_lease() {
        let s = ScratchSettings::for_lease(Duration::from_secs(60));
        assert_eq!(s.touch_every, Duration::from_secs(15));
        assert_eq!(s.stale_after, Duration::from_secs(60 + 600));
        assert_eq!(
            ScratchSettings::for_lease(Duration::from_millis(100)).touch_every,
            Duration::from_millis(250)
        );
    }

    /// What `mediaserver reconcile --dry-run` reports: the sweep's list, with nothing removed.
    #[tokio::test]
    async fn stale_lists_what_a_sweep_would_remove_and_removes_nothing() {
        let root = tempfile::tempdir().unwrap();
        let scratch = Scratch::new(
            root.path().to_path_buf(),
            ScratchSettings {
                touch_every: Duration::from_secs(3600),
                stale_after: Duration::from_secs(60),
            },
        );
        let dead = dir_with_input(root.path(), &format!("job-{ID}-dead02"));
        backdate(&dead, Duration::from_secs(120));
        let fresh = dir_with_input(root.path(), &format!("job-{ID}-new002"));
        let listed = scratch.stale().await.unwrap();
        assert_eq!(
            listed.iter().map(|s| s.path.clone()).collect::<Vec<_>>(),
            vec![dead.clone()]
        );
        assert!(dead.exists() && fresh.exists());
        let swept = scratch.sweep().await.unwrap();
        assert_eq!(
            swept.iter().map(|s| (&s.path, s.bytes)).collect::<Vec<_>>(),
            listed
                .iter()
                .map(|s| (&s.path, s.bytes))
                .collect::<Vec<_>>()
        );
        assert!(!dead.exists() && fresh.exists());
    }

    #[tokio::test]
    async fn sweeps_only_long_idle_job_directories_of_no_live_job() {
        let root = tempfile::tempdir().unwrap();
        let scratch = Scratch::new(
            root.path().to_path_buf(),
            ScratchSettings {
                touch_every: Duration::from_secs(3600),
                stale_after: Duration::from_secs(60),
            },
        );
        let dead = dir_with_input(root.path(), &format!("job-{ID}-dead01"));
        backdate(&dead, Duration::from_secs(120));
        // Old itself, but something in it changed just now: a worker still writes there.
        let busy = dir_with_input(root.path(), &format!("job-{ID}-busy01"));
        backdate(&busy, Duration::from_secs(120));
        std::fs::write(busy.join("out/stream/chunk-0-00002.m4s"), b"seg").unwrap();
        let foreign = dir_with_input(root.path(), "build-cache");
        backdate(&foreign, Duration::from_secs(120));
        std::fs::write(root.path().join(format!("job-{ID}-file01")), b"x").unwrap();
        // A link named like a job directory: neither it nor what it points at is removed.
        let elsewhere = tempfile::tempdir().unwrap();
        let target = dir_with_input(elsewhere.path(), "target");
        backdate(&target, Duration::from_secs(120));
        let link = root.path().join(format!("job-{ID}-link01"));
        std::os::unix::fs::symlink(&target, &link).unwrap();
        // This process's running job, however old its files look.
        let mine = scratch.create(ID).await.unwrap();
        std::fs::write(mine.path().join("input"), b"x").unwrap();
        backdate(mine.path(), Duration::from_secs(120));

        let swept = scratch.sweep().await.unwrap();
        assert_eq!(swept.len(), 1, "{swept:?}");
        assert_eq!(swept[0].path, dead);
        assert_eq!(swept[0].bytes, 1003);
        assert!(swept[0].idle >= Duration::from_secs(119));
        assert!(!dead.exists());
        assert!(busy.is_dir() && foreign.is_dir() && mine.path().join("input").is_file());
        assert!(link.is_symlink() && target.join("input").is_file());

        let mine_path = mine.path().to_path_buf();
        drop(mine);
        assert!(
            !mine_path.exists(),
            "a finished job's directory goes at once"
        );
        assert!(scratch.sweep().await.unwrap().is_empty());
        // A missing root (nothing made yet) is nothing to sweep.
        let none = Scratch::new(root.path().join("missing"), ScratchSettings::default());
        assert!(none.sweep().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_failed_create_names_no_path() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("not-a-directory");
        std::fs::write(&file, b"x").unwrap();
        let e = Scratch::new(file, ScratchSettings::default())
            .create(ID)
            .await
            .unwrap_err();
        assert!(!e.to_string().contains('/'), "{e}");
    }

    #[tokio::test]
    async fn a_running_job_keeps_its_directory_fresh() {
        let root = tempfile::tempdir().unwrap();
        let scratch = Scratch::new(
            root.path().to_path_buf(),
            ScratchSettings {
                touch_every: Duration::from_millis(50),
                stale_after: Duration::from_secs(60),
            },
        );
        let job = scratch.create(ID).await.unwrap();
        backdate(job.path(), Duration::from_secs(120));
        tokio::time::sleep(Duration::from_millis(300)).await;
        // Another process's sweeper sees no live set of ours: only the touches save it.
        let other = Scratch::new(root.path().to_path_buf(), scratch.settings);
        assert!(other.sweep().await.unwrap().is_empty());
        assert!(job.path().is_dir());
    }
}
