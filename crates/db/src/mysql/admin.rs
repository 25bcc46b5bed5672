//! The MySQL expansion of [`crate::admin`]: its statements ported from the shared ones
//! (`$n` placeholders, see [`super::sql`]; no `RETURNING`; MySQL's quoting and functions).

use super::MySqlRepo;

impl MySqlRepo {
    pub(super) fn summary_from_row(
        row: &crate::mysql::sql::Row,
    ) -> crate::Result<crate::admin::UserSummary> {
        use crate::shared::parse_column;
        let get_s = |c: &str| row.try_get::<String, _>(c).map_err(Self::db_err);
        let get_i = |c: &str| row.try_get::<i64, _>(c).map_err(Self::db_err);
        Ok(crate::admin::UserSummary {
            id: parse_column(&get_s("id")?, "user id")?,
            email: get_s("email")?,
            role: parse_column(&get_s("role")?, "role")?,
            created_at: row.try_get("created_at").map_err(Self::db_err)?,
            disabled_at: row.try_get("disabled_at").map_err(Self::db_err)?,
            media_count: get_i("media_count")?,
            usage: crate::admin::StorageUsage {
                originals_bytes: get_i("originals_bytes")?,
                pending_bytes: get_i("pending_bytes")?,
                outputs_bytes: get_i("outputs_bytes")?,
            },
        })
    }

    /// Whether an enabled admin other than `id` exists (inside `tx`, users locked).
    pub(super) async fn another_admin_in(
        tx: &mut ::sqlx::Transaction<'static, ::sqlx::MySql>,
        id: &::mediaserver_core::UserId,
    ) -> crate::Result<bool> {
        let row = crate::mysql::sql::query(
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
    pub(super) async fn role_and_state_in(
        tx: &mut ::sqlx::Transaction<'static, ::sqlx::MySql>,
        id: &::mediaserver_core::UserId,
    ) -> crate::Result<
        Option<(
            ::mediaserver_core::Role,
            Option<::chrono::DateTime<::chrono::Utc>>,
        )>,
    > {
        let row = crate::mysql::sql::query("SELECT role, disabled_at FROM users WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&mut **tx)
            .await
            .map_err(Self::db_err)?;
        let Some(row) = row else { return Ok(None) };
        let role: String = row.try_get("role").map_err(Self::db_err)?;
        Ok(Some((
            crate::shared::parse_column(&role, "role")?,
            row.try_get("disabled_at").map_err(Self::db_err)?,
        )))
    }
}

#[::async_trait::async_trait]
impl crate::admin::Admin for MySqlRepo {
    async fn list_users(
        &self,
        before: Option<&::mediaserver_core::UserId>,
        limit: i64,
    ) -> crate::Result<Vec<crate::admin::UserSummary>> {
        let rows = crate::mysql::sql::query(concat!(
            "SELECT u.id, u.email, u.role, u.created_at, u.disabled_at, ",
            usage_cols!(),
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
    ) -> crate::Result<Option<crate::admin::UserSummary>> {
        let row = crate::mysql::sql::query(concat!(
            "SELECT u.id, u.email, u.role, u.created_at, u.disabled_at, ",
            usage_cols!(),
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
    ) -> crate::Result<crate::admin::StorageUsage> {
        let row = crate::mysql::sql::query(concat!(
            "SELECT ",
            usage_cols!(),
            " FROM (SELECT CAST($1 AS CHAR) AS id) u"
        ))
        .bind(owner.as_str())
        .fetch_one(&self.pool)
        .await
        .map_err(Self::db_err)?;
        let get_i = |c: &str| row.try_get::<i64, _>(c).map_err(Self::db_err);
        Ok(crate::admin::StorageUsage {
            originals_bytes: get_i("originals_bytes")?,
            pending_bytes: get_i("pending_bytes")?,
            outputs_bytes: get_i("outputs_bytes")?,
        })
    }

    async fn user_disabled(&self, id: &::mediaserver_core::UserId) -> crate::Result<Option<bool>> {
        let row = crate::mysql::sql::query("SELECT disabled_at FROM users WHERE id = $1")
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
        change: &crate::admin::UserChange,
    ) -> crate::Result<crate::admin::AdminOutcome<crate::admin::UserSummary>> {
        use crate::admin::AdminOutcome;
        use ::mediaserver_core::Role;
        let now = crate::shared::now();
        let mut tx = self.begin_write().await?;
        Self::lock_users(&mut tx).await?;
        let Some((role, disabled_at)) = Self::role_and_state_in(&mut tx, id).await? else {
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
        if was_active_admin && !stays_active_admin && !Self::another_admin_in(&mut tx, id).await? {
            tx.rollback().await.map_err(Self::db_err)?;
            return Ok(AdminOutcome::LastAdmin);
        }
        crate::mysql::sql::query("UPDATE users SET role = $1, disabled_at = $2 WHERE id = $3")
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
    ) -> crate::Result<crate::admin::AdminOutcome<()>> {
        use crate::admin::AdminOutcome;
        let mut tx = self.begin_write().await?;
        Self::lock_users(&mut tx).await?;
        let Some((role, disabled_at)) = Self::role_and_state_in(&mut tx, id).await? else {
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
        let owns = crate::mysql::sql::query(
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
        crate::mysql::sql::query("DELETE FROM users WHERE id = $1")
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
    ) -> crate::Result<Vec<::mediaserver_core::Upload>> {
        let rows = crate::mysql::sql::query(concat!(
            "SELECT ",
            upload_cols!(),
            " FROM uploads WHERE owner_id = $1 ORDER BY created_at, id LIMIT $2"
        ))
        .bind(owner.as_str())
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(Self::db_err)?;
        rows.iter().map(Self::upload_from_row).collect()
    }

    async fn create_invitation(&self, inv: &crate::admin::NewInvitation) -> crate::Result<()> {
        crate::mysql::sql::query(
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
    ) -> crate::Result<crate::admin::InvitationOutcome> {
        use crate::admin::InvitationOutcome;
        let mut tx = self.begin_write().await?;
        let row = crate::mysql::sql::query(
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
        let role: ::mediaserver_core::Role = crate::shared::parse_column(&role, "role")?;
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
        let taken = crate::mysql::sql::query(
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
        crate::mysql::sql::query(concat!(
            "INSERT INTO users (",
            crate::rows::user_cols!(),
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
        crate::mysql::sql::query("UPDATE invitations SET used_by = $1 WHERE id = $2")
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
    ) -> crate::Result<Vec<crate::admin::JobSummary>> {
        use crate::shared::parse_column;
        let rows = crate::mysql::sql::query(
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
                Ok(crate::admin::JobSummary {
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
