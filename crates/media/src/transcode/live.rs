//! Progressive packaging: while ffmpeg encodes, report what a player can already use, so the
//! caller can publish it long before the encode ends.
//!
//! ffmpeg's dash muxer writes each segment to `….m4s.tmp`, renames it once complete, and only
//! then lists it in the MPD and the HLS media playlists, which it also writes to a temporary
//! file and renames. So a segment is complete exactly when ffmpeg's own `media_N.m3u8` lists
//! it, and an init segment when a playlist maps it (it is written before the first segment is
//! flushed). The watcher reads those playlists every [`POLL_INTERVAL`] and never reports
//! anything else; for extra safety a listed file must also exist and be non-empty.
//!
//! Reports go through a bounded channel with `try_send`: when the consumer is behind, the
//! watcher keeps folding new findings into one pending update instead of waiting, so neither
//! ffmpeg nor the parsing of its progress ever waits for uploads.

use super::package::{self, AudioRendition, MalformedPlaylist, Variant};
use super::{mp4, tail, DASH_MANIFEST, STREAM_DIR};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc::error::TrySendError;
use tokio_util::sync::CancellationToken;

/// Why a round skipped a stream. Only logged: the next round, or the final publish after the
/// encode, covers whatever was not reported.
#[derive(Debug, thiserror::Error)]
enum Skipped {
    #[error("{file}: {source}")]
    Unreadable {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{playlist}: {source}")]
    Malformed {
        playlist: String,
        #[source]
        source: MalformedPlaylist,
    },
    #[error("no EXT-X-MAP")]
    NoInit,
    /// ffmpeg's playlist lists fewer segments than already reported.
    #[error("{0} lost segments")]
    LostSegments(String),
    /// A segment URI that is not a bare file name: it would escape the stream directory.
    #[error("unexpected playlist URI {0:?}")]
    UnexpectedUri(String),
    #[error("{0} is empty")]
    Empty(String),
}

impl Skipped {
    fn unreadable(file: &str, source: std::io::Error) -> Self {
        Skipped::Unreadable {
            file: file.to_string(),
            source,
        }
    }
}

/// How often the stream directory is looked at during an encode.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// How often until the provisional master is out: the first segments are on the way to the
/// first play, and a 500 ms poll added a quarter of a second to it on average.
pub const FIRST_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Where packaging updates go: give the sending half to
/// [`VideoOptions::packaging`](super::VideoOptions::packaging) or
/// [`AudioOptions::packaging`](super::AudioOptions::packaging). A small capacity is enough;
/// updates are merged while the receiver is busy.
pub type PackagingSender = tokio::sync::mpsc::Sender<PackagingUpdate>;

/// What became usable since the previous update. All paths are relative to `out_dir`, with `/`
/// (e.g. `stream/chunk-0-00001.m4s`). Publishing an update's files first, then its playlists,
/// then its master keeps every published playlist pointing at published files only.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PackagingUpdate {
    /// Newly complete init and media segments; each file is reported once per encode and is
    /// never changed afterwards.
    pub ready_files: Vec<String>,
    /// HLS media playlists (`stream/media_N.m3u8`) as `EVENT` playlists, latest version each:
    /// (path, text). They reference only files reported in this or an earlier update.
    pub playlists: Vec<(String, String)>,
    /// A provisional `stream/master.m3u8`, reported once: when every variant (each video rung
    /// and the audio) has at least one complete segment. Its attributes are the final ones
    /// where they are known up front (`BANDWIDTH` from the rate caps, no `AVERAGE-BANDWIDTH`).
    pub master: Option<String>,
}

impl PackagingUpdate {
    pub fn is_empty(&self) -> bool {
        self.ready_files.is_empty() && self.playlists.is_empty() && self.master.is_none()
    }

    /// Folds a later update into this one: files accumulate, each playlist keeps its latest
    /// text, a master is kept.
    pub fn merge(&mut self, later: PackagingUpdate) {
        self.ready_files.extend(later.ready_files);
        for (path, text) in later.playlists {
            self.set_playlist(path, text);
        }
        if later.master.is_some() {
            self.master = later.master;
        }
    }

    fn set_playlist(&mut self, path: String, text: String) {
        match self.playlists.iter_mut().find(|(p, _)| *p == path) {
            Some(slot) => slot.1 = text,
            None => self.playlists.push((path, text)),
        }
    }
}

/// What the provisional master will say; built by the video or audio transcode from its plan.
#[derive(Debug, Clone)]
pub(super) struct LivePlan {
    /// Output streams, numbered as ffmpeg numbers them.
    pub streams: usize,
    pub variants: Vec<LiveVariant>,
    /// The audio tracks of a video, each with its output stream, default first.
    pub audio: Vec<(usize, AudioRendition)>,
    pub segment_seconds: u32,
    /// The audio tracks' segment length when it is not `segment_seconds`: with a shorter first
    /// segment (`head.rs`) the dash muxer cuts audio, every packet of which is a key packet,
    /// at that shorter length throughout.
    pub audio_segment_seconds: Option<u32>,
    /// Streams whose init and first segment were already reported (by the head, `head.rs`),
    /// with their codecs, the provisional master with them: the watcher reports what follows.
    pub reported: Vec<(usize, String)>,
    /// The probed duration: segments ending within [`tail::HOLD_BACK`] of it are left to the
    /// final publish (a short last segment may still be folded into them, `tail.rs`).
    pub duration: Option<f64>,
}

impl LivePlan {
    /// The target duration of stream `i`'s `EVENT` playlist: the longest segment it will have,
    /// from the first version on.
    pub fn target(&self, stream: usize) -> u64 {
        match self.audio_segment_seconds {
            Some(a) if self.audio.iter().any(|(s, _)| *s == stream) => a.into(),
            _ => self.segment_seconds.into(),
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct LiveVariant {
    pub stream: usize,
    pub bandwidth: u64,
    pub resolution: Option<(u32, u32)>,
    pub frame_rate: Option<f64>,
}

#[derive(Debug, Default)]
struct StreamState {
    /// ffmpeg's playlist as last processed (unchanged text means nothing to do).
    last_text: String,
    segments: usize,
    init_reported: bool,
    codecs: Option<String>,
}

pub(super) struct Watcher {
    stream_dir: PathBuf,
    plan: LivePlan,
    tx: PackagingSender,
    streams: Vec<StreamState>,
    pending: PackagingUpdate,
    master_sent: bool,
    closed: bool,
}

impl Watcher {
    pub fn new(out_dir: &Path, plan: LivePlan, tx: PackagingSender) -> Self {
        let mut streams: Vec<StreamState> =
            (0..plan.streams).map(|_| StreamState::default()).collect();
        for (i, codecs) in &plan.reported {
            if let Some(state) = streams.get_mut(*i) {
                state.init_reported = true;
                state.segments = 1;
                state.codecs = Some(codecs.clone());
            }
        }
        Watcher {
            stream_dir: out_dir.join(STREAM_DIR),
            master_sent: !plan.reported.is_empty(),
            streams,
            plan,
            tx,
            pending: PackagingUpdate::default(),
            closed: false,
        }
    }

    /// Polls until `stop` fires (ffmpeg exited) or the receiver is gone. Run it alongside the
    /// encode (`join!`), not instead of polling it: every await here yields to the encode.
    pub async fn run(mut self, stop: CancellationToken) {
        while !self.closed && !stop.is_cancelled() {
            self.poll().await;
            let wait = if self.master_sent {
                POLL_INTERVAL
            } else {
                FIRST_POLL_INTERVAL
            };
            tokio::select! {
                biased;
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    async fn poll(&mut self) {
        for i in 0..self.streams.len() {
            if let Err(e) = self.poll_stream(i).await {
                // Best effort: the final publish covers whatever is not reported now.
                tracing::debug!(stream = i, error = %e, "progressive packaging: skipped a round");
            }
        }
        self.maybe_master().await;
        self.flush();
    }

    async fn poll_stream(&mut self, i: usize) -> Result<(), Skipped> {
        let name = package::media_playlist_name(i);
        let text = match tokio::fs::read_to_string(self.stream_dir.join(&name)).await {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Skipped::unreadable(&name, e)),
        };
        let state = &self.streams[i];
        if text == state.last_text {
            return Ok(());
        }
        let target = self.plan.target(i);
        let malformed = |source| Skipped::Malformed {
            playlist: name.clone(),
            source,
        };
        let mut live = package::event_media_playlist(&text, target).map_err(malformed)?;
        if let Some(duration) = self.plan.duration {
            let keep = tail::reportable(live.segments.iter().map(|s| s.1), duration);
            if keep < live.segments.len() {
                if keep <= state.segments {
                    return Ok(());
                }
                live = package::event_media_playlist(&tail::first_segments(&text, keep), target)
                    .map_err(malformed)?;
            }
        }
        let init = live.init.as_deref().ok_or(Skipped::NoInit)?;
        if live.segments.len() < state.segments {
            return Err(Skipped::LostSegments(name));
        }
        let mut new_files = Vec::new();
        let mut codecs = None;
        if !state.init_reported {
            check_complete(&self.stream_dir, init).await?;
            let bytes = tokio::fs::read(self.stream_dir.join(init))
                .await
                .map_err(|e| Skipped::unreadable(init, e))?;
            codecs = mp4::codec_string(&bytes);
            new_files.push(init);
        }
        for (uri, _) in &live.segments[state.segments..] {
            check_complete(&self.stream_dir, uri).await?;
            new_files.push(uri);
        }

        let state = &mut self.streams[i];
        if state.segments == 0 && !live.segments.is_empty() {
            // The milestones of the time to first play (bench/first-play.sh traces them).
            tracing::debug!(stream = i, "first segment complete");
        }
        state.init_reported = true;
        state.codecs = state.codecs.take().or(codecs);
        state.segments = live.segments.len();
        state.last_text = text;
        self.pending
            .ready_files
            .extend(new_files.into_iter().map(|f| format!("{STREAM_DIR}/{f}")));
        self.pending
            .set_playlist(format!("{STREAM_DIR}/{name}"), live.text);
        Ok(())
    }

    async fn maybe_master(&mut self) {
        if self.master_sent || self.streams.iter().any(|s| s.segments == 0) {
            return;
        }
        if self.streams.iter().any(|s| s.codecs.is_none()) {
            // An init segment we could not read: ffmpeg's provisional MPD names the codecs too.
            let Ok(mpd) = tokio::fs::read_to_string(self.stream_dir.join(mpd_name())).await else {
                return;
            };
            let Ok(reps) = package::parse_mpd(&mpd) else {
                return;
            };
            for (i, state) in self.streams.iter_mut().enumerate() {
                if state.codecs.is_none() {
                    state.codecs = reps
                        .iter()
                        .find(|r| r.id == i.to_string() && !r.codecs.is_empty())
                        .map(|r| r.codecs.clone());
                }
            }
        }
        if let Some(master) = provisional_master(&self.plan, |i| {
            self.streams.get(i).and_then(|s| s.codecs.clone())
        }) {
            self.pending.master = Some(master);
            self.master_sent = true;
            tracing::debug!("provisional master ready");
        }
    }

    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        match self.tx.try_send(std::mem::take(&mut self.pending)) {
            Ok(()) => {}
            // The receiver is busy: keep merging into the next attempt.
            Err(TrySendError::Full(update)) => self.pending = update,
            Err(TrySendError::Closed(_)) => self.closed = true,
        }
    }
}

fn mpd_name() -> &'static str {
    DASH_MANIFEST
        .strip_prefix(STREAM_DIR)
        .map(|n| n.trim_start_matches('/'))
        .unwrap_or(DASH_MANIFEST)
}

/// A bare file name that exists and is not empty.
async fn check_complete(dir: &Path, uri: &str) -> Result<(), Skipped> {
    // ffmpeg writes bare file names; anything else would escape the stream directory.
    if uri.is_empty() || uri.contains('/') || uri.contains('\\') || uri.starts_with('.') {
        return Err(Skipped::UnexpectedUri(uri.to_string()));
    }
    match tokio::fs::metadata(dir.join(uri)).await {
        Ok(m) if m.is_file() && m.len() > 0 => Ok(()),
        Ok(_) => Err(Skipped::Empty(uri.to_string())),
        Err(e) => Err(Skipped::unreadable(uri, e)),
    }
}

/// The master playlist for `plan`, once `codecs` knows every stream's codec.
pub(super) fn provisional_master(
    plan: &LivePlan,
    codecs: impl Fn(usize) -> Option<String>,
) -> Option<String> {
    // Every track is AAC-LC: the first one's codec stands for the group.
    let mut audio_codecs = None;
    for (stream, _) in &plan.audio {
        let c = codecs(*stream)?;
        audio_codecs.get_or_insert(c);
    }
    let mut variants = Vec::with_capacity(plan.variants.len());
    for v in &plan.variants {
        let own = codecs(v.stream)?;
        variants.push(Variant {
            uri: package::media_playlist_name(v.stream),
            bandwidth: v.bandwidth,
            average_bandwidth: None,
            resolution: v.resolution,
            frame_rate: v.frame_rate,
            codecs: match &audio_codecs {
                // An audio-only variant already names its own codec.
                Some(a) if !own.split(',').any(|c| c == a) => format!("{own},{a}"),
                _ => own,
            },
        });
    }
    let audio: Vec<AudioRendition> = plan.audio.iter().map(|(_, a)| a.clone()).collect();
    Some(package::master_playlist(&variants, &audio))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> LivePlan {
        LivePlan {
            streams: 3,
            variants: vec![
                LiveVariant {
                    stream: 0,
                    bandwidth: 3_124_000,
                    resolution: Some((1280, 720)),
                    frame_rate: Some(30.0),
                },
                LiveVariant {
                    stream: 1,
                    bandwidth: 1_626_000,
                    resolution: Some((854, 480)),
                    frame_rate: Some(30.0),
                },
            ],
            audio: vec![(
                2,
                AudioRendition {
                    uri: Some("media_2.m3u8".into()),
                    channels: 2,
                    language: "und".into(),
                    name: "Audio 1".into(),
                    default: true,
                },
            )],
            segment_seconds: 4,
            audio_segment_seconds: None,
            reported: Vec::new(),
            duration: None,
        }
    }

    #[test]
    fn merging_accumulates_files_and_keeps_the_latest_playlists() {
        let mut a = PackagingUpdate {
            ready_files: vec![
                "stream/init-0.m4s".into(),
                "stream/chunk-0-00001.m4s".into(),
            ],
            playlists: vec![("stream/media_0.m3u8".into(), "one".into())],
            master: None,
        };
        a.merge(PackagingUpdate {
            ready_files: vec!["stream/chunk-0-00002.m4s".into()],
            playlists: vec![
                ("stream/media_0.m3u8".into(), "two".into()),
                ("stream/media_1.m3u8".into(), "other".into()),
            ],
            master: Some("master".into()),
        });
        a.merge(PackagingUpdate::default());
        assert_eq!(a.ready_files.len(), 3);
        assert_eq!(
            a.playlists,
            vec![
                ("stream/media_0.m3u8".to_string(), "two".to_string()),
                ("stream/media_1.m3u8".to_string(), "other".to_string())
            ]
        );
        assert_eq!(a.master.as_deref(), Some("master"));
        assert!(!a.is_empty());
        assert!(PackagingUpdate::default().is_empty());
    }

    #[test]
    fn provisional_master_needs_every_codec() {
        let codecs = |i: usize| match i {
            0 => Some("avc1.64001f".to_string()),
            1 => Some("avc1.64001e".to_string()),
            2 => Some("mp4a.40.2".to_string()),
            _ => None,
        };
        let m = provisional_master(&plan(), codecs).unwrap();
        assert!(m.contains(r#"#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",LANGUAGE="und",NAME="Audio 1",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="media_2.m3u8""#), "{m}");
        assert!(m.contains("#EXT-X-STREAM-INF:BANDWIDTH=3124000,RESOLUTION=1280x720,FRAME-RATE=30.000,CODECS=\"avc1.64001f,mp4a.40.2\",AUDIO=\"audio\"\nmedia_0.m3u8\n"), "{m}");
        assert!(m.contains("BANDWIDTH=1626000,RESOLUTION=854x480,FRAME-RATE=30.000,CODECS=\"avc1.64001e,mp4a.40.2\""), "{m}");
        assert!(!m.contains("AVERAGE-BANDWIDTH"));
        assert_eq!(
            provisional_master(&plan(), |i| (i != 2).then(|| "avc1.64001f".to_string())),
            None
        );
        // Audio-only ladders: each rendition is a variant of its own.
        let audio_only = LivePlan {
            streams: 2,
            variants: vec![
                LiveVariant {
                    stream: 0,
                    bandwidth: 128_000,
                    resolution: None,
                    frame_rate: None,
                },
                LiveVariant {
                    stream: 1,
                    bandwidth: 64_000,
                    resolution: None,
                    frame_rate: None,
                },
            ],
            audio: vec![],
            segment_seconds: 4,
            audio_segment_seconds: None,
            reported: Vec::new(),
            duration: None,
        };
        let m = provisional_master(&audio_only, |_| Some("mp4a.40.2".into())).unwrap();
        assert!(
            m.contains("#EXT-X-STREAM-INF:BANDWIDTH=64000,CODECS=\"mp4a.40.2\"\nmedia_1.m3u8\n"),
            "{m}"
        );
        assert!(!m.contains("EXT-X-MEDIA:"));
    }

    const LIVE_0: &str = "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:1\n#EXT-X-MAP:URI=\"init-0.m4s\"\n#EXTINF:4.000000,\n#EXT-X-PROGRAM-DATE-TIME:2026-11-22T21:56:39.000+0000\nchunk-0-00001.m4s\n";

    /// Segments a short last one may still be folded into (`tail.rs`) wait for the final
    /// publish: only those ending a second or more before the probed duration are reported.
    #[tokio::test]
    async fn segments_near_the_end_are_held_back() {
        let dir = tempfile::tempdir().unwrap();
        let stream = dir.path().join(STREAM_DIR);
        std::fs::create_dir_all(&stream).unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::channel(4);
        let plan = LivePlan {
            duration: Some(6.016),
            ..plan()
        };
        let mut w = Watcher::new(dir.path(), plan, tx);
        std::fs::write(stream.join("init-2.m4s"), b"init").unwrap();
        let mut text = "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:1\n#EXT-X-MAP:URI=\"init-2.m4s\"\n".to_string();
        for (n, d) in [(1, 1.984), (2, 2.005), (3, 2.005), (4, 0.021)] {
            std::fs::write(stream.join(format!("chunk-2-0000{n}.m4s")), b"segment").unwrap();
            text.push_str(&format!("#EXTINF:{d:.6},\nchunk-2-0000{n}.m4s\n"));
            std::fs::write(stream.join("media_2.m3u8"), &text).unwrap();
            w.poll().await;
        }
        let mut got = PackagingUpdate::default();
        while let Ok(u) = rx.try_recv() {
            got.merge(u);
        }
        assert_eq!(
            got.ready_files,
            vec![
                "stream/init-2.m4s",
                "stream/chunk-2-00001.m4s",
                "stream/chunk-2-00002.m4s"
            ]
        );
        let (_, playlist) = &got.playlists[0];
        assert!(playlist.ends_with("chunk-2-00002.m4s\n"), "{playlist}");
    }

    #[tokio::test]
    async fn reports_only_listed_files_and_merges_when_the_receiver_is_busy() {
        let dir = tempfile::tempdir().unwrap();
        let stream = dir.path().join(STREAM_DIR);
        std::fs::create_dir_all(&stream).unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::channel(1);
        let mut w = Watcher::new(dir.path(), plan(), tx);

        // Files ffmpeg is still writing, no playlist: nothing to report.
        std::fs::write(stream.join("init-0.m4s"), b"not really an init segment").unwrap();
        std::fs::write(stream.join("chunk-0-00001.m4s.tmp"), b"").unwrap();
        w.poll().await;
        assert!(rx.try_recv().is_err());

        // Listed, but not on disk: not reported either.
        std::fs::write(stream.join("media_0.m3u8"), LIVE_0).unwrap();
        w.poll().await;
        assert!(rx.try_recv().is_err());

        std::fs::rename(
            stream.join("chunk-0-00001.m4s.tmp"),
            stream.join("chunk-0-00001.m4s"),
        )
        .unwrap();
        std::fs::write(stream.join("chunk-0-00001.m4s"), b"segment").unwrap();
        w.poll().await;
        let first = rx.try_recv().unwrap();
        assert_eq!(
            first.ready_files,
            vec!["stream/init-0.m4s", "stream/chunk-0-00001.m4s"]
        );
        assert_eq!(first.playlists.len(), 1);
        assert_eq!(first.playlists[0].0, "stream/media_0.m3u8");
        assert!(first.playlists[0].1.contains("#EXT-X-PLAYLIST-TYPE:EVENT"));
        assert_eq!(first.master, None);
        // Unchanged playlist: nothing new.
        w.poll().await;
        assert!(rx.try_recv().is_err());

        // The other streams get their first segments while the receiver is not reading: the
        // channel fills up, then the rest is merged into one pending update.
        for i in 1..3 {
            std::fs::write(stream.join(format!("chunk-{i}-00001.m4s")), b"segment").unwrap();
            std::fs::write(stream.join(format!("init-{i}.m4s")), b"init").unwrap();
            std::fs::write(
                stream.join(format!("media_{i}.m3u8")),
                LIVE_0
                    .replace("init-0", &format!("init-{i}"))
                    .replace("chunk-0", &format!("chunk-{i}")),
            )
            .unwrap();
            w.poll().await;
        }
        // No codec could be read from these fake init segments and there is no MPD yet.
        assert!(!w.master_sent);
        std::fs::write(
            stream.join("manifest.mpd"),
            r#"<MPD><Period><AdaptationSet contentType="video"><Representation id="0" codecs="avc1.64001f"/><Representation id="1" codecs="avc1.64001e"/></AdaptationSet><AdaptationSet contentType="audio"><Representation id="2" codecs="mp4a.40.2"/></AdaptationSet></Period></MPD>"#,
        )
        .unwrap();
        w.poll().await;
        assert!(w.master_sent);
        let mut got = rx.try_recv().unwrap();
        assert!(rx.try_recv().is_err());
        w.flush();
        got.merge(rx.try_recv().unwrap());
        assert_eq!(got.ready_files.len(), 4, "{:?}", got.ready_files);
        assert_eq!(got.playlists.len(), 2);
        let master = got.master.unwrap();
        assert!(
            master.contains("CODECS=\"avc1.64001e,mp4a.40.2\""),
            "{master}"
        );

        // A receiver that went away ends the watcher.
        drop(rx);
        std::fs::write(stream.join("chunk-0-00002.m4s"), b"segment").unwrap();
        std::fs::write(
            stream.join("media_0.m3u8"),
            format!("{LIVE_0}#EXTINF:4.0,\nchunk-0-00002.m4s\n"),
        )
        .unwrap();
        w.poll().await;
        assert!(w.closed);
        w.run(CancellationToken::new()).await;
    }
}
