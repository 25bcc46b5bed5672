//! Progressive packaging on a real encode: updates arrive while ffmpeg runs, name only complete
//! files, and leave the finished output exactly as a plain transcode makes it.

// A panic is how a test reports failure; the workspace's unwrap/expect lints are for code that ships.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use mediaserver_media::probe;
use mediaserver_media::transcode::{self, PackagingUpdate, VideoOptions};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};

const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

fn opts() -> VideoOptions {
    VideoOptions {
        preset: "ultrafast".into(),
        timeout: Duration::from_secs(300),
        // Short segments so a short clip has several.
        segment_seconds: 2,
        ..Default::default()
    }
}

/// One update as the test saw it when it arrived.
struct Seen {
    at: Duration,
    update: PackagingUpdate,
    /// ffmpeg rewrites the MPD as `static` only when it finishes.
    mpd_dynamic: bool,
    /// Sizes of the reported files at that moment.
    sizes: HashMap<String, u64>,
    /// Each newly reported init segment joined with that stream's newly reported first segment,
    /// as a player would fetch them: path of the joined copy.
    joined: Vec<std::path::PathBuf>,
}

fn relative_files(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out
}

fn playlist_uris(text: &str) -> Vec<String> {
    let mut uris: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(str::to_string)
        .collect();
    for l in text.lines() {
        if let Some(uri) = l.split("URI=\"").nth(1).and_then(|r| r.split('"').next()) {
            uris.push(uri.to_string());
        }
    }
    uris
}

#[tokio::test]
async fn reports_complete_segments_while_ffmpeg_runs() {
    let dir = tempfile::tempdir().unwrap();
    let input = make_video(dir.path(), "in.mp4", 1280, 720, 30, 12.0, true);
    let info = probe::probe(&input, PROBE_TIMEOUT).await.unwrap();

    // The same clip without progressive packaging: the reference layout.
    let plain = dir.path().join("plain");
    transcode::video(&input, &plain, &info, &opts(), |_| {})
        .await
        .unwrap();

    let out = dir.path().join("out");
    let (tx, mut rx) = tokio::sync::mpsc::channel::<PackagingUpdate>(4);
    let options = VideoOptions {
        packaging: Some(tx),
        ..opts()
    };
    let started = Instant::now();
    let stream = out.join("stream");
    let joined_dir = dir.path().join("joined");
    std::fs::create_dir_all(&joined_dir).unwrap();
    let collector = {
        let (out, stream, joined_dir) = (out.clone(), stream.clone(), joined_dir.clone());
        tokio::spawn(async move {
            let mut seen = Vec::new();
            while let Some(update) = rx.recv().await {
                let mpd = std::fs::read_to_string(stream.join("manifest.mpd")).unwrap_or_default();
                let sizes = update
                    .ready_files
                    .iter()
                    .map(|f| (f.clone(), std::fs::metadata(out.join(f)).unwrap().len()))
                    .collect();
                let mut joined = Vec::new();
                for init in update.ready_files.iter().filter(|f| f.contains("/init-")) {
                    let n = init
                        .trim_start_matches("stream/init-")
                        .trim_end_matches(".m4s");
                    let first = format!("stream/chunk-{n}-00001.m4s");
                    if update.ready_files.contains(&first) {
                        let mut bytes = std::fs::read(out.join(init)).unwrap();
                        bytes.extend(std::fs::read(out.join(&first)).unwrap());
                        let p = joined_dir.join(format!("{n}.mp4"));
                        std::fs::write(&p, bytes).unwrap();
                        joined.push(p);
                    }
                }
                seen.push(Seen {
                    at: started.elapsed(),
                    mpd_dynamic: mpd.contains("type=\"dynamic\""),
                    update,
                    sizes,
                    joined,
                });
            }
            seen
        })
    };
    let result = transcode::video(&input, &out, &info, &options, |_| {})
        .await
        .unwrap();
    let ended = started.elapsed();
    drop(options); // closes the channel
    let seen = collector.await.unwrap();

    // Updates came while ffmpeg was running, the provisional master well before the end.
    assert!(seen.len() >= 2, "{} updates", seen.len());
    let master_at = seen.iter().position(|s| s.update.master.is_some()).unwrap();
    let first_master = &seen[master_at];
    assert!(
        first_master.mpd_dynamic,
        "master only after ffmpeg finished"
    );
    assert!(
        first_master.at.as_secs_f64() < ended.as_secs_f64() * 0.8,
        "master at {:?} of {ended:?}",
        first_master.at
    );
    assert!(
        seen[master_at + 1..]
            .iter()
            .all(|s| s.update.master.is_none()),
        "the master is reported once"
    );
    eprintln!(
        "progressive: {} updates, master at {:?}, encode done at {ended:?}",
        seen.len(),
        first_master.at
    );

    // Every file once; complete when reported (never changed afterwards, and an init segment
    // plus the first segment decode).
    let mut reported = BTreeSet::new();
    for s in &seen {
        for f in &s.update.ready_files {
            assert!(reported.insert(f.clone()), "{f} reported twice");
            assert!(!f.ends_with(".tmp") && f.ends_with(".m4s"), "{f}");
            let now = std::fs::metadata(out.join(f)).unwrap().len();
            assert_eq!(s.sizes[f], now, "{f} changed after it was reported");
            assert!(now > 0);
        }
        for joined in &s.joined {
            let j = ffprobe_json(joined, &["-show_entries", "format=duration"]);
            let d: f64 = j["format"]["duration"].as_str().unwrap().parse().unwrap();
            assert!(d > 1.0, "{}: {d}", joined.display());
        }
    }
    assert!(seen.iter().any(|s| !s.joined.is_empty()));

    // Playlists are EVENT playlists naming only files reported by then; they only grow.
    let mut known = BTreeSet::new();
    let mut last: HashMap<String, String> = HashMap::new();
    for s in &seen {
        known.extend(s.update.ready_files.iter().cloned());
        for (path, text) in &s.update.playlists {
            assert!(text.starts_with("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-PLAYLIST-TYPE:EVENT\n"));
            assert!(text.contains("#EXT-X-TARGETDURATION:2\n"), "{text}");
            assert!(text.contains("#EXT-X-MAP:URI=\"init-"), "{text}");
            assert!(!text.contains("ENDLIST") && !text.contains("PROGRAM-DATE-TIME"));
            for uri in playlist_uris(text) {
                assert!(known.contains(&format!("stream/{uri}")), "{path}: {uri}");
            }
            if let Some(before) = last.get(path) {
                assert!(
                    text.starts_with(before.as_str()),
                    "{path} was not appended to"
                );
            }
            last.insert(path.clone(), text.clone());
        }
        if let Some(master) = &s.update.master {
            for uri in playlist_uris(master) {
                assert!(
                    last.contains_key(&format!("stream/{uri}")),
                    "master → {uri}"
                );
            }
        }
    }

    // The provisional master says what the final one says, except the measured bandwidths.
    let provisional = seen[master_at].update.master.clone().unwrap();
    let final_master = std::fs::read_to_string(stream.join("master.m3u8")).unwrap();
    let strip = |m: &str| -> Vec<String> {
        m.lines()
            .map(|l| {
                l.split(',')
                    .filter(|a| !a.contains("BANDWIDTH="))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect()
    };
    assert_eq!(strip(&provisional), strip(&final_master), "{provisional}");
    let bandwidths = |m: &str| -> Vec<u64> {
        m.lines()
            .filter_map(|l| l.strip_prefix("#EXT-X-STREAM-INF:BANDWIDTH="))
            .map(|b| b.split(',').next().unwrap().parse().unwrap())
            .collect()
    };
    let (early, late) = (bandwidths(&provisional), bandwidths(&final_master));
    assert_eq!(early.len(), result.renditions.len());
    assert!(
        early.iter().zip(&late).all(|(e, l)| e <= l),
        "{early:?} {late:?}"
    );

    // Finished output: VOD playlists, and the same files as a plain transcode.
    for i in 0..=result.renditions.len() {
        read_media_playlist(&stream, &format!("media_{i}.m3u8"));
    }
    assert_eq!(relative_files(&out), relative_files(&plain));
    assert!(reported.iter().all(|f| out.join(f).is_file()));
}
