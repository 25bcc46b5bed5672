//! The backend-independent `Repo` implementation, expanded once per backend by [`impl_repo!`]
//! so that every query is written once. The SQL uses `$1, $2, …` placeholders, which
//! sqlx-sqlite accepts too (as numbered parameters). The job queue and processing results are
//! in `queue.rs` (inherent methods this trait implementation delegates to), row mapping in
//! `rows.rs`.
//!
//! A backend type invoking [`impl_repo!`] must provide these inherent items:
//! - `async fn begin_write(&self) -> Result<Transaction<'static, DB>>`: a transaction that may
//!   read and then write without losing a race (SQLite: `BEGIN IMMEDIATE`);
//! - `async fn lock_users(tx) -> Result<()>`: serialises "is this the first user?" decisions;
//! - `async fn run_migrations(&self) -> Result<()>`;
//! - `fn db_err(e: sqlx::Error) -> DbError`;
//! - `fn ts(t: DateTime<Utc>) -> impl Encode + Type`: how a timestamp is bound (every
//!   timestamp written or compared goes through it);
//! - `async fn notify_jobs(&self, tx) -> Result<()>`: wakes `wait_for_jobs` once `tx` commits;
//! - `async fn wait_jobs(&self, timeout: Duration)`: the body of `wait_for_jobs`.

/// Expands the backend-independent `Repo` implementation for `$repo` (a struct with a `pool`
/// field of `sqlx::Pool<$db>`), whose rows are `$row`. `$lock` is the row-locking clause for
/// the queue's candidate `SELECT`s (see `queue.rs`).
macro_rules! impl_repo {
    ($repo:ty, $db:ty, $row:ty, $backend:literal, $lock:literal) => {
        $crate::rows::impl_rows!($repo, $row);
        $crate::queue::impl_queue!($repo, $db, $lock);
        $crate::uploads::impl_uploads!($repo, $row);

        impl $repo {
            /// Revokes every live token of `user_id` inside `tx`.
            async fn revoke_all_in(
                tx: &mut ::sqlx::Transaction<'static, $db>,
                user_id: &str,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> $crate::Result<u64> {
                let done = ::sqlx::query(
                    "UPDATE refresh_tokens SET revoked_at = $1 \
                     WHERE user_id = $2 AND revoked_at IS NULL",
                )
                .bind(Self::ts(now))
                .bind(user_id)
                .execute(&mut **tx)
                .await
                .map_err(Self::db_err)?;
                Ok(done.rows_affected())
            }
        }

        #[::async_trait::async_trait]
        impl $crate::Repo for $repo {
            fn backend(&self) -> &'static str {
                $backend
            }

            async fn migrate(&self) -> $crate::Result<()> {
                self.run_migrations().await
            }

            async fn ping(&self) -> $crate::Result<()> {
                ::sqlx::query("SELECT 1")
                    .execute(&self.pool)
                    .await
                    .map_err(Self::db_err)?;
                Ok(())
            }

            async fn create_user(
                &self,
                user: ::mediaserver_core::NewUser,
            ) -> $crate::Result<::mediaserver_core::User> {
                use ::mediaserver_core::Role;
                let created = ::mediaserver_core::User {
                    id: ::mediaserver_core::new_id(),
                    email: user.email.to_lowercase(),
                    password_hash: user.password_hash,
                    role: Role::User,
                    created_at: $crate::shared::now(),
                };
                let mut tx = self.begin_write().await?;
                let role = match user.role {
                    Some(role) => role,
                    None => {
                        Self::lock_users(&mut tx).await?;
                        let any = ::sqlx::query("SELECT 1 FROM users LIMIT 1")
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
                ::sqlx::query(concat!(
                    "INSERT INTO users (",
                    $crate::rows::user_cols!(),
                    ") VALUES ($1, $2, $3, $4, $5)"
                ))
                .bind(&created.id)
                .bind(&created.email)
                .bind(&created.password_hash)
                .bind(role.as_str())
                .bind(Self::ts(created.created_at))
                .execute(&mut *tx)
                .await
                .map_err(Self::db_err)?;
                tx.commit().await.map_err(Self::db_err)?;
                Ok(::mediaserver_core::User { role, ..created })
            }

            async fn user_by_id(
                &self,
                id: &str,
            ) -> $crate::Result<Option<::mediaserver_core::User>> {
                let row = ::sqlx::query(concat!(
                    "SELECT ",
                    $crate::rows::user_cols!(),
                    " FROM users WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(Self::db_err)?;
                row.as_ref().map(Self::user_from_row).transpose()
            }

            async fn user_by_email(
                &self,
                email: &str,
            ) -> $crate::Result<Option<::mediaserver_core::User>> {
                let row = ::sqlx::query(concat!(
                    "SELECT ",
                    $crate::rows::user_cols!(),
                    " FROM users WHERE email = $1"
                ))
                .bind(email.to_lowercase())
                .fetch_optional(&self.pool)
                .await
                .map_err(Self::db_err)?;
                row.as_ref().map(Self::user_from_row).transpose()
            }

            async fn first_admin(&self) -> $crate::Result<Option<::mediaserver_core::User>> {
                // Sorting SQLite's text timestamps is sound: they are RFC 3339 UTC with a fixed
                // "+00:00" suffix, written by sqlx (rows from before migration 0002: a fraction
                // of 0, 3 or 6 digits, which still sorts after its whole second) or by
                // `shared::sqlite_ts` (always 6 digits).
                let row = ::sqlx::query(concat!(
                    "SELECT ",
                    $crate::rows::user_cols!(),
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
            ) -> $crate::Result<()> {
                ::sqlx::query(
                    "INSERT INTO refresh_tokens \
                     (id, user_id, token_hash, expires_at, revoked_at, created_at) \
                     VALUES ($1, $2, $3, $4, NULL, $5)",
                )
                .bind(&token.id)
                .bind(&token.user_id)
                .bind(&token.token_hash)
                .bind(Self::ts(token.expires_at))
                .bind(Self::ts(token.created_at))
                .execute(&self.pool)
                .await
                .map_err(Self::db_err)?;
                Ok(())
            }

            async fn rotate_refresh_token(
                &self,
                old_hash: &str,
                new: &::mediaserver_core::RefreshToken,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> $crate::Result<::mediaserver_core::RefreshOutcome> {
                use ::mediaserver_core::RefreshOutcome;
                use ::sqlx::Row as _;
                let revoked_at = $crate::shared::ts(now);
                let mut tx = self.begin_write().await?;
                let row = ::sqlx::query(
                    "SELECT id, user_id, expires_at, revoked_at FROM refresh_tokens \
                     WHERE token_hash = $1",
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
                let user_id: String = row.try_get("user_id").map_err(Self::db_err)?;
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
                    let done = ::sqlx::query(
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
                        ::sqlx::query(
                            "INSERT INTO refresh_tokens \
                             (id, user_id, token_hash, expires_at, revoked_at, created_at) \
                             VALUES ($1, $2, $3, $4, NULL, $5)",
                        )
                        .bind(&new.id)
                        .bind(&user_id)
                        .bind(&new.token_hash)
                        .bind(Self::ts(new.expires_at))
                        .bind(Self::ts(new.created_at))
                        .execute(&mut *tx)
                        .await
                        .map_err(Self::db_err)?;
                        RefreshOutcome::Rotated { user_id }
                    }
                    None => {
                        Self::revoke_all_in(&mut tx, &user_id, revoked_at).await?;
                        RefreshOutcome::Reused { user_id }
                    }
                };
                tx.commit().await.map_err(Self::db_err)?;
                Ok(outcome)
            }

            async fn revoke_refresh_token(&self, hash: &str) -> $crate::Result<bool> {
                use ::sqlx::Row as _;
                let now = $crate::shared::now();
                let row = ::sqlx::query(
                    "UPDATE refresh_tokens SET revoked_at = $1 \
                     WHERE token_hash = $2 AND revoked_at IS NULL RETURNING expires_at",
                )
                .bind(Self::ts(now))
                .bind(hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(Self::db_err)?;
                match row {
                    Some(row) => {
                        let expires_at: ::chrono::DateTime<::chrono::Utc> =
                            row.try_get("expires_at").map_err(Self::db_err)?;
                        Ok(expires_at > now)
                    }
                    None => Ok(false),
                }
            }

            async fn revoke_user_refresh_tokens(&self, user_id: &str) -> $crate::Result<u64> {
                let mut tx = self.begin_write().await?;
                let n = Self::revoke_all_in(&mut tx, user_id, $crate::shared::now()).await?;
                tx.commit().await.map_err(Self::db_err)?;
                Ok(n)
            }

            async fn insert_api_key(&self, key: &::mediaserver_core::ApiKey) -> $crate::Result<()> {
                ::sqlx::query(
                    "INSERT INTO api_keys (id, user_id, name, prefix, key_hash, revoked_at, \
                     last_used_at, created_at) VALUES ($1, $2, $3, $4, $5, NULL, NULL, $6)",
                )
                .bind(&key.id)
                .bind(&key.user_id)
                .bind(&key.name)
                .bind(&key.prefix)
                .bind(&key.key_hash)
                .bind(Self::ts(key.created_at))
                .execute(&self.pool)
                .await
                .map_err(Self::db_err)?;
                Ok(())
            }

            async fn user_by_api_key_hash(
                &self,
                hash: &str,
            ) -> $crate::Result<Option<::mediaserver_core::User>> {
                use ::sqlx::Row as _;
                let row = ::sqlx::query(
                    "SELECT u.id, u.email, u.password_hash, u.role, u.created_at, \
                     k.id AS key_id, k.last_used_at \
                     FROM api_keys k JOIN users u ON u.id = k.user_id \
                     WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
                )
                .bind(hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(Self::db_err)?;
                let Some(row) = row else { return Ok(None) };
                let user = Self::user_from_row(&row)?;
                let key_id: String = row.try_get("key_id").map_err(Self::db_err)?;
                let last_used: Option<::chrono::DateTime<::chrono::Utc>> =
                    row.try_get("last_used_at").map_err(Self::db_err)?;
                // Throttled so that authenticating every request is not also a write per
                // request; a failed update must not fail the authentication.
                let now = $crate::shared::now();
                if last_used.is_none_or(|t| now - t > ::chrono::Duration::seconds(60)) {
                    let res = ::sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
                        .bind(Self::ts(now))
                        .bind(&key_id)
                        .execute(&self.pool)
                        .await;
                    if let Err(e) = res {
                        ::tracing::warn!(error = %Self::db_err(e), "updating api key last_used_at");
                    }
                }
                Ok(Some(user))
            }

            async fn create_media_with_event(
                &self,
                media: &::mediaserver_core::Media,
                event: &::mediaserver_core::ObjectEvent,
                max_attempts: i32,
            ) -> $crate::Result<$crate::Recorded> {
                self.record_upload(media, event, max_attempts).await
            }

            async fn create_upload(&self, upload: &::mediaserver_core::Upload) -> $crate::Result<()> {
                self.insert_upload(upload).await
            }

            async fn get_upload(&self, id: &str) -> $crate::Result<Option<::mediaserver_core::Upload>> {
                self.select_upload("id", id).await
            }

            async fn upload_by_key(&self, key: &str) -> $crate::Result<Option<::mediaserver_core::Upload>> {
                self.select_upload("key", key).await
            }

            async fn record_upload_progress(
                &self,
                id: &str,
                expected_offset: i64,
                offset: i64,
                state: &str,
                expires_at: ::chrono::DateTime<::chrono::Utc>,
            ) -> $crate::Result<bool> {
                self.advance_upload(id, expected_offset, offset, state, expires_at).await
            }

            async fn complete_upload(&self, id: &str, offset: i64) -> $crate::Result<bool> {
                self.finish_upload(id, offset).await
            }

            async fn lease_upload(
                &self,
                id: &str,
                writer: &str,
                until: ::chrono::DateTime<::chrono::Utc>,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> $crate::Result<bool> {
                self.take_upload_lease(id, writer, until, now).await
            }

            async fn renew_upload_lease(
                &self,
                id: &str,
                writer: &str,
                until: ::chrono::DateTime<::chrono::Utc>,
            ) -> $crate::Result<bool> {
                self.extend_upload_lease(id, writer, until).await
            }

            async fn release_upload_lease(&self, id: &str, writer: &str) -> $crate::Result<()> {
                self.drop_upload_lease(id, writer).await
            }

            async fn delete_upload(&self, id: &str) -> $crate::Result<bool> {
                self.remove_upload(id).await
            }

            async fn expired_uploads(
                &self,
                now: ::chrono::DateTime<::chrono::Utc>,
                limit: i64,
            ) -> $crate::Result<Vec<::mediaserver_core::Upload>> {
                self.select_expired_uploads(now, limit).await
            }

            async fn get_media(
                &self,
                id: &str,
            ) -> $crate::Result<Option<::mediaserver_core::Media>> {
                let row = ::sqlx::query(concat!(
                    "SELECT ",
                    $crate::rows::media_cols!(),
                    " FROM media WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(Self::db_err)?;
                row.as_ref().map(Self::media_from_row).transpose()
            }

            async fn list_media(
                &self,
                filter: &::mediaserver_core::MediaFilter,
            ) -> $crate::Result<Vec<::mediaserver_core::Media>> {
                // Built per call so that each shape gets its own (index-friendly) plan instead
                // of one "($1 IS NULL OR col = $1)" statement.
                let mut sql = String::from(concat!(
                    "SELECT ",
                    $crate::rows::media_cols!(),
                    " FROM media WHERE 1 = 1"
                ));
                let mut binds: Vec<&str> = Vec::new();
                let conds = [
                    ("owner_id =", filter.owner_id.as_deref()),
                    ("kind =", filter.kind.map(|k| k.as_str())),
                    ("status =", filter.status.map(|s| s.as_str())),
                    ("visibility =", filter.visibility.map(|v| v.as_str())),
                    ("id <", filter.before_id.as_deref()),
                ];
                for (cond, value) in conds {
                    if let Some(value) = value {
                        binds.push(value);
                        sql.push_str(&format!(" AND {cond} ${}", binds.len()));
                    }
                }
                sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", binds.len() + 1));
                let mut query = ::sqlx::query(&sql);
                for value in binds {
                    query = query.bind(value);
                }
                let rows = query
                    .bind(i64::from(filter.limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::db_err)?;
                rows.iter().map(Self::media_from_row).collect()
            }

            async fn update_media(
                &self,
                id: &str,
                patch: &::mediaserver_core::MediaPatch,
            ) -> $crate::Result<Option<::mediaserver_core::Media>> {
                let row = ::sqlx::query(concat!(
                    "UPDATE media SET title = COALESCE($1, title), \
                     visibility = COALESCE($2, visibility), updated_at = $3 \
                     WHERE id = $4 RETURNING ",
                    $crate::rows::media_cols!()
                ))
                .bind(&patch.title)
                .bind(patch.visibility.map(|v| v.as_str()))
                .bind(Self::ts($crate::shared::now()))
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(Self::db_err)?;
                row.as_ref().map(Self::media_from_row).transpose()
            }

            async fn delete_media(&self, id: &str) -> $crate::Result<bool> {
                // Events and jobs go with it through ON DELETE CASCADE (SQLite: foreign_keys is
                // on).
                let done = ::sqlx::query("DELETE FROM media WHERE id = $1")
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err(Self::db_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn events_for_media(
                &self,
                media_id: &str,
            ) -> $crate::Result<Vec<::mediaserver_core::ObjectEvent>> {
                let rows = ::sqlx::query(concat!(
                    "SELECT ",
                    $crate::rows::event_cols!(),
                    " FROM object_events WHERE media_id = $1 ORDER BY created_at, id"
                ))
                .bind(media_id)
                .fetch_all(&self.pool)
                .await
                .map_err(Self::db_err)?;
                rows.iter().map(Self::event_from_row).collect()
            }

            // --- processing results and the job queue: see queue.rs

            async fn mark_media_processing(&self, id: &str) -> $crate::Result<()> {
                self.media_processing(id).await
            }

            async fn set_media_progress(
                &self,
                id: &str,
                progress: i32,
                playable: Option<bool>,
            ) -> $crate::Result<()> {
                self.media_progress(id, progress, playable).await
            }

            async fn mark_media_ready(
                &self,
                id: &str,
                ready: &$crate::MediaReady,
            ) -> $crate::Result<()> {
                self.media_ready(id, ready).await
            }

            async fn mark_media_failed(&self, id: &str, error: &str) -> $crate::Result<()> {
                self.media_failed(id, error).await
            }

            async fn claim_job(
                &self,
                worker: &str,
                lease: ::std::time::Duration,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> $crate::Result<Option<::mediaserver_core::Job>> {
                self.claim(worker, lease, now).await
            }

            async fn heartbeat_job(
                &self,
                job_id: &str,
                worker: &str,
                lease: ::std::time::Duration,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> $crate::Result<bool> {
                self.heartbeat(job_id, worker, lease, now).await
            }

            async fn complete_job(&self, job_id: &str, worker: &str) -> $crate::Result<bool> {
                self.complete(job_id, worker).await
            }

            async fn fail_job(
                &self,
                job_id: &str,
                worker: &str,
                error: &str,
                retry_at: Option<::chrono::DateTime<::chrono::Utc>>,
            ) -> $crate::Result<::mediaserver_core::JobStatus> {
                self.fail(job_id, worker, error, retry_at).await
            }

            async fn release_job(&self, job_id: &str, worker: &str) -> $crate::Result<bool> {
                self.release(job_id, worker).await
            }

            async fn get_job(
                &self,
                job_id: &str,
            ) -> $crate::Result<Option<::mediaserver_core::Job>> {
                self.job(job_id).await
            }

            async fn jobs_for_media(
                &self,
                media_id: &str,
            ) -> $crate::Result<Vec<::mediaserver_core::Job>> {
                self.media_jobs(media_id).await
            }

            async fn wait_for_jobs(&self, timeout: ::std::time::Duration) {
                self.wait_jobs(timeout).await
            }
        }
    };
}
pub(crate) use impl_repo;
