//! A short-lived in-process cache for the playback path, so that serving a playlist to many
//! players costs neither a database round trip nor a file read per request.
//!
//! What is cached, and how stale it can be:
//! - Item rows, only of `ready` items, for at most [`ITEM_TTL`]. Items still processing change
//!   every second (progress, `playable`, a growing EVENT playlist) and are always read from the
//!   database. This server drops an item the moment it changes it itself (`PATCH`, `DELETE`
//!   through [`PlaybackCache::invalidate`]), so a delete or a switch to `private` is seen by the
//!   very next request. A change made elsewhere — another replica, `mediaserver worker` on
//!   another machine — is seen within [`ITEM_TTL`].
//! - Bodies of small files (≤ [`MAX_BODY`]: playlists, manifests, thumbnails) of `ready` items,
//!   tagged with the row's `updated_at`: a body is only used with a row that carries the same
//!   stamp, so it can never outlive the row it was read for (every change to an item bumps
//!   `updated_at`), and that row is at most the TTL old.
//! - Playback tokens whose signature was checked, until they expire. What a token grants is
//!   decided against the item's row at every request ([`PlaybackGrant::admits`]), so a token
//!   revoked by a switch to private stops working on the next request here and within
//!   [`ITEM_TTL`] on another replica.
//!
//! quick_cache (sharded, weight-bounded) holds both; the TTL is a timestamp in the value.

use crate::credentials::PlaybackGrant;
use axum::http::HeaderValue;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use mediaserver_core::{Media, MediaId, MediaStatus};
use quick_cache::sync::Cache;
use quick_cache::{Equivalent, Weighter};
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a `ready` item's row is trusted before it is read again: the bound on how late this
/// server sees a change made by another process.
pub const ITEM_TTL: Duration = Duration::from_secs(1);
/// Largest file whose body is kept in memory.
pub(super) const MAX_BODY: u64 = 64 * 1024;
/// Rows kept at most (a row is well under 4 KiB).
const MAX_ITEMS: usize = 10_000;
/// Verified playback tokens kept at most (a few hundred bytes each).
const MAX_TOKENS: usize = 10_000;
/// Bytes of bodies kept at most.
const MAX_BODY_BYTES: u64 = 32 * 1024 * 1024;

#[derive(Clone)]
struct CachedItem {
    media: Arc<Media>,
    /// When the row was read (taken before the query, so the age is never underestimated).
    read_at: Instant,
}

/// A small file of an item, as read from storage.
#[derive(Clone)]
pub(super) struct CachedBody {
    pub(super) bytes: Bytes,
    /// Quoted strong ETag, as `objects::serve` would have sent it.
    pub(super) etag: HeaderValue,
    /// `updated_at` of the row the body belongs to.
    stamp: DateTime<Utc>,
}

#[derive(PartialEq, Eq, Hash)]
struct BodyKey {
    id: String,
    path: String,
}

/// Borrowed form of [`BodyKey`] for lookups without allocating; hashes the same way (two
/// strings in order).
#[derive(Hash)]
struct BodyKeyRef<'a> {
    id: &'a str,
    path: &'a str,
}

impl Equivalent<BodyKey> for BodyKeyRef<'_> {
    fn equivalent(&self, key: &BodyKey) -> bool {
        self.id == key.id && self.path == key.path
    }
}

#[derive(Clone)]
struct BodyWeight;

impl Weighter<BodyKey, CachedBody> for BodyWeight {
    fn weight(&self, key: &BodyKey, val: &CachedBody) -> u64 {
        (key.id.len() + key.path.len() + val.bytes.len() + val.etag.len() + 64) as u64
    }
}

/// See the module documentation. Lives in the (already shared) application state.
pub(crate) struct PlaybackCache {
    items: Cache<MediaId, CachedItem>,
    /// Playback tokens already verified: token → (what it grants, expiry in unix seconds).
    tokens: Cache<String, (Arc<PlaybackGrant>, i64)>,
    bodies: Cache<BodyKey, CachedBody, BodyWeight>,
    /// Bumped by every invalidation; a row read while one happened is not kept (it may predate
    /// the change that caused it).
    epoch: AtomicU64,
    ttl: Duration,
}

impl Default for PlaybackCache {
    fn default() -> Self {
        Self::new(ITEM_TTL)
    }
}

impl PlaybackCache {
    fn new(ttl: Duration) -> Self {
        PlaybackCache {
            items: Cache::new(MAX_ITEMS),
            tokens: Cache::new(MAX_TOKENS),
            bodies: Cache::with_weighter(4096, MAX_BODY_BYTES, BodyWeight),
            epoch: AtomicU64::new(0),
            ttl,
        }
    }

    /// The cached row of `id` if it is fresh (only `ready` items are ever cached).
    pub(super) fn fresh_item(&self, id: &MediaId) -> Option<Arc<Media>> {
        let hit = self.items.get(id)?;
        (hit.read_at.elapsed() < self.ttl).then_some(hit.media)
    }

    /// The item `id`: from the cache if a fresh `ready` row is there, else from `load` (the
    /// database), keeping the row if it is `ready`.
    pub(super) async fn item<E, F, Fut>(
        &self,
        id: &MediaId,
        load: F,
    ) -> Result<Option<Arc<Media>>, E>
    where
        // A closure, so that a hit does not even create the query's future.
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Option<Media>, E>>,
    {
        if let Some(media) = self.fresh_item(id) {
            return Ok(Some(media));
        }
        let epoch = self.epoch.load(Ordering::SeqCst);
        let read_at = Instant::now();
        let Some(media) = load().await? else {
            return Ok(None);
        };
        let media = Arc::new(media);
        if media.status == MediaStatus::Ready {
            self.items.insert(
                id.clone(),
                CachedItem {
                    media: media.clone(),
                    read_at,
                },
            );
            // An invalidation between the read and the insert may have missed the entry just
            // put in: take it out again (at worst a fresh row is read once more).
            if self.epoch.load(Ordering::SeqCst) != epoch {
                self.items.remove(id);
            }
        }
        Ok(Some(media))
    }

    /// What a playback token grants. A token's signature is checked once (`verify`, which
    /// returns the grant and the expiry); later requests with the same token only compare its
    /// expiry with the clock, so an expired token is refused exactly as before (by `verify`).
    pub(crate) fn token<E>(
        &self,
        token: &str,
        verify: impl FnOnce() -> Result<(PlaybackGrant, i64), E>,
    ) -> Result<Arc<PlaybackGrant>, E> {
        let now = Utc::now().timestamp();
        if let Some((grant, exp)) = self.tokens.get(token) {
            if now <= exp {
                return Ok(grant);
            }
        }
        let (grant, exp) = verify()?;
        let grant = Arc::new(grant);
        self.tokens.insert(token.to_string(), (grant.clone(), exp));
        Ok(grant)
    }

    /// Forgets `id` after this server changed or deleted it. Call after the change is committed.
    pub(crate) fn invalidate(&self, id: &MediaId) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.items.remove(id);
    }

    /// The cached body of `path` of `media`, if it was read for this very version of the row.
    /// No age limit of its own: the row it is checked against is at most the TTL old, and a
    /// ready item's files change only with its row (reprocessing bumps `updated_at`) or go
    /// with it (delete).
    pub(super) fn body(&self, media: &Media, path: &str) -> Option<CachedBody> {
        let hit = self.bodies.get(&BodyKeyRef {
            id: media.id.as_str(),
            path,
        })?;
        (hit.stamp == media.updated_at).then_some(hit)
    }

    /// Keeps a body read for `media` (only `ready` items and small files; others are ignored).
    pub(super) fn put_body(&self, media: &Media, path: &str, bytes: Bytes, etag: HeaderValue) {
        if media.status != MediaStatus::Ready || bytes.len() as u64 > MAX_BODY {
            return;
        }
        self.bodies.insert(
            BodyKey {
                id: media.id.to_string(),
                path: path.to_string(),
            },
            CachedBody {
                bytes,
                etag,
                stamp: media.updated_at,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mediaserver_core::{MediaKind, NewOriginal, ObjectSource, UserId};

    fn media(status: MediaStatus) -> Media {
        let (mut m, _) = NewOriginal {
            id: MediaId::new(),
            owner_id: UserId::new(),
            kind: MediaKind::Video,
            content_type: "video/mp4".into(),
            filename: "a.mp4".into(),
            title: None,
            size: 1,
            sha256: String::new(),
            bucket: "media".into(),
            key: "originals/x/a.mp4".into(),
            etag: "e".into(),
            source: ObjectSource::Upload,
        }
        .into_records();
        m.status = status;
        m
    }

    async fn load(
        cache: &PlaybackCache,
        m: &Media,
        calls: &std::sync::atomic::AtomicUsize,
    ) -> Option<Arc<Media>> {
        cache
            .item(&m.id, || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok::<_, ()>(Some(m.clone()))
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn keeps_ready_rows_until_invalidated_or_stale() {
        let cache = PlaybackCache::new(Duration::from_millis(200));
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let ready = media(MediaStatus::Ready);
        load(&cache, &ready, &calls).await;
        load(&cache, &ready, &calls).await;
        assert_eq!(calls.load(Ordering::SeqCst), 1, "second read is a hit");
        cache.invalidate(&ready.id);
        load(&cache, &ready, &calls).await;
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "invalidated row is read again"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
        load(&cache, &ready, &calls).await;
        assert_eq!(calls.load(Ordering::SeqCst), 3, "stale row is read again");
    }

    #[tokio::test]
    async fn never_keeps_items_still_processing_or_missing() {
        let cache = PlaybackCache::default();
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let busy = media(MediaStatus::Processing);
        load(&cache, &busy, &calls).await;
        load(&cache, &busy, &calls).await;
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        let missing = cache
            .item(&MediaId::new(), || async { Ok::<_, ()>(None) })
            .await
            .unwrap();
        assert!(missing.is_none());
    }

    #[tokio::test]
    async fn a_row_read_across_an_invalidation_is_not_kept() {
        let cache = PlaybackCache::default();
        let ready = media(MediaStatus::Ready);
        let got = cache
            .item(&ready.id, || async {
                // The change (and its invalidation) lands while this read is in flight.
                cache.invalidate(&ready.id);
                Ok::<_, ()>(Some(ready.clone()))
            })
            .await
            .unwrap();
        assert!(got.is_some());
        let calls = std::sync::atomic::AtomicUsize::new(0);
        load(&cache, &ready, &calls).await;
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "the racing read was not cached"
        );
    }

    #[test]
    fn tokens_are_verified_once_and_refused_once_expired() {
        let cache = PlaybackCache::default();
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let now = Utc::now().timestamp();
        let m1 = media(MediaStatus::Ready);
        let keys = crate::credentials::TokenKeys::new(&[7; 32], Duration::from_secs(60));
        let (token, _) = keys.issue_playback(&m1, Duration::from_secs(60)).unwrap();
        let grant = keys.verify_playback_until(&token).unwrap().0;
        let verify = |exp: i64| {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok::<_, &str>((grant.clone(), exp))
        };
        assert_eq!(*cache.token("t1", || verify(now + 60)).unwrap(), grant);
        assert_eq!(*cache.token("t1", || verify(now + 60)).unwrap(), grant);
        assert_eq!(calls.load(Ordering::SeqCst), 1, "second use is a hit");
        // Cached as valid until a moment already past: verified again, and its verdict stands.
        cache.token("t2", || verify(now - 1)).unwrap();
        let refused = cache.token("t2", || Err::<(PlaybackGrant, i64), _>("expired"));
        assert_eq!(refused.unwrap_err(), "expired");
        assert!(cache
            .token("t3", || Err::<(PlaybackGrant, i64), _>("invalid"))
            .is_err());
    }

    #[test]
    fn bodies_belong_to_one_version_of_the_row() {
        let cache = PlaybackCache::default();
        let mut m = media(MediaStatus::Ready);
        cache.put_body(
            &m,
            "hls/a.m3u8",
            Bytes::from_static(b"x"),
            HeaderValue::from_static("\"e\""),
        );
        assert_eq!(
            cache.body(&m, "hls/a.m3u8").map(|b| b.bytes),
            Some(Bytes::from_static(b"x"))
        );
        assert!(cache.body(&m, "hls/b.m3u8").is_none());
        m.updated_at += chrono::Duration::microseconds(1);
        assert!(cache.body(&m, "hls/a.m3u8").is_none(), "row changed");

        let busy = media(MediaStatus::Processing);
        cache.put_body(
            &busy,
            "hls/a.m3u8",
            Bytes::from_static(b"x"),
            HeaderValue::from_static("\"e\""),
        );
        assert!(cache.body(&busy, "hls/a.m3u8").is_none(), "not ready");
        let big = Bytes::from(vec![0u8; MAX_BODY as usize + 1]);
        cache.put_body(&m, "hls/big.m3u8", big, HeaderValue::from_static("\"e\""));
        assert!(cache.body(&m, "hls/big.m3u8").is_none(), "too big");
    }
}
