//! Credentials: argon2id password hashes (computed off the async executor), HS256 access tokens,
//! opaque refresh tokens and API keys (stored as SHA-256 digests), the bearer-token extractor and
//! the failed-login throttle.

use crate::error::ApiError;
use crate::AppState;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use base64::Engine;
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use mediaserver_core::{Role, User};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const API_KEY_PREFIX: &str = "msk_";
pub const REFRESH_TOKEN_PREFIX: &str = "mrt_";

/// Hashes a password with argon2id on the blocking pool.
pub async fn hash_password(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| ApiError::internal("password hashing failed", e))
    })
    .await
    .map_err(|e| ApiError::internal("password hashing task failed", e))?
}

/// Verifies a password on the blocking pool. A malformed stored hash counts as a mismatch.
pub async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A random opaque secret with a recognisable prefix.
pub fn random_token(prefix: &str) -> String {
    let mut buf = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
    )
}

/// Compares two secrets without a timing signal of where they first differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// How opaque tokens are stored: their SHA-256, hex. They carry 256 bits of entropy, so a fast
/// digest is enough (unlike passwords).
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    role: Role,
    iat: i64,
    exp: i64,
    typ: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct PlaybackClaims {
    /// The one media item this token plays.
    mid: String,
    iat: i64,
    exp: i64,
    typ: String,
}

/// Signs and checks access and playback tokens.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    pub access_ttl: Duration,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(***)")
    }
}

impl TokenKeys {
    pub fn new(secret: &[u8], access_ttl: Duration) -> Self {
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            access_ttl,
        }
    }

    pub fn issue_access(&self, user: &User) -> Result<String, ApiError> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user.id.clone(),
            role: user.role,
            iat: now,
            exp: now + self.access_ttl.as_secs() as i64,
            typ: "access".into(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::internal("signing token", e))
    }

    /// A token that lets anyone holding it play one item until it expires. Returns the token and
    /// its expiry (unix seconds).
    pub fn issue_playback(&self, media_id: &str, ttl: Duration) -> Result<(String, i64), ApiError> {
        let now = Utc::now().timestamp();
        let exp = now + ttl.as_secs() as i64;
        let claims = PlaybackClaims {
            mid: media_id.to_string(),
            iat: now,
            exp,
            typ: "playback".into(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::internal("signing token", e))?;
        Ok((token, exp))
    }

    /// The item a playback token is for; 401 if it is expired, tampered with or not one.
    pub fn verify_playback(&self, token: &str) -> Result<String, ApiError> {
        self.verify_playback_until(token).map(|(mid, _)| mid)
    }

    /// Like [`Self::verify_playback`], with the token's expiry (unix seconds; valid through it).
    pub fn verify_playback_until(&self, token: &str) -> Result<(String, i64), ApiError> {
        let mut v = Validation::new(Algorithm::HS256);
        v.leeway = 0;
        v.set_required_spec_claims(&["exp"]);
        match jsonwebtoken::decode::<PlaybackClaims>(token, &self.decoding, &v) {
            Ok(data) if data.claims.typ == "playback" => Ok((data.claims.mid, data.claims.exp)),
            Err(e) if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::ExpiredSignature) => Err(
                ApiError::Unauthorized("the playback token has expired; request a new one".into()),
            ),
            _ => Err(ApiError::Unauthorized("invalid playback token".into())),
        }
    }

    fn verify_access(&self, token: &str) -> Option<Claims> {
        let mut v = Validation::new(Algorithm::HS256);
        v.leeway = 0;
        v.set_required_spec_claims(&["exp", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &v).ok()?;
        (data.claims.typ == "access").then_some(data.claims)
    }
}

/// The authenticated caller. Identity and role come only from the verified credential.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: String,
    pub role: Role,
}

impl AuthUser {
    pub fn is_admin(&self) -> bool {
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
pub struct MaybeAuthUser(pub Option<AuthUser>);

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

/// Slows brute force: after `max_failures` failed logins from one address within `window`,
/// further attempts from it are refused (429) until the window has passed.
#[derive(Debug, Clone)]
pub struct LoginThrottle {
    inner: Arc<Mutex<HashMap<IpAddr, (u32, Instant)>>>,
    max_failures: u32,
    window: Duration,
}

impl LoginThrottle {
    pub fn new(max_failures: u32, window: Duration) -> Self {
        LoginThrottle {
            inner: Arc::default(),
            max_failures,
            window,
        }
    }

    /// `Err` with the seconds to wait if this address is currently locked out.
    pub fn check(&self, ip: IpAddr) -> Result<(), ApiError> {
        let Ok(mut map) = self.inner.lock() else {
            return Ok(());
        };
        if let Some((count, since)) = map.get(&ip).copied() {
            let elapsed = since.elapsed();
            if elapsed >= self.window {
                map.remove(&ip);
            } else if count >= self.max_failures {
                let retry_after_secs = (self.window - elapsed).as_secs().max(1);
                return Err(ApiError::TooManyRequests { retry_after_secs });
            }
        }
        Ok(())
    }

    pub fn record_failure(&self, ip: IpAddr) {
        let Ok(mut map) = self.inner.lock() else {
            return;
        };
        // Bound memory under a spray of addresses: forget expired entries first.
        if map.len() > 100_000 {
            let window = self.window;
            map.retain(|_, (_, since)| since.elapsed() < window);
        }
        let entry = map.entry(ip).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= self.window {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }

    pub fn record_success(&self, ip: IpAddr) {
        if let Ok(mut map) = self.inner.lock() {
            map.remove(&ip);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_locks_out_after_max_failures_and_success_resets() {
        let t = LoginThrottle::new(3, Duration::from_secs(60));
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..3 {
            assert!(t.check(ip).is_ok());
            t.record_failure(ip);
        }
        assert!(matches!(t.check(ip), Err(ApiError::TooManyRequests { .. })));
        assert!(t.check(other).is_ok());
        t.record_success(ip);
        assert!(t.check(ip).is_ok());
    }

    #[test]
    fn access_tokens_verify_and_reject_tampering() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(60));
        let user = User {
            id: "u1".into(),
            email: "a@b.c".into(),
            password_hash: String::new(),
            role: Role::User,
            created_at: Utc::now(),
        };
        let tok = keys.issue_access(&user).unwrap();
        assert_eq!(keys.verify_access(&tok).unwrap().sub, "u1");
        let other = TokenKeys::new(b"another-secret-another-secret-xx", Duration::from_secs(60));
        assert!(other.verify_access(&tok).is_none());
        let mut tampered = tok.clone();
        tampered.insert(tok.len() / 2, 'x');
        assert!(keys.verify_access(&tampered).is_none());
    }

    #[test]
    fn playback_tokens_are_scoped_and_not_access_tokens() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(60));
        let (tok, exp) = keys.issue_playback("m1", Duration::from_secs(30)).unwrap();
        assert!(exp > Utc::now().timestamp());
        assert_eq!(keys.verify_playback(&tok).unwrap(), "m1");
        // A playback token is no login, and a login is no playback token.
        assert!(keys.verify_access(&tok).is_none());
        let user = User {
            id: "u1".into(),
            email: "a@b.c".into(),
            password_hash: String::new(),
            role: Role::User,
            created_at: Utc::now(),
        };
        assert!(keys
            .verify_playback(&keys.issue_access(&user).unwrap())
            .is_err());
        let (expired, _) = keys.issue_playback("m1", Duration::from_secs(0)).unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        let err = keys.verify_playback(&expired).unwrap_err();
        assert!(err.to_string().contains("expired"), "{err}");
    }

    #[test]
    fn opaque_tokens_are_random_and_digested() {
        let a = random_token(API_KEY_PREFIX);
        let b = random_token(API_KEY_PREFIX);
        assert_ne!(a, b);
        assert!(a.starts_with(API_KEY_PREFIX) && a.len() > 40);
        assert_eq!(token_digest(&a).len(), 64);
        assert_ne!(token_digest(&a), a);
    }
}
