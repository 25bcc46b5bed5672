//! Items as the API shows them: the JSON views of a media item (playback entry points, outputs,
//! and for whoever manages it the same URLs signed with a short-lived playback token) and of a
//! page of items.

use crate::error::ApiResult;
use crate::AppState;
use chrono::{DateTime, TimeZone, Utc};
use mediaserver_core::layout::public;
use mediaserver_core::{
    EncodeReport, Hdr, Media, MediaId, MediaKind, MediaStatus, Quality, TextTrack, TextTrackKind,
    TextTrackSource, UserId, Visibility,
};
use serde::Serialize;
use std::time::Duration;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub(crate) struct RenditionView {
    name: String,
    width: i32,
    height: i32,
    bandwidth: i64,
    codecs: String,
    /// The video codec: `h264`, `av1` or `hevc` (`VIDEO_CODECS`); null for audio renditions.
    codec: Option<String>,
    /// SSIM and PSNR (VMAF where measured) against the source at this rendition's size, on
    /// sampled seconds (see `encode.quality`); null when not measured.
    quality: Option<Quality>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct AudioTrackView {
    /// Position in the published order; 0 is the default track.
    id: i32,
    /// ISO 639 code (`und` when the source had none), as in the HLS `LANGUAGE` and DASH `lang`.
    language: String,
    /// As the HLS `NAME` says: the source's title, else the language's English name.
    name: String,
    channels: i32,
    default: bool,
}

/// The source video stream, and what processing made of it.
#[derive(Serialize, ToSchema)]
pub(crate) struct SourceView {
    /// ffprobe's codec name, e.g. `h264`, `hevc`, `prores`.
    codec: String,
    /// Display size: sample aspect ratio applied and swapped for a ±90° rotation.
    width: i32,
    height: i32,
    /// The published frame rate (constant: the source's nominal rate, at most 60).
    fps: f64,
    /// The source's HDR transfer, tone-mapped to SDR BT.709 on every rung; null for SDR.
    hdr: Option<Hdr>,
    /// The source was interlaced; every rung was deinterlaced.
    interlaced: bool,
    /// Clockwise rotation from the display matrix, in degrees (0, 90, 180, 270), applied to
    /// every rung.
    rotation: i32,
    /// ffprobe's pixel format, e.g. `yuv420p10le`.
    pixel_format: String,
}

/// A text track (captions or subtitles) published with the item's HLS and DASH streams.
#[derive(Serialize, ToSchema)]
pub(crate) struct TextTrackView {
    /// `s0`, `s1`… for the source's subtitle streams; `u…` for uploaded files.
    pub(crate) id: String,
    /// BCP 47 tag whose primary subtag is ISO 639 (`und` when unknown), as in HLS `LANGUAGE`
    /// and DASH `lang`.
    pub(crate) language: String,
    /// What players show in their captions menu.
    pub(crate) label: String,
    pub(crate) kind: TextTrackKind,
    pub(crate) source: TextTrackSource,
    /// The WebVTT file (plays where the item's other playback URLs do).
    pub(crate) url: String,
    /// The same file under the item's playback token, for its owner or an admin (see
    /// `signed`); null otherwise.
    pub(crate) signed_url: Option<String>,
}

impl TextTrackView {
    /// `t` of item `id`; `token`: the playback token of the view's `signed` URLs, if any.
    pub(crate) fn new(id: &MediaId, t: TextTrack, token: Option<&str>) -> Self {
        let file = format!("{}/text-{}.vtt", public::HLS_DIR, t.id);
        TextTrackView {
            url: format!("/v1/media/{id}/{file}"),
            signed_url: token.map(|tok| format!("/v1/play/{tok}/{file}")),
            id: t.id,
            language: t.language,
            label: t.label,
            kind: t.kind,
            source: t.source,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct VariantView {
    name: String,
    width: i32,
    height: i32,
    url: String,
}

/// A file to download, made from the published streams without re-encoding.
#[derive(Serialize, ToSchema)]
pub(crate) struct DownloadView {
    /// `720p`… for an MP4 of that rung (H.264 + AAC), `audio` for the M4A (AAC).
    name: String,
    /// Served as an attachment named after the title; same access as playback.
    url: String,
    /// 0 for the M4A.
    width: i32,
    height: i32,
    bytes: i64,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct PlaybackView {
    hls: String,
    dash: String,
}

/// A media item as the API shows it.
#[derive(Serialize, ToSchema)]
pub(crate) struct MediaView {
    #[schema(value_type = String)]
    id: MediaId,
    #[schema(value_type = String)]
    owner_id: UserId,
    kind: MediaKind,
    status: MediaStatus,
    title: String,
    filename: String,
    content_type: String,
    size: i64,
    /// SHA-256 of the original, hex.
    sha256: String,
    visibility: Visibility,
    duration_seconds: Option<f64>,
    width: Option<i32>,
    height: Option<i32>,
    /// Processing progress, 0–100.
    progress: i32,
    /// While `status` is `queued`: how many queued jobs a worker takes before this item's
    /// (images go before audio and video, then first come first served); null otherwise.
    queue_position: Option<i64>,
    /// While a long video is encoded as chunks (`CHUNK_SECONDS`): its chunk jobs, how many are
    /// done and how many a worker is encoding now. Absent for items processed as one job, and
    /// once the item is ready or failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    chunks: Option<mediaserver_core::ChunkCounts>,
    /// True once enough is published to start playback.
    playable: bool,
    /// Why processing failed, when `status` is `failed`.
    error: Option<String>,
    renditions: Vec<RenditionView>,
    /// Every published audio track, default first.
    audio_tracks: Vec<AudioTrackView>,
    /// What processing left out of the source and why (e.g. an audio track that could not be
    /// decoded); the item is published without it.
    warnings: Vec<String>,
    /// The source video stream; null for audio and images (and items processed before it was
    /// recorded).
    source: Option<SourceView>,
    /// Every text track: the source's subtitle streams first, then uploaded files (oldest
    /// first).
    text_tracks: Vec<TextTrackView>,
    playback: Option<PlaybackView>,
    thumbnail_url: Option<String>,
    /// Storyboard WebVTT (cues point into a sprite next to it), for scrubbing previews.
    storyboard_url: Option<String>,
    variants: Vec<VariantView>,
    /// MP4s of some rungs (`DOWNLOAD_RENDITIONS`) and an M4A of the default audio track; empty
    /// until the item is ready (and for items processed before downloads existed, until
    /// `mediaserver backfill-downloads` runs).
    downloads: Vec<DownloadView>,
    /// The same playback URLs carrying a short-lived token in the path, for the item's owner or
    /// an admin: usable where no Authorization header can be sent (players, `<img>`). The token
    /// stops working if the item is made private after it was minted.
    signed: Option<SignedUrls>,
    /// How the item was encoded: ffmpeg and encoder versions, each rendition's parameters,
    /// bytes and quality, where it ran and its wall and CPU seconds. Only for whoever may
    /// manage the item; null otherwise, and for images, audio and items processed before it
    /// was recorded.
    encode: Option<EncodeReport>,
    original_url: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// The API's view of `m`; with `signed`, tokenized playback URLs once there is something to play.
/// Only for callers who may manage the item (`access::may_manage`): anyone else either may read
/// the plain URLs already or must not get a token.
pub(crate) fn media_view(state: &AppState, m: Media, signed: bool) -> ApiResult<MediaView> {
    let has_outputs = m.playable || m.status == MediaStatus::Ready;
    let manages = signed;
    let signed = if signed && has_outputs {
        Some(signed_urls(state, &m, SIGNED_URL_TTL)?)
    } else {
        None
    };
    let mut view = MediaView { signed, ..m.into() };
    if !manages {
        // Worker hosts and images are the operator's business.
        view.encode = None;
    }
    if let Some(token) = view.signed.as_ref().map(|s| s.token.clone()) {
        for t in &mut view.text_tracks {
            t.signed_url = Some(format!(
                "/v1/play/{token}/{}/text-{}.vtt",
                public::HLS_DIR,
                t.id
            ));
        }
    }
    Ok(view)
}

/// Adds each item's uploaded text tracks to its view (one query for all of them).
pub(crate) async fn add_uploaded_text_tracks(
    state: &AppState,
    views: &mut [MediaView],
) -> ApiResult<()> {
    let ids: Vec<MediaId> = views
        .iter()
        .filter(|v| v.kind != MediaKind::Image)
        .map(|v| v.id.clone())
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let mut uploaded = state.repo.text_tracks_of(&ids).await?;
    for view in views {
        let (mine, rest): (Vec<_>, Vec<_>) =
            uploaded.into_iter().partition(|u| u.media_id == view.id);
        uploaded = rest;
        view.add_text_tracks(mine.into_iter().map(|u| u.track));
    }
    Ok(())
}

impl MediaView {
    /// Appends the item's uploaded text tracks (after the embedded ones).
    pub(crate) fn add_text_tracks(&mut self, uploaded: impl IntoIterator<Item = TextTrack>) {
        let token = self.signed.as_ref().map(|s| s.token.as_str());
        let views: Vec<TextTrackView> = uploaded
            .into_iter()
            .map(|t| TextTrackView::new(&self.id, t, token))
            .collect();
        self.text_tracks.extend(views);
    }
}

/// `view` with its `queue_position` (one query, and only for a queued item) and, for a video
/// being processed, its `chunks` (when it is chunked).
pub(crate) async fn with_queue_position(
    state: &AppState,
    mut view: MediaView,
) -> ApiResult<MediaView> {
    if view.status == MediaStatus::Queued {
        view.queue_position = state.repo.jobs_ahead(&view.id).await?;
    }
    if view.kind == MediaKind::Video
        && matches!(view.status, MediaStatus::Queued | MediaStatus::Processing)
    {
        view.chunks = state.repo.chunk_counts(&view.id).await?;
    }
    Ok(view)
}

/// Lifetime of the tokenized URLs embedded in item responses.
const SIGNED_URL_TTL: Duration = Duration::from_secs(3600);

impl From<Media> for MediaView {
    fn from(m: Media) -> Self {
        let base = format!("/v1/media/{}", m.id);
        let out = m.outputs;
        let quality = |name: &str, codec: &str| {
            out.encode
                .as_ref()
                .and_then(|e| e.rendition(name, codec))
                .and_then(|r| r.quality)
        };
        // Playback paths are fixed entry points; the files behind them are resolved when served.
        // HLS is playable while still encoding; DASH appears at `ready` (it 404s until then).
        let playback = (m.playable || out.hls.is_some()).then(|| PlaybackView {
            hls: format!("{base}/{}", public::HLS_MASTER),
            dash: format!("{base}/{}", public::DASH_MANIFEST),
        });
        MediaView {
            original_url: format!("{base}/{}", public::ORIGINAL),
            playback,
            renditions: out
                .renditions
                .into_iter()
                .map(|r| {
                    // Items processed before the codec was recorded are all H.264.
                    let codec = r
                        .codec
                        .or_else(|| r.codecs.starts_with("avc1").then(|| "h264".into()));
                    RenditionView {
                        quality: codec.as_deref().and_then(|c| quality(&r.name, c)),
                        name: r.name,
                        width: r.width,
                        height: r.height,
                        bandwidth: r.bandwidth,
                        codec,
                        codecs: r.codecs,
                    }
                })
                .collect(),
            audio_tracks: out
                .audio_tracks
                .into_iter()
                .map(|t| AudioTrackView {
                    id: t.id,
                    language: t.language,
                    name: t.name,
                    channels: t.channels,
                    default: t.default,
                })
                .collect(),
            warnings: out.warnings,
            text_tracks: out
                .text_tracks
                .into_iter()
                .map(|t| TextTrackView::new(&m.id, t, None))
                .collect(),
            source: out.source.map(|v| SourceView {
                codec: v.codec,
                width: v.width,
                height: v.height,
                fps: v.fps,
                hdr: v.hdr,
                interlaced: v.interlaced,
                rotation: v.rotation,
                pixel_format: v.pixel_format,
            }),
            variants: out
                .variants
                .into_iter()
                .map(|v| VariantView {
                    url: format!("{base}/{}", v.path),
                    name: v.name,
                    width: v.width,
                    height: v.height,
                })
                .collect(),
            downloads: out
                .downloads
                .into_iter()
                .map(|d| DownloadView {
                    url: format!("{base}/{}/{}", public::DOWNLOADS_DIR, d.name),
                    name: d.name,
                    width: d.width,
                    height: d.height,
                    bytes: d.bytes,
                })
                .collect(),
            thumbnail_url: out
                .thumbnail
                .map(|_| format!("{base}/{}", public::THUMBNAIL)),
            storyboard_url: out
                .storyboard
                .map(|_| format!("{base}/{}", public::STORYBOARD_VTT)),
            signed: None,
            encode: out.encode,
            id: m.id,
            owner_id: m.owner_id,
            kind: m.kind,
            status: m.status,
            title: m.title,
            filename: m.filename,
            content_type: m.content_type,
            size: m.size,
            sha256: m.sha256,
            visibility: m.visibility,
            duration_seconds: m.duration_seconds,
            width: m.width,
            height: m.height,
            progress: m.progress,
            queue_position: None,
            chunks: None,
            playable: m.playable,
            error: m.error,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// One page of a list of items.
#[derive(Serialize, ToSchema)]
pub(crate) struct MediaPage {
    pub(crate) items: Vec<MediaView>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    #[schema(value_type = Option<String>)]
    pub(crate) next_cursor: Option<MediaId>,
}

#[derive(Serialize, ToSchema, Clone)]
pub(crate) struct SignedUrls {
    /// The token itself (already embedded in the URLs).
    token: String,
    expires_at: DateTime<Utc>,
    hls: String,
    dash: String,
    thumbnail: String,
    storyboard: String,
}

/// URLs under `/v1/play/{token}/` for `media`, valid for `ttl` (or until `media` is made private
/// after now, or deleted).
pub(crate) fn signed_urls(state: &AppState, media: &Media, ttl: Duration) -> ApiResult<SignedUrls> {
    let (token, exp) = state.tokens.issue_playback(media, ttl)?;
    let base = format!("/v1/play/{token}");
    Ok(SignedUrls {
        expires_at: Utc.timestamp_opt(exp, 0).single().unwrap_or_else(Utc::now),
        hls: format!("{base}/{}", public::HLS_MASTER),
        dash: format!("{base}/{}", public::DASH_MANIFEST),
        thumbnail: format!("{base}/{}", public::THUMBNAIL),
        storyboard: format!("{base}/{}", public::STORYBOARD_VTT),
        token,
    })
}
