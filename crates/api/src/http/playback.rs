//! Playback: HLS and DASH manifests, segments, thumbnails, storyboards and image variants,
//! served from the output bucket by byte range. Access is by the item's visibility, the
//! caller's login, or a playback token — in the path (`/v1/play/{token}/…`) so that players
//! resolving relative playlist and segment URIs keep it, or as `?token=` on `/v1/media/{id}/…`.

use crate::auth::{AuthUser, MaybeAuthUser};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::media::{may_read, media_view, MediaPage, MediaView};
use crate::http::objects::{self, ServeOptions};
use crate::http::playback_cache;
use crate::AppState;
use axum::extract::{Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use chrono::{DateTime, TimeZone, Utc};
use futures::StreamExt;
use mediaserver_core::layout::{self, public};
use mediaserver_core::{is_valid_id, Media, MediaFilter, MediaKind, MediaStatus, Visibility};
use mediaserver_storage::{ByteStream, ObjectKey};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_public))
        .routes(routes!(create_playback_token))
        .routes(routes!(media_output))
        .routes(routes!(token_output))
}

/// Default and longest lifetime of a playback token.
const DEFAULT_TTL: Duration = Duration::from_secs(3600);
const MAX_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

#[derive(Serialize, ToSchema, Clone)]
pub struct SignedUrls {
    /// The token itself (already embedded in the URLs).
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub hls: String,
    pub dash: String,
    pub thumbnail: String,
    pub storyboard: String,
}

/// URLs under `/v1/play/{token}/` for `media`, valid for `ttl`.
pub fn signed_urls(state: &AppState, media_id: &str, ttl: Duration) -> ApiResult<SignedUrls> {
    let (token, exp) = state.tokens.issue_playback(media_id, ttl)?;
    let base = format!("/v1/play/{token}");
    Ok(SignedUrls {
        expires_at: Utc.timestamp_opt(exp, 0).single().unwrap_or_else(Utc::now),
        hls: format!("{base}/{}", public::HLS_MASTER),
        dash: format!("{base}/{}", public::DASH_MANIFEST),
        thumbnail: format!("{base}/{}", public::THUMBNAIL),
        storyboard: format!("{base}/{}", public::STORYBOARD_VTT),
        token,
    })
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// Lifetime in seconds (default 3600, at most 604800).
    ttl_seconds: Option<u64>,
}

/// A short-lived token for one item, with ready-to-use HLS and DASH URLs that carry it.
#[utoipa::path(post, path = "/v1/media/{id}/playback-token", tag = "playback", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = TokenRequest,
    responses((status = 201, body = SignedUrls), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn create_playback_token(
    State(state): State<AppState>,
    caller: crate::auth::AuthUser,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<SignedUrls>)> {
    let req: TokenRequest = if body.iter().all(u8::is_ascii_whitespace) {
        TokenRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))?
    };
    let media = crate::http::media::load_owned(&state, &id, &caller).await?;
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
    Ok((
        StatusCode::CREATED,
        Json(signed_urls(&state, &media.id, ttl)?),
    ))
}

#[derive(Deserialize, IntoParams)]
pub struct PublicParams {
    /// Page size, 1–100 (default 20).
    limit: Option<String>,
    /// `next_cursor` from the previous page.
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
    let limit = crate::http::media::parse_limit(p.limit.as_deref())?;
    let before_id = crate::http::media::parse_cursor(p.cursor)?;
    let mut items = state
        .repo
        .list_media(&MediaFilter {
            visibility: Some(Visibility::Public),
            before_id,
            limit: limit + 1,
            ..Default::default()
        })
        .await?;
    let next_cursor = (items.len() > limit as usize).then(|| {
        items.truncate(limit as usize);
        items.last().map(|m| m.id.clone())
    });
    let items: ApiResult<Vec<MediaView>> = items
        .into_iter()
        .map(|m| media_view(&state, m, false))
        .collect();
    Ok(Json(MediaPage {
        items: items?,
        next_cursor: next_cursor.flatten(),
    }))
}

#[derive(Deserialize, IntoParams)]
pub struct OutputParams {
    /// A playback token for this item (alternative to a login).
    token: Option<String>,
}

/// A playback file of an item: `hls/master.m3u8`, `hls/<playlist or segment>`,
/// `dash/manifest.mpd`, `dash/<segment>`, `thumbnail.jpg`, `storyboard.vtt`, `storyboard.jpg`,
/// `variants/<name>.<jpg|webp>`. Supports HEAD, Range and If-None-Match.
#[utoipa::path(get, path = "/v1/media/{id}/{*file}", tag = "playback",
    security((), ("bearer" = [])),
    params(("id" = String, Path), ("file" = String, Path), OutputParams),
    responses((status = 200, description = "the file"), (status = 206, description = "a byte range"),
        (status = 304), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 416, body = ErrorBody)))]
async fn media_output(
    State(state): State<AppState>,
    MaybeAuthUser(caller): MaybeAuthUser,
    Path((id, file)): Path<(String, String)>,
    Query(q): Query<OutputParams>,
    // The request itself rather than a `HeaderMap` extractor, which clones every header.
    req: Request,
) -> ApiResult<Response> {
    let token_mid = match &q.token {
        Some(t) => Some(
            state
                .playback_cache
                .token(t, || state.tokens.verify_playback_until(t))?,
        ),
        None => None,
    };
    if let Some(mid) = &token_mid {
        if **mid != *id {
            return Err(ApiError::Forbidden(
                "this playback token is for another item".into(),
            ));
        }
    }
    let has_token = token_mid.is_some();
    // Only the head: the body type is not Sync, and the slow path holds this across awaits.
    let (req, _) = req.into_parts();
    if let Some(answer) = from_memory(&state, &id, &file, caller.as_ref(), has_token, &req) {
        return answer;
    }
    // Boxed: the slow path's state is large, and keeping it out of this future keeps the
    // common case small.
    Box::pin(async {
        let media = load_playable(&state, &id, caller.as_ref(), has_token).await?;
        serve_output(&state, &media, &file, &req.method, &req.headers).await
    })
    .await
}

/// The same files as `/v1/media/{id}/{file}`, for the item named by the token in the path.
#[utoipa::path(get, path = "/v1/play/{token}/{*file}", tag = "playback",
    params(("token" = String, Path), ("file" = String, Path)),
    responses((status = 200, description = "the file"), (status = 206, description = "a byte range"),
        (status = 304), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 416, body = ErrorBody)))]
async fn token_output(
    State(state): State<AppState>,
    Path((token, file)): Path<(String, String)>,
    req: Request,
) -> ApiResult<Response> {
    // Players fetch every playlist and segment with the token: its signature is checked once.
    let id = state
        .playback_cache
        .token(&token, || state.tokens.verify_playback_until(&token))?;
    let (req, _) = req.into_parts();
    if let Some(answer) = from_memory(&state, &id, &file, None, true, &req) {
        return answer;
    }
    Box::pin(async {
        let media = load_playable(&state, &id, None, true).await?;
        serve_output(&state, &media, &file, &req.method, &req.headers).await
    })
    .await
}

/// The answer straight from memory when the item's row and the file are both cached (the
/// common case for playlists): no database, no storage, nothing to await. `None` sends the
/// request down the full path, which also produces every error.
fn from_memory(
    state: &AppState,
    id: &str,
    file: &str,
    caller: Option<&AuthUser>,
    has_token: bool,
    req: &Parts,
) -> Option<ApiResult<Response>> {
    let method = &req.method;
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    let media = state.playback_cache.fresh_item(id)?;
    if !may_read(&media, caller, has_token) {
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
        (Kind::Playlist, _) if !ready => "no-cache",
        (Kind::Playlist | Kind::Image, false) => "public, max-age=300",
        (Kind::Playlist | Kind::Image, true) => "private, max-age=300",
    }
}

/// [`load_readable_with`] through the playback cache: the same access rules, checked on every
/// request, against a row at most [`playback_cache::ITEM_TTL`] old (`ready` items only).
async fn load_playable(
    state: &AppState,
    id: &str,
    caller: Option<&AuthUser>,
    has_token: bool,
) -> ApiResult<Arc<Media>> {
    let not_found = || ApiError::not_found("media item");
    if !is_valid_id(id) {
        return Err(not_found());
    }
    let media = state
        .playback_cache
        .item(id, || state.repo.get_media(id))
        .await?
        .ok_or_else(not_found)?;
    if may_read(&media, caller, has_token) {
        Ok(media)
    } else {
        Err(not_found())
    }
}

/// Which stored file a request path means, or `None` (404) for anything else — including every
/// traversal attempt, since only plain names are accepted.
/// The stored path comes back in two borrowed parts (the stream folder + name, or `""` + a
/// recorded path), so that answering from the cache allocates nothing for it.
fn resolve<'a>(
    media: &'a Media,
    file: &'a str,
) -> Option<((&'static str, &'a str), &'static str, Kind)> {
    let plain = |s: &str| {
        !s.is_empty()
            && s.len() <= 200
            && !s.starts_with('.')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    };
    let (dir, name) = file.split_once('/').unwrap_or(("", file));
    if !plain(name) || name.contains("..") {
        return None;
    }
    let out = &media.outputs;
    match file {
        // While encoding, outputs are not recorded yet but the provisional master is published.
        public::HLS_MASTER => out
            .hls
            .as_deref()
            .or_else(|| media.playable.then_some(layout::HLS_MASTER))
            .map(|p| (("", p), "application/vnd.apple.mpegurl", Kind::Playlist)),
        public::DASH_MANIFEST => out
            .dash
            .as_deref()
            .map(|p| (("", p), "application/dash+xml", Kind::Playlist)),
        public::THUMBNAIL => out
            .thumbnail
            .as_deref()
            .map(|p| (("", p), "image/jpeg", Kind::Image)),
        public::STORYBOARD_VTT => out
            .storyboard
            .as_deref()
            .map(|p| (("", p), "text/vtt; charset=utf-8", Kind::Image)),
        public::STORYBOARD_IMAGE => out
            .storyboard
            .as_ref()
            .map(|_| (("", layout::STORYBOARD_IMAGE), "image/jpeg", Kind::Image)),
        _ => match dir {
            public::HLS_DIR | public::DASH_DIR => {
                let (ctype, kind) = match name.rsplit_once('.')?.1 {
                    "m3u8" if dir == public::HLS_DIR => {
                        ("application/vnd.apple.mpegurl", Kind::Playlist)
                    }
                    "m4s" | "mp4" => (segment_type(media), Kind::Segment),
                    _ => return None,
                };
                Some(((layout::STREAM_DIR, name), ctype, kind))
            }
            public::VARIANTS_DIR => out
                .variants
                .iter()
                .find(|v| v.path.strip_prefix(layout::VARIANTS_DIR) == Some(name))
                .map(|v| {
                    (
                        ("", v.path.as_str()),
                        content_type_static(&v.content_type),
                        Kind::Image,
                    )
                }),
            _ => None,
        },
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Playlist,
    Segment,
    Image,
}

fn segment_type(media: &Media) -> &'static str {
    if media.kind == MediaKind::Audio {
        "audio/mp4"
    } else {
        "video/iso.segment"
    }
}

fn content_type_static(ct: &str) -> &'static str {
    match ct {
        "image/webp" => "image/webp",
        "image/png" => "image/png",
        _ => "image/jpeg",
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
            if meta.size > playback_cache::MAX_BODY {
                return objects::serve_opened(store, &key, meta, None, method, headers, opts())
                    .await;
            }
        }
        let (meta, stream) = store.get_stream(&key).await?;
        if meta.size <= playback_cache::MAX_BODY {
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

/// Reads a small object's stream into one buffer (usually it is a single chunk: no copy).
async fn collect_small(mut stream: ByteStream, size: u64) -> ApiResult<Bytes> {
    let mut chunks = Vec::new();
    let mut total = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        total += chunk.len() as u64;
        if total > size.max(playback_cache::MAX_BODY) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use mediaserver_core::{MediaOutputs, Variant};

    fn media() -> Media {
        let (mut m, _) = mediaserver_core::NewOriginal {
            id: mediaserver_core::new_id(),
            owner_id: "u".into(),
            kind: MediaKind::Video,
            content_type: "video/mp4".into(),
            filename: "a.mp4".into(),
            title: None,
            size: 1,
            sha256: String::new(),
            bucket: "media".into(),
            key: "originals/x/a.mp4".into(),
            etag: "e".into(),
            source: "upload".into(),
        }
        .into_records();
        m.outputs = MediaOutputs {
            hls: Some("stream/master.m3u8".into()),
            dash: Some("stream/manifest.mpd".into()),
            thumbnail: Some("thumbnail.jpg".into()),
            storyboard: Some("storyboard.vtt".into()),
            variants: vec![Variant {
                name: "thumb".into(),
                width: 320,
                height: 180,
                content_type: "image/webp".into(),
                path: "variants/thumb.webp".into(),
            }],
            ..Default::default()
        };
        m
    }

    #[test]
    fn resolves_only_known_plain_names() {
        let m = media();
        let path = |f: &str| resolve(&m, f).map(|((dir, name), _, _)| format!("{dir}{name}"));
        assert_eq!(
            path("hls/master.m3u8").as_deref(),
            Some("stream/master.m3u8")
        );
        assert_eq!(
            path("dash/manifest.mpd").as_deref(),
            Some("stream/manifest.mpd")
        );
        assert_eq!(
            path("hls/media_0.m3u8").as_deref(),
            Some("stream/media_0.m3u8")
        );
        assert_eq!(
            path("dash/chunk-0-00001.m4s").as_deref(),
            Some("stream/chunk-0-00001.m4s")
        );
        assert_eq!(
            path("variants/thumb.webp").as_deref(),
            Some("variants/thumb.webp")
        );
        assert_eq!(path("storyboard.jpg").as_deref(), Some("storyboard.jpg"));
        for bad in [
            "hls/../../originals/x/a.mp4",
            "hls/..",
            "../x",
            "hls/%2e%2e",
            "hls/a/b.m4s",
            "hls/.hidden.m4s",
            "hls/x.mp3",
            "dash/media_0.m3u8",
            "variants/large.webp",
            "original",
            "hls/",
            "hls/a\\b.m4s",
            "stream/master.m3u8",
        ] {
            assert_eq!(path(bad), None, "{bad}");
        }
    }
}
