//! The webhook outbox, against both backends: deliveries written with the state change they
//! announce, claims with a lease, attempts recorded, redelivery, listing.

use super::queue::{enqueue, LEASE};
use super::*;
use mediaserver_core::webhook::{
    DeliveryAttempt, DeliveryFilter, DeliveryNext, DeliveryStatus, WebhookDelivery, WebhookEvent,
    WebhookEventKind,
};
use mediaserver_core::{DeliveryId, JobStatus};
use mediaserver_db::MediaReady;

fn secs(s: i64) -> Duration {
    Duration::seconds(s)
}

both_backends!(
    nothing_is_written_until_webhooks_are_on,
    every_way_an_item_ends_writes_one_delivery,
    a_claim_is_exclusive_until_its_lease_expires,
    only_the_claims_holder_moves_a_delivery_on,
    redelivery_requeues_now_and_takes_the_claim_away,
    listing_filters_by_status_and_pages_newest_first,
);

fn ready() -> MediaReady {
    MediaReady {
        duration_seconds: Some(2.0),
        width: Some(64),
        height: Some(48),
        playable: true,
        outputs: MediaOutputs::default(),
    }
}

async fn all(repo: &DynRepo, status: Option<DeliveryStatus>) -> Vec<WebhookDelivery> {
    repo.list_webhook_deliveries(&DeliveryFilter {
        status,
        before_id: None,
        limit: 1000,
    })
    .await
    .unwrap()
}

fn attempt(status_code: Option<i32>, error: Option<&str>) -> DeliveryAttempt {
    DeliveryAttempt {
        number: 0,
        attempted_at: now(),
        duration_ms: 12,
        status_code,
        error: error.map(str::to_string),
    }
}

/// One ready item's delivery, claimed by `owner`.
async fn claimed(repo: &DynRepo, owner: &str) -> WebhookDelivery {
    repo.record_webhooks(true);
    let (m, _) = enqueue(repo, 3).await;
    repo.mark_media_ready(&m.id, &ready()).await.unwrap();
    let mut got = repo
        .claim_webhook_deliveries(owner, LEASE, now() + secs(1), 10)
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    got.remove(0)
}

async fn nothing_is_written_until_webhooks_are_on(repo: &DynRepo) {
    let (m, _) = enqueue(repo, 3).await;
    repo.mark_media_ready(&m.id, &ready()).await.unwrap();
    repo.mark_media_failed(&m.id, "x").await.unwrap();
    assert!(all(repo, None).await.is_empty());
    repo.record_webhooks(true);
    repo.record_webhooks(false);
    repo.mark_media_ready(&m.id, &ready()).await.unwrap();
    assert!(all(repo, None).await.is_empty());
}

async fn every_way_an_item_ends_writes_one_delivery(repo: &DynRepo) {
    repo.record_webhooks(true);
    // Ready. (Jobs are claimable from when they were queued.)
    let t = now() + secs(1);
    let (ready_item, j) = enqueue(repo, 3).await;
    assert_eq!(
        repo.claim_job("w", LEASE, t).await.unwrap().unwrap().id,
        j.id
    );
    repo.mark_media_ready(&ready_item.id, &ready())
        .await
        .unwrap();
    assert!(repo.complete_job(&j.id, "w").await.unwrap());
    // Failed for good by its worker.
    let (failed_item, j) = enqueue(repo, 3).await;
    assert_eq!(
        repo.claim_job("w", LEASE, t).await.unwrap().unwrap().id,
        j.id
    );
    assert_eq!(
        repo.fail_job(&j.id, "w", "not a video", None)
            .await
            .unwrap(),
        JobStatus::Failed
    );
    // A failed attempt that will be retried is no event.
    let (retried_item, j) = enqueue(repo, 3).await;
    assert_eq!(
        repo.claim_job("w", LEASE, t).await.unwrap().unwrap().id,
        j.id
    );
    repo.fail_job(&j.id, "w", "blip", Some(t + secs(3600)))
        .await
        .unwrap();
    // Failed because its worker died on the last attempt.
    let (abandoned_item, j) = enqueue(repo, 1).await;
    assert_eq!(
        repo.claim_job("w", LEASE, t).await.unwrap().unwrap().id,
        j.id
    );
    assert_eq!(
        repo.claim_job("w2", LEASE, t + secs(31)).await.unwrap(),
        None
    );
    // Unknown items fail without a delivery.
    assert!(repo.mark_media_failed(&MediaId::new(), "x").await.is_err());

    let deliveries = all(repo, None).await;
    let of = |id: &MediaId| -> Vec<&WebhookDelivery> {
        deliveries.iter().filter(|d| d.media_id == *id).collect()
    };
    assert!(of(&retried_item.id).is_empty());
    for (item, kind, status) in [
        (&ready_item, WebhookEventKind::MediaReady, "ready"),
        (&failed_item, WebhookEventKind::MediaFailed, "failed"),
        (&abandoned_item, WebhookEventKind::MediaFailed, "failed"),
    ] {
        let ds = of(&item.id);
        assert_eq!(ds.len(), 1, "{kind}: {deliveries:?}");
        let d = ds[0];
        assert_eq!(
            (d.event, d.status, d.attempts, d.round_attempts),
            (kind, DeliveryStatus::Pending, 0, 0)
        );
        assert!(d.next_attempt_at.is_some());
        assert_eq!((d.last_error.as_deref(), d.delivered_at), (None, None));
        // The body is the event, about the item as it became.
        let event: WebhookEvent = serde_json::from_str(&d.body).unwrap();
        assert_eq!((event.kind, &event.id), (kind, &d.id));
        assert_eq!(event.data["id"], item.id.as_str());
        assert_eq!(event.data["status"], status);
        assert_eq!(
            repo.get_webhook_delivery(&d.id).await.unwrap().as_ref(),
            Some(d)
        );
    }
    let failed = of(&failed_item.id)[0];
    let event: WebhookEvent = serde_json::from_str(&failed.body).unwrap();
    assert_eq!(event.data["error"], "not a video");
}

async fn a_claim_is_exclusive_until_its_lease_expires(repo: &DynRepo) {
    repo.record_webhooks(true);
    let (m, _) = enqueue(repo, 3).await;
    let t = now();
    // Not due before it was written.
    assert!(repo
        .claim_webhook_deliveries("a", LEASE, t - secs(60), 10)
        .await
        .unwrap()
        .is_empty());
    repo.mark_media_ready(&m.id, &ready()).await.unwrap();
    let t = now() + secs(1);
    let a = repo
        .claim_webhook_deliveries("a", LEASE, t, 10)
        .await
        .unwrap();
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].media_id, m.id);
    assert!(repo
        .claim_webhook_deliveries("b", LEASE, t + secs(29), 10)
        .await
        .unwrap()
        .is_empty());
    // "a" crashed: its claim runs out and "b" takes the delivery.
    let b = repo
        .claim_webhook_deliveries("b", LEASE, t + secs(31), 10)
        .await
        .unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].id, a[0].id);

    // Concurrent claimers never share a delivery.
    for _ in 0..6 {
        let (m, _) = enqueue(repo, 3).await;
        repo.mark_media_ready(&m.id, &ready()).await.unwrap();
    }
    let t = now() + secs(1);
    let tasks: Vec<_> = (0..4)
        .map(|i| {
            let repo = repo.clone();
            tokio::spawn(async move {
                repo.claim_webhook_deliveries(&format!("c{i}"), LEASE, t, 2)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        ids.extend(task.await.unwrap().into_iter().map(|d| d.id));
    }
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!((ids.len(), n), (6, 6));
}

async fn only_the_claims_holder_moves_a_delivery_on(repo: &DynRepo) {
    let d = claimed(repo, "a").await;
    // Refused: retried after the backoff.
    let retry_at = now() + secs(60);
    let held = repo
        .record_webhook_attempt(
            &d.id,
            "a",
            &attempt(Some(500), Some("the receiver answered 500")),
            DeliveryNext::RetryAt(retry_at),
        )
        .await
        .unwrap();
    assert!(held);
    let after = repo.get_webhook_delivery(&d.id).await.unwrap().unwrap();
    assert_eq!(
        (after.status, after.attempts, after.round_attempts),
        (DeliveryStatus::Pending, 1, 1)
    );
    assert_eq!(after.next_attempt_at, Some(retry_at));
    assert_eq!(after.last_status_code, Some(500));
    // Not due before the backoff is over; due after.
    assert!(repo
        .claim_webhook_deliveries("b", LEASE, retry_at - secs(1), 10)
        .await
        .unwrap()
        .is_empty());
    let again = repo
        .claim_webhook_deliveries("b", LEASE, retry_at, 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].round_attempts, 1);

    // "a" no longer holds it: its attempt is recorded, nothing else changes.
    let held = repo
        .record_webhook_attempt(
            &d.id,
            "a",
            &attempt(None, Some("could not connect")),
            DeliveryNext::Failed,
        )
        .await
        .unwrap();
    assert!(!held);
    let after = repo.get_webhook_delivery(&d.id).await.unwrap().unwrap();
    assert_eq!(
        (after.status, after.attempts, after.round_attempts),
        (DeliveryStatus::Pending, 2, 1)
    );

    // The holder delivers it.
    assert!(repo
        .record_webhook_attempt(
            &d.id,
            "b",
            &attempt(Some(204), None),
            DeliveryNext::Delivered
        )
        .await
        .unwrap());
    let done = repo.get_webhook_delivery(&d.id).await.unwrap().unwrap();
    assert_eq!((done.status, done.attempts), (DeliveryStatus::Delivered, 3));
    assert_eq!((done.next_attempt_at, done.last_error), (None, None));
    assert!(done.delivered_at.is_some());
    assert!(repo
        .claim_webhook_deliveries("c", LEASE, now() + secs(7200), 10)
        .await
        .unwrap()
        .is_empty());

    let log = repo.webhook_attempts(&d.id).await.unwrap();
    let summary: Vec<_> = log
        .iter()
        .map(|a| (a.number, a.status_code, a.error.as_deref(), a.duration_ms))
        .collect();
    assert_eq!(
        summary,
        [
            (1, Some(500), Some("the receiver answered 500"), 12),
            (2, None, Some("could not connect"), 12),
            (3, Some(204), None, 12),
        ]
    );

    // Out of attempts: failed, and never claimed again.
    let d = claimed(repo, "a").await;
    repo.record_webhook_attempt(
        &d.id,
        "a",
        &attempt(None, Some("timed out")),
        DeliveryNext::Failed,
    )
    .await
    .unwrap();
    let failed = repo.get_webhook_delivery(&d.id).await.unwrap().unwrap();
    assert_eq!(
        (
            failed.status,
            failed.next_attempt_at,
            failed.last_error.as_deref()
        ),
        (DeliveryStatus::Failed, None, Some("timed out"))
    );
    let missing = repo
        .record_webhook_attempt(
            &DeliveryId::new(),
            "a",
            &attempt(None, None),
            DeliveryNext::Delivered,
        )
        .await;
    assert!(matches!(missing, Err(DbError::NotFound)), "{missing:?}");
}

async fn redelivery_requeues_now_and_takes_the_claim_away(repo: &DynRepo) {
    let d = claimed(repo, "a").await;
    repo.record_webhook_attempt(
        &d.id,
        "a",
        &attempt(None, Some("refused")),
        DeliveryNext::Failed,
    )
    .await
    .unwrap();
    let t = now() + secs(5);
    assert!(repo.redeliver_webhook(&d.id, t).await.unwrap());
    let queued = repo.get_webhook_delivery(&d.id).await.unwrap().unwrap();
    assert_eq!(
        (
            queued.status,
            queued.next_attempt_at,
            queued.round_attempts,
            queued.attempts
        ),
        (DeliveryStatus::Pending, Some(t), 0, 1)
    );
    assert_eq!(queued.body, d.body, "the same event, byte for byte");
    let c = repo
        .claim_webhook_deliveries("b", LEASE, t, 10)
        .await
        .unwrap();
    assert_eq!(c.len(), 1);
    // Redelivered while "b" is sending: "b"'s result does not end the new round.
    assert!(repo.redeliver_webhook(&d.id, t).await.unwrap());
    assert!(!repo
        .record_webhook_attempt(
            &d.id,
            "b",
            &attempt(Some(200), None),
            DeliveryNext::Delivered
        )
        .await
        .unwrap());
    let still = repo.get_webhook_delivery(&d.id).await.unwrap().unwrap();
    assert_eq!(still.status, DeliveryStatus::Pending);
    assert_eq!(
        repo.claim_webhook_deliveries("c", LEASE, t, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(!repo.redeliver_webhook(&DeliveryId::new(), t).await.unwrap());
}

async fn listing_filters_by_status_and_pages_newest_first(repo: &DynRepo) {
    let mut ids = Vec::new();
    for _ in 0..3 {
        let d = claimed(repo, "a").await;
        ids.push(d.id);
    }
    repo.record_webhook_attempt(
        &ids[0],
        "a",
        &attempt(Some(200), None),
        DeliveryNext::Delivered,
    )
    .await
    .unwrap();
    repo.record_webhook_attempt(
        &ids[1],
        "a",
        &attempt(Some(410), Some("gone")),
        DeliveryNext::Failed,
    )
    .await
    .unwrap();
    let status_of = |s| async move {
        all(repo, Some(s))
            .await
            .into_iter()
            .map(|d| d.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(status_of(DeliveryStatus::Delivered).await, [ids[0].clone()]);
    assert_eq!(status_of(DeliveryStatus::Failed).await, [ids[1].clone()]);
    assert_eq!(status_of(DeliveryStatus::Pending).await, [ids[2].clone()]);

    let page = |before: Option<DeliveryId>| async move {
        repo.list_webhook_deliveries(&DeliveryFilter {
            status: None,
            before_id: before,
            limit: 2,
        })
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect::<Vec<_>>()
    };
    let first = page(None).await;
    assert_eq!(first, [ids[2].clone(), ids[1].clone()]);
    assert_eq!(page(Some(ids[1].clone())).await, [ids[0].clone()]);
}
