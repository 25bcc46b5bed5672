//! Uploaded text tracks, against both backends.

use super::*;
use mediaserver_core::{TextTrack, TextTrackKind, TextTrackSource};
use mediaserver_db::UploadedTextTrack;

both_backends!(
    text_tracks_round_trip_and_bump_the_item,
    text_track_ids_are_unique_per_item,
    text_tracks_go_with_their_item,
);

fn track(media: &Media, id: &str, kind: TextTrackKind) -> UploadedTextTrack {
    UploadedTextTrack {
        media_id: media.id.clone(),
        track: TextTrack {
            id: id.into(),
            language: "pt-BR".into(),
            label: "Português é".into(),
            kind,
            source: TextTrackSource::Upload,
        },
        bytes: 1234,
        created_at: now(),
    }
}

async fn text_tracks_round_trip_and_bump_the_item(repo: &DynRepo) {
    let u = user(repo, "t@example.com").await;
    let m = media(&u.id, MediaId::new(), MediaKind::Video, MediaStatus::Ready);
    add_media(repo, &m).await;
    let a = track(&m, "ua", TextTrackKind::Captions);
    let b = track(&m, "ub", TextTrackKind::Subtitles);
    assert!(repo.add_text_track(&a).await.unwrap());
    let after_add = repo.get_media(&m.id).await.unwrap().unwrap().updated_at;
    assert_ne!(after_add, m.updated_at, "adding a track bumps updated_at");
    assert!(repo.add_text_track(&b).await.unwrap());
    assert_eq!(
        repo.text_tracks(&m.id).await.unwrap(),
        vec![a.clone(), b.clone()]
    );
    // Another item's list is its own.
    assert!(repo.text_tracks(&MediaId::new()).await.unwrap().is_empty());
    assert_eq!(
        repo.text_tracks_of(&[MediaId::new(), m.id.clone()])
            .await
            .unwrap(),
        vec![a.clone(), b.clone()]
    );
    assert!(repo.text_tracks_of(&[]).await.unwrap().is_empty());

    assert!(repo.delete_text_track(&m.id, "ua").await.unwrap());
    assert!(!repo.delete_text_track(&m.id, "ua").await.unwrap());
    assert_ne!(
        repo.get_media(&m.id).await.unwrap().unwrap().updated_at,
        after_add,
        "deleting a track bumps updated_at"
    );
    assert_eq!(repo.text_tracks(&m.id).await.unwrap(), vec![b]);

    // No item: nothing recorded.
    let ghost = media(&u.id, MediaId::new(), MediaKind::Video, MediaStatus::Ready);
    assert!(!repo
        .add_text_track(&track(&ghost, "ux", TextTrackKind::Captions))
        .await
        .unwrap());
    assert!(repo.text_tracks(&ghost.id).await.unwrap().is_empty());
}

async fn text_track_ids_are_unique_per_item(repo: &DynRepo) {
    let u = user(repo, "t@example.com").await;
    let m1 = media(&u.id, MediaId::new(), MediaKind::Video, MediaStatus::Ready);
    let m2 = media(&u.id, MediaId::new(), MediaKind::Video, MediaStatus::Ready);
    add_media(repo, &m1).await;
    add_media(repo, &m2).await;
    let stamp = repo.get_media(&m1.id).await.unwrap().unwrap().updated_at;
    repo.add_text_track(&track(&m1, "u1", TextTrackKind::Captions))
        .await
        .unwrap();
    let stamp_after = repo.get_media(&m1.id).await.unwrap().unwrap().updated_at;
    assert_ne!(stamp, stamp_after);
    let err = repo
        .add_text_track(&track(&m1, "u1", TextTrackKind::Subtitles))
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::Conflict { .. }), "{err:?}");
    // The failed insert rolled back its bump too.
    assert_eq!(
        repo.get_media(&m1.id).await.unwrap().unwrap().updated_at,
        stamp_after
    );
    // The same id on another item is another track.
    assert!(repo
        .add_text_track(&track(&m2, "u1", TextTrackKind::Subtitles))
        .await
        .unwrap());
    assert_eq!(repo.text_tracks(&m1.id).await.unwrap().len(), 1);
}

async fn text_tracks_go_with_their_item(repo: &DynRepo) {
    let u = user(repo, "t@example.com").await;
    let m = media(&u.id, MediaId::new(), MediaKind::Video, MediaStatus::Ready);
    add_media(repo, &m).await;
    repo.add_text_track(&track(&m, "u1", TextTrackKind::Captions))
        .await
        .unwrap();
    assert!(repo.delete_media(&m.id).await.unwrap());
    assert!(repo.text_tracks(&m.id).await.unwrap().is_empty());
}
