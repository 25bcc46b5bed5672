//! `GET /oembed` (oEmbed 1.0, JSON): for the URL of an item of this server, the iframe that
//! embeds its player, at a size that honours the consumer's `maxwidth`/`maxheight`.

use super::escape;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::path_id::parse_id;
use crate::http::BaseUrl;
use crate::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use mediaserver_core::layout::public;
use mediaserver_core::{Media, MediaId, MediaKind, MediaStatus, Visibility};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The iframe's size when the item's is unknown (audio, or not probed yet).
const DEFAULT_SIZE: (u32, u32) = (640, 360);
/// Widest iframe offered without `maxwidth`: a 4K source is not embedded 3840 pixels wide.
const MAX_NATURAL_WIDTH: u32 = 1280;
/// The poster is at most this wide, aspect kept, both sides even (as the worker makes it).
const THUMBNAIL_MAX_WIDTH: u32 = 1280;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct OEmbedParams {
    /// The URL of an item on this server: its embed page (`/embed/{id}`), its share page
    /// (`/watch/{id}`), its page in the web app (`/#/media/{id}`) or its API URL
    /// (`/v1/media/{id}`).
    url: String,
    /// Largest width the consumer can show, in pixels.
    #[param(value_type = Option<u32>, minimum = 1)]
    maxwidth: Option<String>,
    /// Largest height the consumer can show, in pixels.
    #[param(value_type = Option<u32>, minimum = 1)]
    maxheight: Option<String>,
    /// `json` (the default); any other format is not served (501).
    format: Option<String>,
}

/// An oEmbed 1.0 `video` response.
#[derive(Serialize, ToSchema)]
pub(crate) struct OEmbed {
    /// Always `1.0`.
    version: &'static str,
    /// Always `video`.
    r#type: &'static str,
    /// The iframe that embeds the player (`/embed/{id}`); its title is HTML-escaped.
    html: String,
    /// The iframe's size in pixels, within `maxwidth` and `maxheight`.
    width: u32,
    height: u32,
    title: String,
    provider_name: &'static str,
    provider_url: String,
    /// How long the consumer may cache this answer, in seconds.
    cache_age: u32,
    /// The poster; when it is larger than `maxwidth`/`maxheight`, the same frame made at a size
    /// within them (where this server renders pictures; otherwise absent). Absent when the
    /// item has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    thumbnail_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thumbnail_width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thumbnail_height: Option<u32>,
}

/// oEmbed: the iframe for an item of this server, for sites that turn a pasted link into a
/// player. Public and unlisted items only.
#[utoipa::path(get, path = "/oembed", tag = "embeds", params(OEmbedParams),
    responses((status = 200, body = OEmbed),
        (status = 400, description = "no url, a URL not of this server, or a bad maxwidth/maxheight", body = ErrorBody),
        (status = 404, description = "no such item, a private one, or one without a player", body = ErrorBody),
        (status = 501, description = "a format other than json", body = ErrorBody)))]
pub(super) async fn oembed(
    State(state): State<AppState>,
    base: BaseUrl,
    query: Result<Query<OEmbedParams>, QueryRejection>,
) -> ApiResult<Json<OEmbed>> {
    let Query(p) = query?;
    match p.format.as_deref() {
        None | Some("json") => {}
        Some(other) => {
            return Err(ApiError::NotImplemented(format!(
                "format: only json is served, not {:?}",
                other.chars().take(20).collect::<String>()
            )))
        }
    }
    let max = |name: &str, v: &Option<String>| -> ApiResult<u32> {
        match v.as_deref() {
            None => Ok(u32::MAX),
            Some(s) => s.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
                ApiError::BadRequest(format!("{name}: must be a whole number of pixels from 1"))
            }),
        }
    };
    let (max_w, max_h) = (
        max("maxwidth", &p.maxwidth)?,
        max("maxheight", &p.maxheight)?,
    );
    let base = base.get()?;
    let id = item_id(&base, &p.url)?;
    let id = parse_id::<MediaId>(&id)?;
    let media = state
        .repo
        .get_media(&id)
        .await?
        .filter(|m| m.visibility != Visibility::Private)
        .ok_or_else(|| ApiError::not_found("media item"))?;
    if media.kind == MediaKind::Image || media.status == MediaStatus::Failed {
        return Err(ApiError::NotFound(
            "this item has no player to embed".into(),
        ));
    }
    let (width, height) = fit(natural_size(&media), max_w, max_h);
    let poster = thumbnail_size(&media).filter(|(w, h)| *w <= max_w && *h <= max_h);
    let poster_url = format!("{base}/v1/media/{}/{}", media.id, public::THUMBNAIL);
    // A poster larger than the maxima: the same frame at a size that fits, made on demand.
    let thumbnail = match poster {
        Some(size) => Some((poster_url, size)),
        None => sized_thumbnail(&state, &media, max_w, max_h).map(|(w, h)| {
            let url = format!("{poster_url}?width={w}&height={h}&fit=fill");
            (url, (w, h))
        }),
    };
    let src = format!("{base}/embed/{}", media.id);
    let title = escape(&media.title);
    Ok(Json(OEmbed {
        version: "1.0",
        r#type: "video",
        html: format!(
            "<iframe src=\"{src}\" width=\"{width}\" height=\"{height}\" title=\"{title}\" \
             frameborder=\"0\" allow=\"autoplay; fullscreen; picture-in-picture\" \
             allowfullscreen></iframe>"
        ),
        width,
        height,
        title: media.title.clone(),
        provider_name: "mediaserver",
        provider_url: format!("{base}/"),
        cache_age: 3600,
        thumbnail_width: thumbnail.as_ref().map(|t| t.1 .0),
        thumbnail_height: thumbnail.as_ref().map(|t| t.1 .1),
        thumbnail_url: thumbnail.map(|t| t.0),
    }))
}

/// The item id in `url`, a URL of this server (`base`): a 400 for another server's (or no URL),
/// a 404 for one of this server that names no item.
fn item_id(base: &str, url: &str) -> ApiResult<String> {
    let bad = || ApiError::BadRequest(format!("url: not a URL of this server ({base})"));
    let url = url::Url::parse(url).map_err(|_| bad())?;
    let ours = url::Url::parse(base).map_err(|_| bad())?;
    if url.origin() != ours.origin() {
        return Err(bad());
    }
    // EXTERNAL_URL may put the server under a path.
    let path = url
        .path()
        .strip_prefix(ours.path().trim_end_matches('/'))
        .ok_or_else(bad)?
        .trim_end_matches('/');
    let fragment = url.fragment().unwrap_or("");
    let id = path
        .strip_prefix("/embed/")
        .or_else(|| path.strip_prefix("/watch/"))
        .or_else(|| path.strip_prefix("/v1/media/"))
        .or_else(|| {
            (path.is_empty())
                .then(|| fragment.strip_prefix("/media/"))
                .flatten()
        })
        .filter(|id| !id.is_empty() && !id.contains('/'));
    id.map(str::to_string)
        .ok_or_else(|| ApiError::NotFound("no media item at this URL".into()))
}

/// The size the player is offered at before `maxwidth`/`maxheight`: the item's display size,
/// no wider than [`MAX_NATURAL_WIDTH`].
pub(super) fn natural_size(media: &Media) -> (u32, u32) {
    match (media.width, media.height) {
        (Some(w), Some(h)) if w > 0 && h > 0 && media.kind == MediaKind::Video => {
            fit((w as u32, h as u32), MAX_NATURAL_WIDTH, u32::MAX)
        }
        _ => DEFAULT_SIZE,
    }
}

/// `(w, h)` scaled down (aspect kept, rounded down, at least 1) to fit `max_w` × `max_h`.
fn fit((w, h): (u32, u32), max_w: u32, max_h: u32) -> (u32, u32) {
    let (mut w, mut h) = (u64::from(w), u64::from(h));
    let (max_w, max_h) = (u64::from(max_w), u64::from(max_h));
    if w > max_w {
        h = (h * max_w / w).max(1);
        w = max_w;
    }
    if h > max_h {
        w = (w * max_h / h).max(1);
        h = max_h;
    }
    (w as u32, h as u32)
}

/// The size of a still within `max_w` × `max_h` (the poster's aspect, both sides at least 1 and
/// at most the largest a still may be), for a video pictures can be made of on this server.
/// Rendered with `fit=fill` at exactly this size, so `thumbnail_width`/`_height` are exact.
fn sized_thumbnail(state: &AppState, media: &Media, max_w: u32, max_h: u32) -> Option<(u32, u32)> {
    let ready = media.status == MediaStatus::Ready && media.kind == MediaKind::Video;
    if !ready || media.outputs.hls.is_none() || !state.pictures.available() {
        return None;
    }
    let side = crate::http::pictures::MAX_STILL_SIDE;
    let (w, h) = fit(thumbnail_size(media)?, max_w.min(side), max_h.min(side));
    Some((w, h))
}

/// The poster's size: the display size at most [`THUMBNAIL_MAX_WIDTH`] wide, both sides even,
/// which is how the worker scales it (`crates/media/src/transcode/video.rs`, checked against a
/// real poster by the integration tests).
fn thumbnail_size(media: &Media) -> Option<(u32, u32)> {
    media.outputs.thumbnail.as_ref()?;
    let (w, h) = (media.width? as u32, media.height? as u32);
    if w == 0 || h == 0 {
        return None;
    }
    let tw = (w.min(THUMBNAIL_MAX_WIDTH) & !1).max(2);
    let th = (((f64::from(tw) * f64::from(h) / f64::from(w) / 2.0).round() as u32) * 2).max(2);
    Some((tw, th))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_of_this_server_name_items() {
        let base = "http://media.example:8080";
        let id = |u: &str| item_id(base, u).map_err(|e| e.to_string());
        for u in [
            "http://media.example:8080/embed/abc",
            "http://MEDIA.example:8080/embed/abc/?autoplay=1",
            "http://media.example:8080/#/media/abc",
            "http://media.example:8080/v1/media/abc",
            "http://media.example:8080/watch/abc",
        ] {
            assert_eq!(id(u).as_deref(), Ok("abc"), "{u}");
        }
        for u in [
            "https://media.example:8080/embed/abc",
            "http://media.example/embed/abc",
            "http://evil.example:8080/embed/abc",
            "not a url",
            "/embed/abc",
        ] {
            assert!(
                id(u)
                    .unwrap_err()
                    .starts_with("url: not a URL of this server"),
                "{u}"
            );
        }
        for u in [
            "http://media.example:8080/",
            "http://media.example:8080/embed/",
            "http://media.example:8080/embed/a/b",
            "http://media.example:8080/#/library",
            "http://media.example:8080/x#/media/abc",
        ] {
            assert_eq!(id(u), Err("no media item at this URL".to_string()), "{u}");
        }
    }

    #[test]
    fn sizes_fit_within_the_maxima_keeping_the_aspect() {
        assert_eq!(fit((1280, 720), u32::MAX, u32::MAX), (1280, 720));
        assert_eq!(fit((1280, 720), 640, u32::MAX), (640, 360));
        assert_eq!(fit((1280, 720), u32::MAX, 180), (320, 180));
        assert_eq!(fit((1280, 720), 400, 400), (400, 225));
        assert_eq!(fit((320, 240), 1000, 1000), (320, 240));
        assert_eq!(fit((1000, 3), 10, 10), (10, 1));
    }
}
