//! Media items and their events, against both backends.

use super::*;

both_backends!(
    media_created_with_event,
    a_clip_keeps_its_range,
    duplicate_event_object_is_a_no_op,
    duplicate_media_id_fails_atomically,
    list_pagination_newest_first,
    list_filters,
    update_media_patch,
    switching_to_private_moves_the_playback_generation_on,
    delete_media_removes_events,
);

async fn media_created_with_event(repo: &DynRepo) {
    let u = user(repo, "m@example.com").await;
    let m = media(
        &u.id,
        MediaId::new(),
        MediaKind::Video,
        MediaStatus::Uploaded,
    );
    let e = event_for(&m);
    let recorded = repo.create_media_with_event(&m, &e, 3).await.unwrap();
    assert_eq!(recorded, Recorded::Created);
    assert_eq!(repo.get_media(&m.id).await.unwrap(), Some(m.clone()));
    assert_eq!(repo.events_for_media(&m.id).await.unwrap(), vec![e]);
}

async fn a_clip_keeps_its_range(repo: &DynRepo) {
    let u = user(repo, "clip@example.com").await;
    let mut m = media(&u.id, MediaId::new(), MediaKind::Video, MediaStatus::Queued);
    m.clip = Some(mediaserver_core::Clip {
        source_id: MediaId::new(),
        start_seconds: 1.25,
        end_seconds: 3.5,
    });
    repo.create_media_with_event(&m, &event_for(&m), 3)
        .await
        .unwrap();
    assert_eq!(repo.get_media(&m.id).await.unwrap(), Some(m.clone()));
    let listed = repo
        .list_media(&MediaFilter {
            owner_id: Some(u.id.clone()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(listed, vec![m]);
}

async fn duplicate_event_object_is_a_no_op(repo: &DynRepo) {
    let u = user(repo, "d@example.com").await;
    let m1 = media(&u.id, MediaId::new(), MediaKind::Video, MediaStatus::Queued);
    let e1 = event_for(&m1);
    repo.create_media_with_event(&m1, &e1, 3).await.unwrap();
    // Same (bucket, key, etag) under another media item: nothing at all is stored, and the
    // answer names the item of the recorded event.
    let m2 = media(&u.id, MediaId::new(), MediaKind::Video, MediaStatus::Queued);
    let e2 = ObjectEvent {
        id: new_id(),
        media_id: Some(m2.id.clone()),
        ..e1.clone()
    };
    let recorded = repo.create_media_with_event(&m2, &e2, 3).await.unwrap();
    assert_eq!(
        recorded,
        Recorded::Duplicate {
            media_id: Some(m1.id.clone())
        }
    );
    assert_eq!(repo.get_media(&m2.id).await.unwrap(), None);
    assert!(repo.jobs_for_media(&m2.id).await.unwrap().is_empty());
    assert_eq!(repo.events_for_media(&m1.id).await.unwrap(), vec![e1]);
    assert_eq!(repo.jobs_for_media(&m1.id).await.unwrap().len(), 1);
    assert_eq!(all_media(repo).await.len(), 1);
}

async fn duplicate_media_id_fails_atomically(repo: &DynRepo) {
    let u = user(repo, "x@example.com").await;
    let m = media(
        &u.id,
        MediaId::new(),
        MediaKind::Image,
        MediaStatus::Uploaded,
    );
    let e = event_for(&m);
    repo.create_media_with_event(&m, &e, 3).await.unwrap();
    let again = Media {
        title: "other".into(),
        ..m.clone()
    };
    let e2 = ObjectEvent {
        id: new_id(),
        etag: "different".into(),
        ..e.clone()
    };
    let err = repo
        .create_media_with_event(&again, &e2, 3)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DbError::Conflict { subject, .. } if *subject == "media"),
        "{err:?}"
    );
    assert_eq!(repo.get_media(&m.id).await.unwrap(), Some(m.clone()));
    assert_eq!(repo.events_for_media(&m.id).await.unwrap(), vec![e]);
    assert_eq!(repo.jobs_for_media(&m.id).await.unwrap().len(), 1);
}

async fn list_pagination_newest_first(repo: &DynRepo) {
    let u = user(repo, "p@example.com").await;
    let mut ids: Vec<MediaId> = (0..25).map(|_| MediaId::new()).collect();
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
        add_media(repo, &media(&owner.id, MediaId::new(), kind, status)).await;
    }
    let count = |owner: Option<&User>, kind, status| {
        let filter = MediaFilter {
            owner_id: owner.map(|u| u.id.clone()),
            kind,
            status,
            visibility: None,
            before_id: None,
            limit: 100,
            ..Default::default()
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

    // Visibility filter (the public listing).
    let shown = &limited[0];
    repo.update_media(
        &shown.id,
        &MediaPatch {
            title: None,
            visibility: Some(Visibility::Public),
        },
    )
    .await
    .unwrap();
    let public = repo
        .list_media(&MediaFilter {
            visibility: Some(Visibility::Public),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        public.iter().map(|m| &m.id).collect::<Vec<_>>(),
        vec![&shown.id]
    );
}

async fn update_media_patch(repo: &DynRepo) {
    let u = user(repo, "up@example.com").await;
    let m = media(&u.id, MediaId::new(), MediaKind::Video, MediaStatus::Ready);
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
        .update_media(&MediaId::new(), &MediaPatch::default())
        .await
        .unwrap();
    assert_eq!(none, None);
}

async fn switching_to_private_moves_the_playback_generation_on(repo: &DynRepo) {
    let u = user(repo, "gen@example.com").await;
    let m = media(&u.id, MediaId::new(), MediaKind::Video, MediaStatus::Ready);
    add_media(repo, &m).await;
    let mut generations = Vec::new();
    for (title, visibility) in [
        (None, Some(Visibility::Private)), // already private: no switch
        (None, Some(Visibility::Public)),
        (Some("t"), None),
        (None, Some(Visibility::Private)), // public → private
        (None, Some(Visibility::Private)),
        (Some("u"), None),
        (None, Some(Visibility::Unlisted)),
        (None, Some(Visibility::Private)), // unlisted → private
    ] {
        let patch = MediaPatch {
            title: title.map(str::to_string),
            visibility,
        };
        let patched = repo.update_media(&m.id, &patch).await.unwrap().unwrap();
        generations.push(patched.playback_generation);
    }
    assert_eq!(generations, [0, 0, 0, 1, 1, 1, 1, 2]);
    assert_eq!(
        repo.get_media(&m.id)
            .await
            .unwrap()
            .unwrap()
            .playback_generation,
        2
    );
}

async fn delete_media_removes_events(repo: &DynRepo) {
    let u = user(repo, "del@example.com").await;
    let m = media(
        &u.id,
        MediaId::new(),
        MediaKind::Audio,
        MediaStatus::Uploaded,
    );
    add_media(repo, &m).await;
    assert_eq!(repo.events_for_media(&m.id).await.unwrap().len(), 1);
    assert!(repo.delete_media(&m.id).await.unwrap());
    assert_eq!(repo.get_media(&m.id).await.unwrap(), None);
    assert!(repo.events_for_media(&m.id).await.unwrap().is_empty());
    assert!(!repo.delete_media(&m.id).await.unwrap());
}
