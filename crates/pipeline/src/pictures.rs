//! Pictures on demand, made from an item's published stream: the rung closest in size (see
//! `mediaserver_media::frames` for why not the original), only the segments the picture spans
//! fetched back from the output bucket into a scratch directory, one ffmpeg run. The caller
//! (the HTTP layer, through the binary) caches the bytes; this makes them.

use crate::runner::scratch::Scratch;
use crate::PipelineError;
use futures::StreamExt;
use mediaserver_core::{layout, MediaId};
use mediaserver_media::frames::{self, choose_stream, segments_between};
pub use mediaserver_media::frames::{AnimationFormat, AnimationSpec, Fit, StillFormat, StillSpec};
use mediaserver_media::process::Budget;
use mediaserver_media::CancellationToken;
use mediaserver_storage::{ObjectKey, Storage};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// The largest published playlist read (a master or a media playlist); ours are a few kB.
const MAX_PLAYLIST: usize = 4 * 1024 * 1024;

/// Makes stills and animations of items from their published streams.
#[derive(Clone)]
pub struct PictureMaker {
    store: Arc<dyn Storage>,
    scratch: Scratch,
    /// Bound on one picture: fetching its segments and the ffmpeg run.
    timeout: Duration,
}

/// The item a picture is made of.
#[derive(Debug, Clone)]
pub struct PictureSource {
    pub media_id: MediaId,
    /// Its HLS master, relative to its outputs prefix (`stream/master.m3u8`).
    pub hls_master: String,
    /// Its duration in seconds.
    pub duration: f64,
}

impl PictureMaker {
    pub fn new(store: Arc<dyn Storage>, scratch: Scratch, timeout: Duration) -> PictureMaker {
        PictureMaker {
            store,
            scratch,
            timeout,
        }
    }

    /// The still `spec` asks for, encoded.
    pub async fn still(
        &self,
        source: &PictureSource,
        spec: &StillSpec,
    ) -> Result<Vec<u8>, PipelineError> {
        let ext = match spec.format {
            StillFormat::Jpeg => "jpg",
            StillFormat::Webp => "webp",
            StillFormat::Png => "png",
        };
        let budget = self.budget();
        let work = async {
            let (dir, input) = self
                .fetch(source, spec.width, spec.height, spec.time, spec.time)
                .await?;
            let out = dir.path().join(format!("still.{ext}"));
            frames::still(&input, spec, source.duration, &out, &budget).await?;
            Ok(tokio::fs::read(&out).await?)
        };
        self.bounded(work).await
    }

    /// The animation `spec` asks for, encoded.
    pub async fn animation(
        &self,
        source: &PictureSource,
        spec: &AnimationSpec,
    ) -> Result<Vec<u8>, PipelineError> {
        let ext = match spec.format {
            AnimationFormat::Webp => "webp",
            AnimationFormat::Gif => "gif",
        };
        let budget = self.budget();
        let work = async {
            let (dir, input) = self
                .fetch(source, Some(spec.width), None, spec.start, spec.end)
                .await?;
            let out = dir.path().join(format!("animation.{ext}"));
            frames::animation(&input, spec, &out, &budget).await?;
            Ok(tokio::fs::read(&out).await?)
        };
        self.bounded(work).await
    }

    fn budget(&self) -> Budget {
        Budget::new(self.timeout, CancellationToken::new())
    }

    /// `work` within the timeout (ffmpeg is bounded by its budget; this bounds the fetches too).
    async fn bounded(
        &self,
        work: impl std::future::Future<Output = Result<Vec<u8>, PipelineError>>,
    ) -> Result<Vec<u8>, PipelineError> {
        match tokio::time::timeout(self.timeout, work).await {
            Ok(r) => r,
            Err(_) => Err(PipelineError::Media(
                mediaserver_media::MediaError::Timeout {
                    what: "picture".into(),
                    after: self.timeout,
                },
            )),
        }
    }

    /// The segments of the right rung spanning `start..=end`, joined into one local file (the
    /// init segment first) in a new scratch directory, which is removed when dropped.
    async fn fetch(
        &self,
        source: &PictureSource,
        width: Option<u32>,
        height: Option<u32>,
        start: f64,
        end: f64,
    ) -> Result<(crate::runner::scratch::JobScratch, PathBuf), PipelineError> {
        let master_key = self.key(&source.media_id, &source.hls_master)?;
        let master = self.read_text(&master_key).await?;
        let playlist = choose_stream(&master, width, height).ok_or_else(|| {
            PipelineError::Unusable("the item has no video stream to take a picture from".into())
        })?;
        // Playlists and segments sit next to the master (`stream/`).
        let dir = source
            .hls_master
            .rsplit_once('/')
            .map_or(String::new(), |(d, _)| format!("{d}/"));
        let text = self
            .read_text(&self.key(&source.media_id, &format!("{dir}{playlist}"))?)
            .await?;
        let names = segments_between(&text, start, end)?;
        let scratch = self
            .scratch
            .create(format!("picture-{}", source.media_id))
            .await?;
        let input = scratch.path().join("input.mp4");
        let mut file = tokio::fs::File::create(&input).await?;
        for name in names {
            let key = self.key(&source.media_id, &format!("{dir}{name}"))?;
            append(self.store.as_ref(), &key, &mut file).await?;
        }
        file.flush().await?;
        Ok((scratch, input))
    }

    fn key(&self, id: &MediaId, name: &str) -> Result<ObjectKey, PipelineError> {
        ObjectKey::new(layout::output_key(id, name)).map_err(|e| PipelineError::Key {
            what: "published stream file",
            source: e,
        })
    }

    async fn read_text(&self, key: &ObjectKey) -> Result<String, PipelineError> {
        let (meta, mut body) = self.store.get_stream(key).await?;
        if meta.size > MAX_PLAYLIST as u64 {
            return Err(PipelineError::Unusable(
                "a published playlist is too large".into(),
            ));
        }
        let mut bytes = Vec::with_capacity(meta.size as usize);
        while let Some(chunk) = body.next().await {
            bytes.extend_from_slice(&chunk?);
            if bytes.len() > MAX_PLAYLIST {
                return Err(PipelineError::Unusable(
                    "a published playlist is too large".into(),
                ));
            }
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

async fn append(
    store: &dyn Storage,
    key: &ObjectKey,
    file: &mut tokio::fs::File,
) -> Result<(), PipelineError> {
    let (_, mut body) = store.get_stream(key).await?;
    while let Some(chunk) = body.next().await {
        file.write_all(&chunk?).await?;
    }
    Ok(())
}

/// Whether `e` is a picture that took longer than its timeout.
pub fn is_timeout(e: &PipelineError) -> bool {
    matches!(
        e,
        PipelineError::Media(mediaserver_media::MediaError::Timeout { .. })
    )
}

/// Whether ffmpeg can be started here (an API-only image may not have it): pictures on demand
/// are offered only where it can.
pub async fn ffmpeg_available() -> bool {
    tokio::process::Command::new("ffmpeg")
        .arg("-version")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .status()
        .await
        .is_ok_and(|s| s.success())
}
