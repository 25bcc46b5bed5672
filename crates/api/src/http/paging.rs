//! Pages of item lists, newest first: the `limit` and `cursor` query parameters, and the cursor
//! of the next page (the last item's id; ids are time-ordered).

use crate::error::{ApiError, ApiResult};
use mediaserver_core::{Media, MediaId};

/// `limit`: 1–100, default 20.
pub(crate) fn parse_limit(v: Option<&str>) -> ApiResult<u32> {
    parse_limit_in(v, 20, 100)
}

/// `limit`: 1–`max`, `default` when absent.
pub(crate) fn parse_limit_in(v: Option<&str>, default: u32, max: u32) -> ApiResult<u32> {
    // An empty value is not a number either (the documented schema has no empty value).
    match v {
        None => Ok(default),
        Some(s) => s
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                ApiError::BadRequest(format!("limit: must be a number from 1 to {max}"))
            }),
    }
}

/// `cursor`: an id (of an item, user, delivery…) from a previous page's `next_cursor`. An empty
/// value is not one either.
pub(crate) fn parse_cursor<T: TryFrom<String>>(v: Option<String>) -> ApiResult<Option<T>> {
    v.map(T::try_from)
        .transpose()
        .map_err(|_| ApiError::BadRequest("cursor: not a cursor returned by this endpoint".into()))
}

/// Cuts `items`, read with a limit of `limit + 1`, to one page; returns the next page's cursor
/// if there is a next page.
pub(crate) fn next_cursor(items: &mut Vec<Media>, limit: u32) -> Option<MediaId> {
    if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|m| m.id.clone())
    } else {
        None
    }
}
