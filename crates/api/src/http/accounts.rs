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
    #[schema(example = "me@example.com")]
    email: String,
    /// At least 8 characters.
    #[schema(example = "correct horse battery staple")]
    password: String,
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

fn normalise_email(email: &str) -> ApiResult<String> {
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
fn check_password_strength(field: &str, password: &str) -> ApiResult<()> {
    let n = password.chars().count();
    if n < 8 {
        return Err(ApiError::BadRequest(format!(
            "{field}: must be at least 8 characters"
        )));
    }
    if password.len() > 1024 {
        return Err(ApiError::BadRequest(format!(
            "{field}: must be at most 1024 bytes"
        )));
    }
    Ok(())
}

/// Create an account. The first account becomes admin. After it, sign-up is open only with
/// `ALLOW_REGISTRATION=true`; `ALLOW_REGISTRATION=false` closes it even for the first account.
#[utoipa::path(post, path = "/v1/auth/register", tag = "auth", request_body = Credentials,
    responses((status = 201, body = UserView), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn register(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Credentials>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    let open = match state.settings.registration {
        Registration::Open => true,
        Registration::Closed => false,
        // Checked before the insert, so two simultaneous first sign-ups may both pass; the
        // database still makes only one of them admin.
        Registration::FirstAccountOnly => state.repo.first_admin().await?.is_none(),
    };
    if !open {
        return Err(ApiError::Forbidden(
            "registration is closed on this server: ask an administrator for an account \
             (they create one with `mediaserver user create`, or open sign-up with \
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

/// Exchange email and password for an access token and a refresh token. Repeated failures for
/// an account from one client, or for many accounts from one client, are refused with 429 for a
/// while.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = Credentials,
    responses((status = 200, body = TokenPair), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
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

/// The authenticated caller.
#[utoipa::path(get, path = "/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody)))]
async fn me(State(state): State<AppState>, caller: AuthUser) -> ApiResult<Json<UserView>> {
    let user = state.repo.user_by_id(&caller.id).await?.ok_or_else(|| {
        ApiError::Unauthorized("the account of this token no longer exists".into())
    })?;
    Ok(Json(user.into()))
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
