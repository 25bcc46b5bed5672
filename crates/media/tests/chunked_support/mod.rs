//! Helpers of `chunked.rs`: a Range-capable HTTP server, packet timestamps, SSIM, manifest
//! reading.
#![allow(dead_code)]

use super::common::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod pipeline;
pub use pipeline::*;

/// Every file under `dir`, relative, with `/`.
pub fn files(dir: &Path) -> BTreeSet<String> {
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
pub fn publish(from: &Path, to: &Path, rel: &str) {
    let dest = to.join(rel);
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    std::fs::copy(from.join(rel), dest).unwrap();
}

/// A minimal HTTP/1.1 file server with `Range` support (each response closes its
/// connection); records where each range request starts.
pub async fn serve(path: PathBuf) -> (String, Arc<Mutex<Vec<u64>>>) {
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
pub fn dts(file: &Path, kind: &str) -> (Vec<(i64, i64)>, String) {
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
pub fn assert_constant_step(packets: &[(i64, i64)], what: &str) {
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
pub fn ssim(source: &Path, distorted: &Path, w: u32, h: u32, rate: &str) -> f64 {
    let out = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-i"])
        .arg(distorted)
        .arg("-i")
        .arg(source)
        .args([
            "-lavfi",
            &format!("[1:v]fps={rate},scale={w}:{h}:flags=bicubic,setsar=1[ref];[0:v]setsar=1[d];[d][ref]ssim"),
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
pub fn without_numbers(text: &str, attrs: &[&str]) -> String {
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
pub fn variants(stream: &Path) -> Master {
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
pub type Timeline = (String, Vec<(u64, u64, u64)>);

/// The representations' timelines of an MPD.
pub fn timelines(mpd: &str) -> Vec<Timeline> {
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
