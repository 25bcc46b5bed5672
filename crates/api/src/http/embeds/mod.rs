//! Embedding items in other sites: `GET /embed/{id}`, a page with nothing but the player (the
//! web UI's player module) that other sites put in an `<iframe>`, and `GET /oembed`, which tells
//! oEmbed consumers the iframe for an item's URL.
//!
//! Framing: the embed page is the one page of this server other sites may frame, through its
//! CSP's `frame-ancestors` ([`EmbedOrigins`], `EMBED_ALLOWED_ORIGINS`); every other page keeps
//! `frame-ancestors 'none'` and `X-Frame-Options: DENY`. Access is the playback rules': public
//! and unlisted items for anyone, private ones with a playback token (`?token=`).

mod html;
mod oembed;

use crate::credentials::PlaybackGrant;
use crate::error::{ApiError, ApiResult};
use crate::http::access::may_read;
use crate::http::path_id::parse_id;
use crate::http::{web, BaseUrl};
use crate::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use mediaserver_core::layout::public;
use mediaserver_core::{Media, MediaId, MediaKind, MediaStatus, Visibility};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) use html::escape;

/// Which sites may show the embed page in a frame (`EMBED_ALLOWED_ORIGINS`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum EmbedOrigins {
    /// Unset: any site may frame public and unlisted items; a private item's page (played with a
    /// playback token) only this server's own pages.
    #[default]
    Default,
    /// `*`: any site, every item.
    Any,
    /// Only these origins (`scheme://host[:port]`, checked by the configuration; a host may
    /// start with `*.`), every item.
    List(Vec<String>),
}

impl EmbedOrigins {
    /// The CSP `frame-ancestors` sources for an item's page.
    fn frame_ancestors(&self, private: bool) -> String {
        match self {
            EmbedOrigins::Default if !private => "*".into(),
            EmbedOrigins::Default => "'self'".into(),
            EmbedOrigins::Any => "*".into(),
            EmbedOrigins::List(origins) => origins.join(" "),
        }
    }
}

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(embed_page))
        .routes(routes!(watch_page))
        .routes(routes!(oembed::oembed))
}

/// The viewer's options, from the page's query.
#[derive(Serialize, Clone, Copy, Debug, PartialEq)]
pub(crate) struct EmbedOptions {
    autoplay: bool,
    muted: bool,
    #[serde(rename = "loop")]
    looped: bool,
    controls: bool,
    /// Seconds.
    start: f64,
}

impl Default for EmbedOptions {
    fn default() -> Self {
        EmbedOptions {
            autoplay: false,
            muted: false,
            looped: false,
            controls: true,
            start: 0.0,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct EmbedParams {
    /// A playback token for the item (`POST /v1/media/{id}/playback-token`): needed for a
    /// private item.
    token: Option<String>,
    /// Start playing when loaded: `1`/`true` or `0`/`false` (default). Browsers may only allow
    /// it muted; the player then mutes and tries again.
    #[param(value_type = Option<bool>)]
    autoplay: Option<String>,
    /// Start muted (default `0`).
    #[param(value_type = Option<bool>)]
    muted: Option<String>,
    /// Play again from the start at the end (default `0`).
    #[param(value_type = Option<bool>)]
    r#loop: Option<String>,
    /// Show the player's controls (default `1`).
    #[param(value_type = Option<bool>)]
    controls: Option<String>,
    /// Where playback starts, in seconds (default 0).
    #[param(value_type = Option<f64>, minimum = 0)]
    start: Option<String>,
}

impl EmbedParams {
    /// The options, or a 400 naming the parameter at fault (unknown parameters are ignored:
    /// embed URLs pick up tracking parameters).
    fn options(&self) -> Result<EmbedOptions, ApiError> {
        let flag = |name: &str, v: &Option<String>, default: bool| match v.as_deref() {
            None => Ok(default),
            // Empty is refused, as every other query value of this API.
            Some("1" | "true") => Ok(true),
            Some("0" | "false") => Ok(false),
            Some(_) => Err(ApiError::BadRequest(format!(
                "{name}: must be 1, 0, true or false"
            ))),
        };
        let start = match self.start.as_deref() {
            None => 0.0,
            Some(s) => match s.parse::<f64>() {
                Ok(t) if t.is_finite() && t >= 0.0 => t,
                _ => {
                    return Err(ApiError::BadRequest(
                        "start: must be a number of seconds from 0".into(),
                    ))
                }
            },
        };
        Ok(EmbedOptions {
            autoplay: flag("autoplay", &self.autoplay, false)?,
            muted: flag("muted", &self.muted, false)?,
            looped: flag("loop", &self.r#loop, false)?,
            controls: flag("controls", &self.controls, true)?,
            start,
        })
    }
}

/// The embed page: the item's player alone (HLS, DASH when HLS cannot play, quality and audio
/// menus, storyboard scrubbing), for an `<iframe>` on another site. Public and unlisted items
/// play for anyone, private ones with `?token=`. Framing is allowed by `Content-Security-Policy:
/// frame-ancestors` from `EMBED_ALLOWED_ORIGINS`. Errors are small HTML pages with the status.
/// The page tells its parent window `{"type": "mediaserver:embed", "event": "ready" | "play" |
/// "pause" | "ended" | "timeupdate" | "error", "id", "currentTime"}` through `postMessage`.
#[utoipa::path(get, path = "/embed/{id}", tag = "embeds",
    params(("id" = String, Path), EmbedParams),
    responses(
        (status = 200, description = "the player page", content_type = "text/html", body = String),
        (status = 400, description = "a bad option (the page names it)", content_type = "text/html", body = String),
        (status = 401, description = "the playback token is invalid or expired", content_type = "text/html", body = String),
        (status = 403, description = "the playback token is for another item", content_type = "text/html", body = String),
        (status = 404, description = "no such item, a private one without a token, an image, or not playable yet", content_type = "text/html", body = String),
        (status = 503, description = "the database cannot serve now; retry later", content_type = "text/html", body = String)))]
async fn embed_page(
    State(state): State<AppState>,
    base: BaseUrl,
    Path(id): Path<String>,
    query: Result<Query<EmbedParams>, QueryRejection>,
) -> Response {
    page(&state, base, &id, query, false).await
}

/// The share page: the item's player with its title, for a link people open (and that link
/// previews unfurl: Open Graph and Twitter player tags, oEmbed discovery). The same access and
/// options as `/embed/{id}`, but no site may frame it.
#[utoipa::path(get, path = "/watch/{id}", tag = "embeds",
    params(("id" = String, Path), EmbedParams),
    responses(
        (status = 200, description = "the share page", content_type = "text/html", body = String),
        (status = 400, description = "a bad option (the page names it)", content_type = "text/html", body = String),
        (status = 401, description = "the playback token is invalid or expired", content_type = "text/html", body = String),
        (status = 403, description = "the playback token is for another item", content_type = "text/html", body = String),
        (status = 404, description = "no such item, a private one without a token, an image, or not playable yet", content_type = "text/html", body = String),
        (status = 503, description = "the database cannot serve now; retry later", content_type = "text/html", body = String)))]
async fn watch_page(
    State(state): State<AppState>,
    base: BaseUrl,
    Path(id): Path<String>,
    query: Result<Query<EmbedParams>, QueryRejection>,
) -> Response {
    page(&state, base, &id, query, true).await
}

/// The embed page (`watch` false) or the share page, or the error page in their place.
async fn page(
    state: &AppState,
    base: BaseUrl,
    id: &str,
    query: Result<Query<EmbedParams>, QueryRejection>,
    watch: bool,
) -> Response {
    let framing = |private: bool| {
        if watch {
            "'none'".to_string()
        } else {
            state
                .settings
                .embed_allowed_origins
                .frame_ancestors(private)
        }
    };
    let mut resp = match render(state, base, id, query, watch).await {
        Ok((page, private)) => html::respond(
            StatusCode::OK,
            page,
            page_csp(state, &framing(private)),
            if private {
                "private, no-store"
            } else {
                "no-cache"
            },
        ),
        Err(e) => {
            let message = e.to_string();
            // Logged (and the status chosen) where every error becomes a response.
            let status = axum::response::IntoResponse::into_response(e).status();
            html::respond(
                status,
                html::error_page(status, &message),
                // An embed's error page may be framed, so the embedding site shows why.
                page_csp(state, &framing(false)),
                "no-store",
            )
        }
    };
    if watch {
        resp.headers_mut().insert(
            axum::http::header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        );
    }
    resp
}

fn page_csp(state: &AppState, frame_ancestors: &str) -> HeaderValue {
    web::csp_header(state.settings.public_base_url.as_deref(), frame_ancestors)
}

/// The page for item `id`, and whether the item is private.
async fn render(
    state: &AppState,
    base: BaseUrl,
    id: &str,
    query: Result<Query<EmbedParams>, QueryRejection>,
    watch: bool,
) -> ApiResult<(String, bool)> {
    let Query(params) = query?;
    let options = params.options()?;
    let grant = match params.token.as_deref() {
        Some(t) => Some(state.tokens.verify_playback_until(t)?.0),
        None => None,
    };
    if let Some(g) = &grant {
        if g.media_id.as_str() != id {
            return Err(ApiError::Forbidden(
                "this playback token is for another item".into(),
            ));
        }
    }
    let id = parse_id::<MediaId>(id)?;
    let media = playable(state, &id, grant.as_ref()).await?;
    let private = media.visibility == Visibility::Private;
    let base = base.get()?;
    let sources = match (&grant, private) {
        // A private item plays through the token's paths (the player cannot send a login).
        (Some(_), true) => format!("/v1/play/{}", params.token.as_deref().unwrap_or_default()),
        _ => format!("/v1/media/{}", media.id),
    };
    let out = &media.outputs;
    let config = html::PlayerConfig {
        id: media.id.to_string(),
        title: media.title.clone(),
        kind: if media.kind == MediaKind::Audio {
            "audio"
        } else {
            "video"
        },
        duration: media.duration_seconds.unwrap_or(0.0),
        hls: format!("{sources}/{}", public::HLS_MASTER),
        dash: format!("{sources}/{}", public::DASH_MANIFEST),
        dash_ready: media.status == MediaStatus::Ready,
        poster: out
            .thumbnail
            .as_ref()
            .map(|_| format!("{sources}/{}", public::THUMBNAIL)),
        storyboard: out
            .storyboard
            .as_ref()
            .map(|_| format!("{sources}/{}", public::STORYBOARD_VTT)),
        audio_tracks: out
            .audio_tracks
            .iter()
            .map(|t| html::TrackName {
                name: t.name.clone(),
            })
            .collect(),
        options,
    };
    let discovery = (!private).then(|| {
        let player_url = format!("{base}/embed/{}", media.id);
        let page_url = if watch {
            format!("{base}/watch/{}", media.id)
        } else {
            player_url.clone()
        };
        let (width, height) = oembed::natural_size(&media);
        html::Discovery {
            player_url,
            oembed_url: format!(
                "{base}/oembed?url={}&format=json",
                percent_encoding::utf8_percent_encode(
                    &page_url,
                    percent_encoding::NON_ALPHANUMERIC
                )
            ),
            page_url,
            poster_url: out
                .thumbnail
                .as_ref()
                .map(|_| format!("{base}/v1/media/{}/{}", media.id, public::THUMBNAIL)),
            width,
            height,
        }
    });
    Ok((
        html::player_page(&config, discovery.as_ref(), watch),
        private,
    ))
}

/// The item if this caller may play it and it has a player: not an image, and playable.
/// Everything the caller may not see is the 404 an unknown item gets.
async fn playable(
    state: &AppState,
    id: &MediaId,
    grant: Option<&PlaybackGrant>,
) -> ApiResult<Media> {
    let media = state
        .repo
        .get_media(id)
        .await?
        .filter(|m| may_read(m, None, grant))
        .ok_or_else(|| ApiError::not_found("media item"))?;
    if media.kind == MediaKind::Image {
        return Err(ApiError::NotFound(
            "an image has no player to embed; link its variants instead".into(),
        ));
    }
    if media.status == MediaStatus::Failed {
        return Err(ApiError::NotFound(
            "this item could not be processed, so there is nothing to play".into(),
        ));
    }
    if !(media.playable || media.status == MediaStatus::Ready) {
        return Err(ApiError::NotFound(format!(
            "not available yet: the item is {} ({}%)",
            media.status, media.progress
        )));
    }
    Ok(media)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(q: &str) -> EmbedParams {
        let uri: axum::http::Uri = format!("/embed/x?{q}").parse().unwrap();
        Query::<EmbedParams>::try_from_uri(&uri).unwrap().0
    }

    #[test]
    fn options_are_parsed_and_checked() {
        let o = params("autoplay=1&muted=true&loop=1&controls=0&start=12.5&utm_source=x")
            .options()
            .unwrap();
        assert_eq!(
            o,
            EmbedOptions {
                autoplay: true,
                muted: true,
                looped: true,
                controls: false,
                start: 12.5
            }
        );
        assert_eq!(params("").options().unwrap(), EmbedOptions::default());
        for (q, name) in [
            ("autoplay=yes", "autoplay"),
            ("loop", "loop"),
            ("muted=", "muted"),
            ("start=", "start"),
            ("controls=2", "controls"),
            ("start=-1", "start"),
            ("start=inf", "start"),
            ("start=NaN", "start"),
            ("start=abc", "start"),
        ] {
            let e = params(q).options().unwrap_err().to_string();
            assert!(e.starts_with(name), "{q}: {e}");
        }
    }

    #[test]
    fn framing_follows_the_setting() {
        assert_eq!(EmbedOrigins::Default.frame_ancestors(false), "*");
        assert_eq!(EmbedOrigins::Default.frame_ancestors(true), "'self'");
        assert_eq!(EmbedOrigins::Any.frame_ancestors(true), "*");
        let list = EmbedOrigins::List(vec![
            "https://a.example".into(),
            "https://*.b.example".into(),
        ]);
        assert_eq!(
            list.frame_ancestors(false),
            "https://a.example https://*.b.example"
        );
    }
}
