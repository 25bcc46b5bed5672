//! Resumable uploads over tus 1.0.0 (<https://tus.io/protocols/resumable-upload>) at
//! `/v1/uploads/`: the core protocol plus the creation, creation-with-upload, termination,
//! expiration and checksum extensions.
//!
//! Written here rather than taken from a crate: no maintained tus server crate embeds into
//! axum, and the parts that matter (state in our database, bytes straight into our storage
//! trait, our auth and limits) would have to be replaced anyway. The protocol itself is small.
//!
//! Durability: bytes go to storage as they arrive (multipart parts or a growing file, see the
//! storage crate's `resumable` module) and the offset is acknowledged only after both the bytes
//! and the new state (in the `uploads` table) are stored, so a server killed at any moment
//! loses nothing it acknowledged and the client resumes from the offset HEAD reports.

mod body;
mod hashes;
mod headers;

pub(crate) use hashes::RunningHashes;
pub(crate) use headers::EXPOSED_HEADERS;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::caller::AuthUser;
use crate::http::media::check_title;
use crate::http::media::FileBytes;
use crate::http::path_id::parse_id;
use crate::http::text::check_text;
use crate::AppState;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::options;
use body::{Checksum, Hasher, Metered, CHECKSUMS};
use bytes::BytesMut;
use chrono::Utc;
use futures::StreamExt;
use headers::{
    expires_header, header_u64, hv, location, parse_metadata, version_mismatch, EXTENSIONS,
    MEDIA_ID, OFFSET_OCTET_STREAM, TUS_CHECKSUM_ALGORITHM, TUS_EXTENSION, TUS_MAX_SIZE,
    TUS_RESUMABLE, TUS_VERSION, TUS_VERSION_H, UPLOAD_CHECKSUM, UPLOAD_DEFER_LENGTH, UPLOAD_LENGTH,
    UPLOAD_METADATA, UPLOAD_OFFSET,
};
use mediaserver_core::sniff::SNIFF_LEN;
use mediaserver_core::{ErrorChain, Upload, UploadId, UploadProtocol, UploadStatus};
use mediaserver_ingest::{upload_key, upload_state, NewUpload, PlannedOriginal};
use mediaserver_storage::ResumableState;
use serde::Deserialize;
use std::sync::{Arc, Mutex};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(discover, create))
        // The same without the trailing slash (clients configured with either endpoint work);
        // documented once, under the name the README gives.
        .route("/v1/uploads", options(discover).post(create))
        .routes(routes!(
            discover_upload,
            head_upload,
            patch_upload,
            delete_upload
        ))
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::map_response(
            |mut resp: Response| async move {
                resp.headers_mut()
                    .insert(TUS_RESUMABLE, HeaderValue::from_static(TUS_VERSION));
                resp
            },
        ))
}

/// The tus version every request but OPTIONS must name.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // Documents the headers; the handlers read them from the request.
struct TusVersion {
    /// Must be `1.0.0` (412 otherwise).
    #[serde(rename = "Tus-Resumable")]
    #[param(rename = "Tus-Resumable", value_type = TusResumable, inline)]
    tus_resumable: String,
}

/// The only tus version this server speaks.
#[derive(ToSchema)]
#[allow(dead_code)] // A schema only.
enum TusResumable {
    #[schema(rename = "1.0.0")]
    V1_0_0,
}

/// An error answered before the whole body was read: the connection cannot carry another
/// request, so tell the client not to reuse it.
fn close_if_error(mut resp: Response) -> Response {
    if resp.status().is_client_error() || resp.status().is_server_error() {
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

/// tus discovery: the version, extensions, checksum algorithms and size limit this server
/// supports (in the `Tus-*` response headers). No credentials needed.
#[utoipa::path(options, path = "/v1/uploads/", tag = "uploads",
    responses((status = 204, description = "`Tus-Version`, `Tus-Extension`, `Tus-Max-Size` and `Tus-Checksum-Algorithm` say what this server supports")))]
async fn discover(State(state): State<AppState>) -> Response {
    let mut h = HeaderMap::new();
    h.insert(TUS_VERSION_H, HeaderValue::from_static(TUS_VERSION));
    h.insert(TUS_EXTENSION, HeaderValue::from_static(EXTENSIONS));
    h.insert(TUS_MAX_SIZE, hv(state.settings.max_upload_bytes));
    h.insert(TUS_CHECKSUM_ALGORITHM, HeaderValue::from_static(CHECKSUMS));
    (StatusCode::NO_CONTENT, h).into_response()
}

/// The same as `OPTIONS /v1/uploads/`, asked of an upload's URL.
#[utoipa::path(options, path = "/v1/uploads/{id}", tag = "uploads",
    params(("id" = String, Path, description = "The upload's id (the last part of its `Location`)")),
    responses((status = 204, description = "`Tus-Version`, `Tus-Extension`, `Tus-Max-Size` and `Tus-Checksum-Algorithm` say what this server supports")))]
async fn discover_upload(state: State<AppState>) -> Response {
    discover(state).await
}

/// Create a resumable upload of `Upload-Length` bytes (tus creation). An `Upload-Metadata`
/// header may carry comma-separated `key base64(value)` pairs: `filename` and `title` are used. With `Content-Type: application/offset+octet-stream` the body
/// is its first bytes (creation-with-upload). The upload's URL is in `Location`; PATCH the bytes
/// there. At most `MAX_PENDING_UPLOADS` unfinished uploads per user (409 beyond).
#[utoipa::path(post, path = "/v1/uploads/", tag = "uploads", security(("bearer" = [])),
    params(TusVersion, CreateHeaders),
    responses(
        (status = 201, description = "created; its URL is in `Location`, `Upload-Offset` says how many bytes of a creation-with-upload body were stored"),
        (status = 400, description = "a header is missing or malformed", body = ErrorBody),
        (status = 409, description = "too many unfinished uploads", body = ErrorBody),
        (status = 412, description = "`Tus-Resumable` is not 1.0.0", body = ErrorBody),
        (status = 413, description = "`Upload-Length` is over the upload limit", body = ErrorBody),
        (status = 415, description = "the bytes so far are no image, video or audio file", body = ErrorBody),
        (status = 460, description = "the body does not match `Upload-Checksum`", body = ErrorBody),
        (status = 507, description = "the server's disk is full; nothing was kept", body = ErrorBody)))]
async fn create(State(state): State<AppState>, caller: AuthUser, req: Request) -> Response {
    if let Some(resp) = version_mismatch(req.headers()) {
        return resp;
    }
    match create_inner(&state, &caller, req).await {
        Ok(resp) => resp,
        Err(e) => close_if_error(e.into_response()),
    }
}

async fn create_inner(state: &AppState, caller: &AuthUser, req: Request) -> ApiResult<Response> {
    let headers = req.headers().clone();
    if headers.contains_key(UPLOAD_DEFER_LENGTH) {
        return Err(ApiError::BadRequest(
            "deferred lengths are not supported; send Upload-Length with the file's size".into(),
        ));
    }
    let length = header_u64(&headers, &UPLOAD_LENGTH)?.ok_or_else(|| {
        ApiError::BadRequest("Upload-Length: required (the file's size in bytes)".into())
    })?;
    let max = state.settings.max_upload_bytes;
    if length > max {
        return Err(ApiError::PayloadTooLarge(format!(
            "Upload-Length {length} is larger than this server's upload limit of {max} bytes (MAX_UPLOAD_BYTES)"
        )));
    }
    if length == 0 {
        return Err(ApiError::BadRequest(
            "the upload is empty (Upload-Length: 0)".into(),
        ));
    }
    let raw_metadata = headers
        .get(UPLOAD_METADATA)
        .map(|v| {
            v.to_str()
                .map(str::to_string)
                .map_err(|_| ApiError::BadRequest("Upload-Metadata: must be ASCII".into()))
        })
        .transpose()?;
    let metadata = raw_metadata
        .as_deref()
        .map(parse_metadata)
        .transpose()?
        .unwrap_or_default();
    let filename = metadata
        .get("filename")
        .or_else(|| metadata.get("name"))
        .map(String::as_str)
        .unwrap_or("upload");
    check_text("filename", filename)?;
    let title = metadata
        .get("title")
        .cloned()
        .filter(|t| !t.trim().is_empty());
    if let Some(t) = &title {
        check_title(t)?;
    }

    crate::http::pending_uploads::check(state, caller).await?;
    let upload = state
        .ingest
        .start_resumable(
            PlannedOriginal::new(filename)?,
            NewUpload {
                owner_id: caller.id.clone(),
                title,
                length,
                metadata: raw_metadata,
                expires_at: Utc::now() + expiry(state),
            },
        )
        .await?;
    tracing::info!(upload_id = %upload.id, length, "tus upload created");

    let mut h = HeaderMap::new();
    h.insert(header::LOCATION, hv(location(&upload.id)));
    let has_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.eq_ignore_ascii_case(OFFSET_OCTET_STREAM));
    if has_body {
        let upload = append(state, upload, &headers, req.into_body()).await?;
        h.insert(UPLOAD_OFFSET, hv(upload.offset));
        expires_header(&mut h, &upload);
        if upload.status == UploadStatus::Complete {
            h.insert(MEDIA_ID, hv(&upload.id));
        }
    } else {
        expires_header(&mut h, &upload);
    }
    Ok((StatusCode::CREATED, h).into_response())
}

fn expiry(state: &AppState) -> chrono::Duration {
    chrono::Duration::from_std(state.settings.upload_expiry).unwrap_or(chrono::Duration::days(1))
}

fn state_json(rs: &ResumableState) -> ApiResult<String> {
    serde_json::to_string(rs).map_err(|e| ApiError::internal("serialising upload state", e))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // Documents the headers; the handler reads them from the request.
struct CreateHeaders {
    /// The file's size in bytes (a header: digits, at least 1).
    #[serde(rename = "Upload-Length")]
    #[param(rename = "Upload-Length", pattern = r"^[1-9][0-9]{0,18}$")]
    upload_length: String,
    // `Upload-Metadata` is described in the operation's text: base64 of text without control
    // characters is more than a pattern can say, and a generated one would be refused.
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // Documents the headers; the handler reads them from the request.
struct PatchHeaders {
    /// Where these bytes go: the offset `HEAD` reports (409 otherwise).
    #[serde(rename = "Upload-Offset")]
    #[param(rename = "Upload-Offset", pattern = r"^(0|[1-9][0-9]{0,18})$")]
    upload_offset: String,
}

/// How far an upload got: `Upload-Offset` and `Upload-Length` (and, once complete,
/// `Mediaserver-Media-Id`).
#[utoipa::path(head, path = "/v1/uploads/{id}", tag = "uploads", security(("bearer" = [])),
    params(("id" = String, Path, description = "The upload's id"), TusVersion),
    responses((status = 200, description = "`Upload-Offset`, `Upload-Length`, `Upload-Expires`"),
        (status = 404, description = "no such upload of the caller's, or expired"),
        (status = 412, description = "`Tus-Resumable` is not 1.0.0")))]
async fn head_upload(
    state: State<AppState>,
    id: Path<String>,
    caller: AuthUser,
    req: Request,
) -> Response {
    by_id(state, id, caller, req).await
}

/// Append the body at `Upload-Offset`. The PATCH that stores the last byte makes the upload a
/// media item, named in `Mediaserver-Media-Id`.
#[utoipa::path(patch, path = "/v1/uploads/{id}", tag = "uploads", security(("bearer" = [])),
    params(("id" = String, Path, description = "The upload's id"), TusVersion, PatchHeaders),
    request_body(content = FileBytes, content_type = "application/offset+octet-stream",
        description = "the next bytes of the file"),
    responses((status = 204, description = "stored; `Upload-Offset` is the new offset"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`Upload-Offset` is not the upload's offset, or it is complete", body = ErrorBody),
        (status = 412, description = "`Tus-Resumable` is not 1.0.0", body = ErrorBody),
        (status = 413, description = "more bytes than `Upload-Length`", body = ErrorBody),
        (status = 415, description = "not `application/offset+octet-stream`, or the bytes are no image, video or audio file", body = ErrorBody),
        (status = 423, description = "another request is writing this upload", body = ErrorBody),
        (status = 460, description = "the body does not match `Upload-Checksum`", body = ErrorBody),
        (status = 507, description = "the server's disk is full", body = ErrorBody)))]
async fn patch_upload(
    state: State<AppState>,
    id: Path<String>,
    caller: AuthUser,
    req: Request,
) -> Response {
    by_id(state, id, caller, req).await
}

/// Abandon an upload: its bytes and record are removed (tus termination).
#[utoipa::path(delete, path = "/v1/uploads/{id}", tag = "uploads", security(("bearer" = [])),
    params(("id" = String, Path, description = "The upload's id"), TusVersion),
    responses((status = 204, description = "removed"), (status = 404, body = ErrorBody),
        (status = 412, description = "`Tus-Resumable` is not 1.0.0", body = ErrorBody),
        (status = 423, description = "another request is writing this upload", body = ErrorBody)))]
async fn delete_upload(
    state: State<AppState>,
    id: Path<String>,
    caller: AuthUser,
    req: Request,
) -> Response {
    by_id(state, id, caller, req).await
}

/// HEAD, PATCH and DELETE of one upload. The id is parsed after the credentials and the tus
/// version are checked, and its 404 closes the connection like every other refusal here.
async fn by_id(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: AuthUser,
    req: Request,
) -> Response {
    if let Some(resp) = version_mismatch(req.headers()) {
        return resp;
    }
    let result = async {
        let upload = find(&state, &caller, &id).await?;
        match *req.method() {
            Method::HEAD => head(&state, upload).await,
            Method::PATCH => patch(&state, upload, req).await,
            Method::DELETE => terminate(&state, upload).await,
            _ => Err(ApiError::BadRequest(
                "tus uploads accept HEAD, PATCH, DELETE and OPTIONS".into(),
            )),
        }
    }
    .await;
    result.unwrap_or_else(|e| close_if_error(e.into_response()))
}

/// The caller's live upload; anyone else's (or an expired one) does not exist.
async fn find(state: &AppState, caller: &AuthUser, id: &str) -> ApiResult<Upload> {
    let gone = || ApiError::not_found("upload");
    let id = parse_id::<UploadId>(id)?;
    let upload = state.repo.get_upload(&id).await?.ok_or_else(gone)?;
    if upload.owner_id != caller.id || upload.expires_at <= Utc::now() {
        return Err(gone());
    }
    Ok(upload)
}

async fn head(state: &AppState, mut upload: Upload) -> ApiResult<Response> {
    if upload.status == UploadStatus::Active && upload.offset == upload.length {
        // Every byte was acknowledged but completion was interrupted: finish it now, under the
        // lock so it cannot run alongside a PATCH that is completing it.
        let _guard = state
            .ingest
            .lock_upload(&upload.id, mediaserver_ingest::WAIT)
            .await?;
        upload = state
            .repo
            .get_upload(&upload.id)
            .await?
            .ok_or_else(|| ApiError::not_found("upload"))?;
        if upload.status == UploadStatus::Active {
            state.ingest.finish_resumable(&upload, None).await?;
            upload.status = UploadStatus::Complete;
        }
    }
    let mut h = HeaderMap::new();
    h.insert(UPLOAD_OFFSET, hv(upload.offset));
    h.insert(UPLOAD_LENGTH, hv(upload.length));
    if let Some(m) = upload
        .metadata
        .as_deref()
        .and_then(|m| HeaderValue::from_str(m).ok())
    {
        h.insert(UPLOAD_METADATA, m);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    expires_header(&mut h, &upload);
    if upload.status == UploadStatus::Complete {
        h.insert(MEDIA_ID, hv(&upload.id));
    }
    Ok((StatusCode::OK, h).into_response())
}

async fn terminate(state: &AppState, upload: Upload) -> ApiResult<Response> {
    state
        .ingest
        .terminate_upload(&upload, mediaserver_ingest::WAIT)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn patch(state: &AppState, upload: Upload, req: Request) -> ApiResult<Response> {
    let headers = req.headers().clone();
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if !ct.is_some_and(|ct| ct.eq_ignore_ascii_case(OFFSET_OCTET_STREAM)) {
        return Err(ApiError::UnsupportedMediaType(format!(
            "PATCH bodies must have Content-Type: {OFFSET_OCTET_STREAM}"
        )));
    }
    if header_u64(&headers, &UPLOAD_OFFSET)?.is_none() {
        return Err(ApiError::BadRequest("Upload-Offset: required".into()));
    }
    // Direct uploads share the id space (and HEAD and DELETE) but take their bytes by PUT.
    if upload.protocol != UploadProtocol::Tus {
        return Err(ApiError::Conflict(
            "this is a direct upload, not a tus upload: PUT the file to its upload_url".into(),
        ));
    }
    let _guard = state
        .ingest
        .lock_upload(&upload.id, mediaserver_ingest::WAIT)
        .await?;
    // Re-read under the lock: a request that just finished may have moved the offset.
    let upload = state
        .repo
        .get_upload(&upload.id)
        .await?
        .ok_or_else(|| ApiError::not_found("upload"))?;
    let upload = append(state, upload, &headers, req.into_body()).await?;
    let mut h = HeaderMap::new();
    h.insert(UPLOAD_OFFSET, hv(upload.offset));
    expires_header(&mut h, &upload);
    if upload.status == UploadStatus::Complete {
        h.insert(MEDIA_ID, hv(&upload.id));
    }
    Ok((StatusCode::NO_CONTENT, h).into_response())
}

/// Stores a request body at the upload's offset, records the new offset, and completes the
/// upload when the last byte arrives. Returns the upload as recorded.
async fn append(
    state: &AppState,
    mut upload: Upload,
    headers: &HeaderMap,
    body: Body,
) -> ApiResult<Upload> {
    let claimed = header_u64(headers, &UPLOAD_OFFSET)?;
    let offset = upload.offset as u64;
    match claimed {
        Some(o) if o == offset => {}
        Some(o) => {
            return Err(ApiError::Conflict(format!(
                "Upload-Offset {o} does not match the upload's offset {offset}; HEAD the upload and resume from there"
            )))
        }
        None if headers.contains_key(header::CONTENT_TYPE) && upload.offset == 0 => {}
        None => return Err(ApiError::BadRequest("Upload-Offset: required".into())),
    }
    if upload.status == UploadStatus::Complete {
        return Err(ApiError::Conflict("this upload is already complete".into()));
    }
    let remaining = (upload.length - upload.offset) as u64;
    if let Some(n) = header_u64(headers, &header::CONTENT_LENGTH)? {
        if n > remaining {
            return Err(ApiError::PayloadTooLarge(format!(
                "the body has {n} bytes but only {remaining} remain of Upload-Length {}",
                upload.length
            )));
        }
    }
    let checksum = headers
        .get(UPLOAD_CHECKSUM)
        .map(|v| Checksum::parse(v.to_str().unwrap_or_default()))
        .transpose()?;

    let mut body = body.into_data_stream();
    let mut head = BytesMut::new();
    if offset == 0 {
        // Refuse a file that is not media from its first bytes, before storing gigabytes of it.
        while head.len() < SNIFF_LEN {
            match body.next().await {
                Some(Ok(c)) => head.extend_from_slice(&c),
                _ => break,
            }
        }
        state.ingest.check_first_bytes(&upload, &head).await?;
    }
    let digest = Arc::new(Mutex::new(checksum.as_ref().map(Checksum::hasher)));
    let running = Arc::new(Mutex::new(state.running_hashes.take(&upload.id, offset)));
    let too_long = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let source = futures::stream::iter((!head.is_empty()).then(|| Ok(head.freeze())))
        .chain(body.map(|r| r.map_err(std::io::Error::other)));
    let source = Metered {
        inner: Box::pin(source),
        left: remaining,
        digest: digest.clone(),
        running: running.clone(),
        too_long: too_long.clone(),
    };

    let key = upload_key(&upload)?;
    let old = upload_state(&upload)?;
    let out = state
        .media_store
        .resumable_append(&key, &old, Box::pin(source))
        .await?;
    let reject = |why: ApiError| async {
        // Not recorded: drop what this request stored (the old state stays valid).
        let _ = state
            .media_store
            .resumable_release(&key, &out.state, &old)
            .await;
        Err(why)
    };
    if too_long.load(std::sync::atomic::Ordering::Relaxed) {
        return reject(ApiError::PayloadTooLarge(format!(
            "the body is longer than the {remaining} bytes that remain of Upload-Length {}",
            upload.length
        )))
        .await;
    }
    if let Some(expected) = &checksum {
        let got = digest
            .lock()
            .ok()
            .and_then(|mut d| d.take())
            .map(Hasher::finish);
        if out.source_error.is_some() {
            return reject(ApiError::BadRequest(
                "the body broke off before it could be verified against Upload-Checksum".into(),
            ))
            .await;
        }
        if got.as_deref() != Some(expected.digest.as_slice()) {
            return reject(ApiError::ChecksumMismatch(format!(
                "the body's {} does not match Upload-Checksum; nothing was stored, send it again",
                expected.algorithm
            )))
            .await;
        }
    }

    let new_offset = out.state.offset as i64;
    let new_state = state_json(&out.state)?;
    let expires_at = Utc::now() + expiry(state);
    if new_offset != upload.offset {
        let recorded = match state
            .repo
            .record_upload_progress(
                &upload.id,
                upload.offset,
                new_offset,
                &new_state,
                expires_at,
            )
            .await
        {
            Ok(recorded) => recorded,
            // Not recorded (a full disk, a database outage): nor are the bytes kept.
            Err(e) => return reject(e.into()).await,
        };
        if !recorded {
            return reject(ApiError::Conflict(
                "the upload was changed by another request; HEAD it and resume from its offset"
                    .into(),
            ))
            .await;
        }
        if let Err(e) = state
            .media_store
            .resumable_release(&key, &old, &out.state)
            .await
        {
            tracing::warn!(upload_id = %upload.id, error = %ErrorChain(&e), "could not remove superseded upload bytes");
        }
        upload.offset = new_offset;
        upload.state = new_state;
        upload.expires_at = expires_at;
    }
    // The running hash saw exactly the bytes now recorded.
    let running = running.lock().ok().and_then(|mut r| r.take());
    if upload.offset == upload.length && out.source_error.is_none() {
        let sha256 = running.map(|h| hex::encode(sha2::Digest::finalize(h)));
        state.ingest.finish_resumable(&upload, sha256).await?;
        upload.status = UploadStatus::Complete;
        return Ok(upload);
    }
    if let Some(h) = running {
        state
            .running_hashes
            .keep(&upload.id, upload.offset as u64, h);
    }
    if let Some(e) = out.source_error {
        return Err(ApiError::BadRequest(format!(
            "the body broke off after {} bytes were stored; resume from Upload-Offset {}: {e}",
            new_offset as u64 - offset,
            new_offset
        )));
    }
    Ok(upload)
}
