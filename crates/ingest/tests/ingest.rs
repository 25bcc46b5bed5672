//! The ingest service over SQLite and `Local` storage: every way an original arrives becomes one
//! media item with one queued job, and what is refused leaves nothing behind.

// A panic is how a test reports failure; the workspace's unwrap/expect lints are for code that ships.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use chrono::{Duration, Utc};
use mediaserver_core::{
    layout, MediaKind, NewUser, ObjectSource, RetryPolicy, Role, UploadStatus, UserId,
};
use mediaserver_db::DynRepo;
use mediaserver_ingest::{Ingest, IngestError, IngestOutcome, NewUpload, PlannedOriginal};
use mediaserver_storage::{ObjectKey, Storage};
use std::sync::Arc;

/// The signature of a PNG and a little more: enough for sniffing.
fn png() -> Vec<u8> {
    let mut b = vec![
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52,
    ];
    b.resize(4096, 7);
    b
}

struct Fixture {
    _dir: tempfile::TempDir,
    repo: DynRepo,
    store: Arc<dyn Storage>,
    ingest: Ingest,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let repo = mediaserver_db::connect(&format!("sqlite://{}", dir.path().join("db").display()))
        .await
        .unwrap();
    repo.migrate().await.unwrap();
    let store = mediaserver_storage::local(dir.path(), "media", 5 * 1024 * 1024).unwrap();
    let retry = RetryPolicy {
        max_attempts: 7,
        ..Default::default()
    };
    let ingest = Ingest::new(repo.clone(), store.clone(), &retry);
    Fixture {
        _dir: dir,
        repo,
        store,
        ingest,
    }
}

async fn user(repo: &DynRepo, email: &str, role: Role) -> UserId {
    repo.create_user(NewUser {
        email: email.into(),
        password_hash: "x".into(),
        role: Some(role),
    })
    .await
    .unwrap()
    .id
}

fn body(chunks: Vec<Vec<u8>>) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    futures::stream::iter(chunks.into_iter().map(|c| Ok(Bytes::from(c))))
}

async fn keys(store: &dyn Storage) -> Vec<String> {
    store
        .list("")
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.key)
        .collect()
}

#[tokio::test]
async fn one_request_upload_is_recorded_with_a_queued_job() {
    let f = fixture().await;
    let owner = user(&f.repo, "a@example.com", Role::User).await;
    let data = png();
    let stored = f
        .ingest
        .store_upload(
            &owner,
            "../holiday.png",
            body(vec![data[..100].into(), data[100..].into()]),
            1 << 20,
        )
        .await
        .unwrap();
    assert_eq!(stored.filename, "holiday.png");
    assert_eq!(
        stored.key.as_str(),
        layout::original_key(&stored.id, "holiday.png")
    );
    let media = f.ingest.commit(&owner, stored, None).await.unwrap();
    assert_eq!(media.kind, MediaKind::Image);
    assert_eq!(media.size, data.len() as i64);
    assert_eq!(media.title, "holiday");
    let jobs = f.repo.jobs_for_media(&media.id).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].max_attempts, 7, "the retry policy's attempts");
    assert_eq!(f.repo.events_for_media(&media.id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn refused_uploads_leave_nothing() {
    let f = fixture().await;
    let err = f
        .ingest
        .store_upload(
            &UserId::new(),
            "a.txt",
            body(vec![b"just text".to_vec()]),
            1 << 20,
        )
        .await
        .err()
        .unwrap();
    assert!(
        matches!(err, IngestError::NotMedia { discarded: false }),
        "{err}"
    );
    let err = f
        .ingest
        .store_upload(&UserId::new(), "a.png", body(vec![]), 1 << 20)
        .await
        .err()
        .unwrap();
    assert!(matches!(err, IngestError::Empty), "{err}");
    let err = f
        .ingest
        .store_upload(&UserId::new(), "a.png", body(vec![png(), png()]), 6000)
        .await
        .err()
        .unwrap();
    assert!(matches!(err, IngestError::TooLarge { max: 6000 }), "{err}");
    let broken = futures::stream::iter(vec![
        Ok(Bytes::from(png())),
        Err(std::io::Error::other("connection reset")),
    ]);
    let err = f
        .ingest
        .store_upload(&UserId::new(), "a.png", broken, 1 << 20)
        .await
        .err()
        .unwrap();
    assert!(matches!(err, IngestError::Interrupted(_)), "{err}");
    assert_eq!(
        std::error::Error::source(&err).unwrap().to_string(),
        "connection reset"
    );
    assert!(keys(f.store.as_ref()).await.is_empty());
}

#[tokio::test]
async fn bucket_objects_become_one_item_per_version() {
    let f = fixture().await;
    let owner = user(&f.repo, "admin@example.com", Role::Admin).await;
    assert_eq!(f.ingest.event_owner(None).await.unwrap(), owner);
    let key = ObjectKey::new("drop/clip.png").unwrap();
    f.store.put_bytes(&key, png().into()).await.unwrap();

    let first = f
        .ingest
        .ingest_object(&owner, key.as_str(), Some("\"v1\""), ObjectSource::Watch)
        .await
        .unwrap();
    let IngestOutcome::Created { media_id, .. } = &first else {
        panic!("{first:?}")
    };
    let again = f
        .ingest
        .ingest_object(&owner, key.as_str(), Some("v1"), ObjectSource::Watch)
        .await
        .unwrap();
    assert_eq!(
        again,
        IngestOutcome::Duplicate {
            key: key.to_string(),
            media_id: Some(media_id.clone())
        }
    );
    let output = layout::output_key(media_id, layout::THUMBNAIL);
    assert!(matches!(
        f.ingest
            .ingest_object(&owner, &output, None, ObjectSource::Watch)
            .await
            .unwrap(),
        IngestOutcome::Skipped { .. }
    ));
    let text = ObjectKey::new("drop/notes.txt").unwrap();
    f.store
        .put_bytes(&text, Bytes::from_static(b"not media"))
        .await
        .unwrap();
    assert!(matches!(
        f.ingest
            .ingest_object(&owner, text.as_str(), None, ObjectSource::Watch)
            .await
            .unwrap(),
        IngestOutcome::Skipped { .. }
    ));
    assert!(matches!(
        f.ingest
            .ingest_object(&owner, "drop/gone.png", None, ObjectSource::Watch)
            .await,
        Err(IngestError::MissingObject { .. })
    ));
}

#[tokio::test]
async fn event_owner_needs_a_user() {
    let f = fixture().await;
    assert!(matches!(
        f.ingest.event_owner(None).await,
        Err(IngestError::NoOwner)
    ));
    assert!(matches!(
        f.ingest.event_owner(Some("nobody@example.com")).await,
        Err(IngestError::UnknownOwner { .. })
    ));
    let id = user(&f.repo, "owner@example.com", Role::User).await;
    assert_eq!(
        f.ingest
            .event_owner(Some(" Owner@Example.com"))
            .await
            .unwrap(),
        id
    );
}

#[tokio::test]
async fn a_direct_upload_is_recorded_once_whoever_comes_first() {
    let f = fixture().await;
    let owner = user(&f.repo, "a@example.com", Role::User).await;
    let data = png();
    let new = || NewUpload {
        owner_id: owner.clone(),
        title: Some("Mine".into()),
        length: data.len() as u64,
        metadata: None,
        expires_at: Utc::now() + Duration::hours(1),
    };
    let upload = f
        .ingest
        .start_direct(PlannedOriginal::new("a.png").unwrap(), new(), "{}".into())
        .await
        .unwrap();
    assert!(matches!(
        f.ingest.record_upload(&upload, None).await,
        Err(IngestError::NotUploaded { .. })
    ));
    let key = ObjectKey::new(upload.key.clone()).unwrap();
    f.store
        .put_bytes(&key, data[..10].to_vec().into())
        .await
        .unwrap();
    assert!(matches!(
        f.ingest.record_upload(&upload, None).await,
        Err(IngestError::SizeMismatch { stored: 10, .. })
    ));
    f.store.put_bytes(&key, data.clone().into()).await.unwrap();
    let media = f.ingest.record_upload(&upload, None).await.unwrap();
    assert_eq!(
        (media.id.as_str(), media.title.as_str()),
        (upload.id.as_str(), "Mine")
    );
    assert_eq!(media.sha256.len(), 64, "hashed from storage");
    // The bucket's event arrives afterwards: nothing new.
    let outcome = f
        .ingest
        .ingest_object(&owner, &upload.key, None, ObjectSource::S3Events)
        .await
        .unwrap();
    assert!(
        matches!(outcome, IngestOutcome::Duplicate { .. }),
        "{outcome:?}"
    );
    let row = f.repo.get_upload(&upload.id).await.unwrap().unwrap();
    assert_eq!(row.status, UploadStatus::Complete);
    assert_eq!(f.repo.jobs_for_media(&media.id).await.unwrap().len(), 1);

    // Not media: refused and discarded, bytes and row.
    let other = f
        .ingest
        .start_direct(PlannedOriginal::new("b.png").unwrap(), new(), "{}".into())
        .await
        .unwrap();
    let other_key = ObjectKey::new(other.key.clone()).unwrap();
    f.store
        .put_bytes(&other_key, vec![b'x'; data.len()].into())
        .await
        .unwrap();
    assert!(matches!(
        f.ingest.record_upload(&other, None).await,
        Err(IngestError::NotMedia { discarded: true })
    ));
    assert!(f.repo.get_upload(&other.id).await.unwrap().is_none());
    assert!(f.store.head(&other_key).await.is_err());
}

#[tokio::test]
async fn resumable_uploads_finish_and_expired_ones_are_swept() {
    let f = fixture().await;
    let owner = user(&f.repo, "a@example.com", Role::User).await;
    let data = png();
    let new = |expires_in: Duration| NewUpload {
        owner_id: owner.clone(),
        title: None,
        length: data.len() as u64,
        metadata: Some("filename YS5wbmc=".into()),
        expires_at: Utc::now() + expires_in,
    };
    let upload = f
        .ingest
        .start_resumable(
            PlannedOriginal::new("a.png").unwrap(),
            new(Duration::hours(1)),
        )
        .await
        .unwrap();
    assert_eq!(upload.offset, 0);
    let key = mediaserver_ingest::upload_key(&upload).unwrap();
    let rs = mediaserver_ingest::upload_state(&upload).unwrap();
    let out = f
        .store
        .resumable_append(
            &key,
            &rs,
            Box::pin(futures::stream::iter(vec![Ok(Bytes::from(data.clone()))])),
        )
        .await
        .unwrap();
    let mut done = upload.clone();
    done.offset = data.len() as i64;
    done.state = serde_json::to_string(&out.state).unwrap();
    let media = f.ingest.finish_resumable(&done, None).await.unwrap();
    assert_eq!(media.size, data.len() as i64);
    assert_eq!(f.store.head(&key).await.unwrap().size, data.len() as u64);

    // An abandoned upload is removed by the sweep, row and bytes.
    let abandoned = f
        .ingest
        .start_resumable(
            PlannedOriginal::new("b.png").unwrap(),
            new(-Duration::seconds(1)),
        )
        .await
        .unwrap();
    assert!(f.ingest.sweep_expired().await.unwrap() >= 1);
    assert!(f.repo.get_upload(&abandoned.id).await.unwrap().is_none());
    let left = keys(f.store.as_ref()).await;
    assert!(
        left.iter()
            .all(|k| !k.starts_with(&layout::originals_prefix(&abandoned.id.clone().into()))),
        "{left:?}"
    );
}

#[tokio::test]
async fn one_writer_per_upload() {
    let f = fixture().await;
    let owner = user(&f.repo, "a@example.com", Role::User).await;
    let upload = f
        .ingest
        .start_direct(
            PlannedOriginal::new("a.png").unwrap(),
            NewUpload {
                owner_id: owner,
                title: None,
                length: 10,
                metadata: None,
                expires_at: Utc::now() + Duration::hours(1),
            },
            "{}".into(),
        )
        .await
        .unwrap();
    let wait = std::time::Duration::from_millis(50);
    let held = f.ingest.lock_upload(&upload.id, wait).await.unwrap();
    assert!(matches!(
        f.ingest.lock_upload(&upload.id, wait).await,
        Err(IngestError::Locked)
    ));
    drop(held);
    f.ingest.lock_upload(&upload.id, wait).await.unwrap();
}

#[tokio::test]
async fn the_quota_covers_every_way_in_and_keeps_nothing() {
    let f = fixture().await;
    let ingest = f.ingest.clone().with_user_quota(Some(10_000));
    let owner = user(&f.repo, "a@example.com", Role::Admin).await;
    let data = png(); // 4096 bytes
    let stored = ingest
        .store_upload(&owner, "a.png", body(vec![data.clone()]), 1 << 20)
        .await
        .unwrap();
    ingest.commit(&owner, stored, None).await.unwrap();
    let before = keys(f.store.as_ref()).await;

    // Streamed: refused once the count passes what is left (5904 bytes), nothing kept.
    let err = ingest
        .store_upload(
            &owner,
            "b.png",
            body(vec![data.clone(), data.clone()]),
            1 << 20,
        )
        .await
        .err()
        .unwrap();
    assert!(
        matches!(
            err,
            IngestError::QuotaExceeded {
                quota: 10_000,
                used: 4096,
                size: None
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("5904 left"), "{err}");
    assert_eq!(keys(f.store.as_ref()).await, before);

    // tus and direct: refused on their declared length, before anything exists.
    let new = |length| NewUpload {
        owner_id: owner.clone(),
        title: None,
        length,
        metadata: None,
        expires_at: Utc::now() + Duration::hours(1),
    };
    let err = ingest
        .start_resumable(PlannedOriginal::new("c.png").unwrap(), new(6000))
        .await
        .err()
        .unwrap();
    assert!(
        matches!(
            err,
            IngestError::QuotaExceeded {
                size: Some(6000),
                ..
            }
        ),
        "{err}"
    );
    let err = ingest
        .start_direct(
            PlannedOriginal::new("c.png").unwrap(),
            new(6000),
            "{}".into(),
        )
        .await
        .err()
        .unwrap();
    assert!(
        matches!(
            err,
            IngestError::QuotaExceeded {
                size: Some(6000),
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(f.repo.count_active_uploads(&owner).await.unwrap(), 0);
    assert_eq!(keys(f.store.as_ref()).await, before);

    // An unfinished upload reserves its length.
    ingest
        .start_direct(
            PlannedOriginal::new("d.png").unwrap(),
            new(5000),
            "{}".into(),
        )
        .await
        .unwrap();
    assert_eq!(ingest.storage_usage(&owner).await.unwrap().counted(), 9096);

    // A bucket object past the quota: recorded as a failed item naming the quota, not
    // queued; the object stays where its owner put it.
    let key = ObjectKey::new("drop/big.png").unwrap();
    f.store.put_bytes(&key, png().into()).await.unwrap();
    let outcome = ingest
        .ingest_object(&owner, key.as_str(), None, ObjectSource::Watch)
        .await
        .unwrap();
    let IngestOutcome::Refused {
        media_id, reason, ..
    } = &outcome
    else {
        panic!("{outcome:?}")
    };
    assert!(reason.contains("USER_QUOTA_BYTES"), "{reason}");
    let media = f.repo.get_media(media_id).await.unwrap().unwrap();
    assert_eq!(media.status, mediaserver_core::MediaStatus::Failed);
    assert_eq!(media.error.as_deref(), Some(reason.as_str()));
    assert!(f.repo.jobs_for_media(media_id).await.unwrap().is_empty());
    assert!(keys(f.store.as_ref()).await.contains(&key.to_string()));
    // Retrying it (say, after the quota was raised) queues it.
    assert!(ingest.retry_failed(media_id).await.unwrap());
    assert_eq!(f.repo.jobs_for_media(media_id).await.unwrap().len(), 1);

    // Without a quota nothing is refused.
    assert_eq!(f.ingest.clone().with_user_quota(None).user_quota(), None);
}
