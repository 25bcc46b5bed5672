//! Media items: upload (a one-request upload; the bytes go to `mediaserver-ingest`), list, read,
//! change, delete, and the original's bytes.

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::access::{load_owned, load_readable, may_manage};
use crate::http::caller::{AuthUser, MaybeAuthUser};
use crate::http::library::{self, LibraryPage, ListParams};
use crate::http::objects::{self, ServeOptions};
use crate::http::path_id::{parse_id, IdPath};
use crate::http::text::check_text;
use crate::http::views::{add_uploaded_text_tracks, media_view, with_queue_position, MediaView};
use crate::http::ApiJson;
use crate::AppState;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use axum::Json;
use mediaserver_core::{Media, MediaId, MediaPatch, Visibility};
use mediaserver_storage::ObjectKey;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        // Uploads enforce MAX_UPLOAD_BYTES themselves while streaming.
        .routes(routes!(upload_media, list_media).layer(DefaultBodyLimit::disable()))
        .routes(routes!(get_media, update_media, delete_media))
        .routes(routes!(get_original))
        .routes(routes!(retry_media))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct UploadParams {
    /// File name for a raw-body upload (default `upload`).
    #[param(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    filename: Option<String>,
    /// Title for a raw-body upload (defaults to the file name without extension).
    #[param(max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    title: Option<String>,
}

/// The form of a multipart upload. Other fields are refused.
// Deserialize only for the schema's `additionalProperties: false`; the handler reads the fields
// as they stream in.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(crate) struct UploadForm {
    /// The file: an image, video or audio file (its kind is told from its bytes).
    #[schema(value_type = String, format = Binary, min_length = 1)]
    file: Vec<u8>,
    /// Defaults to the file name without its extension.
    #[schema(
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$",
        example = "Holiday"
    )]
    title: Option<String>,
}

/// A file's bytes, as a request body: binary, not empty (an empty file is a 400).
pub(crate) struct FileBytes;

impl utoipa::PartialSchema for FileBytes {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .min_length(Some(1))
            .description(Some("The file's bytes (not empty)."))
            .into()
    }
}

impl ToSchema for FileBytes {}

/// Upload a file: either `multipart/form-data` with a `file` field (and optional `title`), or the
/// raw bytes as the body with `?filename=`. The kind is detected from the bytes; anything that is
/// not an image, video or audio file is refused with 415.
#[utoipa::path(post, path = "/v1/media", tag = "media", security(("bearer" = [])),
    params(UploadParams),
    request_body(description = "multipart with a `file` field (and optional `title`), or the raw file",
        content((UploadForm = "multipart/form-data"), (FileBytes = "application/octet-stream"))),
    responses((status = 201, body = MediaView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 503, body = ErrorBody),
        (status = 507, description = "The server is out of disk space; nothing was kept", body = ErrorBody)))]
async fn upload_media(
    State(state): State<AppState>,
    caller: AuthUser,
    Query(params): Query<UploadParams>,
    req: Request,
) -> ApiResult<(StatusCode, Json<MediaView>)> {
    let max = state.settings.max_upload_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("multipart/form-data"));
    // Multipart framing adds a little; allow for it before refusing on the declared length.
    let slack = if is_multipart { 64 * 1024 } else { 0 };
    if declared.is_some_and(|n| n > max.saturating_add(slack)) {
        return Err(ApiError::PayloadTooLarge(format!(
            "the request body is larger than this server's upload limit of {max} bytes (MAX_UPLOAD_BYTES)"
        )));
    }
    // The owner's quota, on the declared length before reading any of it (an unknown length is
    // counted while it streams).
    if let Some(n) = declared {
        state
            .ingest
            .check_quota(&caller.id, n.saturating_sub(slack))
            .await?;
    }

    if let Some(t) = &params.title {
        check_title(t)?;
    }
    // Checked whichever body it is, as the document says of the parameter.
    if let Some(f) = &params.filename {
        check_text("filename", f)?;
    }
    let media = if is_multipart {
        let mut multipart = Multipart::from_request(req, &state).await.map_err(|e| {
            ApiError::BadRequest(format!("invalid multipart body: {}", e.body_text()))
        })?;
        let mut title = params.title;
        let mut stored = None;
        let outcome: ApiResult<()> = async {
            while let Some(field) = multipart.next_field().await.map_err(|e| {
                ApiError::BadRequest(format!("invalid multipart body: {}", e.body_text()))
            })? {
                match field.name() {
                    Some("file") => {
                        if stored.is_some() {
                            return Err(ApiError::BadRequest(
                                "send one `file` field per request".into(),
                            ));
                        }
                        let filename = field.file_name().unwrap_or("upload").to_string();
                        check_text("filename", &filename)?;
                        stored = Some(
                            state
                                .ingest
                                .store_upload(&caller.id, &filename, field, max)
                                .await?,
                        );
                    }
                    Some("title") => {
                        let text = read_small_field(field).await?;
                        check_title(&text)?;
                        title = Some(text);
                    }
                    // As the documented form says: a misspelt field is not silently dropped.
                    other => {
                        return Err(ApiError::BadRequest(format!(
                            "unknown form field {:?}: send `file` and optionally `title`",
                            other.unwrap_or_default()
                        )))
                    }
                }
            }
            Ok(())
        }
        .await;
        match (outcome, stored) {
            (Ok(()), Some(s)) => state.ingest.commit(&caller.id, s, title).await?,
            (Ok(()), None) => {
                return Err(ApiError::BadRequest(
                    "multipart body has no `file` field".into(),
                ))
            }
            (Err(e), Some(s)) => {
                state.ingest.discard_stored(&s).await;
                return Err(e);
            }
            (Err(e), None) => return Err(e),
        }
    } else {
        let filename = params.filename.unwrap_or_else(|| "upload".into());
        check_text("filename", &filename)?;
        let stream = req.into_body().into_data_stream();
        let stored = state
            .ingest
            .store_upload(&caller.id, &filename, stream, max)
            .await?;
        state
            .ingest
            .commit(&caller.id, stored, params.title)
            .await?
    };
    Ok((StatusCode::CREATED, Json(media_view(&state, media, true)?)))
}

pub(crate) const MAX_TITLE_CHARS: usize = 200;

/// A title as given by a client: at most [`MAX_TITLE_CHARS`] characters, no control characters.
pub(crate) fn check_title(title: &str) -> ApiResult<()> {
    check_text("title", title)?;
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(ApiError::BadRequest(format!(
            "title: must be at most {MAX_TITLE_CHARS} characters"
        )));
    }
    Ok(())
}

/// Reads a text form field, refusing anything longer than a title could be (the field is
/// client-controlled and would otherwise be buffered whole).
async fn read_small_field(mut field: axum::extract::multipart::Field<'_>) -> ApiResult<String> {
    const MAX: usize = 4096;
    let mut buf = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| ApiError::BadRequest(format!("invalid `title` field: {}", e.body_text())))?
    {
        buf.extend_from_slice(&chunk);
        if buf.len() > MAX {
            return Err(ApiError::BadRequest(format!(
                "title: must be at most {MAX_TITLE_CHARS} characters"
            )));
        }
    }
    String::from_utf8(buf).map_err(|_| ApiError::BadRequest("title: must be UTF-8 text".into()))
}

/// The caller's media items (admins: everyone's), newest first unless `sort` says otherwise;
/// filtered by kind, status, title (`q`) or the original's SHA-256.
#[utoipa::path(get, path = "/v1/media", tag = "media", security(("bearer" = [])),
    params(ListParams),
    responses((status = 200, body = LibraryPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn list_media(
    State(state): State<AppState>,
    caller: AuthUser,
    query: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<LibraryPage>> {
    let Query(p) = query?;
    let (filter, limit) = library::filter(p, &caller)?;
    let mut items = state.repo.list_media(&filter).await?;
    let next_cursor = library::next_cursor(&mut items, limit, filter.sort);
    let mut views = Vec::with_capacity(items.len());
    for m in items {
        views.push(with_queue_position(&state, media_view(&state, m, true)?).await?);
    }
    add_uploaded_text_tracks(&state, &mut views).await?;
    Ok(Json(LibraryPage {
        items: views,
        next_cursor,
    }))
}

/// One media item. Its owner and admins also get `signed` playback URLs; nobody else gets a
/// token (a public or unlisted item's plain URLs play without one).
#[utoipa::path(get, path = "/v1/media/{id}", tag = "media", security((), ("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = MediaView), (status = 404, body = ErrorBody)))]
async fn get_media(
    State(state): State<AppState>,
    MaybeAuthUser(caller): MaybeAuthUser,
    IdPath(id): IdPath<MediaId>,
) -> ApiResult<Json<MediaView>> {
    let media = load_readable(&state, &id, caller.as_ref()).await?;
    let signed = may_manage(&media, caller.as_ref());
    let mut view = media_view(&state, media, signed)?;
    add_uploaded_text_tracks(&state, std::slice::from_mut(&mut view)).await?;
    Ok(Json(with_queue_position(&state, view).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MediaUpdate {
    /// At most 200 characters, not blank.
    #[schema(
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
        example = "Holiday"
    )]
    title: Option<String>,
    visibility: Option<Visibility>,
}

/// Change an item's title or visibility.
#[utoipa::path(patch, path = "/v1/media/{id}", tag = "media", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = MediaUpdate,
    responses((status = 200, body = MediaView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn update_media(
    State(state): State<AppState>,
    caller: AuthUser,
    // Parsed after the body, whose 400s come first.
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MediaUpdate>,
) -> ApiResult<Json<MediaView>> {
    let id = parse_id::<MediaId>(&id)?;
    load_owned(&state, &id, &caller).await?;
    let title = match body.title {
        Some(t) => {
            let t = t.trim().to_string();
            if t.is_empty() {
                return Err(ApiError::BadRequest("title: must not be empty".into()));
            }
            check_title(&t)?;
            Some(t)
        }
        None => None,
    };
    let patch = MediaPatch {
        title,
        visibility: body.visibility,
    };
    let media = state
        .repo
        .update_media(&id, &patch)
        .await?
        .ok_or_else(|| ApiError::not_found("media item"))?;
    // Playback must see a switch to private (and the tokens it revoked) at once.
    state.playback_cache.invalidate(&id);
    let mut view = media_view(&state, media, true)?;
    add_uploaded_text_tracks(&state, std::slice::from_mut(&mut view)).await?;
    Ok(Json(view))
}

/// Delete an item with its original and every processed output.
#[utoipa::path(delete, path = "/v1/media/{id}", tag = "media", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn delete_media(
    State(state): State<AppState>,
    caller: AuthUser,
    IdPath(id): IdPath<MediaId>,
) -> ApiResult<StatusCode> {
    let media = load_owned(&state, &id, &caller).await?;
    delete_item(&state, &media).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes an item: its original, every processed output, then its row (the one deletion path:
/// `DELETE /v1/media/{id}` and deleting a user both use it).
pub(crate) async fn delete_item(state: &AppState, media: &Media) -> ApiResult<()> {
    // Objects first: if storage fails the row stays and the delete can be retried, instead of
    // leaving objects no row points to. Items created from bucket events keep their original
    // where it was put, outside `originals/{id}/`.
    let deleted: ApiResult<()> = async {
        state
            .media_store
            .delete(&ObjectKey::new(media.original_key.clone())?)
            .await?;
        state
            .media_store
            .delete_prefix(&media.originals_prefix())
            .await?;
        state
            .output_store
            .delete_prefix(&media.outputs_prefix())
            .await?;
        state.repo.delete_media(&media.id).await?;
        Ok(())
    }
    .await;
    // Even a half-done delete may have removed files: playback must not serve cached copies.
    state.playback_cache.invalidate(&media.id);
    deleted?;
    tracing::info!(media_id = %media.id, "media deleted");
    Ok(())
}

/// Process a failed item again: a new job with fresh attempts. Owner or admin; 409 unless the
/// item is `failed`.
#[utoipa::path(post, path = "/v1/media/{id}/retry", tag = "media", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 202, body = MediaView), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
async fn retry_media(
    State(state): State<AppState>,
    caller: AuthUser,
    IdPath(id): IdPath<MediaId>,
) -> ApiResult<(StatusCode, Json<MediaView>)> {
    let media = load_owned(&state, &id, &caller).await?;
    if !state.ingest.retry_failed(&media.id).await? {
        return Err(ApiError::Conflict(format!(
            "only a failed item can be retried; this one is {}",
            media.status.as_str()
        )));
    }
    let media = state
        .repo
        .get_media(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("media item"))?;
    state.playback_cache.invalidate(&id);
    Ok((StatusCode::ACCEPTED, Json(media_view(&state, media, true)?)))
}

/// The original file, with Range, ETag and If-None-Match support.
#[utoipa::path(get, path = "/v1/media/{id}/original", tag = "media", security((), ("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "the bytes"), (status = 206, description = "a byte range"),
        (status = 304), (status = 404, body = ErrorBody), (status = 416, body = ErrorBody)))]
async fn get_original(
    State(state): State<AppState>,
    MaybeAuthUser(caller): MaybeAuthUser,
    IdPath(id): IdPath<MediaId>,
    method: Method,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let media = load_readable(&state, &id, caller.as_ref()).await?;
    let key = ObjectKey::new(media.original_key.clone())?;
    objects::serve(
        state.media_store.as_ref(),
        &key,
        &method,
        &headers,
        ServeOptions {
            content_type: HeaderValue::from_str(&media.content_type)
                .unwrap_or(HeaderValue::from_static("application/octet-stream")),
            etag: (!media.sha256.is_empty()).then(|| format!("\"{}\"", media.sha256)),
            cache_control: HeaderValue::from_static("private, max-age=0, must-revalidate"),
            content_disposition: Some(objects::content_disposition(&media.filename)),
        },
    )
    .await
}
