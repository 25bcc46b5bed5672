//! Administration, for admins only (every handler takes an `AdminUser`: anyone else gets 403):
//! users (list with their storage, create, disable, change role, delete with all their media),
//! invitations that open registration once, and the jobs view.

mod invitations;
mod jobs;
mod users;

use crate::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(users::list_users, users::create_user))
        .routes(routes!(users::update_user, users::delete_user))
        .routes(routes!(invitations::create_invitation))
        .routes(routes!(jobs::list_jobs))
}
