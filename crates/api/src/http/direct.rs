//! Direct uploads: the client PUTs the file straight to the bucket with a time-limited URL (a
//! presigned S3 PUT, or the provider's pre-authenticated request), so the bytes never pass
//! through this server. Storage without such URLs (`Local`) gets a one-time URL on this server
//! instead. The item is created when the bucket announces the object (events endpoint) or the
//! client calls `POST /v1/media/{id}/complete`, whichever comes first; both check the object is
//! there at the declared size.

use crate::credentials::{constant_time_eq, token_digest};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::access::load_owned;
use crate::http::caller::AuthUser;
use crate::http::media::check_title;
use crate::http::media::FileBytes;
use crate::http::path_id::IdPath;
use crate::http::text::check_text;
use crate::http::views::{media_view, MediaView};
use crate::http::{ApiJson, BaseUrl};
use crate::AppState;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use mediaserver_core::{ErrorChain, MediaId, Upload, UploadId, UploadProtocol, UploadStatus};
use mediaserver_ingest::{upload_key, IngestError, NewUpload, PlannedOriginal};
use mediaserver_storage::StorageError;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;
use utoipa::IntoParams;
use utoipa::ToSchema;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

/// Presigned URLs are capped at 7 days by S3; shorter if uploads expire sooner.
const MAX_URL_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_direct_upload))
        .routes(routes!(complete_upload))
        // The one-time PUT target for storage without presigned URLs.
        .routes(routes!(one_time_put).layer(DefaultBodyLimit::disable()))
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct DirectUploadRequest {
    /// The file's name (kept as the original's name).
    #[schema(
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
        example = "holiday.mp4"
    )]
    filename: String,
    /// The file's exact size in bytes; completion checks it.
    #[schema(minimum = 1)]
    #[serde(deserialize_with = "crate::http::whole_number")]
    size: u64,
    /// Defaults to the file name without its extension.
    #[schema(
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$",
        example = "Holiday"
    )]
    title: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct DirectUpload {
    /// The media item's id once complete; pass it to `/v1/media/{id}/complete`.
    #[schema(value_type = String)]
    id: MediaId,
    /// PUT the file's bytes here before `expires_at`.
    upload_url: String,
    method: &'static str,
    /// Headers to send with the PUT (none are required today).
    headers: BTreeMap<String, String>,
    expires_at: DateTime<Utc>,
    /// Where to POST once the PUT succeeded (unless the bucket's events do it for you).
    complete_url: String,
    /// `presigned` (straight to the bucket) or `server` (a one-time URL on this server).
    target: &'static str,
}

#[derive(Serialize, Deserialize)]
struct OneTime {
    /// sha256 of the URL's secret, hex.
    secret_sha256: String,
}

/// Start a direct upload: returns a time-limited URL to PUT the file to, and the id to
/// complete with.
#[utoipa::path(post, path = "/v1/media/direct-upload", tag = "media", security(("bearer" = [])),
    request_body = DirectUploadRequest,
    responses((status = 201, body = DirectUpload), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody)))]
async fn create_direct_upload(
    State(state): State<AppState>,
    caller: AuthUser,
    base_url: BaseUrl,
    ApiJson(req): ApiJson<DirectUploadRequest>,
) -> ApiResult<(StatusCode, Json<DirectUpload>)> {
    let max = state.settings.max_upload_bytes;
    if req.size > max {
        return Err(ApiError::PayloadTooLarge(format!(
            "size {} is larger than this server's upload limit of {max} bytes (MAX_UPLOAD_BYTES)",
            req.size
        )));
    }
    if req.size == 0 {
        return Err(ApiError::BadRequest("size: the file is empty".into()));
    }
    if req.filename.trim().is_empty() {
        return Err(ApiError::BadRequest("filename: required".into()));
    }
    check_text("filename", &req.filename)?;
    let title = req.title.filter(|t| !t.trim().is_empty());
    if let Some(t) = &title {
        check_title(t)?;
    }
    let original = PlannedOriginal::new(&req.filename).map_err(|e| match e {
        IngestError::UnusableFilename(e) => {
            ApiError::BadRequest(format!("filename: unusable ({e})"))
        }
        other => other.into(),
    })?;
    crate::http::pending_uploads::check(&state, &caller).await?;
    let id = original.id.clone();
    let lifetime = state.settings.upload_expiry.min(MAX_URL_LIFETIME);
    let now = Utc::now();
    let expires_at =
        now + chrono::Duration::from_std(lifetime).unwrap_or(chrono::Duration::days(1));

    let (upload_url, target, upload_state) =
        match state.media_store.presign_put(&original.key, lifetime).await {
            Ok(url) => (url.to_string(), "presigned", "{}".to_string()),
            Err(StorageError::NotSupported(_)) => {
                let base_url = base_url.get()?;
                let mut secret = [0u8; 32];
                rand::thread_rng().fill_bytes(&mut secret);
                let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
                let one_time = OneTime {
                    secret_sha256: token_digest(&secret),
                };
                let st = serde_json::to_string(&one_time)
                    .map_err(|e| ApiError::internal("serialising upload state", e))?;
                (
                    format!("{base_url}/v1/uploads/direct/{id}?token={secret}"),
                    "server",
                    st,
                )
            }
            Err(e) => return Err(e.into()),
        };
    state
        .ingest
        .start_direct(
            original,
            NewUpload {
                owner_id: caller.id.clone(),
                title,
                length: req.size,
                metadata: None,
                expires_at,
            },
            upload_state,
        )
        .await?;
    tracing::info!(upload_id = %id, size = req.size, target, "direct upload started");
    Ok((
        StatusCode::CREATED,
        Json(DirectUpload {
            complete_url: format!("/v1/media/{id}/complete"),
            id,
            upload_url,
            method: "PUT",
            headers: BTreeMap::new(),
            expires_at,
            target,
        }),
    ))
}

/// Finish a direct upload: checks the object is in the bucket at the declared size, then
/// creates the media item (201), or returns it if it already exists (200).
#[utoipa::path(post, path = "/v1/media/{id}/complete", tag = "media", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 201, body = MediaView), (status = 200, body = MediaView),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 415, body = ErrorBody)))]
async fn complete_upload(
    State(state): State<AppState>,
    caller: AuthUser,
    IdPath(id): IdPath<UploadId>,
) -> ApiResult<(StatusCode, Json<MediaView>)> {
    let gone = || ApiError::not_found("upload");
    let Some(upload) = state.repo.get_upload(&id).await? else {
        // Nothing left to complete when the item exists (made by any kind of upload, or a
        // direct upload whose record is gone): it is the answer, as for a completed one.
        let media = load_owned(&state, &MediaId::from(id), &caller)
            .await
            .map_err(|e| match e {
                ApiError::NotFound(_) => gone(),
                other => other,
            })?;
        return Ok((StatusCode::OK, Json(media_view(&state, media, true)?)));
    };
    if upload.owner_id != caller.id {
        return Err(gone());
    }
    let status = match upload.status {
        UploadStatus::Complete => StatusCode::OK,
        UploadStatus::Active if upload.expires_at <= Utc::now() => return Err(gone()),
        UploadStatus::Active => StatusCode::CREATED,
    };
    if upload.protocol == UploadProtocol::Tus && upload.status == UploadStatus::Active {
        return Err(ApiError::Conflict(
            "this is a tus upload; it completes when its last byte arrives".into(),
        ));
    }
    let media = state.ingest.record_upload(&upload, None).await?;
    Ok((status, Json(media_view(&state, media, true)?)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct OneTimeQuery {
    /// The URL's secret, as `upload_url` carries it.
    token: Option<String>,
}

/// The one-time URL a direct upload hands out when storage has no presigned URLs (`target`
/// `server`): accepts exactly the declared number of bytes, once. Needs no other credential.
#[utoipa::path(put, path = "/v1/uploads/direct/{id}", tag = "uploads",
    params(("id" = String, Path, description = "The upload's id"), OneTimeQuery),
    request_body(content = FileBytes, content_type = "application/octet-stream",
        description = "the whole file: exactly the declared size"),
    responses((status = 204, description = "stored; now POST its `complete_url`"),
        (status = 400, description = "fewer bytes than declared, or the body broke off", body = ErrorBody),
        (status = 403, description = "the URL is invalid, used or expired", body = ErrorBody),
        (status = 413, description = "more bytes than declared", body = ErrorBody),
        (status = 507, description = "the server's disk is full; nothing was kept", body = ErrorBody)))]
async fn one_time_put(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<OneTimeQuery>,
    req: Request,
) -> Response {
    let body = req.into_body();
    // The URL's secret first: a stranger's PUT costs no lock and no database write. Then one
    // PUT at a time (two at once: the second waits and then finds the URL used), re-checked
    // under the lock.
    let checked = match usable_upload(&state, &id, q.token.as_deref()).await {
        Ok(upload) => state
            .ingest
            .lock_upload(&upload.id, mediaserver_ingest::WAIT)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    let upload = match checked {
        Ok(guard) => usable_upload(&state, &id, q.token.as_deref())
            .await
            .map(|u| (guard, u)),
        Err(e) => Err(e),
    };
    match upload {
        Ok((_guard, upload)) => match receive(&state, upload, body).await {
            Ok(status) => status.into_response(),
            Err(e) => e.into_response(),
        },
        Err(e) => {
            // Read (a bounded amount of) what the client is sending, so that it sees the
            // refusal instead of a connection reset mid-body.
            let mut body = body.into_data_stream();
            let mut drained = 0usize;
            while drained < DRAIN_LIMIT {
                match body.next().await {
                    Some(Ok(c)) => drained += c.len(),
                    _ => break,
                }
            }
            let mut resp = e.into_response();
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            resp
        }
    }
}

/// How much of a refused body is read before answering.
const DRAIN_LIMIT: usize = 1024 * 1024;

async fn usable_upload(state: &AppState, id: &str, token: Option<&str>) -> ApiResult<Upload> {
    let denied = || ApiError::Forbidden("this upload URL is invalid, used or expired".into());
    // A malformed id is one more URL that is not valid: the same 403, after the same drain.
    let id: UploadId = id.parse().map_err(|_| denied())?;
    let upload = state.repo.get_upload(&id).await?.ok_or_else(denied)?;
    let one_time: OneTime = serde_json::from_str(&upload.state).map_err(|_| denied())?;
    let presented = token_digest(token.unwrap_or_default());
    let valid = upload.protocol == UploadProtocol::Direct
        && upload.status == UploadStatus::Active
        && upload.offset == 0
        && upload.expires_at > Utc::now()
        && constant_time_eq(presented.as_bytes(), one_time.secret_sha256.as_bytes());
    if !valid {
        return Err(denied());
    }
    Ok(upload)
}

/// Streams exactly the declared number of bytes to the upload's key, then marks the URL used.
async fn receive(state: &AppState, upload: Upload, body: Body) -> ApiResult<StatusCode> {
    let denied = || ApiError::Forbidden("this upload URL is invalid, used or expired".into());
    let id = upload.id.clone();
    let key = upload_key(&upload)?;
    let expected = upload.length as u64;
    let mut writer = state.media_store.writer(&key).await?;
    let mut body = body.into_data_stream();
    let mut size = 0u64;
    let written: ApiResult<()> = async {
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| {
                ApiError::BadRequest(format!("the upload was interrupted before it completed: {e}"))
            })?;
            size += chunk.len() as u64;
            if size > expected {
                return Err(ApiError::PayloadTooLarge(format!(
                    "the body is longer than the declared size of {expected} bytes"
                )));
            }
            writer.write(chunk).await?;
        }
        if size != expected {
            return Err(ApiError::BadRequest(format!(
                "the body has {size} bytes but the upload declared {expected}; nothing was kept, PUT the whole file"
            )));
        }
        Ok(())
    }
    .await;
    if let Err(e) = written {
        if let Err(abort) = writer.abort().await {
            tracing::warn!(upload_id = %id, error = %ErrorChain(&abort), "could not abort a rejected direct upload");
        }
        return Err(e);
    }
    writer.finish().await?;
    // Used: the URL stops working, and the offset tells `complete` the bytes are in.
    let recorded = state
        .repo
        .record_upload_progress(&id, 0, upload.length, "{}", upload.expires_at)
        .await?;
    if !recorded {
        return Err(denied());
    }
    Ok(StatusCode::NO_CONTENT)
}
