//! Who is calling: the bearer credential (an access token of a live session, or an API key)
//! checked into an [`AuthUser`], as axum extractors — and what it may do: the one place an API
//! key's scopes are enforced ([`required_scope`]).

use crate::credentials::{token_digest, API_KEY_PREFIX};
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{FromRef, FromRequestParts, MatchedPath};
use axum::http::request::Parts;
use axum::http::Method;
use chrono::Utc;
use mediaserver_core::{Role, Scope, Scopes, SessionId, UserId};

/// The authenticated caller. Identity, role and scopes come only from the verified credential.
#[derive(Debug, Clone)]
pub(crate) struct AuthUser {
    pub(crate) id: UserId,
    pub(crate) role: Role,
    /// What the credential may do: everything for a login session, its scopes for an API key.
    pub(crate) scopes: Scopes,
    /// The login session of an access token; `None` for an API key.
    pub(crate) session: Option<SessionId>,
}

impl AuthUser {
    /// An admin acting as one: an admin's API key without the `admin` scope is a plain user's.
    pub(crate) fn is_admin(&self) -> bool {
        self.role == Role::Admin && self.scopes.contains(Scope::Admin)
    }
}

/// The scope a request needs, from its method and the route it matched. Uploads need `upload`,
/// other reads `read`, everything else that changes something `write` (so a route added
/// later is refused to keys without `write` until it is listed here). `None`: any credential
/// will do — who the caller is, and creating a key (never with more scopes than the caller's;
/// the handler checks that).
fn required_scope(method: &Method, route: Option<&str>) -> Option<Scope> {
    let route = route.unwrap_or("");
    match (method.as_str(), route) {
        (_, "/v1/auth/me") | ("POST", "/v1/api-keys" | "/v1/auth/password") => None,
        // Every tus request (creating, resuming, probing, abandoning) is part of an upload.
        (_, "/v1/uploads" | "/v1/uploads/" | "/v1/uploads/{id}") => Some(Scope::Upload),
        ("POST", "/v1/media" | "/v1/media/direct-upload" | "/v1/media/{id}/complete") => {
            Some(Scope::Upload)
        }
        // A playback token is a way to read an item.
        ("POST", "/v1/media/{id}/playback-token") => Some(Scope::Read),
        // Reporting playback is part of playing.
        ("POST", "/v1/media/{id}/views") => Some(Scope::Read),
        ("GET" | "HEAD" | "OPTIONS", _) => Some(Scope::Read),
        _ => Some(Scope::Write),
    }
}

/// Refuses `user` if the request needs a scope its credential lacks.
fn check_scope(parts: &Parts, user: &AuthUser) -> Result<(), ApiError> {
    let route = parts
        .extensions
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    match required_scope(&parts.method, route) {
        Some(scope) if !user.scopes.contains(scope) => Err(ApiError::MissingScope(scope)),
        _ => Ok(()),
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
        let now = Utc::now();
        let (user, key) = state
            .repo
            .api_key_by_hash(&token_digest(token), now)
            .await?
            .ok_or_else(|| ApiError::Unauthorized("invalid or revoked API key".into()))?;
        if let Some(at) = key.expires_at.filter(|_| key.expired_at(now)) {
            return Err(ApiError::Unauthorized(format!(
                "this API key expired at {}; create a new one",
                at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            )));
        }
        return Ok(AuthUser {
            id: user.id,
            role: user.role,
            scopes: key.scopes,
            session: None,
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
        scopes: Scopes::all(),
        session: Some(claims.sid),
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
        let user = authenticate(&state, token).await?;
        check_scope(parts, &user)?;
        Ok(user)
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
            Some(token) => {
                let user = authenticate(&state, token).await?;
                check_scope(parts, &user)?;
                Ok(MaybeAuthUser(Some(user)))
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_reads_and_changes_need_their_scopes() {
        let need = |m: Method, r: &str| required_scope(&m, Some(r));
        assert_eq!(need(Method::POST, "/v1/media"), Some(Scope::Upload));
        assert_eq!(need(Method::PATCH, "/v1/uploads/{id}"), Some(Scope::Upload));
        assert_eq!(need(Method::HEAD, "/v1/uploads/{id}"), Some(Scope::Upload));
        assert_eq!(need(Method::GET, "/v1/media"), Some(Scope::Read));
        assert_eq!(
            need(Method::GET, "/v1/media/{id}/hls/{file}"),
            Some(Scope::Read)
        );
        assert_eq!(
            need(Method::POST, "/v1/media/{id}/playback-token"),
            Some(Scope::Read)
        );
        assert_eq!(need(Method::PATCH, "/v1/media/{id}"), Some(Scope::Write));
        // Captions change an item: `write`; listing them is a read.
        assert_eq!(
            need(Method::POST, "/v1/media/{id}/text-tracks"),
            Some(Scope::Write)
        );
        assert_eq!(
            need(Method::GET, "/v1/media/{id}/text-tracks"),
            Some(Scope::Read)
        );
        assert_eq!(
            need(Method::DELETE, "/v1/api-keys/{id}"),
            Some(Scope::Write)
        );
        // A route this table does not know changes something until said otherwise.
        assert_eq!(need(Method::POST, "/v1/anything/new"), Some(Scope::Write));
        assert_eq!(required_scope(&Method::PUT, None), Some(Scope::Write));
        assert_eq!(need(Method::GET, "/v1/auth/me"), None);
        assert_eq!(need(Method::POST, "/v1/api-keys"), None);
    }
}
