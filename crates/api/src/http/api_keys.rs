//! API keys: create (shown once), list (never the secret), revoke. A key may expire and carries
//! scopes; what each scope allows is decided in `caller.rs`.

use crate::credentials::{random_token, token_digest, API_KEY_PREFIX};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::caller::AuthUser;
use crate::http::text::check_text;
use crate::http::ApiBytes;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, SubsecRound, Utc};
use mediaserver_core::{new_id, ApiKey, Role, Scope, Scopes};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The shortest lifetime a key may be given: long enough to be used, short enough for a
/// throwaway key.
pub(crate) const MIN_KEY_TTL_SECS: i64 = 60;
/// The longest: five years (with a leap day). Without `expires_in_seconds` a key does not expire.
pub(crate) const MAX_KEY_TTL_SECS: i64 = (5 * 365 + 1) * 86_400;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_api_key, list_api_keys))
        .routes(routes!(revoke_api_key))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewApiKey {
    /// A label to tell keys apart, e.g. "ci uploader": at most 100 characters, no control
    /// characters.
    #[serde(default)]
    #[schema(max_length = 100, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    name: Option<String>,
    /// Seconds until the key stops working, 60 to 157,766,400 (five years). Absent: it does
    /// not expire.
    /// (A float is accepted when whole, as JSON Schema's `integer` allows `60.0`.)
    #[serde(default)]
    #[schema(value_type = Option<i64>, minimum = 60, maximum = 157_766_400)]
    expires_in_seconds: Option<f64>,
    /// What the key may do. Absent: everything the caller may (an admin's key also
    /// administers). Never more than the caller's own scopes; `admin` only for admins.
    #[serde(default)]
    #[schema(min_items = 1)]
    scopes: Option<Vec<Scope>>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct CreatedApiKey {
    id: String,
    name: String,
    /// The key itself. It is shown only in this response; store it now.
    key: String,
    prefix: String,
    created_at: DateTime<Utc>,
    /// `null`: the key does not expire.
    expires_at: Option<DateTime<Utc>>,
    scopes: Vec<Scope>,
}

/// A key as listed: everything but the secret (and its hash).
#[derive(Serialize, ToSchema)]
pub(crate) struct ApiKeyView {
    id: String,
    name: String,
    /// The key's first characters, to tell it apart.
    prefix: String,
    created_at: DateTime<Utc>,
    /// When it last authenticated a request (recorded at most once a minute); `null`: never.
    last_used_at: Option<DateTime<Utc>>,
    /// `null`: the key does not expire.
    expires_at: Option<DateTime<Utc>>,
    /// Whether `expires_at` has passed: the key is refused, and can only be revoked.
    expired: bool,
    scopes: Vec<Scope>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ApiKeyList {
    /// The caller's keys that are not revoked, expired ones included, newest first.
    keys: Vec<ApiKeyView>,
}

impl ApiKeyView {
    fn new(key: ApiKey, now: DateTime<Utc>) -> Self {
        ApiKeyView {
            expired: key.expired_at(now),
            id: key.id,
            name: key.name,
            prefix: key.prefix,
            created_at: key.created_at,
            last_used_at: key.last_used_at,
            expires_at: key.expires_at,
            scopes: key.scopes.iter().collect(),
        }
    }
}

/// The scopes a new key of `caller` gets for `requested`.
fn grant(caller: &AuthUser, requested: Option<Vec<Scope>>) -> ApiResult<Scopes> {
    let Some(requested) = requested else {
        // Everything the caller may do; `admin` only means something on an admin's key.
        return Ok(caller
            .scopes
            .iter()
            .filter(|s| *s != Scope::Admin || caller.role == Role::Admin)
            .collect());
    };
    if requested.is_empty() {
        return Err(ApiError::BadRequest(
            "scopes: name at least one of read, upload, write, admin (or leave scopes out)".into(),
        ));
    }
    let scopes: Scopes = requested.into_iter().collect();
    if scopes.contains(Scope::Admin) && caller.role != Role::Admin {
        return Err(ApiError::Forbidden(
            "scopes: only an administrator's key may have the `admin` scope".into(),
        ));
    }
    // A key never makes a key that may do more than it may.
    let missing = scopes.iter().find(|s| !caller.scopes.contains(*s));
    match missing {
        Some(missing) => Err(ApiError::MissingScope(missing)),
        None => Ok(scopes),
    }
}

/// Create an API key for the caller, usable as a Bearer token. The key is shown once. It may
/// expire (`expires_in_seconds`) and be limited to some scopes: `read` (see items, play them,
/// list keys), `upload` (one-request, tus and direct uploads), `write` (change or delete one's
/// items, revoke keys), `admin` (administer; admins only). A request needing a scope the key
/// lacks is refused with 403 `insufficient_scope`.
#[utoipa::path(post, path = "/v1/api-keys", tag = "auth", security(("bearer" = [])),
    request_body = Option<NewApiKey>,
    responses((status = 201, body = CreatedApiKey), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 413, body = ErrorBody)))]
async fn create_api_key(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiBytes(body): ApiBytes,
) -> ApiResult<(StatusCode, Json<CreatedApiKey>)> {
    // The body is optional: none (or `null`) means a default name and everything else left
    // out; anything else must be an object.
    let body: NewApiKey = crate::http::optional_json_object(&body)?;
    if let Some(name) = &body.name {
        check_text("name", name)?;
        // Counted as sent, as the API document states it.
        if name.chars().count() > 100 {
            return Err(ApiError::BadRequest(
                "name: must be at most 100 characters".into(),
            ));
        }
    }
    let name = body
        .name
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "api key".into());
    // Whole seconds within the bounds (checked as floats, so no cast can wrap).
    let ttl = match body.expires_in_seconds {
        None => None,
        Some(s)
            if s.fract() == 0.0
                && (MIN_KEY_TTL_SECS as f64..=MAX_KEY_TTL_SECS as f64).contains(&s) =>
        {
            Some(chrono::Duration::seconds(s as i64))
        }
        Some(_) => {
            return Err(ApiError::BadRequest(format!(
                "expires_in_seconds: must be whole seconds between {MIN_KEY_TTL_SECS} and \
                 {MAX_KEY_TTL_SECS} (five years); leave it out for a key that does not expire"
            )))
        }
    };
    let scopes = grant(&caller, body.scopes)?;
    let key = random_token(API_KEY_PREFIX);
    // Microseconds, as both databases keep them: the listing shows the same instants.
    let created_at = Utc::now().trunc_subsecs(6);
    let record = ApiKey {
        id: new_id(),
        user_id: caller.id,
        name,
        prefix: key.chars().take(12).collect(),
        key_hash: token_digest(&key),
        created_at,
        expires_at: ttl.map(|ttl| created_at + ttl),
        scopes,
        last_used_at: None,
        revoked_at: None,
    };
    state.repo.insert_api_key(&record).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedApiKey {
            id: record.id,
            name: record.name,
            key,
            prefix: record.prefix,
            created_at: record.created_at,
            expires_at: record.expires_at,
            scopes: record.scopes.iter().collect(),
        }),
    ))
}

/// The caller's API keys that are not revoked (expired ones included), newest first. Never
/// the secret: only its first characters (`prefix`).
#[utoipa::path(get, path = "/v1/api-keys", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = ApiKeyList), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody)))]
async fn list_api_keys(
    State(state): State<AppState>,
    caller: AuthUser,
) -> ApiResult<Json<ApiKeyList>> {
    let now = Utc::now();
    let keys = state.repo.list_api_keys(&caller.id).await?;
    Ok(Json(ApiKeyList {
        keys: keys.into_iter().map(|k| ApiKeyView::new(k, now)).collect(),
    }))
}

/// Revoke one of the caller's API keys: it is refused from the next request on. A key that is
/// another user's, unknown or already revoked is 404 (a revoked key is gone: it is no longer
/// listed).
#[utoipa::path(delete, path = "/v1/api-keys/{id}", tag = "auth", security(("bearer" = [])),
    params(("id" = String, Path, description = "The key's `id` (not the key itself)")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
async fn revoke_api_key(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    if state
        .repo
        .revoke_api_key(&caller.id, &id, Utc::now())
        .await?
    {
        tracing::info!(user_id = %caller.id, key_id = %id, "api key revoked");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("API key"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mediaserver_core::UserId;

    fn caller(role: Role, scopes: &str) -> AuthUser {
        AuthUser {
            id: UserId::new(),
            role,
            scopes: scopes.parse().unwrap_or_default(),
            session: None,
        }
    }

    #[test]
    fn keys_get_at_most_what_their_maker_may() {
        let all = Some(Scope::ALL.to_vec());
        let admin = caller(Role::Admin, "read upload write admin");
        assert_eq!(grant(&admin, None).unwrap(), Scopes::all());
        assert_eq!(grant(&admin, all.clone()).unwrap(), Scopes::all());
        let user = caller(Role::User, "read upload write admin");
        assert_eq!(grant(&user, None).unwrap().to_words(), "read upload write");
        assert!(matches!(grant(&user, all), Err(ApiError::Forbidden(_))));
        let reader = caller(Role::Admin, "read");
        assert_eq!(grant(&reader, None).unwrap().to_words(), "read");
        assert!(matches!(
            grant(&reader, Some(vec![Scope::Read, Scope::Write])),
            Err(ApiError::MissingScope(Scope::Write))
        ));
        assert!(matches!(
            grant(&reader, Some(vec![])),
            Err(ApiError::BadRequest(_))
        ));
    }
}
