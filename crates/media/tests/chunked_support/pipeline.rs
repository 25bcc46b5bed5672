//! The chunked run as the pipeline does it, and its comparison with a single job.

use super::*;
use crate::common::{concat_rendition, ffprobe_json, read_media_playlist, read_mpd};
use mediaserver_media::probe::ProbeInfo;
use mediaserver_media::transcode::chunked::{
    self, ChunkOutput, ChunkSettings, ChunkedPlan, Input, RestOutput,
};
use mediaserver_media::transcode::{VideoOptions, VideoOutput};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// 8 s chunks (7 rounded up to whole 2 s segments) above 10 s.
pub const CHUNKS: ChunkSettings = ChunkSettings {
    chunk_seconds: 7,
    min_seconds: 10,
};

pub struct Chunked {
    pub plan: ChunkedPlan,
    pub chunks: Vec<ChunkOutput>,
    pub rest: RestOutput,
    pub output: VideoOutput,
    /// Where everything was published.
    pub published: PathBuf,
}

/// Runs every chunk (odd ones over HTTP when `url` is given, the rest too), and the final step like
/// the pipeline: each job in its own scratch directory, its files then published; the final
/// step where only the init segments are. Checks the provisional playlists on the way.
pub async fn run_chunked(
    src: &Path,
    probe: &ProbeInfo,
    opts: &VideoOptions,
    work: &Path,
    url: Option<&str>,
) -> Chunked {
    let plan = chunked::plan(src, probe, opts, &CHUNKS, work)
        .await
        .unwrap()
        .expect("a chunked plan");
    // Travels as JSON.
    let plan: ChunkedPlan = serde_json::from_str(&serde_json::to_string(&plan).unwrap()).unwrap();
    let published = work.join("published");
    std::fs::create_dir_all(&published).unwrap();
    let rest_dir = work.join("rest");
    // Over HTTP too when there is a server (subtitles and all).
    let rest_input = match url {
        Some(url) => Input::Url(url.to_string()),
        None => Input::from(src),
    };
    let rest = chunked::encode_rest(&rest_input, &rest_dir, &plan, opts, |_| {})
        .await
        .unwrap();
    // Its published files and its storyboard tiles (working files, kept for the final step).
    assert_eq!(
        files(&rest_dir),
        rest.files.iter().chain(&rest.tiles).cloned().collect()
    );
    let kept = work.join("kept");
    for f in &rest.tiles {
        publish(&rest_dir, &kept, f);
    }
    // Its stills from seeks and its pacer made up, not a decode of every frame (which the
    // comparisons with a single job would pass too).
    let decoded = rest
        .video_frames_decoded
        .expect("the rest job decoded every frame");
    println!("the rest job decoded {decoded} video frames");
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
        // Only this chunk's files, under their final names, and its storyboard tiles (none
        // in the last chunk: the rest job's).
        assert_eq!(
            files(&dir),
            out.files.iter().chain(&out.tiles).cloned().collect()
        );
        assert_eq!(
            out.tiles.is_empty(),
            range.index + 1 == plan.chunks() as u32
        );
        for f in &out.tiles {
            publish(&dir, &kept, f);
        }
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

    // The final step sees the init segments and the parts' storyboard tiles only.
    let final_dir = work.join("final");
    for (name, bytes) in &inits {
        std::fs::create_dir_all(final_dir.join(name).parent().unwrap()).unwrap();
        std::fs::write(final_dir.join(name), bytes).unwrap();
    }
    if kept.exists() {
        for f in files(&kept) {
            publish(&kept, &final_dir, &f);
        }
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

/// The chunked output `c` is the single job's (`single` in `single_dir`) of `src`, a source of
/// `seconds`: file by file, and every rendition packet by packet.
pub fn compare(
    dir: &Path,
    src: &Path,
    single_dir: &Path,
    single: &VideoOutput,
    c: &Chunked,
    seconds: f64,
) {
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
    let (s, o) = (single, &c.output);
    assert_eq!(o.renditions.len(), s.renditions.len());
    for (a, b) in o.renditions.iter().zip(&s.renditions) {
        assert_eq!(
            (&a.name, a.width, a.height, &a.codecs, a.codec),
            (&b.name, b.width, b.height, &b.codecs, b.codec)
        );
    }
    assert_eq!(o.audio_tracks, s.audio_tracks);
    assert_eq!(o.text_tracks, s.text_tracks);
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
            .arg(dir)
            .arg(&keep)
            .status();
    }
    let single_files = files(single_dir);
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
        let audio_avg = c
            .rest
            .audio
            .iter()
            .map(|a| a.average_bps)
            .max()
            .unwrap_or(0);
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
    for (variant, rendition) in m.variants.iter().zip(&o.renditions) {
        let joined = dir.join(format!("chunked-{}.mp4", rendition.name));
        concat_rendition(&cs, &read_media_playlist(&cs, &variant.uri), &joined);
        let reference = dir.join(format!("single-{}.mp4", rendition.name));
        concat_rendition(&ss, &read_media_playlist(&ss, &variant.uri), &reference);
        let (packets, tb) = dts(&joined, "v");
        assert_constant_step(&packets, &variant.uri);
        // One frame at the rung's constant rate (half the source's on a half-rate rung).
        let den: f64 = tb.split('/').nth(1).unwrap().parse().unwrap();
        let fps = o
            .encode
            .rungs
            .iter()
            .find(|r| r.name == rendition.name)
            .unwrap()
            .fps;
        let frame = (packets[1].0 - packets[0].0) as f64;
        assert!(
            (frame - den / fps).abs() < 1e-6,
            "{tb}: {frame} at {fps} fps"
        );
        let (single_packets, _) = dts(&reference, "v");
        assert_eq!(packets.len(), single_packets.len());
        assert_eq!(packets[0].0, single_packets[0].0);
        assert_eq!(
            packets, single_packets,
            "{}: dts and durations",
            variant.uri
        );
        assert_eq!(
            crate::common::packets(&joined, "v").0,
            crate::common::packets(&reference, "v").0,
            "keyframes"
        );
        let (a, b) = (
            ssim(
                src,
                &joined,
                rendition.width,
                rendition.height,
                &fps.to_string(),
            ),
            ssim(
                src,
                &reference,
                rendition.width,
                rendition.height,
                &fps.to_string(),
            ),
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
        let joined = dir.join(format!("audio-{}.mp4", a.stream));
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
        let reference = dir.join(format!("single-audio-{}.mp4", a.stream));
        concat_rendition(&ss, &read_media_playlist(&ss, &uri), &reference);
        assert_eq!(packets, dts(&reference, "a").0, "{uri}");
        let end = packets.last().map(|p| p.0 + p.1).unwrap();
        assert!(
            (end as f64 / 48_000.0 - seconds).abs() < 0.1,
            "{uri} ends at {end}"
        );
    }
}
