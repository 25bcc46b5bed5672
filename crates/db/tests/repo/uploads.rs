//! Uploads in progress: the durable state tus and direct uploads resume from.

use super::*;
use mediaserver_core::{Upload, UploadProtocol, UploadStatus};

both_backends!(
    upload_round_trip_and_lookup_by_key,
    progress_is_compare_and_set,
    complete_and_delete,
    expired_uploads_oldest_first,
    duplicate_key_is_conflict,
    write_lease_is_exclusive_until_it_runs_out,
    active_uploads_are_counted_per_owner,
);

fn upload(owner: &UserId, expires_in: i64) -> Upload {
    let id = UploadId::new();
    let now = Utc::now().trunc_subsecs(3);
    Upload {
        key: format!("originals/{id}/clip.mp4"),
        id,
        owner_id: owner.clone(),
        protocol: UploadProtocol::Tus,
        filename: "clip.mp4".into(),
        title: Some("Holiday é".into()),
        length: 50 * 1024 * 1024,
        offset: 0,
        state: r#"{"offset":0,"mode":"append"}"#.into(),
        metadata: Some("filename Y2xpcC5tcDQ=".into()),
        status: UploadStatus::Active,
        expires_at: now + Duration::seconds(expires_in),
        created_at: now,
        updated_at: now,
    }
}

async fn upload_round_trip_and_lookup_by_key(repo: &DynRepo) {
    let owner = user(repo, "u@example.com").await;
    let u = upload(&owner.id, 3600);
    repo.create_upload(&u).await.unwrap();
    assert_eq!(repo.get_upload(&u.id).await.unwrap().as_ref(), Some(&u));
    assert_eq!(repo.upload_by_key(&u.key).await.unwrap(), Some(u.clone()));
    assert_eq!(repo.get_upload(&UploadId::new()).await.unwrap(), None);
    assert_eq!(repo.upload_by_key("originals/x/y").await.unwrap(), None);
}

async fn progress_is_compare_and_set(repo: &DynRepo) {
    let owner = user(repo, "u@example.com").await;
    let u = upload(&owner.id, 3600);
    repo.create_upload(&u).await.unwrap();
    let later = Utc::now().trunc_subsecs(3) + Duration::hours(2);
    assert!(repo
        .record_upload_progress(&u.id, 0, 5_000_000, "s1", later)
        .await
        .unwrap());
    // A second request that read offset 0 loses.
    assert!(!repo
        .record_upload_progress(&u.id, 0, 7_000_000, "s2", later)
        .await
        .unwrap());
    let got = repo.get_upload(&u.id).await.unwrap().unwrap();
    assert_eq!((got.offset, got.state.as_str()), (5_000_000, "s1"));
    assert_eq!(got.expires_at, later);
}

async fn complete_and_delete(repo: &DynRepo) {
    let owner = user(repo, "u@example.com").await;
    let u = upload(&owner.id, 3600);
    repo.create_upload(&u).await.unwrap();
    assert!(repo.complete_upload(&u.id, u.length).await.unwrap());
    assert!(!repo.complete_upload(&u.id, u.length).await.unwrap());
    let got = repo.get_upload(&u.id).await.unwrap().unwrap();
    assert_eq!((got.status, got.offset), (UploadStatus::Complete, u.length));
    // A completed upload no longer moves.
    assert!(!repo
        .record_upload_progress(&u.id, u.length, 1, "x", Utc::now())
        .await
        .unwrap());
    assert!(repo.delete_upload(&u.id).await.unwrap());
    assert!(!repo.delete_upload(&u.id).await.unwrap());
    assert_eq!(repo.get_upload(&u.id).await.unwrap(), None);
}

async fn expired_uploads_oldest_first(repo: &DynRepo) {
    let owner = user(repo, "u@example.com").await;
    let a = upload(&owner.id, -100);
    let b = upload(&owner.id, -10);
    let live = upload(&owner.id, 3600);
    for u in [&b, &live, &a] {
        repo.create_upload(u).await.unwrap();
    }
    let ids: Vec<UploadId> = repo
        .expired_uploads(Utc::now(), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(ids, vec![a.id.clone(), b.id.clone()]);
    assert_eq!(repo.expired_uploads(Utc::now(), 1).await.unwrap().len(), 1);
}

async fn duplicate_key_is_conflict(repo: &DynRepo) {
    let owner = user(repo, "u@example.com").await;
    let u = upload(&owner.id, 3600);
    repo.create_upload(&u).await.unwrap();
    let mut again = upload(&owner.id, 3600);
    again.key = u.key.clone();
    assert!(matches!(
        repo.create_upload(&again).await,
        Err(DbError::Conflict { .. })
    ));
}

async fn write_lease_is_exclusive_until_it_runs_out(repo: &DynRepo) {
    let owner = user(repo, "u@example.com").await;
    let u = upload(&owner.id, 3600);
    repo.create_upload(&u).await.unwrap();
    let now = Utc::now().trunc_subsecs(3);
    let until = now + Duration::seconds(30);
    assert!(repo.lease_upload(&u.id, "a", until, now).await.unwrap());
    // Another writer waits; the holder renews.
    assert!(!repo.lease_upload(&u.id, "b", until, now).await.unwrap());
    assert!(repo
        .lease_upload(&u.id, "a", until + Duration::seconds(30), now)
        .await
        .unwrap());
    assert!(repo
        .renew_upload_lease(&u.id, "a", until + Duration::seconds(60))
        .await
        .unwrap());
    assert!(!repo.renew_upload_lease(&u.id, "b", until).await.unwrap());
    // Only the holder gives it back, and a renewal after that does not take it again.
    repo.release_upload_lease(&u.id, "b").await.unwrap();
    assert!(!repo.lease_upload(&u.id, "b", until, now).await.unwrap());
    repo.release_upload_lease(&u.id, "a").await.unwrap();
    assert!(!repo.renew_upload_lease(&u.id, "a", until).await.unwrap());
    assert!(repo.lease_upload(&u.id, "b", until, now).await.unwrap());
    // A holder that went away: its lease runs out and another writer takes over.
    let later = until + Duration::seconds(1);
    assert!(!repo.lease_upload(&u.id, "c", later, now).await.unwrap());
    assert!(repo
        .lease_upload(&u.id, "c", later + Duration::seconds(30), later)
        .await
        .unwrap());
    // No upload, no lease.
    assert!(!repo
        .lease_upload(&UploadId::new(), "a", until, now)
        .await
        .unwrap());
    // The lease is not part of the upload's state.
    let got = repo.get_upload(&u.id).await.unwrap().unwrap();
    assert_eq!(got.offset, u.offset);
}

async fn active_uploads_are_counted_per_owner(repo: &DynRepo) {
    let me = user(repo, "me@example.com").await;
    let other = user(repo, "other@example.com").await;
    assert_eq!(repo.count_active_uploads(&me.id).await.unwrap(), 0);
    let a = upload(&me.id, 3600);
    let b = upload(&me.id, 3600);
    repo.create_upload(&a).await.unwrap();
    repo.create_upload(&b).await.unwrap();
    repo.create_upload(&upload(&other.id, 3600)).await.unwrap();
    assert_eq!(repo.count_active_uploads(&me.id).await.unwrap(), 2);
    // A completed upload is no longer pending.
    assert!(repo.complete_upload(&a.id, a.length).await.unwrap());
    assert_eq!(repo.count_active_uploads(&me.id).await.unwrap(), 1);
    assert_eq!(repo.count_active_uploads(&other.id).await.unwrap(), 1);
}
