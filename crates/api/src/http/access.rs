//! Who may see and change an item: its owner, an admin, or (to read) anyone when it is not
//! private, or the holder of a playback token for it. Everyone else gets the 404 a missing item
//! gets, so ids of other people's private items are not revealed.

use crate::error::{ApiError, ApiResult};
use crate::http::caller::AuthUser;
use crate::AppState;
use mediaserver_core::{Media, MediaId, Visibility};

/// Loads an item the caller may see: owner, admin, or a non-private item.
pub(crate) async fn load_readable(
    state: &AppState,
    id: &MediaId,
    caller: Option<&AuthUser>,
) -> ApiResult<Media> {
    let not_found = || ApiError::not_found("media item");
    let media = state.repo.get_media(id).await?.ok_or_else(not_found)?;
    if may_read(&media, caller, false) {
        Ok(media)
    } else {
        Err(not_found())
    }
}

/// Who may read an item: anyone unless it is private; then its owner, an admin, or the holder
/// of a playback token for it (`has_token`: the request carries a valid one for this item).
pub(crate) fn may_read(media: &Media, caller: Option<&AuthUser>, has_token: bool) -> bool {
    has_token
        || media.visibility != Visibility::Private
        || caller.is_some_and(|c| c.is_admin() || c.id == media.owner_id)
}

/// Loads an item the caller may change: its owner or an admin.
pub(crate) async fn load_owned(
    state: &AppState,
    id: &MediaId,
    caller: &AuthUser,
) -> ApiResult<Media> {
    let media = load_readable(state, id, Some(caller)).await?;
    if caller.is_admin() || caller.id == media.owner_id {
        Ok(media)
    } else {
        Err(ApiError::not_found("media item"))
    }
}
