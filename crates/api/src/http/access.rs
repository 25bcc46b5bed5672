//! Who may see and change an item: its owner, an admin, or (to read) anyone when it is not
//! private, or the holder of a playback token for it that the item has not outlived (a switch to
//! private revokes the tokens minted before). Everyone else gets the 404 a missing item gets, so
//! ids of other people's private items are not revealed.

use crate::credentials::PlaybackGrant;
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
    if may_read(&media, caller, None) {
        Ok(media)
    } else {
        Err(not_found())
    }
}

/// Who may read an item: anyone unless it is private; then its owner, an admin, or the holder
/// of a playback token (`grant`) that still admits it.
pub(crate) fn may_read(
    media: &Media,
    caller: Option<&AuthUser>,
    grant: Option<&PlaybackGrant>,
) -> bool {
    media.visibility != Visibility::Private
        || may_manage(media, caller)
        || grant.is_some_and(|g| g.admits(media))
}

/// Who may change an item, and mint playback tokens for it: its owner or an admin.
pub(crate) fn may_manage(media: &Media, caller: Option<&AuthUser>) -> bool {
    caller.is_some_and(|c| c.is_admin() || c.id == media.owner_id)
}

/// Loads an item the caller may change: its owner or an admin.
pub(crate) async fn load_owned(
    state: &AppState,
    id: &MediaId,
    caller: &AuthUser,
) -> ApiResult<Media> {
    let media = load_readable(state, id, Some(caller)).await?;
    if may_manage(&media, Some(caller)) {
        Ok(media)
    } else {
        Err(ApiError::not_found("media item"))
    }
}
