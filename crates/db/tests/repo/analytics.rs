//! Viewer analytics, against both backends: one view per session, unique viewers per day, watch
//! time (by rendition), rebuffers and errors summed over a range of days, pruning by day, and
//! nothing stored for an item that does not exist.

use super::queue::enqueue;
use super::*;
use chrono::NaiveDate;
use mediaserver_core::analytics::{ViewBeacon, ViewDay, ViewEvent};

both_backends!(
    a_session_counts_one_view_and_viewers_are_distinct_per_day,
    watch_time_rebuffers_errors_and_renditions_add_up,
    stats_cover_the_range_and_pruning_removes_older_days,
    an_unknown_item_stores_nothing,
    deleting_the_item_deletes_its_views,
);

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn beacon(m: &MediaId, session: &str, d: &str, viewer: &str, event: ViewEvent) -> ViewBeacon {
    ViewBeacon {
        media_id: m.clone(),
        session: session.into(),
        day: day(d),
        viewer: viewer.into(),
        at: now(),
        event,
    }
}

fn start(ms: u32) -> ViewEvent {
    ViewEvent::Start {
        startup_ms: Some(ms),
        rendition: None,
    }
}

fn beat(ms: u32, rendition: Option<&str>) -> ViewEvent {
    ViewEvent::Heartbeat {
        watch_ms: ms,
        rendition: rendition.map(str::to_string),
    }
}

async fn a_session_counts_one_view_and_viewers_are_distinct_per_day(repo: &DynRepo) {
    let (m, _) = enqueue(repo, 3).await;
    let d = "2026-03-01";
    // A heartbeat before the start makes the session but counts no view.
    assert!(!repo
        .record_view_beacon(&beacon(&m.id, "s1", d, "v1", beat(1000, None)))
        .await
        .unwrap());
    assert!(repo
        .record_view_beacon(&beacon(&m.id, "s1", d, "v1", start(300)))
        .await
        .unwrap());
    // The same session starting again (a replay, a resent beacon) is the same view, and keeps
    // its first time to first frame.
    assert!(!repo
        .record_view_beacon(&beacon(&m.id, "s1", d, "v1", start(900)))
        .await
        .unwrap());
    // Another session of the same viewer: a second view, the same unique viewer.
    assert!(repo
        .record_view_beacon(&beacon(&m.id, "s2", d, "v1", start(500)))
        .await
        .unwrap());
    assert!(repo
        .record_view_beacon(&beacon(&m.id, "s3", d, "v2", start(700)))
        .await
        .unwrap());
    // A session that never started is no view and no viewer.
    repo.record_view_beacon(&beacon(&m.id, "s4", d, "v3", beat(2000, None)))
        .await
        .unwrap();
    let stats = repo.view_stats(&m.id, day(d), day(d)).await.unwrap();
    assert_eq!(
        stats.days,
        vec![ViewDay {
            day: day(d),
            views: 3,
            unique_viewers: 2,
            watch_ms: 3000,
        }]
    );
    assert_eq!(stats.startup_ms, vec![300, 500, 700]);
}

async fn watch_time_rebuffers_errors_and_renditions_add_up(repo: &DynRepo) {
    let (m, _) = enqueue(repo, 3).await;
    let d = "2026-03-02";
    let send = |session: &'static str, event: ViewEvent| {
        let b = beacon(&m.id, session, d, "v", event);
        async move { repo.record_view_beacon(&b).await.unwrap() }
    };
    send(
        "a",
        ViewEvent::Start {
            startup_ms: None,
            rendition: Some("720p".into()),
        },
    )
    .await;
    // Counted on the session's current rendition, or on the one the heartbeat names.
    send("a", beat(10_000, None)).await;
    send("a", beat(10_000, Some("360p"))).await;
    send(
        "a",
        ViewEvent::Rendition {
            name: "720p".into(),
        },
    )
    .await;
    send("a", ViewEvent::Rebuffer { duration_ms: 1500 }).await;
    send("a", ViewEvent::Rebuffer { duration_ms: 500 }).await;
    send("a", ViewEvent::Error).await;
    send("a", ViewEvent::End { watch_ms: 4000 }).await;
    // A session with no rendition known: watch time, but under no rendition.
    send("b", start(100)).await;
    send("b", beat(3000, None)).await;
    let stats = repo.view_stats(&m.id, day(d), day(d)).await.unwrap();
    assert_eq!(stats.days.len(), 1);
    assert_eq!(stats.days[0].views, 2);
    assert_eq!(stats.days[0].watch_ms, 27_000);
    assert_eq!(
        (stats.rebuffer_ms, stats.rebuffers, stats.errors),
        (2000, 2, 1)
    );
    assert_eq!(
        stats.renditions,
        vec![("360p".to_string(), 10_000), ("720p".to_string(), 14_000)]
    );
    assert_eq!(stats.startup_ms, vec![100]);
}

async fn stats_cover_the_range_and_pruning_removes_older_days(repo: &DynRepo) {
    let (m, _) = enqueue(repo, 3).await;
    let (other, _) = enqueue(repo, 3).await;
    for (i, d) in ["2026-01-30", "2026-01-31", "2026-02-01"]
        .iter()
        .enumerate()
    {
        let s = format!("s{i}");
        repo.record_view_beacon(&beacon(&m.id, &s, d, "v", start(10)))
            .await
            .unwrap();
        repo.record_view_beacon(&beacon(&m.id, &s, d, "v", beat(1000, Some("240p"))))
            .await
            .unwrap();
    }
    repo.record_view_beacon(&beacon(&other.id, "x", "2026-01-31", "v", start(10)))
        .await
        .unwrap();
    let stats = repo
        .view_stats(&m.id, day("2026-01-31"), day("2026-02-28"))
        .await
        .unwrap();
    let days: Vec<_> = stats.days.iter().map(|d| (d.day, d.views)).collect();
    assert_eq!(
        days,
        vec![(day("2026-01-31"), 1), (day("2026-02-01"), 1)],
        "the range is inclusive and other items' views are not counted"
    );
    assert_eq!(stats.renditions, vec![("240p".to_string(), 2000)]);
    // The same viewer hash on two days is two unique viewers: the salt is per day.
    assert_eq!(stats.days.iter().map(|d| d.unique_viewers).sum::<u64>(), 2);

    // Every item's: two of this one's sessions and the other item's.
    assert_eq!(repo.prune_views(day("2026-02-01")).await.unwrap(), 3);
    let all = repo
        .view_stats(&m.id, day("2026-01-01"), day("2026-12-31"))
        .await
        .unwrap();
    assert_eq!(all.days.len(), 1);
    assert_eq!(all.renditions, vec![("240p".to_string(), 1000)]);
    assert_eq!(repo.prune_views(day("2026-02-01")).await.unwrap(), 0);
}

async fn an_unknown_item_stores_nothing(repo: &DynRepo) {
    let ghost = MediaId::new();
    let err = repo
        .record_view_beacon(&beacon(&ghost, "s", "2026-03-03", "v", start(5)))
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::NotFound), "{err:?}");
    let stats = repo
        .view_stats(&ghost, day("2026-03-03"), day("2026-03-03"))
        .await
        .unwrap();
    assert_eq!(stats, Default::default());
}

async fn deleting_the_item_deletes_its_views(repo: &DynRepo) {
    let (m, _) = enqueue(repo, 3).await;
    let d = "2026-03-04";
    repo.record_view_beacon(&beacon(&m.id, "s", d, "v", start(5)))
        .await
        .unwrap();
    repo.record_view_beacon(&beacon(&m.id, "s", d, "v", beat(1000, Some("240p"))))
        .await
        .unwrap();
    assert!(repo.delete_media(&m.id).await.unwrap());
    let stats = repo.view_stats(&m.id, day(d), day(d)).await.unwrap();
    assert_eq!(stats, Default::default());
}
