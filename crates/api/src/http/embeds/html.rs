//! The HTML of the embed page and of its error page. Built as text with every value
//! HTML-escaped ([`escape`]); the player's settings travel as JSON in one attribute, which the
//! page's module reads (no inline script: the page's CSP allows none).

use crate::http::web;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// `s` safe inside HTML text and quoted attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What the page's module (`js/embed.js`) gets: the player's sources and the viewer's options.
#[derive(Serialize)]
pub(super) struct PlayerConfig {
    pub(super) id: String,
    pub(super) title: String,
    pub(super) kind: &'static str,
    pub(super) duration: f64,
    pub(super) hls: String,
    pub(super) dash: String,
    /// DASH is published once the item is ready.
    #[serde(rename = "dashReady")]
    pub(super) dash_ready: bool,
    pub(super) poster: Option<String>,
    pub(super) storyboard: Option<String>,
    /// The item's audio track names, in the published order (the player's audio menu).
    #[serde(rename = "audioTracks")]
    pub(super) audio_tracks: Vec<TrackName>,
    pub(super) options: super::EmbedOptions,
}

#[derive(Serialize)]
pub(super) struct TrackName {
    pub(super) name: String,
}

/// What search engines and link previews read: Open Graph, Twitter's player card and oEmbed
/// discovery. Only for items that are not private; URLs absolute.
pub(super) struct Discovery {
    /// This page's canonical URL (`{base}/embed/{id}` or `{base}/watch/{id}`).
    pub(super) page_url: String,
    /// The frameable player (`{base}/embed/{id}`), what Twitter's card and `og:video` embed.
    pub(super) player_url: String,
    pub(super) oembed_url: String,
    pub(super) poster_url: Option<String>,
    pub(super) width: u32,
    pub(super) height: u32,
}

/// The page: the player alone (`watch` false: the embed page), or with the title and a link to
/// the item in the web app under it (the share page).
pub(super) fn player_page(
    config: &PlayerConfig,
    discovery: Option<&Discovery>,
    watch: bool,
) -> String {
    let title = escape(&config.title);
    // Serializing these plain structs cannot fail; should it, the page says so.
    let data = serde_json::to_string(config).unwrap_or_else(|_| "null".into());
    let mut head = String::new();
    match discovery {
        Some(d) => {
            let page = escape(&d.page_url);
            let player = escape(&d.player_url);
            head.push_str(&format!(
                "<link rel=\"alternate\" type=\"application/json+oembed\" href=\"{}\" title=\"{title}\">\n\
                 <link rel=\"canonical\" href=\"{page}\">\n\
                 <meta property=\"og:type\" content=\"video.other\">\n\
                 <meta property=\"og:title\" content=\"{title}\">\n\
                 <meta property=\"og:url\" content=\"{page}\">\n\
                 <meta property=\"og:video:url\" content=\"{player}\">\n\
                 <meta property=\"og:video:type\" content=\"text/html\">\n\
                 <meta property=\"og:video:width\" content=\"{w}\">\n\
                 <meta property=\"og:video:height\" content=\"{h}\">\n\
                 <meta name=\"twitter:card\" content=\"player\">\n\
                 <meta name=\"twitter:title\" content=\"{title}\">\n\
                 <meta name=\"twitter:player\" content=\"{player}\">\n\
                 <meta name=\"twitter:player:width\" content=\"{w}\">\n\
                 <meta name=\"twitter:player:height\" content=\"{h}\">\n",
                escape(&d.oembed_url),
                w = d.width,
                h = d.height,
            ));
            if let Some(poster) = &d.poster_url {
                let poster = escape(poster);
                head.push_str(&format!(
                    "<meta property=\"og:image\" content=\"{poster}\">\n\
                     <meta name=\"twitter:image\" content=\"{poster}\">\n"
                ));
            }
        }
        // A private item, played with a token: nothing for crawlers.
        None => head.push_str("<meta name=\"robots\" content=\"noindex\">\n"),
    }
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n{head}\
         <link rel=\"stylesheet\" href=\"/assets/app.css\">\n\
         <link rel=\"stylesheet\" href=\"/assets/embed.css\">\n\
         <script src=\"/assets/{hls}\" defer></script>\n\
         <script src=\"/assets/{dash}\" defer></script>\n\
         <script type=\"module\" src=\"/assets/js/embed.js\"></script>\n\
         </head>\n<body class=\"embed{class}\">\n\
         <main id=\"embed\" data-testid=\"embed\" data-config=\"{data}\">\
         <noscript><p>This player needs JavaScript.</p></noscript></main>\n{below}\
         </body>\n</html>\n",
        class = if watch { " watch" } else { "" },
        below = if watch {
            format!(
                "<h1 data-testid=\"watch-title\">{title}</h1>\n\
                 <p><a href=\"/#/media/{}\">Open in mediaserver</a></p>\n",
                escape(&config.id)
            )
        } else {
            String::new()
        },
        hls = web::HLS_JS,
        dash = web::DASH_JS,
        data = escape(&data),
    )
}

/// The page shown instead of a player: `status` and a sentence saying why.
pub(super) fn error_page(status: StatusCode, message: &str) -> String {
    let reason = status.canonical_reason().unwrap_or("Error");
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"robots\" content=\"noindex\">\n<title>{reason}</title>\n\
         <link rel=\"stylesheet\" href=\"/assets/embed.css\">\n</head>\n\
         <body class=\"embed-error\">\n<main data-testid=\"embed-error\" data-status=\"{code}\">\
         <p><strong>{reason}</strong></p><p>{msg}</p></main>\n</body>\n</html>\n",
        code = status.as_u16(),
        msg = escape(message),
    )
}

/// An HTML answer with the page headers: `csp` (framing included), no sniffing, `cache`.
pub(super) fn respond(
    status: StatusCode,
    body: String,
    csp: HeaderValue,
    cache: &'static str,
) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CONTENT_SECURITY_POLICY, csp);
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // The URL may carry a playback token: it goes to no other site.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::embeds::EmbedOptions;

    fn config(title: &str) -> PlayerConfig {
        PlayerConfig {
            id: "x".into(),
            title: title.into(),
            kind: "video",
            duration: 1.0,
            hls: "/v1/media/x/hls/master.m3u8".into(),
            dash: "/v1/media/x/dash/manifest.mpd".into(),
            dash_ready: true,
            poster: None,
            storyboard: None,
            audio_tracks: vec![],
            options: EmbedOptions::default(),
        }
    }

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>"a" & 'b'</script>"#),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn a_hostile_title_stays_text() {
        let hostile = r#""><script>alert(1)</script><img src=x onerror=alert(2)>"#;
        let d = Discovery {
            page_url: "http://h/embed/x".into(),
            player_url: "http://h/embed/x".into(),
            oembed_url: "http://h/oembed?url=http%3A%2F%2Fh%2Fembed%2Fx&format=json".into(),
            poster_url: Some("http://h/v1/media/x/thumbnail.jpg".into()),
            width: 640,
            height: 360,
        };
        for watch in [false, true] {
            let page = player_page(&config(hostile), Some(&d), watch);
            assert!(!page.contains("<script>alert"), "{page}");
            assert!(!page.contains("<img src=x"), "{page}");
            assert_eq!(page.matches("<script").count(), 3, "{page}");
            assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        }
    }

    #[test]
    fn every_asset_the_pages_reference_is_embedded() {
        let page =
            player_page(&config("t"), None, true) + &error_page(StatusCode::NOT_FOUND, "gone");
        let mut n = 0;
        for part in page.split("\"/assets/").skip(1) {
            let path = part.split('"').next().unwrap();
            assert!(web::has_asset(path), "/assets/{path} is not embedded");
            n += 1;
        }
        assert_eq!(n, 6);
    }
}
