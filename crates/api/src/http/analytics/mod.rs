//! Viewer analytics: players report playback with beacons (`POST /v1/media/{id}/views`, or
//! `/v1/play/{token}/views` for a player that plays through a token in the path), and an item's
//! owner reads the aggregates (`GET /v1/media/{id}/analytics`). Beacons need no login: whoever
//! may play the item may report on it (the same access rules and playback tokens as playback).
//! Bodies are small (4 KiB), every field is checked, addresses are rate limited, and viewers are
//! counted by a salted daily hash (`viewers`): no address or user agent is stored. See
//! docs/analytics.md for the protocol.

mod beacon;
mod report;
mod viewers;

use crate::credentials::PlaybackGrant;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::access::{load_owned, may_read};
use crate::http::caller::{AuthUser, MaybeAuthUser};
use crate::http::path_id::parse_id;
use crate::http::{ApiBytes, ClientIp};
use crate::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use beacon::Beacon;
use chrono::{Days, Utc};
use mediaserver_core::analytics::{ViewBeacon, ViewEvent};
use mediaserver_core::{Media, MediaId, MediaKind};
use mediaserver_db::DbError;
use report::{AnalyticsReport, RangeParams};
use serde::Deserialize;
use std::net::IpAddr;
use utoipa::IntoParams;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

/// Sessions and their rendition totals are kept this long (days), then pruned: past the
/// longest report range, with a month to spare.
const RETENTION_DAYS: u64 = 400;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(media_beacon).layer(DefaultBodyLimit::max(beacon::MAX_BODY)))
        .routes(routes!(token_beacon).layer(DefaultBodyLimit::max(beacon::MAX_BODY)))
        .routes(routes!(media_analytics))
}

/// What the beacon routes keep in memory: the day's salt and the per-address budget.
#[derive(Debug)]
pub(crate) struct ViewTracker {
    salt: viewers::ViewerSalt,
    limiter: viewers::BeaconLimiter,
}

impl ViewTracker {
    /// Allowing each address `per_minute` beacons (`BEACONS_PER_MINUTE`).
    pub(crate) fn new(per_minute: u32) -> Self {
        ViewTracker {
            salt: Default::default(),
            limiter: viewers::BeaconLimiter::new(per_minute),
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct BeaconParams {
    /// A playback token for this item (alternative to a login), as playback takes it.
    token: Option<String>,
}

/// Reports playback of an item: one JSON object per request (see docs/analytics.md). No login
/// needed for an item the caller may play; a private item needs `?token=` (a playback token for
/// it) or its owner's login. At most 4 KiB; at most `BEACONS_PER_MINUTE` (120) beacons per minute per address.
#[utoipa::path(post, path = "/v1/media/{id}/views", tag = "analytics",
    security((), ("bearer" = [])),
    params(("id" = String, Path), BeaconParams),
    request_body(content = Beacon, content_type = "application/json",
        description = "`text/plain` is read the same way (what `navigator.sendBeacon` sends for a string)"),
    responses((status = 202, description = "recorded"),
        (status = 400, body = ErrorBody, description = "a field is missing or wrong: the message names it"),
        (status = 401, body = ErrorBody, description = "an invalid or expired playback token or login"),
        (status = 403, body = ErrorBody, description = "the playback token is for another item"),
        (status = 404, body = ErrorBody, description = "no such item, or not one the caller may play"),
        (status = 409, body = ErrorBody, description = "the item is an image: it has no playback"),
        (status = 413, body = ErrorBody, description = "the body is over 4 KiB"),
        (status = 429, body = ErrorBody, description = "too many beacons from this address; see Retry-After")))]
async fn media_beacon(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    MaybeAuthUser(caller): MaybeAuthUser,
    Path(id): Path<String>,
    query: Result<Query<BeaconParams>, QueryRejection>,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> ApiResult<StatusCode> {
    admit(&state, ip)?;
    let Query(q) = query?;
    let checked = beacon::parse(&body)?;
    let grant = match &q.token {
        Some(t) => {
            let (grant, _) = state.tokens.verify_playback_until(t)?;
            if grant.media_id.as_str() != id {
                return Err(ApiError::Forbidden(
                    "this playback token is for another item".into(),
                ));
            }
            Some(grant)
        }
        None => None,
    };
    let id = parse_id::<MediaId>(&id)?;
    let media = playable(&state, &id, caller.as_ref(), grant.as_ref()).await?;
    record(&state, &media, ip, &headers, checked).await
}

/// Reports playback of the item named by the playback token in the path (what a player playing
/// `/v1/play/{token}/…` sends). As `POST /v1/media/{id}/views` otherwise.
#[utoipa::path(post, path = "/v1/play/{token}/views", tag = "analytics",
    params(("token" = String, Path)),
    request_body(content = Beacon, content_type = "application/json",
        description = "`text/plain` is read the same way (what `navigator.sendBeacon` sends for a string)"),
    responses((status = 202, description = "recorded"),
        (status = 400, body = ErrorBody, description = "a field is missing or wrong: the message names it"),
        (status = 401, body = ErrorBody, description = "an invalid or expired playback token"),
        (status = 404, body = ErrorBody, description = "the item is gone, or the token no longer plays it"),
        (status = 409, body = ErrorBody, description = "the item is an image: it has no playback"),
        (status = 413, body = ErrorBody, description = "the body is over 4 KiB"),
        (status = 429, body = ErrorBody, description = "too many beacons from this address; see Retry-After")))]
async fn token_beacon(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(token): Path<String>,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> ApiResult<StatusCode> {
    admit(&state, ip)?;
    let checked = beacon::parse(&body)?;
    let (grant, _) = state.tokens.verify_playback_until(&token)?;
    let media = playable(&state, &grant.media_id, None, Some(&grant)).await?;
    record(&state, &media, ip, &headers, checked).await
}

fn admit(state: &AppState, ip: IpAddr) -> ApiResult<()> {
    state
        .view_tracker
        .limiter
        .admit(ip)
        .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })
}

/// The item, if the caller may play it (as playback decides), and it is something to play.
async fn playable(
    state: &AppState,
    id: &MediaId,
    caller: Option<&AuthUser>,
    grant: Option<&PlaybackGrant>,
) -> ApiResult<Media> {
    let not_found = || ApiError::not_found("media item");
    let media = state.repo.get_media(id).await?.ok_or_else(not_found)?;
    if !may_read(&media, caller, grant) {
        return Err(not_found());
    }
    if media.kind == MediaKind::Image {
        // The request is well formed; the item is what cannot take it.
        return Err(ApiError::Conflict(
            "this item is an image: there is no playback to report".into(),
        ));
    }
    Ok(media)
}

async fn record(
    state: &AppState,
    media: &Media,
    ip: IpAddr,
    headers: &HeaderMap,
    checked: beacon::Checked,
) -> ApiResult<StatusCode> {
    metrics::counter!("view_beacons_total", "event" => checked.name.as_str()).increment(1);
    let now = Utc::now();
    let day = now.date_naive();
    let agent = headers
        .get(header::USER_AGENT)
        .map_or(&[][..], |v| v.as_bytes());
    let (viewer, new_day) = state.view_tracker.salt.viewer(day, &media.id, ip, agent);
    if new_day {
        prune(state, day);
    }
    // Watch time is counted per rendition only under names the item lists: what is stored
    // stays bounded by the item's ladder, whatever players send.
    let known = |name: Option<String>| {
        name.filter(|n| media.outputs.renditions.iter().any(|r| r.name == *n))
    };
    let event = match checked.event {
        ViewEvent::Start {
            startup_ms,
            rendition,
        } => ViewEvent::Start {
            startup_ms,
            rendition: known(rendition),
        },
        ViewEvent::Heartbeat {
            watch_ms,
            rendition,
        } => ViewEvent::Heartbeat {
            watch_ms,
            rendition: known(rendition),
        },
        ViewEvent::Rendition { name } => match known(Some(name)) {
            Some(name) => ViewEvent::Rendition { name },
            // Not one of the item's: nothing to record.
            None => return Ok(StatusCode::ACCEPTED),
        },
        other => other,
    };
    let beacon = ViewBeacon {
        media_id: media.id.clone(),
        session: checked.session,
        day,
        viewer,
        at: now,
        event,
    };
    let new_view = match state.repo.record_view_beacon(&beacon).await {
        Ok(v) => v,
        // Deleted since it was read.
        Err(DbError::NotFound) => return Err(ApiError::not_found("media item")),
        Err(e) => return Err(e.into()),
    };
    count(new_view, &beacon.event);
    Ok(StatusCode::ACCEPTED)
}

/// `/metrics`: this process's totals (each replica counts its own; Prometheus sums them).
fn count(new_view: bool, event: &ViewEvent) {
    if new_view {
        metrics::counter!("views_total").increment(1);
    }
    match event {
        ViewEvent::Heartbeat { watch_ms, .. } | ViewEvent::End { watch_ms } => {
            metrics::counter!("view_watch_milliseconds_total").increment(u64::from(*watch_ms))
        }
        ViewEvent::Rebuffer { duration_ms } => {
            metrics::counter!("view_rebuffer_milliseconds_total").increment(u64::from(*duration_ms))
        }
        ViewEvent::Error => metrics::counter!("view_errors_total").increment(1),
        ViewEvent::Start { .. } | ViewEvent::Rendition { .. } => {}
    }
}

/// Once a day (with the day's new salt) and at start: forget sessions past the retention.
fn prune(state: &AppState, today: chrono::NaiveDate) {
    let Some(before) = today.checked_sub_days(Days::new(RETENTION_DAYS)) else {
        return;
    };
    let repo = state.repo.clone();
    tokio::spawn(async move {
        match repo.prune_views(before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(sessions = n, %before, "pruned old viewing sessions"),
            Err(e) => {
                tracing::warn!(error = %mediaserver_core::ErrorChain(&e), "pruning viewing sessions failed")
            }
        }
    });
}

/// The item's viewing over a range of days (UTC; default the last 30): views, unique viewers,
/// watch time, time to first frame, rebuffering, errors, watch time per rendition, and each day.
/// The owner or an admin only.
#[utoipa::path(get, path = "/v1/media/{id}/analytics", tag = "analytics",
    security(("bearer" = [])),
    params(("id" = String, Path), RangeParams),
    responses((status = 200, body = AnalyticsReport),
        (status = 400, body = ErrorBody, description = "a date is malformed, or the range is reversed or longer than 366 days"),
        (status = 404, body = ErrorBody, description = "no such item, or not the caller's")))]
async fn media_analytics(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(id): Path<String>,
    query: Result<Query<RangeParams>, QueryRejection>,
) -> ApiResult<Json<AnalyticsReport>> {
    let Query(q) = query?;
    let (from, to) = q.range(Utc::now().date_naive())?;
    let media = load_owned(&state, &parse_id::<MediaId>(&id)?, &caller).await?;
    let stats = state.repo.view_stats(&media.id, from, to).await?;
    Ok(Json(AnalyticsReport::new(from, to, stats)))
}
