//! Chunked encoding (issue 15 §1) against a single `video()` run of the same source, with real
//! ffmpeg on small generated sources; the chunks' output is put together the way the
//! pipeline does it (each job's files published under their names, the final step run where
//! only the init segments are).

// A panic is how a test reports failure; the workspace's unwrap/expect lints are for code that ships.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod chunked_support;
mod common;

use chunked_support::*;
use common::*;
use mediaserver_media::ladder::LadderRung;
use mediaserver_media::probe;
use mediaserver_media::transcode::chunked::{self, ChunkSettings, Input};
use mediaserver_media::transcode::{self, LadderMode, VideoOptions};
use std::path::{Path, PathBuf};
use std::time::Duration;

const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

/// 2 s segments and keyframes, a preset with B-frames (`ultrafast` has none), the given ladder.
fn opts(ladder: &[(u32, u64)], mode: LadderMode) -> VideoOptions {
    VideoOptions {
        preset: "superfast".into(),
        ladder: ladder
            .iter()
            .map(|&(height, bitrate)| LadderRung { height, bitrate })
            .collect(),
        segment_seconds: 2,
        keyframe_seconds: 2,
        timeout: Duration::from_secs(600),
        threads: Some(2),
        ladder_mode: mode,
        ..Default::default()
    }
}

const SRT: &str = "1\n00:00:01,000 --> 00:00:03,000\nFirst\n\n2\n00:00:07,500 --> 00:00:08,500\nAcross the first border\n\n3\n00:00:20,000 --> 00:00:25,000\nLater\n";

/// 30 s of 640x360 at 30 fps (H.264), two stereo AAC tracks (eng, spa) and an SRT track.
fn make_source(dir: &Path) -> PathBuf {
    let srt = dir.join("subs.srt");
    std::fs::write(&srt, SRT).unwrap();
    let path = dir.join("src.mkv");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=640x360:rate=30:duration=30",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000:duration=30",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=660:sample_rate=44100:duration=30",
        "-i",
        srt.to_str().unwrap(),
        "-map",
        "0",
        "-map",
        "1",
        "-map",
        "2",
        "-map",
        "3",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-g",
        "60",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-ac",
        "2",
        "-b:a",
        "96k",
        "-c:s",
        "srt",
        "-metadata:s:a:0",
        "language=eng",
        "-metadata:s:a:1",
        "language=spa",
        "-metadata:s:s:0",
        "language=eng",
        path.to_str().unwrap(),
    ]);
    path
}

#[tokio::test]
async fn chunked_output_is_a_single_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let src = make_source(dir.path());
    let probe = probe::probe(&src, PROBE_TIMEOUT).await.unwrap();
    // Adaptive: one complexity probe, CRFs, near-duplicate rungs dropped (344p is one).
    let opts = opts(
        &[(360, 800_000), (344, 760_000), (180, 300_000)],
        LadderMode::Adaptive,
    );
    let single_dir = dir.path().join("single");
    let single = transcode::video(&src, &single_dir, &probe, &opts, |_| {})
        .await
        .unwrap();
    let (url, requested) = serve(src.clone()).await;
    let c = run_chunked(&src, &probe, &opts, &dir.path().join("chunked"), Some(&url)).await;
    assert_eq!(c.plan.chunks(), 4);
    // The chunks read over HTTP seeked by range requests to their ranges (the source has a
    // keyframe every 2 s): a request lands near each one's start, none reads from the front
    // through.
    let size = std::fs::metadata(&src).unwrap().len() as f64;
    let starts = requested.lock().unwrap().clone();
    println!("HTTP range requests start at {starts:?} of {size} bytes");
    for range in c.plan.ranges.iter().filter(|r| r.index % 2 == 1) {
        let at = size * range.start / 30.0;
        assert!(
            starts
                .iter()
                .any(|&s| (s as f64) <= at && (s as f64) >= at - size * 3.0 / 30.0),
            "chunk {} at {at}: {starts:?}",
            range.index
        );
    }
    // About four requests per opening of the file (its start, the index at its end, the
    // media's start, the seek): two chunks, the rest's audio and text runs, its stills' seeks.
    assert!(starts.len() <= 24, "{starts:?}");

    assert_eq!(c.output.audio_tracks.len(), 2);
    assert_eq!(c.output.text_tracks.len(), 1);
    compare(dir.path(), &src, &single_dir, &single, &c, 30.0);
}

/// Fixed bitrates, 29.97 fps (keyframes on the first frame at or past each 2 s), an MP4 with
/// one track: the same as a single job.
#[tokio::test]
async fn chunked_at_29_97_in_fixed_mode_is_a_single_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x180:rate=30000/1001:duration=26",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=44100:duration=26",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-g",
        "60",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-ac",
        "2",
        src.to_str().unwrap(),
    ]);
    let probe = probe::probe(&src, PROBE_TIMEOUT).await.unwrap();
    let opts = opts(&[(180, 300_000), (120, 150_000)], LadderMode::Fixed);
    let single_dir = dir.path().join("single");
    let single = transcode::video(&src, &single_dir, &probe, &opts, |_| {})
        .await
        .unwrap();
    let c = run_chunked(&src, &probe, &opts, &dir.path().join("chunked"), None).await;
    assert_eq!(c.plan.chunks(), 4, "{:?}", c.plan.ranges);
    assert_eq!(c.output.renditions.len(), 2);
    compare(dir.path(), &src, &single_dir, &single, &c, 26.0);
}

/// No audio: no rest audio, no audio group; still the single job's output.
#[tokio::test]
async fn a_video_without_audio() {
    let dir = tempfile::tempdir().unwrap();
    let src = make_video(dir.path(), "silent.mp4", 320, 180, 25, 12.0, false);
    let probe = probe::probe(&src, PROBE_TIMEOUT).await.unwrap();
    let opts = opts(&[(180, 300_000)], LadderMode::Fixed);
    let single_dir = dir.path().join("single");
    let single = transcode::video(&src, &single_dir, &probe, &opts, |_| {})
        .await
        .unwrap();
    let c = run_chunked(&src, &probe, &opts, &dir.path().join("chunked"), None).await;
    assert_eq!(c.plan.chunks(), 2, "{:?}", c.plan.ranges);
    assert!(!c.output.audio && c.rest.audio.is_empty() && c.rest.mpd.is_none());
    // Without audio the master is there as soon as chunk 0 is.
    let early = chunked::provisional(&c.plan, &c.chunks[..1], None).unwrap();
    assert!(early
        .iter()
        .any(|(p, t)| p == "stream/master.m3u8" && !t.contains("AUDIO")));
    compare(dir.path(), &src, &single_dir, &single, &c, 12.0);
}

/// HEVC beside H.264 (VIDEO_CODECS=h264,hevc): the extra codec's streams are numbered after
/// the audio, as in a single job, and continue across the border too.
#[tokio::test]
async fn with_hevc_beside_h264() {
    let c = extra_codec_like_a_single_job("h264,hevc", LadderMode::Fixed, "hvc1.").await;
    let streams: Vec<usize> = c.chunks[0].streams.iter().map(|s| s.stream).collect();
    assert_eq!(streams, [0, 2]);
}

/// AV1 beside H.264 in adaptive mode: the AV1 streams take the plan's rung CRFs exactly as a
/// single job's do (the same bytes, packets and cuts, compared file by file); the plan carries
/// the CRFs its one run of AV1 trials chose, which the encode report gives.
#[tokio::test]
async fn with_av1_beside_h264() {
    let c = extra_codec_like_a_single_job("h264,av1", LadderMode::Adaptive, "av01.").await;
    let plan = serde_json::to_value(&c.plan).unwrap();
    let av1 = c.output.encode.rungs.iter().find(|r| r.codec == "av1");
    let reported = av1.and_then(|r| r.crf).map(u64::from);
    assert_eq!(
        plan["av1_crfs"]
            .as_array()
            .map(|a| a.iter().map(|c| c.as_u64()).collect::<Vec<_>>()),
        Some(vec![reported]),
        "{plan}"
    );
}

/// A slide deck with AV1 asked for: the plan's AV1 trials find it would not pay, so every part
/// encodes without it — and, as the single job then does, forces keyframes by time again, not
/// by frame number as beside AV1 (at 12.5 fps with a keyframe every second the two part at the
/// second keyframe). The chunked output is the single job's, warning included.
#[tokio::test]
async fn av1_left_out_of_a_slide_deck_in_every_part() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("slides.mp4");
    make_slides(&src, 320, 180, "25/2", 6, true);
    let probe = probe::probe(&src, PROBE_TIMEOUT).await.unwrap();
    let opts = VideoOptions {
        codecs: transcode::CodecOptions {
            extra: transcode::parse_codec_list("h264,av1").unwrap(),
            ..Default::default()
        },
        keyframe_seconds: 1,
        ..opts(&[(180, 300_000)], LadderMode::Adaptive)
    };
    let single_dir = dir.path().join("single");
    let single = transcode::video(&src, &single_dir, &probe, &opts, |_| {})
        .await
        .unwrap();
    let c = run_chunked(&src, &probe, &opts, &dir.path().join("chunked"), None).await;
    assert_eq!(c.plan.chunks(), 2, "{:?}", c.plan.ranges);
    let plan = serde_json::to_value(&c.plan).unwrap();
    assert!(
        plan["av1_skip"]
            .as_str()
            .is_some_and(|w| w.starts_with("published without AV1")),
        "{plan}"
    );
    assert!(c
        .output
        .renditions
        .iter()
        .all(|r| r.codecs.starts_with("avc1.")));
    assert!(
        c.output
            .warnings
            .iter()
            .any(|w| w.starts_with("published without AV1")),
        "{:?}",
        c.output.warnings
    );
    compare(dir.path(), &src, &single_dir, &single, &c, 12.0);
}

/// A 12 s 320x180 source in two chunks with `codecs` (`VIDEO_CODECS`): the chunked output
/// equals a single job's, and the extra codec's first stream names `codec_prefix`.
async fn extra_codec_like_a_single_job(
    codecs: &str,
    mode: LadderMode,
    codec_prefix: &str,
) -> Chunked {
    let dir = tempfile::tempdir().unwrap();
    let src = make_video(dir.path(), "extra.mp4", 320, 180, 25, 12.0, true);
    let probe = probe::probe(&src, PROBE_TIMEOUT).await.unwrap();
    let opts = VideoOptions {
        codecs: transcode::CodecOptions {
            extra: transcode::parse_codec_list(codecs).unwrap(),
            ..Default::default()
        },
        ..opts(&[(180, 300_000)], mode)
    };
    let single_dir = dir.path().join("single");
    let single = transcode::video(&src, &single_dir, &probe, &opts, |_| {})
        .await
        .unwrap();
    let c = run_chunked(&src, &probe, &opts, &dir.path().join("chunked"), None).await;
    assert_eq!(c.plan.chunks(), 2, "{:?}", c.plan.ranges);
    assert!(
        c.chunks[0].streams[1].codecs.starts_with(codec_prefix),
        "{:?}",
        c.chunks[0].streams
    );
    compare(dir.path(), &src, &single_dir, &single, &c, 12.0);
    c
}

/// 50 fps: the 360p rung runs at 25 (half the rate), the 540p one at 50; every chunk starts on
/// a frame both keep.
#[tokio::test]
async fn half_rate_rungs() {
    let dir = tempfile::tempdir().unwrap();
    let src = make_video(dir.path(), "fifty.mp4", 960, 540, 50, 12.0, true);
    let probe = probe::probe(&src, PROBE_TIMEOUT).await.unwrap();
    let opts = opts(&[(540, 900_000), (360, 400_000)], LadderMode::Fixed);
    let single_dir = dir.path().join("single");
    let single = transcode::video(&src, &single_dir, &probe, &opts, |_| {})
        .await
        .unwrap();
    let c = run_chunked(&src, &probe, &opts, &dir.path().join("chunked"), None).await;
    assert_eq!(c.plan.chunks(), 2, "{:?}", c.plan.ranges);
    let rates: Vec<String> = single
        .encode
        .rungs
        .iter()
        .map(|r| format!("{}", r.fps))
        .collect();
    assert_eq!(rates, ["50", "25"]);
    compare(dir.path(), &src, &single_dir, &single, &c, 12.0);
}

/// A 3.5-minute 720p source (a storyboard tile every 3 s, a keyframe every half second), read
/// over HTTP: the rest job decodes only around its stills (the thumbnail and the last chunk's
/// storyboard tiles) and the source's last seconds — ffmpeg's own count of the video frames it
/// decoded is a small part of the source's — and its thumbnail and audio are still a single
/// job's, byte for byte and packet for packet (its tiles go into the sprite the other tests
/// compare with a single job's).
#[tokio::test]
async fn the_rest_decodes_only_around_its_stills() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("long.mp4");
    let seconds = 210;
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &format!("testsrc2=size=1280x720:rate=30:duration={seconds}"),
        "-f",
        "lavfi",
        "-i",
        &format!("sine=frequency=440:sample_rate=48000:duration={seconds}"),
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-g",
        "15",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-ac",
        "2",
        src.to_str().unwrap(),
    ]);
    let probe = probe::probe(&src, PROBE_TIMEOUT).await.unwrap();
    let opts = opts(&[(180, 300_000)], LadderMode::Fixed);
    let single_dir = dir.path().join("single");
    let single = transcode::video(&src, &single_dir, &probe, &opts, |_| {})
        .await
        .unwrap();
    let plan = chunked::plan(&src, &probe, &opts, &CHUNKS, dir.path())
        .await
        .unwrap()
        .expect("a chunked plan");
    let (url, _) = serve(src.clone()).await;
    let rest_dir = dir.path().join("rest");
    let rest = chunked::encode_rest(&Input::Url(url), &rest_dir, &plan, &opts, |_| {})
        .await
        .unwrap();

    let frames = seconds * 30;
    let decoded = rest
        .video_frames_decoded
        .expect("the rest job decoded the whole video");
    println!("the rest job decoded {decoded} of the source's {frames} frames");
    assert!(
        decoded > 0 && decoded * 4 <= frames,
        "{decoded} of {frames}"
    );

    // The single job's thumbnail.
    let f = &single.thumbnail;
    assert!(rest.files.contains(f), "{f} not in {:?}", rest.files);
    assert!(
        std::fs::read(rest_dir.join(f)).unwrap() == std::fs::read(single_dir.join(f)).unwrap(),
        "{f} differs"
    );
    // The storyboard's tiles from the last chunk's start to the single job's last one; no
    // sprite (the final step's).
    let vtt = single.storyboard_vtt.clone().expect("a storyboard");
    let tiles = std::fs::read_to_string(single_dir.join(vtt))
        .unwrap()
        .matches("#xywh=")
        .count();
    assert_eq!(rest.tiles_total, Some(tiles as u32));
    // Tile n is the last frame before (n - 0.5) × 3 s: frame (2n - 1) × 45 - 1 at 30 fps.
    let last_chunk = (plan.ranges.last().unwrap().start * 30.0).round() as usize;
    let expected: Vec<String> = (1..=tiles)
        .filter(|n| (2 * n - 1) * 45 > last_chunk)
        .map(|n| format!(".storyboard-tiles/{n:05}.jpg"))
        .collect();
    assert_eq!(rest.tiles, expected);
    assert!(!rest.files.iter().any(|f| f.starts_with("storyboard")));
    // The single job's audio: its playlist, its MPD timeline, every packet.
    assert_eq!(rest.audio.len(), 1);
    let a = &rest.audio[0];
    let uri = format!("media_{}.m3u8", a.stream);
    let (rs, ss) = (rest_dir.join("stream"), single_dir.join("stream"));
    assert_eq!(
        std::fs::read_to_string(rs.join(&uri)).unwrap(),
        std::fs::read_to_string(ss.join(&uri)).unwrap()
    );
    let timeline = |mpd: &str| {
        timelines(mpd)
            .into_iter()
            .find(|(id, _)| *id == a.stream.to_string())
            .unwrap()
    };
    assert_eq!(
        timeline(rest.mpd.as_deref().unwrap()),
        timeline(&std::fs::read_to_string(ss.join("manifest.mpd")).unwrap())
    );
    let (joined, reference) = (dir.path().join("rest.mp4"), dir.path().join("single.mp4"));
    concat_rendition(&rs, &read_media_playlist(&rs, &uri), &joined);
    concat_rendition(&ss, &read_media_playlist(&ss, &uri), &reference);
    assert_eq!(dts(&joined, "a"), dts(&reference, "a"));
}

/// A video that stops before its probed duration (an upload cut short after its index): its
/// end does not decode where the probe says, so nothing tells where its last frame is but a
/// full decode — the rest job decodes all of it, as it did before it learnt to seek, and
/// still makes its stills. The whole file decodes only its end and stills.
#[tokio::test]
async fn a_rest_whose_video_stops_early_decodes_all_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x180:rate=30:duration=20",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000:duration=20",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-movflags",
        "+faststart",
        src.to_str().unwrap(),
    ]);
    let probe = probe::probe(&src, PROBE_TIMEOUT).await.unwrap();
    let o = opts(&[(180, 300_000)], LadderMode::Fixed);
    let plan = chunked::plan(&src, &probe, &o, &CHUNKS, dir.path())
        .await
        .unwrap()
        .unwrap();
    let bytes = std::fs::read(&src).unwrap();
    let cut = dir.path().join("cut.mp4");
    std::fs::write(&cut, &bytes[..bytes.len() * 12 / 20]).unwrap();
    let rest = chunked::encode_rest(
        &Input::from(cut.as_path()),
        &dir.path().join("cut-rest"),
        &plan,
        &o,
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(rest.video_frames_decoded, None, "not a full decode");
    // Every tile from the one decode (the chunks' too: which are the last chunk's depends on
    // where the video really ends).
    let total = rest.tiles_total.unwrap();
    assert!(total > 0 && rest.tiles.len() == total as usize, "{rest:?}");
    assert!(
        rest.files.iter().any(|f| f == "thumbnail.jpg"),
        "{:?}",
        rest.files
    );
    assert_eq!(rest.audio.len(), 1);

    let whole = chunked::encode_rest(
        &Input::from(src.as_path()),
        &dir.path().join("rest"),
        &plan,
        &o,
        |_| {},
    )
    .await
    .unwrap();
    assert!(whole.video_frames_decoded.is_some());
    assert!(!whole.tiles.is_empty() && whole.tiles.len() < total as usize);
}

/// Workers spawn these: every future is `Send` (a compile-time check).
#[allow(dead_code)]
fn futures_are_send(plan: &chunked::ChunkedPlan, chunks: &[chunked::ChunkOutput]) {
    fn send<T: Send>(_: T) {}
    let (o, p, i) = (
        VideoOptions::default(),
        Path::new("x"),
        Input::Url("x".into()),
    );
    send(chunked::plan(p, &plan_probe(), &o, &CHUNKS, p));
    send(chunked::encode_chunk(&i, p, plan, 0, &o, |_| {}));
    send(chunked::encode_rest(&i, p, plan, &o, |_| {}));
    let rest: chunked::RestOutput = serde_json::from_str("{}").unwrap();
    send(chunked::assemble(p, plan, chunks, &rest, &o));
}

fn plan_probe() -> probe::ProbeInfo {
    serde_json::from_str("{}").unwrap()
}

#[tokio::test]
async fn plan_refuses_what_runs_as_one_job_and_bad_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let src = make_video(dir.path(), "short.mp4", 320, 180, 30, 12.0, true);
    let probe = probe::probe(&src, PROBE_TIMEOUT).await.unwrap();
    let o = opts(&[(180, 300_000)], LadderMode::Fixed);
    // Below the threshold, chunking off: one job.
    let above = ChunkSettings {
        chunk_seconds: 4,
        min_seconds: 12,
    };
    assert!(chunked::plan(&src, &probe, &o, &above, dir.path())
        .await
        .unwrap()
        .is_none());
    let off = ChunkSettings {
        chunk_seconds: 0,
        min_seconds: 0,
    };
    assert!(chunked::plan(&src, &probe, &o, &off, dir.path())
        .await
        .unwrap()
        .is_none());
    let audio = dir.path().join("a.m4a");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=duration=20",
        "-c:a",
        "aac",
        audio.to_str().unwrap(),
    ]);
    let audio_probe = probe::probe(&audio, PROBE_TIMEOUT).await.unwrap();
    assert!(chunked::plan(&audio, &audio_probe, &o, &CHUNKS, dir.path())
        .await
        .unwrap()
        .is_none());

    let plan = chunked::plan(&src, &probe, &o, &CHUNKS, dir.path())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(plan.chunks(), 2, "{:?}", plan.ranges);
    let e = chunked::encode_chunk(
        &Input::from(src.as_path()),
        &dir.path().join("c"),
        &plan,
        2,
        &o,
        |_| {},
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("chunk index 2"), "{e}");
    assert!(!e.is_permanent());
    // Options that cut differently from the plan's.
    let other = VideoOptions {
        segment_seconds: 4,
        ..o.clone()
    };
    let e = chunked::encode_chunk(
        &Input::from(src.as_path()),
        &dir.path().join("c"),
        &plan,
        0,
        &other,
        |_| {},
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("2 s segments"), "{e}");
}

/// A source that breaks off in the middle of a chunk fails that chunk as it fails a single
/// encode: permanently (the upload is truncated).
#[tokio::test]
async fn an_input_failing_mid_chunk_is_classified_as_a_whole_encode() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x180:rate=30:duration=20",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-movflags",
        "+faststart",
        src.to_str().unwrap(),
    ]);
    let probe = probe::probe(&src, PROBE_TIMEOUT).await.unwrap();
    let o = opts(&[(180, 300_000)], LadderMode::Fixed);
    let plan = chunked::plan(&src, &probe, &o, &CHUNKS, dir.path())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(plan.chunks(), 3);
    // Cut off about 12 s in: in the middle of chunk 1 (8–16 s).
    let bytes = std::fs::read(&src).unwrap();
    let cut = dir.path().join("cut.mp4");
    std::fs::write(&cut, &bytes[..bytes.len() * 12 / 20]).unwrap();
    let single = transcode::video(&cut, &dir.path().join("single"), &probe, &o, |_| {})
        .await
        .unwrap_err();
    let chunk = chunked::encode_chunk(
        &Input::from(cut.as_path()),
        &dir.path().join("chunk"),
        &plan,
        1,
        &o,
        |_| {},
    )
    .await
    .unwrap_err();
    assert_eq!(
        chunk.is_permanent(),
        single.is_permanent(),
        "chunk: {chunk}; single: {single}"
    );
    assert!(chunk.is_permanent(), "{chunk}");
    // The chunk before the cut is fine.
    chunked::encode_chunk(
        &Input::from(cut.as_path()),
        &dir.path().join("chunk0"),
        &plan,
        0,
        &o,
        |_| {},
    )
    .await
    .unwrap();
}

/// Not a timed test: the chunking overhead on a 2-minute 1280x720 source, printed. Run with
/// `cargo test -p mediaserver-media --test chunked -- --ignored --nocapture overhead`
/// (`CHUNKED_BENCH_SECONDS`, `CHUNKED_BENCH_PRESET` change the source length and preset).
#[tokio::test]
#[ignore]
async fn overhead() {
    let seconds: u32 = std::env::var("CHUNKED_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(120);
    let preset = std::env::var("CHUNKED_BENCH_PRESET").unwrap_or_else(|_| "veryfast".into());
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &format!("testsrc2=size=1280x720:rate=30:duration={seconds}"),
        "-f",
        "lavfi",
        "-i",
        &format!("sine=frequency=440:sample_rate=48000:duration={seconds}"),
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-g",
        "60",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-ac",
        "2",
        src.to_str().unwrap(),
    ]);
    let probe = probe::probe(&src, PROBE_TIMEOUT).await.unwrap();
    let o = VideoOptions {
        preset: preset.clone(),
        timeout: Duration::from_secs(3600),
        ..Default::default()
    };
    let settings = ChunkSettings {
        chunk_seconds: 30,
        min_seconds: 10,
    };
    let cpu = children_cpu;
    let (c0, t0) = (cpu(), std::time::Instant::now());
    let single = transcode::video(&src, &dir.path().join("single"), &probe, &o, |_| {})
        .await
        .unwrap();
    let (single_cpu, single_wall) = (cpu() - c0, t0.elapsed().as_secs_f64());
    let (c1, t1) = (cpu(), std::time::Instant::now());
    let plan = chunked::plan(&src, &probe, &o, &settings, dir.path())
        .await
        .unwrap()
        .unwrap();
    let mut chunks = Vec::new();
    let mut walls = Vec::new();
    for range in &plan.ranges {
        let t = std::time::Instant::now();
        let out = chunked::encode_chunk(
            &Input::from(src.as_path()),
            &dir.path().join("final"),
            &plan,
            range.index,
            &o,
            |_| {},
        )
        .await
        .unwrap();
        walls.push(t.elapsed().as_secs_f64());
        // Each chunk's scratch is the same directory here: keep what it wrote aside.
        let keep = dir.path().join(format!("kept-{}", range.index));
        std::fs::rename(dir.path().join("final"), &keep).unwrap();
        chunks.push(out);
    }
    let t = std::time::Instant::now();
    let rest = chunked::encode_rest(
        &Input::from(src.as_path()),
        &dir.path().join("rest"),
        &plan,
        &o,
        |_| {},
    )
    .await
    .unwrap();
    let rest_wall = t.elapsed().as_secs_f64();
    std::fs::create_dir_all(dir.path().join("final/stream")).unwrap();
    for init in std::fs::read_dir(dir.path().join("kept-0/stream"))
        .unwrap()
        .flatten()
    {
        let name = init.file_name().to_string_lossy().into_owned();
        if name.starts_with("init-") {
            std::fs::copy(init.path(), dir.path().join("final/stream").join(&name)).unwrap();
        }
    }
    let t = std::time::Instant::now();
    let assembled = chunked::assemble(&dir.path().join("final"), &plan, &chunks, &rest, &o)
        .await
        .unwrap();
    let assemble_wall = t.elapsed().as_secs_f64();
    let (chunked_cpu, chunked_wall) = (cpu() - c1, t1.elapsed().as_secs_f64());
    println!(
        "source {seconds} s 1280x720 30 fps, preset {preset}, {} chunks of {} s, {} rungs",
        plan.chunks(),
        settings.chunk_seconds,
        single.renditions.len()
    );
    println!("single video(): wall {single_wall:.1} s, cpu {single_cpu:.1} s");
    println!(
        "chunked (plan + {} chunks + rest + assemble, one after another): wall {chunked_wall:.1} s, cpu {chunked_cpu:.1} s",
        plan.chunks()
    );
    println!("  chunk walls {walls:.1?}, rest {rest_wall:.1} s, assemble {assemble_wall:.2} s");
    let chunk_cpu: Vec<f64> = chunks.iter().filter_map(|c| c.cpu_seconds).collect();
    println!(
        "  ffmpeg cpu: chunks {chunk_cpu:.1?}, rest {:.1} s; single encode {:.1} s",
        rest.cpu_seconds.unwrap_or(0.0),
        single.encode.cpu_seconds.unwrap_or(0.0)
    );
    println!(
        "  rest job: video frames decoded {} (None: every frame), of {} in the source",
        rest.video_frames_decoded
            .map_or("None".to_string(), |n| n.to_string()),
        seconds * 30
    );
    println!(
        "  overhead: wall ×{:.3}, cpu ×{:.3}",
        chunked_wall / single_wall,
        chunked_cpu / single_cpu
    );
    assert_eq!(assembled.output.renditions.len(), single.renditions.len());
}

/// User + system seconds of this process's reaped children (every ffmpeg run), from
/// /proc/self/stat (`cutime`, `cstime`; 100 ticks a second, Linux's USER_HZ).
fn children_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // stat fields 16 and 17 are the 14th and 15th after the command name.
    let ticks: f64 = fields[13].parse::<f64>().unwrap() + fields[14].parse::<f64>().unwrap();
    ticks / 100.0
}

/// An interlaced source (25i, flagged top field first) through the chunked path: deinterlaced
/// as a single job deinterlaces it (`bwdif`, one frame per frame), the same segments and
/// timing, progressive output (ffmpeg's `idet` on every rung), SSIM within 0.003 of the single
/// job's. Not byte-identical: `bwdif` at a chunk's first frame has no previous field to look
/// at, so that frame's pixels differ slightly (the timing does not).
#[tokio::test]
async fn an_interlaced_source() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("interlaced.mkv");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=50:duration=14,interlace=scan=tff",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000:duration=14",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-flags",
        "+ildct+ilme",
        "-top",
        "1",
        "-g",
        "50",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        src.to_str().unwrap(),
    ]);
    let probe = probe::probe(&src, PROBE_TIMEOUT).await.unwrap();
    assert_eq!(
        probe.video.as_ref().unwrap().interlaced(),
        Some(true),
        "the source is flagged interlaced: {probe:?}"
    );
    let opts = opts(&[(240, 500_000), (120, 150_000)], LadderMode::Fixed);
    let single_dir = dir.path().join("single");
    let single = transcode::video(&src, &single_dir, &probe, &opts, |_| {})
        .await
        .unwrap();
    assert!(single.interlaced);
    let c = run_chunked(&src, &probe, &opts, &dir.path().join("chunked"), None).await;
    assert_eq!(c.plan.chunks(), 2, "{:?}", c.plan.ranges);
    // `compare` checks timing, segments and SSIM, not the media segments' bytes.
    compare(dir.path(), &src, &single_dir, &single, &c, 14.0);
    // Every rung as published by the chunks is progressive.
    for r in &c.output.renditions {
        let joined = dir.path().join(format!("chunked-{}.mp4", r.name));
        let (interlaced, progressive) = idet(&joined);
        assert!(
            interlaced * 20 <= progressive && progressive > 0,
            "{}: idet says {interlaced} interlaced, {progressive} progressive frames",
            r.name
        );
    }
}

/// Made for progressive publishing (4 s segments, 2 s keyframes): the single encode cuts a 2 s
/// first segment and keyframes at 2, 6, 10 … s (`head.rs`), so the chunks start on those cuts
/// and force the same keyframes, and the rest job's audio is cut where that video cuts it —
/// the same segments, timelines and stills as the progressive single job's.
#[tokio::test]
async fn a_plan_for_progressive_publishing_cuts_a_short_first_segment() {
    let dir = tempfile::tempdir().unwrap();
    let src = make_video(dir.path(), "src.mp4", 320, 180, 30, 20.0, true);
    let probe = probe::probe(&src, PROBE_TIMEOUT).await.unwrap();
    // Progressive packaging: the updates are not read here (the sender never waits).
    let (tx, _rx) = tokio::sync::mpsc::channel(64);
    let opts = VideoOptions {
        segment_seconds: 4,
        packaging: Some(tx),
        ..opts(&[(180, 300_000)], LadderMode::Fixed)
    };
    let single_dir = dir.path().join("single");
    let single = transcode::video(&src, &single_dir, &probe, &opts, |_| {})
        .await
        .unwrap();
    let c = run_chunked(&src, &probe, &opts, &dir.path().join("chunked"), None).await;
    // Chunks of 8 s on the 4 s grid moved onto the cuts after the 2 s segment: 6 and 14 s.
    let starts: Vec<f64> = c.plan.ranges.iter().map(|r| r.start).collect();
    assert_eq!(starts, [0.0, 6.0, 14.0], "{:?}", c.plan.ranges);
    let playlist = std::fs::read_to_string(c.published.join("stream/media_0.m3u8")).unwrap();
    let first = playlist
        .lines()
        .find_map(|l| l.strip_prefix("#EXTINF:"))
        .unwrap();
    assert!(first.starts_with("2.0"), "{playlist}");
    compare(dir.path(), &src, &single_dir, &single, &c, 20.0);
}

/// With the adaptive ladder a plan made for progressive publishing runs a head while its
/// complexity probe runs (`head.rs`) and reports the head's first segment of every stream and
/// the provisional master. Chunk 0 and the rest job continue it: their init segments are the
/// head's byte for byte (so the pipeline keeps the head's first segments, which players may
/// already hold: `ChunkedPlan::head`), the audio's first segment is the head's, and the head's
/// first video segment followed by chunk 0's next ones decodes as one stream, every frame.
/// Chunk 0 reports its segments after the head's as they complete.
#[tokio::test]
async fn a_head_published_while_planning_is_continued_by_chunk_0_and_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    // 720p: chunk 0's encode lasts long enough for the watcher to see segments complete.
    let src = make_video(dir.path(), "src.mp4", 1280, 720, 30, 20.0, true);
    let probe = probe::probe(&src, PROBE_TIMEOUT).await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let opts = VideoOptions {
        segment_seconds: 4,
        packaging: Some(tx),
        ..opts(&[(720, 2_800_000)], LadderMode::Adaptive)
    };
    let split = dir.path().join("split");
    std::fs::create_dir_all(&split).unwrap();
    // Chunk 0 long enough to report segments while it runs: 2 + 3 × 4 s.
    let chunks = ChunkSettings {
        chunk_seconds: 16,
        min_seconds: 10,
    };
    let plan = chunked::plan(&src, &probe, &opts, &chunks, &split)
        .await
        .unwrap()
        .expect("a chunked plan");
    assert_eq!(plan.head, [0, 1], "the rung and the audio");
    assert_eq!(plan.ranges[0].end, 14.0, "{:?}", plan.ranges);
    let mut update = rx.try_recv().expect("the head was reported");
    while let Ok(more) = rx.try_recv() {
        update.merge(more);
    }
    let master = update.master.as_deref().expect("a provisional master");
    assert!(
        master.contains("media_0.m3u8") && master.contains("media_1.m3u8"),
        "{master}"
    );
    for (stream, init, first) in plan.head_files() {
        assert!(update.ready_files.contains(&init), "{stream}: {update:?}");
        assert!(update.ready_files.contains(&first), "{stream}: {update:?}");
    }

    // The parts, as the pipeline runs them: chunk 0 reporting its segments as they come.
    let (chunk_tx, mut chunk_rx) = tokio::sync::mpsc::channel(64);
    let parts = VideoOptions {
        packaging: Some(chunk_tx),
        ..opts.clone()
    };
    let input = Input::from(src.as_path());
    let chunk_dir = dir.path().join("chunk-0");
    let chunk = chunked::encode_chunk(&input, &chunk_dir, &plan, 0, &parts, |_| {})
        .await
        .unwrap();
    let parts = VideoOptions {
        packaging: None,
        ..parts
    };
    // What chunk 0 reported: its segments after the head's (not the head's init or first
    // segment again) and its own audio's, each listed in an EVENT playlist, all but those that
    // end near the chunk's end.
    let mut reported: Vec<String> = Vec::new();
    let mut playlists = std::collections::BTreeMap::new();
    while let Ok(u) = chunk_rx.try_recv() {
        assert!(u.master.is_none(), "{u:?}");
        reported.extend(u.ready_files);
        playlists.extend(u.playlists);
    }
    let (video, audio): (Vec<String>, Vec<String>) = reported
        .iter()
        .cloned()
        .partition(|f| f.starts_with("stream/chunk-0-"));
    let own: Vec<String> = chunk.streams[0]
        .segments
        .iter()
        .map(|seg| format!("stream/chunk-0-{:05}.m4s", seg.number))
        .collect();
    println!(
        "chunk 0 reported {} video and {} audio segments while it ran",
        video.len(),
        audio.len()
    );
    assert!(!video.is_empty(), "chunk 0 reported no video while it ran");
    assert_eq!(video, own[1..=video.len()], "{reported:?}");
    assert!(!audio.is_empty(), "chunk 0 reported no audio while it ran");
    for f in &reported {
        let (stream, _) = transcode::segment_stream(f).unwrap();
        let playlist = &playlists[&format!("stream/media_{stream}.m3u8")];
        assert!(
            playlist.contains("#EXT-X-PLAYLIST-TYPE:EVENT\n"),
            "{playlist}"
        );
        assert!(
            playlist.contains(f.trim_start_matches("stream/")),
            "{f}: {playlist}"
        );
    }
    // Its record names only its video; the audio is the rest job's to record.
    assert!(
        chunk.files.iter().all(|f| !audio.contains(f)),
        "{:?}",
        chunk.files
    );
    let rest_dir = dir.path().join("rest");
    let rest = chunked::encode_rest(&input, &rest_dir, &plan, &parts, |_| {})
        .await
        .unwrap();
    let read = |p: PathBuf| std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    for (stream, init, first) in plan.head_files() {
        let (part_dir, files) = if stream == 0 {
            (&chunk_dir, &chunk.files)
        } else {
            (&rest_dir, &rest.files)
        };
        assert!(files.contains(&init) && files.contains(&first), "{files:?}");
        assert!(
            read(split.join(&init)) == read(part_dir.join(&init)),
            "stream {stream}: the head's init segment differs from the part's"
        );
        if stream == 1 {
            assert!(
                read(split.join(&first)) == read(part_dir.join(&first)),
                "the head's audio segment differs from the rest job's"
            );
        }
    }
    // The audio chunk 0 published is the rest job's, byte for byte.
    for f in &audio {
        assert!(rest.files.contains(f), "{f}: {:?}", rest.files);
        assert!(
            read(chunk_dir.join(f)) == read(rest_dir.join(f)),
            "{f}: chunk 0's audio differs from the rest job's"
        );
    }

    // The head's first segment, then chunk 0's own from the second on.
    let (_, init, first) = &plan.head_files()[0];
    let mut joined = read(split.join(init));
    joined.extend(read(split.join(first)));
    let segments = &chunk.streams[0].segments;
    assert_eq!(segments[0].number, 1);
    for seg in &segments[1..] {
        joined.extend(read(
            chunk_dir.join(format!("stream/chunk-0-{:05}.m4s", seg.number)),
        ));
    }
    let path = dir.path().join("joined.mp4");
    std::fs::write(&path, joined).unwrap();
    let frames = ffprobe_json(
        &path,
        &["-count_frames", "-show_entries", "stream=nb_read_frames"],
    );
    let expected = (plan.ranges[0].end * 30.0).round() as u64;
    assert_eq!(
        frames["streams"][0]["nb_read_frames"],
        expected.to_string(),
        "{frames}"
    );
    let decode = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&path)
        .args(["-f", "null", "-"])
        .output()
        .unwrap();
    assert!(
        decode.status.success() && decode.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&decode.stderr)
    );
}

/// A phone-style HDR source (10-bit HEVC, BT.2020 PQ with mastering metadata): the chunks
/// tone-map in the chain before their split (the storyboard tiles they pick included) and the
/// rest job after picking its stills; the rungs, thumbnail and sprite are still a single job's
/// (`compare`: the files byte for byte where they are stills, the rungs by SSIM), and BT.709.
#[tokio::test]
async fn an_hdr_source() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("pq.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x180:rate=25:duration=12",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000:duration=12",
        "-vf",
        "zscale=tin=bt709:pin=bt709:min=bt709:t=smpte2084:p=bt2020:m=bt2020nc:npl=100,format=yuv420p10le",
        "-c:v",
        "libx265",
        "-preset",
        "ultrafast",
        "-x265-params",
        "crf=16:keyint=25:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc:hdr10=1:\
         master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1):\
         max-cll=1000,400:log-level=error",
        "-tag:v",
        "hvc1",
        "-c:a",
        "aac",
        src.to_str().unwrap(),
    ]);
    let probe = probe::probe(&src, PROBE_TIMEOUT).await.unwrap();
    let v = probe.video.as_ref().unwrap();
    assert_eq!(v.color_transfer.as_deref(), Some("smpte2084"), "{v:?}");
    let opts = opts(&[(180, 300_000)], LadderMode::Fixed);
    let single_dir = dir.path().join("single");
    let single = transcode::video(&src, &single_dir, &probe, &opts, |_| {})
        .await
        .unwrap();
    assert!(single.hdr.is_some(), "tone-mapped: {:?}", single.hdr);
    let c = run_chunked(&src, &probe, &opts, &dir.path().join("chunked"), None).await;
    assert_eq!(c.plan.chunks(), 2, "{:?}", c.plan.ranges);
    assert!(!c.chunks[0].tiles.is_empty(), "chunk 0 picked no tile");
    compare(dir.path(), &src, &single_dir, &single, &c, 12.0);
}

/// (interlaced, progressive) frame counts of `idet`'s multi-frame detection over `file`.
fn idet(file: &Path) -> (u64, u64) {
    let out = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-i"])
        .arg(file)
        .args(["-map", "0:v", "-vf", "idet", "-f", "null", "-"])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    let line = log
        .lines()
        .rfind(|l| l.contains("Multi frame detection:"))
        .unwrap_or_else(|| panic!("no idet summary: {log}"));
    let count = |label: &str| -> u64 {
        line.split(label)
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{label} in {line}"))
    };
    (count("TFF:") + count("BFF:"), count("Progressive:"))
}
