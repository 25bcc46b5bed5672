//! The library's list (`GET /v1/media`): its query — kind, status, title search, the same
//! file by SHA-256, the sort — and its cursor, which carries the last item's sort key so a page
//! starts where the previous one ended in any sort (a keyset, no OFFSET).

use crate::error::{ApiError, ApiResult};
use crate::http::caller::AuthUser;
use crate::http::paging::parse_limit;
use crate::http::text::check_text;
use crate::http::views::MediaView;
use mediaserver_core::{
    Media, MediaAfter, MediaFilter, MediaId, MediaKind, MediaSort, MediaStatus,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Longest title search accepted (titles are at most 200 characters).
const MAX_QUERY_CHARS: usize = 200;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListParams {
    /// Page size, 1–100 (default 20).
    // Read as text so that a bad value is our JSON 400 naming it; documented as what it must be.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// `next_cursor` from the previous page (of the same query).
    #[param(
        pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(\.(0|-?[1-9][0-9]{0,17})\.([0-9a-f]{2})*)?$"
    )]
    cursor: Option<String>,
    /// Only items of this kind.
    #[param(value_type = Option<MediaKind>)]
    kind: Option<String>,
    /// Only items in this state.
    #[param(value_type = Option<MediaStatus>)]
    status: Option<String>,
    /// Only items whose title contains this text (ASCII letters in either case).
    #[param(max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    q: Option<String>,
    /// Only items whose original has this SHA-256 (64 hex digits): is this file already here?
    #[param(pattern = "^[0-9a-fA-F]{64}$")]
    sha256: Option<String>,
    /// Order: `newest` (default), `oldest`, `title` (A–Z), `size` (largest first).
    #[param(inline, value_type = Option<MediaSort>)]
    sort: Option<String>,
}

/// One page of the library.
#[derive(Serialize, ToSchema)]
pub(crate) struct LibraryPage {
    pub(crate) items: Vec<MediaView>,
    /// Pass as `cursor`, with the same query, to get the next page; `null` on the last page.
    pub(crate) next_cursor: Option<String>,
}

/// The filter `p` asks for, for `caller` (everyone's items for an admin), reading one item more
/// than the page (to know whether there is a next page); and the page size.
pub(crate) fn filter(p: ListParams, caller: &AuthUser) -> ApiResult<(MediaFilter, u32)> {
    let limit = parse_limit(p.limit.as_deref())?;
    let kind = p
        .kind
        .map(|s| s.parse::<MediaKind>())
        .transpose()
        .map_err(|e| ApiError::BadRequest(format!("{e}; expected video, audio or image")))?;
    let status = p
        .status
        .map(|s| s.parse::<MediaStatus>())
        .transpose()
        .map_err(|e| {
            ApiError::BadRequest(format!(
                "{e}; expected uploaded, queued, processing, ready or failed"
            ))
        })?;
    let sort = p
        .sort
        .map(|s| s.parse::<MediaSort>())
        .transpose()
        .map_err(|e| ApiError::BadRequest(format!("{e}; expected newest, oldest, title or size")))?
        .unwrap_or_default();
    let q = match p.q {
        Some(q) => {
            check_text("q", &q)?;
            if q.chars().count() > MAX_QUERY_CHARS {
                return Err(ApiError::BadRequest(format!(
                    "q: must be at most {MAX_QUERY_CHARS} characters"
                )));
            }
            Some(q)
        }
        None => None,
    };
    let sha256 = match p.sha256 {
        Some(h) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Some(h.to_ascii_lowercase())
        }
        Some(_) => {
            return Err(ApiError::BadRequest(
                "sha256: must be 64 hexadecimal digits".into(),
            ))
        }
        None => None,
    };
    let after = p.cursor.as_deref().map(parse_cursor).transpose()?;
    Ok((
        MediaFilter {
            owner_id: (!caller.is_admin()).then(|| caller.id.clone()),
            kind,
            status,
            visibility: None,
            title_contains: q,
            sha256,
            sort,
            before_id: None,
            after,
            limit: limit + 1,
        },
        limit,
    ))
}

fn bad_cursor() -> ApiError {
    ApiError::BadRequest("cursor: not a cursor returned by this endpoint".into())
}

/// `{id}` (what a newest-first page always gave) or `{id}.{size}.{title as lowercase hex of its
/// UTF-8}`: exactly what the documented pattern admits, and every such string is a position
/// (a title that is not UTF-8 is read leniently), so a well-formed cursor is never refused.
fn parse_cursor(s: &str) -> ApiResult<MediaAfter> {
    let mut parts = s.splitn(3, '.');
    let id = MediaId::try_from(parts.next().unwrap_or_default().to_string())
        .map_err(|_| bad_cursor())?;
    let (size, title) = match (parts.next(), parts.next()) {
        (None, None) => (0, String::new()),
        (Some(size), Some(title)) => {
            let digits = size.strip_prefix('-').unwrap_or(size);
            let canonical = size == "0"
                || (!digits.is_empty()
                    && digits.len() <= 18
                    && !digits.starts_with('0')
                    && digits.bytes().all(|b| b.is_ascii_digit()));
            let lower_hex = title.len() % 2 == 0
                && title
                    .bytes()
                    .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
            if !canonical || !lower_hex {
                return Err(bad_cursor());
            }
            let size = size.parse::<i64>().map_err(|_| bad_cursor())?;
            let bytes = hex::decode(title).map_err(|_| bad_cursor())?;
            (size, String::from_utf8_lossy(&bytes).into_owned())
        }
        _ => return Err(bad_cursor()),
    };
    Ok(MediaAfter { id, title, size })
}

/// Cuts `items`, read with a limit of `limit + 1`, to one page; the cursor of the next page if
/// there is one.
pub(crate) fn next_cursor(items: &mut Vec<Media>, limit: u32, sort: MediaSort) -> Option<String> {
    if items.len() <= limit as usize {
        return None;
    }
    items.truncate(limit as usize);
    let last = items.last()?;
    Some(match sort {
        // Ids alone order these; the short form stays what it always was.
        MediaSort::Newest | MediaSort::Oldest => last.id.to_string(),
        MediaSort::Title | MediaSort::Size => format!(
            "{}.{}.{}",
            last.id,
            last.size,
            hex::encode(last.title.as_bytes())
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let id = MediaId::new();
        let short = parse_cursor(id.as_str()).unwrap();
        assert_eq!(short.id, id);
        let long = format!("{id}.42.{}", hex::encode("Ünïcode. title"));
        let after = parse_cursor(&long).unwrap();
        assert_eq!((after.size, after.title.as_str()), (42, "Ünïcode. title"));
        // Any well-formed cursor is a position, even one whose title is not UTF-8.
        assert_eq!(parse_cursor(&format!("{id}.-7.ff")).unwrap().size, -7);
        assert_eq!(parse_cursor(&format!("{id}.0.")).unwrap().title, "");
        for bad in [
            String::new(),
            "x".into(),
            format!("{id}.1"),
            format!("{id}.x.aa"),
            format!("{id}.007.aa"),
            format!("{id}.1.AA"),
            format!("{id}.1.abc"),
        ] {
            assert!(parse_cursor(&bad).is_err(), "{bad}");
        }
    }
}
