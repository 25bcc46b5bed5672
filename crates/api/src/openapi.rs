//! The OpenAPI document served at `/openapi.json`: its header ([`ApiDoc`]) and what
//! [`complete`] adds to every operation once the routers' paths are merged in — the answers the
//! shared parts of every route can give (a refused credential, an unreadable or oversized body,
//! a database or storage outage), so that each route declares only its own.

use crate::error::ErrorBody;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, RefOr};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "mediaserver",
        description = "Self-hosted media platform: upload images, video and audio; stream them back over HLS and DASH."
    ),
    modifiers(&SecurityAddon),
    components(schemas(ErrorBody)),
    tags(
        (name = "auth", description = "Accounts, tokens and API keys"),
        (name = "media", description = "Upload, list, change and delete media items"),
        (name = "uploads", description = "Resumable uploads (tus 1.0.0) and one-time direct-upload targets"),
        (name = "playback", description = "HLS, DASH, thumbnails, storyboards; playback tokens; the public listing"),
        (name = "analytics", description = "Viewer beacons from players, and an item's viewing report"),
        (name = "ops", description = "Health, readiness and metrics"),
        (name = "admin", description = "Users, invitations and the jobs view (admins only)"),
        (name = "webhooks", description = "Webhook deliveries and their attempts (admin)"),
    )
)]
pub(crate) struct ApiDoc;

struct SecurityAddon;

impl utoipa::Modify for SecurityAddon {
    fn modify(&self, openapi: &mut Document) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An access token from /v1/auth/login or an API key"))
                    .build(),
            ),
        );
    }
}

/// Paths served without the database: they never answer 503 for an outage of it.
const NO_DATABASE: &[&str] = &["/healthz", "/metrics"];

/// Adds to every operation the answers that come from what all routes share, unless the route
/// declared them itself (its description is kept):
/// - 401 where a bearer credential is accepted (a wrong, expired or revoked one is refused, also
///   on routes where none is needed);
/// - 400 and 413 where there is a request body (unreadable, not the declared type, too large);
/// - 503 everywhere but [`NO_DATABASE`] and OPTIONS (the database or storage cannot serve now);
/// - 507 on every writing method (POST, PUT, PATCH, DELETE) outside [`NO_DATABASE`]: with
///   SQLite or Local storage on a full disk any write is refused as a whole — a login or a
///   title change as much as an upload.
pub(crate) fn complete(doc: &mut Document) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let db = !NO_DATABASE.contains(&path.as_str());
        for (method, op) in operations(item) {
            if takes_bearer(op) {
                add(op, 401, "missing, invalid, expired or revoked credentials");
                add(
                    op,
                    403,
                    "not allowed; or an API key without the scope this needs",
                );
            }
            if op.request_body.is_some() {
                add(
                    op,
                    400,
                    "the request is malformed; the message names the problem",
                );
                add(
                    op,
                    413,
                    "the request body is larger than this endpoint accepts",
                );
            }
            if db && method != "options" {
                add(
                    op,
                    503,
                    "the database or storage cannot serve now; retry later",
                );
            }
            if db && matches!(method, "post" | "put" | "patch" | "delete") {
                add(
                    op,
                    507,
                    "the server's disk is full; nothing of this request was kept",
                );
            }
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("get", &mut item.get),
        ("put", &mut item.put),
        ("post", &mut item.post),
        ("delete", &mut item.delete),
        ("options", &mut item.options),
        ("head", &mut item.head),
        ("patch", &mut item.patch),
        ("trace", &mut item.trace),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.as_mut().map(|op| (m, op)))
}

fn takes_bearer(op: &Operation) -> bool {
    op.security.iter().flatten().any(|req| {
        // `SecurityRequirement` keeps its scheme names private; its JSON shows them.
        serde_json::to_value(req)
            .ok()
            .and_then(|v| v.as_object().map(|o| o.contains_key("bearer")))
            .unwrap_or(false)
    })
}

fn add(op: &mut Operation, status: u16, description: &str) {
    op.responses
        .responses
        .entry(status.to_string())
        .or_insert_with(|| RefOr::T(error_response(description)));
}

/// A response with the JSON error body every error carries.
pub(crate) fn error_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}
