//! Checks tied to one backend or to none (connection handling, SQLite's stored forms,
//! PostgreSQL's LISTEN/NOTIFY).

use super::queue::{enqueue, LEASE};
use super::*;
use chrono::TimeZone;
use std::time::{Duration as StdDuration, Instant};

#[tokio::test]
async fn in_memory_sqlite_keeps_its_data() {
    let repo = connect("sqlite::memory:").await.unwrap();
    repo.migrate().await.unwrap();
    let a = user(&repo, "mem@example.com").await;
    assert_eq!(a.role, Role::Admin);
    assert_eq!(
        repo.user_by_email("mem@example.com").await.unwrap(),
        Some(a)
    );
}

#[tokio::test]
async fn sqlite_connection_settings() {
    use sqlx::Row;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    let repo = mediaserver_db::sqlite::SqliteRepo::connect(&url)
        .await
        .unwrap();
    let mut conn = repo.pool.acquire().await.unwrap();
    for (pragma, want) in [
        ("journal_mode", "wal"),
        ("synchronous", "1"),
        ("foreign_keys", "1"),
        ("busy_timeout", "5000"),
    ] {
        let row = sqlx::query(&format!("PRAGMA {pragma}"))
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        let got: String = row
            .try_get::<String, _>(0)
            .or_else(|_| row.try_get::<i64, _>(0).map(|v| v.to_string()))
            .unwrap();
        assert_eq!(got, want, "PRAGMA {pragma}");
    }
}

#[tokio::test]
async fn unreachable_postgres_is_unavailable_without_password() {
    // Port 1 on loopback refuses connections.
    let err = connect("postgres://someone:s3cr%40t@127.0.0.1:1/db")
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, DbError::Unavailable { .. }), "{err:?}");
    assert!(!msg.contains("s3cr"), "{msg}");
    // Nor anywhere in the chain of causes a log prints.
    let mut cause = std::error::Error::source(&err);
    while let Some(e) = cause {
        assert!(!e.to_string().contains("s3cr"), "{e}");
        cause = e.source();
    }
}

#[tokio::test]
async fn unsupported_scheme_is_rejected() {
    let err = connect("mongodb://localhost/db").await.unwrap_err();
    assert!(matches!(err, DbError::Other { .. }), "{err:?}");
}

/// SQLite keeps timestamps as text: they must all be in the one fixed-width form.
#[tokio::test]
async fn sqlite_stores_fixed_width_timestamps() {
    use mediaserver_db::Database;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("ts.db").display());
    let sqlite = mediaserver_db::sqlite::SqliteRepo::connect(&url)
        .await
        .unwrap();
    sqlite.migrate().await.unwrap();
    let pool = sqlite.pool.clone();
    let repo: DynRepo = std::sync::Arc::new(sqlite);
    let (_, j) = enqueue(&repo, 3).await;
    // A lease that ends on a whole second.
    let start = Utc.with_ymd_and_hms(2031, 1, 1, 0, 0, 0).unwrap();
    repo.claim_job("w", LEASE, start).await.unwrap().unwrap();
    let (run_after, lease, created): (String, String, String) =
        sqlx::query_as("SELECT run_after, lease_expires_at, created_at FROM jobs WHERE id = $1")
            .bind(j.id.as_str())
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(lease, "2031-01-01T00:00:30.000000+00:00");
    for t in [run_after, created] {
        assert_eq!(t.len(), lease.len(), "{t}");
        assert!(
            t.ends_with("+00:00") && &t[10..11] == "T" && &t[19..20] == ".",
            "{t}"
        );
    }
    let (media_created,): (String,) = sqlx::query_as("SELECT created_at FROM media")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(media_created.len(), lease.len(), "{media_created}");
}

/// A malformed `outputs` document is an error, not a panic.
#[tokio::test]
async fn malformed_outputs_are_an_error() {
    use mediaserver_db::Database;
    let sqlite = mediaserver_db::sqlite::SqliteRepo::connect("sqlite::memory:")
        .await
        .unwrap();
    sqlite.migrate().await.unwrap();
    let pool = sqlite.pool.clone();
    let repo: DynRepo = std::sync::Arc::new(sqlite);
    let (m, _) = enqueue(&repo, 3).await;
    sqlx::query("UPDATE media SET outputs = '{\"renditions\": 5'")
        .execute(&pool)
        .await
        .unwrap();
    let err = repo.get_media(&m.id).await.unwrap_err();
    assert!(
        matches!(&err, DbError::Other { context, .. } if context.contains("outputs")),
        "{err:?}"
    );
    let err = repo
        .list_media(&MediaFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::Other { .. }), "{err:?}");
    // A migrated row's default document reads as empty outputs.
    sqlx::query("UPDATE media SET outputs = '{}'")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        repo.get_media(&m.id).await.unwrap().unwrap().outputs,
        MediaOutputs::default()
    );
}

/// Waits until one session of database `name` other than `not` is listening, and returns its
/// pid (the repo creates its listener lazily, and a notification sent before it listens is
/// seen by no one).
async fn listener_pid(admin: &str, name: &str, not: Option<i32>) -> i32 {
    let mut conn = PgConnection::connect(admin).await.unwrap();
    let deadline = Instant::now() + StdDuration::from_secs(15);
    loop {
        let pids: Vec<(i32,)> = sqlx::query_as(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LISTEN%'",
        )
        .bind(name)
        .fetch_all(&mut conn)
        .await
        .unwrap();
        let fresh: Vec<i32> = pids
            .iter()
            .map(|p| p.0)
            .filter(|p| Some(*p) != not)
            .collect();
        if fresh.len() == 1 {
            conn.close().await.unwrap();
            return fresh[0];
        }
        assert!(Instant::now() < deadline, "listening sessions: {pids:?}");
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
}

/// LISTEN/NOTIFY: a waiter wakes promptly when another connection enqueues or releases a job,
/// every concurrent waiter of the repo wakes (not just the one holding the listener), and the
/// listener survives losing its connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_wait_for_jobs_wakes_on_notify() {
    let f = Fixture::postgres().await;
    let (admin, name) = f.pg.clone().unwrap();
    let other = connect(&f.pg_url().unwrap()).await.unwrap();
    let timeout = StdDuration::from_secs(20);
    let waiters = |n: usize| {
        (0..n)
            .map(|_| {
                let repo = f.repo.clone();
                tokio::spawn(async move { repo.wait_for_jobs(timeout).await })
            })
            .collect::<Vec<_>>()
    };
    // Once the listener is up and the waiters have settled, runs `send` and returns how long
    // the waiters then took to return.
    macro_rules! woken_after {
        ($waiting:expr, $send:expr) => {{
            tokio::time::sleep(StdDuration::from_millis(300)).await;
            let sent = Instant::now();
            $send;
            for w in $waiting {
                w.await.unwrap();
            }
            sent.elapsed()
        }};
    }

    // Enqueued by another connection; three waiters, one of which holds the listener.
    let waiting = waiters(3);
    let pid = listener_pid(&admin, &name, None).await;
    let waited = woken_after!(waiting, enqueue(&other, 3).await);
    assert!(waited < timeout / 2, "woke {waited:?} after the enqueue");

    // Released by another connection.
    let j = other.claim_job("w", LEASE, now()).await.unwrap().unwrap();
    let waiting = waiters(1);
    let waited = woken_after!(
        waiting,
        assert!(other.release_job(&j.id, "w").await.unwrap())
    );
    assert!(waited < timeout / 2, "woke {waited:?} after the release");

    // The listener's connection is killed: it reconnects (notifications sent meanwhile may be
    // lost; that is allowed) and the next enqueue still wakes a waiter.
    let waiting = waiters(1);
    let mut conn = PgConnection::connect(&admin).await.unwrap();
    let (killed,): (bool,) = sqlx::query_as("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(killed);
    conn.close().await.unwrap();
    listener_pid(&admin, &name, Some(pid)).await;
    let waited = woken_after!(waiting, enqueue(&other, 3).await);
    assert!(waited < timeout / 2, "woke {waited:?} after the enqueue");
    drop(other);
    f.cleanup().await;
}

/// A malformed id or an unknown source in a row is an error, not a panic.
#[tokio::test]
async fn malformed_ids_and_sources_are_an_error() {
    use mediaserver_core::{Upload, UploadProtocol, UploadStatus};
    use mediaserver_db::Database;
    let sqlite = mediaserver_db::sqlite::SqliteRepo::connect("sqlite::memory:")
        .await
        .unwrap();
    sqlite.migrate().await.unwrap();
    let pool = sqlite.pool.clone();
    let repo: DynRepo = std::sync::Arc::new(sqlite);
    let (m, _) = enqueue(&repo, 3).await;
    sqlx::query("UPDATE object_events SET source = 'ftp'")
        .execute(&pool)
        .await
        .unwrap();
    let err = repo.events_for_media(&m.id).await.unwrap_err();
    assert!(
        matches!(&err, DbError::Other { context, .. } if context == "bad source in database"),
        "{err:?}"
    );

    let now = now();
    let upload = Upload {
        id: UploadId::new(),
        owner_id: m.owner_id.clone(),
        protocol: UploadProtocol::Direct,
        filename: "a.png".into(),
        title: None,
        key: "originals/x/a.png".into(),
        length: 1,
        offset: 0,
        state: "{}".into(),
        metadata: None,
        status: UploadStatus::Active,
        expires_at: now,
        created_at: now,
        updated_at: now,
    };
    repo.create_upload(&upload).await.unwrap();
    sqlx::query("UPDATE uploads SET id = '../x'")
        .execute(&pool)
        .await
        .unwrap();
    let err = repo.upload_by_key(&upload.key).await.unwrap_err();
    assert!(
        matches!(&err, DbError::Other { context, .. } if context == "bad upload id in database"),
        "{err:?}"
    );
}

/// Refresh tokens stored before sessions existed become one session each, so their refreshes
/// carry on and their access tokens can be ended.
#[tokio::test]
async fn sqlite_tokens_from_before_sessions_are_a_session_each() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    // The schema as it was before 0005: the same migration files, up to 0004.
    let old = dir.path().join("migrations");
    std::fs::create_dir(&old).unwrap();
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    for entry in std::fs::read_dir(&here).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if name.as_str() < "0005" {
            std::fs::copy(&path, old.join(&name)).unwrap();
        }
    }
    let sqlite = mediaserver_db::sqlite::SqliteRepo::connect(&url)
        .await
        .unwrap();
    let migrator = sqlx::migrate::Migrator::new(old.as_path()).await.unwrap();
    migrator.run(&sqlite.pool).await.unwrap();
    let pool = sqlite.pool.clone();
    let repo: DynRepo = std::sync::Arc::new(sqlite);
    let u = user(&repo, "old@example.com").await;
    let (id, t) = (new_id(), now());
    sqlx::query(
        "INSERT INTO refresh_tokens (id, user_id, token_hash, expires_at, revoked_at, created_at) \
         VALUES ($1, $2, 'old-hash', $3, NULL, $4)",
    )
    .bind(&id)
    .bind(u.id.as_str())
    .bind(t + Duration::hours(1))
    .bind(t)
    .execute(&pool)
    .await
    .unwrap();

    repo.migrate().await.unwrap();
    let session: SessionId = id.parse().unwrap();
    assert!(repo.session_is_live(&session, &u.id, now()).await.unwrap());
    let out = repo
        .rotate_refresh_token("old-hash", &token(&u.id, "next", Duration::hours(1)), now())
        .await
        .unwrap();
    assert_eq!(
        out,
        RefreshOutcome::Rotated {
            user_id: u.id.clone(),
            session_id: session,
        }
    );
}

/// A copy of `backend`'s migration files numbered below `before`, in `dir`: the schema as it
/// was before that migration.
async fn migrations_before(
    dir: &std::path::Path,
    backend: &str,
    before: &str,
) -> sqlx::migrate::Migrator {
    let old = dir.join(format!("migrations-{backend}"));
    std::fs::create_dir(&old).unwrap();
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    for entry in std::fs::read_dir(&here).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if name.as_str() < before {
            std::fs::copy(&path, old.join(&name)).unwrap();
        }
    }
    sqlx::migrate::Migrator::new(old.as_path()).await.unwrap()
}

/// Keys stored before migration 0007 keep everything their owner may do (`admin` only on an
/// admin's keys) and never expire.
async fn keys_from_before_scopes_keep_their_access(
    repo: DynRepo,
    insert: impl AsyncFn(&str, &str, &UserId),
) {
    let admin = user(&repo, "old-admin@example.com").await;
    let plain = user(&repo, "old-user@example.com").await;
    assert_eq!(admin.role, Role::Admin);
    insert("k-admin", "old-admin-hash", &admin.id).await;
    insert("k-user", "old-user-hash", &plain.id).await;
    repo.migrate().await.unwrap();
    for (hash, owner, scopes) in [
        ("old-admin-hash", &admin, "read upload write admin"),
        ("old-user-hash", &plain, "read upload write"),
    ] {
        let (u, k) = repo.api_key_by_hash(hash, now()).await.unwrap().unwrap();
        assert_eq!(&u, owner);
        assert_eq!(k.scopes.to_words(), scopes);
        assert_eq!(k.expires_at, None);
    }
}

const OLD_KEY_INSERT: &str = "INSERT INTO api_keys (id, user_id, name, prefix, key_hash, \
     revoked_at, last_used_at, created_at) VALUES ($1, $2, 'old', 'msk_old', $3, NULL, NULL, $4)";

#[tokio::test]
async fn sqlite_keys_from_before_scopes_keep_their_access() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    let sqlite = mediaserver_db::sqlite::SqliteRepo::connect(&url)
        .await
        .unwrap();
    migrations_before(dir.path(), "sqlite", "0007")
        .await
        .run(&sqlite.pool)
        .await
        .unwrap();
    let pool = sqlite.pool.clone();
    let insert = async |id: &str, hash: &str, user: &UserId| {
        sqlx::query(OLD_KEY_INSERT)
            .bind(id)
            .bind(user.as_str())
            .bind(hash)
            .bind(now())
            .execute(&pool)
            .await
            .unwrap();
    };
    keys_from_before_scopes_keep_their_access(std::sync::Arc::new(sqlite), insert).await;
}

#[tokio::test]
async fn postgres_keys_from_before_scopes_keep_their_access() {
    let f = Fixture::postgres_unmigrated().await;
    let url = f.pg_url().unwrap();
    let pg = mediaserver_db::postgres::PgRepo::connect(&url)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    migrations_before(dir.path(), "postgres", "0007")
        .await
        .run(&pg.pool)
        .await
        .unwrap();
    let pool = pg.pool.clone();
    let insert = async |id: &str, hash: &str, user: &UserId| {
        sqlx::query(OLD_KEY_INSERT)
            .bind(id)
            .bind(user.as_str())
            .bind(hash)
            .bind(now())
            .execute(&pool)
            .await
            .unwrap();
    };
    keys_from_before_scopes_keep_their_access(std::sync::Arc::new(pg), insert).await;
    f.cleanup().await;
}

/// A disk that fills up makes SQLite roll a transaction back on its own while sqlx still counts
/// it open (COMMIT fails with SQLITE_FULL, and so does the ROLLBACK sqlx sends after). Such a
/// connection must not go back to the pool: every later `BEGIN` on it would fail ("attempted to
/// call begin_with at non-zero transaction depth") until a restart. Reproduced here without a
/// full disk: the transaction is ended behind sqlx's back, so its COMMIT and ROLLBACK fail the
/// same way.
#[tokio::test]
async fn sqlite_a_connection_left_inside_a_transaction_is_not_reused() {
    use mediaserver_db::Database;
    use sqlx::Acquire;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    let sqlite = mediaserver_db::sqlite::SqliteRepo::connect(&url)
        .await
        .unwrap();
    sqlite.migrate().await.unwrap();
    {
        let mut conn = sqlite.pool.acquire().await.unwrap();
        let mut tx = conn.begin().await.unwrap();
        sqlx::query("ROLLBACK").execute(&mut *tx).await.unwrap();
        assert!(tx.commit().await.is_err(), "COMMIT outside a transaction");
        assert!(conn.is_in_transaction(), "sqlx still counts it open");
    }
    let repo: DynRepo = std::sync::Arc::new(sqlite);
    // Whichever pooled connection each call gets, every write works.
    for i in 0..10 {
        user(&repo, &format!("after-{i}@example.com")).await;
        let (_, job) = enqueue(&repo, 3).await;
        let claimed = repo
            .claim_job("w", LEASE, Utc::now())
            .await
            .unwrap_or_else(|e| panic!("claim {i}: {e}"));
        assert_eq!(claimed.map(|j| j.id), Some(job.id));
    }
}
