//! The page at `/`. The full web UI arrives with the playback work; until then this points a
//! person at what exists.

use axum::response::Html;
use axum::routing::get;
use axum::Router;

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/", get(index))
}

async fn index() -> Html<&'static str> {
    Html(include_str!("index.html"))
}
