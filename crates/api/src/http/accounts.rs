//! Registration, login, token refresh and revocation, the caller, changing one's password.

use crate::credentials::{
    hash_password, random_token, token_digest, verify_password, REFRESH_TOKEN_PREFIX,
};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::caller::AuthUser;
use crate::http::text::check_text;
use crate::http::{ApiJson, ClientIp};
use crate::{AppState, Registration};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use mediaserver_core::{
    new_id, NewUser, RefreshOutcome, RefreshToken, Role, SessionId, User, UserId,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(change_password))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Credentials {
    #[schema(example = "me@example.com", format = Email, max_length = 254)]
    email: String,
    /// 8 to 1024 characters.
    #[schema(
        example = "correct horse battery staple",
        min_length = 8,
        max_length = 1024
    )]
    password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegisterRequest {
    #[schema(example = "me@example.com", format = Email, max_length = 254)]
    email: String,
    /// 8 to 1024 characters.
    #[schema(
        example = "correct horse battery staple",
        min_length = 8,
        max_length = 1024
    )]
    password: String,
    /// An invitation token from an administrator (`POST /v1/admin/invitations`): registration
    /// then works even while sign-up is closed, once per invitation.
    #[serde(default)]
    invite: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct UserView {
    #[schema(value_type = String)]
    id: UserId,
    email: String,
    role: Role,
    created_at: DateTime<Utc>,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        UserView {
            id: u.id,
            email: u.email,
            role: u.role,
            created_at: u.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct TokenPair {
    access_token: String,
    refresh_token: String,
    #[schema(example = "Bearer")]
    token_type: &'static str,
    /// Seconds until the access token expires.
    expires_in: u64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefreshRequest {
    refresh_token: String,
}

pub(crate) fn normalise_email(email: &str) -> ApiResult<String> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(email)
    } else {
        Err(ApiError::BadRequest(
            "email: not a valid email address".into(),
        ))
    }
}

/// `field` names the password in the error.
pub(crate) fn check_password_strength(field: &str, password: &str) -> ApiResult<()> {
    let n = password.chars().count();
    if n < 8 {
        return Err(ApiError::BadRequest(format!(
            "{field}: must be at least 8 characters"
        )));
    }
    // Characters, as the documented schema counts; at most 4 KiB to hash.
    if n > 1024 {
        return Err(ApiError::BadRequest(format!(
            "{field}: must be at most 1024 characters"
        )));
    }
    Ok(())
}

/// Create an account. The first account becomes admin. After it, sign-up is open only with
/// `ALLOW_REGISTRATION=true`; `ALLOW_REGISTRATION=false` closes it even for the first account.
/// With an administrator's `invite` it works whatever the setting, once per invitation (403
/// naming why an invitation is refused: unknown, used, expired, or for another address).
#[utoipa::path(post, path = "/v1/auth/register", tag = "auth", request_body = RegisterRequest,
    responses((status = 201, body = UserView), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn register(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    if let Some(invite) = body.invite.filter(|i| !i.trim().is_empty()) {
        return register_invited(&state, body.email, body.password, invite.trim()).await;
    }
    let open = match state.settings.registration {
        Registration::Open => true,
        Registration::Closed => false,
        // Checked before the insert, so two simultaneous first sign-ups may both pass; the
        // database still makes only one of them admin.
        Registration::FirstAccountOnly => state.repo.first_admin().await?.is_none(),
    };
    if !open {
        return Err(ApiError::Forbidden(
            "registration is closed on this server: ask an administrator for an account or \
             an invitation link (from the web page's Admin page, POST /v1/admin/users or \
             /v1/admin/invitations, or `mediaserver user create`; or open sign-up with \
             ALLOW_REGISTRATION=true)"
                .into(),
        ));
    }
    let email = normalise_email(&body.email)?;
    check_password_strength("password", &body.password)?;
    let password_hash = hash_password(body.password).await?;
    let user = state
        .repo
        .create_user(NewUser {
            email,
            password_hash,
            role: None,
        })
        .await
        .map_err(|e| match e {
            mediaserver_db::DbError::Conflict { .. } => {
                ApiError::Conflict("an account with this email already exists".into())
            }
            other => other.into(),
        })?;
    tracing::info!(user_id = %user.id, role = %user.role, "user registered");
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// Registration with an invitation: the invitation is used up and the account created in one
/// transaction (a duplicate email leaves the invitation unused).
async fn register_invited(
    state: &AppState,
    email: String,
    password: String,
    invite: &str,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    use mediaserver_db::admin::InvitationOutcome;
    let email = normalise_email(&email)?;
    check_password_strength("password", &password)?;
    let password_hash = hash_password(password).await?;
    let outcome = state
        .repo
        .register_with_invitation(
            &token_digest(invite),
            NewUser {
                email,
                password_hash,
                role: None,
            },
            Utc::now(),
        )
        .await
        .map_err(|e| match e {
            mediaserver_db::DbError::Conflict { .. } => {
                ApiError::Conflict("an account with this email already exists".into())
            }
            other => other.into(),
        })?;
    let refused = |why: &str| Err(ApiError::Forbidden(why.to_string()));
    match outcome {
        InvitationOutcome::Registered(user) => {
            tracing::info!(user_id = %user.id, role = %user.role, "user registered by invitation");
            Ok((StatusCode::CREATED, Json(user.into())))
        }
        InvitationOutcome::Unknown => refused(
            "this invitation is not valid: check that the whole link was copied, or ask an \
             administrator for a new one",
        ),
        InvitationOutcome::Used => {
            refused("this invitation has already been used; ask an administrator for a new one")
        }
        InvitationOutcome::Expired => {
            refused("this invitation has expired; ask an administrator for a new one")
        }
        InvitationOutcome::WrongEmail(for_email) => refused(&format!(
            "this invitation is for {for_email}; register with that address"
        )),
    }
}

// A valid argon2id hash of a random string: verifying against it when the email is unknown keeps
// the response time the same as for a wrong password, so timing does not reveal which accounts exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Vq3lN7dYmsgQ1V3zqDFXEn3GMMpBF0WfZq6E9jVvS2M";

/// A new session for `user`: its first refresh token and an access token naming it.
async fn start_session(state: &AppState, user: &User) -> ApiResult<TokenPair> {
    let refresh_token = random_token(REFRESH_TOKEN_PREFIX);
    let now = Utc::now();
    let session_id = SessionId::new();
    state
        .repo
        .insert_refresh_token(&RefreshToken {
            id: new_id(),
            user_id: user.id.clone(),
            session_id: session_id.clone(),
            token_hash: token_digest(&refresh_token),
            expires_at: now + state.settings.refresh_token_ttl,
            created_at: now,
        })
        .await?;
    Ok(TokenPair {
        access_token: state.tokens.issue_access(user, &session_id)?,
        refresh_token,
        token_type: "Bearer",
        expires_in: state.tokens.access_ttl.as_secs(),
    })
}

/// Exchange email and password for an access token and a refresh token (403 for a disabled
/// account, said only with the right password). Repeated failures for
/// an account from one client, or for many accounts from one client, are refused with 429 for a
/// while.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = Credentials,
    responses((status = 200, body = TokenPair), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 429, body = ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<Credentials>,
) -> ApiResult<Json<TokenPair>> {
    check_text("email", &body.email)?;
    let email = body.email.trim().to_lowercase();
    state.throttle.check(ip, &email)?;
    let user = state.repo.user_by_email(&email).await?;
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| DUMMY_HASH.to_string());
    let ok = verify_password(body.password, hash).await;
    match user {
        Some(user) if ok => {
            state.throttle.record_success(ip, &email);
            // Said only to someone who knows the password.
            if state.repo.user_disabled(&user.id).await? == Some(true) {
                return Err(ApiError::Forbidden(
                    "account disabled: ask an administrator to enable it".into(),
                ));
            }
            Ok(Json(start_session(&state, &user).await?))
        }
        _ => {
            state.throttle.record_failure(ip, &email);
            tracing::info!(%ip, "failed login");
            Err(ApiError::Unauthorized("invalid email or password".into()))
        }
    }
}

/// Exchange a refresh token for a new pair. Each refresh token works once; presenting a used one
/// revokes every session of that user.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = ErrorBody)))]
async fn refresh(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> ApiResult<Json<TokenPair>> {
    let invalid = || ApiError::Unauthorized("invalid, expired or revoked refresh token".into());
    let new_token = random_token(REFRESH_TOKEN_PREFIX);
    let now = Utc::now();
    let new = RefreshToken {
        id: new_id(),
        // Not used: the rotation keeps the stored token's user and session.
        user_id: UserId::new(),
        session_id: SessionId::new(),
        token_hash: token_digest(&new_token),
        expires_at: now + state.settings.refresh_token_ttl,
        created_at: now,
    };
    let outcome = state
        .repo
        .rotate_refresh_token(&token_digest(&body.refresh_token), &new, now)
        .await?;
    let (user_id, session_id) = match outcome {
        RefreshOutcome::Rotated {
            user_id,
            session_id,
        } => (user_id, session_id),
        RefreshOutcome::Reused { user_id } => {
            tracing::warn!(%user_id, "refresh token reused; all sessions of the user revoked");
            return Err(invalid());
        }
        RefreshOutcome::Invalid => return Err(invalid()),
    };
    let user = state.repo.user_by_id(&user_id).await?.ok_or_else(invalid)?;
    // Disabling revokes every refresh token; this covers one stored by a login racing it.
    if state.repo.user_disabled(&user.id).await? == Some(true) {
        return Err(invalid());
    }
    Ok(Json(TokenPair {
        access_token: state.tokens.issue_access(&user, &session_id)?,
        refresh_token: new_token,
        token_type: "Bearer",
        expires_in: state.tokens.access_ttl.as_secs(),
    }))
}

/// Log out of the session of this refresh token: its refresh and access tokens are refused from
/// now on.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 204), (status = 400, body = ErrorBody)))]
async fn logout(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> ApiResult<StatusCode> {
    state
        .repo
        .revoke_session(&token_digest(&body.refresh_token))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub(crate) struct MeView {
    #[serde(flatten)]
    user: UserView,
    storage: StorageView,
}

/// What a user has in storage, and their quota.
#[derive(Serialize, ToSchema)]
pub(crate) struct StorageView {
    /// What the quota counts: originals plus unfinished uploads' declared lengths.
    pub(crate) used_bytes: u64,
    /// `USER_QUOTA_BYTES`; absent: no limit.
    pub(crate) quota_bytes: Option<u64>,
    /// Room left under the quota; absent: no limit.
    pub(crate) left_bytes: Option<u64>,
    pub(crate) originals_bytes: i64,
    /// Declared lengths of unfinished tus and direct uploads (they reserve room).
    pub(crate) pending_bytes: i64,
    /// Processing outputs (not counted by the quota).
    pub(crate) outputs_bytes: i64,
}

impl StorageView {
    pub(crate) fn new(usage: mediaserver_db::admin::StorageUsage, quota: Option<u64>) -> Self {
        let used = usage.counted();
        StorageView {
            used_bytes: used,
            quota_bytes: quota,
            left_bytes: quota.map(|q| q.saturating_sub(used)),
            originals_bytes: usage.originals_bytes,
            pending_bytes: usage.pending_bytes,
            outputs_bytes: usage.outputs_bytes,
        }
    }
}

/// The authenticated caller, with what they have in storage and their quota.
#[utoipa::path(get, path = "/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = MeView), (status = 401, body = ErrorBody)))]
async fn me(State(state): State<AppState>, caller: AuthUser) -> ApiResult<Json<MeView>> {
    let user = state.repo.user_by_id(&caller.id).await?.ok_or_else(|| {
        ApiError::Unauthorized("the account of this token no longer exists".into())
    })?;
    let usage = state.ingest.storage_usage(&caller.id).await?;
    Ok(Json(MeView {
        user: user.into(),
        storage: StorageView::new(usage, state.ingest.user_quota()),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordChange {
    current_password: String,
    /// 8 to 256 characters.
    #[schema(min_length = 8, max_length = 256)]
    new_password: String,
}

/// The longest new password, in characters (so at most 1024 bytes, the hashing limit): a bound
/// the API document can state, where bytes it cannot.
const NEW_PASSWORD_MAX_CHARS: usize = 256;

/// Change the caller's password. It takes a login session (an access token), not an API key,
/// and the current password; a wrong one is 403 and counts toward the login throttle (429 once
/// locked, as at login). Every other session of the user ends at once (their refresh and access
/// tokens are refused); the calling session stays valid. API keys are unaffected: revoke them
/// separately if they may be compromised too.
#[utoipa::path(post, path = "/v1/auth/password", tag = "auth", security(("bearer" = [])),
    request_body = PasswordChange,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 413, body = ErrorBody),
              (status = 429, body = ErrorBody)))]
async fn change_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    caller: AuthUser,
    ApiJson(body): ApiJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    let Some(session) = caller.session.clone() else {
        return Err(ApiError::Forbidden(
            "changing the password takes a login session: log in with the current password \
             and use that access token, not an API key"
                .into(),
        ));
    };
    check_password_strength("new_password", &body.new_password)?;
    if body.new_password.chars().count() > NEW_PASSWORD_MAX_CHARS {
        return Err(ApiError::BadRequest(format!(
            "new_password: must be at most {NEW_PASSWORD_MAX_CHARS} characters"
        )));
    }
    let gone = || ApiError::Unauthorized("the account of this token no longer exists".into());
    let user = state.repo.user_by_id(&caller.id).await?.ok_or_else(gone)?;
    state.throttle.check(ip, &user.email)?;
    if !verify_password(body.current_password, user.password_hash).await {
        state.throttle.record_failure(ip, &user.email);
        tracing::info!(%ip, user_id = %user.id, "wrong current password at password change");
        return Err(ApiError::Forbidden(
            "current_password: that is not the account's current password".into(),
        ));
    }
    state.throttle.record_success(ip, &user.email);
    let password_hash = hash_password(body.new_password).await?;
    if !state
        .repo
        .change_password(&user.id, &password_hash, Some(&session))
        .await?
    {
        return Err(gone());
    }
    tracing::info!(user_id = %user.id, "password changed; other sessions ended");
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dummy_hash_is_a_real_argon2_hash() {
        assert!(argon2::password_hash::PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalise_email("  Me@Example.COM ").unwrap(),
            "me@example.com"
        );
        for bad in [
            "",
            "me",
            "@example.com",
            "me@localhost",
            "me@.com",
            "a b@example.com",
        ] {
            assert!(normalise_email(bad).is_err(), "{bad}");
        }
    }
}
