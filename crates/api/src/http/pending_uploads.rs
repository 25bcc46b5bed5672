//! The cap on a user's unfinished uploads (`MAX_PENDING_UPLOADS`): each tus or direct upload
//! holds a row and, for tus, a provider's multipart upload until it finishes or expires, so one
//! account must not be able to open them without bound.

use crate::error::{ApiError, ApiResult};
use crate::http::caller::AuthUser;
use crate::AppState;

/// Refuses (409) a new upload when `caller` already has the maximum unfinished ones. Checked
/// before anything is created; two simultaneous requests may overshoot by one each.
pub(crate) async fn check(state: &AppState, caller: &AuthUser) -> ApiResult<()> {
    let max = state.settings.max_pending_uploads;
    let pending = state.repo.count_active_uploads(&caller.id).await?;
    if u64::try_from(pending).unwrap_or(0) >= max {
        return Err(ApiError::Conflict(format!(
            "you have {pending} unfinished uploads, the most this server allows per user \
             (MAX_PENDING_UPLOADS={max}): finish them, cancel unfinished tus \
             uploads with DELETE /v1/uploads/{{id}}, or wait for them to expire \
             (UPLOAD_EXPIRY_SECONDS)"
        )));
    }
    Ok(())
}
