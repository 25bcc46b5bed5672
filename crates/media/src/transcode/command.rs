//! The one ffmpeg command line of a video transcode ([`build_args`]): decode once, the picture
//! chain, a split into every rung (and the AV1/HEVC streams beside them), the thumbnail and
//! storyboard branches, the encoders with each rung's rate control, and the dash muxer that
//! writes HLS and DASH at once; and what each rung was asked to be ([`rung_encode`]) for the
//! encode report. [`super::video`] runs it and publishes what it wrote.

use super::codecs::{Extras, VideoCodec};
use super::package;
use super::picture::Picture;
use super::provenance::RungEncode;
use super::rate;
use super::storyboard::Layout;
use super::tracks::{PlannedTrack, AUDIO_CHANNELS};
use super::video::{thumbnail_size, Args, AUDIO_BITRATE, THUMBNAIL_AT, TILES_DIR};
use super::{VideoOptions, DASH_MANIFEST, THUMBNAIL};
use crate::ladder::Rung;
use crate::probe::{file_url, VideoInfo};
use std::ffi::OsString;
use std::path::Path;

pub(super) struct Plan<'a> {
    pub(super) input: &'a Path,
    pub(super) out_dir: &'a Path,
    pub(super) video: &'a VideoInfo,
    pub(super) picture: &'a Picture,
    pub(super) duration: Option<f64>,
    pub(super) rungs: &'a [Rung],
    /// Default track first.
    pub(super) audio: &'a [PlannedTrack],
    pub(super) opts: &'a VideoOptions,
    pub(super) layout: &'a Layout,
    /// AV1 / HEVC streams besides the H.264 rungs.
    pub(super) extras: &'a Extras,
    /// Adaptive mode: each rung's CRF (from the complexity probe); empty: the defaults.
    pub(super) crfs: &'a [u32],
    /// A chunk of a chunked encode (`chunked/`): only a range of the input, only the video
    /// streams. `None`: the whole source, as one job.
    pub(super) span: Option<&'a Span>,
    /// A shorter first segment of this many seconds (`head.rs`): keyframes at 0, then at this
    /// time and every segment duration after it. `None`: every `keyframe_seconds`.
    pub(super) first: Option<u32>,
}

/// What a chunk changes in the command line: it reads one range of the input (accurate seek),
/// writes exactly that range's frames with the keyframes a single encode forces there, on the
/// single encode's timeline, no audio (the plan gives none), no thumbnail, and only the
/// storyboard tiles that fall in the range.
pub(super) struct Span {
    /// The input as ffmpeg opens it (a `file:` path or a URL).
    pub input: OsString,
    /// `-ss` (none at 0) and `-t` of the input; `read: None` reads to the end.
    pub seek: f64,
    pub read: Option<f64>,
    /// `-output_ts_offset`: the range's start on the single encode's timeline.
    pub offset: f64,
    /// Filters after the picture chain (with its constant rate), before the split: what
    /// drops the frames read before the range.
    pub trim: String,
    /// Per video output stream (ffmpeg's order): `-frames:v:N` (`None`: to the end) and its
    /// `-force_key_frames:v:N` list (empty: the single encode's own).
    pub frames: Vec<Option<u64>>,
    pub keyframes: Vec<String>,
    /// The storyboard tiles in the range, when there are any: the branch after the split
    /// (from `[stiles]`, see `chunked/picks.rs`) and its output's options.
    pub tiles: Option<(String, Vec<OsString>)>,
}

/// The whole ffmpeg command line (without the program name).
pub(super) fn build_args(p: &Plan) -> Vec<OsString> {
    let mut a = Args::default();
    a.push_all(["-hide_banner", "-nostdin", "-y", "-loglevel", "error"]);
    a.push_all(["-nostats", "-progress", "pipe:1"]);
    if let Some(t) = p.opts.threads {
        a.push_all(["-filter_complex_threads", &t.to_string()]);
    }
    if let Some((option, decoder)) = p.video.decoder() {
        a.push_all([option.as_str(), decoder]);
    }
    if let Some(span) = p.span {
        if span.seek > 0.0 {
            a.push_all(["-ss", &format!("{:.6}", span.seek)]);
        }
        if let Some(read) = span.read {
            a.push_all(["-t", &format!("{read:.6}")]);
        }
    }
    a.push("-i");
    match p.span {
        Some(span) => a.push(&span.input),
        None => a.push(file_url(p.input)),
    }

    // decode once → the picture chain (deinterlace, CFR, tone-map) → split → one scaler per
    // rung, plus the thumbnail and storyboard branches. Every output has square pixels
    // (setsar=1); the rung sizes keep the display aspect within a pixel.
    let n = p.rungs.len();
    let chain = p.picture.chain(p.video);
    let mut graph = format!("[0:{}]", p.video.index);
    if !chain.is_empty() {
        graph.push_str(&chain);
        graph.push(',');
    }
    if let Some(span) = p.span.filter(|s| !s.trim.is_empty()) {
        graph.push_str(&span.trim);
        graph.push(',');
    }
    let stills = p.span.is_none();
    let span_tiles = p.span.and_then(|s| s.tiles.as_ref());
    let branches = match (stills, span_tiles) {
        (true, _) => n + 2,
        (false, Some(_)) => n + 1,
        (false, None) => n,
    };
    graph.push_str(&format!("split={branches}"));
    for i in 0..n {
        graph.push_str(&format!("[s{i}]"));
    }
    if stills {
        graph.push_str("[sthumb][sstory]");
    }
    if span_tiles.is_some() {
        graph.push_str("[stiles]");
    }
    for (i, r) in p.rungs.iter().enumerate() {
        // Small rungs of a 50/60 fps source at half the rate (`Picture::rung_rate`), dropped
        // before scaling.
        graph.push_str(&format!(
            ";[s{i}]{}{}",
            rung_scaler(p.picture, r),
            p.extras.rung_outputs(i)
        ));
    }
    let without_stills = graph.len();
    let (tw, th) = thumbnail_size(p.video);
    let at = p.duration.map(|d| d * THUMBNAIL_AT).unwrap_or(0.0);
    graph.push_str(&format!(
        ";[sthumb]trim=start={at:.3},trim=end_frame=1,scale={tw}:{th},setsar=1[thumb]"
    ));
    graph.push_str(&format!(";[sstory]{}[story]", p.layout.filter()));
    if !stills {
        graph.truncate(without_stills);
    }
    if let Some((filter, _)) = span_tiles {
        graph.push(';');
        graph.push_str(filter);
    }
    a.push_all(["-filter_complex", &graph]);

    // Output 1: the ladder (+ audio) into the dash muxer.
    for i in 0..n {
        a.push_all(["-map", &format!("[v{i}]")]);
    }
    for t in p.audio {
        a.push_all(["-map", &format!("0:{}", t.source_index)]);
    }
    a.push_all(p.extras.maps());
    let k = p.opts.keyframe_seconds;
    a.push_all(["-c:v", ENCODER, "-preset", &p.opts.preset]);
    a.push_all(["-profile:v", PROFILE, "-pix_fmt", "yuv420p"]);
    // Keyframes exactly on the cadence in every rung: forced by time, no scene-cut keyframes,
    // and a GOP cap loose enough that x264 never adds one of its own.
    let seg = p.opts.segment_seconds;
    let (forced, cadence) = forced_keyframes(p.first, k, seg);
    a.push_all(["-force_key_frames", &forced]);
    if p.first.is_some() {
        // x264's headers must not depend on the CRF: the head's (default CRFs) and this
        // encode's first segments are interchangeable.
        a.push_all(["-x264-params", "stitchable=1"]);
    }
    a.push_all(["-sc_threshold", "0"]);
    if let Some(gop) = gop(p.picture.fps(p.video), cadence) {
        a.push_all(["-g", &gop.to_string()]);
    }
    for (i, r) in p.rungs.iter().enumerate() {
        let crf = p.crfs.get(i).copied().unwrap_or_else(|| rate::crf(r));
        a.push_all(rate::rate_args(p.opts.ladder_mode, i, r, crf));
    }
    a.push_all(p.extras.encoder_args(p.rungs, p.picture, p.video, k));
    if !p.audio.is_empty() {
        a.push_all(["-c:a", "aac", "-profile:a", "aac_low"]);
        a.push_all(["-b:a", &AUDIO_BITRATE.to_string()]);
        a.push_all(["-ac", &AUDIO_CHANNELS.to_string(), "-ar", "48000"]);
    }
    if let Some(t) = p.opts.threads {
        a.push_all(["-threads", &t.to_string()]);
    }
    // The `fps` filter made the frames constant-rate; a source with no usable rate keeps its
    // own timing rather than frames duplicated up to a guess.
    a.push_all([
        "-fps_mode",
        if p.picture.rate.is_some() {
            "passthrough"
        } else {
            "vfr"
        },
    ]);
    a.push_all(p.picture.output_args());
    // Nothing of the source's metadata (GPS, device, names) ends up in published files.
    a.push_all(["-map_metadata", "-1", "-map_chapters", "-1"]);
    // One adaptation set per rung (merged afterwards: see `package::merge_video_sets`), then one
    // per audio track.
    let mut sets: Vec<String> = (0..n).map(|i| format!("id={i},streams={i}")).collect();
    // The metadata dropped above, except what the dash muxer turns into each audio set's `lang`
    // and `Role`.
    for (i, t) in p.audio.iter().enumerate() {
        let stream = n + i;
        let role = if t.info.default { "main" } else { "alternate" };
        a.push_all([
            &format!("-metadata:s:{stream}"),
            &format!("language={}", t.info.language),
        ]);
        a.push_all([&format!("-metadata:s:{stream}"), &format!("role={role}")]);
        sets.push(format!("id={stream},streams={stream}"));
    }
    sets.extend(p.extras.adaptation_sets(n + p.audio.len()));
    a.push_all(["-max_muxing_queue_size", "4096"]);
    if let Some(span) = p.span {
        for (i, frames) in span.frames.iter().enumerate() {
            if let Some(frames) = frames {
                a.push_all([format!("-frames:v:{i}"), frames.to_string()]);
            }
        }
        for (i, list) in span.keyframes.iter().enumerate() {
            if !list.is_empty() {
                a.push_all([format!("-force_key_frames:v:{i}"), list.clone()]);
            }
        }
        a.push_all(["-output_ts_offset", &format!("{:.6}", span.offset)]);
    }
    a.0.extend(package::dash_args(
        p.first.unwrap_or(seg),
        &sets.join(" "),
        &p.out_dir.join(DASH_MANIFEST),
    ));

    if let Some((_, outputs)) = span_tiles {
        a.0.extend(outputs.iter().cloned());
    }
    if !stills {
        return a.0;
    }
    // Output 2: the thumbnail, a single JPEG.
    a.push_all(["-map", "[thumb]", "-frames:v", "1", "-q:v", "3"]);
    a.push_all(["-map_metadata", "-1", "-f", "image2", "-update", "1"]);
    a.push(file_url(&p.out_dir.join(THUMBNAIL)));
    // Output 3: storyboard tiles, one JPEG per interval, assembled into the sprite afterwards.
    let capacity = p.layout.capacity().to_string();
    a.push_all(["-map", "[story]", "-frames:v", &capacity, "-q:v", "5"]);
    a.push_all(["-map_metadata", "-1", "-f", "image2"]);
    a.push(file_url(&p.out_dir.join(TILES_DIR).join("%05d.jpg")));
    a.0
}

/// The `-force_key_frames` expression of a single encode, and the keyframe interval its GOP
/// cap is sized for: every `k` seconds, or with a shorter `first` segment the first frame, then
/// `first` and every segment (`seg`) after it — the dash muxer, told to cut every `first`
/// seconds, cuts on each.
pub(super) fn forced_keyframes(first: Option<u32>, k: u32, seg: u32) -> (String, u32) {
    match first {
        Some(first) => (
            format!("expr:if(eq(n_forced,0),1,gte(t,{first}+(n_forced-1)*{seg}))"),
            seg,
        ),
        None => (format!("expr:gte(t,n_forced*{k})"), k),
    }
}

/// Every video output stream as (rung index, codec, output stream number), in the order the
/// master lists them: the H.264 rungs (streams `0..rungs`), then each extra codec's rungs,
/// numbered after the `audio` audio streams.
pub(super) fn video_outputs(
    rungs: usize,
    audio: usize,
    extras: &Extras,
) -> Vec<(usize, VideoCodec, usize)> {
    (0..rungs)
        .map(|i| (i, VideoCodec::H264, i))
        .chain(
            extras
                .streams()
                .iter()
                .enumerate()
                .map(|(j, s)| (s.rung, s.codec, rungs + audio + j)),
        )
        .collect()
}

/// The video encoder and its profile (every rung).
pub(super) const ENCODER: &str = "libx264";
pub(super) const PROFILE: &str = "high";

/// The GOP cap (`-g`): twice the keyframe cadence, so x264 never adds a keyframe of its own.
pub(super) fn gop(fps: f64, keyframe_seconds: u32) -> Option<u64> {
    // Clamped: a nonsense probed frame rate must not produce a nonsense option.
    (fps > 0.0).then(|| ((fps * keyframe_seconds as f64).ceil() * 2.0).clamp(2.0, 10_000.0) as u64)
}

/// A rung's filters after the split: its own rate (small rungs of a fast source), its size,
/// square pixels, 4:2:0.
pub(super) fn rung_scaler(picture: &Picture, r: &Rung) -> String {
    format!(
        "{}scale={}:{},setsar=1,format=yuv420p",
        picture.rung_filter(r.width.min(r.height)),
        r.width,
        r.height
    )
}

/// What the H.264 rung `r`, published as output stream `i`, was asked to be: the arguments
/// [`build_args`] gives it and the filters that feed its encoder from the decoded stream.
/// What the encode report says of output stream `stream`, rung `rung` in `codec`: the rate
/// control the encode gave it (H.264 at `crfs`' CRF or the default, the extra codecs' from
/// `extras`), and its keyframe interval — once per segment after a shorter `first` segment,
/// as `build_args` forces them then. A single encode and a chunked one report alike.
#[allow(clippy::too_many_arguments)]
pub(super) fn rung_report(
    stream: usize,
    rung: usize,
    codec: VideoCodec,
    rungs: &[Rung],
    crfs: &[u32],
    picture: &Picture,
    v: &VideoInfo,
    opts: &VideoOptions,
    extras: &Extras,
    first: Option<u32>,
) -> RungEncode {
    let r = &rungs[rung];
    let crf = crfs.get(rung).copied().unwrap_or_else(|| rate::crf(r));
    let rate = rate::rung_rate(opts.ladder_mode, r, crf);
    let h264 = rung_encode(stream, r, rate, picture, v, opts);
    let gops = super::codecs::gops(picture, v, rungs, opts.keyframe_seconds);
    let mut e = extras.describe(h264, codec, r, &gops, rung);
    if first.is_some() {
        e.gop = gop(picture.fps(v), opts.segment_seconds).unwrap_or(0);
    }
    e
}

pub(super) fn rung_encode(
    i: usize,
    r: &Rung,
    rate: rate::RungRate,
    picture: &Picture,
    v: &VideoInfo,
    opts: &VideoOptions,
) -> RungEncode {
    let chain = picture.chain(v);
    let scaler = rung_scaler(picture, r);
    RungEncode {
        name: r.name.clone(),
        width: r.width,
        height: r.height,
        codec: "h264".into(),
        encoder: ENCODER.into(),
        preset: opts.preset.clone(),
        profile: PROFILE.into(),
        crf: rate.crf,
        bitrate: rate.bitrate.unwrap_or(0),
        maxrate: rate.maxrate,
        bufsize: rate.bufsize,
        gop: gop(picture.fps(v), opts.keyframe_seconds).unwrap_or(0),
        fps: picture.rung_fps(v, r.width.min(r.height)),
        filter: if chain.is_empty() {
            scaler
        } else {
            format!("{chain},{scaler}")
        },
        playlist: format!("{}/{}", super::STREAM_DIR, package::media_playlist_name(i)),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ladder;
    use crate::probe::VideoInfo;
    use crate::transcode::AudioTrackInfo;

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
    fn one_process_with_split_and_aligned_keyframes() {
        let v = info(1920, 1080);
        let rungs = ladder::plan(&v, ladder::DEFAULT_LADDER);
        let opts = VideoOptions::default();
        let layout = Layout::new(Some(10.0), 1920, 1080);
        let info = |language: &str, default| AudioTrackInfo {
            id: 0,
            language: language.into(),
            name: "x".into(),
            channels: 2,
            default,
        };
        let audio = [
            PlannedTrack {
                source_index: 2,
                info: info("spa", true),
            },
            PlannedTrack {
                source_index: 0,
                info: info("eng", false),
            },
        ];
        let picture = Picture::from_probe(&v, None);
        let args = build_args(&Plan {
            input: Path::new("/in/-weird name.mp4"),
            out_dir: Path::new("/out"),
            video: &v,
            picture: &picture,
            duration: Some(10.0),
            rungs: &rungs,
            audio: &audio,
            opts: &opts,
            layout: &layout,
            extras: &Extras::plan(&opts.codecs, &picture, rungs.len()).0,
            crfs: &[],
            span: None,
            first: None,
        });
        let args: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let joined = args.join(" ");
        assert!(args.contains(&"file:/in/-weird name.mp4".to_string()));
        // A progressive SDR source: only a constant rate ahead of the split.
        assert!(joined.contains("[0:1]fps=30000/1001,split=7[s0][s1][s2][s3][s4][sthumb][sstory]"));
        assert!(joined.contains("[s4]scale=426:240,setsar=1,format=yuv420p[v4]"));
        assert!(joined.contains("trim=start=1.000,trim=end_frame=1,scale=1280:720,setsar=1[thumb]"));
        assert!(joined.contains("-fps_mode passthrough"));
        assert!(!joined.contains("-color_trc"));
        assert!(joined.contains("-force_key_frames expr:gte(t,n_forced*2) -sc_threshold 0 -g 120"));
        assert!(joined.contains("-b:v:0 5000000 -maxrate:v:0 5350000 -bufsize:v:0 7500000"));
        assert!(joined.contains("-map 0:2 -map 0:0 -c:v libx264 -preset veryfast -profile:v high"));
        assert!(joined.contains("-b:a 128000 -ac 2 -ar 48000"));
        assert!(joined.contains("-metadata:s:5 language=spa -metadata:s:5 role=main -metadata:s:6 language=eng -metadata:s:6 role=alternate"));
        assert!(joined.contains("id=0,streams=0 id=1,streams=1 id=2,streams=2 id=3,streams=3 id=4,streams=4 id=5,streams=5 id=6,streams=6 "));
        assert!(joined.contains("-update 1 file:/out/thumbnail.jpg"));
        // Storyboard tiles as separate frames: a `tile` filter would stall progress reports.
        assert!(!joined.contains("tile="));
        assert!(joined.ends_with("-f image2 file:/out/.storyboard-tiles/%05d.jpg"));
        assert_eq!(args.iter().filter(|a| *a == "-i").count(), 1);
    }
}
