//! Credentials: argon2id password hashes (computed off the async executor), HS256 access and
//! playback tokens, and opaque refresh tokens and API keys (stored as SHA-256 digests).

use crate::error::ApiError;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use mediaserver_core::{Media, MediaId, Role, SessionId, User, UserId};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;

pub(crate) const API_KEY_PREFIX: &str = "msk_";
pub(crate) const REFRESH_TOKEN_PREFIX: &str = "mrt_";

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
pub(crate) async fn verify_password(password: String, hash: String) -> bool {
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
pub(crate) fn random_token(prefix: &str) -> String {
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
pub(crate) fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Claims {
    /// Checked like every id when the token is decoded: a token naming no well-formed user is
    /// invalid.
    pub(crate) sub: UserId,
    pub(crate) role: Role,
    /// The login session the token was issued to: it is refused as soon as the session ends
    /// (logout), not only when it expires. Required: a token without one is invalid.
    pub(crate) sid: SessionId,
    iat: i64,
    exp: i64,
    typ: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct PlaybackClaims {
    /// The one media item this token plays.
    mid: MediaId,
    /// The item's `playback_generation` when the token was minted. Tokens from before there
    /// were generations carry none: 0 (the migration moved items private then to 1).
    #[serde(default)]
    gen: i64,
    iat: i64,
    exp: i64,
    typ: String,
}

/// What a valid playback token grants: one item, as long as the item has not been made private
/// since the token was minted.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PlaybackGrant {
    pub(crate) media_id: MediaId,
    /// The item's `playback_generation` when the token was minted.
    generation: i64,
}

impl PlaybackGrant {
    /// Whether this grant still lets its holder read `media`: the same item, not made private
    /// since. Checked against the row at every request, so revocation needs no token list.
    pub(crate) fn admits(&self, media: &Media) -> bool {
        self.media_id == media.id && self.generation == media.playback_generation
    }
}

/// Signs and checks access and playback tokens.
pub(crate) struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    pub(crate) access_ttl: Duration,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(***)")
    }
}

impl TokenKeys {
    pub(crate) fn new(secret: &[u8], access_ttl: Duration) -> Self {
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            access_ttl,
        }
    }

    pub(crate) fn issue_access(
        &self,
        user: &User,
        session: &SessionId,
    ) -> Result<String, ApiError> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user.id.clone(),
            role: user.role,
            sid: session.clone(),
            iat: now,
            exp: now + self.access_ttl.as_secs() as i64,
            typ: "access".into(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::internal("signing token", e))
    }

    /// A token that lets anyone holding it play `media` until it expires, or until the item is
    /// made private (again) or deleted. Returns the token and its expiry (unix seconds).
    pub(crate) fn issue_playback(
        &self,
        media: &Media,
        ttl: Duration,
    ) -> Result<(String, i64), ApiError> {
        let now = Utc::now().timestamp();
        let exp = now + ttl.as_secs() as i64;
        let claims = PlaybackClaims {
            mid: media.id.clone(),
            gen: media.playback_generation,
            iat: now,
            exp,
            typ: "playback".into(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::internal("signing token", e))?;
        Ok((token, exp))
    }

    /// What a playback token grants and its expiry (unix seconds; valid through it); 401 if it
    /// is expired, tampered with or not one. Whether the grant still holds for the item as it
    /// is now is [`PlaybackGrant::admits`].
    pub(crate) fn verify_playback_until(
        &self,
        token: &str,
    ) -> Result<(PlaybackGrant, i64), ApiError> {
        let mut v = Validation::new(Algorithm::HS256);
        v.leeway = 0;
        v.set_required_spec_claims(&["exp"]);
        match jsonwebtoken::decode::<PlaybackClaims>(token, &self.decoding, &v) {
            Ok(data) if data.claims.typ == "playback" => Ok((
                PlaybackGrant {
                    media_id: data.claims.mid,
                    generation: data.claims.gen,
                },
                data.claims.exp,
            )),
            Err(e) if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::ExpiredSignature) => Err(
                ApiError::Unauthorized("the playback token has expired; request a new one".into()),
            ),
            _ => Err(ApiError::Unauthorized("invalid playback token".into())),
        }
    }

    pub(crate) fn verify_access(&self, token: &str) -> Option<Claims> {
        let mut v = Validation::new(Algorithm::HS256);
        v.leeway = 0;
        v.set_required_spec_claims(&["exp", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &v).ok()?;
        (data.claims.typ == "access").then_some(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_tokens_verify_and_reject_tampering() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(60));
        let user = User {
            id: UserId::new(),
            email: "a@b.c".into(),
            password_hash: String::new(),
            role: Role::User,
            created_at: Utc::now(),
        };
        let session = SessionId::new();
        let tok = keys.issue_access(&user, &session).unwrap();
        let claims = keys.verify_access(&tok).unwrap();
        assert_eq!((claims.sub, claims.sid), (user.id, session));
        let other = TokenKeys::new(b"another-secret-another-secret-xx", Duration::from_secs(60));
        assert!(other.verify_access(&tok).is_none());
        let mut tampered = tok.clone();
        tampered.insert(tok.len() / 2, 'x');
        assert!(keys.verify_access(&tampered).is_none());
    }

    fn media() -> Media {
        mediaserver_core::NewOriginal {
            id: MediaId::new(),
            owner_id: UserId::new(),
            kind: mediaserver_core::MediaKind::Video,
            content_type: "video/mp4".into(),
            filename: "a.mp4".into(),
            title: None,
            size: 1,
            sha256: String::new(),
            bucket: "media".into(),
            key: "originals/x/a.mp4".into(),
            etag: "e".into(),
            source: mediaserver_core::ObjectSource::Upload,
        }
        .into_records()
        .0
    }

    #[test]
    fn playback_tokens_are_scoped_and_not_access_tokens() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(60));
        let m1 = media();
        let (tok, exp) = keys.issue_playback(&m1, Duration::from_secs(30)).unwrap();
        assert!(exp > Utc::now().timestamp());
        let grant = keys.verify_playback_until(&tok).unwrap().0;
        assert_eq!(grant.media_id, m1.id);
        assert!(grant.admits(&m1));
        assert!(!grant.admits(&media()), "another item");
        // A playback token is no login, and a login is no playback token.
        assert!(keys.verify_access(&tok).is_none());
        let user = User {
            id: UserId::new(),
            email: "a@b.c".into(),
            password_hash: String::new(),
            role: Role::User,
            created_at: Utc::now(),
        };
        assert!(keys
            .verify_playback_until(&keys.issue_access(&user, &SessionId::new()).unwrap())
            .is_err());
        let (expired, _) = keys.issue_playback(&m1, Duration::from_secs(0)).unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        let err = keys.verify_playback_until(&expired).unwrap_err();
        assert!(err.to_string().contains("expired"), "{err}");
    }

    #[test]
    fn a_playback_token_lapses_when_its_item_is_made_private_again() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(60));
        let mut m = media();
        m.playback_generation = 3;
        let (tok, _) = keys.issue_playback(&m, Duration::from_secs(30)).unwrap();
        let grant = keys.verify_playback_until(&tok).unwrap().0;
        assert!(grant.admits(&m));
        m.playback_generation = 4;
        assert!(!grant.admits(&m));
    }

    #[test]
    fn tokens_from_before_generations_count_as_generation_zero() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let keys = TokenKeys::new(secret, Duration::from_secs(60));
        let mut m = media();
        let now = Utc::now().timestamp();
        let legacy = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &serde_json::json!({"mid": m.id, "iat": now, "exp": now + 60, "typ": "playback"}),
            &EncodingKey::from_secret(secret),
        )
        .unwrap();
        let grant = keys.verify_playback_until(&legacy).unwrap().0;
        assert!(grant.admits(&m));
        // What the migration does to items that were private.
        m.playback_generation = 1;
        assert!(!grant.admits(&m));
    }

    #[test]
    fn tokens_naming_no_well_formed_id_are_invalid() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let keys = TokenKeys::new(secret, Duration::from_secs(60));
        let now = Utc::now().timestamp();
        let sign = |claims: serde_json::Value| {
            jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &claims,
                &EncodingKey::from_secret(secret),
            )
            .unwrap()
        };
        let (user, session) = (UserId::new(), SessionId::new());
        let access = sign(serde_json::json!({
            "sub": "u1", "role": "user", "sid": session, "iat": now, "exp": now + 60,
            "typ": "access"
        }));
        assert!(keys.verify_access(&access).is_none());
        let access = sign(serde_json::json!({
            "sub": user, "role": "user", "sid": "s1", "iat": now, "exp": now + 60,
            "typ": "access"
        }));
        assert!(keys.verify_access(&access).is_none());
        // A token from before sessions (no `sid`) names no session that could be ended.
        let access = sign(serde_json::json!({
            "sub": user, "role": "user", "iat": now, "exp": now + 60, "typ": "access"
        }));
        assert!(keys.verify_access(&access).is_none());
        let access = sign(serde_json::json!({
            "sub": user, "role": "user", "sid": session, "iat": now, "exp": now + 60,
            "typ": "access"
        }));
        assert!(keys.verify_access(&access).is_some());
        let playback = sign(serde_json::json!({
            "mid": "../m1", "iat": now, "exp": now + 60, "typ": "playback"
        }));
        let err = keys.verify_playback_until(&playback).unwrap_err();
        assert_eq!(err.to_string(), "invalid playback token");
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
