//! Playback: HLS and DASH manifests, segments, thumbnails, storyboards and image variants,
//! served from the output bucket by byte range. Access is by the item's visibility, the
//! caller's login, or a playback token — in the path (`/v1/play/{token}/…`) so that players
//! resolving relative playlist and segment URIs keep it, or as `?token=` on `/v1/media/{id}/…`.
//! A token is checked against the item at every request: it stops working once the item is
//! made private after it was minted, or deleted (on another replica: within [`ITEM_TTL`]).

mod cache;
mod resolve;

pub(crate) use cache::PlaybackCache;
/// Re-exported by the crate as `PLAYBACK_CACHE_TTL`.
pub use cache::ITEM_TTL;
use resolve::{resolve, Kind};

use crate::credentials::PlaybackGrant;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::access::{load_owned, may_read};
use crate::http::caller::{AuthUser, MaybeAuthUser};
use crate::http::objects::{self, ServeOptions};
use crate::http::paging::{next_cursor, parse_cursor, parse_limit};
use crate::http::path_id::parse_id;
use crate::http::text_tracks;
use crate::http::views::{
    add_uploaded_text_tracks, media_view, signed_urls, MediaPage, MediaView, SignedUrls,
};
use crate::http::ApiBytes;
use crate::AppState;
use axum::extract::{Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use futures::StreamExt;
use mediaserver_core::layout::public;
use mediaserver_core::{Media, MediaFilter, MediaId, MediaStatus, Visibility};
use mediaserver_storage::{ByteStream, ObjectKey};
use serde::Deserialize;
use sha2::Digest as _;
use std::sync::Arc;
use std::time::Duration;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_public))
        .routes(routes!(create_playback_token))
        .routes(routes!(media_storyboard_vtt))
        .routes(routes!(media_storyboard_image))
        .routes(routes!(media_hls))
        .routes(routes!(media_dash))
        .routes(routes!(media_variant))
        .routes(routes!(token_storyboard_vtt))
        .routes(routes!(token_storyboard_image))
        .routes(routes!(token_hls))
        .routes(routes!(token_dash))
        .routes(routes!(token_variant))
}

/// Default and longest lifetime of a playback token.
const DEFAULT_TTL: Duration = Duration::from_secs(3600);
const MAX_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenRequest {
    /// Lifetime in seconds (default 3600, at most 604800).
    #[schema(minimum = 1, maximum = 604800)]
    #[serde(default, deserialize_with = "crate::http::optional_whole_number")]
    ttl_seconds: Option<u64>,
}

/// A short-lived token for one item, with ready-to-use HLS and DASH URLs that carry it. It plays
/// until it expires, the item is deleted, or the item is made private after it was minted (a
/// token minted while the item is private keeps working while it stays private).
#[utoipa::path(post, path = "/v1/media/{id}/playback-token", tag = "playback", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = Option<TokenRequest>,
    responses((status = 201, body = SignedUrls), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn create_playback_token(
    State(state): State<AppState>,
    caller: AuthUser,
    // Parsed after the body, whose 400s come first.
    Path(id): Path<String>,
    ApiBytes(body): ApiBytes,
) -> ApiResult<(StatusCode, Json<SignedUrls>)> {
    let req: TokenRequest = crate::http::optional_json_object(&body)?;
    let media = load_owned(&state, &parse_id::<MediaId>(&id)?, &caller).await?;
    let ttl = match req.ttl_seconds {
        None => DEFAULT_TTL,
        Some(s) if s >= 1 && s <= MAX_TTL.as_secs() => Duration::from_secs(s),
        Some(_) => {
            return Err(ApiError::BadRequest(format!(
                "ttl_seconds: must be between 1 and {}",
                MAX_TTL.as_secs()
            )))
        }
    };
    Ok((StatusCode::CREATED, Json(signed_urls(&state, &media, ttl)?)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PublicParams {
    /// Page size, 1–100 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// `next_cursor` from the previous page.
    #[param(format = Uuid)]
    cursor: Option<String>,
}

/// Public items of every user, newest first. No login needed.
#[utoipa::path(get, path = "/v1/media/public", tag = "playback", params(PublicParams),
    responses((status = 200, body = MediaPage), (status = 400, body = ErrorBody)))]
async fn list_public(
    State(state): State<AppState>,
    query: Result<Query<PublicParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<MediaPage>> {
    let Query(p) = query?;
    let limit = parse_limit(p.limit.as_deref())?;
    let before_id = parse_cursor(p.cursor)?;
    let mut items = state
        .repo
        .list_media(&MediaFilter {
            visibility: Some(Visibility::Public),
            before_id,
            limit: limit + 1,
            ..Default::default()
        })
        .await?;
    let next_cursor = next_cursor(&mut items, limit);
    let mut items = items
        .into_iter()
        .map(|m| media_view(&state, m, false))
        .collect::<ApiResult<Vec<MediaView>>>()?;
    add_uploaded_text_tracks(&state, &mut items).await?;
    Ok(Json(MediaPage { items, next_cursor }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct OutputParams {
    /// A playback token for this item (alternative to a login).
    pub(crate) token: Option<String>,
}

/// One pair of playback routes for a file at the top of an item's outputs (`layout::public`
/// names): `/v1/media/{id}/NAME` and `/v1/play/{token}/NAME`. Concrete paths, so that the
/// document names every URL with ordinary parameters that generic tools accept.
macro_rules! top_file {
    ($media_fn:ident, $token_fn:ident, $media_path:literal, $token_path:literal, $name:expr, $what:literal) => {
        #[doc = concat!("The item's ", $what, ". Access: the item's visibility, a login, or `?token=`. Supports HEAD, Range and If-None-Match.")]
        #[utoipa::path(get, path = $media_path, tag = "playback",
            security((), ("bearer" = [])),
            params(("id" = String, Path), OutputParams),
            responses((status = 200, description = "the file"), (status = 206, description = "a byte range"),
                (status = 304), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
                (status = 404, body = ErrorBody), (status = 416, body = ErrorBody)))]
        async fn $media_fn(
            state: State<AppState>,
            caller: MaybeAuthUser,
            Path(id): Path<String>,
            q: Query<OutputParams>,
            req: Request,
        ) -> ApiResult<Response> {
            media_output(state, caller, id, $name.to_string(), q, req).await
        }

        #[doc = concat!("The item's ", $what, ", for the item named by the playback token in the path.")]
        #[utoipa::path(get, path = $token_path, tag = "playback",
            params(("token" = String, Path)),
            responses((status = 200, description = "the file"), (status = 206, description = "a byte range"),
                (status = 304), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
                (status = 416, body = ErrorBody)))]
        async fn $token_fn(
            state: State<AppState>,
            Path(token): Path<String>,
            req: Request,
        ) -> ApiResult<Response> {
            token_output(state, token, $name.to_string(), req).await
        }
    };
}

/// The same for a file in a folder of an item's outputs: `/v1/media/{id}/DIR/{file}` and
/// `/v1/play/{token}/DIR/{file}` (players resolve the playlists' relative URIs against these,
/// so a token in the path stays on every request).
macro_rules! dir_file {
    ($media_fn:ident, $token_fn:ident, $media_path:literal, $token_path:literal, $dir:expr, $what:literal) => {
        #[doc = concat!("A file of the item's ", $what, ". Access: the item's visibility, a login, or `?token=`. Supports HEAD, Range and If-None-Match.")]
        #[utoipa::path(get, path = $media_path, tag = "playback",
            security((), ("bearer" = [])),
            params(("id" = String, Path), ("file" = String, Path), OutputParams),
            responses((status = 200, description = "the file"), (status = 206, description = "a byte range"),
                (status = 302, description = "a segment, at `PUBLIC_BASE_URL`"),
                (status = 304), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
                (status = 404, body = ErrorBody), (status = 416, body = ErrorBody)))]
        async fn $media_fn(
            state: State<AppState>,
            caller: MaybeAuthUser,
            Path((id, file)): Path<(String, String)>,
            q: Query<OutputParams>,
            req: Request,
        ) -> ApiResult<Response> {
            media_output(state, caller, id, format!("{}/{file}", $dir), q, req).await
        }

        #[doc = concat!("A file of the item's ", $what, ", for the item named by the playback token in the path.")]
        #[utoipa::path(get, path = $token_path, tag = "playback",
            params(("token" = String, Path), ("file" = String, Path)),
            responses((status = 200, description = "the file"), (status = 206, description = "a byte range"),
                (status = 302, description = "a segment, at `PUBLIC_BASE_URL`"),
                (status = 304), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
                (status = 416, body = ErrorBody)))]
        async fn $token_fn(
            state: State<AppState>,
            Path((token, file)): Path<(String, String)>,
            req: Request,
        ) -> ApiResult<Response> {
            token_output(state, token, format!("{}/{file}", $dir), req).await
        }
    };
}

top_file!(
    media_storyboard_vtt,
    token_storyboard_vtt,
    "/v1/media/{id}/storyboard.vtt",
    "/v1/play/{token}/storyboard.vtt",
    public::STORYBOARD_VTT,
    "storyboard (WebVTT cues into the sprite)"
);
top_file!(
    media_storyboard_image,
    token_storyboard_image,
    "/v1/media/{id}/storyboard.jpg",
    "/v1/play/{token}/storyboard.jpg",
    public::STORYBOARD_IMAGE,
    "storyboard sprite"
);
dir_file!(
    media_hls,
    token_hls,
    "/v1/media/{id}/hls/{file}",
    "/v1/play/{token}/hls/{file}",
    public::HLS_DIR,
    "HLS stream: `master.m3u8`, the playlists and segments it names"
);
dir_file!(
    media_dash,
    token_dash,
    "/v1/media/{id}/dash/{file}",
    "/v1/play/{token}/dash/{file}",
    public::DASH_DIR,
    "DASH stream: `manifest.mpd` and the segments it names"
);
dir_file!(
    media_variant,
    token_variant,
    "/v1/media/{id}/variants/{file}",
    "/v1/play/{token}/variants/{file}",
    public::VARIANTS_DIR,
    "image variants: `<name>.<jpg|webp>`"
);

/// The poster (`thumbnail.jpg`) is served through here by `http::pictures`.
pub(crate) async fn media_output(
    State(state): State<AppState>,
    MaybeAuthUser(caller): MaybeAuthUser,
    id: String,
    file: String,
    Query(q): Query<OutputParams>,
    // The request itself rather than a `HeaderMap` extractor, which clones every header.
    req: Request,
) -> ApiResult<Response> {
    let grant = match &q.token {
        Some(t) => Some(
            state
                .playback_cache
                .token(t, || state.tokens.verify_playback_until(t))?,
        ),
        None => None,
    };
    if let Some(grant) = &grant {
        if grant.media_id.as_str() != id {
            return Err(ApiError::Forbidden(
                "this playback token is for another item".into(),
            ));
        }
    }
    // Parsed only now: a token for another item is a 403 whatever the path names.
    let id = parse_id::<MediaId>(&id)?;
    let grant = grant.as_deref();
    // Only the head: the body type is not Sync, and the slow path holds this across awaits.
    let (req, _) = req.into_parts();
    if let Some(answer) = from_memory(&state, &id, &file, caller.as_ref(), grant, &req) {
        return answer;
    }
    // Boxed: the slow path's state is large, and keeping it out of this future keeps the
    // common case small.
    Box::pin(async {
        let media = load_playable(&state, &id, caller.as_ref(), grant).await?;
        serve_output(&state, &media, &file, &req.method, &req.headers).await
    })
    .await
}

pub(crate) async fn token_output(
    State(state): State<AppState>,
    token: String,
    file: String,
    req: Request,
) -> ApiResult<Response> {
    // Players fetch every playlist and segment with the token: its signature is checked once,
    // what it grants at every request.
    let grant = state
        .playback_cache
        .token(&token, || state.tokens.verify_playback_until(&token))?;
    let id = &grant.media_id;
    let (req, _) = req.into_parts();
    if let Some(answer) = from_memory(&state, id, &file, None, Some(&grant), &req) {
        return answer;
    }
    Box::pin(async {
        let media = load_playable(&state, id, None, Some(&grant)).await?;
        serve_output(&state, &media, &file, &req.method, &req.headers).await
    })
    .await
}

/// The answer straight from memory when the item's row and the file are both cached (the
/// common case for playlists): no database, no storage, nothing to await. `None` sends the
/// request down the full path, which also produces every error.
fn from_memory(
    state: &AppState,
    id: &MediaId,
    file: &str,
    caller: Option<&AuthUser>,
    grant: Option<&PlaybackGrant>,
    req: &Parts,
) -> Option<ApiResult<Response>> {
    let method = &req.method;
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    let media = state.playback_cache.fresh_item(id)?;
    if !may_read(&media, caller, grant) {
        return None;
    }
    let (_, content_type, kind) = resolve(&media, file)?;
    if kind == Kind::Segment {
        return None;
    }
    let hit = state.playback_cache.body(&media, file)?;
    let opts = ServeOptions {
        content_type: HeaderValue::from_static(content_type),
        etag: None,
        cache_control: HeaderValue::from_static(cache_control(kind, true, &media)),
        content_disposition: None,
    };
    Some(objects::serve_bytes(
        hit.bytes,
        hit.etag,
        method,
        &req.headers,
        opts,
    ))
}

fn cache_control(kind: Kind, ready: bool, media: &Media) -> &'static str {
    let private = media.visibility == Visibility::Private;
    match (kind, private) {
        // Segment names are never reused for other bytes.
        (Kind::Segment, false) => "public, max-age=31536000, immutable",
        (Kind::Segment, true) => "private, max-age=31536000, immutable",
        (Kind::Playlist | Kind::Manifest, _) if !ready => "no-cache",
        // A text track added or deleted shows in the next manifest a player loads: caches
        // revalidate every time (answered from memory, a 304 while nothing changed).
        (Kind::Manifest, false) => "public, no-cache",
        (Kind::Manifest, true) => "private, no-cache",
        (Kind::Playlist | Kind::Image, false) => "public, max-age=300",
        (Kind::Playlist | Kind::Image, true) => "private, max-age=300",
    }
}

/// [`crate::http::access::load_readable`] through the playback cache: the same access rules
/// (and playback tokens), checked on every request, against a row at most [`ITEM_TTL`] old
/// (`ready` items only).
pub(crate) async fn load_playable(
    state: &AppState,
    id: &MediaId,
    caller: Option<&AuthUser>,
    grant: Option<&PlaybackGrant>,
) -> ApiResult<Arc<Media>> {
    let not_found = || ApiError::not_found("media item");
    let media = state
        .playback_cache
        .item(id, || state.repo.get_media(id))
        .await?
        .ok_or_else(not_found)?;
    if may_read(&media, caller, grant) {
        Ok(media)
    } else {
        Err(not_found())
    }
}

async fn serve_output(
    state: &AppState,
    media: &Media,
    file: &str,
    method: &Method,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let not_ready = || {
        ApiError::NotFound(format!(
            "not available yet: the item is {} ({}%)",
            media.status, media.progress
        ))
    };
    let Some(((rel_dir, rel_name), content_type, kind)) = resolve(media, file) else {
        return Err(if media.status == MediaStatus::Ready || media.playable {
            ApiError::NotFound("no such file for this item".into())
        } else {
            not_ready()
        });
    };
    let ready = media.status == MediaStatus::Ready;
    // HLS is published while encoding (`playable`); DASH and the rest only once ready.
    let available = ready || (media.playable && file.starts_with("hls/"));
    if !available {
        return Err(not_ready());
    }
    let cache_control = cache_control(kind, ready, media);
    let opts = || ServeOptions {
        content_type: HeaderValue::from_static(content_type),
        etag: None,
        cache_control: HeaderValue::from_static(cache_control),
        content_disposition: None,
    };
    // Small files of ready items (playlists, manifests, posters) are answered from memory.
    let cacheable =
        ready && kind != Kind::Segment && (method == Method::GET || method == Method::HEAD);
    if cacheable {
        if let Some(hit) = state.playback_cache.body(media, file) {
            return objects::serve_bytes(hit.bytes, hit.etag, method, headers, opts());
        }
    }
    let key = ObjectKey::new(format!("{}{rel_dir}{rel_name}", media.outputs_prefix()))
        .map_err(|_| ApiError::NotFound("no such file for this item".into()))?;
    if cacheable && kind == Kind::Manifest {
        return serve_manifest(state, media, file, &key, method, headers, opts()).await;
    }
    if kind == Kind::Segment {
        if let Some(base) = &state.settings.public_base_url {
            // Let a CDN (or the bucket itself) carry the heavy bytes.
            let location = format!("{}/{}", base.trim_end_matches('/'), key);
            return Ok((
                StatusCode::FOUND,
                [
                    (header::LOCATION, location),
                    (header::CACHE_CONTROL, cache_control.to_string()),
                ],
            )
                .into_response());
        }
    }
    let store = state.output_store.as_ref();
    if cacheable {
        // A HEAD, range or revalidation of a file too large to keep must not open a whole GET
        // whose body is thrown away: look first.
        if !objects::is_plain_get(method, headers) {
            let meta = store.head(&key).await?;
            if meta.size > cache::MAX_BODY {
                return objects::serve_opened(store, &key, meta, None, method, headers, opts())
                    .await;
            }
        }
        let (meta, stream) = store.get_stream(&key).await?;
        if meta.size <= cache::MAX_BODY {
            let bytes = collect_small(stream, meta.size).await?;
            let etag = HeaderValue::from_str(&objects::storage_etag(&meta))
                .map_err(|e| ApiError::internal("storage ETag", e))?;
            state
                .playback_cache
                .put_body(media, file, bytes.clone(), etag.clone());
            return objects::serve_bytes(bytes, etag, method, headers, opts());
        }
        let whole = objects::is_plain_get(method, headers).then_some(stream);
        return objects::serve_opened(store, &key, meta, whole, method, headers, opts()).await;
    }
    objects::serve(store, &key, method, headers, opts()).await
}

/// A ready item's HLS master or DASH manifest with its uploaded text tracks added
/// (`text_tracks::manifest`), kept in the playback cache for this version of the row (adding or
/// deleting a track moves `updated_at` on, so the next request builds it afresh).
async fn serve_manifest(
    state: &AppState,
    media: &Media,
    file: &str,
    key: &ObjectKey,
    method: &Method,
    headers: &HeaderMap,
    opts: ServeOptions,
) -> ApiResult<Response> {
    /// Manifests are small; a larger stored one is not ours.
    const MAX_MANIFEST: u64 = 4 * 1024 * 1024;
    let store = state.output_store.as_ref();
    let (meta, stream) = store.get_stream(key).await?;
    if meta.size > MAX_MANIFEST {
        return Err(ApiError::Internal("a stored manifest is too large".into()));
    }
    let stored = collect_small(stream, meta.size).await?;
    let tracks = text_tracks::uploaded(state, &media.id).await?;
    let (bytes, etag) = if tracks.is_empty() {
        (stored, objects::storage_etag(&meta))
    } else {
        let text = String::from_utf8_lossy(&stored);
        let served = if file == public::HLS_MASTER {
            text_tracks::manifest::hls_master(&text, &tracks)
        } else {
            text_tracks::manifest::dash_manifest(&text, &tracks)
        };
        let digest = sha2::Sha256::digest(served.as_bytes());
        (
            Bytes::from(served),
            format!("\"{}\"", hex::encode(&digest[..16])),
        )
    };
    let etag = HeaderValue::from_str(&etag).map_err(|e| ApiError::internal("manifest ETag", e))?;
    state
        .playback_cache
        .put_body(media, file, bytes.clone(), etag.clone());
    objects::serve_bytes(bytes, etag, method, headers, opts)
}

/// Reads a small object's stream into one buffer (usually it is a single chunk: no copy).
async fn collect_small(mut stream: ByteStream, size: u64) -> ApiResult<Bytes> {
    let mut chunks = Vec::new();
    let mut total = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        total += chunk.len() as u64;
        if total > size.max(cache::MAX_BODY) {
            return Err(ApiError::Internal(
                "a stored file grew while it was being read".into(),
            ));
        }
        chunks.push(chunk);
    }
    Ok(match chunks.len() {
        1 => chunks.swap_remove(0),
        _ => chunks.concat().into(),
    })
}
