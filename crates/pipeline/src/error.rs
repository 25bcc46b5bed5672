use mediaserver_media::MediaError;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The input can never be processed (not media, truncated, too large…): no retry.
    #[error("{0}")]
    Unusable(String),
    /// Something that may work next time (storage, database, a crashed or timed-out encoder).
    #[error("{0}")]
    Transient(String),
    /// Processing was stopped (shutdown or a lost lease).
    #[error("cancelled")]
    Cancelled,
}

impl PipelineError {
    /// How the retry policy (`mediaserver_core::retry`) treats this failure.
    pub fn failure(&self) -> mediaserver_core::Failure {
        match self {
            PipelineError::Unusable(_) => mediaserver_core::Failure::Permanent,
            _ => mediaserver_core::Failure::Transient,
        }
    }
}

impl From<MediaError> for PipelineError {
    fn from(e: MediaError) -> Self {
        match e {
            MediaError::Cancelled => PipelineError::Cancelled,
            e if e.is_permanent() => PipelineError::Unusable(e.to_string()),
            e => PipelineError::Transient(e.to_string()),
        }
    }
}

impl From<mediaserver_storage::StorageError> for PipelineError {
    fn from(e: mediaserver_storage::StorageError) -> Self {
        PipelineError::Transient(format!("storage: {e}"))
    }
}

impl From<mediaserver_db::DbError> for PipelineError {
    fn from(e: mediaserver_db::DbError) -> Self {
        // The causes too: `DbError`'s own text names only the kind.
        let mut text = format!("database: {e}");
        let mut cause = std::error::Error::source(&e);
        while let Some(c) = cause {
            text = format!("{text}: {c}");
            cause = c.source();
        }
        PipelineError::Transient(text)
    }
}

impl From<std::io::Error> for PipelineError {
    fn from(e: std::io::Error) -> Self {
        PipelineError::Transient(format!("local file: {e}"))
    }
}
