//! Pictures on demand: `thumbnail.{jpg,webp,png}` at a time and size, `animated.{webp,gif}`,
//! rendered from the published stream by real ffmpeg, cached under the item's prefix, with
//! playback's access rules, bounded renders (503 + Retry-After), one render for identical
//! requests, and a 503 where no renderer is installed.

use crate::common;

use common::{expect_error, ffprobe, TestServer};
use futures::future::BoxFuture;
use mediaserver_api::{PictureLimits, PictureRenderer, PictureRequest, PictureSource, RenderError};
use mediaserver_core::{layout, MediaId};
use mediaserver_storage::ObjectKey;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// 640x360, 6 s at 25 fps, no sound, a grey that steps up every second (luma 20, 50, … 170):
/// the frame at a time says which second it is. Two rungs (360p, 240p).
fn steps() -> PathBuf {
    common::ffmpeg_fixture(
        "pictures-steps.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=black:s=640x360:r=25:d=6,format=yuv420p,geq=lum='20+30*floor(T)':cb=128:cr=128",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ],
    )
}

/// The mean grey of a picture (any format ffmpeg reads), or of `file`'s frame at `at` seconds.
fn grey(file: &Path, at: Option<f64>) -> u8 {
    let mut c = std::process::Command::new("ffmpeg");
    c.args(["-hide_banner", "-loglevel", "error"]);
    if let Some(t) = at {
        c.args(["-ss", &format!("{t:.3}")]);
    }
    let out = c
        .arg("-i")
        .arg(file)
        .args(["-frames:v", "1", "-vf", "scale=1:1:flags=area,format=gray"])
        .args(["-f", "rawvideo", "-"])
        .output()
        .expect("ffmpeg");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout.len(), 1, "one grey pixel");
    out.stdout[0]
}

async fn ready_item(s: &TestServer, token: &str) -> String {
    let item = s
        .upload_ready(token, "steps.mp4", std::fs::read(steps()).unwrap(), 180)
        .await;
    item["id"].as_str().unwrap().to_string()
}

/// `url` fetched with `token`, asserted 200 with `content_type`; the body and its ETag.
async fn fetch(s: &TestServer, url: &str, token: &str, content_type: &str) -> (Vec<u8>, String) {
    let r = s.get(url, token).send().await.unwrap();
    let status = r.status();
    if status != StatusCode::OK {
        panic!("{url}: {status} {}", r.text().await.unwrap());
    }
    assert_eq!(r.headers()[CONTENT_TYPE], content_type, "{url}");
    assert_eq!(r.headers()[CACHE_CONTROL], "private, max-age=300", "{url}");
    let etag = r.headers()[ETAG].to_str().unwrap().to_string();
    (r.bytes().await.unwrap().to_vec(), etag)
}

/// ffprobe's codec and size of a picture.
async fn probe(dir: &Path, name: &str, bytes: &[u8]) -> (String, u64, u64) {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let p = ffprobe(path.to_str().unwrap(), "stream=codec_name,width,height").await;
    let st = &p["streams"][0];
    (
        st["codec_name"].as_str().unwrap().to_string(),
        st["width"].as_u64().unwrap(),
        st["height"].as_u64().unwrap(),
    )
}

/// An animated WebP's canvas, frame count, total duration (ms) and loop count, from its RIFF
/// chunks (ffmpeg 5 cannot decode animated WebP).
fn webp_animation(bytes: &[u8]) -> ((u32, u32), usize, u32, u16) {
    assert_eq!(&bytes[0..4], b"RIFF");
    assert_eq!(&bytes[8..12], b"WEBP");
    let (mut canvas, mut frames, mut total, mut loops) = ((0, 0), 0, 0, u16::MAX);
    let mut at = 12;
    let u24 = |b: &[u8]| u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16;
    while at + 8 <= bytes.len() {
        let size = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        let body = &bytes[at + 8..at + 8 + size];
        match &bytes[at..at + 4] {
            b"VP8X" => canvas = (1 + u24(&body[4..7]), 1 + u24(&body[7..10])),
            b"ANIM" => loops = u16::from_le_bytes([body[4], body[5]]),
            b"ANMF" => {
                frames += 1;
                total += u24(&body[12..15]);
            }
            _ => {}
        }
        at += 8 + size + (size & 1);
    }
    (canvas, frames, total, loops)
}

fn picture_keys(id: &str) -> String {
    let id: MediaId = id.parse().unwrap();
    layout::output_key(&id, layout::PICTURES_DIR)
}

#[tokio::test]
async fn stills_and_animations_at_any_time_and_size_cached_under_the_item() {
    let s = TestServer::start_with(&[("WORKERS", "1")]).await;
    let token = s.user_token("pictures@example.com").await;
    let id = ready_item(&s, &token).await;
    let dir = tempfile::tempdir().unwrap();
    let base = format!("/v1/media/{id}");

    // The frame at a time is the frame at that time: the same grey as ffmpeg's frame of the
    // original there, and a different one each second.
    let mut greys = Vec::new();
    for t in [0.5, 2.5, 4.5] {
        let (png, _) = fetch(
            &s,
            &format!("{base}/thumbnail.png?time={t}"),
            &token,
            "image/png",
        )
        .await;
        let file = dir.path().join(format!("t{t}.png"));
        std::fs::write(&file, &png).unwrap();
        let (got, want) = (grey(&file, None), grey(&steps(), Some(t)));
        assert!(
            got.abs_diff(want) <= 8,
            "at {t} s: {got}, the original {want}"
        );
        greys.push(got);
    }
    assert!(greys.windows(2).all(|w| w[1] > w[0] + 40), "{greys:?}");
    // The last instant gives the last frame.
    let (png, _) = fetch(
        &s,
        &format!("{base}/thumbnail.png?time=6"),
        &token,
        "image/png",
    )
    .await;
    let file = dir.path().join("end.png");
    std::fs::write(&file, &png).unwrap();
    assert!(grey(&file, None).abs_diff(grey(&steps(), Some(5.9))) <= 8);

    // Sizes and formats, each fit as documented.
    for (query, ext, codec, size) in [
        (
            "width=200&height=200&fit=contain",
            "jpg",
            "mjpeg",
            (200, 112),
        ),
        ("width=200&height=200", "webp", "webp", (200, 112)),
        ("width=200&height=200&fit=cover", "png", "png", (200, 200)),
        ("width=200&height=100&fit=fill", "jpg", "mjpeg", (200, 100)),
        ("width=200&height=200&fit=pad", "webp", "webp", (200, 200)),
        ("width=320", "png", "png", (320, 180)),
        ("height=90", "jpg", "mjpeg", (160, 90)),
        (
            "width=1920&height=1920&fit=pad",
            "jpg",
            "mjpeg",
            (1920, 1920),
        ),
    ] {
        let ctype = match ext {
            "jpg" => "image/jpeg",
            other => &format!("image/{other}"),
        };
        let url = format!("{base}/thumbnail.{ext}?time=3&{query}");
        let (bytes, _) = fetch(&s, &url, &token, ctype).await;
        let (c, w, h) = probe(dir.path(), &format!("p.{ext}"), &bytes).await;
        assert_eq!(c, codec, "{url}");
        // Contained sides round either way.
        assert!(
            w == size.0 && h.abs_diff(size.1) <= 1,
            "{url}: {w}x{h}, expected {size:?}"
        );
    }

    // Cached: the object is stored under the item's prefix on the first request, and the
    // second is the same object (same ETag, a 304 when revalidated).
    let prefix = picture_keys(&id);
    let stored = || async {
        s.state
            .output_store
            .list(&prefix)
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.key)
            .collect::<Vec<_>>()
    };
    let before = stored().await;
    let url = format!("{base}/thumbnail.webp?time=1.25&width=64");
    let (first, etag) = fetch(&s, &url, &token, "image/webp").await;
    let after = stored().await;
    assert_eq!(after.len(), before.len() + 1, "{after:?}");
    let key = ObjectKey::new(after.iter().find(|k| !before.contains(k)).unwrap().clone()).unwrap();
    let meta = s.state.output_store.head(&key).await.unwrap();
    let (second, etag2) = fetch(&s, &url, &token, "image/webp").await;
    assert_eq!((first, etag.clone()), (second, etag2));
    assert_eq!(
        s.state.output_store.head(&key).await.unwrap(),
        meta,
        "not rendered again"
    );
    let r = s
        .get(&url, &token)
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    // A time that rounds to the same millisecond is the same picture.
    fetch(
        &s,
        &format!("{base}/thumbnail.webp?time=1.2501&width=64"),
        &token,
        "image/webp",
    )
    .await;
    assert_eq!(stored().await.len(), after.len());

    // Without parameters, thumbnail.jpg is the poster processing made.
    let (poster, _) = fetch(&s, &format!("{base}/thumbnail.jpg"), &token, "image/jpeg").await;
    let poster_key =
        ObjectKey::new(layout::output_key(&id.parse().unwrap(), layout::THUMBNAIL)).unwrap();
    let (_, body) = s.state.output_store.get_stream(&poster_key).await.unwrap();
    let stored_poster: Vec<u8> = futures::StreamExt::collect::<Vec<_>>(body)
        .await
        .into_iter()
        .flat_map(|c| c.unwrap().to_vec())
        .collect();
    assert_eq!(poster, stored_poster);

    // Animations: GIF frame count and duration (ffprobe), WebP from its chunks.
    let (gif, _) = fetch(
        &s,
        &format!("{base}/animated.gif?start=1&end=3&width=160&fps=10"),
        &token,
        "image/gif",
    )
    .await;
    let path = dir.path().join("a.gif");
    std::fs::write(&path, &gif).unwrap();
    let p = ffprobe(
        path.to_str().unwrap(),
        "stream=codec_name,width,height,nb_read_frames:format=duration",
    )
    .await;
    let st = &p["streams"][0];
    assert_eq!(
        (
            st["codec_name"].as_str(),
            st["width"].as_u64(),
            st["height"].as_u64()
        ),
        (Some("gif"), Some(160), Some(90)),
        "{p}"
    );
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
        .args(["-show_entries", "stream=nb_read_frames", "-of", "csv=p=0"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "20");
    let gif_seconds: f64 = p["format"]["duration"].as_str().unwrap().parse().unwrap();
    assert!((gif_seconds - 2.0).abs() < 0.05, "{gif_seconds}");
    // The preview shows its span: its first frame is second 1's grey.
    // (GIF's palette shifts the grey a little: the nearest second's is the one.)
    let levels: Vec<u8> = (0..6)
        .map(|k| grey(&steps(), Some(k as f64 + 0.5)))
        .collect();
    let got = grey(&path, None);
    let nearest = (0..6).min_by_key(|&k| levels[k].abs_diff(got)).unwrap();
    assert_eq!(nearest, 1, "{got} among {levels:?}");

    let (webp, _) = fetch(
        &s,
        &format!("{base}/animated.webp?end=2"),
        &token,
        "image/webp",
    )
    .await;
    let (canvas, frames, total_ms, loops) = webp_animation(&webp);
    assert_eq!(canvas, (320, 180), "the default width");
    assert!(frames >= 2, "a frame per grey at least: {frames}");
    assert!(total_ms.abs_diff(2000) <= 100, "{total_ms} ms");
    assert_eq!(loops, 0, "loops forever");

    // Out of range: 400 naming the parameter, nothing stored.
    let count = stored().await.len();
    for (url, name) in [
        ("thumbnail.jpg?width=1921", "width"),
        ("thumbnail.jpg?height=0", "height"),
        ("thumbnail.png?time=6.5", "time"),
        ("thumbnail.png?time=-1", "time"),
        ("thumbnail.webp?time=abc", "time"),
        ("thumbnail.webp?width=10&height=10&fit=stretch", "fit"),
        ("animated.gif?width=641", "width"),
        ("animated.gif?fps=0", "fps"),
        ("animated.webp?fps=31", "fps"),
        ("animated.webp?start=0&end=10.5", "end"),
        ("animated.webp?start=2&end=1", "end"),
        ("animated.webp?start=6", "start"),
        ("animated.gif?start=1&end=7", "end"),
    ] {
        let r = s
            .get(&format!("{base}/{url}"), &token)
            .send()
            .await
            .unwrap();
        let msg = expect_error(r, StatusCode::BAD_REQUEST).await;
        assert!(msg.starts_with(&format!("{name}:")), "{url}: {msg}");
    }
    assert_eq!(stored().await.len(), count);

    // Deleting the item deletes its pictures.
    let r = s
        .client
        .delete(s.url(&base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(stored().await, Vec::<String>::new());
}

#[tokio::test]
async fn pictures_follow_playback_access_rules() {
    let s = TestServer::start_with(&[("WORKERS", "1")]).await;
    let token = s.user_token("owner@example.com").await;
    let other = s.user_token("other@example.com").await;
    let id = ready_item(&s, &token).await;
    let still = format!("/v1/media/{id}/thumbnail.webp?time=1&width=64");
    let anim = format!("/v1/media/{id}/animated.gif?width=64&end=1");
    // Private: as the poster, unknown to anyone else.
    for url in [&still, &anim, &format!("/v1/media/{id}/thumbnail.jpg")] {
        let r = s.client.get(s.url(url)).send().await.unwrap();
        expect_error(r, StatusCode::NOT_FOUND).await;
        let r = s.get(url, &other).send().await.unwrap();
        expect_error(r, StatusCode::NOT_FOUND).await;
    }
    let signed: Value = s
        .client
        .post(s.url(&format!("/v1/media/{id}/playback-token")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let play = signed["token"].as_str().unwrap();
    for url in [
        format!("{still}&token={play}"),
        format!("/v1/play/{play}/thumbnail.webp?time=1&width=64"),
        format!("/v1/play/{play}/animated.gif?width=64&end=1"),
        format!("/v1/play/{play}/thumbnail.jpg"),
    ] {
        let r = s.client.get(s.url(&url)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{url}");
    }
    let r = s
        .client
        .get(s.url("/v1/play/not-a-token/thumbnail.png?time=1"))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::UNAUTHORIZED).await;
    // Public: anyone.
    let r = s
        .client
        .patch(s.url(&format!("/v1/media/{id}")))
        .bearer_auth(&token)
        .json(&json!({"visibility": "public"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = s.client.get(s.url(&anim)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[CACHE_CONTROL], "public, max-age=300");
    // oEmbed offers a thumbnail within maxwidth/maxheight (the poster when it fits), and its
    // stated size is its size.
    let page = url_enc(&s.url(&format!("/watch/{id}")));
    let sref = &s;
    let oembed = |q: String| async move {
        let r = sref
            .client
            .get(sref.url(&format!("/oembed?url={q}")))
            .send()
            .await;
        r.unwrap().json::<Value>().await.unwrap()
    };
    let o = oembed(page.clone()).await;
    assert_eq!(
        o["thumbnail_url"],
        s.url(&format!("/v1/media/{id}/thumbnail.jpg"))
    );
    for (q, size) in [("maxwidth=100", (100, 56)), ("maxheight=90", (160, 90))] {
        let o = oembed(format!("{page}&{q}")).await;
        let stated = (
            o["thumbnail_width"].as_u64(),
            o["thumbnail_height"].as_u64(),
        );
        assert_eq!(stated, (Some(size.0), Some(size.1)), "{q}: {o}");
        let thumb = o["thumbnail_url"].as_str().unwrap();
        let p = ffprobe(thumb, "stream=width,height").await;
        let real = (
            p["streams"][0]["width"].as_u64(),
            p["streams"][0]["height"].as_u64(),
        );
        assert_eq!(real, stated, "{thumb}");
    }
    // A token for this item opens nothing of another's.
    let theirs = s
        .upload_ok(&other, "x.mp4", std::fs::read(steps()).unwrap())
        .await;
    let theirs = theirs["id"].as_str().unwrap();
    let r = s
        .client
        .get(s.url(&format!(
            "/v1/media/{theirs}/thumbnail.png?time=1&token={play}"
        )))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::FORBIDDEN).await;
}

fn url_enc(u: &str) -> String {
    url::form_urlencoded::byte_serialize(u.as_bytes()).collect()
}

/// The real renderer, held at a gate, counting the renders it starts.
struct Gated {
    inner: Arc<dyn PictureRenderer>,
    started: Arc<AtomicUsize>,
    gate: Arc<tokio::sync::Semaphore>,
}

impl PictureRenderer for Gated {
    fn render(
        &self,
        source: PictureSource,
        request: PictureRequest,
    ) -> BoxFuture<'static, Result<Vec<u8>, RenderError>> {
        let (started, gate) = (self.started.clone(), self.gate.clone());
        let work = self.inner.render(source, request);
        Box::pin(async move {
            started.fetch_add(1, Ordering::SeqCst);
            let _pass = gate.acquire().await;
            work.await
        })
    }
}

#[tokio::test]
async fn renders_are_bounded_and_identical_requests_render_once() {
    let s = TestServer::start_with(&[("WORKERS", "1")]).await;
    let token = s.user_token("busy@example.com").await;
    let id = ready_item(&s, &token).await;
    let config = common::config_with(s.dir.path(), &[]);
    let started = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    s.state.set_picture_renderer(
        Some(Arc::new(Gated {
            inner: mediaserver::pictures::ffmpeg_renderer(&config, &s.state),
            started: started.clone(),
            gate: gate.clone(),
        })),
        PictureLimits {
            renders: 1,
            queue: 0,
            retry_after_secs: 7,
        },
    );
    let url = |t: &str| s.url(&format!("/v1/media/{id}/thumbnail.jpg?time={t}&width=100"));
    let get = |u: String| s.client.get(u).bearer_auth(&token).send();
    // One render running (held at the gate)…
    let first = tokio::spawn(get(url("1")));
    while started.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // …the same picture asked again waits for it instead of rendering…
    let same = tokio::spawn(get(url("1")));
    while s.state.pictures_in_flight() < 2 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // …and another one finds no room: 503 with Retry-After.
    let r = get(url("2")).await.unwrap();
    assert_eq!(r.headers()[RETRY_AFTER], "7");
    let msg = expect_error(r, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(msg.contains("try again"), "{msg}");
    gate.add_permits(100);
    let (a, b) = (first.await.unwrap().unwrap(), same.await.unwrap().unwrap());
    assert_eq!((a.status(), b.status()), (StatusCode::OK, StatusCode::OK));
    assert_eq!(a.headers()[ETAG], b.headers()[ETAG]);
    assert_eq!(a.bytes().await.unwrap(), b.bytes().await.unwrap());
    assert_eq!(started.load(Ordering::SeqCst), 1, "rendered once");
    assert_eq!(s.state.pictures_in_flight(), 0, "nothing left in flight");
    // With the render done there is room again.
    let r = get(url("2")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(started.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn without_a_renderer_pictures_are_503_and_the_poster_is_served() {
    // `PICTURE_RENDERS=0`: as a server without ffmpeg.
    let s = TestServer::start_with(&[("WORKERS", "1"), ("PICTURE_RENDERS", "0")]).await;
    let token = s.user_token("noffmpeg@example.com").await;
    let id = ready_item(&s, &token).await;
    for url in [
        format!("/v1/media/{id}/thumbnail.png?time=1"),
        format!("/v1/media/{id}/thumbnail.webp"),
        format!("/v1/media/{id}/animated.webp"),
    ] {
        let r = s.get(&url, &token).send().await.unwrap();
        let msg = expect_error(r, StatusCode::SERVICE_UNAVAILABLE).await;
        assert!(msg.contains("not available on this server"), "{msg}");
    }
    let r = s
        .get(&format!("/v1/media/{id}/thumbnail.jpg"), &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[CONTENT_TYPE], "image/jpeg");
    // Bounds are checked before anything is rendered.
    let r = s
        .get(&format!("/v1/media/{id}/thumbnail.png?width=5000"), &token)
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::BAD_REQUEST).await;
}
