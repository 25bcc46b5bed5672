//! The head (issue 15 §2, first play): the first segment of every stream, encoded at the
//! default CRFs while the adaptive ladder's complexity probe still runs, and reported as
//! progressive packaging before the main encode has started.
//!
//! * The main encode cuts a shorter first segment (one keyframe interval, `keyframe_seconds`)
//!   and keyframes on the segment grid after it (the dash muxer has no option for a shorter
//!   first segment; with `seg_duration` set to the first segment's length it cuts on every
//!   keyframe, so the keyframes alone place the cuts: 0, k, k + s, k + 2s, …). See
//!   [`first_segment`] and `command.rs`.
//! * The head is the same ffmpeg command as the main encode, limited to the first frames (and a
//!   little more input): its first segment covers exactly the frames the main encode's covers,
//!   its init segments are byte-identical (`stitchable=1`: x264's headers do not depend on the
//!   CRF), and its audio segment is byte-identical too (the same AAC encoder on the same samples
//!   from 0, cut where the same video keyframe cuts it; `tests/firstplay.rs` checks both). What
//!   is checked here before anything is reported: every first segment was cut by the keyframe
//!   that starts the second, the video's exactly one keyframe interval long; a head that does
//!   not fit is not used.
//! * With more than one rung the head is two runs after each other: the lower rungs and the
//!   audio (beside a one-frame run of the top rung, whose init segment names its codecs), then
//!   the top rung. The first report carries the master with every rung and the top rung's
//!   playlist live and empty; the second, the top rung's first segment. Players start below
//!   the top rung (hls.js by its bandwidth estimate), and the top rung is about half of the
//!   ladder's pixels: the first play no longer waits for it.
//! * After the main encode the head's video segments replace its first ones (what players may
//!   already hold is what is published), so the published first segment is at the default
//!   CRFs; the encode report says so per rung (`RungEncode::head_crf`).
//! * A chunked plan made for progressive publishing runs the head beside its own complexity
//!   probe (`chunked::plan`); chunk 0 and the rest job then keep the head's first segments.

use super::codecs::Extras;
use super::command::{build_args, Plan, Span};
use super::live::{LivePlan, PackagingUpdate};
use super::package::{self, media_playlist_name};
use super::picture::Picture;
use super::provenance::RungEncode;
use super::storyboard::Layout;
use super::tracks::PlannedTrack;
use super::{mp4, prepare_out_dir, rate, VideoOptions, STREAM_DIR};
use crate::error::{MediaError, Result};
use crate::ladder::Rung;
use crate::probe::{file_url, VideoInfo};
use crate::process::{self, Budget};
use std::path::{Path, PathBuf};

/// Scratch folder of the head run, inside the output directory.
pub(super) const HEAD_DIR: &str = ".head";
/// Input read past the first segment: enough for the keyframe that ends it (and the audio
/// before that keyframe).
const EXTRA_INPUT_SECONDS: f64 = 0.25;
/// Frames each rung encodes past the first frame of the second segment beside half-rate rungs
/// (see [`encode`]).
const EXTRA_FRAMES: u64 = 4;
/// How much lower the complexity probe runs while the head encodes (`nice`).
pub(super) const PROBE_NICENESS: i32 = 19;

/// The first segment's length when the main encode cuts a shorter one: one keyframe interval,
/// with progressive packaging (nothing plays before the end without it) and H.264 alone
/// (AV1's keyframes are frame-numbered, every `g` frames).
pub(super) fn first_segment(opts: &VideoOptions, extras: &Extras) -> Option<u32> {
    (opts.packaging.is_some()
        && extras.streams().is_empty()
        && opts.segment_seconds > opts.keyframe_seconds)
        .then_some(opts.keyframe_seconds)
}

/// Whether a head runs: adaptive ladder (the probe is what it hides), progressive packaging,
/// H.264 alone, a constant frame rate (the head's frame counts), and a source longer than
/// the first segment by a margin.
pub(super) fn wanted(
    opts: &VideoOptions,
    extras: &Extras,
    picture: &Picture,
    duration: Option<f64>,
) -> bool {
    opts.ladder_mode == rate::LadderMode::Adaptive
        && opts.packaging.is_some()
        && extras.streams().is_empty()
        && picture.rate.is_some()
        && duration.is_some_and(|d| d > opts.keyframe_seconds as f64 + 1.0)
}

/// What the head reported: per stream its codecs (for the watcher, which then reports only what
/// comes after), and the folder holding its segments.
pub(super) struct Head {
    pub dir: PathBuf,
    /// The streams whose first segment was published, with their codecs (every stream, unless
    /// the top rung's run did not fit after the others were published).
    pub streams: Vec<(usize, String)>,
    /// Video output streams (`0..n`): their first segments replace the main encode's.
    pub video_streams: usize,
    /// Output streams the head was planned with (an audio track dropped on a retry of the
    /// main encode renumbers them: the head then no longer matches).
    pub total_streams: usize,
    pub cpu_seconds: Option<f64>,
}

impl Head {
    /// Puts the head's first segments in place of the main encode's (what players may already
    /// hold is what stays published). Returns per video stream (`0..video_streams`) the encoder
    /// tag of the main encode's first segment (the report describes the main encode's settings)
    /// and whether the head's segment was kept.
    pub async fn restore(&self, out_dir: &Path) -> Result<Vec<(Option<(String, String)>, bool)>> {
        let stream_dir = out_dir.join(STREAM_DIR);
        let head_dir = self.dir.join(STREAM_DIR);
        let mut tags = vec![(None, false); self.video_streams];
        for &(s, _) in &self.streams {
            let init = format!("init-{s}.m4s");
            let name = first_name(s);
            let main = tokio::fs::read(stream_dir.join(&name)).await?;
            let same_init = tokio::fs::read(stream_dir.join(&init)).await?
                == tokio::fs::read(head_dir.join(&init)).await?;
            if let Some(tag) = tags.get_mut(s) {
                *tag = (super::provenance::encoder_tag(&main), same_init);
            }
            if !same_init {
                // The published init segment is the main encode's: its own first segment is
                // the one that decodes with it.
                tracing::warn!(
                    stream = s,
                    "the head's init segment differs from the main encode's; its first segment is not kept"
                );
                continue;
            }
            if s >= self.video_streams && main != tokio::fs::read(head_dir.join(&name)).await? {
                tracing::warn!(
                    stream = s,
                    "the head's audio segment differs from the main encode's"
                );
            }
            tokio::fs::copy(head_dir.join(&name), stream_dir.join(&name)).await?;
        }
        // The main encode's own first segment where the head published none (its top rung's
        // run did not fit): the tag still describes the rung.
        for (s, tag) in tags.iter_mut().enumerate() {
            if tag.0.is_none() {
                if let Ok(main) = tokio::fs::read(stream_dir.join(first_name(s))).await {
                    tag.0 = super::provenance::encoder_tag(&main);
                }
            }
        }
        let _ = tokio::fs::remove_dir_all(&self.dir).await;
        Ok(tags)
    }
}

/// Runs the complexity `probe` (its budget [`Budget::niced`] by [`PROBE_NICENESS`]) and the
/// head at once.
pub(super) async fn beside_probe(
    plan: &HeadPlan<'_>,
    live: &LivePlan,
    budget: &Budget,
    probe: impl std::future::Future<Output = Result<Vec<u32>>>,
) -> Result<(Vec<u32>, Option<Head>)> {
    let (crfs, head) = tokio::join!(probe, encode(plan, live, budget));
    Ok((crfs?, head?))
}

/// The encode report of rungs whose first segment is the head's: at the rung's default CRF;
/// the encoder's tag is the main encode's (`tags`, per H.264 stream as [`Head::restore`] read
/// them; no extra codecs with a head, so the report's rungs are the kept H.264 rungs in order).
pub(super) fn report(
    encoded: &mut [RungEncode],
    tags: &[(Option<(String, String)>, bool)],
    rungs: &[Rung],
    dropped: &[usize],
    first: Option<u32>,
) {
    let kept = (0..rungs.len()).filter(|i| !dropped.contains(i));
    for (rung, i) in encoded.iter_mut().zip(kept) {
        let Some((tag, kept)) = tags.get(i).cloned() else {
            continue;
        };
        if let Some((version, settings)) = tag {
            rung.encoder_version = Some(version);
            rung.encoder_settings = Some(settings);
        }
        if kept {
            rung.head_crf = Some(rate::crf(&rungs[i]));
            rung.head_seconds = first;
        }
    }
}

/// Everything the head's command needs; the same as the main encode's plan.
pub(super) struct HeadPlan<'a> {
    pub input: &'a Path,
    pub out_dir: &'a Path,
    pub video: &'a VideoInfo,
    pub picture: &'a Picture,
    pub duration: Option<f64>,
    pub rungs: &'a [Rung],
    pub audio: &'a [PlannedTrack],
    pub opts: &'a VideoOptions,
    pub layout: &'a Layout,
    pub extras: &'a Extras,
    pub first: u32,
}

/// Encodes the head into `out_dir/.head/`, checks it, copies its init and first segments into
/// `out_dir/stream/` and sends them with one-segment `EVENT` playlists and the provisional
/// master to `opts.packaging`. `None` when the head did not come out as planned (nothing was
/// reported: the main encode reports as usual).
///
/// With more than one rung the lower rungs and the audio come first (issue 15 §2: players
/// start below the top rung — hls.js by its bandwidth estimate, 720p in Chromium — and the top
/// rung is about half of the ladder's pixels): their run, beside a one-frame run of the top
/// rung for its codec string, makes the first report, with the master naming every rung and an
/// `EVENT` playlist for the top rung with no segment yet (a live playlist players reload); the
/// top rung's own run follows and reports its first segment.
pub(super) async fn encode(
    p: &HeadPlan<'_>,
    live: &LivePlan,
    budget: &Budget,
) -> Result<Option<Head>> {
    let Some(tx) = p.opts.packaging.as_ref() else {
        return Ok(None);
    };
    if p.picture.rate.is_none() {
        return Ok(None);
    }
    let dir = p.out_dir.join(HEAD_DIR);
    prepare_out_dir(&dir).await?;
    // The main encode's (`video`), or a chunked plan's work directory (nothing there yet).
    tokio::fs::create_dir_all(p.out_dir.join(STREAM_DIR)).await?;
    let n = p.rungs.len();
    let (runs, top) = if n > 1 {
        let low = Run {
            rungs: 1..n,
            audio: true,
            frames: None,
        };
        let codec = Run {
            rungs: 0..1,
            audio: false,
            frames: Some(1),
        };
        let (low_dir, codec_dir) = (dir.join("low"), dir.join("codec"));
        let (low, codec) = tokio::join!(
            run(p, &low, &low_dir, budget),
            run(p, &codec, &codec_dir, budget)
        );
        (low?, codec?.and_then(|c| c.streams.into_iter().next()))
    } else {
        let everything = Run {
            rungs: 0..n,
            audio: true,
            frames: None,
        };
        let all_dir = dir.join("all");
        (run(p, &everything, &all_dir, budget).await?, None)
    };
    let Some(done) = runs else {
        return unfit(&dir).await;
    };
    if n > 1 && top.is_none() {
        return unfit(&dir).await;
    }
    let mut update = done.publish(p.out_dir, &dir, live).await?;
    let mut codecs: Vec<(usize, String)> = done.codecs();
    if let Some(top) = &top {
        // No segment yet: players that switch up reload it (a live playlist).
        update.playlists.push((
            format!("{STREAM_DIR}/{}", media_playlist_name(0)),
            package::empty_event_playlist(live.target(0)),
        ));
        codecs.push((0, top.codecs.clone()));
    }
    update.master = super::live::provisional_master(live, |i| {
        codecs.iter().find(|(s, _)| *s == i).map(|(_, c)| c.clone())
    });
    if update.master.is_none() {
        tracing::info!("the head has no provisional master: not used");
        return unfit(&dir).await;
    }
    // The consumer is idle this early; waiting for room keeps the update whole.
    if tx.send(update).await.is_err() {
        return Ok(None);
    }
    tracing::debug!(cpu_seconds = done.cpu_seconds, "head published");
    let mut streams = done.codecs();
    let mut cpu_seconds = done.cpu_seconds;
    if let Some(expected) = top {
        let top_run = Run {
            rungs: 0..1,
            audio: false,
            frames: None,
        };
        let top_dir = dir.join("top");
        if let Some(t) = run(p, &top_run, &top_dir, budget).await? {
            cpu_seconds = cpu_seconds.zip(t.cpu_seconds).map(|(a, b)| a + b);
            if t.streams.first().map(|s| &s.codecs) != Some(&expected.codecs) {
                tracing::warn!(
                    "the top rung's codecs differ from its one-frame run's (the master names the latter)"
                );
            }
            let update = t.publish(p.out_dir, &dir, live).await?;
            if tx.send(update).await.is_err() {
                return Ok(None);
            }
            streams.extend(t.codecs());
            tracing::debug!(cpu_seconds = t.cpu_seconds, "head's top rung published");
        }
    }
    streams.sort();
    Ok(Some(Head {
        dir,
        streams,
        video_streams: n,
        total_streams: live.streams,
        cpu_seconds,
    }))
}

/// Which of the head's streams one ffmpeg run encodes: `rungs` (a range of the ladder), the
/// audio tracks too or not, and every rung's frame count when not the first segment's.
struct Run {
    rungs: std::ops::Range<usize>,
    audio: bool,
    frames: Option<u64>,
}

/// One output stream of a run, checked: its number in the main encode, codecs, the first
/// segment's length and ffmpeg's playlist of it.
struct RunStream {
    stream: usize,
    local: usize,
    codecs: String,
    duration: f64,
    playlist: String,
}

struct RunDone {
    dir: PathBuf,
    streams: Vec<RunStream>,
    cpu_seconds: Option<f64>,
}

impl RunDone {
    fn codecs(&self) -> Vec<(usize, String)> {
        self.streams
            .iter()
            .map(|s| (s.stream, s.codecs.clone()))
            .collect()
    }

    /// Copies each stream's init and first segment under the main encode's names into
    /// `out_dir/stream/` (reported) and `head_dir/stream/` (what `Head::restore` puts back),
    /// and returns the update reporting them with their one-segment `EVENT` playlists.
    async fn publish(
        &self,
        out_dir: &Path,
        head_dir: &Path,
        live: &LivePlan,
    ) -> Result<PackagingUpdate> {
        let stream_dir = out_dir.join(STREAM_DIR);
        let kept = head_dir.join(STREAM_DIR);
        tokio::fs::create_dir_all(&kept).await?;
        let own = self.dir.join(STREAM_DIR);
        let mut update = PackagingUpdate::default();
        for st in &self.streams {
            let (s, l) = (st.stream, st.local);
            for (from, to) in [
                (format!("init-{l}.m4s"), format!("init-{s}.m4s")),
                (first_name(l), first_name(s)),
            ] {
                tokio::fs::copy(own.join(&from), stream_dir.join(&to)).await?;
                tokio::fs::copy(own.join(&from), kept.join(&to)).await?;
                update.ready_files.push(format!("{STREAM_DIR}/{to}"));
            }
            let name = media_playlist_name(s);
            let one = one_segment(&st.playlist, s, st.duration);
            let text = package::event_media_playlist(&one, live.target(s))
                .map_err(|e| MediaError::bad_output_from(name.clone(), e))?
                .text;
            update
                .playlists
                .push((format!("{STREAM_DIR}/{name}"), text));
        }
        Ok(update)
    }
}

/// Encodes `r`'s streams of the head into `dir` and checks them: every first segment cut by the
/// keyframe that starts the second, the video's exactly the first segment's length (a
/// one-frame run: only its codecs). `None` when it did not come out as planned.
async fn run(p: &HeadPlan<'_>, r: &Run, dir: &Path, budget: &Budget) -> Result<Option<RunDone>> {
    let first = p.first as f64;
    let run_stream = prepare_out_dir(dir).await?;
    let rungs = &p.rungs[r.rungs.clone()];
    let audio: &[PlannedTrack] = if r.audio { p.audio } else { &[] };
    // Each rung's frames up to and including the one that starts the second segment (that
    // keyframe makes the dash muxer cut the first segment where the main encode cuts it), and
    // beside half-rate rungs a few more: a half-rate rung's rate filter makes its frame at the
    // border only from the input after it, which flows only while another output still takes
    // frames.
    let full = p.picture.rate;
    let half = rungs
        .iter()
        .any(|r| p.picture.rung_rate(r.width.min(r.height)) != full);
    let extra = if half { EXTRA_FRAMES } else { 0 };
    let frames = rungs
        .iter()
        .map(|rung| {
            if let Some(f) = r.frames {
                return Some(f);
            }
            let (n, d) = p.picture.rung_rate(rung.width.min(rung.height))?;
            Some((first * n as f64 / d as f64 - 1e-9).ceil() as u64 + 1 + extra)
        })
        .collect::<Option<Vec<u64>>>();
    let Some(frames) = frames else {
        return Ok(None);
    };
    let span = Span {
        input: file_url(p.input).into_os_string(),
        seek: 0.0,
        read: Some(first + EXTRA_INPUT_SECONDS),
        offset: 0.0,
        trim: String::new(),
        frames: frames.into_iter().map(Some).collect(),
        keyframes: vec![String::new(); rungs.len()],
        tiles: None,
    };
    let args = build_args(&Plan {
        input: p.input,
        out_dir: dir,
        video: p.video,
        picture: p.picture,
        duration: p.duration,
        rungs,
        audio,
        opts: p.opts,
        layout: p.layout,
        extras: p.extras,
        // The defaults: the probe has not spoken yet.
        crfs: &[],
        span: Some(&span),
        first: Some(p.first),
    });
    tracing::debug!(rungs = ?r.rungs, audio = r.audio, "head encode started");
    let finished = process::run("ffmpeg", &args, "ffmpeg head encode", budget, |_| {}).await?;
    if !finished.success() {
        tracing::info!(stderr = %finished.stderr_tail, "head encode failed: the main encode goes on alone");
        return Ok(None);
    }
    let v = rungs.len();
    let mut streams = Vec::new();
    for local in 0..v + audio.len() {
        let stream = if local < v {
            r.rungs.start + local
        } else {
            p.rungs.len() + local - v
        };
        let name = media_playlist_name(local);
        let unfit = |why: String| {
            tracing::info!(why, stream, "the head does not fit the main encode");
            Ok(None)
        };
        let Ok(text) = tokio::fs::read_to_string(run_stream.join(&name)).await else {
            return unfit(format!("no {name}"));
        };
        let parsed = package::repair_media_playlist(&text)
            .map_err(|e| MediaError::bad_output_from(name.clone(), e))?;
        let (Some(init), Some((uri, d))) = (parsed.init.as_deref(), parsed.segments.first()) else {
            return unfit(format!("{name}: no segment"));
        };
        if init != format!("init-{local}.m4s") || *uri != first_name(local) {
            return unfit(format!("{name}: unexpected names"));
        }
        let bytes = tokio::fs::read(run_stream.join(init)).await?;
        let Some(codecs) = mp4::codec_string(&bytes) else {
            return unfit(format!("{init}: unknown codec"));
        };
        if r.frames.is_none()
            && (parsed.segments.len() < 2 || (local < v && (d - first).abs() > 1e-3))
        {
            return unfit(format!("{name}: first segment {d} s"));
        }
        streams.push(RunStream {
            stream,
            local,
            codecs,
            duration: *d,
            playlist: text,
        });
    }
    Ok(Some(RunDone {
        dir: dir.to_path_buf(),
        streams,
        cpu_seconds: finished.cpu_seconds,
    }))
}

async fn unfit(dir: &Path) -> Result<Option<Head>> {
    tracing::info!("the head does not fit the main encode: not used");
    let _ = tokio::fs::remove_dir_all(dir).await;
    Ok(None)
}

/// The first segment's file of output stream `stream`.
fn first_name(stream: usize) -> String {
    super::chunked::segment_name(stream, 1)
}

/// ffmpeg's playlist `text` cut after its first segment, naming stream `stream`'s files.
fn one_segment(text: &str, stream: usize, duration: f64) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with("#EXTINF") {
            break;
        }
        if line.starts_with("#EXT-X-MAP:") {
            out.push_str(&format!("#EXT-X-MAP:URI=\"init-{stream}.m4s\""));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out.push_str(&format!("#EXTINF:{duration:.6},\n{}\n", first_name(stream)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_segment_keeps_the_header_and_the_first_segment() {
        let text = "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:1\n#EXT-X-MAP:URI=\"init-3.m4s\"\n#EXTINF:2.000000,\nchunk-3-00001.m4s\n#EXTINF:0.033333,\nchunk-3-00002.m4s\n#EXT-X-ENDLIST\n";
        let one = one_segment(text, 3, 2.0);
        assert_eq!(
            one,
            "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:1\n#EXT-X-MAP:URI=\"init-3.m4s\"\n#EXTINF:2.000000,\nchunk-3-00001.m4s\n"
        );
    }
}
