//! Pictures on demand, as the HTTP layer sees them: a [`PictureRenderer`] the binary provides
//! (ffmpeg lives there, never here), bounded by [`PictureLimits`] — a few renders at a time, a
//! short queue behind them, 503 with `Retry-After` beyond — and single-flight: identical
//! requests arriving together wait for one render instead of each starting their own. No
//! renderer (an API-only deployment without ffmpeg): every uncached picture is a 503.

use crate::error::ApiError;
use futures::future::BoxFuture;
use mediaserver_core::MediaId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::{OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};

/// The item a picture is made of (a ready video).
#[derive(Debug, Clone)]
pub struct PictureSource {
    pub media_id: MediaId,
    /// Its HLS master, relative to its outputs prefix.
    pub hls_master: String,
    /// Seconds.
    pub duration: f64,
}

/// How a still fills `width` × `height` when both are given (see the route's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    Contain,
    Cover,
    Fill,
    Pad,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PictureFormat {
    Jpeg,
    Webp,
    Png,
    Gif,
}

/// What to render; every value already checked against its bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PictureRequest {
    Still {
        time: f64,
        width: Option<u32>,
        height: Option<u32>,
        fit: Fit,
        /// Jpeg, Webp or Png.
        format: PictureFormat,
    },
    Animated {
        start: f64,
        end: f64,
        width: u32,
        fps: u32,
        /// Webp or Gif.
        format: PictureFormat,
    },
}

/// Why a render failed.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The item has nothing to take a picture of (no video stream).
    #[error("this item has no video to take a picture from")]
    NoPicture,
    /// Storage could not be read now.
    #[error("storage is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("rendering took too long")]
    Timeout,
    #[error("rendering failed")]
    Failed(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Makes pictures (implemented by the binary over ffmpeg).
pub trait PictureRenderer: Send + Sync + 'static {
    /// The encoded picture.
    fn render(
        &self,
        source: PictureSource,
        request: PictureRequest,
    ) -> BoxFuture<'static, Result<Vec<u8>, RenderError>>;
}

/// How many renders run at once and how many may wait for one (`PICTURE_RENDERS`,
/// `PICTURE_QUEUE`).
#[derive(Debug, Clone, Copy)]
pub struct PictureLimits {
    pub renders: usize,
    pub queue: usize,
    /// What a 503 tells the client to wait, in seconds.
    pub retry_after_secs: u64,
}

impl Default for PictureLimits {
    fn default() -> Self {
        PictureLimits {
            renders: 2,
            queue: 8,
            retry_after_secs: 5,
        }
    }
}

struct Engine {
    renderer: Arc<dyn PictureRenderer>,
    permits: Arc<Semaphore>,
    limits: PictureLimits,
    waiting: AtomicUsize,
}

/// The renderer (if any), its limits and the renders in flight.
#[derive(Default)]
pub(crate) struct Pictures {
    engine: RwLock<Option<Arc<Engine>>>,
    /// One lock per picture being made (by its object key): the first request renders, the
    /// others wait and then find it stored.
    flights: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

/// Held while one picture is made; the next request for it waits for this to drop.
pub(crate) struct Flight {
    key: String,
    flights: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
    _guard: OwnedMutexGuard<()>,
}

impl Drop for Flight {
    fn drop(&mut self) {
        let mut map = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        // Forgotten when nobody else waits for it: the map's reference and this flight's (its
        // guard, dropped after this) are the only ones.
        if map
            .get(&self.key)
            .is_some_and(|m| Arc::strong_count(m) <= 2)
        {
            map.remove(&self.key);
        }
    }
}

impl Pictures {
    pub(crate) fn set(&self, renderer: Option<Arc<dyn PictureRenderer>>, limits: PictureLimits) {
        let engine = renderer.filter(|_| limits.renders > 0).map(|renderer| {
            Arc::new(Engine {
                renderer,
                permits: Arc::new(Semaphore::new(limits.renders)),
                limits,
                waiting: AtomicUsize::new(0),
            })
        });
        *self.engine.write().unwrap_or_else(|e| e.into_inner()) = engine;
    }

    /// Whether pictures on demand are rendered here at all.
    pub(crate) fn available(&self) -> bool {
        self.engine
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    /// Requests making a picture or waiting for an identical one being made.
    pub(crate) fn in_flight(&self) -> usize {
        let map = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        map.values().map(|m| Arc::strong_count(m) - 1).sum()
    }

    /// Waits until no other request is making the picture stored at `key`.
    pub(crate) async fn flight(&self, key: &str) -> Flight {
        let lock = {
            let mut map = self.flights.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(key.to_string()).or_default().clone()
        };
        let guard = lock.lock_owned().await;
        Flight {
            key: key.to_string(),
            flights: self.flights.clone(),
            _guard: guard,
        }
    }

    /// Renders within the limits: 503 without a renderer, or when the queue is full.
    pub(crate) async fn render(
        &self,
        source: PictureSource,
        request: PictureRequest,
    ) -> Result<Vec<u8>, ApiError> {
        let engine = self
            .engine
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| ApiError::Unavailable {
                message: "pictures on demand are not available on this server (it has no \
                          ffmpeg); the poster is at thumbnail.jpg without parameters"
                    .into(),
                cause: None,
            })?;
        let _permit = engine.permit().await?;
        engine
            .renderer
            .render(source, request)
            .await
            .map_err(|e| match e {
                RenderError::NoPicture => ApiError::NotFound(e.to_string()),
                RenderError::Unavailable(cause) => {
                    ApiError::unavailable("storage is unavailable; try again", cause)
                }
                RenderError::Timeout => ApiError::Busy {
                    message: "rendering this picture took too long; try again later".into(),
                    retry_after_secs: engine.limits.retry_after_secs,
                },
                RenderError::Failed(cause) => ApiError::internal("rendering a picture", cause),
            })
    }
}

impl Engine {
    async fn permit(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        if let Ok(p) = self.permits.clone().try_acquire_owned() {
            return Ok(p);
        }
        let busy = || ApiError::Busy {
            message: "too many pictures are being rendered; try again shortly".into(),
            retry_after_secs: self.limits.retry_after_secs,
        };
        // Counted before waiting, so that the queue never holds more than its length; the
        // guard uncounts it however the wait ends (a client gone drops this future).
        let _waiting = Waiting(&self.waiting);
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.limits.queue {
            return Err(busy());
        }
        self.permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| busy())
    }
}

struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Answers once let through the gate (or with a timeout when `slow`).
    struct Gate(Arc<Semaphore>, bool);

    impl PictureRenderer for Gate {
        fn render(
            &self,
            _: PictureSource,
            _: PictureRequest,
        ) -> BoxFuture<'static, Result<Vec<u8>, RenderError>> {
            let (gate, slow) = (self.0.clone(), self.1);
            Box::pin(async move {
                let _pass = gate.acquire().await;
                if slow {
                    Err(RenderError::Timeout)
                } else {
                    Ok(b"picture".to_vec())
                }
            })
        }
    }

    fn source() -> PictureSource {
        PictureSource {
            media_id: MediaId::new(),
            hls_master: "stream/master.m3u8".into(),
            duration: 5.0,
        }
    }

    const STILL: PictureRequest = PictureRequest::Still {
        time: 1.0,
        width: None,
        height: None,
        fit: Fit::Contain,
        format: PictureFormat::Png,
    };

    fn limits(renders: usize, queue: usize) -> PictureLimits {
        PictureLimits {
            renders,
            queue,
            retry_after_secs: 3,
        }
    }

    #[tokio::test]
    async fn renders_beyond_the_slots_wait_in_the_queue_and_the_rest_are_busy() {
        let pictures = Arc::new(Pictures::default());
        let gate = Arc::new(Semaphore::new(0));
        pictures.set(Some(Arc::new(Gate(gate.clone(), false))), limits(1, 1));
        let spawn = || {
            let p = pictures.clone();
            tokio::spawn(async move { p.render(source(), STILL).await })
        };
        let running = spawn();
        let engine = pictures.engine.read().unwrap().clone().unwrap();
        while engine.permits.available_permits() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let queued = spawn();
        while engine.waiting.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        match pictures.render(source(), STILL).await {
            Err(ApiError::Busy {
                retry_after_secs: 3,
                ..
            }) => {}
            other => panic!("not busy: {other:?}"),
        }
        gate.add_permits(10);
        assert_eq!(running.await.unwrap().unwrap(), b"picture");
        assert_eq!(queued.await.unwrap().unwrap(), b"picture");
        assert_eq!(engine.waiting.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn no_renderer_is_unavailable_and_a_timeout_is_busy() {
        let pictures = Pictures::default();
        assert!(!pictures.available());
        assert!(matches!(
            pictures.render(source(), STILL).await,
            Err(ApiError::Unavailable { .. })
        ));
        let gate = Arc::new(Semaphore::new(10));
        pictures.set(Some(Arc::new(Gate(gate.clone(), false))), limits(0, 1));
        assert!(!pictures.available(), "no renders allowed: none offered");
        pictures.set(Some(Arc::new(Gate(gate, true))), limits(1, 1));
        assert!(pictures.available());
        assert!(matches!(
            pictures.render(source(), STILL).await,
            Err(ApiError::Busy { .. })
        ));
    }

    #[tokio::test]
    async fn a_flight_is_forgotten_when_nobody_waits_for_it() {
        let pictures = Pictures::default();
        let first = pictures.flight("k").await;
        assert_eq!(pictures.in_flight(), 1);
        drop(first);
        assert_eq!(pictures.in_flight(), 0);
        assert!(pictures.flights.lock().unwrap().is_empty());
    }
}
