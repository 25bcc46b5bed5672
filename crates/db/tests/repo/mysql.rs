//! What MySQL's types and collations could get wrong (run on every backend), and its
//! connection errors.

use super::*;

both_backends!(
    tokens_and_hashes_compare_exactly,
    long_object_keys_and_titles_round_trip,
    a_title_is_found_by_its_own_letters
);

/// A hash differing only in letter case is another hash (MySQL's default collations would
/// match it: the tables use `utf8mb4_bin`).
async fn tokens_and_hashes_compare_exactly(repo: &DynRepo) {
    let u = user(repo, "case@example.com").await;
    repo.insert_refresh_token(&token(&u.id, "abcdef", Duration::hours(1)))
        .await
        .unwrap();
    let fresh = token(&u.id, "fresh", Duration::hours(1));
    let outcome = repo
        .rotate_refresh_token("ABCDEF", &fresh, now())
        .await
        .unwrap();
    assert!(matches!(outcome, RefreshOutcome::Invalid), "{outcome:?}");
    let key = ApiKey {
        id: new_id(),
        user_id: u.id.clone(),
        name: "k".into(),
        prefix: "msk_abcd".into(),
        key_hash: "keyhash".into(),
        created_at: now(),
        expires_at: None,
        scopes: Scopes::all(),
        last_used_at: None,
        revoked_at: None,
    };
    repo.insert_api_key(&key).await.unwrap();
    assert!(repo
        .api_key_by_hash("KEYHASH", now())
        .await
        .unwrap()
        .is_none());
    assert!(repo
        .api_key_by_hash("keyhash", now())
        .await
        .unwrap()
        .is_some());
    // Emails are stored lowercased, so any case finds the account (the repo folds it).
    assert!(repo
        .user_by_email("CASE@example.com")
        .await
        .unwrap()
        .is_some());
}

/// Object keys up to S3's 1024 bytes, multi-byte titles and a repeated bucket event for such
/// a key (its uniqueness is a SHA-256 column on MySQL, whose indexes are shorter).
async fn long_object_keys_and_titles_round_trip(repo: &DynRepo) {
    let u = user(repo, "keys@example.com").await;
    let mut m = media(&u.id, MediaId::new(), MediaKind::Video, MediaStatus::Queued);
    let name = "é".repeat(400); // 800 bytes
    m.original_key = format!("originals/{}/{name}.mp4", m.id);
    m.title = "Ünïcödé 🎬 ".repeat(50);
    let mut event = event_for(&m);
    event.key = m.original_key.clone();
    assert_eq!(
        repo.create_media_with_event(&m, &event, 3).await.unwrap(),
        Recorded::Created
    );
    let got = repo.get_media(&m.id).await.unwrap().unwrap();
    assert_eq!(got.title, m.title);
    assert_eq!(got.original_key, m.original_key);
    let events = repo.events_for_media(&m.id).await.unwrap();
    assert_eq!(events[0].key, event.key);
    // The same object version again is a no-op naming the item it made.
    let mut again = media(&u.id, MediaId::new(), MediaKind::Video, MediaStatus::Queued);
    again.original_key = m.original_key.clone();
    let repeat = ObjectEvent {
        id: new_id(),
        media_id: Some(again.id.clone()),
        ..event.clone()
    };
    assert_eq!(
        repo.create_media_with_event(&again, &repeat, 3)
            .await
            .unwrap(),
        Recorded::Duplicate {
            media_id: Some(m.id.clone())
        }
    );
    // Another version (etag) of the same key is a new object.
    let mut other = media(&u.id, MediaId::new(), MediaKind::Video, MediaStatus::Queued);
    other.original_key = m.original_key.clone();
    let newer = ObjectEvent {
        id: new_id(),
        media_id: Some(other.id.clone()),
        etag: "another-etag".into(),
        ..event
    };
    assert_eq!(
        repo.create_media_with_event(&other, &newer, 3)
            .await
            .unwrap(),
        Recorded::Created
    );
}

#[tokio::test]
async fn unreachable_mysql_is_unavailable_without_password() {
    for scheme in ["mysql", "mariadb"] {
        // Port 1 on loopback refuses connections.
        let err = connect(&format!("{scheme}://someone:s3cr%40t@127.0.0.1:1/db"))
            .await
            .unwrap_err();
        assert!(matches!(err, DbError::Unavailable { .. }), "{err:?}");
        let mut cause: Option<&dyn std::error::Error> = Some(&err);
        while let Some(e) = cause {
            assert!(!e.to_string().contains("s3cr"), "{e}");
            cause = e.source();
        }
    }
}

/// A title search finds the title it was typed from, whatever letters it has: ASCII letters in
/// either case, and other letters as written (MySQL's `lower()` folds `É` to `é`, which the
/// other backends' does not; the search text must be folded the same way).
async fn a_title_is_found_by_its_own_letters(repo: &DynRepo) {
    let u = user(repo, "titles@example.com").await;
    let mut m = media(&u.id, MediaId::new(), MediaKind::Video, MediaStatus::Queued);
    m.title = "École d'Été — Über".into();
    let event = event_for(&m);
    repo.create_media_with_event(&m, &event, 3).await.unwrap();
    for text in ["École d'Été — Über", "ÉCOLE", "Über", "D'Été"] {
        let found = repo
            .list_media(&MediaFilter {
                title_contains: Some(text.into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(found.len(), 1, "{text:?}");
    }
}
