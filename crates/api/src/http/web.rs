//! The web UI: `/` is the single-page app, `/assets/*` its files and the vendored libraries
//! (the hls.js and dash.js players, the tus-js-client uploader). Everything is embedded in the
//! binary; nothing is fetched from elsewhere.
//!
//! The app is ES modules under `js/` (entry `js/main.js`, no build step): each file the modules
//! import must be listed in `ASSETS`. App files keep their names across releases, so they are
//! served `no-cache` with an ETag (a revalidation costs a 304); vendor files carry their version
//! in the path and are cached for a year.

use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

use crate::error::ApiError;

struct Asset {
    /// Path under `/assets/`.
    path: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $ct:expr) => {
        Asset {
            path: $path,
            content_type: $ct,
            bytes: include_bytes!(concat!("../../web/", $path)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const SVG: &str = "image/svg+xml";

static ASSETS: &[Asset] = &[
    asset!("js/main.js", JS),
    asset!("js/admin.js", JS),
    asset!("js/analytics.js", JS),
    asset!("js/api.js", JS),
    asset!("js/auth.js", JS),
    asset!("js/beacons.js", JS),
    asset!("js/captions.js", JS),
    asset!("js/clips.js", JS),
    asset!("js/codecs.js", JS),
    asset!("js/dom.js", JS),
    asset!("js/downloads.js", JS),
    asset!("js/duplicates.js", JS),
    asset!("js/embed.js", JS),
    asset!("js/embed_share.js", JS),
    asset!("js/format.js", JS),
    asset!("js/items.js", JS),
    asset!("js/library.js", JS),
    asset!("js/library-query.js", JS),
    asset!("js/media.js", JS),
    asset!("js/player.js", JS),
    asset!("js/previews.js", JS),
    asset!("js/quality.js", JS),
    asset!("js/router.js", JS),
    asset!("js/settings.js", JS),
    asset!("js/share.js", JS),
    asset!("js/source.js", JS),
    asset!("js/text_tracks.js", JS),
    asset!("js/transport.js", JS),
    asset!("js/upload.js", JS),
    asset!("js/webhooks.js", JS),
    asset!("app.css", CSS),
    asset!("embed.css", CSS),
    asset!("favicon.svg", SVG),
    asset!("vendor/hls.js-1.7.4/hls.min.js", JS),
    asset!("vendor/hls.js-1.7.4/LICENSE", TEXT),
    asset!("vendor/dashjs-5.2.1/dash.mediaplayer.min.js", JS),
    asset!(
        "vendor/dashjs-5.2.1/dash.mediaplayer.min.js.LICENSE.txt",
        TEXT
    ),
    asset!("vendor/dashjs-5.2.1/LICENSE.md", TEXT),
    asset!("vendor/tus-js-client-4.3.1/tus.min.js", JS),
    asset!("vendor/tus-js-client-4.3.1/LICENSE", TEXT),
];

const INDEX_HTML: &[u8] = include_bytes!("../../web/index.html");

/// The vendored players, as the pages name them under `/assets/`.
pub(crate) const HLS_JS: &str = "vendor/hls.js-1.7.4/hls.min.js";
pub(crate) const DASH_JS: &str = "vendor/dashjs-5.2.1/dash.mediaplayer.min.js";

/// Whether `/assets/{path}` is served.
#[cfg(test)]
pub(crate) fn has_asset(path: &str) -> bool {
    ASSETS.iter().any(|a| a.path == path)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/assets/{*path}", get(asset))
}

/// Strong validators, computed once per file.
fn etags() -> &'static [String] {
    static ETAGS: OnceLock<Vec<String>> = OnceLock::new();
    ETAGS.get_or_init(|| {
        std::iter::once(INDEX_HTML)
            .chain(ASSETS.iter().map(|a| a.bytes))
            .map(|b| format!("\"{}\"", &hex::encode(Sha256::digest(b))[..32]))
            .collect()
    })
}

/// A page's Content-Security-Policy: only this origin's scripts and styles; media, images and
/// XHR also from `blob:` (MSE) and from `PUBLIC_BASE_URL`, where segment requests may be
/// redirected; media also from `data:`, where hls.js points the subtitle `<track>` elements it
/// fills itself; framed only by `frame_ancestors` (`'none'` but for the embed page).
fn csp(public_base_url: Option<&str>, frame_ancestors: &str) -> String {
    let extra = public_base_url
        .and_then(origin_of)
        .map(|o| format!(" {o}"))
        .unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; \
         img-src 'self' data: blob:{extra}; media-src 'self' data: blob:{extra}; \
         connect-src 'self'{extra}; worker-src 'self' blob:; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors {frame_ancestors}"
    )
}

/// [`csp`] as a header value. `origin_of` keeps only a clean origin and the frame ancestors
/// come checked from the configuration; should the value still not be valid, the policy
/// without the public origin is, and failing that one that allows nothing.
pub(crate) fn csp_header(public_base_url: Option<&str>, frame_ancestors: &str) -> HeaderValue {
    HeaderValue::from_str(&csp(public_base_url, frame_ancestors))
        .or_else(|_| HeaderValue::from_str(&csp(None, frame_ancestors)))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"))
}

/// `scheme://host[:port]` of an absolute http(s) URL, or `None`.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if !matches!(scheme, "http" | "https") {
        return None;
    }
    let host = rest.split(['/', '?', '#']).next()?;
    let ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    ok.then(|| format!("{scheme}://{host}"))
}

fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == etag || t == "*")
        })
}

fn respond(
    headers: &HeaderMap,
    bytes: &'static [u8],
    content_type: &'static str,
    cache_control: &'static str,
    etag: &str,
    extra: Vec<(header::HeaderName, HeaderValue)>,
) -> Response {
    let mut response = if not_modified(headers, etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = bytes.into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        r
    };
    let h = response.headers_mut();
    // A hex digest in quotes: always a valid header value.
    if let Ok(etag_value) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, etag_value);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    for (k, v) in extra {
        h.insert(k, v);
    }
    response
}

/// For pages served by others' code (the API docs): never framed, like every page of ours but
/// the embed page — a CSP that says only that, so as not to break the page's own scripts.
pub(crate) async fn deny_framing(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static("frame-ancestors 'none'"));
    res
}

async fn index(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let extra = vec![
        (
            header::CONTENT_SECURITY_POLICY,
            csp_header(state.settings.public_base_url.as_deref(), "'none'"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    ];
    respond(
        &headers,
        INDEX_HTML,
        "text/html; charset=utf-8",
        "no-cache",
        &etags()[0],
        extra,
    )
}

async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
    let (i, a) = ASSETS
        .iter()
        .enumerate()
        .find(|(_, a)| a.path == path)
        .ok_or_else(|| ApiError::NotFound("no such asset".into()))?;
    let cache_control = if a.path.starts_with("vendor/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Ok(respond(
        &headers,
        a.bytes,
        a.content_type,
        cache_control,
        &etags()[i + 1],
        Vec::new(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_the_page_references_is_embedded() {
        let html = std::str::from_utf8(INDEX_HTML).unwrap();
        for part in html.split("/assets/").skip(1) {
            let path = part.split('"').next().unwrap();
            assert!(
                ASSETS.iter().any(|a| a.path == path),
                "index.html references /assets/{path}, which is not embedded"
            );
        }
    }

    #[test]
    fn every_module_the_app_imports_is_embedded() {
        let mut imports = 0;
        for a in ASSETS.iter().filter(|a| a.path.starts_with("js/")) {
            let source = std::str::from_utf8(a.bytes).unwrap();
            // Static imports only, one `from '…'` per line (the end of a multi-line import too).
            let specifiers = source
                .lines()
                .filter(|l| l.starts_with("import ") || l.starts_with("} from "))
                .filter_map(|l| l.split("from '").nth(1)?.split('\'').next());
            for specifier in specifiers {
                imports += 1;
                let name = specifier
                    .strip_prefix("./")
                    .unwrap_or_else(|| panic!("{}: import {specifier} is not ./…", a.path));
                let path = format!("js/{name}");
                assert!(
                    ASSETS.iter().any(|b| b.path == path),
                    "{} imports {specifier}, which is not embedded",
                    a.path
                );
            }
        }
        assert!(imports > 0, "no imports found: the parsing above is stale");
    }

    #[test]
    fn content_types_follow_extensions() {
        for a in ASSETS {
            let expected = match a.path.rsplit('.').next().unwrap() {
                "js" => JS,
                "css" => CSS,
                "svg" => SVG,
                _ => TEXT,
            };
            assert_eq!(a.content_type, expected, "{}", a.path);
        }
    }

    #[test]
    fn csp_adds_only_a_clean_public_origin() {
        assert!(!csp(None, "'none'").contains("cdn"));
        let p = csp(Some("https://cdn.example.com/media-bucket"), "'none'");
        assert!(p.contains("connect-src 'self' https://cdn.example.com;"));
        assert!(p.contains("media-src 'self' data: blob: https://cdn.example.com;"));
        assert_eq!(origin_of("https://a b/"), None);
        assert_eq!(origin_of("ftp://x/"), None);
        assert_eq!(
            origin_of("http://127.0.0.1:9000/b").as_deref(),
            Some("http://127.0.0.1:9000")
        );
    }

    #[test]
    fn if_none_match_matches_strong_weak_and_lists() {
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, "W/\"x\", \"abc\"".parse().unwrap());
        assert!(not_modified(&h, "\"abc\""));
        assert!(!not_modified(&h, "\"abd\""));
        assert!(!not_modified(&HeaderMap::new(), "\"abc\""));
    }
}
