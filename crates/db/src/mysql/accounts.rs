//! The MySQL expansion of [`crate::accounts`]: its statements ported from the shared ones
//! (`$n` placeholders, see [`super::sql`]; no `RETURNING`; MySQL's quoting and functions).

use super::MySqlRepo;

impl MySqlRepo {
    /// Revokes every live token of `user_id` inside `tx`.
    pub(super) async fn revoke_all_in(
        tx: &mut ::sqlx::Transaction<'static, ::sqlx::MySql>,
        user_id: &::mediaserver_core::UserId,
        now: ::chrono::DateTime<::chrono::Utc>,
    ) -> crate::Result<u64> {
        let done = crate::mysql::sql::query(
            "UPDATE refresh_tokens SET revoked_at = $1 \
             WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(Self::ts(now))
        .bind(user_id.as_str())
        .execute(&mut **tx)
        .await
        .map_err(Self::db_err)?;
        Ok(done.rows_affected())
    }
}

#[::async_trait::async_trait]
impl crate::Accounts for MySqlRepo {
    async fn create_user(
        &self,
        user: ::mediaserver_core::NewUser,
    ) -> crate::Result<::mediaserver_core::User> {
        use ::mediaserver_core::Role;
        let created = ::mediaserver_core::User {
            id: ::mediaserver_core::UserId::new(),
            email: user.email.to_lowercase(),
            password_hash: user.password_hash,
            role: Role::User,
            created_at: crate::shared::now(),
        };
        let mut tx = self.begin_write().await?;
        let role = match user.role {
            Some(role) => role,
            None => {
                Self::lock_users(&mut tx).await?;
                let any = crate::mysql::sql::query("SELECT 1 FROM users LIMIT 1")
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(Self::db_err)?;
                if any.is_some() {
                    Role::User
                } else {
                    Role::Admin
                }
            }
        };
        crate::mysql::sql::query(concat!(
            "INSERT INTO users (",
            crate::rows::user_cols!(),
            ") VALUES ($1, $2, $3, $4, $5)"
        ))
        .bind(created.id.as_str())
        .bind(&created.email)
        .bind(&created.password_hash)
        .bind(role.as_str())
        .bind(Self::ts(created.created_at))
        .execute(&mut *tx)
        .await
        .map_err(Self::insert_err("user"))?;
        tx.commit().await.map_err(Self::db_err)?;
        Ok(::mediaserver_core::User { role, ..created })
    }

    async fn user_by_id(
        &self,
        id: &::mediaserver_core::UserId,
    ) -> crate::Result<Option<::mediaserver_core::User>> {
        let row = crate::mysql::sql::query(concat!(
            "SELECT ",
            crate::rows::user_cols!(),
            " FROM users WHERE id = $1"
        ))
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(Self::db_err)?;
        row.as_ref().map(Self::user_from_row).transpose()
    }

    async fn user_by_email(&self, email: &str) -> crate::Result<Option<::mediaserver_core::User>> {
        let row = crate::mysql::sql::query(concat!(
            "SELECT ",
            crate::rows::user_cols!(),
            " FROM users WHERE email = $1"
        ))
        .bind(email.to_lowercase())
        .fetch_optional(&self.pool)
        .await
        .map_err(Self::db_err)?;
        row.as_ref().map(Self::user_from_row).transpose()
    }

    async fn first_admin(&self) -> crate::Result<Option<::mediaserver_core::User>> {
        // Sorting SQLite's text timestamps is sound: they are RFC 3339 UTC with a fixed
        // "+00:00" suffix, written by sqlx (rows from before migration 0002: a fraction
        // of 0, 3 or 6 digits, which still sorts after its whole second) or by
        // `shared::sqlite_ts` (always 6 digits).
        let row = crate::mysql::sql::query(concat!(
            "SELECT ",
            crate::rows::user_cols!(),
            " FROM users WHERE role = 'admin' ORDER BY created_at, id LIMIT 1"
        ))
        .fetch_optional(&self.pool)
        .await
        .map_err(Self::db_err)?;
        row.as_ref().map(Self::user_from_row).transpose()
    }

    async fn insert_refresh_token(
        &self,
        token: &::mediaserver_core::RefreshToken,
    ) -> crate::Result<()> {
        crate::mysql::sql::query(
            "INSERT INTO refresh_tokens \
             (id, user_id, session_id, token_hash, expires_at, revoked_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, NULL, $6)",
        )
        .bind(&token.id)
        .bind(token.user_id.as_str())
        .bind(token.session_id.as_str())
        .bind(&token.token_hash)
        .bind(Self::ts(token.expires_at))
        .bind(Self::ts(token.created_at))
        .execute(&self.pool)
        .await
        .map_err(Self::insert_err("refresh token"))?;
        Ok(())
    }

    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new: &::mediaserver_core::RefreshToken,
        now: ::chrono::DateTime<::chrono::Utc>,
    ) -> crate::Result<::mediaserver_core::RefreshOutcome> {
        use ::mediaserver_core::RefreshOutcome;
        let revoked_at = crate::shared::ts(now);
        let mut tx = self.begin_write().await?;
        let row = crate::mysql::sql::query(
            // Locked: concurrent rotations of one token queue here, each deciding on the
            // row as the one before left it (reading unlocked and then waiting on the UPDATE
            // lets InnoDB deadlock them against the winner's insert).
            "SELECT id, user_id, session_id, expires_at, revoked_at FROM refresh_tokens \
             WHERE token_hash = $1 FOR UPDATE",
        )
        .bind(old_hash)
        .fetch_optional(&mut *tx)
        .await
        .map_err(Self::db_err)?;
        let Some(row) = row else {
            tx.rollback().await.map_err(Self::db_err)?;
            return Ok(RefreshOutcome::Invalid);
        };
        let id: String = row.try_get("id").map_err(Self::db_err)?;
        let user_id: ::mediaserver_core::UserId = crate::shared::parse_column(
            &row.try_get::<String, _>("user_id").map_err(Self::db_err)?,
            "user id",
        )?;
        let session_id: ::mediaserver_core::SessionId = crate::shared::parse_column(
            &row.try_get::<String, _>("session_id")
                .map_err(Self::db_err)?,
            "session id",
        )?;
        let expires_at: ::chrono::DateTime<::chrono::Utc> =
            row.try_get("expires_at").map_err(Self::db_err)?;
        let old_revoked: Option<::chrono::DateTime<::chrono::Utc>> =
            row.try_get("revoked_at").map_err(Self::db_err)?;

        // Compared here rather than in SQL: SQLite stores timestamps as text.
        let outcome = if old_revoked.is_some() {
            None
        } else if expires_at <= now {
            tx.rollback().await.map_err(Self::db_err)?;
            return Ok(RefreshOutcome::Invalid);
        } else {
            // Conditional on still being live: on PostgreSQL a concurrent rotation of
            // the same token may have won since the SELECT; then this is a reuse.
            let done = crate::mysql::sql::query(
                "UPDATE refresh_tokens SET revoked_at = $1 \
                 WHERE id = $2 AND revoked_at IS NULL",
            )
            .bind(Self::ts(revoked_at))
            .bind(&id)
            .execute(&mut *tx)
            .await
            .map_err(Self::db_err)?;
            (done.rows_affected() == 1).then_some(())
        };
        let outcome = match outcome {
            Some(()) => {
                crate::mysql::sql::query(
                    "INSERT INTO refresh_tokens \
                     (id, user_id, session_id, token_hash, expires_at, revoked_at, \
                     created_at) VALUES ($1, $2, $3, $4, $5, NULL, $6)",
                )
                .bind(&new.id)
                .bind(user_id.as_str())
                .bind(session_id.as_str())
                .bind(&new.token_hash)
                .bind(Self::ts(new.expires_at))
                .bind(Self::ts(new.created_at))
                .execute(&mut *tx)
                .await
                .map_err(Self::insert_err("refresh token"))?;
                RefreshOutcome::Rotated {
                    user_id,
                    session_id,
                }
            }
            None => {
                Self::revoke_all_in(&mut tx, &user_id, revoked_at).await?;
                RefreshOutcome::Reused { user_id }
            }
        };
        tx.commit().await.map_err(Self::db_err)?;
        Ok(outcome)
    }

    async fn revoke_session(&self, hash: &str) -> crate::Result<bool> {
        // No RETURNING, and MySQL cannot update a table it reads in a subquery: the session
        // first, then its live tokens locked, then revoked.
        let now = crate::shared::now();
        let mut tx = self.begin_write().await?;
        let session: Option<String> = crate::mysql::sql::query_scalar(
            "SELECT session_id FROM refresh_tokens WHERE token_hash = $1",
        )
        .bind(hash)
        .fetch_optional(&mut *tx)
        .await
        .map_err(Self::db_err)?;
        let Some(session) = session else {
            tx.rollback().await.map_err(Self::db_err)?;
            return Ok(false);
        };
        let rows = crate::mysql::sql::query(
            "SELECT expires_at FROM refresh_tokens \
             WHERE revoked_at IS NULL AND session_id = $1 FOR UPDATE",
        )
        .bind(&session)
        .fetch_all(&mut *tx)
        .await
        .map_err(Self::db_err)?;
        crate::mysql::sql::query(
            "UPDATE refresh_tokens SET revoked_at = $1 \
             WHERE revoked_at IS NULL AND session_id = $2",
        )
        .bind(Self::ts(now))
        .bind(&session)
        .execute(&mut *tx)
        .await
        .map_err(Self::db_err)?;
        tx.commit().await.map_err(Self::db_err)?;
        let mut live = false;
        for row in rows {
            let expires_at: ::chrono::DateTime<::chrono::Utc> =
                row.try_get("expires_at").map_err(Self::db_err)?;
            live |= expires_at > now;
        }
        Ok(live)
    }

    async fn revoke_user_refresh_tokens(
        &self,
        user_id: &::mediaserver_core::UserId,
    ) -> crate::Result<u64> {
        let mut tx = self.begin_write().await?;
        let n = Self::revoke_all_in(&mut tx, user_id, crate::shared::now()).await?;
        tx.commit().await.map_err(Self::db_err)?;
        Ok(n)
    }

    async fn session_is_live(
        &self,
        session_id: &::mediaserver_core::SessionId,
        user_id: &::mediaserver_core::UserId,
        now: ::chrono::DateTime<::chrono::Utc>,
    ) -> crate::Result<bool> {
        // A session has one unrevoked token at a time (rotation revokes the old one in
        // the transaction that stores the new one); expiry is compared here rather than
        // in SQL, since SQLite stores timestamps as text.
        let rows = crate::mysql::sql::query(
            "SELECT expires_at FROM refresh_tokens \
             WHERE session_id = $1 AND user_id = $2 AND revoked_at IS NULL \
             AND NOT EXISTS (SELECT 1 FROM users \
             WHERE id = $2 AND disabled_at IS NOT NULL)",
        )
        .bind(session_id.as_str())
        .bind(user_id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(Self::db_err)?;
        for row in rows {
            let expires_at: ::chrono::DateTime<::chrono::Utc> =
                row.try_get("expires_at").map_err(Self::db_err)?;
            if expires_at > now {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn change_password(
        &self,
        user_id: &::mediaserver_core::UserId,
        password_hash: &str,
        keep: Option<&::mediaserver_core::SessionId>,
    ) -> crate::Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = crate::mysql::sql::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(user_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(Self::db_err)?;
        if done.rows_affected() == 0 {
            tx.rollback().await.map_err(Self::db_err)?;
            return Ok(false);
        }
        // Deleted rather than revoked: the other devices still hold their tokens and
        // will present them, and a revoked token presented is taken for a stolen one
        // (every session of the user revoked, the kept one too). Unknown, it is just
        // invalid. No session to keep: an id no token has.
        let keep = keep.map(|s| s.as_str()).unwrap_or("");
        crate::mysql::sql::query(
            "DELETE FROM refresh_tokens WHERE user_id = $1 AND session_id <> $2",
        )
        .bind(user_id.as_str())
        .bind(keep)
        .execute(&mut *tx)
        .await
        .map_err(Self::db_err)?;
        tx.commit().await.map_err(Self::db_err)?;
        Ok(true)
    }

    async fn insert_api_key(&self, key: &::mediaserver_core::ApiKey) -> crate::Result<()> {
        crate::mysql::sql::query(
            "INSERT INTO api_keys (id, user_id, name, prefix, key_hash, revoked_at, \
             last_used_at, created_at, expires_at, scopes) \
             VALUES ($1, $2, $3, $4, $5, NULL, NULL, $6, $7, $8)",
        )
        .bind(&key.id)
        .bind(key.user_id.as_str())
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(&key.key_hash)
        .bind(Self::ts(key.created_at))
        .bind(key.expires_at.map(Self::ts))
        .bind(key.scopes.to_words())
        .execute(&self.pool)
        .await
        .map_err(Self::insert_err("api key"))?;
        Ok(())
    }

    async fn api_key_by_hash(
        &self,
        hash: &str,
        now: ::chrono::DateTime<::chrono::Utc>,
    ) -> crate::Result<Option<(::mediaserver_core::User, ::mediaserver_core::ApiKey)>> {
        let row = crate::mysql::sql::query(concat!(
            "SELECT u.id, u.email, u.password_hash, u.role, u.created_at, ",
            crate::rows::api_key_cols!("k."),
            " FROM api_keys k JOIN users u ON u.id = k.user_id \
             WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND u.disabled_at IS NULL"
        ))
        .bind(hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(Self::db_err)?;
        let Some(row) = row else { return Ok(None) };
        let user = Self::user_from_row(&row)?;
        let key = Self::api_key_from_row(&row)?;
        // Throttled so that authenticating every request is not also a write per
        // request; a failed update must not fail the authentication.
        let stale = key
            .last_used_at
            .is_none_or(|t| now - t > ::chrono::Duration::seconds(60));
        if stale && !key.expired_at(now) {
            let res =
                crate::mysql::sql::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
                    .bind(Self::ts(now))
                    .bind(&key.id)
                    .execute(&self.pool)
                    .await;
            if let Err(e) = res {
                ::tracing::warn!(
                    error = %::mediaserver_core::ErrorChain(&Self::db_err(e)),
                    "updating api key last_used_at"
                );
            }
        }
        Ok(Some((user, key)))
    }

    async fn list_api_keys(
        &self,
        user_id: &::mediaserver_core::UserId,
    ) -> crate::Result<Vec<::mediaserver_core::ApiKey>> {
        // Text timestamps sort right on SQLite (see `first_admin`).
        let rows = crate::mysql::sql::query(concat!(
            "SELECT ",
            crate::rows::api_key_cols!(""),
            " FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL \
             ORDER BY created_at DESC, id"
        ))
        .bind(user_id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(Self::db_err)?;
        rows.iter().map(Self::api_key_from_row).collect()
    }

    async fn revoke_api_key(
        &self,
        user_id: &::mediaserver_core::UserId,
        key_id: &str,
        now: ::chrono::DateTime<::chrono::Utc>,
    ) -> crate::Result<bool> {
        let done = crate::mysql::sql::query(
            "UPDATE api_keys SET revoked_at = $1 \
             WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(Self::ts(now))
        .bind(key_id)
        .bind(user_id.as_str())
        .execute(&self.pool)
        .await
        .map_err(Self::db_err)?;
        Ok(done.rows_affected() == 1)
    }
}
