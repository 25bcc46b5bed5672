//! Clips: `POST /v1/media/{id}/clips` makes a new item from a time range of a ready video or
//! audio item. Only the source's owner (or an admin) may clip it — anyone else, even one who
//! may watch it, gets the 404 of an unknown item: a clip copies the original, which only they
//! may download. The clip is the caller's, private like every new item, and processed like an
//! upload (`Ingest::create_clip`: its own copy of the original, the range on its row).

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::access::load_owned;
use crate::http::caller::AuthUser;
use crate::http::media::check_title;
use crate::http::path_id::parse_id;
use crate::http::views::{media_view, MediaView};
use crate::http::ApiJson;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use mediaserver_core::{MediaId, MediaKind, MediaStatus};
use mediaserver_ingest::NewClip;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_clip))
}

/// A clip shorter than this is refused: a frame or two plays as nothing.
const MIN_SECONDS: f64 = 0.1;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClipRequest {
    /// Where the clip starts in the source, in seconds (0 or more, before its end).
    #[schema(minimum = 0)]
    start_seconds: f64,
    /// Where it ends (after `start_seconds`, at most the source's duration).
    #[schema(minimum = 0)]
    end_seconds: f64,
    /// The clip's title (default: the source's title with " (clip)"). At most 200 characters.
    #[schema(max_length = 200, example = "The best part")]
    title: Option<String>,
}

/// Make a clip: a new item (the caller's, private) cut frame-accurately from `start_seconds` to
/// `end_seconds` of a ready video or audio item, processed like an upload (renditions,
/// thumbnail, storyboard, downloads). It keeps its own copy of the original: deleting the
/// source leaves it alone. Owner or admin only.
#[utoipa::path(post, path = "/v1/media/{id}/clips", tag = "media", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = ClipRequest,
    responses((status = 202, body = MediaView, description = "the clip, queued"),
        (status = 400, body = ErrorBody, description = "a bad range or title"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the source is an image, not ready, or its original is gone"),
        (status = 413, body = ErrorBody, description = "the copy would pass the caller's quota"),
        (status = 507, body = ErrorBody)))]
async fn create_clip(
    State(state): State<AppState>,
    caller: AuthUser,
    // Parsed after the body, whose 400s come first.
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ClipRequest>,
) -> ApiResult<(StatusCode, Json<MediaView>)> {
    let title = match body.title.map(|t| t.trim().to_string()) {
        Some(t) if !t.is_empty() => {
            check_title(&t)?;
            Some(t)
        }
        _ => None,
    };
    let source = load_owned(&state, &parse_id::<MediaId>(&id)?, &caller).await?;
    if source.kind == MediaKind::Image {
        // The request may be well formed; this item cannot take it.
        return Err(ApiError::Conflict(
            "an image has no time range to clip".into(),
        ));
    }
    let duration = match (source.status, source.duration_seconds) {
        (MediaStatus::Ready, Some(d)) => d,
        _ => {
            return Err(ApiError::Conflict(format!(
                "the source is {}: only a ready item can be clipped",
                source.status
            )))
        }
    };
    check_range(body.start_seconds, body.end_seconds, duration)?;
    let media = state
        .ingest
        .create_clip(NewClip {
            source: &source,
            owner_id: caller.id.clone(),
            title,
            start_seconds: body.start_seconds,
            end_seconds: body.end_seconds,
        })
        .await?;
    Ok((StatusCode::ACCEPTED, Json(media_view(&state, media, true)?)))
}

/// A range of a source `duration` seconds long; the error names what is wrong with it.
fn check_range(start: f64, end: f64, duration: f64) -> ApiResult<()> {
    let bad = |m: String| Err(ApiError::BadRequest(m));
    if !(start.is_finite() && end.is_finite()) {
        return bad("start_seconds, end_seconds: must be numbers".into());
    }
    if start < 0.0 {
        return bad("start_seconds: must be 0 or more".into());
    }
    if end <= start {
        return bad("end_seconds: must be greater than start_seconds".into());
    }
    if end - start > duration {
        return bad(format!(
            "the clip ({:.3} s) is longer than the source ({duration:.3} s)",
            end - start
        ));
    }
    if start >= duration {
        return bad(format!(
            "start_seconds: {start} is past the end of the source ({duration:.3} s)"
        ));
    }
    if end > duration {
        return bad(format!(
            "end_seconds: {end} is past the end of the source ({duration:.3} s)"
        ));
    }
    if end - start < MIN_SECONDS {
        return bad(format!("the clip must be at least {MIN_SECONDS} s long"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_range;

    #[test]
    fn ranges_are_checked_with_the_reason() {
        let msg = |s, e| match check_range(s, e, 10.0) {
            Err(e) => e.to_string(),
            Ok(()) => String::new(),
        };
        assert_eq!(msg(0.0, 10.0), "");
        assert_eq!(msg(2.5, 4.0), "");
        assert!(msg(-1.0, 2.0).contains("start_seconds: must be 0 or more"));
        assert!(msg(3.0, 3.0).contains("greater than start_seconds"));
        assert!(msg(4.0, 3.0).contains("greater than start_seconds"));
        assert!(msg(0.0, 12.0).contains("longer than the source"));
        assert!(msg(10.0, 11.0).contains("start_seconds: 10 is past the end"));
        assert!(msg(9.0, 10.5).contains("end_seconds: 10.5 is past the end"));
        assert!(msg(1.0, 1.05).contains("at least 0.1 s"));
    }
}
