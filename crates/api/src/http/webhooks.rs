//! Webhook deliveries, for admins: the outbox with each delivery's attempts, and redelivery
//! (the same event, with the same id, queued to be sent now). Sending is the pipeline's.

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::caller::AdminUser;
use crate::http::paging::parse_limit;
use crate::http::path_id::{parse_id, PathId};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use mediaserver_core::webhook::{
    DeliveryAttempt, DeliveryFilter, DeliveryStatus, WebhookDelivery, WebhookEventKind,
};
use mediaserver_core::{DeliveryId, MediaId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_deliveries))
        .routes(routes!(get_delivery))
        .routes(routes!(redeliver))
}

impl PathId for DeliveryId {
    const NOUN: &'static str = "webhook delivery";
}

/// One webhook event on its way to `WEBHOOK_URL`.
#[derive(Serialize, ToSchema)]
pub(crate) struct DeliveryView {
    /// The delivery's id, which is also the event's `id` in the body sent.
    #[schema(value_type = String)]
    id: DeliveryId,
    event: WebhookEventKind,
    #[schema(value_type = String)]
    media_id: MediaId,
    status: DeliveryStatus,
    /// Attempts so far, redeliveries included.
    attempts: i32,
    /// When the next attempt is due (`pending` only).
    next_attempt_at: Option<DateTime<Utc>>,
    /// The receiver's answer to the last attempt, if it answered.
    last_status_code: Option<i32>,
    /// Why the last attempt did not count as delivered.
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// When a receiver last accepted it.
    delivered_at: Option<DateTime<Utc>>,
}

impl From<WebhookDelivery> for DeliveryView {
    fn from(d: WebhookDelivery) -> Self {
        DeliveryView {
            id: d.id,
            event: d.event,
            media_id: d.media_id,
            status: d.status,
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            created_at: d.created_at,
            updated_at: d.updated_at,
            delivered_at: d.delivered_at,
        }
    }
}

/// One try at sending a delivery.
#[derive(Serialize, ToSchema)]
pub(crate) struct AttemptView {
    /// 1, 2, … over the delivery's life.
    number: i32,
    attempted_at: DateTime<Utc>,
    duration_ms: i64,
    /// The receiver's HTTP status, if it answered.
    status_code: Option<i32>,
    /// Why it did not count as delivered (connection refused, timeout, a non-2xx answer).
    error: Option<String>,
}

impl From<DeliveryAttempt> for AttemptView {
    fn from(a: DeliveryAttempt) -> Self {
        AttemptView {
            number: a.number,
            attempted_at: a.attempted_at,
            duration_ms: a.duration_ms,
            status_code: a.status_code,
            error: a.error,
        }
    }
}

/// A delivery with every attempt, oldest first.
#[derive(Serialize, ToSchema)]
pub(crate) struct DeliveryDetail {
    #[serde(flatten)]
    delivery: DeliveryView,
    attempt_log: Vec<AttemptView>,
}

/// One page of deliveries, newest first.
#[derive(Serialize, ToSchema)]
pub(crate) struct DeliveryPage {
    items: Vec<DeliveryView>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    #[schema(value_type = Option<String>)]
    next_cursor: Option<DeliveryId>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListParams {
    /// Only deliveries in this state.
    // Read as text so that a bad value is our JSON 400 naming it; documented as what it must be.
    #[param(value_type = Option<DeliveryStatus>)]
    status: Option<String>,
    /// Page size, 1–100 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// `next_cursor` from the previous page.
    #[param(format = Uuid)]
    cursor: Option<String>,
}

/// Webhook deliveries, newest first (admin only).
#[utoipa::path(get, path = "/v1/webhooks/deliveries", tag = "webhooks", security(("bearer" = [])),
    params(ListParams),
    responses((status = 200, body = DeliveryPage), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
async fn list_deliveries(
    State(state): State<AppState>,
    _admin: AdminUser,
    query: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<DeliveryPage>> {
    let Query(p) = query?;
    let limit = parse_limit(p.limit.as_deref())?;
    let status = p
        .status
        .map(|s| s.parse::<DeliveryStatus>())
        .transpose()
        .map_err(|e| {
            ApiError::BadRequest(format!(
                "status: {e}; expected pending, delivered or failed"
            ))
        })?;
    let before_id: Option<DeliveryId> = crate::http::paging::parse_cursor(p.cursor)?;
    let mut items = state
        .repo
        .list_webhook_deliveries(&DeliveryFilter {
            status,
            before_id,
            limit: limit + 1,
        })
        .await?;
    let next_cursor = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|d| d.id.clone())
    } else {
        None
    };
    Ok(Json(DeliveryPage {
        items: items.into_iter().map(DeliveryView::from).collect(),
        next_cursor,
    }))
}

/// One webhook delivery with its attempts (admin only).
#[utoipa::path(get, path = "/v1/webhooks/deliveries/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = DeliveryDetail), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
async fn get_delivery(
    State(state): State<AppState>,
    _admin: AdminUser,
    // Parsed after the admin check, so a non-admin learns nothing from the id's form.
    Path(id): Path<String>,
) -> ApiResult<Json<DeliveryDetail>> {
    let id = parse_id::<DeliveryId>(&id)?;
    let delivery = state
        .repo
        .get_webhook_delivery(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(DeliveryId::NOUN))?;
    let attempts = state.repo.webhook_attempts(&id).await?;
    Ok(Json(DeliveryDetail {
        delivery: delivery.into(),
        attempt_log: attempts.into_iter().map(AttemptView::from).collect(),
    }))
}

/// Send a delivery again, whatever its status: the same event with the same id (receivers drop
/// duplicates by it), due now, with a fresh round of retries (admin only).
#[utoipa::path(post, path = "/v1/webhooks/deliveries/{id}/redeliver", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 202, body = DeliveryView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
async fn redeliver(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<DeliveryView>)> {
    let id = parse_id::<DeliveryId>(&id)?;
    if !state.repo.redeliver_webhook(&id, Utc::now()).await? {
        return Err(ApiError::not_found(DeliveryId::NOUN));
    }
    tracing::info!(delivery_id = %id, "webhook redelivery queued");
    let delivery = state
        .repo
        .get_webhook_delivery(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(DeliveryId::NOUN))?;
    Ok((StatusCode::ACCEPTED, Json(delivery.into())))
}
