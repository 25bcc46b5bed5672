//! [`Admin`]: what user administration and quotas need — users with their storage, disabling,
//! roles, deleting an account (once its media is gone), one-time invitations, and the jobs view —
//! and its implementation, expanded once per backend by `impl_admin!`.
//!
//! Storage used by a user is what they put in: the sizes of their originals (`media.size`) plus
//! the declared lengths of their unfinished uploads (`uploads.length`, status `active`), which
//! reserve room until they finish or expire. Processing outputs are reported apart
//! (`outputs_bytes`, from each item's recorded outputs) and do not count toward a quota: a user
//! cannot know them before uploading.

use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mediaserver_core::{JobId, JobStatus, MediaId, NewUser, Role, Upload, User, UserId};

/// A user as the admin's list shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct UserSummary {
    pub id: UserId,
    pub email: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub media_count: i64,
    pub usage: StorageUsage,
}

/// Bytes a user has in storage (see the module documentation for what counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StorageUsage {
    /// Sum of the user's originals.
    pub originals_bytes: i64,
    /// Declared lengths of the user's unfinished tus and direct uploads.
    pub pending_bytes: i64,
    /// Processing outputs, as recorded when processing finished (not counted by quotas).
    pub outputs_bytes: i64,
}

impl StorageUsage {
    /// What a quota is compared with: originals and unfinished uploads.
    pub fn counted(&self) -> u64 {
        u64::try_from(self.originals_bytes.saturating_add(self.pending_bytes)).unwrap_or(0)
    }
}

/// What an admin changes about a user; `None` leaves it as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub disabled: Option<bool>,
    pub role: Option<Role>,
}

/// Outcome of a change that must keep at least one enabled admin.
#[derive(Debug, Clone, PartialEq)]
pub enum AdminOutcome<T> {
    Done(T),
    NotFound,
    /// The change would leave no enabled admin; nothing changed.
    LastAdmin,
    /// (Deleting) the user still owns media items or unfinished uploads; nothing changed.
    StillOwnsData,
}

/// A one-time invitation as stored (only the token's SHA-256).
#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub id: String,
    pub token_hash: String,
    /// Only this address (lowercased) may register with it.
    pub email: Option<String>,
    pub role: Role,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Outcome of registering with an invitation.
#[derive(Debug, Clone, PartialEq)]
pub enum InvitationOutcome {
    Registered(User),
    Unknown,
    Used,
    Expired,
    /// The invitation is for another address (named).
    WrongEmail(String),
}

/// One job as the admin's jobs view shows it, with its item and owner.
#[derive(Debug, Clone, PartialEq)]
pub struct JobSummary {
    pub id: JobId,
    pub media_id: MediaId,
    pub status: JobStatus,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_after: DateTime<Utc>,
    /// The reason recorded for the item (a user-facing text; see `PipelineError`).
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub title: String,
    pub owner_id: UserId,
    pub owner_email: String,
}

#[async_trait]
pub trait Admin: Send + Sync + std::fmt::Debug {
    /// Users newest first (by id, time-ordered), those created before `before` if given.
    async fn list_users(&self, before: Option<&UserId>, limit: i64) -> Result<Vec<UserSummary>>;
    async fn user_summary(&self, id: &UserId) -> Result<Option<UserSummary>>;
    async fn storage_usage(&self, owner: &UserId) -> Result<StorageUsage>;
    /// `None` if there is no such user.
    async fn user_disabled(&self, id: &UserId) -> Result<Option<bool>>;
    /// Applies `change` unless it would leave no enabled admin. Disabling, or a new role, also
    /// revokes every refresh token of the user (so their sessions and access tokens, which
    /// carry the role, end at once).
    async fn change_user(
        &self,
        id: &UserId,
        change: &UserChange,
    ) -> Result<AdminOutcome<UserSummary>>;
    /// Deletes the user's row (refresh tokens and API keys go with it) unless they still own
    /// media or unfinished uploads, or are the last enabled admin.
    async fn delete_user(&self, id: &UserId) -> Result<AdminOutcome<()>>;
    /// Up to `limit` of the user's uploads (any status), oldest first.
    async fn uploads_of_user(&self, owner: &UserId, limit: i64) -> Result<Vec<Upload>>;

    async fn create_invitation(&self, invitation: &NewInvitation) -> Result<()>;
    /// In one transaction: uses up the invitation with this token hash (if it exists, is
    /// unused, unexpired at `now` and for this address) and creates the user with its role.
    /// A duplicate email is `Conflict`, and leaves the invitation unused.
    async fn register_with_invitation(
        &self,
        token_hash: &str,
        user: NewUser,
        now: DateTime<Utc>,
    ) -> Result<InvitationOutcome>;

    /// Each item's latest job (a retried item's earlier, failed one is history), failed first,
    /// then running, queued, done; within each the most recently changed first. Only `status`
    /// if given.
    async fn list_jobs(&self, status: Option<JobStatus>, limit: i64) -> Result<Vec<JobSummary>>;
}

/// The per-user sums, as columns of a query where `u.id` is the user.
macro_rules! usage_cols {
    ($outputs_bytes:expr) => {
        concat!(
            "(SELECT COUNT(*) FROM media m WHERE m.owner_id = u.id) AS media_count, \
             (SELECT CAST(COALESCE(SUM(m.size), 0) AS BIGINT) FROM media m \
              WHERE m.owner_id = u.id) AS originals_bytes, \
             (SELECT CAST(COALESCE(SUM(up.length), 0) AS BIGINT) FROM uploads up \
              WHERE up.owner_id = u.id AND up.status = 'active') AS pending_bytes, \
             (SELECT CAST(COALESCE(SUM(",
            $outputs_bytes,
            "), 0) AS BIGINT) FROM media m WHERE m.owner_id = u.id) AS outputs_bytes"
        )
    };
}
pub(crate) use usage_cols;

/// Expands [`Admin`] for `$repo` on database `$db` with rows `$row`; `$outputs_bytes` is the
/// backend's SQL for an item's recorded output bytes (a JSON field of `m.outputs`).
macro_rules! impl_admin {
    ($repo:ty, $db:ty, $row:ty, $outputs_bytes:literal) => {
        impl $repo {
            fn summary_from_row(row: &$row) -> $crate::Result<$crate::admin::UserSummary> {
                use ::sqlx::Row as _;
                use $crate::shared::parse_column;
                let get_s = |c: &str| row.try_get::<String, _>(c).map_err(Self::db_err);
                let get_i = |c: &str| row.try_get::<i64, _>(c).map_err(Self::db_err);
                Ok($crate::admin::UserSummary {
                    id: parse_column(&get_s("id")?, "user id")?,
                    email: get_s("email")?,
                    role: parse_column(&get_s("role")?, "role")?,
                    created_at: row.try_get("created_at").map_err(Self::db_err)?,
                    disabled_at: row.try_get("disabled_at").map_err(Self::db_err)?,
                    media_count: get_i("media_count")?,
                    usage: $crate::admin::StorageUsage {
                        originals_bytes: get_i("originals_bytes")?,
                        pending_bytes: get_i("pending_bytes")?,
                        outputs_bytes: get_i("outputs_bytes")?,
                    },
                })
            }

            /// Whether an enabled admin other than `id` exists (inside `tx`, users locked).
            async fn another_admin_in(
                tx: &mut ::sqlx::Transaction<'static, $db>,
                id: &::mediaserver_core::UserId,
            ) -> $crate::Result<bool> {
                let row = ::sqlx::query(
                    "SELECT 1 FROM users WHERE role = 'admin' AND disabled_at IS NULL \
                     AND id <> $1 LIMIT 1",
                )
                .bind(id.as_str())
                .fetch_optional(&mut **tx)
                .await
                .map_err(Self::db_err)?;
                Ok(row.is_some())
            }

            /// The user's role and whether they are disabled (inside `tx`).
            async fn role_and_state_in(
                tx: &mut ::sqlx::Transaction<'static, $db>,
                id: &::mediaserver_core::UserId,
            ) -> $crate::Result<
                Option<(
                    ::mediaserver_core::Role,
                    Option<::chrono::DateTime<::chrono::Utc>>,
                )>,
            > {
                use ::sqlx::Row as _;
                let row = ::sqlx::query("SELECT role, disabled_at FROM users WHERE id = $1")
                    .bind(id.as_str())
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(Self::db_err)?;
                let Some(row) = row else { return Ok(None) };
                let role: String = row.try_get("role").map_err(Self::db_err)?;
                Ok(Some((
                    $crate::shared::parse_column(&role, "role")?,
                    row.try_get("disabled_at").map_err(Self::db_err)?,
                )))
            }
        }

        #[::async_trait::async_trait]
        impl $crate::admin::Admin for $repo {
            async fn list_users(
                &self,
                before: Option<&::mediaserver_core::UserId>,
                limit: i64,
            ) -> $crate::Result<Vec<$crate::admin::UserSummary>> {
                let rows = ::sqlx::query(concat!(
                    "SELECT u.id, u.email, u.role, u.created_at, u.disabled_at, ",
                    $crate::admin::usage_cols!($outputs_bytes),
                    " FROM users u WHERE ($1 = '' OR u.id < $1) ORDER BY u.id DESC LIMIT $2"
                ))
                .bind(before.map_or("", |b| b.as_str()))
                .bind(limit)
                .fetch_all(&self.pool)
                .await
                .map_err(Self::db_err)?;
                rows.iter().map(Self::summary_from_row).collect()
            }

            async fn user_summary(
                &self,
                id: &::mediaserver_core::UserId,
            ) -> $crate::Result<Option<$crate::admin::UserSummary>> {
                let row = ::sqlx::query(concat!(
                    "SELECT u.id, u.email, u.role, u.created_at, u.disabled_at, ",
                    $crate::admin::usage_cols!($outputs_bytes),
                    " FROM users u WHERE u.id = $1"
                ))
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(Self::db_err)?;
                row.as_ref().map(Self::summary_from_row).transpose()
            }

            async fn storage_usage(
                &self,
                owner: &::mediaserver_core::UserId,
            ) -> $crate::Result<$crate::admin::StorageUsage> {
                use ::sqlx::Row as _;
                let row = ::sqlx::query(concat!(
                    "SELECT ",
                    $crate::admin::usage_cols!($outputs_bytes),
                    " FROM (SELECT CAST($1 AS TEXT) AS id) u"
                ))
                .bind(owner.as_str())
                .fetch_one(&self.pool)
                .await
                .map_err(Self::db_err)?;
                let get_i = |c: &str| row.try_get::<i64, _>(c).map_err(Self::db_err);
                Ok($crate::admin::StorageUsage {
                    originals_bytes: get_i("originals_bytes")?,
                    pending_bytes: get_i("pending_bytes")?,
                    outputs_bytes: get_i("outputs_bytes")?,
                })
            }

            async fn user_disabled(
                &self,
                id: &::mediaserver_core::UserId,
            ) -> $crate::Result<Option<bool>> {
                use ::sqlx::Row as _;
                let row = ::sqlx::query("SELECT disabled_at FROM users WHERE id = $1")
                    .bind(id.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::db_err)?;
                row.map(|r| {
                    r.try_get::<Option<::chrono::DateTime<::chrono::Utc>>, _>("disabled_at")
                        .map(|d| d.is_some())
                        .map_err(Self::db_err)
                })
                .transpose()
            }

            async fn change_user(
                &self,
                id: &::mediaserver_core::UserId,
                change: &$crate::admin::UserChange,
            ) -> $crate::Result<$crate::admin::AdminOutcome<$crate::admin::UserSummary>> {
                use $crate::admin::AdminOutcome;
                use ::mediaserver_core::Role;
                let now = $crate::shared::now();
                let mut tx = self.begin_write().await?;
                Self::lock_users(&mut tx).await?;
                let Some((role, disabled_at)) = Self::role_and_state_in(&mut tx, id).await?
                else {
                    tx.rollback().await.map_err(Self::db_err)?;
                    return Ok(AdminOutcome::NotFound);
                };
                let new_role = change.role.unwrap_or(role);
                let new_disabled_at = match change.disabled {
                    Some(true) => disabled_at.or(Some(now)),
                    Some(false) => None,
                    None => disabled_at,
                };
                let was_active_admin = role == Role::Admin && disabled_at.is_none();
                let stays_active_admin = new_role == Role::Admin && new_disabled_at.is_none();
                if was_active_admin
                    && !stays_active_admin
                    && !Self::another_admin_in(&mut tx, id).await?
                {
                    tx.rollback().await.map_err(Self::db_err)?;
                    return Ok(AdminOutcome::LastAdmin);
                }
                ::sqlx::query("UPDATE users SET role = $1, disabled_at = $2 WHERE id = $3")
                    .bind(new_role.as_str())
                    .bind(new_disabled_at.map(Self::ts))
                    .bind(id.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::db_err)?;
                // Access tokens carry the role they were issued with: ending the sessions makes
                // a new role (and a disable) hold at once; API keys read the role from the row.
                if (disabled_at.is_none() && new_disabled_at.is_some()) || new_role != role {
                    Self::revoke_all_in(&mut tx, id, now).await?;
                }
                tx.commit().await.map_err(Self::db_err)?;
                Ok(match self.user_summary(id).await? {
                    Some(s) => AdminOutcome::Done(s),
                    None => AdminOutcome::NotFound,
                })
            }

            async fn delete_user(
                &self,
                id: &::mediaserver_core::UserId,
            ) -> $crate::Result<$crate::admin::AdminOutcome<()>> {
                use $crate::admin::AdminOutcome;
                let mut tx = self.begin_write().await?;
                Self::lock_users(&mut tx).await?;
                let Some((role, disabled_at)) = Self::role_and_state_in(&mut tx, id).await?
                else {
                    tx.rollback().await.map_err(Self::db_err)?;
                    return Ok(AdminOutcome::NotFound);
                };
                if role == ::mediaserver_core::Role::Admin
                    && disabled_at.is_none()
                    && !Self::another_admin_in(&mut tx, id).await?
                {
                    tx.rollback().await.map_err(Self::db_err)?;
                    return Ok(AdminOutcome::LastAdmin);
                }
                let owns = ::sqlx::query(
                    "SELECT 1 FROM media WHERE owner_id = $1 \
                     UNION ALL SELECT 1 FROM uploads WHERE owner_id = $1 AND status = 'active' \
                     LIMIT 1",
                )
                .bind(id.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(Self::db_err)?;
                if owns.is_some() {
                    tx.rollback().await.map_err(Self::db_err)?;
                    return Ok(AdminOutcome::StillOwnsData);
                }
                ::sqlx::query("DELETE FROM users WHERE id = $1")
                    .bind(id.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::db_err)?;
                tx.commit().await.map_err(Self::db_err)?;
                Ok(AdminOutcome::Done(()))
            }

            async fn uploads_of_user(
                &self,
                owner: &::mediaserver_core::UserId,
                limit: i64,
            ) -> $crate::Result<Vec<::mediaserver_core::Upload>> {
                let rows = ::sqlx::query(concat!(
                    "SELECT ",
                    $crate::uploads::upload_cols!(),
                    " FROM uploads WHERE owner_id = $1 ORDER BY created_at, id LIMIT $2"
                ))
                .bind(owner.as_str())
                .bind(limit)
                .fetch_all(&self.pool)
                .await
                .map_err(Self::db_err)?;
                rows.iter().map(Self::upload_from_row).collect()
            }

            async fn create_invitation(
                &self,
                inv: &$crate::admin::NewInvitation,
            ) -> $crate::Result<()> {
                ::sqlx::query(
                    "INSERT INTO invitations (id, token_hash, email, role, created_by, \
                     created_at, expires_at, used_at, used_by) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL)",
                )
                .bind(&inv.id)
                .bind(&inv.token_hash)
                .bind(inv.email.as_ref().map(|e| e.to_lowercase()))
                .bind(inv.role.as_str())
                .bind(inv.created_by.as_str())
                .bind(Self::ts(inv.created_at))
                .bind(Self::ts(inv.expires_at))
                .execute(&self.pool)
                .await
                .map_err(Self::db_err)?;
                Ok(())
            }

            async fn register_with_invitation(
                &self,
                token_hash: &str,
                user: ::mediaserver_core::NewUser,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> $crate::Result<$crate::admin::InvitationOutcome> {
                use $crate::admin::InvitationOutcome;
                use ::sqlx::Row as _;
                let mut tx = self.begin_write().await?;
                let row = ::sqlx::query(
                    "SELECT id, email, role, expires_at, used_at FROM invitations \
                     WHERE token_hash = $1",
                )
                .bind(token_hash)
                .fetch_optional(&mut *tx)
                .await
                .map_err(Self::db_err)?;
                let Some(row) = row else {
                    tx.rollback().await.map_err(Self::db_err)?;
                    return Ok(InvitationOutcome::Unknown);
                };
                let inv_id: String = row.try_get("id").map_err(Self::db_err)?;
                let for_email: Option<String> = row.try_get("email").map_err(Self::db_err)?;
                let role: String = row.try_get("role").map_err(Self::db_err)?;
                let role: ::mediaserver_core::Role =
                    $crate::shared::parse_column(&role, "role")?;
                let expires_at: ::chrono::DateTime<::chrono::Utc> =
                    row.try_get("expires_at").map_err(Self::db_err)?;
                let used_at: Option<::chrono::DateTime<::chrono::Utc>> =
                    row.try_get("used_at").map_err(Self::db_err)?;
                let email = user.email.to_lowercase();
                // Compared here rather than in SQL: SQLite stores timestamps as text.
                let refused = if used_at.is_some() {
                    Some(InvitationOutcome::Used)
                } else if expires_at <= now {
                    Some(InvitationOutcome::Expired)
                } else {
                    for_email
                        .filter(|e| *e != email)
                        .map(InvitationOutcome::WrongEmail)
                };
                if let Some(refused) = refused {
                    tx.rollback().await.map_err(Self::db_err)?;
                    return Ok(refused);
                }
                // Conditional: on PostgreSQL a concurrent registration may have used it since
                // the SELECT (this UPDATE then waits for it and matches nothing).
                let taken = ::sqlx::query(
                    "UPDATE invitations SET used_at = $1 WHERE id = $2 AND used_at IS NULL",
                )
                .bind(Self::ts(now))
                .bind(&inv_id)
                .execute(&mut *tx)
                .await
                .map_err(Self::db_err)?;
                if taken.rows_affected() != 1 {
                    tx.rollback().await.map_err(Self::db_err)?;
                    return Ok(InvitationOutcome::Used);
                }
                let created = ::mediaserver_core::User {
                    id: ::mediaserver_core::UserId::new(),
                    email,
                    password_hash: user.password_hash,
                    role,
                    created_at: now,
                };
                ::sqlx::query(concat!(
                    "INSERT INTO users (",
                    $crate::rows::user_cols!(),
                    ") VALUES ($1, $2, $3, $4, $5)"
                ))
                .bind(created.id.as_str())
                .bind(&created.email)
                .bind(&created.password_hash)
                .bind(created.role.as_str())
                .bind(Self::ts(created.created_at))
                .execute(&mut *tx)
                .await
                .map_err(Self::db_err)?;
                ::sqlx::query("UPDATE invitations SET used_by = $1 WHERE id = $2")
                    .bind(created.id.as_str())
                    .bind(&inv_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(Self::db_err)?;
                tx.commit().await.map_err(Self::db_err)?;
                Ok(InvitationOutcome::Registered(created))
            }

            async fn list_jobs(
                &self,
                status: Option<::mediaserver_core::JobStatus>,
                limit: i64,
            ) -> $crate::Result<Vec<$crate::admin::JobSummary>> {
                use ::sqlx::Row as _;
                use $crate::shared::parse_column;
                let rows = ::sqlx::query(
                    "SELECT j.id, j.media_id, j.status, j.attempts, j.max_attempts, \
                     j.run_after, j.last_error, j.created_at, j.updated_at, \
                     m.title, m.owner_id, u.email AS owner_email \
                     FROM jobs j JOIN media m ON m.id = j.media_id \
                     JOIN users u ON u.id = m.owner_id \
                     WHERE ($1 = '' OR j.status = $1) \
                     AND j.id = (SELECT j2.id FROM jobs j2 WHERE j2.media_id = j.media_id \
                     ORDER BY j2.created_at DESC, j2.id DESC LIMIT 1) \
                     ORDER BY CASE j.status WHEN 'failed' THEN 0 WHEN 'running' THEN 1 \
                     WHEN 'queued' THEN 2 ELSE 3 END, j.updated_at DESC, j.id DESC \
                     LIMIT $2",
                )
                .bind(status.map_or("", |s| s.as_str()))
                .bind(limit)
                .fetch_all(&self.pool)
                .await
                .map_err(Self::db_err)?;
                rows.iter()
                    .map(|row| {
                        let get_s = |c: &str| row.try_get::<String, _>(c).map_err(Self::db_err);
                        Ok($crate::admin::JobSummary {
                            id: parse_column(&get_s("id")?, "job id")?,
                            media_id: parse_column(&get_s("media_id")?, "media id")?,
                            status: parse_column(&get_s("status")?, "job status")?,
                            attempts: row.try_get("attempts").map_err(Self::db_err)?,
                            max_attempts: row.try_get("max_attempts").map_err(Self::db_err)?,
                            run_after: row.try_get("run_after").map_err(Self::db_err)?,
                            last_error: row.try_get("last_error").map_err(Self::db_err)?,
                            created_at: row.try_get("created_at").map_err(Self::db_err)?,
                            updated_at: row.try_get("updated_at").map_err(Self::db_err)?,
                            title: get_s("title")?,
                            owner_id: parse_column(&get_s("owner_id")?, "owner id")?,
                            owner_email: get_s("owner_email")?,
                        })
                    })
                    .collect()
            }
        }
    };
}
pub(crate) use impl_admin;
