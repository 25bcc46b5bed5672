//! Chunked encoding (issue 15 §1) end to end: a 5-minute video with `CHUNK_SECONDS=60` encoded
//! by two `mediaserver worker` processes on PostgreSQL, one of them SIGKILLed in the middle of
//! a chunk. The item still ends `ready`; every packet of every published stream has monotonic
//! decode times with a constant step across every chunk border; the item plays before any
//! chunk is done (the split's head); and the segments per rung match what one job publishes
//! progressively for the same source.
//!
//! Kept cheap: a 640x360 15 fps source (two rungs, 360p and 240p) and the `ultrafast` preset.

use crate::backends::{fresh_postgres_database, JWT};
use crate::common::{self, TestServer};
use crate::workers::bin;
use futures::StreamExt;

use mediaserver_core::{Job, JobKind, JobStatus};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const MINUTES: u32 = 5;

/// A 5-minute 640x360 15 fps video with a tone, made once per target directory.
pub(crate) fn five_minutes() -> PathBuf {
    static CLIP: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    CLIP.get_or_init(|| {
        let secs = (MINUTES * 60).to_string();
        common::ffmpeg_fixture(
            "chunked-5min-360p15.mp4",
            &[
                "-f",
                "lavfi",
                "-i",
                &format!("testsrc2=size=640x360:rate=15:duration={secs}"),
                "-f",
                "lavfi",
                "-i",
                &format!("sine=frequency=330:duration={secs}"),
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                "aac",
                "-shortest",
                "-movflags",
                "+faststart",
            ],
        )
    })
    .clone()
}

/// A 20 s 640x360 25 fps video with a tone: three chunks of 8 s with `CHUNK_SECONDS=8`.
pub(crate) fn twenty_seconds() -> PathBuf {
    common::ffmpeg_fixture(
        "chunked-20s-360p.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360:rate=25:duration=20",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=20",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            "-movflags",
            "+faststart",
        ],
    )
}

fn spawn_worker(data_dir: &Path, db: &str, log: &Path) -> Child {
    bin()
        .arg("worker")
        .env("DATA_DIR", data_dir)
        .env("DATABASE_URL", db)
        .env("JWT_SECRET", JWT)
        .env("TRANSCODE_PRESET", "ultrafast")
        .env("JOB_LEASE_SECONDS", "3")
        .env("CHUNK_SECONDS", "60")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap()
}

/// The process id in a worker name (`{host}-{pid}-{n}`).
fn pid_of(owner: &str) -> Option<u32> {
    owner.rsplit('-').nth(1)?.parse().ok()
}

async fn jobs(s: &TestServer, id: &str) -> Vec<Job> {
    s.state
        .repo
        .jobs_for_media(&id.parse().unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn two_workers_encode_chunks_and_one_killed_mid_chunk_loses_only_its_chunk() {
    let source = five_minutes();
    let db = fresh_postgres_database().await;
    let s = TestServer::start_with(&[
        ("DATABASE_URL", &db),
        ("JWT_SECRET", JWT),
        ("CHUNK_SECONDS", "60"),
    ])
    .await;
    assert_eq!(s.state.repo.backend(), "postgres");
    let token = s.user_token("me@example.com").await;
    let id = s.upload_ok(&token, "five.mp4", common::read(&source)).await["id"]
        .as_str()
        .unwrap()
        .to_string();

    let logs = [s.dir.path().join("w1.log"), s.dir.path().join("w2.log")];
    let mut workers = vec![
        spawn_worker(s.dir.path(), &db, &logs[0]),
        spawn_worker(s.dir.path(), &db, &logs[1]),
    ];
    let pids: Vec<u32> = workers.iter().map(Child::id).collect();

    // Both workers hold parts; then one is killed while it encodes a chunk.
    let mut holders: BTreeSet<u32> = BTreeSet::new();
    let mut seen_counts: Option<Value> = None;
    let mut playable_before_chunks = false;
    let mut victim: Option<(Job, usize)> = None;
    let mut running_since: BTreeMap<String, Instant> = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(600);
    while victim.is_none() {
        assert!(Instant::now() < deadline, "no chunk to interrupt");
        let item: Value = s
            .get(&format!("/v1/media/{id}"), &token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_ne!(item["status"], "ready", "done before a worker was killed");
        assert_ne!(item["status"], "failed", "{item}");
        if item["chunks"].is_object() {
            seen_counts = Some(item["chunks"].clone());
            // The split's head (its first segments, published while the plan is made).
            if item["playable"] == true && item["chunks"]["done"] == 0 {
                playable_before_chunks = true;
            }
        }
        for j in jobs(&s, &id).await {
            let Some(pid) = j.lease_owner.as_deref().and_then(pid_of) else {
                continue;
            };
            if j.status != JobStatus::Running {
                continue;
            }
            holders.insert(pid);
            let since = *running_since
                .entry(j.id.to_string())
                .or_insert_with(Instant::now);
            // Mid-chunk: encoding for a while, not the last chunk, both workers seen.
            if j.kind == JobKind::Chunk
                && j.chunk_index.is_some_and(|i| i + 1 < MINUTES)
                && since.elapsed() > Duration::from_secs(1)
                && holders.len() == 2
            {
                let w = pids.iter().position(|p| *p == pid).unwrap();
                victim = Some((j, w));
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (killed_chunk, w) = victim.unwrap();
    assert_eq!(holders.len(), 2, "both workers take parts: {holders:?}");
    workers[w].kill().unwrap(); // SIGKILL, mid-chunk
    workers[w].wait().unwrap();
    let counts = seen_counts.expect("the item showed its chunks while processing");
    assert!(
        playable_before_chunks,
        "not playable before a chunk was done: {counts}"
    );
    assert_eq!(counts["total"], MINUTES, "{counts}");

    let item = s.wait_done(&token, &id, 900).await;
    // The worker that recorded the item removes the encode's working files right after.
    let chunk_files = format!("media/{id}/chunks/");
    let deadline = Instant::now() + Duration::from_secs(30);
    while item["status"] == "ready"
        && !s
            .state
            .output_store
            .list(&chunk_files)
            .await
            .unwrap()
            .is_empty()
    {
        assert!(Instant::now() < deadline, "{chunk_files} still there");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for mut w in workers {
        w.kill().ok();
        w.wait().ok();
    }
    let log = |i: usize| std::fs::read_to_string(&logs[i]).unwrap_or_default();
    assert_eq!(
        item["status"],
        "ready",
        "{item}\nworker 1:\n{}\nworker 2:\n{}",
        log(0),
        log(1)
    );
    assert!(item.get("chunks").is_none(), "{item}");
    // Recorded as a single job records it: the source stream, the downloads.
    assert_eq!(item["source"]["codec"], "h264", "{item}");
    assert_eq!(item["source"]["width"], 640, "{item}");
    let downloads: Vec<&str> = item["downloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert!(downloads.contains(&"audio"), "{item}");
    assert!(downloads.len() >= 2, "{item}");

    // The queue: every chunk, the rest and one assemble job done; only the interrupted chunk
    // ran twice.
    let all = jobs(&s, &id).await;
    let count = |k: JobKind| all.iter().filter(|j| j.kind == k).count();
    assert_eq!(
        (
            count(JobKind::Whole),
            count(JobKind::Chunk),
            count(JobKind::Rest)
        ),
        (1, MINUTES as usize, 1)
    );
    assert_eq!(count(JobKind::Assemble), 1);
    for j in &all {
        assert_eq!(j.status, JobStatus::Done, "{j:?}");
        let expected = if j.id == killed_chunk.id { 2 } else { 1 };
        assert_eq!(j.attempts, expected, "{j:?}");
    }

    // Every packet of every stream, across every chunk border.
    let signed = item["signed"]["hls"].as_str().unwrap().to_string();
    let master = s.url(&signed);
    check_continuous(&master).await;

    // The same segments per rung as one job publishes, and the same storyboard sprite: its
    // tiles came from both workers' chunks and the rest job, pasted together by the assembly.
    let chunked = rung_segments_http(&s, &master).await;
    let (single, single_sprite) = single_job(&source).await;
    assert!(item["storyboard_url"].is_string(), "{item}");
    let sprite = stored(&s, &format!("media/{id}/storyboard.jpg")).await;
    assert!(
        sprite == single_sprite,
        "the chunked storyboard differs from the single job's"
    );
    assert_eq!(
        chunked.keys().collect::<Vec<_>>(),
        single.keys().collect::<Vec<_>>(),
        "the same rungs"
    );
    for (rung, durations) in &single {
        let got = &chunked[rung];
        assert_eq!(got.len(), durations.len(), "{rung}: segment count");
        for (i, (a, b)) in got.iter().zip(durations).enumerate() {
            assert!((a - b).abs() < 0.0015, "{rung} segment {i}: {a} vs {b}");
        }
    }
}

/// ffprobe's packets of every stream of the HLS `master` (all variants and renditions): decode
/// times strictly increasing by one constant step (a frame, an AAC frame).
async fn check_continuous(master: &str) {
    let probe = common::ffprobe(
        master,
        "stream=index,codec_type,time_base:packet=stream_index,dts,duration",
    )
    .await;
    let streams = probe["streams"].as_array().unwrap();
    assert!(streams.len() >= 2, "{probe}");
    let mut by_stream: BTreeMap<i64, Vec<(i64, i64)>> = BTreeMap::new();
    for p in probe["packets"].as_array().unwrap() {
        let (Some(dts), Some(dur)) = (p["dts"].as_i64(), p["duration"].as_i64()) else {
            panic!("a packet without dts or duration: {p}");
        };
        by_stream
            .entry(p["stream_index"].as_i64().unwrap())
            .or_default()
            .push((dts, dur));
    }
    let mut kinds = BTreeSet::new();
    for s in streams {
        let index = s["index"].as_i64().unwrap();
        let kind = s["codec_type"].as_str().unwrap_or("").to_string();
        let packets = &by_stream[&index];
        kinds.insert(kind.clone());
        // Five minutes of it: every border is crossed.
        assert!(
            packets.len() > 1000,
            "stream {index} ({kind}): {}",
            packets.len()
        );
        let step = packets[1].0 - packets[0].0;
        assert!(step > 0, "stream {index} ({kind})");
        for w in packets.windows(2) {
            let d = w[1].0 - w[0].0;
            // One tick of rounding where the demuxer rescales to its time base.
            assert!(
                (d - step).abs() <= 1,
                "stream {index} ({kind}): dts {} -> {} (step {step})",
                w[0].0,
                w[1].0
            );
        }
    }
    assert!(
        kinds.contains("video") && kinds.contains("audio"),
        "{kinds:?}"
    );
}

/// `RESOLUTION` → EXTINF durations of each variant of an HLS master.
fn variants(master: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut resolution = None;
    for line in master.lines() {
        if let Some(attrs) = line.strip_prefix("#EXT-X-STREAM-INF:") {
            resolution = attrs
                .split(',')
                .find_map(|a| a.strip_prefix("RESOLUTION="))
                .map(String::from);
        } else if !line.starts_with('#') && !line.trim().is_empty() {
            if let Some(r) = resolution.take() {
                out.push((r, line.trim().to_string()));
            }
        }
    }
    out
}

fn extinfs(playlist: &str) -> Vec<f64> {
    playlist
        .lines()
        .filter_map(|l| l.strip_prefix("#EXTINF:"))
        .map(|d| {
            d.trim_end_matches(',')
                .split(',')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect()
}

async fn rung_segments_http(s: &TestServer, master_url: &str) -> BTreeMap<String, Vec<f64>> {
    let master = s
        .client
        .get(master_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let base = master_url.rsplit_once('/').unwrap().0;
    let mut out = BTreeMap::new();
    for (resolution, uri) in variants(&master) {
        let playlist = s
            .client
            .get(format!("{base}/{uri}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        out.insert(resolution, extinfs(&playlist));
    }
    out
}

/// `source` encoded as one job, published progressively as a server publishes a video it does
/// not chunk (`CHUNK_SECONDS=0`): what a chunked plan made for progressive publishing
/// reproduces (the head's short first segment, then the segment grid; the head's CRFs). The
/// server (still running) and the item, ready.
pub(crate) async fn single_job_item(source: &Path) -> (TestServer, Value) {
    let s = TestServer::start_with(&[
        ("CHUNK_SECONDS", "0"),
        ("WORKERS", "1"),
        ("TRANSCODE_PRESET", "ultrafast"),
    ])
    .await;
    let token = s.user_token("one@example.com").await;
    let id = s
        .upload_ok(&token, "single.mp4", common::read(source))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let item = s.wait_done(&token, &id, 900).await;
    assert_eq!(item["status"], "ready", "{item}");
    assert!(item.get("chunks").is_none(), "{item}");
    (s, item)
}

/// The segments per rung and the storyboard of [`single_job_item`].
async fn single_job(source: &Path) -> (BTreeMap<String, Vec<f64>>, Vec<u8>) {
    let (s, item) = single_job_item(source).await;
    let master = s.url(item["signed"]["hls"].as_str().unwrap());
    let segments = rung_segments_http(&s, &master).await;
    let id = item["id"].as_str().unwrap();
    let sprite = stored(&s, &format!("media/{id}/storyboard.jpg")).await;
    (segments, sprite)
}

/// The bytes of the object `key` in the server's output store.
async fn stored(s: &TestServer, key: &str) -> Vec<u8> {
    let key = mediaserver_storage::ObjectKey::new(key.to_string()).unwrap();
    let (_, mut stream) = s.state.output_store.get_stream(&key).await.unwrap();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk.unwrap());
    }
    bytes
}

/// `JOB_RUNNER=oci-container-instances` (against the OCI stand-in, whose "containers" run the
/// real `mediaserver transcode`): the whole job's container plans the split, every part runs in
/// its own instance (`--part chunk:N`, `rest`, `assemble`) and the item is recorded from the
/// assembly's summary. A 20 s video in chunks of 8 s keeps it cheap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn container_instances_run_the_split_each_part_and_the_assembly() {
    use crate::container_instances::{all_deleted, start_workers, world};
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;

    let clip = twenty_seconds();
    let w = world().await;
    w.run_transcode(None, Arc::new(AtomicUsize::new(0)));
    let env = w.env(&[("CHUNK_SECONDS", "8"), ("CHUNK_MIN_SECONDS", "10")]);
    let s = TestServer::start_with(&env).await;
    let (stop, handle) = start_workers(&s, &env).await;
    let token = s.user_token("ci@example.com").await;
    let id = s.upload_ok(&token, "clip.mp4", common::read(&clip)).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let done = s.wait_done(&token, &id, 300).await;
    stop.cancel();
    handle.await.unwrap();
    assert_eq!(done["status"], "ready", "{done}");
    assert_eq!(done["playable"], true, "{done}");
    assert!(!done["renditions"].as_array().unwrap().is_empty(), "{done}");
    assert_eq!(done["audio_tracks"].as_array().unwrap().len(), 1, "{done}");
    assert_eq!(done["source"]["codec"], "h264", "{done}");
    assert!(!done["downloads"].as_array().unwrap().is_empty(), "{done}");
    // Recorded where it ran, from the assembly's summary.
    let duration = done["duration_seconds"].as_f64().unwrap();
    assert!((duration - 20.0).abs() < 0.2, "{done}");
    // The encode report an in-process assembly records (`chunked_report`), from the summary,
    // with where it ran.
    let encode = &done["encode"];
    assert_eq!(encode["runner"]["kind"], "container-instances", "{done}");
    assert!(encode["runner"]["instance"].is_string(), "{done}");
    assert!(encode["cpu_seconds"].as_f64().unwrap() > 0.0, "{done}");
    assert!(encode["elapsed_seconds"].as_f64().unwrap() > 0.0, "{done}");
    assert!(
        encode["quality"]["windows"].as_u64().unwrap() >= 1,
        "{done}"
    );
    let renditions = done["renditions"].as_array().unwrap();
    assert_eq!(
        encode["renditions"].as_array().unwrap().len(),
        renditions.len(),
        "{done}"
    );
    for e in encode["renditions"].as_array().unwrap() {
        assert!(e["bytes"].as_u64().unwrap() > 0, "{e}");
        assert!(e["maxrate"].as_u64().unwrap() > 0, "{e}");
        assert!(e["encoder_settings"].is_string(), "{e}");
        let ssim = e["quality"]["ssim"]
            .as_f64()
            .unwrap_or_else(|| panic!("{e}"));
        assert!(ssim > 0.5 && ssim <= 1.0, "{e}");
    }

    // One instance per job, each told which step it runs.
    let creates = w.standin.container_instances().creates();
    let mut steps: Vec<String> = creates
        .iter()
        .map(|body| {
            let args: Vec<String> =
                serde_json::from_value(body["containers"][0]["arguments"].clone()).unwrap();
            assert_eq!(args[0], "transcode");
            assert_eq!(args[2], format!("oci://standinns/media/media/{id}"));
            args[3..].join(" ")
        })
        .collect();
    steps.sort();
    assert_eq!(
        steps,
        [
            "--part assemble",
            "--part chunk:0",
            "--part chunk:1",
            "--part chunk:2",
            "--part rest",
            "--split"
        ]
    );
    let all = jobs(&s, &id).await;
    assert_eq!(all.len(), 6);
    assert!(all.iter().all(|j| j.status == JobStatus::Done), "{all:?}");
    assert!(all_deleted(&w.standin));

    // What the containers published plays: the master names every rung and the audio.
    let master = s
        .client
        .get(s.url(done["signed"]["hls"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(master.contains("#EXT-X-STREAM-INF"), "{master}");
    assert!(master.contains("TYPE=AUDIO"), "{master}");
    let keys = s
        .state
        .output_store
        .list(&format!("media/{id}/chunks/"))
        .await
        .unwrap();
    assert!(keys.is_empty(), "{keys:?}");
}
