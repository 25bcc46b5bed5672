//! Object keys and bucket names, checked once.

use crate::StorageError;
use std::fmt;

/// An object key that has been checked: relative, no `.`/`..` segments, no empty segments, no
/// control characters, at most 1024 bytes. Spaces and any Unicode are fine.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectKey(String);

impl ObjectKey {
    pub fn new(key: impl Into<String>) -> Result<Self, StorageError> {
        let key = key.into();
        let bad = |why: &str| Err(StorageError::InvalidKey(format!("{why}: {key:?}")));
        if key.is_empty() {
            return bad("empty key");
        }
        if key.len() > 1024 {
            return bad("longer than 1024 bytes");
        }
        if key.starts_with('/') || key.starts_with('\\') {
            return bad("absolute key");
        }
        if key.chars().any(|c| c.is_control()) {
            return bad("control character in key");
        }
        if key.contains('\\') {
            return bad("backslash in key");
        }
        if key
            .split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == "..")
        {
            return bad("empty, '.' or '..' path segment");
        }
        Ok(ObjectKey(key))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A bucket name becomes a directory (Local) or a host label / path segment (S3, OCI): one
/// plain segment only.
pub(crate) fn validate_bucket(bucket: &str) -> Result<(), StorageError> {
    ObjectKey::new(bucket)?;
    if bucket.contains('/') {
        return Err(StorageError::InvalidKey(format!(
            "bucket name contains '/': {bucket:?}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_keys() {
        for k in [
            "a",
            "originals/x/clip.mp4",
            "with space/é ü 日本.mov",
            "a/b.c/d-e_f",
        ] {
            assert!(ObjectKey::new(k).is_ok(), "{k}");
        }
    }

    #[test]
    fn rejects_dangerous_keys() {
        for k in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a/./b",
            "a//b",
            "a/",
            "a\u{0}b",
            "a\nb",
            "a\\b",
            "\\x",
        ] {
            assert!(
                matches!(ObjectKey::new(k), Err(StorageError::InvalidKey(_))),
                "{k:?}"
            );
        }
        assert!(ObjectKey::new("x".repeat(1025)).is_err());
    }
}
