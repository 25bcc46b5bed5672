//! The queue's claim order by kind and how far back an item waits, against both backends.

use super::*;
use std::time::Duration as StdDuration;

both_backends!(
    images_are_claimed_before_queued_videos,
    jobs_ahead_counts_in_claim_order,
);

const LEASE: StdDuration = StdDuration::from_secs(30);

async fn queue_item(repo: &DynRepo, owner: &UserId, kind: MediaKind) -> MediaId {
    let m = media(owner, MediaId::new(), kind, MediaStatus::Queued);
    add_media(repo, &m).await;
    m.id
}

/// With long videos queued first, a later image is the next job a worker takes; the videos
/// still go in the order they came.
async fn images_are_claimed_before_queued_videos(repo: &DynRepo) {
    let u = user(repo, "queue@example.com").await;
    let v1 = queue_item(repo, &u.id, MediaKind::Video).await;
    let a1 = queue_item(repo, &u.id, MediaKind::Audio).await;
    let v2 = queue_item(repo, &u.id, MediaKind::Video).await;
    let img = queue_item(repo, &u.id, MediaKind::Image).await;
    let later = now() + Duration::seconds(1);
    let mut order = Vec::new();
    while let Some(job) = repo.claim_job("w", LEASE, later).await.unwrap() {
        order.push(job.media_id);
    }
    assert_eq!(order, vec![img, v1, a1, v2]);
}

/// `jobs_ahead` is how many queued jobs a worker takes first: images count ahead of a video
/// queued before them; running, done and other items' finished jobs do not count.
async fn jobs_ahead_counts_in_claim_order(repo: &DynRepo) {
    let u = user(repo, "ahead@example.com").await;
    let v1 = queue_item(repo, &u.id, MediaKind::Video).await;
    let v2 = queue_item(repo, &u.id, MediaKind::Video).await;
    let v3 = queue_item(repo, &u.id, MediaKind::Video).await;
    let i1 = queue_item(repo, &u.id, MediaKind::Image).await;
    let i2 = queue_item(repo, &u.id, MediaKind::Image).await;
    let ahead = |id: MediaId| async move { repo.jobs_ahead(&id).await.unwrap() };
    assert_eq!(ahead(i1.clone()).await, Some(0));
    assert_eq!(ahead(i2.clone()).await, Some(1));
    assert_eq!(ahead(v1.clone()).await, Some(2));
    assert_eq!(ahead(v3.clone()).await, Some(4));

    // Claiming the first image moves everyone behind it up one; the running one is not queued.
    let later = now() + Duration::seconds(1);
    let job = repo.claim_job("w", LEASE, later).await.unwrap().unwrap();
    assert_eq!(job.media_id, i1);
    assert_eq!(ahead(i1.clone()).await, None);
    assert_eq!(ahead(i2.clone()).await, Some(0));
    assert_eq!(ahead(v2.clone()).await, Some(2));
    assert!(repo.complete_job(&job.id, "w").await.unwrap());
    assert_eq!(ahead(i1).await, None);
    assert_eq!(ahead(v2).await, Some(2));
    assert_eq!(ahead(MediaId::new()).await, None);
}
