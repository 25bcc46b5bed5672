//! Serving stored objects over HTTP: single byte ranges (206/416), strong ETags, If-None-Match
//! (304), HEAD — streamed from storage, never buffered whole.

use crate::error::{ApiError, ApiResult};
use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use mediaserver_storage::{ByteStream, ObjectKey, ObjectMeta, Storage};

/// A parsed `Range: bytes=...` header for one range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ByteRange {
    /// `bytes=a-b` or `bytes=a-` (end inclusive, `None` = to the end).
    From { start: u64, end: Option<u64> },
    /// `bytes=-n`: the last n bytes.
    Suffix(u64),
}

/// Parses a Range header. Multiple ranges, other units and malformed values are `None`: the
/// header is then ignored and the whole object served, as RFC 9110 allows.
pub(crate) fn parse_range(value: &str) -> Option<ByteRange> {
    let spec = value.trim().strip_prefix("bytes=")?.trim();
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        return b.parse().ok().map(ByteRange::Suffix);
    }
    let start: u64 = a.parse().ok()?;
    let end = if b.is_empty() {
        None
    } else {
        Some(b.parse::<u64>().ok()?)
    };
    if end.is_some_and(|e| e < start) {
        return None;
    }
    Some(ByteRange::From { start, end })
}

/// Resolves a range against the object size → `start..end` (end exclusive), or `Err` for 416.
pub(crate) fn resolve_range(range: ByteRange, size: u64) -> Result<std::ops::Range<u64>, ApiError> {
    match range {
        ByteRange::From { start, end } => {
            if start >= size {
                return Err(ApiError::RangeNotSatisfiable { size });
            }
            let end = end.map_or(size, |e| (e + 1).min(size));
            Ok(start..end)
        }
        ByteRange::Suffix(n) => {
            if n == 0 || size == 0 {
                return Err(ApiError::RangeNotSatisfiable { size });
            }
            Ok(size.saturating_sub(n)..size)
        }
    }
}

fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    if_none_match.trim() == "*"
        || if_none_match
            .split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == etag)
}

pub(crate) struct ServeOptions {
    /// Header values rather than strings: static ones cost nothing per request.
    pub(crate) content_type: HeaderValue,
    /// Strong ETag, quoted; `None` uses the storage's own.
    pub(crate) etag: Option<String>,
    pub(crate) cache_control: HeaderValue,
    pub(crate) content_disposition: Option<String>,
}

/// Answers GET/HEAD for `key` honouring Range and If-None-Match.
pub(crate) async fn serve(
    store: &dyn Storage,
    key: &ObjectKey,
    method: &Method,
    headers: &HeaderMap,
    opts: ServeOptions,
) -> ApiResult<Response> {
    // A plain GET (most segment requests) needs no decision before the bytes: open the object
    // once and take its metadata from that, instead of a HEAD followed by a GET.
    let (meta, whole) = if is_plain_get(method, headers) {
        let (meta, stream) = store.get_stream(key).await?;
        (meta, Some(stream))
    } else {
        (store.head(key).await?, None)
    };
    serve_opened(store, key, meta, whole, method, headers, opts).await
}

/// True for a GET whose answer is the whole object whatever its validator is.
pub(crate) fn is_plain_get(method: &Method, headers: &HeaderMap) -> bool {
    method == Method::GET
        && !headers.contains_key(header::RANGE)
        && !headers.contains_key(header::IF_NONE_MATCH)
}

/// The ETag sent for a stored object: the storage's own, quoted, or one made of size and time.
pub(crate) fn storage_etag(meta: &ObjectMeta) -> String {
    match &meta.etag {
        Some(e) => format!("\"{}\"", e.trim_matches('"')),
        None => format!(
            "\"{}-{}\"",
            meta.size,
            meta.last_modified.timestamp_millis()
        ),
    }
}

/// Like [`serve`], with the object's metadata at hand and, possibly, a stream of the whole
/// object already open (used if the answer is the whole object, dropped otherwise).
pub(crate) async fn serve_opened(
    store: &dyn Storage,
    key: &ObjectKey,
    meta: ObjectMeta,
    whole: Option<ByteStream>,
    method: &Method,
    headers: &HeaderMap,
    opts: ServeOptions,
) -> ApiResult<Response> {
    let size = meta.size;
    let etag = opts.etag.clone().unwrap_or_else(|| storage_etag(&meta));
    let etag = HeaderValue::from_str(&etag)
        .map_err(|e| ApiError::internal(format!("unusable ETag {etag:?}"), e))?;
    // A stream has no known length: hyper needs the header.
    let (parts, span) = match prepare(etag, size, headers, &opts, true) {
        Prepared::NotModified(resp) => return Ok(resp),
        Prepared::Send(parts, span) => (parts, span?),
    };
    let body = if method == Method::HEAD || span.is_empty() {
        Body::empty()
    } else if span.start == 0 && span.end == size {
        match whole {
            Some(stream) => Body::from_stream(stream),
            None => Body::from_stream(store.get_stream(key).await?.1),
        }
    } else {
        Body::from_stream(store.get_range_stream(key, span).await?.1)
    };
    Ok(Response::from_parts(parts, body))
}

/// Answers GET/HEAD from an object already in memory (`etag` quoted), with the same headers,
/// ranges and validators as [`serve`].
pub(crate) fn serve_bytes(
    bytes: Bytes,
    etag: HeaderValue,
    method: &Method,
    headers: &HeaderMap,
    opts: ServeOptions,
) -> ApiResult<Response> {
    let head = method == Method::HEAD;
    // In-memory bodies have an exact length, which hyper writes itself (HEAD has no body).
    let (parts, span) = match prepare(etag, bytes.len() as u64, headers, &opts, head) {
        Prepared::NotModified(resp) => return Ok(resp),
        Prepared::Send(parts, span) => (parts, span?),
    };
    let body = if head {
        Body::empty()
    } else {
        // The span lies within the object (resolve_range clamps it).
        Body::from(bytes.slice(span.start as usize..span.end as usize))
    };
    Ok(Response::from_parts(parts, body))
}

enum Prepared {
    /// A finished 304.
    NotModified(Response),
    /// Status and headers for a 200 or 206 of this span of the object (or the 416).
    Send(axum::http::response::Parts, ApiResult<std::ops::Range<u64>>),
}

/// The decisions every answer makes before its bytes: headers, If-None-Match, Range/If-Range.
fn prepare(
    etag: HeaderValue,
    size: u64,
    headers: &HeaderMap,
    opts: &ServeOptions,
    content_length: bool,
) -> Prepared {
    let etag_str = etag.to_str().unwrap_or_default();
    // Sized once for these and what the middleware adds (CORS, request id).
    let mut h = HeaderMap::with_capacity(12);
    h.insert(header::CONTENT_TYPE, opts.content_type.clone());
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CACHE_CONTROL, opts.cache_control.clone());
    // What is stored is served as the type this server gave it, never as what a browser guesses
    // from the bytes (an image that is also an HTML page must not run as one).
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Some(cd) = opts
        .content_disposition
        .as_deref()
        .and_then(|cd| HeaderValue::from_str(cd).ok())
    {
        h.insert(header::CONTENT_DISPOSITION, cd);
    }

    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|inm| etag_matches(inm, etag_str));
    // If-Range with a different validator means "send the whole thing".
    let if_range_ok = headers
        .get(header::IF_RANGE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.trim() == etag_str);
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_range)
        .filter(|_| if_range_ok);
    h.insert(header::ETAG, etag);

    let (mut parts, ()) = Response::new(()).into_parts();
    if not_modified {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers = h;
        return Prepared::NotModified(Response::from_parts(parts, Body::empty()));
    }
    let (status, span) = match range.map(|r| resolve_range(r, size)) {
        Some(Ok(span)) => (StatusCode::PARTIAL_CONTENT, span),
        Some(Err(e)) => return Prepared::Send(parts, Err(e)),
        None => (StatusCode::OK, 0..size),
    };
    if content_length {
        h.insert(
            header::CONTENT_LENGTH,
            HeaderValue::from(span.end - span.start),
        );
    }
    if status == StatusCode::PARTIAL_CONTENT {
        if let Ok(v) =
            HeaderValue::from_str(&format!("bytes {}-{}/{}", span.start, span.end - 1, size))
        {
            h.insert(header::CONTENT_RANGE, v);
        }
    }
    parts.status = status;
    parts.headers = h;
    Prepared::Send(parts, Ok(span))
}

/// `attachment; filename="..."` (RFC 6266) with a safe ASCII fallback and the RFC 5987 UTF-8
/// form: a download, never rendered in the page's origin whatever the bytes are. Bidirectional
/// controls are dropped (items from bucket events keep their key's name).
pub(crate) fn content_disposition(filename: &str) -> String {
    let filename: String = filename
        .chars()
        .filter(|c| !mediaserver_core::is_bidi_control(*c))
        .collect();
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_single_ranges() {
        assert_eq!(
            parse_range("bytes=0-0"),
            Some(ByteRange::From {
                start: 0,
                end: Some(0)
            })
        );
        assert_eq!(
            parse_range("bytes=10-"),
            Some(ByteRange::From {
                start: 10,
                end: None
            })
        );
        assert_eq!(parse_range("bytes=-5"), Some(ByteRange::Suffix(5)));
        assert_eq!(parse_range("bytes=5-1"), None);
        assert_eq!(parse_range("bytes=0-1,4-5"), None);
        assert_eq!(parse_range("items=0-1"), None);
        assert_eq!(parse_range("bytes=x-"), None);
    }

    #[test]
    fn resolves_against_size() {
        let r = |s| resolve_range(parse_range(s).unwrap(), 100);
        assert_eq!(r("bytes=0-0").unwrap(), 0..1);
        assert_eq!(r("bytes=99-").unwrap(), 99..100);
        assert_eq!(r("bytes=50-1000").unwrap(), 50..100);
        assert_eq!(r("bytes=-10").unwrap(), 90..100);
        assert_eq!(r("bytes=-1000").unwrap(), 0..100);
        assert!(matches!(
            r("bytes=100-"),
            Err(ApiError::RangeNotSatisfiable { size: 100 })
        ));
        assert!(matches!(
            r("bytes=999999999-"),
            Err(ApiError::RangeNotSatisfiable { .. })
        ));
        assert!(matches!(
            r("bytes=-0"),
            Err(ApiError::RangeNotSatisfiable { .. })
        ));
    }

    #[test]
    fn etags_match_lists_and_weak_forms() {
        assert!(etag_matches("\"a\"", "\"a\""));
        assert!(etag_matches("\"b\", W/\"a\"", "\"a\""));
        assert!(etag_matches("*", "\"a\""));
        assert!(!etag_matches("\"b\"", "\"a\""));
    }

    #[test]
    fn content_disposition_is_header_safe() {
        let cd = content_disposition("été \"quoted\".mp4");
        assert!(cd.is_ascii());
        assert!(cd.contains("filename*=UTF-8''%C3%A9t%C3%A9%20%22quoted%22.mp4"));
        assert!(
            cd.starts_with("attachment; filename=\"_t_ _quoted_.mp4\""),
            "{cd}"
        );
        assert_eq!(
            content_disposition("cod\u{202E}4pm.exe"),
            "attachment; filename=\"cod4pm.exe\"; filename*=UTF-8''cod4pm.exe"
        );
    }
}
