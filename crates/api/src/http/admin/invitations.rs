//! `POST /v1/admin/invitations`: a one-time link that lets one person register while sign-up is
//! closed. Only the token's SHA-256 is stored; the token is shown once, in the response.

use crate::credentials::{random_token, token_digest};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::accounts::normalise_email;
use crate::http::caller::AdminUser;
use crate::http::{ApiBytes, BaseUrl};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use mediaserver_core::{new_id, Role};
use mediaserver_db::admin::NewInvitation;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Invitation tokens start with this, so they are recognisable in a paste.
const INVITE_PREFIX: &str = "msi_";
const DEFAULT_LIFETIME_SECS: u64 = 7 * 24 * 3600;
const MAX_LIFETIME_SECS: u64 = 90 * 24 * 3600;

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewInvitationRequest {
    /// Only this address may register with it; absent: anyone holding the link.
    #[serde(default)]
    #[schema(format = Email, max_length = 254)]
    email: Option<String>,
    /// The new account's role; default `user`.
    #[serde(default)]
    role: Option<Role>,
    /// 60 s to 90 days; default 7 days.
    #[serde(default, deserialize_with = "crate::http::optional_whole_number")]
    #[schema(minimum = 60, maximum = 7776000)]
    expires_in_seconds: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct CreatedInvitation {
    id: String,
    /// The invitation itself, for `POST /v1/auth/register` as `invite`. Shown only here.
    token: String,
    /// The web page's registration form with the invitation filled in: send this.
    url: String,
    email: Option<String>,
    role: Role,
    expires_at: DateTime<Utc>,
}

/// Invite someone: a one-time token (and link to the registration page) that lets them
/// register even while sign-up is closed. Admin only. The body is optional: none, `null` or `{}`
/// gives the defaults.
#[utoipa::path(post, path = "/v1/admin/invitations", tag = "admin", security(("bearer" = [])),
    request_body = Option<NewInvitationRequest>,
    responses((status = 201, body = CreatedInvitation), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(crate) async fn create_invitation(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    base_url: BaseUrl,
    ApiBytes(body): ApiBytes,
) -> ApiResult<(StatusCode, Json<CreatedInvitation>)> {
    // The body is optional: none (or `null`) means the defaults; anything else is an object.
    let body: NewInvitationRequest = crate::http::optional_json_object(&body)?;
    let email = body.email.as_deref().map(normalise_email).transpose()?;
    let lifetime = body.expires_in_seconds.unwrap_or(DEFAULT_LIFETIME_SECS);
    if !(60..=MAX_LIFETIME_SECS).contains(&lifetime) {
        return Err(ApiError::BadRequest(format!(
            "expires_in_seconds: must be from 60 to {MAX_LIFETIME_SECS} (90 days)"
        )));
    }
    let base_url = base_url.get()?;
    let role = body.role.unwrap_or(Role::User);
    let token = random_token(INVITE_PREFIX);
    let now = Utc::now();
    let expires_at = now + chrono::Duration::seconds(i64::try_from(lifetime).unwrap_or(i64::MAX));
    let invitation = NewInvitation {
        id: new_id(),
        token_hash: token_digest(&token),
        email: email.clone(),
        role,
        created_by: admin.id.clone(),
        created_at: now,
        expires_at,
    };
    state.repo.create_invitation(&invitation).await?;
    tracing::info!(invitation_id = %invitation.id, %role, by = %admin.id, "invitation created");
    Ok((
        StatusCode::CREATED,
        Json(CreatedInvitation {
            id: invitation.id,
            url: format!("{base_url}/#/register?invite={token}"),
            token,
            email,
            role,
            expires_at,
        }),
    ))
}
