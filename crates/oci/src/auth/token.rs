//! Session tokens (JWTs issued by OCI's auth service): only the claims are read — the token is
//! verified by the service it is presented to, not by us.

use base64::Engine as _;

/// Claims of interest of a session token.
#[derive(Debug, Clone)]
pub(crate) struct TokenClaims {
    pub exp: i64,
    pub iat: Option<i64>,
    pub claims: serde_json::Map<String, serde_json::Value>,
}

impl TokenClaims {
    /// Reads the payload of a JWT. The error never repeats the token.
    pub fn parse(token: &str) -> Result<Self, String> {
        let mut parts = token.trim().split('.');
        let (Some(_), Some(payload), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("the session token is not a JWT (three dot-separated parts)".into());
        };
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .map_err(|_| "the session token's payload is not base64url".to_string())?;
        let claims: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&bytes)
            .map_err(|_| "the session token's payload is not a JSON object".to_string())?;
        let exp = claims
            .get("exp")
            .and_then(serde_json::Value::as_i64)
            .ok_or_else(|| "the session token has no numeric 'exp' claim".to_string())?;
        let iat = claims.get("iat").and_then(serde_json::Value::as_i64);
        Ok(TokenClaims { exp, iat, claims })
    }

    pub fn claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(serde_json::Value::as_str)
    }

    /// Renew when less than five minutes, or less than half the token's lifetime, is left
    /// (whichever comes first), so a request never goes out with a token about to expire.
    pub fn needs_refresh(&self, now: i64) -> bool {
        let lifetime = self.iat.map(|iat| self.exp - iat).unwrap_or(3600).max(0);
        let margin = (lifetime / 2).min(300);
        now >= self.exp - margin
    }
}

pub(crate) fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: serde_json::Value) -> String {
        let b = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        format!(
            "{}.{}.{}",
            b(b"{\"alg\":\"RS256\"}"),
            b(payload.to_string().as_bytes()),
            b(b"sig")
        )
    }

    #[test]
    fn refresh_window_is_five_minutes_or_half_life() {
        let long = TokenClaims::parse(&jwt(serde_json::json!({"iat": 0, "exp": 3600}))).unwrap();
        assert!(!long.needs_refresh(3299));
        assert!(long.needs_refresh(3300));
        let short = TokenClaims::parse(&jwt(serde_json::json!({"iat": 100, "exp": 110}))).unwrap();
        assert!(!short.needs_refresh(104));
        assert!(short.needs_refresh(105));
    }

    #[test]
    fn malformed_tokens_are_explained_without_echoing_them() {
        for bad in ["abc", "a.b.c", &jwt(serde_json::json!({"iat": 1}))] {
            let err = TokenClaims::parse(bad).unwrap_err();
            assert!(!err.contains(bad), "{err}");
        }
    }
}
