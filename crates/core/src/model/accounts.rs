//! Accounts: users, refresh tokens and API keys with their scopes.

use super::{ParseEnumError, Role, Scope};
use crate::ids::{SessionId, UserId};
use chrono::{DateTime, Utc};
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub password_hash: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub password_hash: String,
    /// `None`: admin if this is the first user, otherwise a plain user (decided atomically).
    pub role: Option<Role>,
}

/// A stored refresh token. Only the SHA-256 of the token is kept.
#[derive(Debug, Clone)]
pub struct RefreshToken {
    pub id: String,
    pub user_id: UserId,
    /// The login this token descends from (by rotation); its access tokens name it.
    pub session_id: SessionId,
    pub token_hash: String,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// Outcome of presenting a refresh token for rotation.
#[derive(Debug, Clone, PartialEq)]
pub enum RefreshOutcome {
    /// The old token was valid; it is now revoked and the new one stored, in the old one's
    /// session.
    Rotated {
        user_id: UserId,
        session_id: SessionId,
    },
    /// Unknown or expired token.
    Invalid,
    /// The token was already used or revoked: every token of that user has been revoked.
    Reused { user_id: UserId },
}

/// A long-lived API key. Only the SHA-256 of the secret is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKey {
    pub id: String,
    pub user_id: UserId,
    pub name: String,
    /// First characters of the key, shown in listings so a user can tell keys apart.
    pub prefix: String,
    pub key_hash: String,
    pub created_at: DateTime<Utc>,
    /// `None`: the key does not expire.
    pub expires_at: Option<DateTime<Utc>>,
    pub scopes: Scopes,
    /// Written by the store (throttled), `None` on insert.
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    /// Whether the key has expired at `now` (expiring exactly now counts).
    pub fn expired_at(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|t| t <= now)
    }
}

/// A set of [`Scope`]s, kept sorted and without duplicates. Stored as its words joined by
/// spaces (`"read upload"`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    /// Every scope: what a login session, or a key from before scopes existed, may do.
    pub fn all() -> Self {
        Scopes(Scope::ALL.to_vec())
    }

    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    pub fn is_subset(&self, other: &Scopes) -> bool {
        self.0.iter().all(|s| other.contains(*s))
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }

    /// Space-separated words, as stored.
    pub fn to_words(&self) -> String {
        self.0
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Parses [`Scopes::to_words`]'s form; an unknown word is an error.
    pub fn from_words(words: &str) -> Result<Self, ParseEnumError> {
        words.split_whitespace().map(str::parse).collect()
    }
}

impl FromStr for Scopes {
    type Err = ParseEnumError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scopes::from_words(s)
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        let mut v: Vec<Scope> = iter.into_iter().collect();
        // Scope::ALL's order, so stored and listed sets read the same way.
        v.sort_by_key(|s| Scope::ALL.iter().position(|a| a == s));
        v.dedup();
        Scopes(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_a_sorted_set_stored_as_words() {
        let s: Scopes = [Scope::Write, Scope::Read, Scope::Write]
            .into_iter()
            .collect();
        assert_eq!(s.to_words(), "read write");
        assert_eq!(Scopes::from_words("write  read").unwrap(), s);
        assert_eq!(Scopes::from_words("").unwrap(), Scopes::default());
        assert!(Scopes::from_words("read root").is_err());
        assert!(s.is_subset(&Scopes::all()));
        assert!(!Scopes::all().is_subset(&s));
        assert_eq!(Scopes::all().to_words(), "read upload write admin");
    }
}
