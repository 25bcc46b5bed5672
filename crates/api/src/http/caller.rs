//! Who is calling: the bearer credential (an access token of a live session, or an API key)
//! checked into an [`AuthUser`], as axum extractors.

use crate::credentials::{token_digest, API_KEY_PREFIX};
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use chrono::Utc;
use mediaserver_core::{Role, UserId};

/// The authenticated caller. Identity and role come only from the verified credential.
#[derive(Debug, Clone)]
pub(crate) struct AuthUser {
    pub(crate) id: UserId,
    pub(crate) role: Role,
}

impl AuthUser {
    pub(crate) fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

fn bearer(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let Some(value) = parts.headers.get(axum::http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthorized("malformed Authorization header".into()))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim()))
        }
        _ => Err(ApiError::Unauthorized(
            "Authorization header must be 'Bearer <token>'".into(),
        )),
    }
}

async fn authenticate(state: &AppState, token: &str) -> Result<AuthUser, ApiError> {
    let invalid = || ApiError::Unauthorized("invalid or expired token".into());
    if token.starts_with(API_KEY_PREFIX) {
        let user = state
            .repo
            .user_by_api_key_hash(&token_digest(token))
            .await?
            .ok_or_else(invalid)?;
        return Ok(AuthUser {
            id: user.id,
            role: user.role,
        });
    }
    let claims = state.tokens.verify_access(token).ok_or_else(invalid)?;
    // One indexed lookup per request, in the database so that a logout on one replica ends the
    // session's access tokens on all of them at once.
    let live = state
        .repo
        .session_is_live(&claims.sid, &claims.sub, Utc::now())
        .await?;
    if !live {
        return Err(ApiError::Unauthorized(
            "this token's session has ended (logged out or revoked); log in again".into(),
        ));
    }
    Ok(AuthUser {
        id: claims.sub,
        role: claims.role,
    })
}

impl<S> FromRequestParts<S> for AuthUser
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let token = bearer(parts)?.ok_or_else(|| {
            ApiError::Unauthorized(
                "missing credentials: send 'Authorization: Bearer <token>'".into(),
            )
        })?;
        authenticate(&state, token).await
    }
}

/// Like [`AuthUser`] but anonymous callers are allowed; a present but invalid token is still 401.
#[derive(Debug, Clone)]
pub(crate) struct MaybeAuthUser(pub(crate) Option<AuthUser>);

impl<S> FromRequestParts<S> for MaybeAuthUser
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        match bearer(parts)? {
            None => Ok(MaybeAuthUser(None)),
            Some(token) => Ok(MaybeAuthUser(Some(authenticate(&state, token).await?))),
        }
    }
}

/// An authenticated caller who may administer the server ([`AuthUser::is_admin`], which every
/// admin check goes through); anyone else authenticated is refused with 403.
#[derive(Debug, Clone)]
pub(crate) struct AdminUser(pub(crate) AuthUser);

impl<S> FromRequestParts<S> for AdminUser
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let caller = AuthUser::from_request_parts(parts, state).await?;
        if !caller.is_admin() {
            return Err(ApiError::Forbidden(
                "this needs an admin account (or an API key with the admin scope)".into(),
            ));
        }
        Ok(AdminUser(caller))
    }
}
