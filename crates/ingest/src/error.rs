//! What can go wrong while recording an original. Each variant is one thing a caller can tell
//! apart; the HTTP layer maps them to status codes in one place (`mediaserver-api`'s `error.rs`).

use mediaserver_db::DbError;
use mediaserver_storage::StorageError;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The bytes stopped coming (the client went away, the body was malformed).
    #[error("the upload was interrupted before it completed")]
    Interrupted(#[source] BoxError),
    #[error(
        "the file is larger than this server's upload limit of {max} bytes (MAX_UPLOAD_BYTES)"
    )]
    TooLarge { max: u64 },
    /// The upload would take its owner past their storage quota (`USER_QUOTA_BYTES`). `size`:
    /// the upload's size when it was known up front (otherwise it passed the quota while
    /// streaming).
    #[error(
        "{} your storage quota of {quota} bytes (USER_QUOTA_BYTES): {used} bytes are used, \
         {} left; nothing was kept. Delete items to make room, or ask an administrator",
        match size {
            Some(n) => format!("this upload of {n} bytes would exceed"),
            None => "this upload passed".to_string(),
        },
        quota.saturating_sub(*used)
    )]
    QuotaExceeded {
        quota: u64,
        used: u64,
        size: Option<u64>,
    },
    #[error("the upload is empty (0 bytes)")]
    Empty,
    /// Not an image, video or audio file; `discarded`: what was stored of it is gone too.
    #[error(
        "the file is not an image, video or audio file this server can process \
         (its type is decided from its contents, not its name){}",
        if *discarded { "; the upload was discarded" } else { "" }
    )]
    NotMedia { discarded: bool },
    /// The file name cannot be part of an object key.
    #[error("unusable file name")]
    UnusableFilename(#[source] StorageError),
    /// Writing a new original failed; nothing of it was kept.
    #[error("could not store the upload; nothing was kept")]
    NotStored(#[source] StorageError),
    /// A finished upload's object is not in the bucket.
    #[error("nothing has been uploaded to {key} yet; PUT the file to the upload URL first")]
    NotUploaded { key: String },
    #[error(
        "the uploaded object has {stored} bytes but the upload declared {declared}; upload the whole file again"
    )]
    SizeMismatch { stored: u64, declared: i64 },
    /// A fresh original's record already existed (something else wrote the same object).
    #[error("this upload was already recorded")]
    AlreadyRecorded,
    /// Another request holds the upload's write lease.
    #[error("another request is writing to this upload; retry shortly")]
    Locked,
    #[error(
        "EVENTS_OWNER_EMAIL names {email}, but no such user exists; create it with `mediaserver user create`"
    )]
    UnknownOwner { email: String },
    #[error(
        "no owner for items created from bucket events: register an admin or set EVENTS_OWNER_EMAIL"
    )]
    NoOwner,
    /// An announced object's key is not a valid object key.
    #[error("unusable object key")]
    UnusableKey(#[source] StorageError),
    #[error("object {key} does not exist in bucket {bucket}")]
    MissingObject { key: String, bucket: String },
    /// An upload row whose key this server cannot use.
    #[error("stored upload key is invalid")]
    InvalidUploadKey(#[source] StorageError),
    /// An upload row whose provider state this server cannot read (or a state it cannot write).
    #[error("upload state is unreadable")]
    UploadState(#[source] serde_json::Error),
    #[error("upload lock table poisoned")]
    LocksPoisoned,
    /// A clip's source has no original in storage to copy.
    #[error("the source item's original is missing from storage; it cannot be clipped")]
    SourceMissing,
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

pub type IngestResult<T> = Result<T, IngestError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_media_says_whether_anything_was_kept() {
        let kept = IngestError::NotMedia { discarded: false }.to_string();
        let gone = IngestError::NotMedia { discarded: true }.to_string();
        assert!(kept.ends_with("not its name)"), "{kept}");
        assert_eq!(gone, format!("{kept}; the upload was discarded"));
    }
}
