//! The pipeline's error. Its message is the reason recorded on a failed item (so it names no
//! internal path); the underlying error stays reachable through `source()`, for logs
//! (`mediaserver_core::ErrorChain`) and for callers that need to know what failed.

use mediaserver_core::Failure;
use mediaserver_db::DbError;
use mediaserver_media::MediaError;
use mediaserver_storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The input can never be processed (not media, truncated, too large, deleted…): no retry.
    /// Permanent media errors end up here too.
    #[error("{0}")]
    Unusable(String),
    /// The original's key is not a valid object key: no retry either.
    #[error("unusable original key: {0}")]
    OriginalKey(#[source] StorageError),
    /// A media step that may work next time (a crashed or timed-out encoder, a bad output).
    #[error(transparent)]
    Media(MediaError),
    /// The message leaves out the object key a missing or invalid object names (it is an
    /// internal name; the log's error chain keeps it).
    #[error("storage: {}", storage_reason(.0))]
    Storage(#[source] StorageError),
    #[error("database: {0}")]
    Database(#[source] DbError),
    /// The job's scratch directory.
    #[error("local file: {0}")]
    LocalFile(#[source] std::io::Error),
    /// A name made for an object (an output, the summary) is not a valid key.
    #[error("{what}: {source}")]
    Key {
        what: &'static str,
        #[source]
        source: StorageError,
    },
    /// A call of a runner's remote API (Container Instances…) failed; `what` says which.
    /// `outage`: the service was unreachable or answered that it cannot serve now — nothing
    /// to do with the media, so the attempt is not counted.
    #[error("{what}: {source}")]
    Remote {
        what: String,
        outage: bool,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The summary a transcode container wrote is not one.
    #[error("{key} is not a transcode summary: {source}")]
    Summary {
        key: String,
        #[source]
        source: serde_json::Error,
    },
    /// Something that may work next time and has no underlying error of ours (a container that
    /// exited non-zero, an instance that ran too long).
    #[error("{0}")]
    Transient(String),
    /// Processing was stopped (shutdown or a lost lease).
    #[error("cancelled")]
    Cancelled,
}

impl PipelineError {
    /// How the retry policy (`mediaserver_core::retry`) treats this failure.
    pub fn failure(&self) -> Failure {
        match self {
            // `From<MediaError>` turns every permanent media error into `Unusable`.
            PipelineError::Unusable(_) | PipelineError::OriginalKey(_) => Failure::Permanent,
            // Nothing to do with the media: the attempt is not held against it.
            PipelineError::Storage(StorageError::Unavailable { .. })
            | PipelineError::Database(DbError::Unavailable { .. })
            | PipelineError::Remote { outage: true, .. } => Failure::Outage,
            _ => Failure::Transient,
        }
    }
}

/// What a failed item's reason says of a storage error.
fn storage_reason(e: &StorageError) -> String {
    match e {
        StorageError::NotFound(_) => {
            "a stored file of the item is missing (its original or an output)".to_string()
        }
        StorageError::InvalidKey(_) => "an object name was refused by the storage".to_string(),
        e => e.to_string(),
    }
}

impl From<MediaError> for PipelineError {
    fn from(e: MediaError) -> Self {
        match e {
            MediaError::Cancelled => PipelineError::Cancelled,
            // Only a message: the input, not an error of ours, is the cause.
            MediaError::Unusable(_) => PipelineError::Unusable(e.to_string()),
            e => PipelineError::Media(e),
        }
    }
}

impl From<StorageError> for PipelineError {
    fn from(e: StorageError) -> Self {
        PipelineError::Storage(e)
    }
}

impl From<DbError> for PipelineError {
    fn from(e: DbError) -> Self {
        PipelineError::Database(e)
    }
}

impl From<std::io::Error> for PipelineError {
    fn from(e: std::io::Error) -> Self {
        PipelineError::LocalFile(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mediaserver_core::ErrorChain;

    #[test]
    fn messages_are_the_recorded_reasons() {
        let e = PipelineError::from(StorageError::unavailable("down"));
        assert_eq!(e.to_string(), "storage: storage unavailable: down");
        let e = PipelineError::from(DbError::NotFound);
        assert_eq!(e.to_string(), "database: not found");
        let e = PipelineError::from(StorageError::NotFound(
            "media/0193/chunks/split.json".into(),
        ));
        assert_eq!(
            e.to_string(),
            "storage: a stored file of the item is missing (its original or an output)"
        );
        assert!(ErrorChain(&e)
            .to_string()
            .ends_with("object not found: media/0193/chunks/split.json"));
        let e = PipelineError::from(std::io::Error::other("disk full"));
        assert_eq!(e.to_string(), "local file: disk full");
        let e = PipelineError::from(MediaError::Unusable("truncated".into()));
        assert_eq!(e.to_string(), "unusable media: truncated");
        assert!(matches!(e, PipelineError::Unusable(_)));
        let e = PipelineError::from(MediaError::Subprocess {
            program: "ffmpeg".into(),
            status: Some(1),
            stderr_tail: "boom".into(),
        });
        // ffmpeg's stderr (which names scratch paths) is for the log, not the item.
        assert_eq!(e.to_string(), "ffmpeg failed (exit code 1)");
        assert_eq!(
            ErrorChain(&e).to_string(),
            "ffmpeg failed (exit code 1): boom"
        );
    }

    #[test]
    fn only_unusable_input_is_permanent_and_outages_are_not_the_medias_fault() {
        let permanent = [
            PipelineError::Unusable("x".into()),
            PipelineError::OriginalKey(StorageError::InvalidKey("x".into())),
            PipelineError::from(MediaError::Unusable("x".into())),
        ];
        for e in permanent {
            assert_eq!(e.failure(), Failure::Permanent, "{e}");
        }
        let outages = [
            PipelineError::from(StorageError::unavailable("connection refused")),
            PipelineError::from(DbError::Unavailable {
                reason: "i/o error".into(),
                source: None,
            }),
        ];
        for e in outages {
            assert_eq!(e.failure(), Failure::Outage, "{e}");
        }
        let transient = [
            PipelineError::from(StorageError::NotFound("k".into())),
            PipelineError::from(StorageError::other("refused")),
            PipelineError::from(DbError::NotFound),
            PipelineError::from(MediaError::Cancelled),
            PipelineError::Transient("x".into()),
        ];
        for e in transient {
            assert_eq!(e.failure(), Failure::Transient, "{e}");
        }
    }

    #[test]
    fn the_chain_shows_each_cause_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("connection refused")]
        struct Refused;
        let e = PipelineError::Storage(StorageError::Source(std::io::Error::other(Refused)));
        // The io::Error shows (and is) its inner error; nothing is repeated.
        assert_eq!(
            ErrorChain(&e).to_string(),
            "storage: upload source failed: connection refused"
        );
        #[derive(Debug, thiserror::Error)]
        #[error("request failed")]
        struct Outer(#[source] Refused);
        let e = PipelineError::Remote {
            what: "Container Instances: creating".into(),
            outage: true,
            source: Box::new(Outer(Refused)),
        };
        assert_eq!(
            ErrorChain(&e).to_string(),
            "Container Instances: creating: request failed: connection refused"
        );
    }
}
