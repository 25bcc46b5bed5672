//! The job queue and the processing results it records, against both backends.

use super::*;
use chrono::TimeZone;
use mediaserver_core::{Job, JobStatus, Rendition, Variant};
use mediaserver_db::MediaReady;
use std::time::{Duration as StdDuration, Instant};

both_backends!(
    enqueue_makes_one_queued_job,
    concurrent_duplicate_events_make_one_item_and_job,
    claim_on_empty_queue_is_none,
    claim_sets_lease_and_attempts,
    concurrent_claims_take_each_job_once,
    heartbeat_extends_only_for_the_holder,
    expired_lease_is_reclaimed_by_another_worker,
    expired_lease_on_last_attempt_fails_job_and_media,
    fail_with_retry_requeues_after_run_after,
    fail_without_retry_or_attempts_left_fails_media,
    release_requeues_without_counting_the_attempt,
    defer_requeues_later_without_counting_the_attempt,
    complete_marks_done,
    processing_results_round_trip,
    deleting_media_cascades_jobs,
    timestamps_compare_across_second_boundaries,
    wait_for_jobs_times_out,
    retry_requeues_only_a_failed_item_with_fresh_attempts,
);

pub(super) const LEASE: StdDuration = StdDuration::from_secs(30);

fn secs(s: i64) -> Duration {
    Duration::seconds(s)
}

/// A new media item (and so a new queued job) owned by a fresh user.
pub(super) async fn enqueue(repo: &DynRepo, max_attempts: i32) -> (Media, Job) {
    let owner = user(repo, &format!("{}@example.com", new_id())).await;
    let m = media(
        &owner.id,
        MediaId::new(),
        MediaKind::Video,
        MediaStatus::Queued,
    );
    let recorded = repo
        .create_media_with_event(&m, &event_for(&m), max_attempts)
        .await
        .unwrap();
    assert_eq!(recorded, Recorded::Created);
    let jobs = repo.jobs_for_media(&m.id).await.unwrap();
    assert_eq!(jobs.len(), 1);
    (m, jobs[0].clone())
}

async fn job(repo: &DynRepo, id: &JobId) -> Job {
    repo.get_job(id).await.unwrap().unwrap()
}

async fn enqueue_makes_one_queued_job(repo: &DynRepo) {
    let before = now();
    let (m, j) = enqueue(repo, 4).await;
    assert_eq!(j.media_id, m.id);
    assert_eq!(
        (j.status, j.attempts, j.max_attempts),
        (JobStatus::Queued, 0, 4)
    );
    assert_eq!(
        (&j.lease_owner, j.lease_expires_at, &j.last_error),
        (&None, None, &None)
    );
    assert!(before <= j.run_after && j.run_after <= now(), "{j:?}");
    assert_eq!(j.created_at, j.run_after);
    assert_eq!(repo.get_job(&j.id).await.unwrap(), Some(j.clone()));
    assert_eq!(repo.get_job(&JobId::new()).await.unwrap(), None);
}

async fn concurrent_duplicate_events_make_one_item_and_job(repo: &DynRepo) {
    let u = user(repo, "dup@example.com").await;
    let first = media(&u.id, MediaId::new(), MediaKind::Video, MediaStatus::Queued);
    let event = event_for(&first);
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(8));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (repo, barrier) = (repo.clone(), barrier.clone());
            let m = media(&u.id, MediaId::new(), MediaKind::Video, MediaStatus::Queued);
            let e = ObjectEvent {
                id: new_id(),
                media_id: Some(m.id.clone()),
                ..event.clone()
            };
            tokio::spawn(async move {
                repo.ping().await.unwrap();
                barrier.wait().await;
                let recorded = repo.create_media_with_event(&m, &e, 3).await.unwrap();
                (m.id, recorded)
            })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    let created: Vec<&MediaId> = results
        .iter()
        .filter(|(_, r)| *r == Recorded::Created)
        .map(|(id, _)| id)
        .collect();
    assert_eq!(created.len(), 1, "{results:?}");
    let winner = created[0].clone();
    for (_, r) in &results {
        if *r != Recorded::Created {
            assert_eq!(
                *r,
                Recorded::Duplicate {
                    media_id: Some(winner.clone())
                }
            );
        }
    }
    let items = all_media(repo).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].id, winner);
    assert_eq!(repo.jobs_for_media(&winner).await.unwrap().len(), 1);
    assert_eq!(repo.events_for_media(&winner).await.unwrap().len(), 1);
    // Exactly one claimable job in the whole queue.
    assert!(repo.claim_job("w", LEASE, now()).await.unwrap().is_some());
    assert!(repo.claim_job("w", LEASE, now()).await.unwrap().is_none());
}

async fn claim_on_empty_queue_is_none(repo: &DynRepo) {
    assert_eq!(repo.claim_job("w1", LEASE, now()).await.unwrap(), None);
}

async fn claim_sets_lease_and_attempts(repo: &DynRepo) {
    let (_, queued) = enqueue(repo, 3).await;
    let t = now();
    let claimed = repo.claim_job("w1", LEASE, t).await.unwrap().unwrap();
    assert_eq!(claimed.id, queued.id);
    assert_eq!(claimed.status, JobStatus::Running);
    assert_eq!(claimed.attempts, 1);
    assert_eq!(claimed.lease_owner.as_deref(), Some("w1"));
    assert_eq!(claimed.lease_expires_at, Some(t + secs(30)));
    assert_eq!(job(repo, &queued.id).await, claimed);
    // Held: nobody else gets it, even just before the lease ends.
    let almost = t + secs(30) - Duration::microseconds(1);
    assert_eq!(repo.claim_job("w2", LEASE, almost).await.unwrap(), None);
}

async fn concurrent_claims_take_each_job_once(repo: &DynRepo) {
    // Several rounds: a double claim needs the racers to overlap, which one round may miss.
    for round in 0..5 {
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.push(enqueue(repo, 3).await.1.id);
        }
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(8));
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let (repo, barrier) = (repo.clone(), barrier.clone());
                tokio::spawn(async move {
                    repo.ping().await.unwrap();
                    barrier.wait().await;
                    let worker = format!("r{round}w{i}");
                    repo.claim_job(&worker, LEASE, now()).await.unwrap()
                })
            })
            .collect();
        let mut claimed = Vec::new();
        for t in tasks {
            if let Some(j) = t.await.unwrap() {
                assert_eq!(j.attempts, 1, "claimed twice: {j:?}");
                claimed.push(j.id);
            }
        }
        claimed.sort();
        ids.sort();
        assert_eq!(claimed, ids, "round {round}");
    }
}

async fn heartbeat_extends_only_for_the_holder(repo: &DynRepo) {
    enqueue(repo, 3).await;
    let t = now();
    let j = repo.claim_job("w1", LEASE, t).await.unwrap().unwrap();
    let later = t + secs(20);
    assert!(repo.heartbeat_job(&j.id, "w1", LEASE, later).await.unwrap());
    assert_eq!(
        job(repo, &j.id).await.lease_expires_at,
        Some(later + secs(30))
    );
    assert!(!repo.heartbeat_job(&j.id, "w2", LEASE, later).await.unwrap());
    assert!(!repo
        .heartbeat_job(&JobId::new(), "w1", LEASE, later)
        .await
        .unwrap());
    // The original lease end has passed, the extended one has not.
    let past_first = t + secs(31);
    assert_eq!(repo.claim_job("w2", LEASE, past_first).await.unwrap(), None);
    let after = job(repo, &j.id).await;
    assert_eq!(
        (after.lease_owner.as_deref(), after.attempts),
        (Some("w1"), 1)
    );
}

async fn expired_lease_is_reclaimed_by_another_worker(repo: &DynRepo) {
    enqueue(repo, 3).await;
    let t = now();
    let first = repo.claim_job("w1", LEASE, t).await.unwrap().unwrap();
    let t2 = t + secs(30); // exactly when the lease ends
    let second = repo.claim_job("w2", LEASE, t2).await.unwrap().unwrap();
    assert_eq!(second.id, first.id);
    assert_eq!(second.attempts, 2);
    assert_eq!(second.lease_owner.as_deref(), Some("w2"));
    assert_eq!(second.lease_expires_at, Some(t2 + secs(30)));
    // The old holder has lost it.
    assert!(!repo
        .heartbeat_job(&first.id, "w1", LEASE, t2)
        .await
        .unwrap());
    assert!(!repo.complete_job(&first.id, "w1").await.unwrap());
    assert!(!repo.release_job(&first.id, "w1").await.unwrap());
    assert_eq!(
        repo.fail_job(&first.id, "w1", "late", None).await.unwrap(),
        JobStatus::Running
    );
    assert_eq!(job(repo, &first.id).await, second);
}

async fn expired_lease_on_last_attempt_fails_job_and_media(repo: &DynRepo) {
    for max in [1, 2] {
        let (m, j) = enqueue(repo, max).await;
        let mut t = now();
        for attempt in 1..=max {
            let c = repo.claim_job("w", LEASE, t).await.unwrap().unwrap();
            assert_eq!((c.id.as_str(), c.attempts), (j.id.as_str(), attempt));
            t += secs(31);
        }
        // The last lease has expired: the claim fails the job instead of returning it.
        assert_eq!(repo.claim_job("w2", LEASE, t).await.unwrap(), None);
        let failed = job(repo, &j.id).await;
        let want = if max == 1 {
            "processing stopped: the worker stopped responding (lease expired) after 1 attempt"
        } else {
            "processing stopped: the worker stopped responding (lease expired) after 2 attempts"
        };
        assert_eq!(failed.status, JobStatus::Failed);
        assert_eq!(failed.last_error.as_deref(), Some(want));
        assert_eq!((failed.lease_owner, failed.lease_expires_at), (None, None));
        let item = repo.get_media(&m.id).await.unwrap().unwrap();
        assert_eq!(item.status, MediaStatus::Failed);
        assert_eq!(item.error.as_deref(), Some(want));
        assert!(!repo.heartbeat_job(&j.id, "w", LEASE, t).await.unwrap());
    }
}

async fn fail_with_retry_requeues_after_run_after(repo: &DynRepo) {
    let (m, j) = enqueue(repo, 3).await;
    let t = now();
    repo.claim_job("w1", LEASE, t).await.unwrap().unwrap();
    let retry_at = t + secs(60);
    let status = repo
        .fail_job(&j.id, "w1", "ffmpeg exited with 1", Some(retry_at))
        .await
        .unwrap();
    assert_eq!(status, JobStatus::Queued);
    let queued = job(repo, &j.id).await;
    assert_eq!(queued.status, JobStatus::Queued);
    assert_eq!(queued.run_after, retry_at);
    assert_eq!(queued.attempts, 1);
    assert_eq!(queued.last_error.as_deref(), Some("ffmpeg exited with 1"));
    assert_eq!((queued.lease_owner, queued.lease_expires_at), (None, None));
    // The media item is not failed by a retryable failure.
    let item = repo.get_media(&m.id).await.unwrap().unwrap();
    assert_eq!((item.status, item.error), (MediaStatus::Queued, None));

    let early = retry_at - Duration::microseconds(1);
    assert_eq!(repo.claim_job("w2", LEASE, early).await.unwrap(), None);
    let again = repo
        .claim_job("w2", LEASE, retry_at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((again.id.as_str(), again.attempts), (j.id.as_str(), 2));
}

async fn fail_without_retry_or_attempts_left_fails_media(repo: &DynRepo) {
    // No retry asked for.
    let (m, j) = enqueue(repo, 3).await;
    repo.claim_job("w1", LEASE, now()).await.unwrap().unwrap();
    let status = repo
        .fail_job(&j.id, "w1", "not a video", None)
        .await
        .unwrap();
    assert_eq!(status, JobStatus::Failed);
    let failed = job(repo, &j.id).await;
    assert_eq!((failed.status, failed.attempts), (JobStatus::Failed, 1));
    assert_eq!(failed.last_error.as_deref(), Some("not a video"));
    let item = repo.get_media(&m.id).await.unwrap().unwrap();
    assert_eq!(item.status, MediaStatus::Failed);
    assert_eq!(item.error.as_deref(), Some("not a video"));
    assert_eq!(
        repo.claim_job("w1", LEASE, now() + secs(3600))
            .await
            .unwrap(),
        None
    );

    // Retry asked for, but the attempts are used up.
    let (m, j) = enqueue(repo, 2).await;
    let mut t = now();
    for attempt in 1..=2 {
        let c = repo.claim_job("w", LEASE, t).await.unwrap().unwrap();
        assert_eq!(c.attempts, attempt);
        t += secs(10);
        let status = repo
            .fail_job(&j.id, "w", &format!("boom {attempt}"), Some(t))
            .await
            .unwrap();
        let want = if attempt == 1 {
            JobStatus::Queued
        } else {
            JobStatus::Failed
        };
        assert_eq!(status, want);
    }
    let item = repo.get_media(&m.id).await.unwrap().unwrap();
    assert_eq!(item.status, MediaStatus::Failed);
    assert_eq!(item.error.as_deref(), Some("boom 2"));
    assert_eq!(job(repo, &j.id).await.status, JobStatus::Failed);
    assert_eq!(
        repo.claim_job("w", LEASE, t + secs(3600)).await.unwrap(),
        None
    );

    // Not the holder: nothing changes; no such job: NotFound.
    assert_eq!(
        repo.fail_job(&j.id, "w", "again", None).await.unwrap(),
        JobStatus::Failed
    );
    assert_eq!(job(repo, &j.id).await.last_error.as_deref(), Some("boom 2"));
    let err = repo
        .fail_job(&JobId::new(), "w", "x", None)
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::NotFound), "{err:?}");
}

async fn release_requeues_without_counting_the_attempt(repo: &DynRepo) {
    let (_, j) = enqueue(repo, 1).await;
    let claimed = repo.claim_job("w1", LEASE, now()).await.unwrap().unwrap();
    assert_eq!(claimed.attempts, 1);
    assert!(!repo.release_job(&j.id, "w2").await.unwrap());
    assert!(repo.release_job(&j.id, "w1").await.unwrap());
    assert!(!repo.release_job(&j.id, "w1").await.unwrap());
    let released = job(repo, &j.id).await;
    assert_eq!((released.status, released.attempts), (JobStatus::Queued, 0));
    assert_eq!(
        (released.lease_owner, released.lease_expires_at),
        (None, None)
    );
    // Claimable at once, and with max_attempts 1 the release did not use up the only attempt.
    let again = repo.claim_job("w2", LEASE, now()).await.unwrap().unwrap();
    assert_eq!((again.id.as_str(), again.attempts), (j.id.as_str(), 1));
}

async fn defer_requeues_later_without_counting_the_attempt(repo: &DynRepo) {
    let (m, j) = enqueue(repo, 1).await;
    let t = now();
    let claimed = repo.claim_job("w1", LEASE, t).await.unwrap().unwrap();
    assert_eq!(claimed.attempts, 1);
    let at = t + secs(60);
    let reason = "storage: storage unavailable: connection refused";
    assert!(!repo.defer_job(&j.id, "w2", reason, at).await.unwrap());
    assert!(repo.defer_job(&j.id, "w1", reason, at).await.unwrap());
    assert!(!repo.defer_job(&j.id, "w1", reason, at).await.unwrap());
    let deferred = job(repo, &j.id).await;
    assert_eq!((deferred.status, deferred.attempts), (JobStatus::Queued, 0));
    assert_eq!(deferred.run_after, at);
    assert_eq!(deferred.last_error.as_deref(), Some(reason));
    assert_eq!(
        (deferred.lease_owner, deferred.lease_expires_at),
        (None, None)
    );
    // The item is not failed, and with max_attempts 1 its only attempt is still there.
    let item = repo.get_media(&m.id).await.unwrap().unwrap();
    assert_eq!((item.status, item.error), (MediaStatus::Queued, None));
    let early = at - Duration::microseconds(1);
    assert_eq!(repo.claim_job("w2", LEASE, early).await.unwrap(), None);
    let again = repo.claim_job("w2", LEASE, at).await.unwrap().unwrap();
    assert_eq!((again.id.as_str(), again.attempts), (j.id.as_str(), 1));
}

async fn complete_marks_done(repo: &DynRepo) {
    let (_, j) = enqueue(repo, 3).await;
    repo.claim_job("w1", LEASE, now()).await.unwrap().unwrap();
    assert!(!repo.complete_job(&j.id, "w2").await.unwrap());
    assert!(repo.complete_job(&j.id, "w1").await.unwrap());
    assert!(!repo.complete_job(&j.id, "w1").await.unwrap());
    let done = job(repo, &j.id).await;
    assert_eq!((done.status, done.attempts), (JobStatus::Done, 1));
    assert_eq!((done.lease_owner, done.lease_expires_at), (None, None));
    assert_eq!(
        repo.claim_job("w2", LEASE, now() + secs(3600))
            .await
            .unwrap(),
        None
    );
    assert!(!repo.heartbeat_job(&j.id, "w1", LEASE, now()).await.unwrap());
    assert!(!repo.release_job(&j.id, "w1").await.unwrap());
    assert_eq!(job(repo, &j.id).await.status, JobStatus::Done);
}

fn sample_outputs() -> MediaOutputs {
    MediaOutputs {
        renditions: vec![
            Rendition {
                name: "720p".into(),
                width: 1280,
                height: 720,
                bandwidth: 3_000_000,
                codecs: "avc1.64001f,mp4a.40.2".into(),
                codec: Some("h264".into()),
            },
            Rendition {
                name: "audio".into(),
                width: 0,
                height: 0,
                bandwidth: 128_000,
                codecs: "mp4a.40.2".into(),
                codec: None,
            },
        ],
        variants: vec![Variant {
            name: "thumb".into(),
            width: 320,
            height: 180,
            content_type: "image/webp".into(),
            path: "variants/thumb.webp".into(),
        }],
        hls: Some("stream/master.m3u8".into()),
        dash: Some("stream/manifest.mpd".into()),
        thumbnail: Some("thumb.jpg".into()),
        storyboard: None,
        bytes: 12_345_678,
        audio_tracks: vec![mediaserver_core::AudioTrack {
            id: 0,
            language: "spa".into(),
            name: "Español".into(),
            channels: 2,
            default: true,
        }],
        warnings: vec!["audio track 2 (eng, English) could not be decoded and was left out".into()],
        source: Some(mediaserver_core::SourceVideo {
            codec: "hevc".into(),
            width: 1080,
            height: 1920,
            fps: 30000.0 / 1001.0,
            hdr: Some(mediaserver_core::Hdr::Hlg),
            interlaced: false,
            rotation: 90,
            pixel_format: "yuv420p10le".into(),
        }),
        text_tracks: vec![mediaserver_core::TextTrack {
            id: "s0".into(),
            language: "fra".into(),
            label: "Français".into(),
            kind: mediaserver_core::TextTrackKind::Subtitles,
            source: mediaserver_core::TextTrackSource::Embedded,
        }],
        downloads: Vec::new(),
        // Stored with the outputs, read back whole.
        encode: Some(mediaserver_core::EncodeReport {
            ffmpeg_version: "5.1.6-0+deb12u1".into(),
            runner: mediaserver_core::EncodeRunner {
                kind: "container-instances".into(),
                host: Some("ci-1".into()),
                image: Some("fra.ocir.io/ns/ms@sha256:0123".into()),
                instance: Some("ocid1.computecontainerinstance.oc1..x".into()),
            },
            wall_seconds: 12.5,
            cpu_seconds: Some(23.75),
            elapsed_seconds: Some(7.25),
            quality: Some(mediaserver_core::QualitySampling {
                windows: 2,
                sampled_seconds: 1.5,
                wall_seconds: 0.5,
                cpu_seconds: Some(0.75),
                vmaf: false,
            }),
            renditions: vec![mediaserver_core::RenditionEncode {
                name: "720p".into(),
                codec: "h264".into(),
                encoder: "libx264".into(),
                encoder_version: Some("x264 core 164 r3095 baee400".into()),
                encoder_settings: Some("cabac=1 ref=1".into()),
                preset: "veryfast".into(),
                profile: "high".into(),
                crf: Some(23),
                head_crf: None,
                head_seconds: None,
                bitrate: 2_800_000,
                maxrate: 2_996_000,
                bufsize: 4_200_000,
                gop: 120,
                fps: 30000.0 / 1001.0,
                filter: "fps=30000/1001,scale=1280:720,setsar=1,format=yuv420p".into(),
                bytes: 9_876_543,
                quality: Some(mediaserver_core::Quality {
                    ssim: 0.987654,
                    psnr: 41.25,
                    vmaf: None,
                }),
            }],
        }),
    }
}

async fn processing_results_round_trip(repo: &DynRepo) {
    let (m, _) = enqueue(repo, 3).await;
    let get = |id: MediaId| async move { repo.get_media(&id).await.unwrap().unwrap() };
    repo.mark_media_failed(&m.id, "earlier").await.unwrap();
    repo.mark_media_processing(&m.id).await.unwrap();
    let p = get(m.id.clone()).await;
    assert_eq!(
        (p.status, p.progress, p.error),
        (MediaStatus::Processing, 0, None)
    );
    assert!(p.updated_at >= m.updated_at);

    repo.set_media_progress(&m.id, 40, Some(true))
        .await
        .unwrap();
    let p = get(m.id.clone()).await;
    assert_eq!((p.progress, p.playable), (40, true));
    repo.set_media_progress(&m.id, 55, None).await.unwrap();
    let p = get(m.id.clone()).await;
    assert_eq!((p.progress, p.playable), (55, true));
    repo.set_media_progress(&m.id, 250, Some(false))
        .await
        .unwrap();
    let p = get(m.id.clone()).await;
    assert_eq!((p.progress, p.playable), (100, false));

    let ready = MediaReady {
        duration_seconds: Some(61.25),
        width: Some(1280),
        height: Some(720),
        playable: true,
        outputs: sample_outputs(),
    };
    repo.mark_media_ready(&m.id, &ready).await.unwrap();
    let r = get(m.id.clone()).await;
    assert_eq!(
        (r.status, r.progress, r.playable),
        (MediaStatus::Ready, 100, true)
    );
    assert_eq!(
        (r.duration_seconds, r.width, r.height),
        (Some(61.25), Some(1280), Some(720))
    );
    assert_eq!(r.outputs, sample_outputs());
    assert_eq!(r.error, None);
    // Unchanged columns survive, and listing reads the same document.
    assert_eq!(
        (r.title.as_str(), r.created_at),
        (m.title.as_str(), m.created_at)
    );
    assert_eq!(all_media(repo).await, vec![r.clone()]);

    // Outputs added after processing (a downloads backfill) replace the document of a ready
    // item only.
    let mut more = sample_outputs();
    more.downloads.push(mediaserver_core::Download {
        name: "720p".into(),
        path: "downloads/720p.mp4".into(),
        width: 1280,
        height: 720,
        bytes: 1234,
        content_type: "video/mp4".into(),
    });
    more.bytes += 1234;
    assert!(repo.set_ready_outputs(&m.id, &more).await.unwrap());
    let r = get(m.id.clone()).await;
    assert_eq!(r.outputs, more);
    assert_eq!(r.status, MediaStatus::Ready);
    assert!(!repo
        .set_ready_outputs(&MediaId::new(), &more)
        .await
        .unwrap());
    assert!(repo
        .set_ready_outputs(&m.id, &sample_outputs())
        .await
        .unwrap());

    repo.mark_media_failed(&m.id, "disk full").await.unwrap();
    assert!(!repo.set_ready_outputs(&m.id, &more).await.unwrap());
    let f = get(m.id.clone()).await;
    assert_eq!(
        (f.status, f.error.as_deref()),
        (MediaStatus::Failed, Some("disk full"))
    );
    assert_eq!(f.outputs, sample_outputs());

    let missing = MediaId::new();
    for err in [
        repo.mark_media_processing(&missing).await.unwrap_err(),
        repo.set_media_progress(&missing, 1, None)
            .await
            .unwrap_err(),
        repo.mark_media_ready(&missing, &ready).await.unwrap_err(),
        repo.mark_media_failed(&missing, "x").await.unwrap_err(),
    ] {
        assert!(matches!(err, DbError::NotFound), "{err:?}");
    }
}

async fn deleting_media_cascades_jobs(repo: &DynRepo) {
    let (m, j) = enqueue(repo, 3).await;
    repo.claim_job("w1", LEASE, now()).await.unwrap().unwrap();
    assert!(repo.delete_media(&m.id).await.unwrap());
    assert_eq!(repo.get_job(&j.id).await.unwrap(), None);
    assert!(repo.jobs_for_media(&m.id).await.unwrap().is_empty());
    assert!(!repo.complete_job(&j.id, "w1").await.unwrap());
    assert!(!repo.heartbeat_job(&j.id, "w1", LEASE, now()).await.unwrap());
}

/// Lease ends and `run_after` on and around whole seconds, and with fractions of different
/// lengths (whole, milli-, microseconds): one microsecond before is not due, the instant is.
/// On SQLite this is a text comparison, so it holds only if the stored form sorts as time.
async fn timestamps_compare_across_second_boundaries(repo: &DynRepo) {
    let base = Utc.with_ymd_and_hms(2031, 1, 1, 0, 0, 9).unwrap();
    let us = Duration::microseconds;
    let offsets = [
        us(1_000_000),  // 00:00:10 exactly
        us(999_999),    // 00:00:09.999999
        us(1_500_000),  // 00:00:10.5
        us(1_000_001),  // 00:00:10.000001
        us(1_123_456),  // 00:00:10.123456
        us(60_000_000), // 00:01:09, across a minute
    ];
    for offset in offsets {
        let due = base + offset;
        // Lease end: claimed so that the lease ends exactly at `due`.
        let (_, j) = enqueue(repo, 5).await;
        let lease = StdDuration::from_secs(5);
        let start = due - secs(5);
        let c = repo.claim_job("a", lease, start).await.unwrap().unwrap();
        assert_eq!(
            (c.id.as_str(), c.lease_expires_at),
            (j.id.as_str(), Some(due))
        );
        assert_eq!(
            repo.claim_job("b", lease, due - us(1)).await.unwrap(),
            None,
            "{due}"
        );
        let c = repo.claim_job("b", lease, due).await.unwrap().unwrap();
        assert_eq!((c.id.as_str(), c.attempts), (j.id.as_str(), 2), "{due}");

        // run_after: a retry due exactly at `due`.
        let st = repo.fail_job(&j.id, "b", "retry", Some(due)).await.unwrap();
        assert_eq!(st, JobStatus::Queued);
        assert_eq!(
            repo.claim_job("c", lease, due - us(1)).await.unwrap(),
            None,
            "{due}"
        );
        let c = repo.claim_job("c", lease, due).await.unwrap().unwrap();
        assert_eq!((c.id.as_str(), c.attempts), (j.id.as_str(), 3), "{due}");
        assert!(repo.complete_job(&j.id, "c").await.unwrap());
    }
}

async fn wait_for_jobs_times_out(repo: &DynRepo) {
    let started = Instant::now();
    repo.wait_for_jobs(StdDuration::from_millis(200)).await;
    let waited = started.elapsed();
    assert!(waited >= StdDuration::from_millis(150), "{waited:?}");
    assert!(waited < StdDuration::from_secs(5), "{waited:?}");
}

async fn retry_requeues_only_a_failed_item_with_fresh_attempts(repo: &DynRepo) {
    let (m, j) = enqueue(repo, 2).await;
    // Queued: nothing to retry.
    assert!(!repo.retry_failed_media(&m.id, 5).await.unwrap());
    let claimed = repo.claim_job("w", LEASE, now()).await.unwrap().unwrap();
    assert_eq!(claimed.id, j.id);
    assert_eq!(
        repo.fail_job(&j.id, "w", "damaged", None).await.unwrap(),
        JobStatus::Failed
    );
    assert_eq!(
        repo.get_media(&m.id).await.unwrap().unwrap().status,
        MediaStatus::Failed
    );
    assert!(repo.retry_failed_media(&m.id, 5).await.unwrap());
    let item = repo.get_media(&m.id).await.unwrap().unwrap();
    assert_eq!(
        (item.status, item.error, item.progress),
        (MediaStatus::Queued, None, 0)
    );
    let jobs = repo.jobs_for_media(&m.id).await.unwrap();
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0].status, JobStatus::Failed);
    let fresh = &jobs[1];
    assert_eq!(
        (fresh.status, fresh.attempts, fresh.max_attempts),
        (JobStatus::Queued, 0, 5)
    );
    // Twice in a row: the second finds it queued.
    assert!(!repo.retry_failed_media(&m.id, 5).await.unwrap());
    // The new job is claimable at once.
    let next = repo.claim_job("w", LEASE, now()).await.unwrap().unwrap();
    assert_eq!(next.id, fresh.id);
    // An unknown item: nothing.
    assert!(!repo.retry_failed_media(&MediaId::new(), 5).await.unwrap());
}
