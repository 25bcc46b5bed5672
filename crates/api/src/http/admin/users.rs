//! `/v1/admin/users`: the accounts, with what each has in storage; creating, disabling,
//! promoting and deleting them. An admin cannot disable, demote or delete their own account,
//! and no change may leave the server without an enabled admin (409 naming why).

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::hash_password;
use crate::http::accounts::{check_password_strength, normalise_email, StorageView};
use crate::http::caller::AdminUser;
use crate::http::media::delete_item;
use crate::http::path_id::{parse_id, IdPath};
use crate::http::ApiJson;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use mediaserver_core::{MediaFilter, NewUser, Role, UserId};
use mediaserver_db::admin::{AdminOutcome, UserChange, UserSummary};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Items deleted per round while a user is deleted.
const DELETE_BATCH: u32 = 100;

#[derive(Serialize, ToSchema)]
pub(crate) struct AdminUserView {
    #[schema(value_type = String)]
    id: UserId,
    email: String,
    role: Role,
    created_at: DateTime<Utc>,
    disabled: bool,
    disabled_at: Option<DateTime<Utc>>,
    media_count: i64,
    /// What the quota counts: originals plus unfinished uploads.
    storage_bytes: u64,
    storage: StorageView,
}

fn view(state: &AppState, u: UserSummary) -> AdminUserView {
    AdminUserView {
        id: u.id,
        email: u.email,
        role: u.role,
        created_at: u.created_at,
        disabled: u.disabled_at.is_some(),
        disabled_at: u.disabled_at,
        media_count: u.media_count,
        storage_bytes: u.usage.counted(),
        storage: StorageView::new(u.usage, state.ingest.user_quota()),
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct UserPage {
    items: Vec<AdminUserView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[schema(value_type = Option<String>)]
    next_cursor: Option<UserId>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct UserListParams {
    /// Page size, 1–100 (default 20).
    // Read as text so that a bad value is our JSON 400 naming it; documented as what it must be.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// `next_cursor` from the previous page.
    #[param(format = Uuid)]
    cursor: Option<String>,
}

/// Every account, newest first, with its item count and storage used. Admin only.
#[utoipa::path(get, path = "/v1/admin/users", tag = "admin", security(("bearer" = [])),
    params(UserListParams),
    responses((status = 200, body = UserPage), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub(crate) async fn list_users(
    State(state): State<AppState>,
    _admin: AdminUser,
    query: Result<Query<UserListParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<UserPage>> {
    let Query(p) = query?;
    let limit = crate::http::paging::parse_limit(p.limit.as_deref())?;
    let cursor: Option<UserId> = crate::http::paging::parse_cursor(p.cursor)?;
    let mut users = state
        .repo
        .list_users(cursor.as_ref(), i64::from(limit) + 1)
        .await?;
    let next_cursor = if users.len() > limit as usize {
        users.truncate(limit as usize);
        users.last().map(|u| u.id.clone())
    } else {
        None
    };
    Ok(Json(UserPage {
        items: users.into_iter().map(|u| view(&state, u)).collect(),
        next_cursor,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewUserRequest {
    #[schema(example = "someone@example.com", format = Email, max_length = 254)]
    email: String,
    /// 8 to 1024 characters.
    #[schema(
        example = "correct horse battery staple",
        min_length = 8,
        max_length = 1024
    )]
    password: String,
    /// Default `user`.
    #[serde(default)]
    role: Option<Role>,
}

/// Create an account directly (whether or not sign-up is open). Admin only.
#[utoipa::path(post, path = "/v1/admin/users", tag = "admin", security(("bearer" = [])),
    request_body = NewUserRequest,
    responses((status = 201, body = AdminUserView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub(crate) async fn create_user(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiJson(body): ApiJson<NewUserRequest>,
) -> ApiResult<(StatusCode, Json<AdminUserView>)> {
    let email = normalise_email(&body.email)?;
    check_password_strength("password", &body.password)?;
    let password_hash = hash_password(body.password).await?;
    let user = state
        .repo
        .create_user(NewUser {
            email,
            password_hash,
            role: Some(body.role.unwrap_or(Role::User)),
        })
        .await
        .map_err(|e| match e {
            mediaserver_db::DbError::Conflict { .. } => {
                ApiError::Conflict("an account with this email already exists".into())
            }
            other => other.into(),
        })?;
    tracing::info!(user_id = %user.id, role = %user.role, by = %admin.id, "user created by an admin");
    let summary = state
        .repo
        .user_summary(&user.id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    Ok((StatusCode::CREATED, Json(view(&state, summary))))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserUpdate {
    /// `true`: refuse the user's logins and every credential they hold, at once (their data
    /// stays); `false`: enable them again.
    disabled: Option<bool>,
    role: Option<Role>,
}

fn last_admin() -> ApiError {
    ApiError::Conflict(
        "this is the last enabled admin: make another user admin first, so the server keeps one"
            .into(),
    )
}

/// Disable or enable a user, or change their role. Admin only; not on one's own account, and
/// never leaving the server without an enabled admin (409).
#[utoipa::path(patch, path = "/v1/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = UserUpdate,
    responses((status = 200, body = AdminUserView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(crate) async fn update_user(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    // Parsed after the body, whose 400s come first.
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UserUpdate>,
) -> ApiResult<Json<AdminUserView>> {
    let id = parse_id::<UserId>(&id)?;
    if id == admin.id && (body.disabled == Some(true) || body.role == Some(Role::User)) {
        return Err(ApiError::Conflict(
            "you cannot disable or demote your own account; another admin can".into(),
        ));
    }
    let change = UserChange {
        disabled: body.disabled,
        role: body.role,
    };
    match state.repo.change_user(&id, &change).await? {
        AdminOutcome::Done(user) => {
            tracing::info!(user_id = %id, disabled = ?body.disabled, role = ?body.role, by = %admin.id, "user changed by an admin");
            Ok(Json(view(&state, user)))
        }
        AdminOutcome::NotFound => Err(ApiError::not_found("user")),
        AdminOutcome::LastAdmin => Err(last_admin()),
        AdminOutcome::StillOwnsData => Err(ApiError::internal(
            "changing a user",
            "unexpected outcome of change_user",
        )),
    }
}

/// Delete a user with all their media (originals, outputs, rows), unfinished uploads, sessions
/// and API keys. Admin only; not one's own account nor the last admin (409). The user is
/// disabled first, so a delete that storage interrupts (503) leaves them locked out and can be
/// repeated.
#[utoipa::path(delete, path = "/v1/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 423, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(crate) async fn delete_user(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    IdPath(id): IdPath<UserId>,
) -> ApiResult<StatusCode> {
    if id == admin.id {
        return Err(ApiError::Conflict(
            "you cannot delete your own account; another admin can".into(),
        ));
    }
    // Locked out first: no new sessions, uploads or items while their data goes.
    let change = UserChange {
        disabled: Some(true),
        role: None,
    };
    match state.repo.change_user(&id, &change).await? {
        AdminOutcome::Done(_) => {}
        AdminOutcome::NotFound => return Err(ApiError::not_found("user")),
        AdminOutcome::LastAdmin => return Err(last_admin()),
        AdminOutcome::StillOwnsData => {}
    }
    discard_uploads(&state, &id).await?;
    let mut deleted = 0usize;
    loop {
        let items = state
            .repo
            .list_media(&MediaFilter {
                owner_id: Some(id.clone()),
                kind: None,
                status: None,
                visibility: None,
                before_id: None,
                limit: DELETE_BATCH,
                ..Default::default()
            })
            .await?;
        if items.is_empty() {
            break;
        }
        for media in &items {
            delete_item(&state, media).await?;
            deleted += 1;
        }
    }
    match state.repo.delete_user(&id).await? {
        AdminOutcome::Done(()) => {
            tracing::info!(user_id = %id, items = deleted, by = %admin.id, "user deleted with their media");
            Ok(StatusCode::NO_CONTENT)
        }
        AdminOutcome::NotFound => Err(ApiError::not_found("user")),
        AdminOutcome::LastAdmin => Err(last_admin()),
        AdminOutcome::StillOwnsData => Err(ApiError::Conflict(
            "the user got new items while being deleted; delete again".into(),
        )),
    }
}

/// Releases every upload of `owner` (bytes, multipart uploads, rows), each under its write lock.
async fn discard_uploads(state: &AppState, owner: &UserId) -> ApiResult<()> {
    loop {
        let batch = state
            .repo
            .uploads_of_user(owner, i64::from(DELETE_BATCH))
            .await?;
        if batch.is_empty() {
            return Ok(());
        }
        for upload in &batch {
            let _guard = state
                .ingest
                .lock_upload(&upload.id, mediaserver_ingest::WAIT)
                .await?;
            state.ingest.discard_upload(upload).await;
            if state.repo.get_upload(&upload.id).await?.is_some() {
                return Err(ApiError::Unavailable {
                    message: "could not release the user's unfinished uploads; delete again later"
                        .into(),
                    cause: None,
                });
            }
        }
    }
}
