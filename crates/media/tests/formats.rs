//! Sources people upload, each made with ffmpeg and processed to a correct ladder: 10-bit
//! H.264 (4:2:0, and 4:2:2 Intra 50p in MXF), HEVC 8/10-bit, ProRes 422, DNxHR in MOV and MXF,
//! alpha (ProRes 4444, QuickTime Animation, VP9), VP9/AV1 with Opus in WebM and MKV, MPEG-2
//! with MP2 or AC-3 5.1 in MPEG-TS (progressive and interlaced), MJPEG and PCM in AVI, DV.
//! Every rung is checked with ffprobe on what was published (H.264 8-bit 4:2:0, square
//! pixels, constant frame rate at the source's, the source's duration within a frame, stereo
//! AAC), and both manifests are opened by ffprobe's own HLS and DASH demuxers. An audio track
//! ffmpeg has no decoder for is left out with a warning, not the whole video.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use mediaserver_media::ladder::LadderRung;
use mediaserver_media::probe;
use mediaserver_media::transcode::{self, AudioOptions, VideoOptions, VideoOutput};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

const SECONDS: f64 = 2.0;

/// Two small rungs: enough to see every rung is right, cheap to encode.
fn opts() -> VideoOptions {
    VideoOptions {
        preset: "ultrafast".into(),
        timeout: Duration::from_secs(300),
        ladder: [240, 144]
            .iter()
            .map(|&height| LadderRung {
                height,
                bitrate: 400_000,
            })
            .collect(),
        threads: Some(1),
        ..Default::default()
    }
}

/// ffmpeg's lavfi test picture, `w`x`h` at `rate`, [`SECONDS`] long.
fn picture(w: u32, h: u32, rate: &str) -> String {
    format!("testsrc2=size={w}x{h}:rate={rate}:duration={SECONDS}")
}

/// A 48 kHz tone of `layout` (mono, stereo, 5.1), [`SECONDS`] long.
fn tone(layout: &str) -> String {
    format!(
        "sine=frequency=440:sample_rate=48000:duration={SECONDS},aformat=channel_layouts={layout}"
    )
}

/// Makes `name` from a video source and an audio source (lavfi) and the codec arguments.
fn make(dir: &Path, name: &str, video: &str, audio: Option<&str>, codec: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let mut args = vec!["-f", "lavfi", "-i", video];
    if let Some(a) = audio {
        args.extend(["-f", "lavfi", "-i", a]);
    }
    args.extend(codec);
    let p = path.to_string_lossy().into_owned();
    args.push(&p);
    ffmpeg(&args);
    path
}

/// What the source is, as ffprobe reads it: (codec, pix_fmt, field_order) of its video and
/// (codec, channels) of its first audio stream.
fn source_streams(path: &Path) -> (String, String, String, Option<(String, u64)>) {
    let j = ffprobe_json(path, &["-show_streams"]);
    let streams = j["streams"].as_array().unwrap();
    let v = streams.iter().find(|s| s["codec_type"] == "video").unwrap();
    let a = streams.iter().find(|s| s["codec_type"] == "audio");
    let s = |v: &Value, k: &str| v[k].as_str().unwrap_or("").to_string();
    (
        s(v, "codec_name"),
        s(v, "pix_fmt"),
        s(v, "field_order"),
        a.map(|a| (s(a, "codec_name"), a["channels"].as_u64().unwrap())),
    )
}

struct Checked {
    out: VideoOutput,
    /// Where the outputs are.
    out_dir: PathBuf,
    /// Each rung concatenated into a playable file, highest first.
    rungs: Vec<PathBuf>,
}

/// Transcodes `input` and checks every published rung and both manifests against the source's
/// nominal `fps`, display aspect `aspect` and [`SECONDS`].
async fn transcode_and_check(input: &Path, fps: f64, aspect: f64) -> Checked {
    let info = probe::probe(input, Duration::from_secs(30)).await.unwrap();
    let name = input.file_name().unwrap().to_string_lossy().into_owned();
    let out_dir = input.with_file_name(format!("out-{name}"));
    let out = transcode::video(input, &out_dir, &info, &opts(), |_| {})
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", input.display()));
    let stream = out_dir.join("stream");
    assert!(!out.renditions.is_empty(), "{name}");

    let mut rungs = Vec::new();
    for i in 0..out.renditions.len() {
        let playlist = read_media_playlist(&stream, &format!("media_{i}.m3u8"));
        let file = out_dir.join(format!("rung-{i}.mp4"));
        concat_rendition(&stream, &playlist, &file);
        check_rung(&name, &file, fps, aspect);
        rungs.push(file);
    }
    // The audio: stereo AAC as long as the source, starting with the picture.
    let a = out.renditions.len();
    let playlist = read_media_playlist(&stream, &format!("media_{a}.m3u8"));
    let audio = out_dir.join("audio.mp4");
    concat_rendition(&stream, &playlist, &audio);
    let j = ffprobe_json(&audio, &["-show_streams"]);
    let s = &j["streams"][0];
    assert_eq!(
        (
            s["codec_name"].as_str(),
            s["profile"].as_str(),
            &s["channels"]
        ),
        (Some("aac"), Some("LC"), &Value::from(2)),
        "{name}: {s}"
    );
    let (_, end) = packets(&audio, "a");
    assert!((end - SECONDS).abs() < 0.1, "{name}: audio ends at {end}");

    // Both manifests open in ffprobe's own demuxers, with every rung and the audio.
    for manifest in ["master.m3u8", "manifest.mpd"] {
        let j = ffprobe_json(
            &stream.join(manifest),
            &[
                "-show_entries",
                "stream=codec_type,codec_name,width,height,pix_fmt,channels",
            ],
        );
        let streams = j["streams"].as_array().unwrap();
        let mut videos: Vec<(u64, u64)> = streams
            .iter()
            .filter(|s| s["codec_type"] == "video")
            .inspect(|s| {
                assert_eq!(
                    (s["codec_name"].as_str(), s["pix_fmt"].as_str()),
                    (Some("h264"), Some("yuv420p")),
                    "{name} {manifest}: {s}"
                )
            })
            .map(|s| (s["width"].as_u64().unwrap(), s["height"].as_u64().unwrap()))
            .collect();
        videos.sort_unstable();
        videos.dedup();
        assert_eq!(videos.len(), out.renditions.len(), "{name} {manifest}: {j}");
        assert!(
            streams
                .iter()
                .any(|s| s["codec_name"] == "aac" && s["channels"] == 2),
            "{name} {manifest}: {j}"
        );
    }
    Checked {
        out,
        out_dir,
        rungs,
    }
}

/// One rung: H.264 8-bit 4:2:0, square pixels, the display aspect, one frame duration
/// throughout at the source's rate, and the source's duration within a frame.
fn check_rung(name: &str, file: &Path, fps: f64, aspect: f64) {
    let j = ffprobe_json(file, &["-select_streams", "v:0", "-show_streams"]);
    let s = &j["streams"][0];
    assert_eq!(s["codec_name"], "h264", "{name}: {s}");
    assert_eq!(s["pix_fmt"], "yuv420p", "{name}: {s}");
    assert_eq!(s["field_order"], "progressive", "{name}: {s}");
    assert_eq!(s["sample_aspect_ratio"], "1:1", "{name}: {s}");
    let (w, h) = (s["width"].as_f64().unwrap(), s["height"].as_f64().unwrap());
    assert!(
        ((w / h) / aspect - 1.0).abs() < 0.01,
        "{name}: {w}x{h} is not {aspect:.4}"
    );
    let j = ffprobe_json(
        file,
        &[
            "-select_streams",
            "v:0",
            "-show_entries",
            "packet=pts_time,duration_time",
        ],
    );
    let packets = j["packets"].as_array().unwrap();
    let mut durations: Vec<f64> = packets
        .iter()
        .map(|p| p["duration_time"].as_str().unwrap().parse().unwrap())
        .collect();
    durations.dedup_by(|a, b| (*a - *b).abs() < 1e-4);
    assert_eq!(durations.len(), 1, "{name}: frame durations {durations:?}");
    assert!(
        (durations[0] - 1.0 / fps).abs() < 1e-3,
        "{name}: {} fps, expected {fps}",
        1.0 / durations[0]
    );
    let end = packets
        .iter()
        .map(|p| {
            p["pts_time"].as_str().unwrap().parse::<f64>().unwrap()
                + p["duration_time"].as_str().unwrap().parse::<f64>().unwrap()
        })
        .fold(0.0, f64::max);
    assert!(
        (end - SECONDS).abs() <= 1.0 / fps + 1e-3,
        "{name}: {end}s of {SECONDS}s ({} frames)",
        packets.len()
    );
}

/// The average colour (r, g, b) of a region of the first frame.
fn rgb_at(file: &Path, crop: &str) -> [u8; 3] {
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(file)
        .args(["-frames:v", "1", "-vf", &format!("crop={crop},scale=1:1")])
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    [out.stdout[0], out.stdout[1], out.stdout[2]]
}

#[tokio::test]
async fn h264_10_bit() {
    let dir = tempfile::tempdir().unwrap();
    let input = make(
        dir.path(),
        "h264-10.mp4",
        &picture(320, 240, "25"),
        Some(&tone("stereo")),
        &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p10le",
            "-c:a",
            "aac",
        ],
    );
    assert_eq!(source_streams(&input).1, "yuv420p10le");
    transcode_and_check(&input, 25.0, 4.0 / 3.0).await;
}

#[tokio::test]
async fn hevc_8_and_10_bit() {
    let dir = tempfile::tempdir().unwrap();
    let x265 = [
        "-c:v",
        "libx265",
        "-preset",
        "ultrafast",
        "-x265-params",
        "log-level=error",
    ];
    let eight = make(
        dir.path(),
        "hevc-8.mp4",
        &picture(320, 240, "30"),
        Some(&tone("stereo")),
        &[
            &x265[..],
            &["-pix_fmt", "yuv420p", "-tag:v", "hvc1", "-c:a", "aac"],
        ]
        .concat(),
    );
    let ten = make(
        dir.path(),
        "hevc-10.mkv",
        &picture(320, 240, "24000/1001"),
        Some(&tone("stereo")),
        &[&x265[..], &["-pix_fmt", "yuv420p10le", "-c:a", "flac"]].concat(),
    );
    assert_eq!(source_streams(&eight).0, "hevc");
    assert_eq!(source_streams(&ten).1, "yuv420p10le");
    transcode_and_check(&eight, 30.0, 4.0 / 3.0).await;
    transcode_and_check(&ten, 24000.0 / 1001.0, 4.0 / 3.0).await;
}

#[tokio::test]
async fn prores_422_with_pcm() {
    let dir = tempfile::tempdir().unwrap();
    let input = make(
        dir.path(),
        "prores.mov",
        &picture(320, 240, "25"),
        Some(&tone("stereo")),
        &[
            "-c:v",
            "prores_ks",
            "-profile:v",
            "2",
            "-pix_fmt",
            "yuv422p10le",
            "-c:a",
            "pcm_s24le",
        ],
    );
    assert_eq!(source_streams(&input).0, "prores");
    transcode_and_check(&input, 25.0, 4.0 / 3.0).await;
}

/// ProRes 4444, QuickTime Animation (screen recordings, motion graphics) and VP9 WebM with
/// alpha: what is transparent shows as black, as players and editors show it, not as whatever
/// colour the encoder kept under it.
#[tokio::test]
async fn alpha_is_composited_over_black() {
    let dir = tempfile::tempdir().unwrap();
    // Red everywhere; transparent on the left half, opaque on the right.
    let red = |fmt: &str, a: &str| {
        format!(
            "color=red:size=320x240:rate=25:duration={SECONDS},format={fmt},{a}='if(lt(X,160),0,255)'"
        )
    };
    let prores = make(
        dir.path(),
        "alpha.mov",
        &red("yuva444p", "geq=lum='lum(X,Y)':cb='cb(X,Y)':cr='cr(X,Y)':a"),
        Some(&tone("mono")),
        &[
            "-c:v",
            "prores_ks",
            "-profile:v",
            "4",
            "-pix_fmt",
            "yuva444p10le",
            "-c:a",
            "pcm_s16le",
        ],
    );
    let animation = make(
        dir.path(),
        "animation.mov",
        &red("rgba", "geq=r='r(X,Y)':g='g(X,Y)':b='b(X,Y)':a"),
        Some(&tone("stereo")),
        &["-c:v", "qtrle", "-c:a", "pcm_s16le"],
    );
    // WebM with alpha (VP9 carries it beside the picture: ffmpeg's own decoder reads
    // `yuv420p` and ignores it, only libvpx's decodes it).
    let webm = make(
        dir.path(),
        "alpha.webm",
        &red("yuva420p", "geq=lum='lum(X,Y)':cb='cb(X,Y)':cr='cr(X,Y)':a"),
        Some(&tone("stereo")),
        &[
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-pix_fmt",
            "yuva420p",
            "-c:a",
            "libopus",
        ],
    );
    let tags = ffprobe_json(&webm, &["-select_streams", "v:0", "-show_streams"]);
    assert_eq!(tags["streams"][0]["tags"]["alpha_mode"], "1", "{tags}");
    for (input, codec, pix_fmt) in [
        (&prores, "prores", "yuva444p"),
        (&animation, "qtrle", "argb"),
        (&webm, "vp9", "yuv420p"),
    ] {
        let (c, p, _, _) = source_streams(input);
        assert_eq!(c, codec);
        assert!(p.starts_with(pix_fmt), "{p}");
        // The premise: under the transparent half the colour is red.
        let raw = rgb_at(input, "100:100:20:70");
        assert!(raw[0] > 200, "{codec}: {raw:?}");

        let checked = transcode_and_check(input, 25.0, 4.0 / 3.0).await;
        let top = &checked.rungs[0];
        let transparent = rgb_at(top, "iw/4:ih/2:iw/16:ih/4");
        let opaque = rgb_at(top, "iw/4:ih/2:iw*5/8:ih/4");
        assert!(
            transparent.iter().all(|c| *c < 24),
            "{codec}: transparent area is {transparent:?}"
        );
        assert!(
            opaque[0] > 200 && opaque[1] < 40 && opaque[2] < 40,
            "{codec}: opaque area is {opaque:?}"
        );
    }
}

#[tokio::test]
async fn dnxhr_in_mov_and_mxf() {
    let dir = tempfile::tempdir().unwrap();
    let mov = make(
        dir.path(),
        "dnxhr-lb.mov",
        &picture(320, 240, "25"),
        Some(&tone("stereo")),
        &[
            "-c:v",
            "dnxhd",
            "-profile:v",
            "dnxhr_lb",
            "-pix_fmt",
            "yuv422p",
            "-c:a",
            "pcm_s16le",
        ],
    );
    // MXF, as cameras and Avid write it: one mono PCM track.
    let mxf = make(
        dir.path(),
        "dnxhr-hq.mxf",
        &picture(384, 216, "25"),
        Some(&tone("mono")),
        &[
            "-c:v",
            "dnxhd",
            "-profile:v",
            "dnxhr_hq",
            "-pix_fmt",
            "yuv422p",
            "-c:a",
            "pcm_s16le",
        ],
    );
    assert_eq!(source_streams(&mov).0, "dnxhd");
    assert_eq!(source_streams(&mxf).0, "dnxhd");
    transcode_and_check(&mov, 25.0, 4.0 / 3.0).await;
    transcode_and_check(&mxf, 25.0, 16.0 / 9.0).await;
}

/// A camera's XAVC-style file: H.264 High 4:2:2 Intra 10-bit at 50p with 24-bit PCM in MXF.
/// Its only rung is small, so it plays at 25 (half of 50).
#[tokio::test]
async fn h264_422_10_bit_intra_50p_in_mxf() {
    let dir = tempfile::tempdir().unwrap();
    let input = make(
        dir.path(),
        "xavc.mxf",
        &picture(384, 216, "50"),
        Some(&tone("stereo")),
        &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv422p10le",
            "-x264-params",
            "keyint=1",
            "-c:a",
            "pcm_s24le",
        ],
    );
    let j = ffprobe_json(&input, &["-select_streams", "v:0", "-show_streams"]);
    assert_eq!(j["streams"][0]["profile"], "High 4:2:2 Intra", "{j}");
    let checked = transcode_and_check(&input, 25.0, 16.0 / 9.0).await;
    assert_eq!(checked.out.fps, 50.0);
}

#[tokio::test]
async fn vp9_with_opus_in_webm() {
    let dir = tempfile::tempdir().unwrap();
    let input = make(
        dir.path(),
        "vp9.webm",
        &picture(320, 240, "30"),
        Some(&tone("stereo")),
        &[
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-b:v",
            "300k",
            "-c:a",
            "libopus",
        ],
    );
    let (codec, _, _, audio) = source_streams(&input);
    assert_eq!((codec.as_str(), audio.unwrap().0.as_str()), ("vp9", "opus"));
    transcode_and_check(&input, 30.0, 4.0 / 3.0).await;
}

#[tokio::test]
async fn av1_with_opus_in_webm_and_mkv() {
    let dir = tempfile::tempdir().unwrap();
    let av1 = [
        "-c:v",
        "libsvtav1",
        "-preset",
        "12",
        "-svtav1-params",
        "lp=1",
        "-c:a",
        "libopus",
    ];
    let webm = make(
        dir.path(),
        "av1.webm",
        &picture(320, 240, "25"),
        Some(&tone("stereo")),
        &av1,
    );
    let mkv = make(
        dir.path(),
        "av1.mkv",
        &picture(320, 180, "25"),
        Some(&tone("5.1")),
        &av1,
    );
    let (codec, _, _, audio) = source_streams(&mkv);
    assert_eq!(
        (codec.as_str(), audio.unwrap()),
        ("av1", ("opus".into(), 6))
    );
    assert_eq!(source_streams(&webm).0, "av1");
    transcode_and_check(&webm, 25.0, 4.0 / 3.0).await;
    transcode_and_check(&mkv, 25.0, 16.0 / 9.0).await;
}

#[tokio::test]
async fn mpeg2_with_mp2_in_transport_stream() {
    let dir = tempfile::tempdir().unwrap();
    let input = make(
        dir.path(),
        "mpeg2.ts",
        &picture(352, 288, "25"),
        Some(&tone("stereo")),
        &[
            "-c:v",
            "mpeg2video",
            "-b:v",
            "1M",
            "-c:a",
            "mp2",
            "-f",
            "mpegts",
        ],
    );
    let (codec, _, _, audio) = source_streams(&input);
    assert_eq!(
        (codec.as_str(), audio.unwrap().0.as_str()),
        ("mpeg2video", "mp2")
    );
    transcode_and_check(&input, 25.0, 352.0 / 288.0).await;
}

/// Broadcast: 576i MPEG-2 (top field first, 4:3 with non-square pixels) and AC-3 5.1 in a
/// transport stream comes out progressive at 25, square pixels at 4:3, stereo.
#[tokio::test]
async fn interlaced_mpeg2_with_ac3_5_1_in_transport_stream() {
    let dir = tempfile::tempdir().unwrap();
    let input = make(
        dir.path(),
        "broadcast.ts",
        &format!("{},interlace=scan=tff,setdar=4/3", picture(720, 576, "50")),
        Some(&tone("5.1(side)")),
        &[
            "-c:v",
            "mpeg2video",
            "-flags",
            "+ildct+ilme",
            "-top",
            "1",
            "-b:v",
            "2M",
            "-c:a",
            "ac3",
            "-b:a",
            "384k",
            "-f",
            "mpegts",
        ],
    );
    let (codec, _, field_order, audio) = source_streams(&input);
    assert_eq!(
        (codec.as_str(), field_order.as_str(), audio.unwrap()),
        ("mpeg2video", "tt", ("ac3".into(), 6))
    );
    let checked = transcode_and_check(&input, 25.0, 4.0 / 3.0).await;
    assert!(checked.out.interlaced);
    // Downmixed, not dropped: the stereo track carries the tone.
    let a = checked.out.renditions.len();
    let stream = checked.out_dir.join("stream");
    let playlist = read_media_playlist(&stream, &format!("media_{a}.m3u8"));
    let audio = checked.out_dir.join("downmix.mp4");
    concat_rendition(&stream, &playlist, &audio);
    let out = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-i"])
        .arg(&audio)
        .args(["-af", "volumedetect", "-f", "null", "-"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    let mean: f64 = text
        .lines()
        .find_map(|l| l.split_once("mean_volume:"))
        .map(|(_, v)| v.trim().trim_end_matches(" dB").parse().unwrap())
        .unwrap_or_else(|| panic!("{text}"));
    assert!(mean > -40.0, "downmix is near silent: {mean} dB");
}

#[tokio::test]
async fn mjpeg_with_pcm_in_avi() {
    let dir = tempfile::tempdir().unwrap();
    let input = make(
        dir.path(),
        "mjpeg.avi",
        &picture(320, 240, "30"),
        Some(&tone("stereo")),
        &[
            "-c:v",
            "mjpeg",
            "-q:v",
            "5",
            "-pix_fmt",
            "yuvj422p",
            "-c:a",
            "pcm_s16le",
        ],
    );
    assert_eq!(source_streams(&input).0, "mjpeg");
    let checked = transcode_and_check(&input, 30.0, 4.0 / 3.0).await;
    // Full-range JPEG levels become video range: white is not clipped to 255 luma.
    let j = ffprobe_json(
        &checked.rungs[0],
        &["-select_streams", "v:0", "-show_streams"],
    );
    assert_ne!(j["streams"][0]["color_range"], "pc", "{j}");
}

/// NTSC DV from a camcorder: raw DIF, 4:1:1, bottom field first, 4:3 with 10:11-ish pixels,
/// 29.97 fps.
#[tokio::test]
async fn ntsc_dv() {
    let dir = tempfile::tempdir().unwrap();
    let input = make(
        dir.path(),
        "camcorder.dv",
        &format!("{},setdar=4/3", picture(720, 480, "30000/1001")),
        Some(&tone("stereo")),
        &["-target", "ntsc-dv"],
    );
    let (codec, pix_fmt, _, _) = source_streams(&input);
    assert_eq!((codec.as_str(), pix_fmt.as_str()), ("dvvideo", "yuv411p"));
    transcode_and_check(&input, 30000.0 / 1001.0, 4.0 / 3.0).await;
}

/// A second audio track in a codec this ffmpeg has no decoder for (its Matroska codec id
/// rewritten to one nobody knows): ffmpeg refuses to start with it mapped. The video is
/// published with the other track and a warning names the one left out; an audio-only upload
/// likewise.
#[tokio::test]
async fn an_audio_track_without_a_decoder_is_left_out_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let made = make(
        dir.path(),
        "two-tracks.mkv",
        &picture(320, 240, "25"),
        Some(&tone("stereo")),
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=660:duration=2",
            "-map",
            "0:v",
            "-map",
            "1:a",
            "-map",
            "2:a",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-c:a:0",
            "aac",
            "-c:a:1",
            "pcm_s16le",
            "-metadata:s:a:0",
            "language=eng",
            "-metadata:s:a:1",
            "language=spa",
        ],
    );
    let bytes = std::fs::read(&made).unwrap();
    let id = b"A_PCM/INT/LIT";
    let at = bytes.windows(id.len()).position(|w| w == id).unwrap();
    let mut patched = bytes.clone();
    patched[at..at + id.len()].copy_from_slice(b"A_XXX/INT/LIT");
    let input = dir.path().join("no-decoder.mkv");
    std::fs::write(&input, patched).unwrap();
    // The premise: ffprobe lists the track, ffmpeg cannot decode it.
    let info = probe::probe(&input, Duration::from_secs(30)).await.unwrap();
    assert_eq!(info.audio_streams.len(), 2);
    let refused = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-v", "error", "-i"])
        .arg(&input)
        .args(["-map", "0:2", "-f", "null", "-"])
        .output()
        .unwrap();
    assert!(!refused.status.success());

    let out_dir = dir.path().join("out");
    let out = transcode::video(&input, &out_dir, &info, &opts(), |_| {})
        .await
        .unwrap();
    assert_eq!(out.audio_tracks.len(), 1, "{:?}", out.audio_tracks);
    assert_eq!(out.audio_tracks[0].language, "eng");
    assert!(out.audio_tracks[0].default);
    assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    assert!(out.warnings[0].contains("spa"), "{:?}", out.warnings);
    let stream = out_dir.join("stream");
    let master = std::fs::read_to_string(stream.join("master.m3u8")).unwrap();
    assert_eq!(master.matches("TYPE=AUDIO").count(), 1, "{master}");
    assert!(master.contains("LANGUAGE=\"eng\""), "{master}");
    for manifest in ["master.m3u8", "manifest.mpd"] {
        let j = ffprobe_json(
            &stream.join(manifest),
            &["-show_entries", "stream=codec_type,codec_name,channels"],
        );
        let audio: Vec<_> = j["streams"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["codec_type"] == "audio")
            .collect();
        assert!(
            !audio.is_empty() && audio.iter().all(|s| s["channels"] == 2),
            "{j}"
        );
    }

    // Audio only (the picture dropped): the same track is left out, the other published.
    let audio_only = dir.path().join("audio-only.mka");
    ffmpeg(&[
        "-i",
        made.to_str().unwrap(),
        "-map",
        "0:a",
        "-c",
        "copy",
        audio_only.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&audio_only).unwrap();
    let at = bytes.windows(id.len()).position(|w| w == id).unwrap();
    let mut patched = bytes.clone();
    patched[at..at + id.len()].copy_from_slice(b"A_XXX/INT/LIT");
    std::fs::write(&audio_only, patched).unwrap();
    let info = probe::probe(&audio_only, Duration::from_secs(30))
        .await
        .unwrap();
    let out = transcode::audio(
        &audio_only,
        &dir.path().join("audio-out"),
        &info,
        &AudioOptions::default(),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(out.audio_tracks.len(), 1, "{:?}", out.audio_tracks);
    assert_eq!(out.audio_tracks[0].language, "eng");
    assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
}
