//! Chunked encoding (issue 15 §1) against a single `video()` run of the same source, with real
//! ffmpeg on small generated sources; the chunks' output is put together the way the
//! pipeline does it (each job's files published under their names, the final step run where
//! only the init segments are).

// A panic is how a test reports failure; the workspace's unwrap/expect lints are for code that ships.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use mediaserver_media::ladder::LadderRung;
use mediaserver_media::probe::{self, ProbeInfo};
use mediaserver_media::transcode::chunked::{
    self, ChunkOutput, ChunkSettings, ChunkedPlan, Input, RestOutput,
};
use mediaserver_media::transcode::{self, LadderMode, VideoOptions, VideoOutput};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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

/// 8 s chunks (7 rounded up to whole 2 s segments) above 10 s.
const CHUNKS: ChunkSettings = ChunkSettings {
    chunk_seconds: 7,
    min_seconds: 10,
};

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

/// Every file under `dir`, relative, with `/`.
fn files(dir: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let p = entry.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(
                    p.strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

/// Copies `rel` from `from` to `to` (what publishing a file does).
fn publish(from: &Path, to: &Path, rel: &str) {
    let dest = to.join(rel);
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    std::fs::copy(from.join(rel), dest).unwrap();
}

/// A minimal HTTP/1.1 file server with `Range` support (each response closes its
/// connection); records where each range request starts.
async fn serve(path: PathBuf) -> (String, Arc<Mutex<Vec<u64>>>) {
    let data = Arc::new(std::fs::read(&path).unwrap());
    let requested = Arc::new(Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/{}",
        listener.local_addr().unwrap(),
        path.file_name().unwrap().to_string_lossy()
    );
    let log = requested.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let (data, starts) = (data.clone(), log.clone());
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&request).into_owned();
                let head = text.starts_with("HEAD ");
                let len = data.len() as u64;
                let range = text.lines().find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    if !name.eq_ignore_ascii_case("range") {
                        return None;
                    }
                    let spec = value.trim().strip_prefix("bytes=")?;
                    let (a, b) = spec.split_once('-')?;
                    let a: u64 = a.parse().ok()?;
                    let b: u64 = if b.is_empty() {
                        len - 1
                    } else {
                        b.parse::<u64>().ok()?.min(len - 1)
                    };
                    Some((a, b))
                });
                if let Some((a, _)) = range {
                    starts.lock().unwrap().push(a);
                }
                let (status, start, end) = match range {
                    Some((a, _)) if a >= len => {
                        let _ = sock
                            .write_all(
                                format!("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{len}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes(),
                            )
                            .await;
                        return;
                    }
                    Some((a, b)) => ("206 Partial Content", a, b),
                    None => ("200 OK", 0, len - 1),
                };
                let mut response = format!(
                    "HTTP/1.1 {status}\r\nAccept-Ranges: bytes\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n",
                    end - start + 1
                );
                if range.is_some() {
                    response.push_str(&format!("Content-Range: bytes {start}-{end}/{len}\r\n"));
                }
                response.push_str("\r\n");
                if sock.write_all(response.as_bytes()).await.is_err() || head {
                    return;
                }
                // ffmpeg drops the connection once it has what it wants.
                if sock
                    .write_all(&data[start as usize..=end as usize])
                    .await
                    .is_err()
                {
                    return;
                }
                let _ = sock.shutdown().await;
            });
        }
    });
    (url, requested)
}

/// Every packet's (dts, duration) in time-base units, and the time base, of the first stream
/// of `kind` in `file`.
fn dts(file: &Path, kind: &str) -> (Vec<(i64, i64)>, String) {
    let j = ffprobe_json(
        file,
        &[
            "-select_streams",
            &format!("{kind}:0"),
            "-show_entries",
            "packet=dts,duration:stream=time_base",
        ],
    );
    let packets = j["packets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["dts"].as_i64().unwrap(),
                p["duration"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    (
        packets,
        j["streams"][0]["time_base"].as_str().unwrap().to_string(),
    )
}

/// Every decode timestamp follows the one before by exactly the same step.
fn assert_constant_step(packets: &[(i64, i64)], what: &str) {
    assert!(packets.len() > 10, "{what}: {} packets", packets.len());
    let step = packets[1].0 - packets[0].0;
    assert!(step > 0, "{what}: step {step}");
    for (i, pair) in packets.windows(2).enumerate() {
        assert_eq!(
            pair[1].0 - pair[0].0,
            step,
            "{what}: dts {} → {} at packet {}",
            pair[0].0,
            pair[1].0,
            i + 1
        );
    }
}

/// SSIM (All) of `distorted` against `source` scaled to its size, decoded the same way.
fn ssim(source: &Path, distorted: &Path, w: u32, h: u32) -> f64 {
    let out = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-i"])
        .arg(distorted)
        .arg("-i")
        .arg(source)
        .args([
            "-lavfi",
            &format!("[1:v]fps=30,scale={w}:{h}:flags=bicubic,setsar=1[ref];[0:v]setsar=1[d];[d][ref]ssim"),
            "-f",
            "null",
            "-",
        ])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    log.lines()
        .rev()
        .find_map(|l| l.split("All:").nth(1))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no SSIM in {log}"))
}

/// `text` with the numbers after each of `attrs` blanked (measured bandwidths differ a little
/// between two encodes).
fn without_numbers(text: &str, attrs: &[&str]) -> String {
    let mut out = text.to_string();
    for attr in attrs {
        let mut result = String::new();
        let mut rest = out.as_str();
        while let Some(at) = rest.find(attr) {
            result.push_str(&rest[..at + attr.len()]);
            rest = rest[at + attr.len()..].trim_start_matches(|c: char| c.is_ascii_digit());
            result.push('#');
        }
        result.push_str(rest);
        out = result;
    }
    out
}

/// The variants of a master playlist (`read_master` takes only audio renditions; this one has
/// a text track too), each URI checked to exist.
fn variants(stream: &Path) -> Master {
    let text = std::fs::read_to_string(stream.join("master.m3u8")).unwrap();
    let mut variants = Vec::new();
    let mut lines = text.lines().filter(|l| !l.is_empty());
    while let Some(line) = lines.next() {
        if let Some(media) = line.strip_prefix("#EXT-X-MEDIA:") {
            let uri = attr(media, "URI").unwrap();
            assert!(stream.join(uri).is_file(), "{uri} missing");
        } else if let Some(a) = line.strip_prefix("#EXT-X-STREAM-INF:") {
            let mut attrs = std::collections::HashMap::new();
            for key in [
                "BANDWIDTH",
                "AVERAGE-BANDWIDTH",
                "RESOLUTION",
                "CODECS",
                "AUDIO",
            ] {
                if let Some(v) = attr(a, key) {
                    attrs.insert(key.to_string(), v.to_string());
                }
            }
            let uri = lines.next().unwrap().to_string();
            assert!(stream.join(&uri).is_file(), "{uri} missing");
            variants.push(StreamInf { attrs, uri });
        }
    }
    Master {
        text,
        variants,
        audio_uri: None,
    }
}

/// A representation's id and its timeline's `S` elements (t, d, r; 0 where absent).
type Timeline = (String, Vec<(u64, u64, u64)>);

/// The representations' timelines of an MPD.
fn timelines(mpd: &str) -> Vec<Timeline> {
    let doc = roxmltree::Document::parse(mpd).unwrap();
    doc.descendants()
        .filter(|n| n.tag_name().name() == "Representation")
        .map(|r| {
            let s = r
                .descendants()
                .filter(|n| n.tag_name().name() == "S")
                .map(|s| {
                    let num = |a| s.attribute(a).map(|v| v.parse().unwrap()).unwrap_or(0);
                    (num("t"), num("d"), num("r"))
                })
                .collect();
            (r.attribute("id").unwrap().to_string(), s)
        })
        .collect()
}

struct Chunked {
    plan: ChunkedPlan,
    chunks: Vec<ChunkOutput>,
    rest: RestOutput,
    output: VideoOutput,
    /// Where everything was published.
    published: PathBuf,
}

/// Runs every chunk (odd ones over HTTP when `url` is given), the rest and the final step like
/// the pipeline: each job in its own scratch directory, its files then published; the final
/// step where only the init segments are. Checks the provisional playlists on the way.
async fn run_chunked(
    src: &Path,
    probe: &ProbeInfo,
    opts: &VideoOptions,
    work: &Path,
    url: Option<&str>,
) -> Chunked {
    let plan = chunked::plan(src, probe, opts, &CHUNKS)
        .await
        .unwrap()
        .expect("a chunked plan");
    // Travels as JSON.
    let plan: ChunkedPlan = serde_json::from_str(&serde_json::to_string(&plan).unwrap()).unwrap();
    let published = work.join("published");
    std::fs::create_dir_all(&published).unwrap();
    let rest_dir = work.join("rest");
    let rest = chunked::encode_rest(&Input::from(src), &rest_dir, &plan, opts, |_| {})
        .await
        .unwrap();
    assert_eq!(files(&rest_dir), rest.files.iter().cloned().collect());
    for f in &rest.files {
        publish(&rest_dir, &published, f);
    }
    let rest: RestOutput = serde_json::from_str(&serde_json::to_string(&rest).unwrap()).unwrap();

    let mut chunks = Vec::new();
    let mut inits: Vec<(String, Vec<u8>)> = Vec::new();
    for range in &plan.ranges {
        let dir = work.join(format!("chunk-{}", range.index));
        let input = match url {
            Some(url) if range.index % 2 == 1 => Input::Url(url.to_string()),
            _ => Input::from(src),
        };
        let out = chunked::encode_chunk(&input, &dir, &plan, range.index, opts, |_| {})
            .await
            .unwrap();
        assert_eq!(out.index, range.index);
        // Only this chunk's files, under their final names.
        assert_eq!(files(&dir), out.files.iter().cloned().collect());
        for f in &out.files {
            if f.contains("/init-") {
                let bytes = std::fs::read(dir.join(f)).unwrap();
                match inits.iter().find(|(name, _)| name == f) {
                    // Only chunk 0 writes the init segments.
                    Some(_) => panic!("{f} written again by chunk {}", range.index),
                    None => inits.push((f.clone(), bytes)),
                }
            }
            publish(&dir, &published, f);
        }
        let out: ChunkOutput = serde_json::from_str(&serde_json::to_string(&out).unwrap()).unwrap();
        chunks.push(out);
        if range.index == 1 && plan.ranges.len() == 4 {
            check_provisional(&plan, &chunks, &rest, &published);
        }
    }

    // The final step sees the init segments only.
    let final_dir = work.join("final");
    for (name, bytes) in &inits {
        std::fs::create_dir_all(final_dir.join(name).parent().unwrap()).unwrap();
        std::fs::write(final_dir.join(name), bytes).unwrap();
    }
    chunks.reverse(); // any order
    let assembled = chunked::assemble(&final_dir, &plan, &chunks, &rest, opts)
        .await
        .unwrap();
    chunks.reverse();
    for f in &assembled.written {
        publish(&final_dir, &published, f);
    }
    for f in &assembled.delete {
        // Deleting what is not there is fine (a provisional playlist never published).
        let _ = std::fs::remove_file(published.join(f));
    }
    Chunked {
        plan,
        chunks,
        rest,
        output: assembled.output,
        published,
    }
}

/// After chunks 0 and 1 of 4: EVENT playlists of exactly their segments, which ffprobe plays.
fn check_provisional(plan: &ChunkedPlan, done: &[ChunkOutput], rest: &RestOutput, at: &Path) {
    let files = chunked::provisional(plan, done, Some(rest)).unwrap();
    let first_segments = plan.ranges[0].segments + plan.ranges[1].segments;
    let mut media = 0;
    for (path, text) in &files {
        std::fs::write(at.join(path), text).unwrap();
        if path == "stream/master.m3u8" {
            continue;
        }
        media += 1;
        assert!(text.contains("#EXT-X-PLAYLIST-TYPE:EVENT\n"), "{text}");
        assert!(!text.contains("ENDLIST"), "{text}");
        let uris: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        let stream = path
            .trim_start_matches("stream/media_")
            .trim_end_matches(".m3u8");
        let expected: Vec<String> = (1..=first_segments)
            .map(|n| format!("chunk-{stream}-{n:05}.m4s"))
            .collect();
        assert_eq!(uris, expected, "{path}");
        // ffprobe opens it over file: (as a live playlist: it has no end yet).
        let j = ffprobe_json(&at.join(path), &["-show_entries", "stream=codec_type"]);
        assert_eq!(j["streams"][0]["codec_type"], "video", "{path}: {j}");
        let seconds: f64 = text
            .lines()
            .filter_map(|l| l.strip_prefix("#EXTINF:"))
            .map(|d| d.trim_end_matches(',').parse::<f64>().unwrap())
            .sum();
        assert!(
            (seconds - plan.ranges[1].end).abs() < 0.1,
            "{path}: {seconds}"
        );
    }
    assert_eq!(media, done[0].streams.len());
    let master = files
        .iter()
        .find(|(p, _)| p == "stream/master.m3u8")
        .unwrap();
    let j = ffprobe_json(&at.join(&master.0), &["-show_entries", "stream=codec_type"]);
    let types: BTreeSet<&str> = j["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["codec_type"].as_str().unwrap())
        .collect();
    assert!(types.contains("video") && types.contains("audio"), "{j}");

    // A gap: only the prefix before it. No rest yet with audio planned: no master.
    let gap = chunked::provisional(plan, &[done[0].clone()], None).unwrap();
    assert!(gap.iter().all(|(p, _)| p != "stream/master.m3u8"));
    assert!(gap
        .iter()
        .all(|(_, t)| !t.contains(&format!("-{:05}.m4s", plan.ranges[1].first_segment))));
    assert!(chunked::provisional(plan, &done[1..], Some(rest))
        .unwrap()
        .is_empty());
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
    assert!(starts.len() <= 12, "{starts:?}");

    // The records: global segment numbers one after another across the chunks, every stream.
    for stream in 0..c.chunks[0].streams.len() {
        let numbers: Vec<u32> = c
            .chunks
            .iter()
            .flat_map(|chunk| chunk.streams[stream].segments.iter().map(|s| s.number))
            .collect();
        assert_eq!(numbers, (1..=numbers.len() as u32).collect::<Vec<_>>());
    }
    assert!(c.chunks.iter().all(|chunk| chunk.wall_seconds > 0.0));
    let (s, o) = (&single, &c.output);
    assert_eq!(o.renditions.len(), s.renditions.len());
    for (a, b) in o.renditions.iter().zip(&s.renditions) {
        assert_eq!(
            (&a.name, a.width, a.height, &a.codecs, a.codec),
            (&b.name, b.width, b.height, &b.codecs, b.codec)
        );
    }
    assert_eq!(o.audio_tracks, s.audio_tracks);
    assert_eq!(o.audio_tracks.len(), 2);
    assert_eq!(o.text_tracks, s.text_tracks);
    assert_eq!(o.text_tracks.len(), 1);
    assert_eq!(o.warnings, s.warnings);
    assert!(
        (o.duration - s.duration).abs() < 1e-9,
        "{} vs {}",
        o.duration,
        s.duration
    );
    assert_eq!(
        (o.width, o.height, o.fps, o.hdr, o.interlaced),
        (s.width, s.height, s.fps, s.hdr, s.interlaced)
    );
    assert_eq!(
        (&o.storyboard_image, &o.storyboard_vtt, &o.thumbnail),
        (&s.storyboard_image, &s.storyboard_vtt, &s.thumbnail)
    );
    assert_eq!(o.encode.rungs.len(), s.encode.rungs.len());
    for (a, b) in o.encode.rungs.iter().zip(&s.encode.rungs) {
        assert_eq!(
            (&a.name, a.crf, &a.filter, &a.playlist, &a.encoder_version),
            (&b.name, b.crf, &b.filter, &b.playlist, &b.encoder_version)
        );
        let ratio = a.bytes as f64 / b.bytes as f64;
        assert!(
            (0.85..1.15).contains(&ratio),
            "{} bytes {} vs {}",
            a.name,
            a.bytes,
            b.bytes
        );
    }

    // The same files (the chunked run's dropped rung deleted, as a single job never keeps it).
    // Debugging aid: CHUNKED_KEEP=/some/dir keeps both outputs.
    if let Ok(keep) = std::env::var("CHUNKED_KEEP") {
        let _ = std::process::Command::new("cp")
            .arg("-a")
            .arg(dir.path())
            .arg(&keep)
            .status();
    }
    let single_files = files(&single_dir);
    let chunked_files = files(&c.published);
    assert_eq!(chunked_files, single_files);

    let (ss, cs) = (single_dir.join("stream"), c.published.join("stream"));
    // Media playlists: byte for byte (segment count and every duration).
    for f in single_files
        .iter()
        .filter(|f| f.ends_with(".m3u8") && f.contains("/media_"))
    {
        assert_eq!(
            std::fs::read_to_string(c.published.join(f)).unwrap(),
            std::fs::read_to_string(single_dir.join(f)).unwrap(),
            "{f}"
        );
    }
    // Text tracks, thumbnail, storyboard: the same bytes (the same decode and filters).
    for f in single_files
        .iter()
        .filter(|f| f.ends_with(".vtt") || f.contains("text-") || f.ends_with(".jpg"))
    {
        assert!(
            std::fs::read(c.published.join(f)).unwrap()
                == std::fs::read(single_dir.join(f)).unwrap(),
            "{f} differs"
        );
    }
    // Master and MPD: the same but for measured bandwidths.
    let master = |d: &Path| std::fs::read_to_string(d.join("master.m3u8")).unwrap();
    assert_eq!(
        without_numbers(&master(&cs), &["BANDWIDTH="]),
        without_numbers(&master(&ss), &["BANDWIDTH="])
    );
    let mpd = |d: &Path| std::fs::read_to_string(d.join("manifest.mpd")).unwrap();
    assert_eq!(
        without_numbers(&mpd(&cs), &["bandwidth=\""]),
        without_numbers(&mpd(&ss), &["bandwidth=\""])
    );
    assert_eq!(timelines(&mpd(&cs)), timelines(&mpd(&ss)));
    // Valid as the single job's are (the shared checks), bandwidths measured from these files.
    let m = variants(&cs);
    let reps = read_mpd(&cs);
    for (variant, rendition) in m.variants.iter().zip(&o.renditions) {
        let playlist = read_media_playlist(&cs, &variant.uri);
        let bytes: u64 = playlist
            .segments
            .iter()
            .map(|(f, _)| std::fs::metadata(cs.join(f)).unwrap().len())
            .sum();
        let seconds: f64 = playlist.segments.iter().map(|(_, d)| d).sum();
        let video_avg = (bytes as f64 * 8.0 / seconds).ceil() as u64;
        let audio_avg = c.rest.audio.iter().map(|a| a.average_bps).max().unwrap();
        assert_eq!(
            variant.attrs["AVERAGE-BANDWIDTH"].parse::<u64>().unwrap(),
            video_avg + audio_avg,
            "{}",
            variant.uri
        );
        assert_eq!(
            variant.attrs["BANDWIDTH"].parse::<u64>().unwrap(),
            rendition.bandwidth
        );
        let rep = reps
            .iter()
            .find(|r| format!("media_{}.m3u8", r.0) == variant.uri)
            .unwrap();
        assert_eq!(rep.5, playlist.segments.len());
    }

    // Every rung: continuous decode times across every chunk border, the single job's
    // keyframes, and its quality.
    let fps_step = |tb: &str| -> i64 {
        let den: i64 = tb.split('/').nth(1).unwrap().parse().unwrap();
        den / 30
    };
    for (variant, rendition) in m.variants.iter().zip(&o.renditions) {
        let joined = dir.path().join(format!("chunked-{}.mp4", rendition.name));
        concat_rendition(&cs, &read_media_playlist(&cs, &variant.uri), &joined);
        let reference = dir.path().join(format!("single-{}.mp4", rendition.name));
        concat_rendition(&ss, &read_media_playlist(&ss, &variant.uri), &reference);
        let (packets, tb) = dts(&joined, "v");
        assert_constant_step(&packets, &variant.uri);
        assert_eq!(packets[1].0 - packets[0].0, fps_step(&tb), "{tb}");
        let (single_packets, _) = dts(&reference, "v");
        assert_eq!(packets.len(), single_packets.len());
        assert_eq!(packets[0].0, single_packets[0].0);
        assert_eq!(
            packets, single_packets,
            "{}: dts and durations",
            variant.uri
        );
        assert_eq!(
            common::packets(&joined, "v").0,
            common::packets(&reference, "v").0,
            "keyframes"
        );
        let (a, b) = (
            ssim(&src, &joined, rendition.width, rendition.height),
            ssim(&src, &reference, rendition.width, rendition.height),
        );
        println!("{}: SSIM chunked {a:.5}, single {b:.5}", rendition.name);
        assert!(
            (a - b).abs() <= 0.003,
            "{}: SSIM {a} vs {b}",
            rendition.name
        );
    }
    // Audio (encoded once for the whole source): continuous too.
    for a in &c.rest.audio {
        let uri = format!("media_{}.m3u8", a.stream);
        let joined = dir.path().join(format!("audio-{}.mp4", a.stream));
        concat_rendition(&cs, &read_media_playlist(&cs, &uri), &joined);
        let (packets, tb) = dts(&joined, "a");
        assert_eq!(tb, "1/48000");
        // Each step one AAC frame (1024 samples), give or take the millisecond the source's
        // Matroska timestamps round to; exactly the single job's packets.
        for pair in packets.windows(2) {
            let step = pair[1].0 - pair[0].0;
            assert!(
                (step - 1024).abs() <= 48,
                "{uri}: step {step} at {}",
                pair[0].0
            );
        }
        let reference = dir.path().join(format!("single-audio-{}.mp4", a.stream));
        concat_rendition(&ss, &read_media_playlist(&ss, &uri), &reference);
        assert_eq!(packets, dts(&reference, "a").0, "{uri}");
        let end = packets.last().map(|p| p.0 + p.1).unwrap();
        assert!(
            (end as f64 / 48_000.0 - 30.0).abs() < 0.1,
            "{uri} ends at {end}"
        );
    }
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
    assert!(chunked::plan(&src, &probe, &o, &above)
        .await
        .unwrap()
        .is_none());
    let off = ChunkSettings {
        chunk_seconds: 0,
        min_seconds: 0,
    };
    assert!(chunked::plan(&src, &probe, &o, &off)
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
    assert!(chunked::plan(&audio, &audio_probe, &o, &CHUNKS)
        .await
        .unwrap()
        .is_none());

    let plan = chunked::plan(&src, &probe, &o, &CHUNKS)
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
    let plan = chunked::plan(&src, &probe, &o, &CHUNKS)
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
    let plan = chunked::plan(&src, &probe, &o, &settings)
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
