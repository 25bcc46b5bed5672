//! The queue's claim order by kind and how far back an item waits, and the library's sorted,
//! filtered, searched pages over 10,000 items, against both backends.

use super::*;
use std::time::Duration as StdDuration;

both_backends!(
    images_are_claimed_before_queued_videos,
    jobs_ahead_counts_in_claim_order,
    library_pages_through_ten_thousand_items,
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

/// A library of 10,000 items read a page at a time, in every sort, filtered and searched: every
/// item comes back once, in the order the sort promises, whatever page it falls on.
async fn library_pages_through_ten_thousand_items(repo: &DynRepo) {
    use mediaserver_core::{MediaAfter, MediaSort};
    use std::sync::Arc;

    let owner = user(repo, "library@example.com").await;
    let other = user(repo, "other@example.com").await;
    let kinds = [MediaKind::Video, MediaKind::Audio, MediaKind::Image];
    let statuses = [MediaStatus::Ready, MediaStatus::Failed, MediaStatus::Queued];
    let mut all = Vec::new();
    for i in 0..10_000i64 {
        let mut m = media(
            &owner.id,
            MediaId::new(),
            kinds[(i % 3) as usize],
            statuses[(i % 7 % 3) as usize],
        );
        // Titles out of insertion order, in mixed case, some equal (ties go by id); sizes with
        // many ties.
        let n = (i * 7919) % 10_000;
        m.title = match i % 4 {
            0 => format!("Holiday {n:05}"),
            1 => format!("holiday {:05}", n / 2),
            2 => format!("CONCERT {n:05}"),
            _ => format!("Talk_{n:05}%"),
        };
        m.size = (i * 104_729) % 5_000;
        all.push(m);
    }
    // Items of someone else, which an owner's list never shows.
    let mut theirs = media(
        &other.id,
        MediaId::new(),
        MediaKind::Video,
        MediaStatus::Ready,
    );
    theirs.title = "Holiday 00001".into();
    add_media(repo, &theirs).await;

    // Inserted from a few tasks at once (the order of ids is not the order of titles or sizes).
    let all = Arc::new(all);
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let (repo, all) = (repo.clone(), all.clone());
            tokio::spawn(async move {
                for m in all.iter().skip(t).step_by(8) {
                    add_media(&repo, m).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }

    let key = |m: &Media| m.title.to_ascii_lowercase();
    let expect = |sort: MediaSort, keep: &dyn Fn(&Media) -> bool| -> Vec<MediaId> {
        let mut v: Vec<&Media> = all.iter().filter(|m| keep(m)).collect();
        match sort {
            MediaSort::Newest => v.sort_by(|a, b| b.id.as_str().cmp(a.id.as_str())),
            MediaSort::Oldest => v.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str())),
            MediaSort::Title => v.sort_by(|a, b| {
                (key(a), a.id.as_str().to_string()).cmp(&(key(b), b.id.as_str().to_string()))
            }),
            MediaSort::Size => {
                v.sort_by(|a, b| (b.size, b.id.as_str()).cmp(&(a.size, a.id.as_str())))
            }
        }
        v.into_iter().map(|m| m.id.clone()).collect()
    };
    let read_all = |filter: MediaFilter| async move {
        let mut got = Vec::new();
        let mut after: Option<MediaAfter> = None;
        loop {
            let page = repo
                .list_media(&MediaFilter {
                    after: after.clone(),
                    limit: 250,
                    ..filter.clone()
                })
                .await
                .unwrap();
            let Some(last) = page.last() else { break };
            after = Some(MediaAfter {
                id: last.id.clone(),
                title: last.title.clone(),
                size: last.size,
            });
            let full = page.len() == 250;
            got.extend(page.into_iter().map(|m| m.id));
            if !full {
                break;
            }
        }
        got
    };
    let mine = |f: MediaFilter| MediaFilter {
        owner_id: Some(owner.id.clone()),
        ..f
    };
    for sort in MediaSort::ALL.iter().copied() {
        let got = read_all(mine(MediaFilter {
            sort,
            ..Default::default()
        }))
        .await;
        assert_eq!(got.len(), 10_000, "{sort}");
        assert!(got == expect(sort, &|_| true), "{sort}: pages out of order");

        // Filtered by kind and status together.
        let got = read_all(mine(MediaFilter {
            sort,
            kind: Some(MediaKind::Image),
            status: Some(MediaStatus::Ready),
            ..Default::default()
        }))
        .await;
        let want = expect(sort, &|m| {
            m.kind == MediaKind::Image && m.status == MediaStatus::Ready
        });
        assert!(!want.is_empty());
        assert!(got == want, "{sort}: kind+status filter");

        // Title search: case-insensitive, and `%` / `_` are literal characters.
        let got = read_all(mine(MediaFilter {
            sort,
            title_contains: Some("HOLIDAY 0012".into()),
            ..Default::default()
        }))
        .await;
        let want = expect(sort, &|m| key(m).contains("holiday 0012"));
        assert!(!want.is_empty());
        assert!(got == want, "{sort}: search");
        let got = read_all(mine(MediaFilter {
            sort,
            title_contains: Some("9%".into()),
            ..Default::default()
        }))
        .await;
        let want = expect(sort, &|m| m.title.contains("9%"));
        assert!(!want.is_empty());
        assert!(got == want, "{sort}: a literal %");
        let got = read_all(mine(MediaFilter {
            sort,
            title_contains: Some("y_0".into()),
            ..Default::default()
        }))
        .await;
        assert!(got.is_empty(), "{sort}: _ matched a space");
    }
    // An admin's list (no owner) includes the other user's item, in its place.
    let got = read_all(MediaFilter {
        sort: MediaSort::Title,
        title_contains: Some("holiday 00001".into()),
        ..Default::default()
    })
    .await;
    let want = all
        .iter()
        .filter(|m| key(m).contains("holiday 00001"))
        .count();
    assert!(got.contains(&theirs.id) && got.len() == want + 1, "{got:?}");
}
