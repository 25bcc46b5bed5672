//! One behavioural suite, run against every backend. The PostgreSQL part needs
//! `MEDIASERVER_TEST_PG_URL` (an admin URL; each test creates its own database) and fails
//! without it rather than skipping. The MySQL part needs `MEDIASERVER_TEST_MYSQL_URL` (the
//! same, for MySQL or MariaDB; scripts/services.sh starts one); without it, it is skipped with
//! a message, except under CI (`CI` set), where it fails.

// A panic is how a test reports failure; the workspace's unwrap/expect lints are for code that ships.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, SubsecRound, Utc};
use mediaserver_core::{
    new_id, ApiKey, JobId, Media, MediaFilter, MediaId, MediaKind, MediaOutputs, MediaPatch,
    MediaStatus, NewUser, ObjectEvent, ObjectSource, RefreshOutcome, RefreshToken, Role, Scope,
    Scopes, SessionId, UploadId, User, UserId, Visibility,
};
use mediaserver_db::{connect, DbError, DynRepo, Recorded};
use sqlx::{Connection, Executor, MySqlConnection, PgConnection};

struct Fixture {
    repo: DynRepo,
    _dir: Option<tempfile::TempDir>,
    /// Admin URL and name of the per-test PostgreSQL database.
    pg: Option<(String, String)>,
    /// Admin URL and name of the per-test MySQL database.
    mysql: Option<(String, String)>,
}

impl Fixture {
    async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        // A missing parent directory must be created by connect().
        let path = dir.path().join("nested").join("media.db");
        let repo = connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        repo.migrate().await.unwrap();
        assert_eq!(repo.backend(), "sqlite");
        Fixture {
            repo,
            _dir: Some(dir),
            pg: None,
            mysql: None,
        }
    }

    async fn postgres() -> Self {
        let f = Self::postgres_unmigrated().await;
        f.repo.migrate().await.unwrap();
        assert_eq!(f.repo.backend(), "postgres");
        f
    }

    /// A fresh PostgreSQL database without its schema.
    async fn postgres_unmigrated() -> Self {
        let admin = std::env::var("MEDIASERVER_TEST_PG_URL").unwrap_or_else(|_| {
            panic!(
                "MEDIASERVER_TEST_PG_URL is not set: the PostgreSQL tests need a server. Run \
                 scripts/test.sh, or `source scripts/services.sh && start_postgres` first."
            )
        });
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect(&admin).await.unwrap();
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap();
        conn.close().await.unwrap();
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&format!("/{name}"));
        let repo = connect(url.as_str()).await.unwrap();
        Fixture {
            repo,
            _dir: None,
            pg: Some((admin, name)),
            mysql: None,
        }
    }

    /// URL of the per-test PostgreSQL database, for a second connection to it.
    fn pg_url(&self) -> Option<String> {
        let (admin, name) = self.pg.as_ref()?;
        let mut url = url::Url::parse(admin).ok()?;
        url.set_path(&format!("/{name}"));
        Some(url.into())
    }

    /// A fresh, migrated MySQL database; `None` (the test skipped) when no server is
    /// configured outside CI.
    async fn mysql() -> Option<Self> {
        let Ok(admin) = std::env::var("MEDIASERVER_TEST_MYSQL_URL") else {
            if std::env::var_os("CI").is_some() {
                panic!(
                    "MEDIASERVER_TEST_MYSQL_URL is not set under CI: scripts/services.sh must \
                     start MariaDB (scripts/install-deps.sh installs it)."
                );
            }
            eprintln!(
                "skipped: MEDIASERVER_TEST_MYSQL_URL is not set (no MySQL/MariaDB server). Run \
                 scripts/test.sh, or `source scripts/services.sh && start_mysql` first."
            );
            return None;
        };
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut conn = MySqlConnection::connect(&admin).await.unwrap();
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap();
        conn.close().await.unwrap();
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&format!("/{name}"));
        let repo = mediaserver_db::mysql::MySqlRepo::connect(url.as_str())
            .await
            .unwrap();
        let repo: DynRepo = std::sync::Arc::new(repo);
        repo.migrate().await.unwrap();
        assert_eq!(repo.backend(), "mysql");
        Some(Fixture {
            repo,
            _dir: None,
            pg: None,
            mysql: Some((admin, name)),
        })
    }

    async fn cleanup(self) {
        let Fixture {
            repo, pg, mysql, ..
        } = self;
        drop(repo);
        if let Some((admin, name)) = mysql {
            let mut conn = MySqlConnection::connect(&admin).await.unwrap();
            conn.execute(format!("DROP DATABASE IF EXISTS {name}").as_str())
                .await
                .unwrap();
        }
        if let Some((admin, name)) = pg {
            let mut conn = PgConnection::connect(&admin).await.unwrap();
            conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                .await
                .unwrap();
        }
    }
}

/// Runs each listed test against SQLite, PostgreSQL and MySQL.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let f = super::Fixture::sqlite().await;
                    super::$name(&f.repo).await;
                    f.cleanup().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let f = super::Fixture::postgres().await;
                    super::$name(&f.repo).await;
                    f.cleanup().await;
                }
            )*
        }
        mod mysql {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let Some(f) = super::Fixture::mysql().await else { return };
                    super::$name(&f.repo).await;
                    f.cleanup().await;
                }
            )*
        }
    };
}

// Each module holds a part of the suite; they are subdirectory files, so cargo does not
// build each as a test crate of its own.
#[path = "repo/accounts.rs"]
mod accounts;
#[path = "repo/admin.rs"]
mod admin;
#[path = "repo/analytics.rs"]
mod analytics;
#[path = "repo/backend.rs"]
mod backend;
#[path = "repo/chunks.rs"]
mod chunks;
#[path = "repo/media.rs"]
mod media_items;
#[path = "repo/mysql.rs"]
mod mysql;
#[path = "repo/polish.rs"]
mod polish;
#[path = "repo/queue.rs"]
mod queue;
#[path = "repo/text_tracks.rs"]
mod text_tracks;
#[path = "repo/uploads.rs"]
mod uploads;
#[path = "repo/webhooks.rs"]
mod webhooks;

async fn all_media(repo: &DynRepo) -> Vec<Media> {
    repo.list_media(&MediaFilter {
        limit: 1000,
        ..Default::default()
    })
    .await
    .unwrap()
}

fn now() -> DateTime<Utc> {
    // Both backends keep microseconds; equality checks need values that survive a round trip.
    Utc::now().trunc_subsecs(6)
}

async fn user(repo: &DynRepo, email: &str) -> User {
    repo.create_user(NewUser {
        email: email.to_string(),
        password_hash: "$argon2id$fake".to_string(),
        role: None,
    })
    .await
    .unwrap()
}

fn token(user_id: &UserId, hash: &str, expires_in: Duration) -> RefreshToken {
    let now = now();
    RefreshToken {
        id: new_id(),
        user_id: user_id.clone(),
        // Each its own login; rotation carries the old token's session over.
        session_id: SessionId::new(),
        token_hash: hash.to_string(),
        expires_at: now + expires_in,
        created_at: now,
    }
}

fn media(owner: &UserId, id: MediaId, kind: MediaKind, status: MediaStatus) -> Media {
    let t = now();
    Media {
        original_key: format!("originals/{id}/clip.mp4"),
        id,
        owner_id: owner.clone(),
        kind,
        status,
        title: "clip".into(),
        filename: "clip.mp4".into(),
        content_type: "video/mp4".into(),
        size: 1234,
        sha256: "ab".repeat(32),
        visibility: Visibility::Private,
        bucket: "media".into(),
        duration_seconds: Some(12.5),
        width: Some(1920),
        height: None,
        progress: 0,
        playable: false,
        error: None,
        outputs: MediaOutputs::default(),
        playback_generation: 0,
        clip: None,
        created_at: t,
        updated_at: t,
    }
}

fn event_for(m: &Media) -> ObjectEvent {
    ObjectEvent {
        id: new_id(),
        media_id: Some(m.id.clone()),
        source: ObjectSource::Upload,
        bucket: m.bucket.clone(),
        key: m.original_key.clone(),
        etag: format!("etag-{}", m.id),
        size: m.size,
        created_at: now(),
    }
}

async fn add_media(repo: &DynRepo, m: &Media) {
    let recorded = repo
        .create_media_with_event(m, &event_for(m), 3)
        .await
        .unwrap();
    assert_eq!(recorded, Recorded::Created);
}
