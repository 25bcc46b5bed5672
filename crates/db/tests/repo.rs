//! One behavioural suite, run against both backends. The PostgreSQL half needs
//! `MEDIASERVER_TEST_PG_URL` (an admin URL; each test creates its own database) and fails
//! without it rather than skipping.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use mediaserver_core::{
    new_id, ApiKey, Media, MediaFilter, MediaKind, MediaPatch, MediaStatus, NewUser, ObjectEvent,
    RefreshOutcome, RefreshToken, Role, User, Visibility,
};
use mediaserver_db::{connect, DbError, DynRepo};
use sqlx::{Connection, Executor, PgConnection};

struct Fixture {
    repo: DynRepo,
    _dir: Option<tempfile::TempDir>,
    /// Admin URL and name of the per-test PostgreSQL database.
    pg: Option<(String, String)>,
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
        }
    }

    async fn postgres() -> Self {
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
        repo.migrate().await.unwrap();
        assert_eq!(repo.backend(), "postgres");
        Fixture {
            repo,
            _dir: None,
            pg: Some((admin, name)),
        }
    }

    async fn cleanup(self) {
        let Fixture { repo, pg, .. } = self;
        drop(repo);
        if let Some((admin, name)) = pg {
            let mut conn = PgConnection::connect(&admin).await.unwrap();
            conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                .await
                .unwrap();
        }
    }
}

/// Runs each listed test against SQLite and PostgreSQL.
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
    };
}

both_backends!(
    migrate_twice_is_idempotent,
    first_user_is_admin_second_is_not,
    concurrent_first_registrations_make_one_admin,
    duplicate_email_differing_in_case_conflicts,
    unknown_users_are_none,
    refresh_rotation_and_reuse_detection,
    refresh_expired_or_unknown_is_invalid,
    refresh_revoke,
    concurrent_rotation_of_one_token,
    api_key_lookup_by_hash,
    media_created_with_event,
    duplicate_event_object_is_a_no_op,
    duplicate_media_id_fails_atomically,
    list_pagination_newest_first,
    list_filters,
    update_media_patch,
    delete_media_removes_events,
);

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

fn token(user_id: &str, hash: &str, expires_in: Duration) -> RefreshToken {
    let now = now();
    RefreshToken {
        id: new_id(),
        user_id: user_id.to_string(),
        token_hash: hash.to_string(),
        expires_at: now + expires_in,
        created_at: now,
    }
}

fn media(owner: &str, id: String, kind: MediaKind, status: MediaStatus) -> Media {
    let t = now();
    Media {
        original_key: format!("originals/{id}/clip.mp4"),
        id,
        owner_id: owner.to_string(),
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
        created_at: t,
        updated_at: t,
    }
}

fn event_for(m: &Media) -> ObjectEvent {
    ObjectEvent {
        id: new_id(),
        media_id: Some(m.id.clone()),
        source: "upload".into(),
        bucket: m.bucket.clone(),
        key: m.original_key.clone(),
        etag: format!("etag-{}", m.id),
        size: m.size,
        created_at: now(),
    }
}

async fn add_media(repo: &DynRepo, m: &Media) {
    repo.create_media_with_event(m, &event_for(m))
        .await
        .unwrap();
}

async fn migrate_twice_is_idempotent(repo: &DynRepo) {
    repo.migrate().await.unwrap();
    repo.migrate().await.unwrap();
    repo.ping().await.unwrap();
}

async fn first_user_is_admin_second_is_not(repo: &DynRepo) {
    assert!(repo.first_admin().await.unwrap().is_none());
    let a = user(repo, "a@example.com").await;
    let b = user(repo, "b@example.com").await;
    assert_eq!(a.role, Role::Admin);
    assert_eq!(b.role, Role::User);
    let c = repo
        .create_user(NewUser {
            email: "c@example.com".into(),
            password_hash: "x".into(),
            role: Some(Role::Admin),
        })
        .await
        .unwrap();
    assert_eq!(c.role, Role::Admin);
    assert_eq!(repo.first_admin().await.unwrap(), Some(a.clone()));
    assert_eq!(repo.user_by_id(&a.id).await.unwrap(), Some(a));
    assert_eq!(repo.user_by_id(&b.id).await.unwrap(), Some(b));
}

async fn concurrent_first_registrations_make_one_admin(repo: &DynRepo) {
    // Warm the pool and line the racers up, so the registrations really overlap.
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(8));
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (repo, barrier) = (repo.clone(), barrier.clone());
            tokio::spawn(async move {
                repo.ping().await.unwrap();
                barrier.wait().await;
                user(&repo, &format!("racer{i}@example.com")).await
            })
        })
        .collect();
    let mut admins = 0;
    for t in tasks {
        let u = t.await.unwrap();
        let stored = repo.user_by_id(&u.id).await.unwrap().unwrap();
        assert_eq!(stored.role, u.role);
        admins += usize::from(u.role == Role::Admin);
    }
    assert_eq!(admins, 1);
}

async fn duplicate_email_differing_in_case_conflicts(repo: &DynRepo) {
    let a = user(repo, "Alice@Example.com").await;
    assert_eq!(a.email, "alice@example.com");
    let err = repo
        .create_user(NewUser {
            email: "alice@EXAMPLE.COM".into(),
            password_hash: "x".into(),
            role: None,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DbError::Conflict(s) if s == "email"),
        "{err:?}"
    );
    let found = repo.user_by_email("ALICE@example.COM").await.unwrap();
    assert_eq!(found, Some(a));
}

async fn unknown_users_are_none(repo: &DynRepo) {
    assert_eq!(repo.user_by_id(&new_id()).await.unwrap(), None);
    assert_eq!(
        repo.user_by_email("nobody@example.com").await.unwrap(),
        None
    );
    assert_eq!(repo.get_media(&new_id()).await.unwrap(), None);
}

async fn refresh_rotation_and_reuse_detection(repo: &DynRepo) {
    let u = user(repo, "r@example.com").await;
    let hour = Duration::hours(1);
    repo.insert_refresh_token(&token(&u.id, "t1", hour))
        .await
        .unwrap();
    // new.user_id is ignored: a bogus one must neither be stored nor break the foreign key.
    let t2 = token("not-a-user", "t2", hour);
    let rotated = repo.rotate_refresh_token("t1", &t2, now()).await.unwrap();
    assert_eq!(
        rotated,
        RefreshOutcome::Rotated {
            user_id: u.id.clone()
        }
    );

    // Presenting t1 again is reuse: everything of the user is revoked, including t2.
    let t3 = token(&u.id, "t3", hour);
    let reused = repo.rotate_refresh_token("t1", &t3, now()).await.unwrap();
    assert_eq!(
        reused,
        RefreshOutcome::Reused {
            user_id: u.id.clone()
        }
    );
    let t4 = token(&u.id, "t4", hour);
    let again = repo.rotate_refresh_token("t2", &t4, now()).await.unwrap();
    assert_eq!(
        again,
        RefreshOutcome::Reused {
            user_id: u.id.clone()
        }
    );
    // t3 was never stored.
    let t5 = token(&u.id, "t5", hour);
    let unknown = repo.rotate_refresh_token("t3", &t5, now()).await.unwrap();
    assert_eq!(unknown, RefreshOutcome::Invalid);
}

async fn refresh_expired_or_unknown_is_invalid(repo: &DynRepo) {
    let u = user(repo, "e@example.com").await;
    repo.insert_refresh_token(&token(&u.id, "old", -Duration::seconds(1)))
        .await
        .unwrap();
    let new = token(&u.id, "new", Duration::hours(1));
    let out = repo.rotate_refresh_token("old", &new, now()).await.unwrap();
    assert_eq!(out, RefreshOutcome::Invalid);
    // The replacement was not stored.
    let newer = token(&u.id, "newer", Duration::hours(1));
    let out = repo
        .rotate_refresh_token("new", &newer, now())
        .await
        .unwrap();
    assert_eq!(out, RefreshOutcome::Invalid);
    // Expiring exactly now is expired.
    let t = token(&u.id, "edge", Duration::hours(1));
    repo.insert_refresh_token(&t).await.unwrap();
    let out = repo
        .rotate_refresh_token("edge", &token(&u.id, "x", Duration::hours(1)), t.expires_at)
        .await
        .unwrap();
    assert_eq!(out, RefreshOutcome::Invalid);
    let out = repo
        .rotate_refresh_token("nope", &token(&u.id, "y", Duration::hours(1)), now())
        .await
        .unwrap();
    assert_eq!(out, RefreshOutcome::Invalid);
}

async fn refresh_revoke(repo: &DynRepo) {
    let u = user(repo, "v@example.com").await;
    let hour = Duration::hours(1);
    repo.insert_refresh_token(&token(&u.id, "a", hour))
        .await
        .unwrap();
    assert!(repo.revoke_refresh_token("a").await.unwrap());
    assert!(!repo.revoke_refresh_token("a").await.unwrap());
    assert!(!repo.revoke_refresh_token("unknown").await.unwrap());
    // A revoked token presented for rotation counts as reuse.
    let out = repo
        .rotate_refresh_token("a", &token(&u.id, "a2", hour), now())
        .await
        .unwrap();
    assert_eq!(
        out,
        RefreshOutcome::Reused {
            user_id: u.id.clone()
        }
    );

    for h in ["b", "c"] {
        repo.insert_refresh_token(&token(&u.id, h, hour))
            .await
            .unwrap();
    }
    assert_eq!(repo.revoke_user_refresh_tokens(&u.id).await.unwrap(), 2);
    assert_eq!(repo.revoke_user_refresh_tokens(&u.id).await.unwrap(), 0);
    let err = repo
        .insert_refresh_token(&token(&u.id, "b", hour))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DbError::Conflict(s) if s == "refresh token"),
        "{err:?}"
    );
}

async fn concurrent_rotation_of_one_token(repo: &DynRepo) {
    let u = user(repo, "cr@example.com").await;
    let hour = Duration::hours(1);
    repo.insert_refresh_token(&token(&u.id, "shared", hour))
        .await
        .unwrap();
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(8));
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (repo, barrier, uid) = (repo.clone(), barrier.clone(), u.id.clone());
            tokio::spawn(async move {
                repo.ping().await.unwrap();
                barrier.wait().await;
                let new = token(&uid, &format!("next{i}"), hour);
                repo.rotate_refresh_token("shared", &new, now())
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap());
    }
    let rotated = outcomes
        .iter()
        .filter(|o| matches!(o, RefreshOutcome::Rotated { .. }))
        .count();
    let reused = outcomes
        .iter()
        .filter(|o| {
            **o == RefreshOutcome::Reused {
                user_id: u.id.clone(),
            }
        })
        .count();
    assert_eq!((rotated, reused), (1, 7), "{outcomes:?}");
    // The winner's new token went down with the reuse.
    assert_eq!(repo.revoke_user_refresh_tokens(&u.id).await.unwrap(), 0);
}

async fn api_key_lookup_by_hash(repo: &DynRepo) {
    let u = user(repo, "k@example.com").await;
    let key = ApiKey {
        id: new_id(),
        user_id: u.id.clone(),
        name: "laptop".into(),
        prefix: "ms_abcd".into(),
        key_hash: "keyhash".into(),
        created_at: now(),
    };
    repo.insert_api_key(&key).await.unwrap();
    assert_eq!(
        repo.user_by_api_key_hash("keyhash").await.unwrap(),
        Some(u.clone())
    );
    // Second lookup takes the throttled last_used_at path.
    assert_eq!(repo.user_by_api_key_hash("keyhash").await.unwrap(), Some(u));
    assert_eq!(repo.user_by_api_key_hash("other").await.unwrap(), None);
    let dup = ApiKey {
        id: new_id(),
        ..key
    };
    let err = repo.insert_api_key(&dup).await.unwrap_err();
    assert!(
        matches!(&err, DbError::Conflict(s) if s == "api key"),
        "{err:?}"
    );
}

async fn media_created_with_event(repo: &DynRepo) {
    let u = user(repo, "m@example.com").await;
    let m = media(&u.id, new_id(), MediaKind::Video, MediaStatus::Uploaded);
    let e = event_for(&m);
    repo.create_media_with_event(&m, &e).await.unwrap();
    assert_eq!(repo.get_media(&m.id).await.unwrap(), Some(m.clone()));
    assert_eq!(repo.events_for_media(&m.id).await.unwrap(), vec![e]);
}

async fn duplicate_event_object_is_a_no_op(repo: &DynRepo) {
    let u = user(repo, "d@example.com").await;
    let m1 = media(&u.id, new_id(), MediaKind::Video, MediaStatus::Uploaded);
    let e1 = event_for(&m1);
    repo.create_media_with_event(&m1, &e1).await.unwrap();
    // Same (bucket, key, etag) under another media item: the media row is stored, the event
    // is not duplicated.
    let m2 = media(&u.id, new_id(), MediaKind::Video, MediaStatus::Uploaded);
    let e2 = ObjectEvent {
        id: new_id(),
        media_id: Some(m2.id.clone()),
        ..e1.clone()
    };
    repo.create_media_with_event(&m2, &e2).await.unwrap();
    assert!(repo.get_media(&m2.id).await.unwrap().is_some());
    assert_eq!(repo.events_for_media(&m1.id).await.unwrap(), vec![e1]);
    assert!(repo.events_for_media(&m2.id).await.unwrap().is_empty());
}

async fn duplicate_media_id_fails_atomically(repo: &DynRepo) {
    let u = user(repo, "x@example.com").await;
    let m = media(&u.id, new_id(), MediaKind::Image, MediaStatus::Uploaded);
    let e = event_for(&m);
    repo.create_media_with_event(&m, &e).await.unwrap();
    let again = Media {
        title: "other".into(),
        ..m.clone()
    };
    let e2 = ObjectEvent {
        id: new_id(),
        etag: "different".into(),
        ..e.clone()
    };
    let err = repo.create_media_with_event(&again, &e2).await.unwrap_err();
    assert!(
        matches!(&err, DbError::Conflict(s) if s == "media"),
        "{err:?}"
    );
    assert_eq!(repo.get_media(&m.id).await.unwrap(), Some(m.clone()));
    assert_eq!(repo.events_for_media(&m.id).await.unwrap(), vec![e]);
}

async fn list_pagination_newest_first(repo: &DynRepo) {
    let u = user(repo, "p@example.com").await;
    let mut ids: Vec<String> = (0..25).map(|_| new_id()).collect();
    ids.sort();
    for id in &ids {
        add_media(
            repo,
            &media(&u.id, id.clone(), MediaKind::Video, MediaStatus::Ready),
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut before_id = None;
    let mut pages = Vec::new();
    loop {
        let page = repo
            .list_media(&MediaFilter {
                owner_id: Some(u.id.clone()),
                before_id: before_id.clone(),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        pages.push(page.len());
        let Some(last) = page.last() else { break };
        before_id = Some(last.id.clone());
        seen.extend(page.into_iter().map(|m| m.id));
    }
    assert_eq!(pages, vec![10, 10, 5, 0]);
    ids.reverse();
    assert_eq!(seen, ids);
}

async fn list_filters(repo: &DynRepo) {
    let a = user(repo, "fa@example.com").await;
    let b = user(repo, "fb@example.com").await;
    let specs = [
        (&a, MediaKind::Video, MediaStatus::Ready),
        (&a, MediaKind::Video, MediaStatus::Failed),
        (&a, MediaKind::Audio, MediaStatus::Ready),
        (&a, MediaKind::Image, MediaStatus::Processing),
        (&b, MediaKind::Video, MediaStatus::Ready),
        (&b, MediaKind::Image, MediaStatus::Ready),
    ];
    for (owner, kind, status) in specs {
        add_media(repo, &media(&owner.id, new_id(), kind, status)).await;
    }
    let count = |owner: Option<&User>, kind, status| {
        let filter = MediaFilter {
            owner_id: owner.map(|u| u.id.clone()),
            kind,
            status,
            before_id: None,
            limit: 100,
        };
        async move { repo.list_media(&filter).await.unwrap() }
    };
    assert_eq!(count(None, None, None).await.len(), 6);
    let of_a = count(Some(&a), None, None).await;
    assert_eq!(of_a.len(), 4);
    assert!(of_a.iter().all(|m| m.owner_id == a.id));
    assert!(of_a.windows(2).all(|w| w[0].id > w[1].id));
    assert_eq!(count(Some(&b), None, None).await.len(), 2);
    assert_eq!(count(None, Some(MediaKind::Video), None).await.len(), 3);
    assert_eq!(count(Some(&a), Some(MediaKind::Video), None).await.len(), 2);
    assert_eq!(count(None, None, Some(MediaStatus::Ready)).await.len(), 4);
    let r = count(Some(&a), Some(MediaKind::Video), Some(MediaStatus::Ready)).await;
    assert_eq!(r.len(), 1);
    assert_eq!(
        (r[0].kind, r[0].status),
        (MediaKind::Video, MediaStatus::Ready)
    );
    assert!(count(Some(&b), Some(MediaKind::Audio), None)
        .await
        .is_empty());
    let limited = repo
        .list_media(&MediaFilter {
            limit: 2,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(limited.len(), 2);
}

async fn update_media_patch(repo: &DynRepo) {
    let u = user(repo, "up@example.com").await;
    let m = media(&u.id, new_id(), MediaKind::Video, MediaStatus::Ready);
    add_media(repo, &m).await;
    let patched = repo
        .update_media(
            &m.id,
            &MediaPatch {
                title: Some("Holiday".into()),
                visibility: None,
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(patched.title, "Holiday");
    assert_eq!(patched.visibility, Visibility::Private);
    assert!(patched.updated_at >= m.updated_at);
    assert_eq!(patched.created_at, m.created_at);
    let patched = repo
        .update_media(
            &m.id,
            &MediaPatch {
                title: None,
                visibility: Some(Visibility::Public),
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (patched.title.as_str(), patched.visibility),
        ("Holiday", Visibility::Public)
    );
    assert_eq!(repo.get_media(&m.id).await.unwrap(), Some(patched));
    let none = repo
        .update_media(&new_id(), &MediaPatch::default())
        .await
        .unwrap();
    assert_eq!(none, None);
}

async fn delete_media_removes_events(repo: &DynRepo) {
    let u = user(repo, "del@example.com").await;
    let m = media(&u.id, new_id(), MediaKind::Audio, MediaStatus::Uploaded);
    add_media(repo, &m).await;
    assert_eq!(repo.events_for_media(&m.id).await.unwrap().len(), 1);
    assert!(repo.delete_media(&m.id).await.unwrap());
    assert_eq!(repo.get_media(&m.id).await.unwrap(), None);
    assert!(repo.events_for_media(&m.id).await.unwrap().is_empty());
    assert!(!repo.delete_media(&m.id).await.unwrap());
}

// --- backend-independent checks

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
    assert!(matches!(err, DbError::Unavailable(_)), "{err:?}");
    assert!(!msg.contains("s3cr"), "{msg}");
}

#[tokio::test]
async fn unsupported_scheme_is_rejected() {
    let err = connect("mysql://localhost/db").await.unwrap_err();
    assert!(matches!(err, DbError::Other(_)), "{err:?}");
}
