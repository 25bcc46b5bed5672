//! The crate's one error type.

use std::ops::Range;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("object not found: {0}")]
    NotFound(String),
    #[error("invalid object key: {0}")]
    InvalidKey(String),
    #[error("range {start}-{end} is outside the object (size {size})")]
    RangeNotSatisfiable { start: u64, end: u64, size: u64 },
    /// The data source handed to a write failed (client disconnect, size limit...). Carries the
    /// source's own error so callers can recognise what they raised.
    #[error("upload source failed: {0}")]
    Source(#[source] std::io::Error),
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("not supported by this storage provider: {0}")]
    NotSupported(&'static str),
    #[error("storage error: {0}")]
    Other(String),
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

impl StorageError {
    /// `range` does not start inside an object of `size` bytes.
    pub(crate) fn not_satisfiable(range: &Range<u64>, size: u64) -> Self {
        StorageError::RangeNotSatisfiable {
            start: range.start,
            end: range.end,
            size,
        }
    }
}
