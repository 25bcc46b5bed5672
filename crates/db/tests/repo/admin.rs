//! User administration, storage used per user, invitations and the jobs view, against both
//! backends.

use super::*;
use mediaserver_core::{JobStatus, Upload, UploadProtocol, UploadStatus};
use mediaserver_db::admin::{AdminOutcome, InvitationOutcome, NewInvitation, UserChange};
use mediaserver_db::MediaReady;

both_backends!(
    storage_usage_counts_originals_and_unfinished_uploads,
    disabling_ends_sessions_and_api_keys_until_enabled,
    the_last_enabled_admin_stays,
    deleting_a_user_needs_their_data_gone_first,
    an_invitation_registers_one_account,
    users_are_listed_newest_first_in_pages,
    jobs_are_listed_failed_first,
);

fn pending_upload(owner: &UserId, length: i64) -> Upload {
    let id = UploadId::new();
    let now = now();
    Upload {
        key: format!("originals/{id}/clip.mp4"),
        id,
        owner_id: owner.clone(),
        protocol: UploadProtocol::Direct,
        filename: "clip.mp4".into(),
        title: None,
        length,
        offset: 0,
        state: "{}".into(),
        metadata: None,
        status: UploadStatus::Active,
        expires_at: now + Duration::hours(1),
        created_at: now,
        updated_at: now,
    }
}

async fn storage_usage_counts_originals_and_unfinished_uploads(repo: &DynRepo) {
    let a = user(repo, "a@example.com").await;
    let b = user(repo, "b@example.com").await;
    assert_eq!(repo.storage_usage(&a.id).await.unwrap().counted(), 0);
    let m1 = media(&a.id, MediaId::new(), MediaKind::Video, MediaStatus::Queued);
    let m2 = media(&a.id, MediaId::new(), MediaKind::Video, MediaStatus::Queued);
    add_media(repo, &m1).await;
    add_media(repo, &m2).await;
    add_media(
        repo,
        &media(&b.id, MediaId::new(), MediaKind::Video, MediaStatus::Queued),
    )
    .await;
    repo.create_upload(&pending_upload(&a.id, 5000))
        .await
        .unwrap();
    let done = pending_upload(&a.id, 7000);
    repo.create_upload(&done).await.unwrap();
    // A completed upload's bytes are its item's original: counted once, as the item.
    repo.complete_upload(&done.id, 7000).await.unwrap();
    repo.mark_media_ready(
        &m1.id,
        &MediaReady {
            duration_seconds: None,
            width: None,
            height: None,
            playable: true,
            outputs: MediaOutputs {
                bytes: 900,
                ..Default::default()
            },
        },
    )
    .await
    .unwrap();

    let usage = repo.storage_usage(&a.id).await.unwrap();
    assert_eq!(usage.originals_bytes, 2 * 1234);
    assert_eq!(usage.pending_bytes, 5000);
    assert_eq!(usage.outputs_bytes, 900);
    assert_eq!(usage.counted(), 2 * 1234 + 5000);
    let summary = repo.user_summary(&a.id).await.unwrap().unwrap();
    assert_eq!(summary.media_count, 2);
    assert_eq!(summary.usage, usage);
    assert_eq!(repo.storage_usage(&b.id).await.unwrap().counted(), 1234);
    // An unknown user has nothing.
    assert_eq!(
        repo.storage_usage(&UserId::new()).await.unwrap().counted(),
        0
    );
    assert!(repo.user_summary(&UserId::new()).await.unwrap().is_none());
}

async fn disabling_ends_sessions_and_api_keys_until_enabled(repo: &DynRepo) {
    let _admin = user(repo, "admin@example.com").await;
    let u = user(repo, "u@example.com").await;
    let t = token(&u.id, "h1", Duration::hours(1));
    repo.insert_refresh_token(&t).await.unwrap();
    repo.insert_api_key(&ApiKey {
        id: new_id(),
        user_id: u.id.clone(),
        name: "k".into(),
        prefix: "msk_x".into(),
        key_hash: "kh".into(),
        created_at: now(),
        expires_at: None,
        scopes: mediaserver_core::Scopes::all(),
        last_used_at: None,
        revoked_at: None,
    })
    .await
    .unwrap();
    assert!(repo
        .session_is_live(&t.session_id, &u.id, now())
        .await
        .unwrap());
    assert!(repo.api_key_by_hash("kh", now()).await.unwrap().is_some());
    assert_eq!(repo.user_disabled(&u.id).await.unwrap(), Some(false));

    let disable = UserChange {
        disabled: Some(true),
        role: None,
    };
    let AdminOutcome::Done(s) = repo.change_user(&u.id, &disable).await.unwrap() else {
        panic!("not disabled")
    };
    assert!(s.disabled_at.is_some());
    assert_eq!(repo.user_disabled(&u.id).await.unwrap(), Some(true));
    assert!(!repo
        .session_is_live(&t.session_id, &u.id, now())
        .await
        .unwrap());
    assert!(repo.api_key_by_hash("kh", now()).await.unwrap().is_none());
    // Its refresh token was revoked: presenting it is reuse, never a rotation.
    let outcome = repo
        .rotate_refresh_token("h1", &token(&u.id, "h2", Duration::hours(1)), now())
        .await
        .unwrap();
    assert!(
        !matches!(outcome, RefreshOutcome::Rotated { .. }),
        "{outcome:?}"
    );
    // A session stored after the disable (a login racing it) is not live either.
    let late = token(&u.id, "h3", Duration::hours(1));
    repo.insert_refresh_token(&late).await.unwrap();
    assert!(!repo
        .session_is_live(&late.session_id, &u.id, now())
        .await
        .unwrap());

    let enable = UserChange {
        disabled: Some(false),
        role: None,
    };
    let AdminOutcome::Done(s) = repo.change_user(&u.id, &enable).await.unwrap() else {
        panic!("not enabled")
    };
    assert!(s.disabled_at.is_none());
    assert!(repo.api_key_by_hash("kh", now()).await.unwrap().is_some());
    assert!(repo
        .session_is_live(&late.session_id, &u.id, now())
        .await
        .unwrap());
    assert_eq!(
        repo.change_user(&UserId::new(), &disable).await.unwrap(),
        AdminOutcome::NotFound
    );
    assert_eq!(repo.user_disabled(&UserId::new()).await.unwrap(), None);
}

async fn the_last_enabled_admin_stays(repo: &DynRepo) {
    let a = user(repo, "a@example.com").await;
    let b = user(repo, "b@example.com").await;
    assert_eq!(a.role, Role::Admin);
    let disable = UserChange {
        disabled: Some(true),
        role: None,
    };
    let demote = UserChange {
        disabled: None,
        role: Some(Role::User),
    };
    for change in [&disable, &demote] {
        assert_eq!(
            repo.change_user(&a.id, change).await.unwrap(),
            AdminOutcome::LastAdmin
        );
    }
    assert_eq!(
        repo.delete_user(&a.id).await.unwrap(),
        AdminOutcome::LastAdmin
    );
    // Nothing changed.
    let s = repo.user_summary(&a.id).await.unwrap().unwrap();
    assert_eq!((s.role, s.disabled_at), (Role::Admin, None));

    // With a second admin, the first may go; then the second is the last. A new role ends
    // the user's sessions (access tokens carry the role).
    let t = token(&b.id, "hb", Duration::hours(1));
    repo.insert_refresh_token(&t).await.unwrap();
    let promote = UserChange {
        disabled: None,
        role: Some(Role::Admin),
    };
    assert!(matches!(
        repo.change_user(&b.id, &promote).await.unwrap(),
        AdminOutcome::Done(_)
    ));
    assert!(!repo
        .session_is_live(&t.session_id, &b.id, now())
        .await
        .unwrap());
    // Changing nothing ends nothing.
    let t = token(&b.id, "hb2", Duration::hours(1));
    repo.insert_refresh_token(&t).await.unwrap();
    assert!(matches!(
        repo.change_user(&b.id, &promote).await.unwrap(),
        AdminOutcome::Done(_)
    ));
    assert!(repo
        .session_is_live(&t.session_id, &b.id, now())
        .await
        .unwrap());
    assert!(matches!(
        repo.change_user(&a.id, &disable).await.unwrap(),
        AdminOutcome::Done(_)
    ));
    // A disabled admin does not count.
    assert_eq!(
        repo.change_user(&b.id, &demote).await.unwrap(),
        AdminOutcome::LastAdmin
    );
    assert_eq!(
        repo.delete_user(&a.id).await.unwrap(),
        AdminOutcome::Done(())
    );
}

async fn deleting_a_user_needs_their_data_gone_first(repo: &DynRepo) {
    let _admin = user(repo, "admin@example.com").await;
    let u = user(repo, "u@example.com").await;
    repo.insert_refresh_token(&token(&u.id, "h1", Duration::hours(1)))
        .await
        .unwrap();
    let m = media(&u.id, MediaId::new(), MediaKind::Video, MediaStatus::Queued);
    add_media(repo, &m).await;
    let up = pending_upload(&u.id, 10);
    repo.create_upload(&up).await.unwrap();
    assert_eq!(
        repo.delete_user(&u.id).await.unwrap(),
        AdminOutcome::StillOwnsData
    );
    assert_eq!(
        repo.uploads_of_user(&u.id, 10).await.unwrap(),
        vec![up.clone()]
    );
    repo.delete_media(&m.id).await.unwrap();
    assert_eq!(
        repo.delete_user(&u.id).await.unwrap(),
        AdminOutcome::StillOwnsData
    );
    repo.delete_upload(&up.id).await.unwrap();
    assert_eq!(
        repo.delete_user(&u.id).await.unwrap(),
        AdminOutcome::Done(())
    );
    assert!(repo.user_by_id(&u.id).await.unwrap().is_none());
    assert_eq!(
        repo.delete_user(&u.id).await.unwrap(),
        AdminOutcome::NotFound
    );
}

async fn an_invitation_registers_one_account(repo: &DynRepo) {
    let admin = user(repo, "admin@example.com").await;
    let invite =
        |hash: &str, email: Option<&str>, role: Role, expires_in: Duration| NewInvitation {
            id: new_id(),
            token_hash: hash.into(),
            email: email.map(str::to_string),
            role,
            created_by: admin.id.clone(),
            created_at: now(),
            expires_at: now() + expires_in,
        };
    let new_user = |email: &str| NewUser {
        email: email.into(),
        password_hash: "$argon2id$fake".into(),
        role: None,
    };
    repo.create_invitation(&invite("open", None, Role::User, Duration::hours(1)))
        .await
        .unwrap();
    repo.create_invitation(&invite(
        "named",
        Some("Named@Example.com"),
        Role::Admin,
        Duration::hours(1),
    ))
    .await
    .unwrap();
    repo.create_invitation(&invite("old", None, Role::User, Duration::seconds(-1)))
        .await
        .unwrap();

    let InvitationOutcome::Registered(first) = repo
        .register_with_invitation("open", new_user("One@Example.com"), now())
        .await
        .unwrap()
    else {
        panic!("not registered")
    };
    assert_eq!(
        (first.email.as_str(), first.role),
        ("one@example.com", Role::User)
    );
    assert_eq!(
        repo.user_by_email("one@example.com").await.unwrap(),
        Some(first)
    );
    assert_eq!(
        repo.register_with_invitation("open", new_user("two@example.com"), now())
            .await
            .unwrap(),
        InvitationOutcome::Used
    );
    assert_eq!(
        repo.register_with_invitation("old", new_user("two@example.com"), now())
            .await
            .unwrap(),
        InvitationOutcome::Expired
    );
    assert_eq!(
        repo.register_with_invitation("nope", new_user("two@example.com"), now())
            .await
            .unwrap(),
        InvitationOutcome::Unknown
    );
    assert_eq!(
        repo.register_with_invitation("named", new_user("two@example.com"), now())
            .await
            .unwrap(),
        InvitationOutcome::WrongEmail("named@example.com".into())
    );
    // A duplicate email is a conflict and leaves the invitation unused.
    repo.create_invitation(&invite("spare", None, Role::User, Duration::hours(1)))
        .await
        .unwrap();
    let err = repo
        .register_with_invitation("spare", new_user("one@example.com"), now())
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::Conflict { .. }), "{err:?}");
    assert!(matches!(
        repo.register_with_invitation("spare", new_user("three@example.com"), now())
            .await
            .unwrap(),
        InvitationOutcome::Registered(_)
    ));
    let InvitationOutcome::Registered(named) = repo
        .register_with_invitation("named", new_user("named@example.com"), now())
        .await
        .unwrap()
    else {
        panic!("not registered")
    };
    assert_eq!(named.role, Role::Admin);
    assert!(repo
        .user_by_email("two@example.com")
        .await
        .unwrap()
        .is_none());
}

async fn users_are_listed_newest_first_in_pages(repo: &DynRepo) {
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(user(repo, &format!("u{i}@example.com")).await.id);
    }
    let admin = ids[0].clone();
    let disable = UserChange {
        disabled: Some(true),
        role: None,
    };
    assert!(matches!(
        repo.change_user(&ids[2], &disable).await.unwrap(),
        AdminOutcome::Done(_)
    ));
    let page = repo.list_users(None, 3).await.unwrap();
    let got: Vec<&UserId> = page.iter().map(|u| &u.id).collect();
    assert_eq!(got, vec![&ids[4], &ids[3], &ids[2]]);
    assert!(page[2].disabled_at.is_some() && page[0].disabled_at.is_none());
    let rest = repo.list_users(Some(&ids[2]), 3).await.unwrap();
    let got: Vec<&UserId> = rest.iter().map(|u| &u.id).collect();
    assert_eq!(got, vec![&ids[1], &admin]);
    assert_eq!(rest[1].role, Role::Admin);
}

async fn jobs_are_listed_failed_first(repo: &DynRepo) {
    let u = user(repo, "u@example.com").await;
    let mut ids = Vec::new();
    for _ in 0..4 {
        let m = media(&u.id, MediaId::new(), MediaKind::Video, MediaStatus::Queued);
        add_media(repo, &m).await;
        ids.push(m.id);
    }
    let lease = std::time::Duration::from_secs(600);
    let done = repo.claim_job("w", lease, now()).await.unwrap().unwrap();
    repo.complete_job(&done.id, "w").await.unwrap();
    let failed = repo.claim_job("w", lease, now()).await.unwrap().unwrap();
    repo.fail_job(&failed.id, "w", "the file is damaged", None)
        .await
        .unwrap();
    repo.claim_job("w", lease, now()).await.unwrap().unwrap();

    let jobs = repo.list_jobs(None, 10).await.unwrap();
    let got: Vec<(JobStatus, &MediaId)> = jobs.iter().map(|j| (j.status, &j.media_id)).collect();
    assert_eq!(
        got,
        vec![
            (JobStatus::Failed, &ids[1]),
            (JobStatus::Running, &ids[2]),
            (JobStatus::Queued, &ids[3]),
            (JobStatus::Done, &ids[0]),
        ]
    );
    assert_eq!(jobs[0].last_error.as_deref(), Some("the file is damaged"));
    assert_eq!(jobs[0].owner_email, "u@example.com");
    assert_eq!(jobs[0].title, "clip");
    assert_eq!(jobs[0].attempts, 1);
    let only = repo.list_jobs(Some(JobStatus::Queued), 10).await.unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].media_id, ids[3]);
    assert_eq!(repo.list_jobs(None, 2).await.unwrap().len(), 2);
    // A retried item shows its new job, not the failed one before it.
    assert!(repo.retry_failed_media(&ids[1], 3).await.unwrap());
    let jobs = repo.list_jobs(None, 10).await.unwrap();
    assert_eq!(jobs.len(), 4);
    assert_eq!(jobs[0].status, JobStatus::Running);
    let retried: Vec<_> = jobs.iter().filter(|j| j.media_id == ids[1]).collect();
    assert_eq!(retried.len(), 1);
    assert_eq!(
        (retried[0].status, retried[0].attempts),
        (JobStatus::Queued, 0)
    );
    assert!(repo
        .list_jobs(Some(JobStatus::Failed), 10)
        .await
        .unwrap()
        .is_empty());
}
