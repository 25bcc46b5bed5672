//! Ids in route paths, typed. The segment is parsed by the id type (core's `ids`, the one check
//! of an id's format); a malformed id names nothing, so it gets the very 404 an id that names
//! nothing gets, and a client learns no more from one than from the other.

use crate::error::{ApiError, ApiResult};
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use mediaserver_core::{MediaId, UploadId, UserId};
use std::str::FromStr;

/// An id type that names a resource in a path.
pub(crate) trait PathId: FromStr {
    /// What its 404 calls the resource: "{NOUN} not found".
    const NOUN: &'static str;
}

impl PathId for MediaId {
    const NOUN: &'static str = "media item";
}

impl PathId for UploadId {
    const NOUN: &'static str = "upload";
}

impl PathId for UserId {
    const NOUN: &'static str = "user";
}

/// `raw` as id type `T`, or the 404 an unknown `T` gets. For handlers that take the segment as
/// `Path<String>` because they answer other questions first (a malformed body, a playback token
/// for another item, the tus version) and so cannot let the id reject the request before them.
pub(crate) fn parse_id<T: PathId>(raw: &str) -> ApiResult<T> {
    raw.parse().map_err(|_| ApiError::not_found(T::NOUN))
}

/// The route's one path parameter as id type `T`: `IdPath(id): IdPath<MediaId>`. A malformed id
/// is rejected with `T`'s 404 (see [`parse_id`]); a segment that cannot be decoded gets axum's
/// own answer, exactly as `Path<String>` gives it.
pub(crate) struct IdPath<T>(pub(crate) T);

impl<S, T> FromRequestParts<S> for IdPath<T>
where
    S: Send + Sync,
    T: PathId + Send,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        parse_id(&raw)
            .map(IdPath)
            .map_err(IntoResponse::into_response)
    }
}
