//! Users, refresh tokens and API keys, against both backends.

use super::*;

both_backends!(
    migrate_twice_is_idempotent,
    first_user_is_admin_second_is_not,
    concurrent_first_registrations_make_one_admin,
    duplicate_email_differing_in_case_conflicts,
    unknown_users_are_none,
    refresh_rotation_and_reuse_detection,
    refresh_expired_or_unknown_is_invalid,
    refresh_revoke,
    sessions_are_live_while_one_of_their_tokens_is,
    concurrent_rotation_of_one_token,
    api_key_lookup_by_hash,
    api_keys_list_revoke_and_expire,
    password_change_ends_other_sessions,
);

async fn migrate_twice_is_idempotent(repo: &DynRepo) {
    repo.migrate().await.unwrap();
    repo.migrate().await.unwrap();
    repo.ping().await.unwrap();
}

async fn first_user_is_admin_second_is_not(repo: &DynRepo) {
    assert!(repo.first_admin().await.unwrap().is_none());
    let a = user(repo, "a@example.com").await;
    let b = user(repo, "b@example.com").await;
    assert_eq!(a.role, Role::Admin);
    assert_eq!(b.role, Role::User);
    let c = repo
        .create_user(NewUser {
            email: "c@example.com".into(),
            password_hash: "x".into(),
            role: Some(Role::Admin),
        })
        .await
        .unwrap();
    assert_eq!(c.role, Role::Admin);
    assert_eq!(repo.first_admin().await.unwrap(), Some(a.clone()));
    assert_eq!(repo.user_by_id(&a.id).await.unwrap(), Some(a));
    assert_eq!(repo.user_by_id(&b.id).await.unwrap(), Some(b));
}

async fn concurrent_first_registrations_make_one_admin(repo: &DynRepo) {
    // Warm the pool and line the racers up, so the registrations really overlap.
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(8));
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (repo, barrier) = (repo.clone(), barrier.clone());
            tokio::spawn(async move {
                repo.ping().await.unwrap();
                barrier.wait().await;
                user(&repo, &format!("racer{i}@example.com")).await
            })
        })
        .collect();
    let mut admins = 0;
    for t in tasks {
        let u = t.await.unwrap();
        let stored = repo.user_by_id(&u.id).await.unwrap().unwrap();
        assert_eq!(stored.role, u.role);
        admins += usize::from(u.role == Role::Admin);
    }
    assert_eq!(admins, 1);
}

async fn duplicate_email_differing_in_case_conflicts(repo: &DynRepo) {
    let a = user(repo, "Alice@Example.com").await;
    assert_eq!(a.email, "alice@example.com");
    let err = repo
        .create_user(NewUser {
            email: "alice@EXAMPLE.COM".into(),
            password_hash: "x".into(),
            role: None,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DbError::Conflict { subject, .. } if *subject == "email"),
        "{err:?}"
    );
    let found = repo.user_by_email("ALICE@example.COM").await.unwrap();
    assert_eq!(found, Some(a));
}

async fn unknown_users_are_none(repo: &DynRepo) {
    assert_eq!(repo.user_by_id(&UserId::new()).await.unwrap(), None);
    assert_eq!(
        repo.user_by_email("nobody@example.com").await.unwrap(),
        None
    );
    assert_eq!(repo.get_media(&MediaId::new()).await.unwrap(), None);
}

async fn refresh_rotation_and_reuse_detection(repo: &DynRepo) {
    let u = user(repo, "r@example.com").await;
    let hour = Duration::hours(1);
    let t1 = token(&u.id, "t1", hour);
    repo.insert_refresh_token(&t1).await.unwrap();
    // new.user_id and new.session_id are ignored: a bogus user must neither be stored nor break
    // the foreign key, and the new token stays in the old one's session.
    let t2 = token(&UserId::new(), "t2", hour);
    let rotated = repo.rotate_refresh_token("t1", &t2, now()).await.unwrap();
    assert_eq!(
        rotated,
        RefreshOutcome::Rotated {
            user_id: u.id.clone(),
            session_id: t1.session_id.clone(),
        }
    );
    assert!(repo
        .session_is_live(&t1.session_id, &u.id, now())
        .await
        .unwrap());
    assert!(!repo
        .session_is_live(&t2.session_id, &u.id, now())
        .await
        .unwrap());

    // Presenting t1 again is reuse: everything of the user is revoked, including t2.
    let t3 = token(&u.id, "t3", hour);
    let reused = repo.rotate_refresh_token("t1", &t3, now()).await.unwrap();
    assert_eq!(
        reused,
        RefreshOutcome::Reused {
            user_id: u.id.clone()
        }
    );
    let t4 = token(&u.id, "t4", hour);
    let again = repo.rotate_refresh_token("t2", &t4, now()).await.unwrap();
    assert_eq!(
        again,
        RefreshOutcome::Reused {
            user_id: u.id.clone()
        }
    );
    // t3 was never stored.
    let t5 = token(&u.id, "t5", hour);
    let unknown = repo.rotate_refresh_token("t3", &t5, now()).await.unwrap();
    assert_eq!(unknown, RefreshOutcome::Invalid);
}

async fn refresh_expired_or_unknown_is_invalid(repo: &DynRepo) {
    let u = user(repo, "e@example.com").await;
    repo.insert_refresh_token(&token(&u.id, "old", -Duration::seconds(1)))
        .await
        .unwrap();
    let new = token(&u.id, "new", Duration::hours(1));
    let out = repo.rotate_refresh_token("old", &new, now()).await.unwrap();
    assert_eq!(out, RefreshOutcome::Invalid);
    // The replacement was not stored.
    let newer = token(&u.id, "newer", Duration::hours(1));
    let out = repo
        .rotate_refresh_token("new", &newer, now())
        .await
        .unwrap();
    assert_eq!(out, RefreshOutcome::Invalid);
    // Expiring exactly now is expired.
    let t = token(&u.id, "edge", Duration::hours(1));
    repo.insert_refresh_token(&t).await.unwrap();
    let out = repo
        .rotate_refresh_token("edge", &token(&u.id, "x", Duration::hours(1)), t.expires_at)
        .await
        .unwrap();
    assert_eq!(out, RefreshOutcome::Invalid);
    let out = repo
        .rotate_refresh_token("nope", &token(&u.id, "y", Duration::hours(1)), now())
        .await
        .unwrap();
    assert_eq!(out, RefreshOutcome::Invalid);
}

async fn refresh_revoke(repo: &DynRepo) {
    let u = user(repo, "v@example.com").await;
    let hour = Duration::hours(1);
    repo.insert_refresh_token(&token(&u.id, "a", hour))
        .await
        .unwrap();
    assert!(repo.revoke_session("a").await.unwrap());
    assert!(!repo.revoke_session("a").await.unwrap());
    assert!(!repo.revoke_session("unknown").await.unwrap());
    // A revoked token presented for rotation counts as reuse.
    let out = repo
        .rotate_refresh_token("a", &token(&u.id, "a2", hour), now())
        .await
        .unwrap();
    assert_eq!(
        out,
        RefreshOutcome::Reused {
            user_id: u.id.clone()
        }
    );

    for h in ["b", "c"] {
        repo.insert_refresh_token(&token(&u.id, h, hour))
            .await
            .unwrap();
    }
    assert_eq!(repo.revoke_user_refresh_tokens(&u.id).await.unwrap(), 2);
    assert_eq!(repo.revoke_user_refresh_tokens(&u.id).await.unwrap(), 0);
    let err = repo
        .insert_refresh_token(&token(&u.id, "b", hour))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DbError::Conflict { subject, .. } if *subject == "refresh token"),
        "{err:?}"
    );
}

async fn sessions_are_live_while_one_of_their_tokens_is(repo: &DynRepo) {
    let u = user(repo, "s@example.com").await;
    let other = user(repo, "s2@example.com").await;
    let hour = Duration::hours(1);
    let live = |session: SessionId, user: UserId| {
        let repo = repo.clone();
        async move { repo.session_is_live(&session, &user, now()).await.unwrap() }
    };
    let a = token(&u.id, "a", hour);
    let b = token(&u.id, "b", hour);
    repo.insert_refresh_token(&a).await.unwrap();
    repo.insert_refresh_token(&b).await.unwrap();
    assert!(live(a.session_id.clone(), u.id.clone()).await);
    // A session is its user's: another user naming it gets nothing, nor does an unknown one.
    assert!(!live(a.session_id.clone(), other.id.clone()).await);
    assert!(!live(SessionId::new(), u.id.clone()).await);

    // Rotation keeps the session; logging out of it (revoking its token) ends it, and only it.
    let RefreshOutcome::Rotated { session_id, .. } = repo
        .rotate_refresh_token("a", &token(&u.id, "a2", hour), now())
        .await
        .unwrap()
    else {
        panic!("not rotated")
    };
    assert_eq!(session_id, a.session_id);
    assert!(live(a.session_id.clone(), u.id.clone()).await);
    assert!(repo.revoke_session("a2").await.unwrap());
    assert!(!live(a.session_id.clone(), u.id.clone()).await);
    assert!(live(b.session_id.clone(), u.id.clone()).await);
    // Logging out with a token the session has already rotated away from ends it too.
    let RefreshOutcome::Rotated { .. } = repo
        .rotate_refresh_token("b", &token(&u.id, "b2", hour), now())
        .await
        .unwrap()
    else {
        panic!("not rotated")
    };
    assert!(repo.revoke_session("b").await.unwrap());
    assert!(!live(b.session_id.clone(), u.id.clone()).await);
    let c = token(&u.id, "c", hour);
    repo.insert_refresh_token(&c).await.unwrap();
    assert!(live(c.session_id.clone(), u.id.clone()).await);

    // Reuse of a spent token ends every session of the user.
    let out = repo
        .rotate_refresh_token("a", &token(&u.id, "a3", hour), now())
        .await
        .unwrap();
    assert!(matches!(out, RefreshOutcome::Reused { .. }), "{out:?}");
    assert!(!live(c.session_id.clone(), u.id.clone()).await);

    // An expired session is over even if never revoked.
    let old = token(&u.id, "old", -Duration::seconds(1));
    repo.insert_refresh_token(&old).await.unwrap();
    assert!(!live(old.session_id.clone(), u.id.clone()).await);
}

async fn concurrent_rotation_of_one_token(repo: &DynRepo) {
    let u = user(repo, "cr@example.com").await;
    let hour = Duration::hours(1);
    repo.insert_refresh_token(&token(&u.id, "shared", hour))
        .await
        .unwrap();
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(8));
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (repo, barrier, uid) = (repo.clone(), barrier.clone(), u.id.clone());
            tokio::spawn(async move {
                repo.ping().await.unwrap();
                barrier.wait().await;
                let new = token(&uid, &format!("next{i}"), hour);
                repo.rotate_refresh_token("shared", &new, now())
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap());
    }
    let rotated = outcomes
        .iter()
        .filter(|o| matches!(o, RefreshOutcome::Rotated { .. }))
        .count();
    let reused = outcomes
        .iter()
        .filter(|o| {
            **o == RefreshOutcome::Reused {
                user_id: u.id.clone(),
            }
        })
        .count();
    assert_eq!((rotated, reused), (1, 7), "{outcomes:?}");
    // The winner's new token went down with the reuse.
    assert_eq!(repo.revoke_user_refresh_tokens(&u.id).await.unwrap(), 0);
}

fn api_key(user: &UserId, hash: &str, scopes: Scopes) -> ApiKey {
    ApiKey {
        id: new_id(),
        user_id: user.clone(),
        name: format!("key {hash}"),
        prefix: "msk_abcd".into(),
        key_hash: hash.into(),
        created_at: now(),
        expires_at: None,
        scopes,
        last_used_at: None,
        revoked_at: None,
    }
}

async fn api_key_lookup_by_hash(repo: &DynRepo) {
    let u = user(repo, "k@example.com").await;
    let key = api_key(&u.id, "keyhash", Scopes::all());
    repo.insert_api_key(&key).await.unwrap();
    let (owner, found) = repo
        .api_key_by_hash("keyhash", now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(owner, u);
    assert_eq!(found.scopes, Scopes::all());
    assert_eq!(found.expires_at, None);
    // The first use is recorded.
    let used = found.last_used_at.map(|_| ());
    let (_, again) = repo
        .api_key_by_hash("keyhash", now())
        .await
        .unwrap()
        .unwrap();
    assert!(again.last_used_at.is_some(), "{again:?} (before: {used:?})");
    assert_eq!(repo.api_key_by_hash("other", now()).await.unwrap(), None);
    let dup = ApiKey {
        id: new_id(),
        ..key
    };
    let err = repo.insert_api_key(&dup).await.unwrap_err();
    assert!(
        matches!(&err, DbError::Conflict { subject, .. } if *subject == "api key"),
        "{err:?}"
    );
}

async fn api_keys_list_revoke_and_expire(repo: &DynRepo) {
    let u = user(repo, "l@example.com").await;
    let other = user(repo, "l2@example.com").await;
    let read_only: Scopes = [Scope::Read].into_iter().collect();
    let mut a = api_key(&u.id, "a", read_only.clone());
    a.created_at = now() - Duration::seconds(10);
    let mut b = api_key(&u.id, "b", Scopes::all());
    b.expires_at = Some(now() - Duration::seconds(1));
    let c = api_key(&other.id, "c", Scopes::all());
    for k in [&a, &b, &c] {
        repo.insert_api_key(k).await.unwrap();
    }
    // Newest first, only the user's own; the expired key is listed (so it can be revoked).
    let listed = repo.list_api_keys(&u.id).await.unwrap();
    assert_eq!(listed, vec![b.clone(), a.clone()]);
    assert_eq!(listed[1].scopes, read_only);

    // An expired key is still found (the API says it expired) but its use is not recorded.
    let (_, expired) = repo.api_key_by_hash("b", now()).await.unwrap().unwrap();
    assert!(expired.expired_at(now()));
    assert_eq!(expired.last_used_at, None);

    // Another user cannot revoke a key; the owner can, once.
    assert!(!repo.revoke_api_key(&other.id, &a.id, now()).await.unwrap());
    assert!(repo.api_key_by_hash("a", now()).await.unwrap().is_some());
    assert!(repo.revoke_api_key(&u.id, &a.id, now()).await.unwrap());
    assert!(!repo.revoke_api_key(&u.id, &a.id, now()).await.unwrap());
    assert!(!repo.revoke_api_key(&u.id, "unknown", now()).await.unwrap());
    assert_eq!(repo.api_key_by_hash("a", now()).await.unwrap(), None);
    assert_eq!(repo.list_api_keys(&u.id).await.unwrap(), vec![b]);
    assert_eq!(repo.list_api_keys(&other.id).await.unwrap(), vec![c]);
}

async fn password_change_ends_other_sessions(repo: &DynRepo) {
    let u = user(repo, "p@example.com").await;
    let other = user(repo, "p2@example.com").await;
    let hour = Duration::hours(1);
    let (mine, elsewhere, theirs) = (
        token(&u.id, "mine", hour),
        token(&u.id, "elsewhere", hour),
        token(&other.id, "theirs", hour),
    );
    for t in [&mine, &elsewhere, &theirs] {
        repo.insert_refresh_token(t).await.unwrap();
    }
    repo.insert_api_key(&api_key(&u.id, "pk", Scopes::all()))
        .await
        .unwrap();
    let live = |t: &RefreshToken| {
        let (repo, t) = (repo.clone(), t.clone());
        async move {
            repo.session_is_live(&t.session_id, &t.user_id, now())
                .await
                .unwrap()
        }
    };
    assert!(repo
        .change_password(&u.id, "$argon2id$new", Some(&mine.session_id))
        .await
        .unwrap());
    assert_eq!(
        repo.user_by_id(&u.id).await.unwrap().unwrap().password_hash,
        "$argon2id$new"
    );
    assert!(live(&mine).await);
    assert!(!live(&elsewhere).await);
    assert!(live(&theirs).await);
    // The other device presenting its token is not taken for a theft that would end this
    // session too: the token is simply invalid.
    let out = repo
        .rotate_refresh_token("elsewhere", &token(&u.id, "e2", hour), now())
        .await
        .unwrap();
    assert_eq!(out, RefreshOutcome::Invalid);
    assert!(live(&mine).await);
    // API keys are untouched.
    assert!(repo.api_key_by_hash("pk", now()).await.unwrap().is_some());

    // Without a session to keep, every session ends.
    assert!(repo
        .change_password(&u.id, "$argon2id$newer", None)
        .await
        .unwrap());
    assert!(!live(&mine).await);
    assert!(live(&theirs).await);
    assert!(!repo
        .change_password(&UserId::new(), "x", None)
        .await
        .unwrap());
}
