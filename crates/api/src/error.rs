//! The one place where errors become HTTP responses: `{"error":{"code":"...","message":"..."}}`.

use crate::http::events::ConfirmError;
use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use mediaserver_core::ErrorChain;
use mediaserver_db::DbError;
use mediaserver_ingest::{BoxError, IngestError};
use mediaserver_storage::StorageError;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    /// The API key lacks the scope the request needs.
    #[error("this API key lacks the `{0}` scope this request needs; create a key with it")]
    MissingScope(mediaserver_core::Scope),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    PreconditionFailed(String),
    /// tus checksum extension: the body does not match `Upload-Checksum` (status 460).
    #[error("{0}")]
    ChecksumMismatch(String),
    #[error("{0}")]
    Locked(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// What the request asks for exists but is not offered (oEmbed's XML format): 501.
    #[error("{0}")]
    NotImplemented(String),
    #[error("range not satisfiable: the object has {size} bytes")]
    RangeNotSatisfiable { size: u64 },
    /// The server's disk is full (507): nothing of the request was kept. The cause is logged.
    #[error("{message}")]
    InsufficientStorage {
        message: &'static str,
        #[source]
        cause: BoxError,
    },
    #[error("too many failed attempts; try again in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    /// A per-address budget (viewer beacons) is used up for now.
    #[error("too many requests from this address; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// A dependency (database, storage, a remote endpoint) cannot serve now. `message` is the
    /// client's; it and the cause are logged.
    #[error("{message}")]
    Unavailable {
        message: String,
        #[source]
        cause: Option<BoxError>,
    },
    /// This server is at its limit for the work asked for (pictures on demand): 503 with
    /// `Retry-After`.
    #[error("{message}")]
    Busy {
        message: String,
        retry_after_secs: u64,
    },
    /// An OCI Notifications subscription could not be confirmed. One answer whatever the
    /// reason (a refused URL, DNS, a closed port, a redirect, an error status), so the endpoint
    /// tells nothing about hosts or ports; the reason is logged.
    #[error("the subscription confirmation failed")]
    ConfirmationFailed(#[source] BoxError),
    /// The cause is logged, never sent to the client.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

/// What went wrong inside, with its cause (see [`ApiError::internal`]).
#[derive(Debug, thiserror::Error)]
#[error("{what}")]
struct Failed {
    what: String,
    #[source]
    cause: BoxError,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ErrorBody {
    pub(crate) error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ErrorDetail {
    /// Stable machine-readable code, e.g. `not_found`, `payload_too_large`.
    pub(crate) code: &'static str,
    /// Human-readable explanation of what went wrong and what to do.
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn not_found(what: &str) -> Self {
        ApiError::NotFound(format!("{what} not found"))
    }

    /// A 503 saying `message`, because of `cause`.
    pub(crate) fn unavailable(message: impl Into<String>, cause: impl Into<BoxError>) -> Self {
        ApiError::Unavailable {
            message: message.into(),
            cause: Some(cause.into()),
        }
    }

    /// A 500: `what` failed because of `cause` (both logged, neither shown to the client).
    pub(crate) fn internal(what: impl Into<String>, cause: impl Into<BoxError>) -> Self {
        ApiError::Internal(Box::new(Failed {
            what: what.into(),
            cause: cause.into(),
        }))
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::MissingScope(_) => (StatusCode::FORBIDDEN, "insufficient_scope"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::PreconditionFailed(_) => {
                (StatusCode::PRECONDITION_FAILED, "precondition_failed")
            }
            ApiError::ChecksumMismatch(_) => (
                // tus's "460 Checksum Mismatch" (always a valid code).
                StatusCode::from_u16(460).unwrap_or(StatusCode::BAD_REQUEST),
                "checksum_mismatch",
            ),
            ApiError::Locked(_) => (StatusCode::LOCKED, "locked"),
            ApiError::Unprocessable(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unprocessable"),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::NotImplemented(_) => (StatusCode::NOT_IMPLEMENTED, "not_implemented"),
            ApiError::RangeNotSatisfiable { .. } => {
                (StatusCode::RANGE_NOT_SATISFIABLE, "range_not_satisfiable")
            }
            ApiError::TooManyRequests { .. } | ApiError::RateLimited { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_requests")
            }
            ApiError::Unavailable { .. } => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Busy { .. } => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            ApiError::InsufficientStorage { .. } => {
                (StatusCode::INSUFFICIENT_STORAGE, "insufficient_storage")
            }
            ApiError::ConfirmationFailed(_) => (StatusCode::BAD_GATEWAY, "confirmation_failed"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        match &self {
            ApiError::Internal(cause) => {
                tracing::error!(detail = %ErrorChain(cause.as_ref()), "internal error")
            }
            ApiError::Unavailable {
                message,
                cause: Some(cause),
            } => {
                tracing::warn!(detail = %message, cause = %ErrorChain(cause.as_ref()), "dependency unavailable")
            }
            ApiError::Unavailable {
                message,
                cause: None,
            } => tracing::warn!(detail = %message, "dependency unavailable"),
            ApiError::InsufficientStorage { cause, .. } => {
                tracing::error!(cause = %ErrorChain(cause.as_ref()), "disk full")
            }
            ApiError::ConfirmationFailed(cause) => {
                tracing::warn!(cause = %ErrorChain(cause.as_ref()), "subscription confirmation failed")
            }
            _ => {}
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code,
                message: self.to_string(),
            },
        };
        let mut resp = (status, axum::Json(body)).into_response();
        match self {
            ApiError::RangeNotSatisfiable { size } => {
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    resp.headers_mut().insert(header::CONTENT_RANGE, v);
                }
            }
            ApiError::TooManyRequests { retry_after_secs }
            | ApiError::RateLimited { retry_after_secs }
            | ApiError::Busy {
                retry_after_secs, ..
            } => {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            }
            ApiError::Unauthorized(_) => {
                resp.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        resp
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Conflict { subject, .. } => {
                ApiError::Conflict(format!("{subject} already exists"))
            }
            DbError::NotFound => ApiError::NotFound("not found".into()),
            // Its reason and causes name no SQL and no credentials (see `DbError`): the client
            // gets them all.
            e @ DbError::Unavailable { .. } => ApiError::unavailable(ErrorChain(&e).to_string(), e),
            e @ DbError::Full(_) => ApiError::InsufficientStorage {
                message: DISK_FULL,
                cause: e.into(),
            },
            other => ApiError::Internal(other.into()),
        }
    }
}

/// What a client is told when the server's disk is full (507).
const DISK_FULL: &str =
    "the server is out of disk space: nothing of this request was kept. Try again once space \
     has been freed";

/// What a client is told when storage cannot serve (see `From<StorageError>`).
const STORAGE_UNAVAILABLE: &str = "storage unavailable; try again later";
/// ... and when that stopped an upload.
const STORAGE_UNAVAILABLE_NOTHING_KEPT: &str = "storage unavailable, nothing was kept; retry later";

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound(_) => ApiError::NotFound("object not found".into()),
            StorageError::RangeNotSatisfiable { size, .. } => {
                ApiError::RangeNotSatisfiable { size }
            }
            // A fixed text: whatever a provider put in its message (endpoints, buckets, upload
            // ids) goes to the log with the cause, not to the client.
            e @ StorageError::Unavailable { .. } => ApiError::unavailable(STORAGE_UNAVAILABLE, e),
            e @ StorageError::Full { .. } => ApiError::InsufficientStorage {
                message: DISK_FULL,
                cause: e.into(),
            },
            StorageError::InvalidKey(_) => ApiError::NotFound("object not found".into()),
            other => ApiError::Internal(other.into()),
        }
    }
}

impl From<IngestError> for ApiError {
    fn from(e: IngestError) -> Self {
        let message = e.to_string();
        match e {
            IngestError::Interrupted(cause) => ApiError::BadRequest(format!("{message}: {cause}")),
            IngestError::UnusableFilename(cause) => {
                ApiError::BadRequest(format!("{message}: {cause}"))
            }
            IngestError::TooLarge { .. } | IngestError::QuotaExceeded { .. } => {
                ApiError::PayloadTooLarge(message)
            }
            IngestError::Empty => ApiError::BadRequest(message),
            IngestError::NotMedia { .. } => ApiError::UnsupportedMediaType(message),
            IngestError::NotStored(cause) => match cause {
                StorageError::Unavailable { .. } => {
                    ApiError::unavailable(STORAGE_UNAVAILABLE_NOTHING_KEPT, cause)
                }
                StorageError::Full { .. } => ApiError::InsufficientStorage {
                    message: DISK_FULL,
                    cause: cause.into(),
                },
                other => other.into(),
            },
            IngestError::NotUploaded { .. }
            | IngestError::SizeMismatch { .. }
            | IngestError::AlreadyRecorded
            | IngestError::SourceMissing => ApiError::Conflict(message),
            IngestError::Locked => ApiError::Locked(message),
            IngestError::UnknownOwner { .. }
            | IngestError::NoOwner
            | IngestError::MissingObject { .. } => ApiError::Unprocessable(message),
            IngestError::UnusableKey(cause) => {
                ApiError::Unprocessable(format!("{message}: {cause}"))
            }
            IngestError::Db(e) => e.into(),
            IngestError::Storage(e) => e.into(),
            e @ (IngestError::InvalidUploadKey(_)
            | IngestError::UploadState(_)
            | IngestError::LocksPoisoned) => ApiError::Internal(e.into()),
        }
    }
}

impl From<ConfirmError> for ApiError {
    fn from(e: ConfirmError) -> Self {
        ApiError::ConfirmationFailed(e.into())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::MissingJsonContentType(_) => ApiError::BadRequest(
                "expected a JSON body with Content-Type: application/json".into(),
            ),
            JsonRejection::BytesRejection(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                r.into()
            }
            other => ApiError::BadRequest(format!("invalid JSON body: {}", other.body_text())),
        }
    }
}

/// A body that could not be read whole: over the route's limit (axum's `DefaultBodyLimit`, 2 MiB
/// unless the route says otherwise) it is the same 413 as every other size limit.
impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge("the request body is too large for this endpoint".into())
        } else {
            ApiError::BadRequest(format!("unreadable request body: {}", r.body_text()))
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::BadRequest(format!("invalid query string: {}", r.body_text()))
    }
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(e: impl Into<ApiError>) -> (StatusCode, String) {
        let e = e.into();
        (e.status_and_code().0, e.to_string())
    }

    #[test]
    fn ingest_errors_keep_their_http_answers() {
        assert_eq!(
            answer(IngestError::NotMedia { discarded: false }),
            (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the file is not an image, video or audio file this server can process \
                 (its type is decided from its contents, not its name)"
                    .into()
            )
        );
        assert_eq!(
            answer(IngestError::Interrupted("connection reset".into())),
            (
                StatusCode::BAD_REQUEST,
                "the upload was interrupted before it completed: connection reset".into()
            )
        );
        assert_eq!(
            answer(IngestError::NotStored(StorageError::unavailable(
                "timed out"
            ))),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "storage unavailable, nothing was kept; retry later".into()
            )
        );
        assert_eq!(
            answer(IngestError::Locked),
            (
                StatusCode::LOCKED,
                "another request is writing to this upload; retry shortly".into()
            )
        );
        assert_eq!(
            answer(IngestError::UnusableKey(StorageError::InvalidKey(
                "x".into()
            ))),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "unusable object key: invalid object key: x".into()
            )
        );
    }

    #[test]
    fn unavailable_shows_a_fixed_text_and_keeps_the_details_in_its_cause() {
        let e = ApiError::from(StorageError::unavailable(
            "PUT http://10.0.0.5:9000/b/k?uploadId=XYZ: connection refused",
        ));
        assert_eq!(e.to_string(), "storage unavailable; try again later");
        assert!(
            ErrorChain(&e)
                .to_string()
                .contains("uploadId=XYZ: connection refused"),
            "{}",
            ErrorChain(&e)
        );
        let e = ApiError::from(IngestError::NotStored(StorageError::unavailable(
            "http://10.0.0.5:9000",
        )));
        assert!(!e.to_string().contains("10.0.0.5"), "{e}");
        assert!(ErrorChain(&e).to_string().contains("10.0.0.5"));
    }

    #[test]
    fn a_full_disk_is_507_saying_nothing_was_kept() {
        let full = || StorageError::Full {
            message: "no space left on the disk holding the data".into(),
            source: Some(Box::new(std::io::Error::from(
                std::io::ErrorKind::StorageFull,
            ))),
        };
        for e in [
            ApiError::from(full()),
            ApiError::from(IngestError::NotStored(full())),
            ApiError::from(IngestError::Storage(full())),
        ] {
            let (status, code) = e.status_and_code();
            assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE);
            assert_eq!(code, "insufficient_storage");
            assert!(
                e.to_string().contains("nothing of this request was kept"),
                "{e}"
            );
            assert!(ErrorChain(&e).to_string().contains("no space"), "{e}");
        }
    }

    #[test]
    fn internal_errors_show_nothing_and_keep_their_cause() {
        let e = ApiError::internal("signing token", std::io::Error::other("bad key"));
        assert_eq!(e.to_string(), "internal error");
        assert_eq!(
            ErrorChain(&e).to_string(),
            "internal error: signing token: bad key"
        );
    }
}
