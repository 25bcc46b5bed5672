//! Pictures on demand: `thumbnail.{jpg,webp,png}` at any time and size and `animated.{webp,gif}`
//! previews, for `/v1/media/{id}/…` and `/v1/play/{token}/…`, with playback's access rules.
//! `thumbnail.jpg` without parameters is the poster processing made, served by playback as
//! before. Anything else is rendered once (see `crate::pictures`), stored under the item's
//! outputs prefix (`layout::PICTURES_DIR`, so deleting the item deletes it) and served from
//! there with the storage's ETag.

use crate::credentials::PlaybackGrant;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::caller::{AuthUser, MaybeAuthUser};
use crate::http::objects::{self, ServeOptions};
use crate::http::path_id::parse_id;
use crate::http::playback::{self, load_playable, OutputParams};
use crate::pictures::{Fit, PictureFormat, PictureRequest, PictureSource};
use crate::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::HeaderValue;
use axum::response::Response;
use bytes::Bytes;
use mediaserver_core::layout::{self, public};
use mediaserver_core::{Media, MediaId, MediaKind, MediaStatus, Visibility};
use mediaserver_storage::{ObjectKey, StorageError};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Largest still side, in pixels.
pub(crate) const MAX_STILL_SIDE: u32 = 1920;
/// Largest animation width, in pixels, and its longest span, in seconds.
const MAX_ANIMATION_WIDTH: u32 = 640;
const MAX_ANIMATION_SECONDS: f64 = 10.0;
const DEFAULT_ANIMATION_WIDTH: u32 = 320;
const DEFAULT_ANIMATION_SECONDS: f64 = 3.0;
const DEFAULT_FPS: u32 = 10;
const MAX_FPS: u32 = 30;
/// Where the poster is taken (as processing takes it): a tenth into the video.
const POSTER_AT: f64 = 0.10;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(media_thumbnail))
        .routes(routes!(media_thumbnail_webp))
        .routes(routes!(media_thumbnail_png))
        .routes(routes!(token_thumbnail))
        .routes(routes!(token_thumbnail_webp))
        .routes(routes!(token_thumbnail_png))
        .routes(routes!(media_animated_webp))
        .routes(routes!(media_animated_gif))
        .routes(routes!(token_animated_webp))
        .routes(routes!(token_animated_gif))
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub(crate) struct StillParams {
    /// A playback token for this item (alternative to a login; `/v1/media/{id}/…` only).
    token: Option<String>,
    /// Seconds from the start, 0 to the item's duration (default: the poster's time, a tenth
    /// in). A time at the very end gives the last frame.
    #[param(value_type = Option<f64>, minimum = 0)]
    time: Option<String>,
    /// Width in pixels, 1–1920. Alone, the height follows the aspect ratio.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1920)]
    width: Option<String>,
    /// Height in pixels, 1–1920. Alone, the width follows the aspect ratio.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1920)]
    height: Option<String>,
    /// With both `width` and `height`: `contain` (default: within the box, aspect kept, one side
    /// may be shorter), `cover` (exactly the box, aspect kept, the overflow cropped around the
    /// centre), `fill` (exactly the box, stretched), `pad` (exactly the box: contained, black
    /// bars around).
    #[param(value_type = Option<String>, pattern = "^(contain|cover|fill|pad)$")]
    fit: Option<String>,
}

impl StillParams {
    fn is_empty(&self) -> bool {
        self.time.is_none() && self.width.is_none() && self.height.is_none() && self.fit.is_none()
    }
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub(crate) struct AnimatedParams {
    /// A playback token for this item (alternative to a login; `/v1/media/{id}/…` only).
    token: Option<String>,
    /// First second, from 0 (default 0).
    #[param(value_type = Option<f64>, minimum = 0)]
    start: Option<String>,
    /// Last second, after `start`, at most 10 s after it and at most the duration (default:
    /// 3 s after `start`, or the end).
    #[param(value_type = Option<f64>, minimum = 0)]
    end: Option<String>,
    /// Width in pixels, 16–640 (default 320); the height follows the aspect ratio.
    #[param(value_type = Option<u32>, minimum = 16, maximum = 640)]
    width: Option<String>,
    /// Frames per second, 1–30 (default 10).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 30)]
    fps: Option<String>,
}

/// Who asks, and for which item.
enum Target {
    /// `/v1/media/{id}/…`, perhaps with `?token=`.
    Media {
        caller: Option<AuthUser>,
        id: String,
    },
    /// `/v1/play/{token}/…`.
    Token(String),
}

/// A still route's handler for one format, on `/v1/media/{id}/…` and `/v1/play/{token}/…`.
macro_rules! still_routes {
    ($media_fn:ident, $token_fn:ident, $media_path:literal, $token_path:literal, $format:expr, $what:literal) => {
        #[doc = concat!("A frame of the item as ", $what, ", at any time and size (`time`, `width`, `height`, `fit`), rendered once and then served from storage; `thumbnail.jpg` without parameters is the poster. Access: the item's visibility, a login, or `?token=`. Supports HEAD, Range and If-None-Match. 503 with `Retry-After` while the server renders as many pictures as it allows, and where it has no ffmpeg.")]
        #[utoipa::path(get, path = $media_path, tag = "playback",
            security((), ("bearer" = [])),
            params(("id" = String, Path), StillParams),
            responses((status = 200, description = "the picture"), (status = 206, description = "a byte range"),
                (status = 304), (status = 400, body = ErrorBody, description = "a parameter out of range (named)"),
                (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
                (status = 404, body = ErrorBody), (status = 416, body = ErrorBody),
                (status = 503, body = ErrorBody, description = "busy (`Retry-After`) or no renderer here")))]
        async fn $media_fn(
            State(state): State<AppState>,
            MaybeAuthUser(caller): MaybeAuthUser,
            Path(id): Path<String>,
            query: Result<Query<StillParams>, QueryRejection>,
            req: Request,
        ) -> ApiResult<Response> {
            let Query(p) = query?;
            if $format == PictureFormat::Jpeg && p.is_empty() {
                // Today's poster, exactly as playback serves it.
                let q = Query(OutputParams { token: p.token });
                return playback::media_output(State(state), MaybeAuthUser(caller), id,
                    public::THUMBNAIL.to_string(), q, req).await;
            }
            let token = p.token.clone();
            still(&state, Target::Media { caller, id }, token, p, $format, req).await
        }

        #[doc = concat!("The same still as ", $what, ", for the item named by the playback token in the path.")]
        #[utoipa::path(get, path = $token_path, tag = "playback",
            params(("token" = String, Path), StillParams),
            responses((status = 200, description = "the picture"), (status = 206, description = "a byte range"),
                (status = 304), (status = 400, body = ErrorBody, description = "a parameter out of range (named)"),
                (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
                (status = 416, body = ErrorBody),
                (status = 503, body = ErrorBody, description = "busy (`Retry-After`) or no renderer here")))]
        async fn $token_fn(
            State(state): State<AppState>,
            Path(token): Path<String>,
            query: Result<Query<StillParams>, QueryRejection>,
            req: Request,
        ) -> ApiResult<Response> {
            let Query(p) = query?;
            if $format == PictureFormat::Jpeg && p.is_empty() {
                return playback::token_output(State(state), token, public::THUMBNAIL.to_string(), req).await;
            }
            still(&state, Target::Token(token), None, p, $format, req).await
        }
    };
}

/// The same for an animation format.
macro_rules! animated_routes {
    ($media_fn:ident, $token_fn:ident, $media_path:literal, $token_path:literal, $format:expr, $what:literal) => {
        #[doc = concat!("A short looping preview of the item as ", $what, " (`start`, `end`: at most 10 s; `width` at most 640; `fps`), rendered once and then served from storage. Access: the item's visibility, a login, or `?token=`. Supports HEAD, Range and If-None-Match. 503 with `Retry-After` while the server renders as many pictures as it allows, and where it has no ffmpeg.")]
        #[utoipa::path(get, path = $media_path, tag = "playback",
            security((), ("bearer" = [])),
            params(("id" = String, Path), AnimatedParams),
            responses((status = 200, description = "the animation"), (status = 206, description = "a byte range"),
                (status = 304), (status = 400, body = ErrorBody, description = "a parameter out of range (named)"),
                (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
                (status = 404, body = ErrorBody), (status = 416, body = ErrorBody),
                (status = 503, body = ErrorBody, description = "busy (`Retry-After`) or no renderer here")))]
        async fn $media_fn(
            State(state): State<AppState>,
            MaybeAuthUser(caller): MaybeAuthUser,
            Path(id): Path<String>,
            query: Result<Query<AnimatedParams>, QueryRejection>,
            req: Request,
        ) -> ApiResult<Response> {
            let Query(p) = query?;
            let token = p.token.clone();
            animated(&state, Target::Media { caller, id }, token, p, $format, req).await
        }

        #[doc = concat!("The same preview as ", $what, ", for the item named by the playback token in the path.")]
        #[utoipa::path(get, path = $token_path, tag = "playback",
            params(("token" = String, Path), AnimatedParams),
            responses((status = 200, description = "the animation"), (status = 206, description = "a byte range"),
                (status = 304), (status = 400, body = ErrorBody, description = "a parameter out of range (named)"),
                (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
                (status = 416, body = ErrorBody),
                (status = 503, body = ErrorBody, description = "busy (`Retry-After`) or no renderer here")))]
        async fn $token_fn(
            State(state): State<AppState>,
            Path(token): Path<String>,
            query: Result<Query<AnimatedParams>, QueryRejection>,
            req: Request,
        ) -> ApiResult<Response> {
            let Query(p) = query?;
            animated(&state, Target::Token(token), None, p, $format, req).await
        }
    };
}

still_routes!(
    media_thumbnail,
    token_thumbnail,
    "/v1/media/{id}/thumbnail.jpg",
    "/v1/play/{token}/thumbnail.jpg",
    PictureFormat::Jpeg,
    "JPEG"
);
still_routes!(
    media_thumbnail_webp,
    token_thumbnail_webp,
    "/v1/media/{id}/thumbnail.webp",
    "/v1/play/{token}/thumbnail.webp",
    PictureFormat::Webp,
    "WebP"
);
still_routes!(
    media_thumbnail_png,
    token_thumbnail_png,
    "/v1/media/{id}/thumbnail.png",
    "/v1/play/{token}/thumbnail.png",
    PictureFormat::Png,
    "PNG"
);
animated_routes!(
    media_animated_webp,
    token_animated_webp,
    "/v1/media/{id}/animated.webp",
    "/v1/play/{token}/animated.webp",
    PictureFormat::Webp,
    "animated WebP"
);
animated_routes!(
    media_animated_gif,
    token_animated_gif,
    "/v1/media/{id}/animated.gif",
    "/v1/play/{token}/animated.gif",
    PictureFormat::Gif,
    "GIF"
);

/// What a still asks for, its range checks that need no item done.
struct StillAsk {
    time: Option<f64>,
    width: Option<u32>,
    height: Option<u32>,
    fit: Fit,
}

fn parse_still(p: &StillParams) -> ApiResult<StillAsk> {
    let side = |name: &str, v: &Option<String>| -> ApiResult<Option<u32>> {
        v.as_deref()
            .map(|s| whole(name, s, 1, MAX_STILL_SIDE))
            .transpose()
    };
    let fit = match p.fit.as_deref() {
        None | Some("contain") => Fit::Contain,
        Some("cover") => Fit::Cover,
        Some("fill") => Fit::Fill,
        Some("pad") => Fit::Pad,
        Some(_) => {
            return Err(ApiError::BadRequest(
                "fit: must be one of contain, cover, fill, pad".into(),
            ))
        }
    };
    Ok(StillAsk {
        time: p.time.as_deref().map(|s| seconds("time", s)).transpose()?,
        width: side("width", &p.width)?,
        height: side("height", &p.height)?,
        fit,
    })
}

/// A whole number in `min..=max`, or a 400 naming the parameter.
fn whole(name: &str, s: &str, min: u32, max: u32) -> ApiResult<u32> {
    s.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "{name}: must be a whole number from {min} to {max}"
            ))
        })
}

/// Seconds, finite and not negative, or a 400 naming the parameter.
fn seconds(name: &str, s: &str) -> ApiResult<f64> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|t| t.is_finite() && *t >= 0.0)
        .ok_or_else(|| {
            ApiError::BadRequest(format!("{name}: must be a number of seconds, 0 or more"))
        })
}

/// Milliseconds: times are rounded to these, so nearby requests share a cached picture.
fn millis(t: f64) -> u64 {
    (t * 1000.0).round() as u64
}

async fn still(
    state: &AppState,
    target: Target,
    token: Option<String>,
    p: StillParams,
    format: PictureFormat,
    req: Request,
) -> ApiResult<Response> {
    let ask = parse_still(&p)?;
    let media = load(state, target, token.as_deref()).await?;
    let (source, duration) = source_of(&media)?;
    let time = match ask.time {
        None => duration * POSTER_AT,
        Some(t) if t <= duration + 0.001 => t.min(duration),
        Some(_) => {
            return Err(ApiError::BadRequest(format!(
                "time: must be from 0 to the item's duration, {duration:.3} s"
            )))
        }
    };
    let time_ms = millis(time);
    // The fit only matters with both sides: one name for the same picture.
    let fit = if ask.width.is_some() && ask.height.is_some() {
        ask.fit
    } else {
        Fit::Contain
    };
    let side = |s: Option<u32>| s.map_or_else(|| "auto".to_string(), |n| n.to_string());
    let stem = format!(
        "still-t{time_ms}-w{}-h{}-{}",
        side(ask.width),
        side(ask.height),
        fit_name(fit)
    );
    let request = PictureRequest::Still {
        time: time_ms as f64 / 1000.0,
        width: ask.width,
        height: ask.height,
        fit,
        format,
    };
    serve_picture(state, &media, source, request, &stem, format, req).await
}

async fn animated(
    state: &AppState,
    target: Target,
    token: Option<String>,
    p: AnimatedParams,
    format: PictureFormat,
    req: Request,
) -> ApiResult<Response> {
    let start = p
        .start
        .as_deref()
        .map(|s| seconds("start", s))
        .transpose()?;
    let end = p.end.as_deref().map(|s| seconds("end", s)).transpose()?;
    let width = p
        .width
        .as_deref()
        .map(|s| whole("width", s, 16, MAX_ANIMATION_WIDTH))
        .transpose()?
        .unwrap_or(DEFAULT_ANIMATION_WIDTH);
    let fps = p
        .fps
        .as_deref()
        .map(|s| whole("fps", s, 1, MAX_FPS))
        .transpose()?
        .unwrap_or(DEFAULT_FPS);
    if let (Some(s), Some(e)) = (start, end) {
        if e <= s {
            return Err(ApiError::BadRequest("end: must be after start".into()));
        }
        if e - s > MAX_ANIMATION_SECONDS + 0.0005 {
            return Err(ApiError::BadRequest(format!(
                "end: must be at most {MAX_ANIMATION_SECONDS} s after start"
            )));
        }
    }
    let media = load(state, target, token.as_deref()).await?;
    let (source, duration) = source_of(&media)?;
    let start = start.unwrap_or(0.0);
    if start >= duration {
        return Err(ApiError::BadRequest(format!(
            "start: must be before the item's end, {duration:.3} s"
        )));
    }
    let end = match end {
        None => (start + DEFAULT_ANIMATION_SECONDS).min(duration),
        Some(e) if e <= duration + 0.001 => e.min(duration),
        Some(_) => {
            return Err(ApiError::BadRequest(format!(
                "end: must be at most the item's duration, {duration:.3} s"
            )))
        }
    };
    let (start_ms, end_ms) = (millis(start), millis(end));
    let stem = format!("anim-s{start_ms}-e{end_ms}-w{width}-f{fps}");
    let request = PictureRequest::Animated {
        start: start_ms as f64 / 1000.0,
        end: end_ms as f64 / 1000.0,
        width,
        fps,
        format,
    };
    serve_picture(state, &media, source, request, &stem, format, req).await
}

fn fit_name(fit: Fit) -> &'static str {
    match fit {
        Fit::Contain => "contain",
        Fit::Cover => "cover",
        Fit::Fill => "fill",
        Fit::Pad => "pad",
    }
}

/// The item, with playback's access rules (a token for another item is a 403, a private item
/// the caller may not see is a 404).
async fn load(state: &AppState, target: Target, token: Option<&str>) -> ApiResult<Arc<Media>> {
    let grant = |t: &str| -> ApiResult<Arc<PlaybackGrant>> {
        state
            .playback_cache
            .token(t, || state.tokens.verify_playback_until(t))
    };
    match target {
        Target::Token(t) => {
            let g = grant(&t)?;
            load_playable(state, &g.media_id, None, Some(&g)).await
        }
        Target::Media { caller, id } => match token {
            Some(t) => {
                let g = grant(t)?;
                if g.media_id.as_str() != id {
                    return Err(ApiError::Forbidden(
                        "this playback token is for another item".into(),
                    ));
                }
                load_playable(state, &g.media_id, caller.as_ref(), Some(&g)).await
            }
            None => {
                let id = parse_id::<MediaId>(&id)?;
                load_playable(state, &id, caller.as_ref(), None).await
            }
        },
    }
}

/// What pictures are made of: a ready video's published stream, and its duration.
fn source_of(media: &Media) -> ApiResult<(PictureSource, f64)> {
    if media.status != MediaStatus::Ready {
        return Err(ApiError::NotFound(format!(
            "not available yet: the item is {} ({}%)",
            media.status, media.progress
        )));
    }
    let (Some(hls), Some(duration), MediaKind::Video) =
        (&media.outputs.hls, media.duration_seconds, media.kind)
    else {
        return Err(ApiError::NotFound(
            "pictures on demand are made of videos; this item has none".into(),
        ));
    };
    if !duration.is_finite() || duration <= 0.0 {
        return Err(ApiError::NotFound(
            "pictures on demand are made of videos; this item has none".into(),
        ));
    }
    let source = PictureSource {
        media_id: media.id.clone(),
        hls_master: hls.clone(),
        duration,
    };
    Ok((source, duration))
}

/// Serves the picture stored under `stem`, rendering and storing it first when it is not there.
async fn serve_picture(
    state: &AppState,
    media: &Media,
    source: PictureSource,
    request: PictureRequest,
    stem: &str,
    format: PictureFormat,
    req: Request,
) -> ApiResult<Response> {
    let (ext, content_type) = match format {
        PictureFormat::Jpeg => ("jpg", "image/jpeg"),
        PictureFormat::Webp => ("webp", "image/webp"),
        PictureFormat::Png => ("png", "image/png"),
        PictureFormat::Gif => ("gif", "image/gif"),
    };
    let key = ObjectKey::new(layout::output_key(
        &media.id,
        &layout::picture_file(stem, ext),
    ))
    .map_err(|e| ApiError::internal("a picture's key", e))?;
    let store = state.output_store.as_ref();
    if !stored(state, &key).await? {
        let _flight = state.pictures.flight(key.as_str()).await;
        // Whoever held the flight before may have stored it meanwhile.
        if !stored(state, &key).await? {
            let bytes = state.pictures.render(source, request).await?;
            store.put_bytes(&key, Bytes::from(bytes)).await?;
        }
    }
    let (parts, _) = req.into_parts();
    objects::serve(
        store,
        &key,
        &parts.method,
        &parts.headers,
        ServeOptions {
            content_type: HeaderValue::from_static(content_type),
            etag: None,
            // As the poster: a picture is the same until the item is reprocessed.
            cache_control: HeaderValue::from_static(if media.visibility == Visibility::Private {
                "private, max-age=300"
            } else {
                "public, max-age=300"
            }),
            content_disposition: None,
        },
    )
    .await
}

async fn stored(state: &AppState, key: &ObjectKey) -> ApiResult<bool> {
    match state.output_store.head(key).await {
        Ok(_) => Ok(true),
        Err(StorageError::NotFound(_)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_checked_and_named() {
        let p = |time: &str, width: &str, fit: &str| StillParams {
            time: Some(time.into()),
            width: Some(width.into()),
            fit: Some(fit.into()),
            ..Default::default()
        };
        let err = |p: StillParams| match parse_still(&p) {
            Err(ApiError::BadRequest(m)) => m,
            _ => panic!("accepted"),
        };
        assert!(err(p("-1", "10", "cover")).starts_with("time:"));
        assert!(err(p("NaN", "10", "cover")).starts_with("time:"));
        assert!(err(p("1", "1921", "cover")).starts_with("width:"));
        assert!(err(p("1", "0", "cover")).starts_with("width:"));
        assert!(err(p("1", "10", "stretch")).starts_with("fit:"));
        let ok = parse_still(&p("1.5", "1920", "pad")).unwrap();
        assert_eq!(
            (ok.time, ok.width, ok.fit),
            (Some(1.5), Some(1920), Fit::Pad)
        );
    }
}
