//! A chunked item's jobs (issue 15): the split, its parts, the one assemble job, failure of a
//! part, chunk counts and progress — on every backend.

use super::queue::{enqueue, LEASE};
use super::*;
use mediaserver_core::{ChunkCounts, Job, JobKind, JobStatus};
use mediaserver_db::{BoxFuture, PartCompleted};

both_backends!(
    split_queues_parts_in_one_step,
    split_needs_the_lease_and_a_whole_job,
    last_part_queues_assemble_once,
    concurrent_completions_queue_assemble_exactly_once,
    a_part_failing_for_good_fails_the_item_and_cancels_the_others,
    a_part_failing_with_attempts_left_is_retried_alone,
    a_part_whose_lease_ran_out_on_its_last_attempt_cancels_the_others,
    progress_is_the_mean_over_every_part,
    chunk_counts_follow_the_latest_split,
    provisional_playlists_are_published_only_further,
    a_provisional_publisher_waits_for_the_one_writing,
);

/// Enqueues an item, claims its job as `worker` and splits it into `chunks` chunks.
async fn split(repo: &DynRepo, chunks: u32, max_attempts: i32) -> (Media, Job) {
    let (m, _) = enqueue(repo, max_attempts).await;
    let whole = repo
        .claim_job("splitter", LEASE, now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(whole.media_id, m.id);
    assert_eq!((whole.kind, whole.chunk_index), (JobKind::Whole, None));
    assert!(repo
        .split_job(&whole.id, "splitter", chunks, max_attempts)
        .await
        .unwrap());
    (m, whole)
}

async fn parts(repo: &DynRepo, m: &Media) -> Vec<Job> {
    repo.jobs_for_media(&m.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.kind != JobKind::Whole)
        .collect()
}

/// Claims every queued part, each by its own worker (`w{index}` / `wrest`).
async fn claim_all(repo: &DynRepo) -> Vec<(Job, String)> {
    let mut claimed = Vec::new();
    let mut n = 0;
    while let Some(j) = repo
        .claim_job(&format!("w{n}"), LEASE, now())
        .await
        .unwrap()
    {
        claimed.push((j, format!("w{n}")));
        n += 1;
    }
    claimed
}

async fn split_queues_parts_in_one_step(repo: &DynRepo) {
    let (m, whole) = split(repo, 3, 4).await;
    let whole = repo.get_job(&whole.id).await.unwrap().unwrap();
    assert_eq!(whole.status, JobStatus::Done);
    let parts = parts(repo, &m).await;
    let kinds: Vec<(JobKind, Option<u32>, JobStatus, i32)> = parts
        .iter()
        .map(|j| (j.kind, j.chunk_index, j.status, j.max_attempts))
        .collect();
    // Claim order: chunk 0, then the rest (both needed to play), then the other chunks.
    assert_eq!(
        kinds,
        vec![
            (JobKind::Chunk, Some(0), JobStatus::Queued, 4),
            (JobKind::Rest, None, JobStatus::Queued, 4),
            (JobKind::Chunk, Some(1), JobStatus::Queued, 4),
            (JobKind::Chunk, Some(2), JobStatus::Queued, 4),
        ]
    );
    let order: Vec<(JobKind, Option<u32>)> = claim_all(repo)
        .await
        .iter()
        .map(|(j, _)| (j.kind, j.chunk_index))
        .collect();
    assert_eq!(
        order,
        vec![
            (JobKind::Chunk, Some(0)),
            (JobKind::Rest, None),
            (JobKind::Chunk, Some(1)),
            (JobKind::Chunk, Some(2)),
        ]
    );
    // The item stays where processing put it until the assemble step records it.
    let item = repo.get_media(&m.id).await.unwrap().unwrap();
    assert_eq!(item.status, MediaStatus::Queued);
}

async fn split_needs_the_lease_and_a_whole_job(repo: &DynRepo) {
    let (m, _) = enqueue(repo, 3).await;
    let whole = repo.claim_job("w1", LEASE, now()).await.unwrap().unwrap();
    // Another worker, or an unknown job: nothing happens.
    assert!(!repo.split_job(&whole.id, "w2", 2, 3).await.unwrap());
    assert!(!repo.split_job(&JobId::new(), "w1", 2, 3).await.unwrap());
    assert!(parts(repo, &m).await.is_empty());
    assert_eq!(
        repo.get_job(&whole.id).await.unwrap().unwrap().status,
        JobStatus::Running
    );
    assert!(repo.split_job(&whole.id, "w1", 2, 3).await.unwrap());
    // Done now: a second split (a retried call) queues nothing more.
    assert!(!repo.split_job(&whole.id, "w1", 2, 3).await.unwrap());
    assert_eq!(parts(repo, &m).await.len(), 3);
    // A part is not a whole job: it cannot split.
    let (chunk, worker) = claim_all(repo).await.remove(0);
    assert!(!repo.split_job(&chunk.id, &worker, 2, 3).await.unwrap());
}

async fn last_part_queues_assemble_once(repo: &DynRepo) {
    let (m, _) = split(repo, 2, 3).await;
    let claimed = claim_all(repo).await;
    assert_eq!(claimed.len(), 3);
    // Not the holder: nothing changes.
    assert_eq!(
        repo.complete_part(&claimed[0].0.id, "someone-else")
            .await
            .unwrap(),
        PartCompleted::NotHeld
    );
    for (i, (j, w)) in claimed.iter().enumerate() {
        let outcome = repo.complete_part(&j.id, w).await.unwrap();
        let expected = if i + 1 == claimed.len() {
            PartCompleted::AssembleQueued
        } else {
            PartCompleted::Done
        };
        assert_eq!(outcome, expected, "part {i}");
        // Completing it again (a retried call) changes nothing.
        assert_eq!(
            repo.complete_part(&j.id, w).await.unwrap(),
            PartCompleted::NotHeld
        );
    }
    let assembles: Vec<Job> = parts(repo, &m)
        .await
        .into_iter()
        .filter(|j| j.kind == JobKind::Assemble)
        .collect();
    assert_eq!(assembles.len(), 1);
    assert_eq!(assembles[0].status, JobStatus::Queued);
    // The assemble job is claimable, and is not itself a part.
    let a = repo.claim_job("wa", LEASE, now()).await.unwrap().unwrap();
    assert_eq!(a.kind, JobKind::Assemble);
    assert_eq!(
        repo.complete_part(&a.id, "wa").await.unwrap(),
        PartCompleted::NotHeld
    );
    assert!(repo.complete_job(&a.id, "wa").await.unwrap());
}

async fn concurrent_completions_queue_assemble_exactly_once(repo: &DynRepo) {
    // Many rounds: a lost race needs the completions to overlap, which one round may miss.
    for round in 0..8 {
        let (m, _) = split(repo, 5, 3).await;
        let claimed = claim_all(repo).await;
        assert_eq!(claimed.len(), 6, "round {round}");
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(claimed.len()));
        let tasks: Vec<_> = claimed
            .into_iter()
            .map(|(j, w)| {
                let (repo, barrier) = (repo.clone(), barrier.clone());
                tokio::spawn(async move {
                    repo.ping().await.unwrap();
                    barrier.wait().await;
                    // Every completion locks the item's row first: no deadlock victim either.
                    repo.complete_part(&j.id, &w).await.unwrap()
                })
            })
            .collect();
        let mut queued = 0;
        for t in tasks {
            match t.await.unwrap() {
                PartCompleted::AssembleQueued => queued += 1,
                PartCompleted::Done => {}
                PartCompleted::NotHeld => panic!("round {round}: a part was not held"),
            }
        }
        assert_eq!(queued, 1, "round {round}");
        let assembles = parts(repo, &m)
            .await
            .into_iter()
            .filter(|j| j.kind == JobKind::Assemble)
            .count();
        assert_eq!(assembles, 1, "round {round}");
        let a = repo.claim_job("wa", LEASE, now()).await.unwrap().unwrap();
        assert_eq!(a.kind, JobKind::Assemble);
        assert!(repo.complete_job(&a.id, "wa").await.unwrap());
    }
}

async fn a_part_failing_for_good_fails_the_item_and_cancels_the_others(repo: &DynRepo) {
    let (m, _) = split(repo, 3, 3).await;
    let claimed = claim_all(repo).await;
    // Chunk 0 done, chunk 1 fails for good while the rest and chunk 2 run.
    let (c0, w0) = claimed
        .iter()
        .find(|(j, _)| j.chunk_index == Some(0))
        .unwrap();
    assert_eq!(
        repo.complete_part(&c0.id, w0).await.unwrap(),
        PartCompleted::Done
    );
    let (c1, w1) = claimed
        .iter()
        .find(|(j, _)| j.chunk_index == Some(1))
        .unwrap();
    let status = repo
        .fail_job(&c1.id, w1, "the file is damaged", None)
        .await
        .unwrap();
    assert_eq!(status, JobStatus::Failed);
    let item = repo.get_media(&m.id).await.unwrap().unwrap();
    assert_eq!(item.status, MediaStatus::Failed);
    assert_eq!(item.error.as_deref(), Some("the file is damaged"));
    for j in parts(repo, &m).await {
        match j.chunk_index {
            Some(0) => assert_eq!(j.status, JobStatus::Done),
            _ => assert_eq!(j.status, JobStatus::Failed, "{j:?}"),
        }
        assert_eq!(j.lease_owner, None);
    }
    // A cancelled part's worker has lost its lease: its heartbeat says so, and nothing it
    // does later changes the item.
    let (c2, w2) = claimed
        .iter()
        .find(|(j, _)| j.chunk_index == Some(2))
        .unwrap();
    assert!(!repo.heartbeat_job(&c2.id, w2, LEASE, now()).await.unwrap());
    assert_eq!(
        repo.complete_part(&c2.id, w2).await.unwrap(),
        PartCompleted::NotHeld
    );
    assert!(repo
        .claim_job("late", LEASE, now())
        .await
        .unwrap()
        .is_none());
    // The item can be retried: a fresh whole job.
    assert!(repo.retry_failed_media(&m.id, 3).await.unwrap());
    let again = repo
        .claim_job("again", LEASE, now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((again.media_id, again.kind), (m.id.clone(), JobKind::Whole));
    // Its chunks are not counted until it splits again.
    assert_eq!(repo.chunk_counts(&m.id).await.unwrap(), None);
}

async fn a_part_failing_with_attempts_left_is_retried_alone(repo: &DynRepo) {
    let (m, _) = split(repo, 2, 3).await;
    let claimed = claim_all(repo).await;
    let (c0, w0) = &claimed[0];
    let retry_at = now() - Duration::seconds(1);
    let status = repo
        .fail_job(&c0.id, w0, "encoder crashed", Some(retry_at))
        .await
        .unwrap();
    assert_eq!(status, JobStatus::Queued);
    let item = repo.get_media(&m.id).await.unwrap().unwrap();
    assert_ne!(item.status, MediaStatus::Failed);
    // The siblings go on undisturbed; only the failed chunk is claimable again.
    for (j, w) in &claimed[1..] {
        assert!(repo.heartbeat_job(&j.id, w, LEASE, now()).await.unwrap());
    }
    let again = repo.claim_job("w9", LEASE, now()).await.unwrap().unwrap();
    assert_eq!((again.id.clone(), again.attempts), (c0.id.clone(), 2));
    assert!(repo.claim_job("w10", LEASE, now()).await.unwrap().is_none());
}

async fn a_part_whose_lease_ran_out_on_its_last_attempt_cancels_the_others(repo: &DynRepo) {
    let (m, _) = split(repo, 2, 1).await;
    let claimed = claim_all(repo).await;
    assert_eq!(claimed.len(), 3);
    // Chunk 0's worker died (its lease runs out) while the others still heartbeat.
    let later = now() + Duration::seconds(31);
    for (j, w) in &claimed[1..] {
        assert!(repo.heartbeat_job(&j.id, w, LEASE, later).await.unwrap());
    }
    assert!(repo.claim_job("w9", LEASE, later).await.unwrap().is_none());
    let item = repo.get_media(&m.id).await.unwrap().unwrap();
    assert_eq!(item.status, MediaStatus::Failed);
    for j in parts(repo, &m).await {
        assert_eq!(j.status, JobStatus::Failed, "{j:?}");
    }
}

async fn progress_is_the_mean_over_every_part(repo: &DynRepo) {
    let (_, _) = split(repo, 3, 3).await;
    let claimed = claim_all(repo).await;
    assert_eq!(claimed.len(), 4);
    let (c0, w0) = &claimed[0];
    let mean = repo.set_part_progress(&c0.id, w0, 0.5).await.unwrap();
    assert_eq!(mean, Some(0.125));
    assert_eq!(
        repo.set_part_progress(&c0.id, "other", 0.9).await.unwrap(),
        None
    );
    let (c1, w1) = &claimed[1];
    assert_eq!(
        repo.complete_part(&c1.id, w1).await.unwrap(),
        PartCompleted::Done
    );
    // A done part counts whole.
    let mean = repo.set_part_progress(&c0.id, w0, 1.5).await.unwrap();
    assert_eq!(mean, Some(0.5));
}

async fn chunk_counts_follow_the_latest_split(repo: &DynRepo) {
    let (m, _) = enqueue(repo, 3).await;
    assert_eq!(repo.chunk_counts(&m.id).await.unwrap(), None);
    let whole = repo.claim_job("w", LEASE, now()).await.unwrap().unwrap();
    assert!(repo.split_job(&whole.id, "w", 3, 3).await.unwrap());
    assert_eq!(
        repo.chunk_counts(&m.id).await.unwrap(),
        Some(ChunkCounts {
            total: 3,
            done: 0,
            running: 0
        })
    );
    let claimed = claim_all(repo).await;
    let chunk = |i: u32| {
        claimed
            .iter()
            .find(|(j, _)| j.chunk_index == Some(i))
            .unwrap()
    };
    let (c0, w0) = chunk(0);
    repo.complete_part(&c0.id, w0).await.unwrap();
    // The rest job is not a chunk: counted apart from the chunks.
    assert_eq!(
        repo.chunk_counts(&m.id).await.unwrap(),
        Some(ChunkCounts {
            total: 3,
            done: 1,
            running: 2
        })
    );
    // An item that was never split has none, another item's do not count.
    let (other, _) = enqueue(repo, 3).await;
    assert_eq!(repo.chunk_counts(&other.id).await.unwrap(), None);
}

/// A publish that records whether it ran and answers `ok`.
fn publish(
    ran: &std::sync::Arc<std::sync::atomic::AtomicBool>,
    ok: bool,
) -> BoxFuture<'static, bool> {
    let ran = ran.clone();
    Box::pin(async move {
        ran.store(true, std::sync::atomic::Ordering::SeqCst);
        ok
    })
}

async fn provisional_playlists_are_published_only_further(repo: &DynRepo) {
    let (_, _) = split(repo, 4, 3).await;
    let claimed = claim_all(repo).await;
    let job = &claimed[0].0.id;
    let ran = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let try_publish = async |chunks: u32, rest: bool, ok: bool| {
        ran.store(false, std::sync::atomic::Ordering::SeqCst);
        let published = repo
            .publish_provisional(job, chunks, rest, publish(&ran, ok))
            .await
            .unwrap();
        (published, ran.load(std::sync::atomic::Ordering::SeqCst))
    };
    assert_eq!(try_publish(1, false, true).await, (true, true));
    // The same, less, or further in one and behind in the other: not run.
    assert_eq!(try_publish(1, false, true).await, (false, false));
    assert_eq!(try_publish(0, false, true).await, (false, false));
    assert_eq!(try_publish(0, true, true).await, (false, false));
    assert_eq!(try_publish(2, true, true).await, (true, true));
    // A publish that failed is not recorded: the next one with as much runs.
    assert_eq!(try_publish(3, true, false).await, (false, true));
    assert_eq!(try_publish(3, true, true).await, (true, true));
    // The assemble step began: nothing more is published.
    repo.end_provisional(job).await.unwrap();
    assert_eq!(try_publish(4, true, true).await, (false, false));
    // A job of no split (an ordinary whole job): nothing to publish.
    enqueue(repo, 3).await;
    let single = repo
        .claim_job("single", LEASE, now())
        .await
        .unwrap()
        .unwrap();
    assert!(!repo
        .publish_provisional(&single.id, 1, true, publish(&ran, true))
        .await
        .unwrap());
}

async fn a_provisional_publisher_waits_for_the_one_writing(repo: &DynRepo) {
    let (_, _) = split(repo, 3, 3).await;
    let claimed = claim_all(repo).await;
    let (a, b) = (claimed[0].0.id.clone(), claimed[1].0.id.clone());
    let (inside, go) = (
        std::sync::Arc::new(tokio::sync::Notify::new()),
        std::sync::Arc::new(tokio::sync::Notify::new()),
    );
    // A has seen two chunks done and is writing (holding the split's lock)…
    let first = {
        let (repo, inside, go) = (repo.clone(), inside.clone(), go.clone());
        tokio::spawn(async move {
            let write = Box::pin(async move {
                inside.notify_one();
                go.notified().await;
                true
            });
            repo.publish_provisional(&a, 2, false, write).await.unwrap()
        })
    };
    inside.notified().await;
    // …B, which saw one, comes while A writes: it must decide after A, so never run.
    let ran = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let second = {
        let (repo, ran) = (repo.clone(), ran.clone());
        tokio::spawn(async move {
            repo.publish_provisional(&b, 1, false, publish(&ran, true))
                .await
                .unwrap()
        })
    };
    tokio::task::yield_now().await;
    go.notify_one();
    assert!(first.await.unwrap());
    assert!(!second.await.unwrap());
    assert!(
        !ran.load(std::sync::atomic::Ordering::SeqCst),
        "a shorter prefix was written after a longer one"
    );
}
