//! What a signed playback link opens: `GET /v1/play/{token}` describes the item the token plays
//! — its title, kind and the token's URLs — so the share page can carry the item's title, show
//! an image as an image, and say plainly that a link is invalid, expired or revoked instead of
//! showing an empty player.

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::access::may_read;
use crate::AppState;
use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, TimeZone, Utc};
use mediaserver_core::layout::public;
use mediaserver_core::{MediaKind, MediaStatus};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(shared_item))
}

/// An image variant, at the token's URL.
#[derive(Serialize, ToSchema)]
pub(crate) struct SharedVariant {
    name: String,
    width: i32,
    height: i32,
    url: String,
}

/// A rung of the video ladder; `bandwidth` is its measured peak, video and audio (bits/s).
#[derive(Serialize, ToSchema)]
pub(crate) struct SharedRendition {
    width: i32,
    height: i32,
    bandwidth: i64,
}

/// The item a playback token plays, with every URL carrying the token.
#[derive(Serialize, ToSchema)]
pub(crate) struct SharedItem {
    title: String,
    kind: MediaKind,
    status: MediaStatus,
    /// True once enough is published to start playback.
    playable: bool,
    duration_seconds: Option<f64>,
    /// When the token (and with it every URL here) stops working.
    expires_at: DateTime<Utc>,
    hls: String,
    dash: String,
    thumbnail_url: Option<String>,
    storyboard_url: Option<String>,
    /// An image's generated variants.
    variants: Vec<SharedVariant>,
    renditions: Vec<SharedRendition>,
}

/// The item a playback token plays (no login: the token is the credential). 401 for a token
/// that is malformed, tampered with or expired; 404 when its item was deleted or made private
/// after the token was minted.
#[utoipa::path(get, path = "/v1/play/{token}", tag = "playback", security(()),
    params(("token" = String, Path, description = "A playback token (`POST /v1/media/{id}/playback-token`)")),
    responses((status = 200, body = SharedItem),
        (status = 401, body = ErrorBody, description = "invalid or expired token"),
        (status = 404, body = ErrorBody, description = "the item is gone or no longer shared")))]
async fn shared_item(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<Json<SharedItem>> {
    let (grant, exp) = state.tokens.verify_playback_until(&token)?;
    let not_found = || ApiError::not_found("media item");
    let media = state
        .repo
        .get_media(&grant.media_id)
        .await?
        .filter(|m| may_read(m, None, Some(&grant)))
        .ok_or_else(not_found)?;
    let base = format!("/v1/play/{token}");
    let out = &media.outputs;
    Ok(Json(SharedItem {
        expires_at: Utc.timestamp_opt(exp, 0).single().unwrap_or_else(Utc::now),
        hls: format!("{base}/{}", public::HLS_MASTER),
        dash: format!("{base}/{}", public::DASH_MANIFEST),
        thumbnail_url: out
            .thumbnail
            .as_ref()
            .map(|_| format!("{base}/{}", public::THUMBNAIL)),
        storyboard_url: out
            .storyboard
            .as_ref()
            .map(|_| format!("{base}/{}", public::STORYBOARD_VTT)),
        variants: out
            .variants
            .iter()
            .map(|v| SharedVariant {
                name: v.name.clone(),
                width: v.width,
                height: v.height,
                url: format!("{base}/{}", v.path),
            })
            .collect(),
        renditions: out
            .renditions
            .iter()
            .map(|r| SharedRendition {
                width: r.width,
                height: r.height,
                bandwidth: r.bandwidth,
            })
            .collect(),
        title: media.title,
        kind: media.kind,
        status: media.status,
        playable: media.playable,
        duration_seconds: media.duration_seconds,
    }))
}
