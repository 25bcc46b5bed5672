//! Text tracks of an item: upload a caption or subtitle file (WebVTT or SubRip, normalised to
//! WebVTT), list the item's tracks (the source's and uploaded ones), delete an uploaded one.
//! An uploaded track is published at once: its WebVTT file and one-segment HLS playlist are
//! stored beside the streams, and playback adds it to the HLS master and DASH manifest as they
//! are served ([`manifest`]).
//!
//! Never an orphan: the files are stored first and the row written after (on failure the files
//! are deleted again); a delete removes the row, then the files. Deleting the item removes its
//! rows (cascade) and its outputs prefix holds the files.

mod cues;
mod language;
pub(crate) mod manifest;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::access::load_owned;
use crate::http::caller::AuthUser;
use crate::http::path_id::parse_id;
use crate::http::text::check_text;
use crate::http::views::TextTrackView;
use crate::AppState;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::Json;
use bytes::Bytes;
use mediaserver_core::layout::{self, output_key};
use mediaserver_core::{
    Media, MediaId, MediaKind, MediaStatus, TextTrack, TextTrackKind, TextTrackSource,
};
use mediaserver_db::UploadedTextTrack;
use mediaserver_storage::ObjectKey;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

/// Largest caption file accepted.
pub(crate) const MAX_TEXT_TRACK_BYTES: usize = 5 * 1024 * 1024;
/// Longest label, in characters.
const MAX_LABEL_CHARS: usize = 100;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        // The handler reads the body itself, one byte past the limit, to answer with its own 413.
        .routes(
            routes!(upload_text_track, list_text_tracks)
                .layer(DefaultBodyLimit::max(MAX_TEXT_TRACK_BYTES)),
        )
        .routes(routes!(delete_text_track))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct UploadParams {
    /// The track's language: an ISO 639-1/639-2/639-3 code or a BCP 47 tag built on one
    /// (`en`, `eng`, `pt-BR`).
    #[param(
        required = true,
        min_length = 2,
        max_length = 35,
        pattern = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$",
        example = "en"
    )]
    language: Option<String>,
    /// What players show in their captions menu (at most 100 characters); defaults to the
    /// language's English name.
    #[param(max_length = 100, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    label: Option<String>,
    /// `subtitles` (speech only, the default) or `captions` (speech and sounds, for viewers
    /// who cannot hear the audio).
    #[param(value_type = Option<TextTrackKind>)]
    kind: Option<String>,
}

/// A caption file's bytes: WebVTT or SubRip, UTF-8.
pub(crate) struct CaptionFile;

impl utoipa::PartialSchema for CaptionFile {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(MAX_TEXT_TRACK_BYTES))
            .description(Some(
                "A WebVTT (`WEBVTT` first) or SubRip file, UTF-8, at most 5 MiB.",
            ))
            .into()
    }
}

impl ToSchema for CaptionFile {}

/// The item's text tracks.
#[derive(Serialize, ToSchema)]
pub(crate) struct TextTrackList {
    /// The source's subtitle streams first, then uploaded files, oldest first.
    items: Vec<TextTrackView>,
}

/// Add a caption or subtitle file to a ready video or audio item: the raw file (WebVTT or
/// SubRip, UTF-8, at most 5 MiB) as the body, `?language=` (required), `label`, `kind`. It is
/// normalised to WebVTT and published in the item's HLS and DASH manifests at once. Cues must
/// start before the item ends; a cue that runs past the end is cut there. Owner or admin.
#[utoipa::path(post, path = "/v1/media/{id}/text-tracks", tag = "media", security(("bearer" = [])),
    params(("id" = String, Path), UploadParams),
    request_body(description = "the caption file", content(
        (CaptionFile = "text/vtt"), (CaptionFile = "application/x-subrip"),
        (CaptionFile = "text/plain"), (CaptionFile = "application/octet-stream"))),
    responses((status = 201, body = TextTrackView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "The item is not ready (still processing, or failed) or is an image", body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 422, description = "The file is not a usable WebVTT or SubRip file (the line at fault is named), has no cues, or a cue starts after the item ends", body = ErrorBody),
        (status = 503, body = ErrorBody),
        (status = 507, description = "The server is out of disk space; nothing was kept", body = ErrorBody)))]
async fn upload_text_track(
    State(state): State<AppState>,
    caller: AuthUser,
    // Parsed after the body and parameters, whose 4xx come first.
    Path(id): Path<String>,
    query: Result<Query<UploadParams>, axum::extract::rejection::QueryRejection>,
    req: Request,
) -> ApiResult<(StatusCode, Json<TextTrackView>)> {
    let Query(params) = query?;
    let too_large = || {
        ApiError::PayloadTooLarge(format!(
            "caption files are at most {} MiB",
            MAX_TEXT_TRACK_BYTES / (1024 * 1024)
        ))
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_TEXT_TRACK_BYTES as u64) {
        return Err(too_large());
    }
    let body = Bytes::from_request(req, &state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError::BadRequest(format!("unreadable request body: {}", e.body_text()))
        }
    })?;
    let language = match params.language.as_deref() {
        None | Some("") => {
            return Err(ApiError::BadRequest(
                "language: required, an ISO 639 code such as `en` or `pt-BR`".into(),
            ))
        }
        Some(l) => language::normalise(l).map_err(ApiError::BadRequest)?,
    };
    let kind = match params.kind.as_deref() {
        None | Some("subtitles") => TextTrackKind::Subtitles,
        Some("captions") => TextTrackKind::Captions,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "kind: {other:?} is not a kind of text track; use `subtitles` or `captions`"
            )))
        }
    };
    let label = match params.label.map(|l| l.trim().to_string()) {
        Some(l) if !l.is_empty() => {
            check_text("label", &l)?;
            if l.chars().count() > MAX_LABEL_CHARS {
                return Err(ApiError::BadRequest(format!(
                    "label: must be at most {MAX_LABEL_CHARS} characters"
                )));
            }
            l
        }
        _ => language::english_name(&language)
            .unwrap_or(&language)
            .to_string(),
    };
    if body.is_empty() {
        return Err(ApiError::BadRequest(
            "the body is empty: send the WebVTT or SubRip file as the request body".into(),
        ));
    }
    let parsed = cues::parse(&body).map_err(|e| ApiError::Unprocessable(e.to_string()))?;

    let media = load_owned(&state, &parse_id::<MediaId>(&id)?, &caller).await?;
    let duration_ms = publishable_duration(&media)?;
    let parsed = fit_to_duration(parsed, duration_ms)?;
    let vtt = parsed.to_webvtt();

    let track = TextTrack {
        id: format!("u{}", &uuid::Uuid::new_v4().simple().to_string()[..10]),
        language,
        label,
        kind,
        source: TextTrackSource::Upload,
    };
    let row = UploadedTextTrack {
        media_id: media.id.clone(),
        bytes: vtt.len() as i64,
        track: track.clone(),
        created_at: chrono::Utc::now(),
    };
    let vtt_key = key(&media, &layout::text_track_vtt(&track.id))?;
    let playlist_key = key(&media, &layout::text_track_playlist(&track.id))?;
    let playlist = manifest::media_playlist(&track.id, duration_ms);
    let store = state.output_store.as_ref();
    // Files first, then the row: a row never names missing files, and files without a row are
    // deleted here.
    let stored: ApiResult<bool> = async {
        store.put_bytes(&vtt_key, Bytes::from(vtt)).await?;
        store
            .put_bytes(&playlist_key, Bytes::from(playlist))
            .await?;
        Ok(state.repo.add_text_track(&row).await?)
    }
    .await;
    match stored {
        Ok(true) => {}
        other => {
            for k in [&vtt_key, &playlist_key] {
                if let Err(e) = store.delete(k).await {
                    tracing::warn!(media_id = %media.id, key = %k, error = %mediaserver_core::ErrorChain(&e), "could not delete a text track file after a failed upload");
                }
            }
            other?;
            // The item was deleted meanwhile.
            return Err(ApiError::not_found("media item"));
        }
    }
    state.playback_cache.invalidate(&media.id);
    tracing::info!(media_id = %media.id, track = %track.id, "text track added");
    Ok((
        StatusCode::CREATED,
        Json(TextTrackView::new(&media.id, track, None)),
    ))
}

fn key(media: &Media, name: &str) -> ApiResult<ObjectKey> {
    ObjectKey::new(output_key(&media.id, name)).map_err(|e| ApiError::internal("text track key", e))
}

/// The item's length in milliseconds, if text tracks can be added to it now.
fn publishable_duration(media: &Media) -> ApiResult<u64> {
    if media.kind == MediaKind::Image {
        return Err(ApiError::Conflict(
            "images have no text tracks: add captions to a video or audio item".into(),
        ));
    }
    let duration = media.duration_seconds.filter(|d| d.is_finite() && *d > 0.0);
    match (media.status, duration) {
        (MediaStatus::Ready, Some(d)) => Ok((d * 1000.0).round() as u64),
        (MediaStatus::Ready, None) => Err(ApiError::Conflict(
            "this item's duration is unknown, so captions cannot be timed against it".into(),
        )),
        (MediaStatus::Failed, _) => Err(ApiError::Conflict(
            "this item failed processing: retry it, then add captions once it is ready".into(),
        )),
        (status, _) => Err(ApiError::Conflict(format!(
            "this item is still {status} ({}%): wait until it is ready, then add captions",
            media.progress
        ))),
    }
}

/// Refuses cues that start at or after the item's end and cuts those that run past it.
fn fit_to_duration(mut parsed: cues::Cues, duration_ms: u64) -> ApiResult<cues::Cues> {
    if let Some(c) = parsed.cues.iter().find(|c| c.start_ms >= duration_ms) {
        return Err(ApiError::Unprocessable(format!(
            "line {}: the cue starts at {}, after the item ends ({})",
            c.line,
            cues::timestamp(c.start_ms),
            cues::timestamp(duration_ms)
        )));
    }
    for c in &mut parsed.cues {
        c.end_ms = c.end_ms.min(duration_ms);
    }
    Ok(parsed)
}

/// The item's text tracks: the source's subtitle streams, then uploaded files. Owner or admin.
#[utoipa::path(get, path = "/v1/media/{id}/text-tracks", tag = "media", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = TextTrackList), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn list_text_tracks(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<TextTrackList>> {
    let media = load_owned(&state, &parse_id::<MediaId>(&id)?, &caller).await?;
    let uploaded = state.repo.text_tracks(&media.id).await?;
    let items = media
        .outputs
        .text_tracks
        .iter()
        .cloned()
        .chain(uploaded.into_iter().map(|u| u.track))
        .map(|t| TextTrackView::new(&media.id, t, None))
        .collect();
    Ok(Json(TextTrackList { items }))
}

/// Delete an uploaded text track with its files: it leaves the item's manifests at once. A track from the
/// source's own subtitle streams cannot be deleted (409). Owner or admin.
#[utoipa::path(delete, path = "/v1/media/{id}/text-tracks/{track_id}", tag = "media", security(("bearer" = [])),
    params(("id" = String, Path), ("track_id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "The track is one of the source's subtitle streams", body = ErrorBody),
        (status = 503, body = ErrorBody)))]
async fn delete_text_track(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((id, track_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let media = load_owned(&state, &parse_id::<MediaId>(&id)?, &caller).await?;
    if media.outputs.text_tracks.iter().any(|t| t.id == track_id) {
        return Err(ApiError::Conflict(format!(
            "text track {track_id} is a subtitle stream of the source file: it cannot be deleted, only uploaded tracks can"
        )));
    }
    let plain = !track_id.is_empty()
        && track_id.len() <= 64
        && track_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    let known = plain
        && state
            .repo
            .text_tracks(&media.id)
            .await?
            .iter()
            .any(|u| u.track.id == track_id);
    if !known {
        return Err(ApiError::not_found("text track"));
    }
    // Files first, as an item's delete does: if storage fails the row stays and the delete can
    // be retried, instead of leaving files no row names.
    for name in [
        layout::text_track_vtt(&track_id),
        layout::text_track_playlist(&track_id),
    ] {
        state.output_store.delete(&key(&media, &name)?).await?;
    }
    state.repo.delete_text_track(&media.id, &track_id).await?;
    state.playback_cache.invalidate(&media.id);
    tracing::info!(media_id = %media.id, track = %track_id, "text track deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// The item's uploaded tracks for playback, as core's vocabulary.
pub(crate) async fn uploaded(state: &AppState, id: &MediaId) -> ApiResult<Vec<TextTrack>> {
    Ok(state
        .repo
        .text_tracks(id)
        .await?
        .into_iter()
        .map(|u| u.track)
        .collect())
}
