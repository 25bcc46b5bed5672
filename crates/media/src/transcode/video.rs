//! Video: one ffmpeg process decodes the source once and feeds every rung, the thumbnail and the
//! storyboard from a `split`.

use super::codecs::{self, Extras};
use super::command::{build_args, rung_report, video_outputs, Plan};
use super::complexity;
use super::head;
use super::live::{LivePlan, LiveVariant};
use super::package::{self, AudioRendition, Variant};
use super::picture::Picture;
use super::provenance::{self, EncodeInfo};
use super::rate;
use super::storyboard::Layout;
use super::subtitles;
use super::tail;
use super::tracks::{self, publish_audio, rendition_of, PlannedTrack};
use super::{
    check_not_truncated, classify_failure, invalid_options, prepare_out_dir, with_watcher,
    RenditionInfo, VideoOptions, VideoOutput, DASH_MANIFEST, HLS_MASTER, STORYBOARD_IMAGE,
    STORYBOARD_VTT, THUMBNAIL,
};
use crate::error::{MediaError, Result};
use crate::ladder::{self, Rung};
use crate::probe::{file_url, ProbeInfo, VideoInfo};
use crate::process::{self, Budget};
use crate::progress::{Progress, ProgressParser};
use std::ffi::OsString;

/// Scratch directory (inside the output directory) for storyboard tiles before assembly.
pub(super) const TILES_DIR: &str = ".storyboard-tiles";
use std::path::Path;

/// Sources above this many pixels per frame are refused (8K UHD is 33 MP); beyond it a decode
/// is a memory bomb more likely than a real upload.
pub const MAX_VIDEO_PIXELS: u64 = 8192 * 8192;
/// Wider (or taller) than this ratio is not a video anyone films; it would also make sprite
/// and rung sizes absurd.
pub const MAX_ASPECT: u32 = 20;
/// The thumbnail is taken this far into the video.
pub(super) const THUMBNAIL_AT: f64 = 0.10;
const THUMBNAIL_MAX_WIDTH: u32 = 1280;
/// Each audio track's rendition.
pub(super) const AUDIO_BITRATE: u64 = 128_000;

/// Transcodes `input` into an HLS + DASH ladder, a thumbnail and (unless the video is too short
/// for one tile) a storyboard under `out_dir` (layout in the [module docs](super)). `probe`
/// must describe `input`.
pub async fn video(
    input: &Path,
    out_dir: &Path,
    probe: &ProbeInfo,
    opts: &VideoOptions,
    progress: impl FnMut(Progress) + Send,
) -> Result<VideoOutput> {
    let v = probe
        .video
        .as_ref()
        .ok_or_else(|| MediaError::unusable("the file has no video stream"))?;
    if probe.is_still_image() {
        return Err(MediaError::unusable("a still image is not a video"));
    }
    if v.width as u64 * v.height as u64 > MAX_VIDEO_PIXELS {
        return Err(MediaError::unusable(format!(
            "{}x{} video: {} pixels exceeds the limit of {MAX_VIDEO_PIXELS}",
            v.width,
            v.height,
            v.width as u64 * v.height as u64
        )));
    }
    let (short, long) = (v.width.min(v.height), v.width.max(v.height));
    if short < 2 || long / short > MAX_ASPECT {
        return Err(MediaError::unusable(format!(
            "{}x{} video: unsupported dimensions",
            v.width, v.height
        )));
    }
    if opts.keyframe_seconds == 0
        || opts.segment_seconds == 0
        || !opts.segment_seconds.is_multiple_of(opts.keyframe_seconds)
    {
        return Err(invalid_options(
            "segment_seconds must be a positive multiple of keyframe_seconds",
        ));
    }
    let rungs = ladder::plan(v, &opts.ladder);
    if rungs.is_empty() {
        return Err(MediaError::unusable("the video has no usable dimensions"));
    }
    let media_duration = probe.media_duration();

    let stream_dir = prepare_out_dir(out_dir).await?;
    for stale in [THUMBNAIL, STORYBOARD_IMAGE, STORYBOARD_VTT] {
        remove_if_exists(&out_dir.join(stale)).await?;
    }
    let _ = tokio::fs::remove_dir_all(out_dir.join(TILES_DIR)).await;
    tokio::fs::create_dir_all(out_dir.join(TILES_DIR)).await?;
    let budget = Budget::new(opts.timeout, opts.cancel.clone());
    let picture = Picture::plan(input, v, &budget).await?;
    tracing::debug!(?picture, "picture plan");
    let layout = Layout::new(media_duration, v.width, v.height);
    let mut planned = tracks::plan(probe);
    let text_plan = subtitles::plan(probe);
    let mut skipped = Vec::new();
    let fps = picture.fps(v);
    let (extras, codec_warning) = Extras::plan(&opts.codecs, &picture, rungs.len());
    skipped.extend(codec_warning);
    // First play (`head.rs`): a shorter first segment, and while the complexity probe runs
    // (yielding the CPU), the head's first segments are encoded and reported.
    let first = head::first_segment(opts, &extras);
    let (crfs, head) = match first.filter(|_| head::wanted(opts, &extras, &picture, media_duration))
    {
        Some(first) => {
            let plan = head::HeadPlan {
                input,
                out_dir,
                video: v,
                picture: &picture,
                duration: media_duration,
                rungs: &rungs,
                audio: &planned,
                opts,
                layout: &layout,
                extras: &extras,
                first,
            };
            let live = live_plan(&extras, &rungs, &planned, &picture, v, opts, media_duration);
            let niced = budget.niced(head::PROBE_NICENESS);
            let probe = adaptive_crfs(input, v, &picture, media_duration, &rungs, opts, &niced);
            head::beside_probe(&plan, &live, &budget, probe).await?
        }
        None => (
            adaptive_crfs(input, v, &picture, media_duration, &rungs, opts, &budget).await?,
            None,
        ),
    };
    let extras = extras.with_rates(opts.ladder_mode, &crfs);
    // AV1's CRF per rung from trial encodes on the probe's windows (`complexity/av1.rs`).
    let source = complexity::Source {
        input,
        video: v,
        picture: &picture,
        duration: media_duration,
    };
    let av1 = complexity::av1_crfs(&source, &rungs, &extras, opts, out_dir, &budget).await?;
    let extras = extras.with_av1(&av1);
    skipped.extend(av1.skip);
    let mut parser = ProgressParser::new(media_duration, progress);
    let started = std::time::Instant::now();
    let mut encode_cpu: Option<f64> = head.as_ref().map_or(Some(0.0), |h| h.cpu_seconds);
    // An audio track whose decoder ffmpeg cannot find or open stops it before it writes
    // anything: run again without that track (once per such track) rather than fail the video.
    let encode = async {
        loop {
            let args = build_args(&Plan {
                input,
                out_dir,
                video: v,
                picture: &picture,
                duration: media_duration,
                rungs: &rungs,
                audio: &planned,
                opts,
                layout: &layout,
                extras: &extras,
                crfs: &crfs,
                span: None,
                first,
            });
            let encode = process::run(
                "ffmpeg",
                &args,
                "ffmpeg video transcode",
                &budget,
                |chunk| parser.push(chunk),
            );
            let mut live = live_plan(&extras, &rungs, &planned, &picture, v, opts, media_duration);
            if let Some(head) = head.as_ref().filter(|h| h.total_streams == live.streams) {
                live.reported = head.streams.clone();
            }
            let finished = with_watcher(encode, out_dir, live, opts.packaging.as_ref()).await?;
            encode_cpu = encode_cpu.zip(finished.cpu_seconds).map(|(a, b)| a + b);
            if finished.success() {
                return Ok(finished);
            }
            match tracks::drop_undecodable(&mut planned, &finished.stderr_tail) {
                Some(warning) => {
                    skipped.push(warning);
                    prepare_out_dir(out_dir).await?;
                }
                None => return Err(classify_failure(finished, "a video")),
            }
        }
    };
    // The subtitles' own demux-only run goes alongside the encode (none without a text stream);
    // it writes to its own scratch folder, which a retried encode leaves alone.
    let (finished, extracted) = tokio::join!(
        encode,
        subtitles::extract(input, out_dir, &text_plan, &budget)
    );
    let (finished, extracted) = (finished?, extracted?);
    let encode_wall = started.elapsed().as_secs_f64();
    tracing::debug!(stderr = %finished.stderr_tail, "ffmpeg video transcode finished");
    // The head's first segments are what players got: they stay (an audio track dropped on a
    // retry renumbered the streams: then the main encode's are kept).
    let head_tags = match head.as_ref().filter(|h| {
        h.total_streams == video_outputs(rungs.len(), planned.len(), &extras).len() + planned.len()
    }) {
        Some(h) => Some(h.restore(out_dir).await?),
        None => None,
    };
    if let Some(h) = head.as_ref() {
        let _ = tokio::fs::remove_dir_all(&h.dir).await;
    }

    // What ffmpeg wrote, checked against the plan. Each rung was muxed as its own adaptation
    // set (ffmpeg refuses square-pixel rungs of slightly different aspect in one); players
    // switch only within a set, so they are joined into one.
    // Every video output stream as (rung, codec, output stream): H.264's, then the extra
    // codecs' after the audio streams.
    let outputs = video_outputs(rungs.len(), planned.len(), &extras);
    let mpd = tokio::fs::read_to_string(out_dir.join(DASH_MANIFEST)).await?;
    // No stream may end on a sliver players never load (`tail.rs`).
    let every: Vec<usize> = (0..outputs.len() + planned.len()).collect();
    let mpd = tail::fold_short_tails(&stream_dir, &mpd, &every).await?;
    let mpd = {
        let streams: Vec<usize> = outputs.iter().map(|o| o.2).collect();
        codecs::name_codecs(&stream_dir, &mpd, &streams).await?
    };
    let mpd = package::merge_video_sets(&mpd)?;
    tokio::fs::write(out_dir.join(DASH_MANIFEST), &mpd).await?;
    let reps = package::parse_mpd(&mpd)?;
    let video_reps: Vec<_> = reps.iter().filter(|r| r.content_type == "video").collect();
    let audio_reps: Vec<_> = reps.iter().filter(|r| r.content_type == "audio").collect();
    if video_reps.len() != outputs.len() || audio_reps.len() != planned.len() {
        return Err(MediaError::bad_output(format!(
            "the MPD has {} video and {} audio representations, expected {} and {}",
            video_reps.len(),
            audio_reps.len(),
            outputs.len(),
            planned.len()
        )));
    }
    // In the order of `outputs`: each codec's set holds its rungs in order.
    let video_reps: Vec<_> = outputs
        .iter()
        .map(|o| {
            video_reps
                .iter()
                .find(|r| r.id == o.2.to_string())
                .copied()
                .ok_or_else(|| {
                    MediaError::bad_output(format!("the MPD has no representation {}", o.2))
                })
        })
        .collect::<Result<_>>()?;
    for (rep, (rung, _, _)) in video_reps.iter().zip(&outputs) {
        let rung = &rungs[*rung];
        if (rep.width, rep.height) != (rung.width, rung.height) {
            return Err(MediaError::bad_output(format!(
                "rendition {} came out {}x{}, planned {}x{}",
                rung.name, rep.width, rep.height, rung.width, rung.height
            )));
        }
    }

    let mut video_stats = Vec::with_capacity(outputs.len());
    for (_, _, stream) in &outputs {
        video_stats.push(package::finalize_media_playlist(&stream_dir, *stream).await?);
    }
    let published = publish_audio(
        out_dir,
        &stream_dir,
        &mpd,
        rungs.len(),
        &planned,
        &audio_reps,
    )
    .await?;
    let audio_stats: Vec<_> = published.tracks.iter().map(|t| &t.stats).collect();
    let duration = video_stats
        .iter()
        .chain(audio_stats.iter().copied())
        .map(|s| s.duration)
        .fold(0.0, f64::max);
    check_not_truncated(media_duration, duration)?;

    let audio = AudioShare::new(
        audio_stats.iter().copied(),
        published.tracks.first().map(|t| t.codecs.as_str()),
    );
    // Adaptive: near-duplicate rungs go (decided on H.264's measured rungs, the first
    // `rungs.len()` outputs; the same rung goes in every codec), and every manifest carries
    // what was measured. Representation ids are output stream numbers.
    let dropped = rate::rungs_to_drop(opts.ladder_mode, &video_stats[..rungs.len()]);
    let dropped_streams: Vec<usize> = outputs
        .iter()
        .filter(|o| dropped.contains(&o.0))
        .map(|o| o.2)
        .collect();
    if opts.ladder_mode == rate::LadderMode::Adaptive {
        rate::remove_streams(&stream_dir, &dropped_streams).await?;
        let measured: Vec<(usize, u64)> = outputs
            .iter()
            .zip(&video_stats)
            .map(|(o, s)| (o.2, s.peak_bps))
            .collect();
        let path = out_dir.join(DASH_MANIFEST);
        let mpd = tokio::fs::read_to_string(&path).await?;
        tokio::fs::write(
            &path,
            rate::rewrite_representations(&mpd, &dropped_streams, &measured)?,
        )
        .await?;
        if !dropped.is_empty() {
            let names: Vec<&str> = dropped.iter().map(|&i| rungs[i].name.as_str()).collect();
            tracing::info!(?names, "dropped rungs within 15 % of the next one up");
        }
    }
    let mut variants = Vec::new();
    let mut renditions = Vec::new();
    for (((rung_index, codec, _), rep), stats) in outputs.iter().zip(&video_reps).zip(&video_stats)
    {
        if dropped.contains(rung_index) {
            continue;
        }
        let rung = &rungs[*rung_index];
        let fps = picture.rung_fps(v, rung.width.min(rung.height));
        let (variant, rendition) = video_variant(
            rung,
            *codec,
            &rep.codecs,
            stats,
            &audio,
            opts.ladder_mode,
            fps,
        );
        variants.push(variant);
        renditions.push(rendition);
    }
    let audio_renditions: Vec<AudioRendition> = published
        .tracks
        .iter()
        .map(|t| rendition_of(&t.info, Some(t.stats.uri.clone())))
        .collect();
    let master = package::master_playlist(&variants, &audio_renditions);
    tokio::fs::write(out_dir.join(HLS_MASTER), master).await?;
    let text = subtitles::publish(out_dir, extracted, duration).await?;
    let mut warnings = skipped;
    warnings.extend(published.warnings);
    warnings.extend(text.warnings);

    if !non_empty(&out_dir.join(THUMBNAIL)).await {
        // The trim window missed every frame (a duration the container overstated): take the
        // first frame instead.
        fallback_thumbnail(input, out_dir, v, &picture, &budget).await?;
    }
    let tiles = out_dir.join(TILES_DIR);
    let sprite = out_dir.join(STORYBOARD_IMAGE);
    let assembled = {
        let (layout, tiles, sprite) = (layout, tiles.clone(), sprite.clone());
        tokio::task::spawn_blocking(move || layout.assemble(&tiles, &sprite))
            .await
            .map_err(|e| MediaError::Io(std::io::Error::other(e)))?
    };
    // The tiles are scratch: never published.
    let _ = tokio::fs::remove_dir_all(&tiles).await;
    // A video shorter than about half an interval gets no tile (ffmpeg's `fps` filter emits
    // none): it plays without seek-bar previews rather than failing.
    let storyboard = if assembled? > 0 && non_empty(&sprite).await {
        tokio::fs::write(
            out_dir.join(STORYBOARD_VTT),
            layout.vtt(duration, STORYBOARD_IMAGE),
        )
        .await?;
        true
    } else {
        remove_if_exists(&sprite).await?;
        tracing::info!(
            duration,
            interval = layout.interval,
            "no storyboard: too few frames for a tile"
        );
        false
    };

    let mut encode = EncodeInfo {
        wall_seconds: encode_wall,
        cpu_seconds: encode_cpu,
        // Every output stream, by its own media playlist: H.264's rungs, then the extra
        // codecs' (the same rung sizes and filters, their own encoder and caps).
        rungs: outputs
            .iter()
            .filter(|o| !dropped.contains(&o.0))
            .map(|&(rung, codec, stream)| {
                rung_report(
                    stream, rung, codec, &rungs, &crfs, &picture, v, opts, &extras, first,
                )
            })
            .collect(),
    };
    provenance::read_outputs(out_dir, &mut encode.rungs).await?;
    if let Some(tags) = head_tags {
        head::report(&mut encode.rungs, &tags, &rungs, &dropped, first);
    }

    Ok(VideoOutput {
        encode,
        renditions,
        audio: !published.tracks.is_empty(),
        audio_tracks: published.tracks.into_iter().map(|t| t.info).collect(),
        warnings,
        text_tracks: text.tracks,
        duration,
        width: v.width,
        height: v.height,
        fps,
        hdr: picture.hdr,
        interlaced: picture.deinterlace.is_some(),
        hls_master: HLS_MASTER.into(),
        dash_manifest: DASH_MANIFEST.into(),
        thumbnail: THUMBNAIL.into(),
        storyboard_vtt: storyboard.then(|| STORYBOARD_VTT.into()),
        storyboard_image: storyboard.then(|| STORYBOARD_IMAGE.into()),
    })
}

/// Adaptive mode: each rung's CRF from the complexity probe (the defaults without one).
pub(super) async fn adaptive_crfs(
    input: &Path,
    v: &VideoInfo,
    picture: &Picture,
    duration: Option<f64>,
    rungs: &[Rung],
    opts: &VideoOptions,
    budget: &Budget,
) -> Result<Vec<u32>> {
    if opts.ladder_mode != rate::LadderMode::Adaptive {
        return Ok(Vec::new());
    }
    let probed = complexity::probe(input, v, picture, duration, rungs, opts, budget).await?;
    let crfs: Vec<u32> = match &probed {
        Some(ssims) => ssims.iter().map(|s| complexity::choose_crf(*s)).collect(),
        None => rungs.iter().map(rate::crf).collect(),
    };
    tracing::debug!(?probed, ?crfs, "adaptive ladder");
    Ok(crfs)
}

/// What the provisional master says while the encode runs: the final master's attributes that
/// are known before any segment exists (`BANDWIDTH` from the rate caps).
pub(super) fn live_plan(
    extras: &Extras,
    rungs: &[Rung],
    audio: &[PlannedTrack],
    picture: &Picture,
    v: &VideoInfo,
    opts: &VideoOptions,
    duration: Option<f64>,
) -> LivePlan {
    let audio_bandwidth = if audio.is_empty() { 0 } else { AUDIO_BITRATE };
    LivePlan {
        streams: rungs.len() + audio.len(),
        variants: rungs
            .iter()
            .enumerate()
            .map(|(i, r)| LiveVariant {
                stream: i,
                bandwidth: r.maxrate + audio_bandwidth,
                resolution: Some((r.width, r.height)),
                frame_rate: Some(picture.rung_fps(v, r.width.min(r.height))),
            })
            .collect(),
        audio: audio
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let stream = rungs.len() + i;
                (
                    stream,
                    rendition_of(&t.info, Some(package::media_playlist_name(stream))),
                )
            })
            .collect(),
        segment_seconds: opts.segment_seconds,
        audio_segment_seconds: head::first_segment(opts, extras),
        reported: Vec::new(),
        duration,
    }
}

/// ≤1280 wide, aspect kept, even.
pub(super) fn thumbnail_size(v: &VideoInfo) -> (u32, u32) {
    let w = (v.width.min(THUMBNAIL_MAX_WIDTH) & !1).max(2);
    let h =
        ((((w as f64 * v.height as f64 / v.width.max(1) as f64) / 2.0).round() as u32) * 2).max(2);
    (w, h)
}

pub(super) async fn fallback_thumbnail(
    input: &Path,
    out_dir: &Path,
    v: &VideoInfo,
    picture: &Picture,
    budget: &Budget,
) -> Result<()> {
    let (tw, th) = thumbnail_size(v);
    let chain = picture.chain(v);
    let chain = if chain.is_empty() { chain } else { chain + "," };
    let mut a = Args::default();
    a.push_all(["-hide_banner", "-nostdin", "-y", "-loglevel", "error"]);
    if let Some((option, decoder)) = v.decoder() {
        a.push_all([option.as_str(), decoder]);
    }
    a.push("-i");
    a.push(file_url(input));
    a.push_all(["-map", &format!("0:{}", v.index), "-frames:v", "1"]);
    a.push_all([
        "-vf",
        &format!("{chain}scale={tw}:{th},setsar=1"),
        "-q:v",
        "3",
    ]);
    a.push_all(["-map_metadata", "-1", "-f", "image2", "-update", "1"]);
    a.push(file_url(&out_dir.join(THUMBNAIL)));
    let finished = process::run("ffmpeg", &a.0, "ffmpeg thumbnail", budget, |_| {}).await?;
    if !finished.success() {
        return Err(classify_failure(finished, "a video"));
    }
    if !non_empty(&out_dir.join(THUMBNAIL)).await {
        return Err(MediaError::unusable(
            "no frame of the video could be decoded",
        ));
    }
    Ok(())
}

async fn non_empty(path: &Path) -> bool {
    tokio::fs::metadata(path)
        .await
        .map(|m| m.len() > 0)
        .unwrap_or(false)
}

async fn remove_if_exists(path: &Path) -> Result<()> {
    match tokio::fs::remove_file(path).await {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok(()),
    }
}

/// An argument list that takes both `&str` and paths.
#[derive(Default)]
pub(super) struct Args(pub Vec<OsString>);

impl Args {
    pub fn push(&mut self, arg: impl Into<OsString>) {
        self.0.push(arg.into());
    }

    pub fn push_all<S: AsRef<std::ffi::OsStr>>(&mut self, args: impl IntoIterator<Item = S>) {
        self.0
            .extend(args.into_iter().map(|s| s.as_ref().to_os_string()));
    }
}

/// What every variant carries besides its video: the audio (a player takes one track at a
/// time, so the largest counts) and its codec.
pub(super) struct AudioShare<'a> {
    codecs: Option<&'a str>,
    peak_bps: u64,
    average_bps: u64,
}

impl<'a> AudioShare<'a> {
    pub(super) fn new<'s>(
        stats: impl IntoIterator<Item = &'s package::PlaylistStats>,
        codecs: Option<&'a str>,
    ) -> Self {
        let mut share = AudioShare {
            codecs,
            peak_bps: 0,
            average_bps: 0,
        };
        for a in stats {
            share.peak_bps = share.peak_bps.max(a.peak_bps.max(AUDIO_BITRATE));
            share.average_bps = share.average_bps.max(a.average_bps);
        }
        share
    }
}

/// One video stream's HLS variant and the rendition the item records. BANDWIDTH is the
/// encoder's cap or what the segments really peak at, whichever is higher (fixed ladder), or
/// the measured peak alone (adaptive: the manifests carry what was produced), plus the audio.
pub(super) fn video_variant(
    rung: &Rung,
    codec: codecs::VideoCodec,
    video_codecs: &str,
    stats: &package::PlaylistStats,
    audio: &AudioShare,
    mode: rate::LadderMode,
    frame_rate: f64,
) -> (Variant, RenditionInfo) {
    // The extra codecs' caps are their own (a share of the H.264 rung's).
    let maxrate = codec.scale(rung.maxrate);
    let codecs = match audio.codecs {
        Some(a) => format!("{video_codecs},{a}"),
        None => video_codecs.to_string(),
    };
    let bandwidth = match mode {
        rate::LadderMode::Fixed => maxrate.max(stats.peak_bps),
        rate::LadderMode::Adaptive => stats.peak_bps,
    } + audio.peak_bps;
    let variant = Variant {
        uri: stats.uri.clone(),
        bandwidth,
        average_bandwidth: Some(stats.average_bps + audio.average_bps),
        resolution: Some((rung.width, rung.height)),
        frame_rate: Some(frame_rate),
        codecs: codecs.clone(),
    };
    let rendition = RenditionInfo {
        name: rung.name.clone(),
        width: rung.width,
        height: rung.height,
        bandwidth,
        codecs,
        codec: Some(codec),
    };
    (variant, rendition)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(width: u32, height: u32) -> VideoInfo {
        VideoInfo {
            index: 1,
            codec: "h264".into(),
            width,
            height,
            rotation: 0,
            fps: 29.97,
            duration: None,
            bit_rate: None,
            pix_fmt: "yuv420p".into(),
            ..Default::default()
        }
    }

    #[test]
    fn thumbnail_never_wider_than_1280() {
        assert_eq!(thumbnail_size(&info(3840, 2160)), (1280, 720));
        assert_eq!(thumbnail_size(&info(720, 1280)), (720, 1280));
        assert_eq!(thumbnail_size(&info(161, 121)), (160, 120));
    }
}
