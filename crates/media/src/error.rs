use std::time::Duration;

/// Everything that can go wrong turning an input file into outputs.
///
/// Only [`MediaError::Unusable`] is about the input itself; the others may succeed on a retry.
/// Messages are what a failed item records, so they name no local path and quote no tool
/// output; a subprocess's stderr is the error's `source()`, for logs.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The input is not usable media (not decodable, truncated, no streams, too many pixels…).
    /// Retrying cannot help. The text says why in words for whoever uploaded the file.
    #[error("unusable media: {0}")]
    Unusable(String),
    #[error("{what} timed out after {after:?}")]
    Timeout { what: String, after: Duration },
    /// A subprocess exited unsuccessfully for a reason not attributed to the input.
    /// `status` is the exit code, `None` when it was ended by a signal.
    #[error("{program} failed ({})", describe_status(*.status))]
    Subprocess {
        program: String,
        status: Option<i32>,
        /// The last ~2 KiB of its stderr (it names local paths: logs only).
        #[source]
        stderr_tail: StderrTail,
    },
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("cancelled")]
    Cancelled,
}

impl MediaError {
    /// True when retrying cannot help: the input itself is the problem.
    pub fn is_permanent(&self) -> bool {
        matches!(self, MediaError::Unusable(_))
    }

    pub(crate) fn unusable(msg: impl Into<String>) -> Self {
        MediaError::Unusable(msg.into())
    }

    /// An output that ffmpeg claimed to have written is missing or malformed: an environment or
    /// encoder problem (disk, ffmpeg bug), so it stays retryable.
    pub(crate) fn bad_output(msg: impl Into<String>) -> Self {
        MediaError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            msg.into(),
        ))
    }

    /// [`MediaError::bad_output`] because of `cause`: reads `i/o: {context}: {cause}`.
    pub(crate) fn bad_output_from(context: impl Into<String>, cause: impl Into<BoxError>) -> Self {
        MediaError::io_context(std::io::ErrorKind::InvalidData, context, cause)
    }

    /// An i/o failure of `kind` reading `i/o: {context}: {cause}`, with `cause` kept as the
    /// source (the io::Error shows and chains to its payload).
    pub(crate) fn io_context(
        kind: std::io::ErrorKind,
        context: impl Into<String>,
        cause: impl Into<BoxError>,
    ) -> Self {
        MediaError::Io(std::io::Error::new(
            kind,
            Context {
                context: context.into(),
                source: cause.into(),
            },
        ))
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What a subprocess wrote to stderr last, as the cause of its failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StderrTail(pub String);

impl From<String> for StderrTail {
    fn from(s: String) -> Self {
        StderrTail(s)
    }
}

impl From<&str> for StderrTail {
    fn from(s: &str) -> Self {
        StderrTail(s.to_string())
    }
}

/// `{context}: {cause}`, as the payload of an io::Error.
#[derive(Debug, thiserror::Error)]
#[error("{context}: {source}")]
struct Context {
    context: String,
    #[source]
    source: BoxError,
}

fn describe_status(status: Option<i32>) -> String {
    match status {
        Some(code) => format!("exit code {code}"),
        None => "killed by a signal".to_string(),
    }
}

pub type Result<T, E = MediaError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unusable_is_permanent() {
        assert!(MediaError::Unusable("x".into()).is_permanent());
        assert!(!MediaError::Cancelled.is_permanent());
        assert!(!MediaError::Timeout {
            what: "ffmpeg".into(),
            after: Duration::from_secs(1)
        }
        .is_permanent());
        let e = MediaError::Subprocess {
            program: "ffmpeg".into(),
            status: Some(1),
            stderr_tail: "boom".into(),
        };
        assert!(!e.is_permanent());
        // The stderr is the cause, not part of the message (it names scratch paths).
        assert_eq!(e.to_string(), "ffmpeg failed (exit code 1)");
        let cause = std::error::Error::source(&e).map(|c| c.to_string());
        assert_eq!(cause.as_deref(), Some("boom"));
    }

    #[test]
    fn context_keeps_the_cause() {
        use std::error::Error;
        let cause = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let e = MediaError::io_context(cause.kind(), "cannot start ffmpeg", cause);
        assert_eq!(e.to_string(), "i/o: cannot start ffmpeg: no such file");
        let MediaError::Io(io) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
        // MediaError → io::Error (shows its payload) → the cause.
        let cause = e.source().and_then(Error::source);
        assert_eq!(
            cause.map(|c| c.to_string()).as_deref(),
            Some("no such file")
        );
    }
}
