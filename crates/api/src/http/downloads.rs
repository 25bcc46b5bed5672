//! Downloads: the MP4s and the M4A processing remuxed from an item's rungs (listed in the item's
//! `downloads`), served as attachments named after the item's title. Access is playback's: the
//! item's visibility, a login, or a playback token (`?token=` or in the path).

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::caller::{AuthUser, MaybeAuthUser};
use crate::http::objects::{self, ServeOptions};
use crate::http::path_id::parse_id;
use crate::http::playback::load_playable;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::response::Response;
use mediaserver_core::{layout, Media, MediaId, MediaStatus, Visibility};
use mediaserver_storage::ObjectKey;
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(media_download))
        .routes(routes!(token_download))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DownloadParams {
    /// A playback token for this item (alternative to a login).
    token: Option<String>,
}

/// One of the item's downloads (its `downloads[].url`): an MP4 of a rung (`720p`…, H.264 + AAC,
/// `moov` first) or the M4A (`audio`), as an attachment named after the title. Access: the
/// item's visibility, a login, or `?token=`. Supports HEAD, Range and If-None-Match.
#[utoipa::path(get, path = "/v1/media/{id}/downloads/{name}", tag = "playback",
    security((), ("bearer" = [])),
    params(("id" = String, Path), ("name" = String, Path, description = "a download's `name`"), DownloadParams),
    responses((status = 200, description = "the file"), (status = 206, description = "a byte range"),
        (status = 304), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 416, body = ErrorBody)))]
async fn media_download(
    State(state): State<AppState>,
    MaybeAuthUser(caller): MaybeAuthUser,
    Path((id, name)): Path<(String, String)>,
    Query(q): Query<DownloadParams>,
    method: Method,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let media = match &q.token {
        Some(token) => {
            let grant = state
                .playback_cache
                .token(token, || state.tokens.verify_playback_until(token))?;
            if grant.media_id.as_str() != id {
                return Err(ApiError::Forbidden(
                    "this playback token is for another item".into(),
                ));
            }
            load_playable(&state, &grant.media_id, caller.as_ref(), Some(&grant)).await?
        }
        None => load(&state, &id, caller.as_ref()).await?,
    };
    serve_download(&state, &media, &name, &method, &headers).await
}

/// The same download, for the item named by the playback token in the path.
#[utoipa::path(get, path = "/v1/play/{token}/downloads/{name}", tag = "playback",
    params(("token" = String, Path), ("name" = String, Path, description = "a download's `name`")),
    responses((status = 200, description = "the file"), (status = 206, description = "a byte range"),
        (status = 304), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 416, body = ErrorBody)))]
async fn token_download(
    State(state): State<AppState>,
    Path((token, name)): Path<(String, String)>,
    method: Method,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let grant = state
        .playback_cache
        .token(&token, || state.tokens.verify_playback_until(&token))?;
    let media = load_playable(&state, &grant.media_id, None, Some(&grant)).await?;
    serve_download(&state, &media, &name, &method, &headers).await
}

async fn load(state: &AppState, id: &str, caller: Option<&AuthUser>) -> ApiResult<Arc<Media>> {
    let id = parse_id::<MediaId>(id)?;
    load_playable(state, &id, caller, None).await
}

async fn serve_download(
    state: &AppState,
    media: &Media,
    name: &str,
    method: &Method,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let download = media
        .outputs
        .downloads
        .iter()
        .find(|d| d.name == name)
        .filter(|_| media.status == MediaStatus::Ready)
        .ok_or_else(|| ApiError::NotFound("no such download for this item".into()))?;
    let key = ObjectKey::new(layout::output_key(&media.id, &download.path))
        .map_err(|_| ApiError::NotFound("no such download for this item".into()))?;
    let ext = download.path.rsplit_once('.').map_or("mp4", |(_, e)| e);
    let content_type = if download.content_type == "audio/mp4" {
        "audio/mp4"
    } else {
        "video/mp4"
    };
    objects::serve(
        state.output_store.as_ref(),
        &key,
        method,
        headers,
        ServeOptions {
            content_type: HeaderValue::from_static(content_type),
            etag: None,
            cache_control: HeaderValue::from_static(if media.visibility == Visibility::Private {
                "private, max-age=300"
            } else {
                "public, max-age=300"
            }),
            content_disposition: Some(objects::content_disposition(&file_name(
                &media.title,
                &download.name,
                ext,
            ))),
        },
    )
    .await
}

/// The file name a download is saved as: `Title (720p).mp4`, `Title.m4a`. Quotes, slashes,
/// backslashes, control and bidirectional characters are dropped and leading dots removed, so
/// that no client turns it into a path or a hidden file; the title is cut to 100 characters.
fn file_name(title: &str, name: &str, ext: &str) -> String {
    let cleaned: String = title
        .chars()
        .filter(|c| {
            !c.is_control()
                && !matches!(c, '"' | '\'' | '/' | '\\' | '`')
                && !mediaserver_core::is_bidi_control(*c)
        })
        .collect();
    let words: Vec<&str> = cleaned.split_whitespace().collect();
    let joined = words.join(" ");
    let trimmed: String = joined
        .trim_start_matches(['.', ' '])
        .chars()
        .take(100)
        .collect();
    let stem = match trimmed.trim_end_matches(['.', ' ']) {
        "" => "download",
        t => t,
    };
    if name == layout::AUDIO_DOWNLOAD {
        format!("{stem}.{ext}")
    } else {
        format!("{stem} ({name}).{ext}")
    }
}

#[cfg(test)]
mod tests {
    use super::file_name;

    #[test]
    fn file_names_are_safe() {
        assert_eq!(file_name("Holiday", "720p", "mp4"), "Holiday (720p).mp4");
        assert_eq!(file_name("Holiday", "audio", "m4a"), "Holiday.m4a");
        assert_eq!(
            file_name("../../etc/\"passwd\"", "720p", "mp4"),
            "etcpasswd (720p).mp4"
        );
        assert_eq!(file_name("a\\b\r\nc\u{202E}d", "audio", "m4a"), "abcd.m4a");
        assert_eq!(file_name("...", "240p", "mp4"), "download (240p).mp4");
        assert_eq!(
            file_name("東京 'trip'", "720p", "mp4"),
            "東京 trip (720p).mp4"
        );
        assert_eq!(
            file_name(&"x".repeat(300), "audio", "m4a").len(),
            100 + ".m4a".len()
        );
    }
}
