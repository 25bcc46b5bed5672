//! OCIR's token exchange, `GET /20180419/docker/token`: like the real service it answers only a
//! correctly signed request (any registered principal) and returns `{"token", "access_token",
//! "expires_in"}`. The token is the one a test set (so a real registry can be configured to
//! accept it as the password of `BEARER_TOKEN`), else a generated one.
//!
//! And the Artifacts API's container images (`/20160918/container/images`): ListContainerImages
//! (requires `compartmentId`; `compartmentIdInSubtree=true` only with the tenancy, as OCI; filters
//! `repositoryName`, `imageDigest`, `version`) and
//! DeleteContainerImage, both answering only correctly signed requests, over images a test
//! registered with [`super::Standin::add_ocir_image`].

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
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
    images: Mutex<Vec<OcirImage>>,
    /// (keyId, image id) of every accepted DeleteContainerImage.
    deletes: Mutex<Vec<(String, String)>>,
    serial: AtomicUsize,
    /// ListContainerImages leaves `imageDigest` unapplied (as an API version without it does).
    ignore_digest_filter: std::sync::atomic::AtomicBool,
}

/// A container image as the Artifacts API lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcirImage {
    pub id: String,
    pub compartment_id: String,
    /// The repository's name inside the namespace, e.g. `mediaserver`.
    pub repository_name: String,
    pub digest: String,
    /// The tags ("versions") pointing at it.
    pub versions: Vec<String>,
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

    pub(crate) fn add_image(
        &self,
        compartment_id: &str,
        repository_name: &str,
        digest: &str,
        versions: &[&str],
    ) -> String {
        let n = self.serial.fetch_add(1, Ordering::SeqCst);
        let id = format!("ocid1.containerimage.oc1.iad.standin{n}");
        if let Ok(mut v) = self.images.lock() {
            v.push(OcirImage {
                id: id.clone(),
                compartment_id: compartment_id.to_string(),
                repository_name: repository_name.to_string(),
                digest: digest.to_string(),
                versions: versions.iter().map(|s| s.to_string()).collect(),
            });
        }
        id
    }

    pub(crate) fn images(&self) -> Vec<OcirImage> {
        self.images.lock().map(|v| v.clone()).unwrap_or_default()
    }

    pub(crate) fn deletes(&self) -> Vec<(String, String)> {
        self.deletes.lock().map(|v| v.clone()).unwrap_or_default()
    }

    pub(crate) fn ignore_digest_filter(&self) {
        self.ignore_digest_filter.store(true, Ordering::SeqCst);
    }
}

// A ready error answer is what the handlers return; boxing it buys nothing here.
#[allow(clippy::result_large_err)]
fn verify(
    s: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<super::Verified, Response> {
    let opts = VerifyOptions {
        now: s.now(),
        ..Default::default()
    };
    let target = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    s.keys
        .verify(method, target, headers, Some(&[]), &opts)
        .map_err(|r| s.reject(r))
}

/// ListContainerImages.
pub(crate) async fn list_images(
    State(s): State<Arc<Shared>>,
    Query(q): Query<std::collections::HashMap<String, String>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = verify(&s, &method, &uri, &headers) {
        return r;
    }
    let Some(compartment) = q.get("compartmentId") else {
        return super::error_response(
            400,
            "MissingParameter",
            "compartmentId is required",
            s.now(),
        );
    };
    let subtree = q.get("compartmentIdInSubtree").map(String::as_str) == Some("true");
    if subtree && !compartment.starts_with("ocid1.tenancy.") {
        return super::error_response(
            400,
            "InvalidParameter",
            "compartmentIdInSubtree can only be set to true with the tenancy (root compartment)",
            s.now(),
        );
    }
    let items: Vec<serde_json::Value> = s
        .ocir
        .images()
        .into_iter()
        // Every compartment of the stand-in is under its tenancy.
        .filter(|i| subtree || &i.compartment_id == compartment)
        .filter(|i| {
            q.get("repositoryName")
                .is_none_or(|r| r == &i.repository_name)
        })
        .filter(|i| {
            s.ocir.ignore_digest_filter.load(Ordering::SeqCst)
                || q.get("imageDigest").is_none_or(|d| d == &i.digest)
        })
        .filter(|i| q.get("version").is_none_or(|v| i.versions.contains(v)))
        .map(|i| {
            serde_json::json!({
                "id": i.id,
                "compartmentId": i.compartment_id,
                "repositoryName": i.repository_name,
                "digest": i.digest,
                "version": i.versions.first(),
                "displayName": format!("{}@{}", i.repository_name, i.digest),
                "lifecycleState": "AVAILABLE",
            })
        })
        .collect();
    axum::Json(serde_json::json!({"items": items, "remainingItemsCount": 0})).into_response()
}

/// DeleteContainerImage.
pub(crate) async fn delete_image(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let verified = match verify(&s, &method, &uri, &headers) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let removed = match s.ocir.images.lock() {
        Ok(mut v) => {
            let before = v.len();
            v.retain(|i| i.id != id);
            before != v.len()
        }
        Err(_) => false,
    };
    if !removed {
        return super::error_response(404, "NotAuthorizedOrNotFound", "no such image", s.now());
    }
    if let Ok(mut d) = s.ocir.deletes.lock() {
        d.push((verified.key_id.clone(), id));
    }
    axum::http::StatusCode::NO_CONTENT.into_response()
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
