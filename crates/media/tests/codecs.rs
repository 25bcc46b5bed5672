//! AV1 and HEVC renditions beside H.264, from real ffmpeg runs on a short generated clip:
//! what they probe as, the CODECS the manifests name, and segment boundaries shared with H.264.

// A panic is how a test reports failure; the workspace's unwrap/expect lints are for code that ships.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ffmpeg;
use mediaserver_media::probe;
use mediaserver_media::transcode::{self, CodecOptions, LadderMode, VideoCodec, VideoOptions};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// ffprobe's (codec_name, codec_tag_string) of the video in `file`.
fn probe_codec(file: &Path) -> (String, String) {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0"])
        .args(["-show_entries", "stream=codec_name,codec_tag_string"])
        .args(["-of", "csv=p=0"])
        .arg(file)
        .output()
        .expect("ffprobe runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let (name, tag) = text.trim().split_once(',').expect("codec_name,tag");
    (name.to_string(), tag.to_string())
}

/// `(uri, CODECS, RESOLUTION)` of every variant of the master.
fn variants(master: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut lines = master.lines();
    while let Some(line) = lines.next() {
        if let Some(attrs) = line.strip_prefix("#EXT-X-STREAM-INF:") {
            let get = |name: &str| {
                let at = attrs.find(&format!("{name}=")).unwrap() + name.len() + 1;
                let rest = &attrs[at..];
                if let Some(q) = rest.strip_prefix('"') {
                    q[..q.find('"').unwrap()].to_string()
                } else {
                    rest.split(',').next().unwrap().to_string()
                }
            };
            let uri = lines.next().unwrap().to_string();
            out.push((uri, get("CODECS"), get("RESOLUTION")));
        }
    }
    out
}

/// Every video representation of the MPD: id → (its set's position, codecs, segment start
/// times in the timescale).
fn video_timelines(mpd: &str) -> BTreeMap<String, (usize, String, Vec<u64>)> {
    let doc = roxmltree::Document::parse(mpd).unwrap();
    let mut out = BTreeMap::new();
    let sets = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "AdaptationSet")
        .filter(|n| n.attribute("contentType") == Some("video"));
    for (set_index, set) in sets.enumerate() {
        for rep in set
            .children()
            .filter(|n| n.tag_name().name() == "Representation")
        {
            let mut starts = Vec::new();
            let mut t = 0u64;
            for s in rep.descendants().filter(|n| n.tag_name().name() == "S") {
                if let Some(start) = s.attribute("t") {
                    t = start.parse().unwrap();
                }
                let d: u64 = s.attribute("d").unwrap().parse().unwrap();
                let r: u64 = s.attribute("r").map_or(0, |r| r.parse().unwrap());
                for _ in 0..=r {
                    starts.push(t);
                    t += d;
                }
            }
            out.insert(
                rep.attribute("id").unwrap().to_string(),
                (
                    set_index,
                    rep.attribute("codecs").unwrap().to_string(),
                    starts,
                ),
            );
        }
    }
    out
}

#[tokio::test]
async fn av1_and_hevc_beside_h264_with_shared_segment_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.mp4");
    // 12.5 fps and a keyframe every second: an interval is not a whole number of frames, the
    // case where AV1's fixed GOP and time-forced keyframes part at once (as 29.97 fps does
    // after half a minute). 9 s: four segments and a bit.
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=640x360:rate=25/2:duration=9",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=9",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        input.to_str().unwrap(),
    ]);
    let info = probe::probe(&input, Duration::from_secs(30)).await.unwrap();
    let out = dir.path().join("out");
    let opts = VideoOptions {
        preset: "ultrafast".into(),
        timeout: Duration::from_secs(600),
        keyframe_seconds: 1,
        segment_seconds: 2,
        codecs: CodecOptions {
            extra: vec![VideoCodec::Av1, VideoCodec::Hevc],
            av1_preset: 12,
            hevc_preset: "ultrafast".into(),
        },
        ..Default::default()
    };
    let result = transcode::video(&input, &out, &info, &opts, |_| {})
        .await
        .unwrap();

    // 360p and 240p in each codec, H.264's first.
    let names: Vec<_> = result
        .renditions
        .iter()
        .map(|r| (r.name.as_str(), r.codec))
        .collect();
    assert_eq!(
        names,
        [
            ("360p", Some(VideoCodec::H264)),
            ("240p", Some(VideoCodec::H264)),
            ("360p", Some(VideoCodec::Av1)),
            ("240p", Some(VideoCodec::Av1)),
            ("360p", Some(VideoCodec::Hevc)),
            ("240p", Some(VideoCodec::Hevc)),
        ]
    );

    let stream = out.join("stream");
    let master = std::fs::read_to_string(stream.join("master.m3u8")).unwrap();
    let mpd = std::fs::read_to_string(stream.join("manifest.mpd")).unwrap();
    let variants = variants(&master);
    assert_eq!(variants.len(), 6, "{master}");
    let timelines = video_timelines(&mpd);
    assert_eq!(timelines.len(), 6, "{mpd}");

    let h264_starts = timelines["0"].2.clone();
    assert!(h264_starts.len() >= 3, "{mpd}");
    let mut sets_by_codec = BTreeMap::new();
    for (rendition, (uri, codecs, resolution)) in result.renditions.iter().zip(&variants) {
        assert_eq!(*codecs, rendition.codecs, "{master}");
        assert_eq!(
            *resolution,
            format!("{}x{}", rendition.width, rendition.height)
        );
        let (video_codecs, audio_codecs) = codecs.split_once(',').unwrap();
        assert_eq!(audio_codecs, "mp4a.40.2");
        // What ffprobe finds in the published segments (init + first media segment).
        let id: usize = uri
            .strip_prefix("media_")
            .and_then(|u| u.strip_suffix(".m3u8"))
            .unwrap()
            .parse()
            .unwrap();
        let joined = dir.path().join(format!("joined-{id}.mp4"));
        let mut bytes = std::fs::read(stream.join(format!("init-{id}.m4s"))).unwrap();
        bytes.extend(std::fs::read(stream.join(format!("chunk-{id}-00001.m4s"))).unwrap());
        std::fs::write(&joined, bytes).unwrap();
        let (name, tag) = probe_codec(&joined);
        let expected = match rendition.codec.unwrap() {
            VideoCodec::H264 => ("h264", "avc1", "avc1."),
            VideoCodec::Av1 => ("av1", "av01", "av01.0."),
            // hvc1 (parameter sets out of band), Main profile, with its level: not the bare
            // `hvc1` ffmpeg's dash muxer would write.
            VideoCodec::Hevc => ("hevc", "hvc1", "hvc1.1.6.L"),
        };
        assert_eq!((name.as_str(), tag.as_str()), (expected.0, expected.1));
        assert!(
            video_codecs.starts_with(expected.2),
            "{video_codecs} for {name}"
        );
        // The MPD names the same codecs, one adaptation set per codec, and every rung's
        // segments start where H.264's do.
        let (set, mpd_codecs, starts) = &timelines[&id.to_string()];
        assert_eq!(mpd_codecs, video_codecs);
        assert_eq!(*starts, h264_starts, "representation {id}: {mpd}");
        let previous = sets_by_codec.insert(rendition.codec.map(|c| c.name()), *set);
        assert!(previous.is_none() || previous == Some(*set), "{mpd}");
    }
    assert_eq!(sets_by_codec.len(), 3);
    let distinct: std::collections::BTreeSet<_> = sets_by_codec.values().collect();
    assert_eq!(distinct.len(), 3, "{mpd}");
}

/// A slide deck with `VIDEO_CODECS=h264,av1` on the adaptive ladder: AV1's trials find it
/// would need about H.264's bytes for H.264's quality (SVT-AV1's keyframes of a held picture
/// cost three times x264's), so the video is published in H.264 alone, saying why; nothing of
/// AV1 is left in the manifests or the stream folder.
#[tokio::test]
async fn a_slide_deck_is_published_without_av1_where_it_would_not_save_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("slides.mp4");
    // Two held slides, 4 s each: fractal detail, then a test card.
    common::make_slides(&input, 640, 360, "30", 4, false);
    let info = probe::probe(&input, Duration::from_secs(30)).await.unwrap();
    let out = dir.path().join("out");
    let opts = VideoOptions {
        preset: "veryfast".into(),
        timeout: Duration::from_secs(600),
        ladder_mode: LadderMode::Adaptive,
        codecs: CodecOptions {
            extra: vec![VideoCodec::Av1],
            ..Default::default()
        },
        ..Default::default()
    };
    let result = transcode::video(&input, &out, &info, &opts, |_| {})
        .await
        .unwrap();
    assert!(
        result
            .renditions
            .iter()
            .all(|r| r.codec == Some(VideoCodec::H264)),
        "{:?}",
        result.renditions
    );
    assert!(!result.renditions.is_empty());
    let said: Vec<_> = result
        .warnings
        .iter()
        .filter(|w| w.starts_with("published without AV1"))
        .collect();
    assert_eq!(said.len(), 1, "{:?}", result.warnings);
    assert!(said[0].contains("less than 30 %"), "{}", said[0]);

    let stream = out.join("stream");
    let master = std::fs::read_to_string(stream.join("master.m3u8")).unwrap();
    let mpd = std::fs::read_to_string(stream.join("manifest.mpd")).unwrap();
    assert!(
        !master.contains("av01") && !mpd.contains("av01"),
        "{master}\n{mpd}"
    );
    assert_eq!(variants(&master).len(), result.renditions.len(), "{master}");
    let streams: std::collections::BTreeSet<String> = std::fs::read_dir(&stream)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            Some(
                name.strip_prefix("init-")?
                    .strip_suffix(".m4s")?
                    .to_string(),
            )
        })
        .collect();
    // One init segment per published rendition (no audio in the source), each H.264.
    assert_eq!(streams.len(), result.renditions.len(), "{streams:?}");
    for s in &streams {
        assert_eq!(probe_codec(&stream.join(format!("init-{s}.m4s"))).0, "h264");
    }
}
