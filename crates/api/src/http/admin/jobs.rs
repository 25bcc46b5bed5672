//! `GET /v1/admin/jobs`: the processing queue as an admin looks at it — failed jobs first (to
//! retry with `POST /v1/media/{id}/retry`), then running, queued, and recently done.

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::caller::AdminUser;
use crate::AppState;
use axum::extract::{Query, State};
use axum::Json;
use chrono::{DateTime, Utc};
use mediaserver_core::{JobId, JobStatus, MediaId, UserId};
use mediaserver_db::admin::JobSummary;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct JobListParams {
    /// Only jobs in this state.
    // Read as text so that a bad value is our JSON 400 naming it; documented as what it must be.
    #[param(value_type = Option<JobStatus>)]
    status: Option<String>,
    /// How many, 1–500 (default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    limit: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct JobView {
    #[schema(value_type = String)]
    id: JobId,
    #[schema(value_type = String)]
    media_id: MediaId,
    /// The item's title.
    title: String,
    #[schema(value_type = String)]
    owner_id: UserId,
    owner_email: String,
    status: JobStatus,
    /// Attempts so far, of `max_attempts`.
    attempts: i32,
    max_attempts: i32,
    /// Why the last attempt failed, in words for the user (details are in the server log).
    last_error: Option<String>,
    /// A queued job is not started before this (backoff after a failed attempt).
    run_after: DateTime<Utc>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<JobSummary> for JobView {
    fn from(j: JobSummary) -> Self {
        JobView {
            id: j.id,
            media_id: j.media_id,
            title: j.title,
            owner_id: j.owner_id,
            owner_email: j.owner_email,
            status: j.status,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            last_error: j.last_error,
            run_after: j.run_after,
            created_at: j.created_at,
            updated_at: j.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct JobList {
    items: Vec<JobView>,
}

/// Each item's latest processing job: failed first, then running, queued and done, each most
/// recently changed first. Admin only.
#[utoipa::path(get, path = "/v1/admin/jobs", tag = "admin", security(("bearer" = [])),
    params(JobListParams),
    responses((status = 200, body = JobList), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub(crate) async fn list_jobs(
    State(state): State<AppState>,
    _admin: AdminUser,
    query: Result<Query<JobListParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<JobList>> {
    let Query(p) = query?;
    let status = p
        .status
        .map(|s| s.parse::<JobStatus>())
        .transpose()
        .map_err(|e| {
            ApiError::BadRequest(format!(
                "status: {e}; expected queued, running, done or failed"
            ))
        })?;
    let limit = i64::from(crate::http::paging::parse_limit_in(
        p.limit.as_deref(),
        100,
        500,
    )?);
    let jobs = state.repo.list_jobs(status, limit).await?;
    Ok(Json(JobList {
        items: jobs.into_iter().map(JobView::from).collect(),
    }))
}
