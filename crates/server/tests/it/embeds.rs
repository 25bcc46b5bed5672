//! Embeds (issue 18, point 1): the embed page other sites frame (`/embed/{id}`: its framing
//! headers, its options, who may see it and the error pages instead of an empty player), oEmbed
//! (`/oembed`: the spec's fields, `maxwidth`/`maxheight`, the 4xx/501 cases) and the discovery
//! and preview tags — with a hostile title that must stay text everywhere.

use crate::common;

use common::{expect_error, ffprobe, fixtures, read, TestServer};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

const FAST: &[(&str, &str)] = &[("WORKERS", "1"), ("TRANSCODE_PRESET", "ultrafast")];
const HOSTILE: &str = r#"Cats "&" dogs '><script>alert(1)</script><img src=x onerror=alert(2)>"#;
const HOSTILE_ESCAPED: &str = "Cats &quot;&amp;&quot; dogs &#39;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;";

/// A ready 320x240 video with the hostile title, made `visibility`; returns (owner token, id).
async fn ready_video(s: &TestServer, visibility: &str) -> (String, String) {
    let owner = s.user_token("embedder@example.com").await;
    let id = s
        .upload_ready(&owner, "clip.mp4", read(&fixtures().mp4), 120)
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    patch(
        s,
        &owner,
        &id,
        json!({ "title": HOSTILE, "visibility": visibility }),
    )
    .await;
    (owner, id)
}

async fn patch(s: &TestServer, owner: &str, id: &str, body: Value) {
    let r = s
        .client
        .patch(s.url(&format!("/v1/media/{id}")))
        .bearer_auth(owner)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

async fn mint(s: &TestServer, owner: &str, id: &str) -> String {
    let r = s
        .client
        .post(s.url(&format!("/v1/media/{id}/playback-token")))
        .bearer_auth(owner)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn get(s: &TestServer, path: &str) -> Response {
    s.client.get(s.url(path)).send().await.unwrap()
}

fn header<'a>(r: &'a Response, name: &str) -> &'a str {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or("")
}

fn frame_ancestors(r: &Response) -> String {
    header(r, "content-security-policy")
        .split(';')
        .map(str::trim)
        .find_map(|d| d.strip_prefix("frame-ancestors "))
        .unwrap_or_else(|| panic!("no frame-ancestors in {:?}", r.headers()))
        .to_string()
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The value of the first `attr="…"` after `marker` in `html`, unescaped.
fn attr(html: &str, marker: &str, attr: &str) -> Option<String> {
    let rest = &html[html.find(marker)?..];
    let start = rest.find(&format!("{attr}=\""))? + attr.len() + 2;
    let end = rest[start..].find('"')?;
    Some(unescape(&rest[start..start + end]))
}

/// The player settings the page hands its module.
fn player_config(html: &str) -> Value {
    serde_json::from_str(&attr(html, "<main id=\"embed\"", "data-config").expect("data-config"))
        .unwrap()
}

/// A small HTML error page (never an empty player) with `status`; returns the page.
async fn expect_error_page(r: Response, status: StatusCode) -> String {
    assert_eq!(r.status(), status);
    assert_eq!(header(&r, "content-type"), "text/html; charset=utf-8");
    let page = r.text().await.unwrap();
    assert!(
        page.contains(&format!("data-status=\"{}\"", status.as_u16())),
        "{page}"
    );
    assert!(
        !page.contains("data-config"),
        "an error page with a player: {page}"
    );
    page
}

#[tokio::test]
async fn the_embed_page_alone_may_be_framed_and_plays_public_items() {
    let s = TestServer::start_with(FAST).await;
    let (owner, id) = ready_video(&s, "public").await;

    // The app keeps refusing every frame.
    let app = get(&s, "/").await;
    assert_eq!(header(&app, "x-frame-options"), "DENY");
    assert_eq!(frame_ancestors(&app), "'none'");

    let r = get(&s, &format!("/embed/{id}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "content-type"), "text/html; charset=utf-8");
    // Unset EMBED_ALLOWED_ORIGINS: any site may frame a public item.
    assert_eq!(frame_ancestors(&r), "*");
    assert!(r.headers().get("x-frame-options").is_none());
    let csp = header(&r, "content-security-policy").to_string();
    assert!(csp.contains("script-src 'self';"), "{csp}");
    let page = r.text().await.unwrap();

    // The hostile title is text wherever it appears; the only scripts are the page's own.
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(!page.contains("<img src=x"), "{page}");
    assert_eq!(page.matches("<script").count(), 3, "{page}");
    assert_eq!(
        attr(&page, "property=\"og:title\"", "content").as_deref(),
        Some(HOSTILE)
    );
    assert_eq!(
        attr(&page, "name=\"twitter:title\"", "content").as_deref(),
        Some(HOSTILE)
    );

    // Preview tags: absolute URLs of this server.
    let page_url = s.url(&format!("/embed/{id}"));
    assert_eq!(
        attr(&page, "property=\"og:url\"", "content"),
        Some(page_url.clone())
    );
    assert_eq!(
        attr(&page, "name=\"twitter:player\"", "content"),
        Some(page_url.clone())
    );
    assert_eq!(
        attr(&page, "name=\"twitter:card\"", "content").as_deref(),
        Some("player")
    );
    let poster = attr(&page, "property=\"og:image\"", "content").unwrap();
    assert_eq!(poster, s.url(&format!("/v1/media/{id}/thumbnail.jpg")));
    let img = s.client.get(&poster).send().await.unwrap();
    assert_eq!(
        (img.status(), header(&img, "content-type")),
        (StatusCode::OK, "image/jpeg")
    );

    // oEmbed discovery leads to this item's oEmbed answer.
    let oembed_url = attr(&page, "type=\"application/json+oembed\"", "href").unwrap();
    assert!(
        oembed_url.starts_with(&s.url("/oembed?url=")),
        "{oembed_url}"
    );
    let o: Value = s
        .client
        .get(&oembed_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(o["type"], "video");
    assert!(o["html"].as_str().unwrap().contains(&page_url), "{o}");

    // The player: the item's public sources, defaults for the options.
    let c = player_config(&page);
    assert_eq!(c["id"], id.as_str());
    assert_eq!(c["title"], HOSTILE);
    assert_eq!(c["hls"], format!("/v1/media/{id}/hls/master.m3u8"));
    assert_eq!(c["dash"], format!("/v1/media/{id}/dash/manifest.mpd"));
    assert_eq!(c["dashReady"], true);
    assert_eq!(c["poster"], format!("/v1/media/{id}/thumbnail.jpg"));
    assert_eq!(
        c["options"],
        json!({"autoplay": false, "muted": false, "loop": false, "controls": true, "start": 0.0})
    );
    for (path, want) in [
        ("hls", "application/vnd.apple.mpegurl"),
        ("dash", "application/dash+xml"),
    ] {
        let r = get(&s, c[path].as_str().unwrap()).await;
        assert_eq!(
            (r.status(), header(&r, "content-type")),
            (StatusCode::OK, want),
            "{path}"
        );
    }

    // Options are read…
    let r = get(
        &s,
        &format!("/embed/{id}?autoplay=1&muted=true&loop=1&controls=0&start=0.5&utm_source=blog"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        player_config(&r.text().await.unwrap())["options"],
        json!({"autoplay": true, "muted": true, "loop": true, "controls": false, "start": 0.5})
    );
    // …and a bad one is a 400 page naming it (still frameable, so the embedding site shows why).
    for (q, name) in [
        ("autoplay=please", "autoplay"),
        ("muted=2", "muted"),
        ("loop=yes", "loop"),
        ("loop", "loop"),
        ("autoplay=", "autoplay"),
        ("controls=off", "controls"),
        ("start=-1", "start"),
        ("start=soon", "start"),
    ] {
        let r = get(&s, &format!("/embed/{id}?{q}")).await;
        assert_eq!(frame_ancestors(&r), "*");
        let page = expect_error_page(r, StatusCode::BAD_REQUEST).await;
        assert!(page.contains(&format!("{name}: must")), "{q}: {page}");
    }

    // The share page: the same player with the title under it, the same preview tags (the
    // player they embed is the embed page), and no site may frame it.
    let r = get(&s, &format!("/watch/{id}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "x-frame-options"), "DENY");
    assert_eq!(frame_ancestors(&r), "'none'");
    let page = r.text().await.unwrap();
    assert!(
        !page.contains("<script>alert") && !page.contains("<img src=x"),
        "{page}"
    );
    assert_eq!(
        attr(&page, "rel=\"canonical\"", "href"),
        Some(s.url(&format!("/watch/{id}")))
    );
    assert_eq!(
        attr(&page, "property=\"og:url\"", "content"),
        Some(s.url(&format!("/watch/{id}")))
    );
    assert_eq!(
        attr(&page, "name=\"twitter:player\"", "content"),
        Some(page_url.clone())
    );
    assert_eq!(
        attr(&page, "property=\"og:video:url\"", "content"),
        Some(page_url.clone())
    );
    assert!(
        page.contains(&format!(
            "<h1 data-testid=\"watch-title\">{}</h1>",
            HOSTILE_ESCAPED
        )),
        "{page}"
    );
    assert_eq!(
        player_config(&page)["hls"],
        format!("/v1/media/{id}/hls/master.m3u8")
    );
    let oembed_url = attr(&page, "type=\"application/json+oembed\"", "href").unwrap();
    let r = s.client.get(&oembed_url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    expect_error_page(
        get(&s, &format!("/watch/{id}?start=x")).await,
        StatusCode::BAD_REQUEST,
    )
    .await;

    // Unlisted items embed too.
    patch(&s, &owner, &id, json!({ "visibility": "unlisted" })).await;
    let r = get(&s, &format!("/embed/{id}")).await;
    assert_eq!(
        (r.status(), frame_ancestors(&r)),
        (StatusCode::OK, "*".to_string())
    );

    // Unknown and malformed ids: a 404 page.
    for bad in [
        "00000000-0000-4000-8000-000000000000",
        "nope",
        "%3Cscript%3E",
    ] {
        let page = expect_error_page(
            get(&s, &format!("/embed/{bad}")).await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert!(!page.contains("<script>"), "{page}");
    }
    s.stop().await;
}

#[tokio::test]
async fn a_private_item_embeds_only_with_its_playback_token() {
    let s = TestServer::start_with(FAST).await;
    let (owner, id) = ready_video(&s, "private").await;

    // Without a token, or the owner's login (an iframe sends none): the page of an unknown item.
    let page = expect_error_page(
        get(&s, &format!("/embed/{id}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(page.contains("media item not found"), "{page}");
    let r = s.get(&format!("/embed/{id}"), &owner).send().await.unwrap();
    expect_error_page(r, StatusCode::NOT_FOUND).await;

    let token = mint(&s, &owner, &id).await;
    let r = get(&s, &format!("/embed/{id}?token={token}&autoplay=1")).await;
    assert_eq!(r.status(), StatusCode::OK);
    // Unset EMBED_ALLOWED_ORIGINS: a private item's player is framed by this server only, never
    // cached, and offers nothing to crawlers.
    assert_eq!(frame_ancestors(&r), "'self'");
    assert_eq!(header(&r, "cache-control"), "private, no-store");
    assert_eq!(header(&r, "referrer-policy"), "same-origin");
    let page = r.text().await.unwrap();
    assert!(
        page.contains("<meta name=\"robots\" content=\"noindex\">"),
        "{page}"
    );
    for absent in ["og:", "twitter:", "json+oembed"] {
        assert!(!page.contains(absent), "{absent} in {page}");
    }
    let c = player_config(&page);
    let base = format!("/v1/play/{token}");
    assert_eq!(c["hls"], format!("{base}/hls/master.m3u8"));
    assert_eq!(c["options"]["autoplay"], true);
    let r = get(&s, c["hls"].as_str().unwrap()).await;
    assert_eq!(r.status(), StatusCode::OK);
    // The share page plays it with the token too, framed by no one.
    let r = get(&s, &format!("/watch/{id}?token={token}")).await;
    assert_eq!(
        (r.status(), frame_ancestors(&r)),
        (StatusCode::OK, "'none'".to_string())
    );
    let page = r.text().await.unwrap();
    assert!(page.contains("noindex") && !page.contains("og:"), "{page}");
    expect_error_page(
        get(&s, &format!("/watch/{id}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // A forged or expired token: 401; another item's token: 403.
    let page = expect_error_page(
        get(&s, &format!("/embed/{id}?token=x{token}")).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(!page.contains(&token), "the token is echoed: {page}");
    let other = s
        .upload_ok(&owner, "other.mp4", read(&fixtures().mp4))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    expect_error_page(
        get(&s, &format!("/embed/{other}?token={token}")).await,
        StatusCode::FORBIDDEN,
    )
    .await;

    // Public again, then private: the token minted before is revoked, here as everywhere.
    patch(&s, &owner, &id, json!({ "visibility": "public" })).await;
    patch(&s, &owner, &id, json!({ "visibility": "private" })).await;
    expect_error_page(
        get(&s, &format!("/embed/{id}?token={token}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    s.stop().await;
}

#[tokio::test]
async fn embed_allowed_origins_names_who_may_frame_every_item() {
    let s = TestServer::start_with(&[
        ("WORKERS", "1"),
        ("TRANSCODE_PRESET", "ultrafast"),
        (
            "EMBED_ALLOWED_ORIGINS",
            "https://Blog.example.com, https://*.example.org",
        ),
    ])
    .await;
    let (owner, id) = ready_video(&s, "public").await;
    let want = "https://blog.example.com https://*.example.org";
    let r = get(&s, &format!("/embed/{id}")).await;
    assert_eq!(
        (r.status(), frame_ancestors(&r)),
        (StatusCode::OK, want.to_string())
    );
    patch(&s, &owner, &id, json!({ "visibility": "private" })).await;
    let token = mint(&s, &owner, &id).await;
    let r = get(&s, &format!("/embed/{id}?token={token}")).await;
    assert_eq!(
        (r.status(), frame_ancestors(&r)),
        (StatusCode::OK, want.to_string())
    );
    let r = get(&s, "/embed/nope").await;
    assert_eq!(frame_ancestors(&r), want);
    // The rest of the app still refuses frames.
    let app = get(&s, "/").await;
    assert_eq!(header(&app, "x-frame-options"), "DENY");
    s.stop().await;
}

#[tokio::test]
async fn oembed_answers_per_the_spec() {
    let s = TestServer::start_with(FAST).await;
    let (owner, id) = ready_video(&s, "public").await;
    let page_url = s.url(&format!("/embed/{id}"));
    let oembed = |q: String| {
        let s = &s;
        async move {
            s.client
                .get(s.url(&format!("/oembed?{q}")))
                .send()
                .await
                .unwrap()
        }
    };
    let enc = |u: &str| url::form_urlencoded::byte_serialize(u.as_bytes()).collect::<String>();

    let r = oembed(format!("url={}&format=json", enc(&page_url))).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(header(&r, "content-type").starts_with("application/json"));
    let o: Value = r.json().await.unwrap();
    // The spec's required fields for every type, and those of `video`.
    assert_eq!(o["version"], "1.0");
    assert_eq!(o["type"], "video");
    assert_eq!(o["title"], HOSTILE);
    assert_eq!(o["provider_name"], "mediaserver");
    assert_eq!(o["provider_url"], s.url("/"));
    assert!(o["cache_age"].as_u64().is_some(), "{o}");
    assert_eq!(
        (o["width"].as_u64(), o["height"].as_u64()),
        (Some(320), Some(240))
    );
    let html = o["html"].as_str().unwrap();
    assert!(
        html.starts_with(&format!(
            "<iframe src=\"{page_url}\" width=\"320\" height=\"240\" "
        )),
        "{html}"
    );
    assert!(html.ends_with("></iframe>"), "{html}");
    assert!(
        !html.contains("<script") && !html.contains("<img"),
        "{html}"
    );
    assert_eq!(attr(html, "<iframe", "title").as_deref(), Some(HOSTILE));
    // The thumbnail's size is the poster's real size.
    let thumb = o["thumbnail_url"].as_str().unwrap();
    assert_eq!(thumb, s.url(&format!("/v1/media/{id}/thumbnail.jpg")));
    let probed = ffprobe(thumb, "stream=width,height").await;
    assert_eq!(
        (o["thumbnail_width"].clone(), o["thumbnail_height"].clone()),
        (
            probed["streams"][0]["width"].clone(),
            probed["streams"][0]["height"].clone()
        )
    );

    // maxwidth/maxheight: the size fits, the aspect is kept, and a poster larger than them is
    // replaced by the same frame made at the player's size (pictures on demand).
    for (q, w, h, poster) in [
        ("&maxwidth=160", 160, 120, false),
        ("&maxheight=60", 80, 60, false),
        ("&maxwidth=1000&maxheight=120", 160, 120, false),
        ("&maxwidth=4000&maxheight=4000", 320, 240, true),
        ("&maxwidth=320&maxheight=240", 320, 240, true),
    ] {
        let o: Value = oembed(format!("url={}{q}", enc(&page_url)))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            (o["width"].as_u64(), o["height"].as_u64()),
            (Some(w), Some(h)),
            "{q}"
        );
        let html = o["html"].as_str().unwrap();
        assert!(
            html.contains(&format!(" width=\"{w}\" height=\"{h}\" ")),
            "{q}: {html}"
        );
        let sized = format!("/v1/media/{id}/thumbnail.jpg?width={w}&height={h}&fit=fill");
        let want = if poster {
            thumb.to_string()
        } else {
            s.url(&sized)
        };
        assert_eq!(o["thumbnail_url"].as_str(), Some(want.as_str()), "{q}");
        assert_eq!(
            (
                o["thumbnail_width"].as_u64(),
                o["thumbnail_height"].as_u64()
            ),
            (Some(w), Some(h)),
            "{q}"
        );
    }

    // The share page, the web app's page and the API URL of the item name it too.
    for u in [
        s.url(&format!("/watch/{id}")),
        s.url(&format!("/#/media/{id}")),
        s.url(&format!("/v1/media/{id}")),
    ] {
        let r = oembed(format!("url={}", enc(&u))).await;
        assert_eq!(r.status(), StatusCode::OK, "{u}");
    }

    // Errors, as the spec says: 501 for a format not served, 404 for nothing to embed, and 400
    // for a request that is wrong (no url, another server's, bad sizes).
    for f in ["xml", "yaml"] {
        let r = oembed(format!("url={}&format={f}", enc(&page_url))).await;
        expect_error(r, StatusCode::NOT_IMPLEMENTED).await;
    }
    for q in [
        String::new(),
        format!("url={}", enc(&format!("http://example.com/embed/{id}"))),
        format!("url={}", enc(&page_url.replace("http://", "https://"))),
        "url=not%20a%20url".to_string(),
        format!("url={}&maxwidth=0", enc(&page_url)),
        format!("url={}&maxheight=-5", enc(&page_url)),
        format!("url={}&maxwidth=wide", enc(&page_url)),
        format!("url={}&maxwidth=", enc(&page_url)),
    ] {
        let m = expect_error(oembed(q.clone()).await, StatusCode::BAD_REQUEST).await;
        assert!(!m.is_empty(), "{q}");
    }
    for u in [
        s.url("/embed/00000000-0000-4000-8000-000000000000"),
        s.url("/embed/nope"),
        s.url("/#/library"),
        s.url("/"),
    ] {
        expect_error(
            oembed(format!("url={}", enc(&u))).await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
    // A private item is unknown to oEmbed (its players need a token).
    patch(&s, &owner, &id, json!({ "visibility": "private" })).await;
    let r = oembed(format!("url={}", enc(&page_url))).await;
    expect_error(r, StatusCode::NOT_FOUND).await;
    s.stop().await;
}
