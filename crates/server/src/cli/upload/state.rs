//! The resume file: which tus upload URL belongs to which local file, so running the same
//! command again continues an interrupted upload from the server's offset.
//!
//! A file is identified by server URL + canonical path + size + modification time: a file
//! edited since (or the same path on another server) starts a new upload. Every change re-reads
//! the file and replaces it atomically (write + rename), so concurrent runs lose at worst an
//! entry (that upload then starts over), never the whole file.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Entries older than this are dropped (servers expire unfinished uploads long before).
const KEEP_DAYS: i64 = 30;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileKey {
    pub server: String,
    pub path: String,
    pub size: u64,
    /// Modification time as `seconds.nanoseconds` since the epoch.
    pub mtime: String,
}

impl FileKey {
    pub fn for_file(server: &str, canonical: &Path, meta: &std::fs::Metadata) -> FileKey {
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| format!("{}.{:09}", d.as_secs(), d.subsec_nanos()))
            .unwrap_or_default();
        FileKey {
            server: server.trim_end_matches('/').to_string(),
            path: canonical.display().to_string(),
            size: meta.len(),
            mtime,
        }
    }
}

#[derive(Serialize, Deserialize, Default)]
struct StateFile {
    #[serde(default)]
    uploads: Vec<Entry>,
}

#[derive(Serialize, Deserialize, Clone)]
struct Entry {
    server: String,
    path: String,
    size: u64,
    mtime: String,
    upload_url: String,
    created_at: DateTime<Utc>,
}

impl Entry {
    fn matches(&self, k: &FileKey) -> bool {
        self.server == k.server
            && self.path == k.path
            && self.size == k.size
            && self.mtime == k.mtime
    }
}

/// The resume file, or none (resuming disabled) when no location could be found.
pub struct Store {
    path: Option<PathBuf>,
}

impl Store {
    pub fn new(path: Option<PathBuf>) -> Store {
        Store { path }
    }

    /// `$XDG_STATE_HOME/mediaserver/uploads.json`, else `~/.local/state/mediaserver/uploads.json`.
    pub fn default_path() -> Option<PathBuf> {
        let non_empty = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        non_empty("XDG_STATE_HOME")
            .map(PathBuf::from)
            .or_else(|| non_empty("HOME").map(|h| PathBuf::from(h).join(".local/state")))
            .map(|d| d.join("mediaserver/uploads.json"))
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn load(&self) -> Result<StateFile, String> {
        let Some(path) = &self.path else {
            return Ok(StateFile::default());
        };
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                format!(
                    "{}: not a valid upload state file ({e}); remove it to start afresh",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(StateFile::default()),
            Err(e) => Err(format!("reading {}: {e}", path.display())),
        }
    }

    fn save(&self, state: &StateFile) -> Result<(), String> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let write = || -> std::io::Result<()> {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let tmp = path.with_extension(format!("json.tmp{}", std::process::id()));
            std::fs::write(&tmp, serde_json::to_vec_pretty(state)?)?;
            std::fs::rename(&tmp, path)
        };
        write().map_err(|e| format!("writing {}: {e}", path.display()))
    }

    /// The upload URL recorded for `key`, if any.
    pub fn find(&self, key: &FileKey) -> Result<Option<String>, String> {
        Ok(self
            .load()?
            .uploads
            .into_iter()
            .find(|e| e.matches(key))
            .map(|e| e.upload_url))
    }

    pub fn put(&self, key: &FileKey, upload_url: &str) -> Result<(), String> {
        let mut state = self.load().unwrap_or_default();
        let now = Utc::now();
        state
            .uploads
            .retain(|e| !e.matches(key) && now - e.created_at < chrono::Duration::days(KEEP_DAYS));
        state.uploads.push(Entry {
            server: key.server.clone(),
            path: key.path.clone(),
            size: key.size,
            mtime: key.mtime.clone(),
            upload_url: upload_url.to_string(),
            created_at: now,
        });
        self.save(&state)
    }

    pub fn remove(&self, key: &FileKey) -> Result<(), String> {
        let mut state = self.load()?;
        let before = state.uploads.len();
        state.uploads.retain(|e| !e.matches(key));
        if state.uploads.len() == before {
            return Ok(());
        }
        self.save(&state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_find_remove_by_the_whole_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(Some(dir.path().join("sub/uploads.json")));
        let key = FileKey {
            server: "http://h:3000".into(),
            path: "/x/a.mp4".into(),
            size: 10,
            mtime: "1.000000001".into(),
        };
        assert_eq!(store.find(&key).unwrap(), None);
        store.put(&key, "http://h:3000/v1/uploads/1").unwrap();
        store.put(&key, "http://h:3000/v1/uploads/2").unwrap();
        assert_eq!(
            store.find(&key).unwrap().as_deref(),
            Some("http://h:3000/v1/uploads/2")
        );
        for other in [
            FileKey {
                size: 11,
                ..key.clone()
            },
            FileKey {
                mtime: "1.000000002".into(),
                ..key.clone()
            },
            FileKey {
                server: "http://other".into(),
                ..key.clone()
            },
        ] {
            assert_eq!(store.find(&other).unwrap(), None);
        }
        store.remove(&key).unwrap();
        assert_eq!(store.find(&key).unwrap(), None);
    }

    #[test]
    fn a_damaged_file_is_reported_and_replaced_on_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("uploads.json");
        std::fs::write(&path, "{not json").unwrap();
        let store = Store::new(Some(path.clone()));
        let key = FileKey {
            server: "s".into(),
            path: "p".into(),
            size: 1,
            mtime: "0".into(),
        };
        assert!(store.find(&key).unwrap_err().contains("uploads.json"));
        store.put(&key, "u").unwrap();
        assert_eq!(store.find(&key).unwrap().as_deref(), Some("u"));
    }
}
