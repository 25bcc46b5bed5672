//! `--wait`: polls each uploaded item until it is `ready` or `failed`, then prints its playback
//! URLs (or the reason it failed).

use super::progress::{Mode, WaitProgress};
use super::tus::Tus;
use serde_json::{json, Value};
use std::time::Duration;
use url::Url;

const POLL: Duration = Duration::from_secs(1);
/// Consecutive failed polls of one item before giving up on it (a server restart is shorter).
const MAX_POLL_ERRORS: u32 = 60;

/// A file that was uploaded and the item it became.
pub struct Uploaded {
    pub file: String,
    pub media_id: String,
}

/// `path` (as the API gives it, rooted at the server) as an absolute URL under `base`, which
/// may carry a path prefix (a reverse proxy's).
pub fn absolute(base: &Url, path: &str) -> String {
    base.join(path.trim_start_matches('/'))
        .map(String::from)
        .unwrap_or_else(|_| path.to_string())
}

/// Waits for every item; prints each result as it arrives. True when all are `ready`.
pub async fn wait_all(tus: &Tus, base: &Url, items: &[Uploaded], mode: Mode, json: bool) -> bool {
    let names: Vec<String> = items.iter().map(|u| u.file.clone()).collect();
    let mut progress = WaitProgress::new(mode, &names);
    let mut pending: Vec<usize> = (0..items.len()).collect();
    let mut errors = vec![0u32; items.len()];
    let mut all_ready = true;
    while !pending.is_empty() {
        let mut still = Vec::new();
        for i in pending {
            let u = &items[i];
            match tus.get_json(&format!("v1/media/{}", u.media_id)).await {
                Ok(item) => {
                    errors[i] = 0;
                    let status = item["status"].as_str().unwrap_or("unknown");
                    match status {
                        "ready" | "failed" => {
                            progress.finish(i);
                            let ok = status == "ready";
                            all_ready &= ok;
                            if !ok {
                                progress.println(&format!(
                                    "error: {}: processing failed: {}",
                                    u.file,
                                    item["error"].as_str().unwrap_or("no reason given")
                                ));
                            }
                            progress.suspend(|| print_item(base, u, &item, json));
                        }
                        _ => {
                            let pct = item["progress"].as_i64().unwrap_or(0);
                            let playable = item["playable"].as_bool().unwrap_or(false);
                            let label = if playable && status == "processing" {
                                "processing (playable)"
                            } else {
                                status
                            };
                            progress.update(i, &u.file, label, pct);
                            still.push(i);
                        }
                    }
                }
                Err(e) => {
                    errors[i] += 1;
                    let give_up = match e.status() {
                        Some(404) => Some("the item no longer exists (deleted?)".to_string()),
                        Some(401) => Some(format!(
                            "{e}; the token expired or was revoked: an API key (POST /v1/api-keys) lasts until revoked or its expiry"
                        )),
                        _ if errors[i] >= MAX_POLL_ERRORS || !e.retryable() => Some(e.to_string()),
                        _ => None,
                    };
                    match give_up {
                        Some(why) => {
                            progress.finish(i);
                            all_ready = false;
                            progress.println(&format!(
                                "error: {}: cannot follow item {}: {why}",
                                u.file, u.media_id
                            ));
                            progress.suspend(|| print_unknown(u, &why, json));
                        }
                        None => still.push(i),
                    }
                }
            }
        }
        pending = still;
        if !pending.is_empty() {
            tokio::time::sleep(POLL).await;
        }
    }
    all_ready
}

fn print_unknown(u: &Uploaded, why: &str, json: bool) {
    if json {
        println!(
            "{}",
            json!({"file": u.file, "media_id": u.media_id, "status": null, "error": why})
        );
    } else {
        println!("{}\t{}\tunknown", u.file, u.media_id);
    }
}

/// Everything a user would open, as absolute URLs: (label, url). A private item's plain URLs
/// need an `Authorization` header no player sends, so it gets the signed ones (a short-lived
/// token in the path, valid for an hour) under the same labels, and the plain ones are marked as
/// needing a token.
fn links(base: &Url, item: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut add = |label: &str, v: &Value| {
        if let Some(p) = v.as_str() {
            out.push((label.to_string(), absolute(base, p)));
        }
    };
    let private = item["visibility"].as_str() == Some("private");
    let signed = item["signed"].is_object();
    if private && signed {
        add("hls", &item["signed"]["hls"]);
        add("dash", &item["signed"]["dash"]);
        if item["thumbnail_url"].is_string() {
            add("thumbnail", &item["signed"]["thumbnail"]);
        }
        add("hls (needs a bearer token)", &item["playback"]["hls"]);
        add("dash (needs a bearer token)", &item["playback"]["dash"]);
    } else {
        add("hls", &item["playback"]["hls"]);
        add("dash", &item["playback"]["dash"]);
        // The same with a short-lived playback token in the path: opens in any player, no header.
        if item["playback"].is_object() {
            add("play", &item["signed"]["hls"]);
        }
        add("thumbnail", &item["thumbnail_url"]);
    }
    // A variant's signed URL is its plain one under the signed base (`/v1/play/{token}/`).
    let plain_base = format!("/v1/media/{}/", item["id"].as_str().unwrap_or_default());
    let signed_base = item["signed"]["thumbnail"]
        .as_str()
        .and_then(|t| t.rsplit_once('/'))
        .map(|(dir, _)| format!("{dir}/"));
    for v in item["variants"].as_array().into_iter().flatten() {
        let Some(url) = v["url"].as_str() else {
            continue;
        };
        let name = url.rsplit('/').next().unwrap_or("variant").to_string();
        match (&signed_base, url.strip_prefix(&plain_base)) {
            (Some(sb), Some(rest)) if private => {
                add(&name, &Value::String(format!("{sb}{rest}")));
            }
            _ => add(&name, &v["url"]),
        }
    }
    out
}

fn print_item(base: &Url, u: &Uploaded, item: &Value, json: bool) {
    let status = item["status"].as_str().unwrap_or("unknown");
    if json {
        let playback = item["playback"].as_object().map(|_| {
            json!({
                "hls": absolute(base, item["playback"]["hls"].as_str().unwrap_or_default()),
                "dash": absolute(base, item["playback"]["dash"].as_str().unwrap_or_default()),
            })
        });
        let signed = item["signed"].as_object().map(|_| {
            json!({
                "hls": absolute(base, item["signed"]["hls"].as_str().unwrap_or_default()),
                "dash": absolute(base, item["signed"]["dash"].as_str().unwrap_or_default()),
                "expires_at": item["signed"]["expires_at"],
            })
        });
        let variants: Vec<Value> = item["variants"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| {
                json!({"name": v["name"], "url": absolute(base, v["url"].as_str().unwrap_or_default())})
            })
            .collect();
        println!(
            "{}",
            json!({
                "file": u.file,
                "media_id": u.media_id,
                "status": status,
                "kind": item["kind"],
                "error": item["error"],
                "playback": playback,
                "signed": signed,
                "thumbnail_url": item["thumbnail_url"].as_str().map(|p| absolute(base, p)),
                "variants": variants,
            })
        );
        return;
    }
    println!("{}\t{}\t{status}", u.file, u.media_id);
    for (label, url) in links(base, item) {
        println!("  {label}\t{url}");
    }
}

/// A finished upload without `--wait`.
pub fn print_uploaded(u: &Uploaded, json: bool) {
    if json {
        println!("{}", json!({"file": u.file, "media_id": u.media_id}));
    } else {
        println!("{}\t{}", u.file, u.media_id);
    }
}

/// A file that could not be uploaded, for `--json` (the message also goes to stderr).
pub fn print_failed(file: &str, why: &str, json: bool) {
    if json {
        println!("{}", json!({"file": file, "media_id": null, "error": why}));
    }
}
