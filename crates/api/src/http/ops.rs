//! Health, readiness and metrics.

use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Health {
    status: &'static str,
}

/// Liveness: the process is up and serving.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Readiness {
    status: &'static str,
    database: String,
    media_storage: String,
    output_storage: String,
}

/// Readiness: the database and both storage buckets answer.
#[utoipa::path(get, path = "/readyz", tag = "ops", responses(
    (status = 200, body = Readiness), (status = 503, body = Readiness)))]
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let (db, media, output) = tokio::join!(
        state.repo.ping(),
        state.media_store.check(),
        state.output_store.check()
    );
    let describe = |ok: bool, e: String| if ok { "ok".to_string() } else { e };
    let all_ok = db.is_ok() && media.is_ok() && output.is_ok();
    let body = Readiness {
        status: if all_ok { "ok" } else { "unavailable" },
        database: describe(
            db.is_ok(),
            db.err().map(|e| e.to_string()).unwrap_or_default(),
        ),
        media_storage: describe(
            media.is_ok(),
            media.err().map(|e| e.to_string()).unwrap_or_default(),
        ),
        output_storage: describe(
            output.is_ok(),
            output.err().map(|e| e.to_string()).unwrap_or_default(),
        ),
    };
    let code = if all_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body))
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "ops", responses((status = 200, content_type = "text/plain")))]
async fn metrics() -> impl IntoResponse {
    let body = crate::metrics::handle()
        .map(|h| h.render())
        .unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
