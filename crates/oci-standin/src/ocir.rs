//! OCIR's token exchange, `GET /20180419/docker/token`: like the real service it answers only a
//! correctly signed request (any registered principal) and returns `{"token", "access_token",
//! "expires_in"}`. The token is the one a test set (so a real registry can be configured to
//! accept it as the password of `BEARER_TOKEN`), else a generated one.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};

use super::verify::VerifyOptions;
use super::Shared;

#[derive(Default)]
pub(crate) struct OcirState {
    token: Mutex<Option<String>>,
    calls: AtomicUsize,
    /// keyIds that got a token (session tokens shortened), for tests to check who signed.
    signers: Mutex<Vec<String>>,
}

impl OcirState {
    pub(crate) fn set_token(&self, token: &str) {
        if let Ok(mut t) = self.token.lock() {
            *t = Some(token.to_string());
        }
    }

    pub(crate) fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    pub(crate) fn signers(&self) -> Vec<String> {
        self.signers.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

pub(crate) async fn token(
    State(s): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let opts = VerifyOptions {
        now: s.now(),
        ..Default::default()
    };
    let target = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let verified = match s.keys.verify(&method, target, &headers, Some(&[]), &opts) {
        Ok(v) => v,
        Err(r) => return s.reject(r),
    };
    s.ocir.calls.fetch_add(1, Ordering::SeqCst);
    if let Ok(mut v) = s.ocir.signers.lock() {
        let id = if verified.key_id.starts_with("ST$") {
            "ST$<session token>".to_string()
        } else {
            verified.key_id.clone()
        };
        v.push(id);
    }
    let token = s
        .ocir
        .token
        .lock()
        .ok()
        .and_then(|t| t.clone())
        .unwrap_or_else(|| {
            super::make_jwt(&serde_json::json!({
                "sub": "standin-ocir",
                "exp": s.now().timestamp() + 300,
            }))
        });
    axum::Json(serde_json::json!({
        "token": token,
        "access_token": token,
        "expires_in": 300,
    }))
    .into_response()
}
