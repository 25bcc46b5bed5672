// Viewer analytics beacons (docs/analytics.md): what the player reports about one playback.
//
// One random session per player. `view_start` at the first frame with the time from the play
// request to it; a `heartbeat` every 10 s with the seconds actually played since the previous
// beacon (only while playing: not paused, stalled or seeking); `rebuffer` with how long a stall
// lasted; `rendition` when the playing rung changes; `error`; `end` when playback ends or the
// page goes away (navigator.sendBeacon, which outlives the page). Beacons are fire-and-forget:
// nothing here may disturb playback.
//
// Test hook: `window.__beacons = {session, sent: [{event, …}]}`.

const HEARTBEAT_MS = 10000;
// What one beacon may report (the server refuses more).
const MAX_WATCH_SECONDS = 60;

/** Where beacons go for a player of `hlsUrl`: next to its `hls/` folder, so a token in the path
 *  (`/v1/play/{token}/…`) or the query (`?token=`) comes along. */
export function beaconUrl(hlsUrl) {
  const u = new URL(hlsUrl, location.href);
  u.pathname = u.pathname.replace(/\/hls\/[^/]*$/, '/views');
  return u.pathname.endsWith('/views') ? u.href : null;
}

function randomSession() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/**
 * Reports playback of `media` (a <video>/<audio>) to the beacon URL of `hlsUrl`.
 * `rendition()` names the rung playing now (e.g. "720p") or returns null.
 * Returns {error(message), stop()}: stop() sends `end` (once) and stops listening.
 */
export function trackViews(media, hlsUrl, rendition) {
  const url = beaconUrl(hlsUrl);
  const session = randomSession();
  const sent = [];
  window.__beacons = { session, sent };
  if (!url) return { error() {}, stop() {} };

  let started = false, ended = false, stopped = false;
  let playRequestedAt = null;
  let playingSince = null; // performance.now() while frames advance
  let watchedMs = 0; // played since the previous beacon, not yet reported
  let stallSince = null;
  let lastRendition = null;

  const now = () => performance.now();
  const position = () => (Number.isFinite(media.currentTime) ? Math.max(0, media.currentTime) : undefined);
  function send(event, fields = {}, leaving = false) {
    const body = { session, event, position_seconds: position(), ...fields };
    const r = rendition();
    if (r && body.rendition === undefined && event !== 'error') body.rendition = r;
    sent.push(body);
    const json = JSON.stringify(body);
    // text/plain: a "simple" request, which needs no preflight from another origin either.
    if (leaving && navigator.sendBeacon && navigator.sendBeacon(url, new Blob([json], { type: 'text/plain' }))) return;
    fetch(url, { method: 'POST', body: json, headers: { 'Content-Type': 'text/plain' }, keepalive: true, credentials: 'omit' }).catch(() => {});
  }
  function pausePlaying() {
    if (playingSince !== null) { watchedMs += now() - playingSince; playingSince = null; }
  }
  /** The watched seconds not yet reported, at most what one beacon may carry. */
  function takeWatched() {
    if (playingSince !== null) { const t = now(); watchedMs += t - playingSince; playingSince = t; }
    const s = Math.min(MAX_WATCH_SECONDS, watchedMs / 1000);
    watchedMs -= s * 1000;
    return Math.round(s * 1000) / 1000;
  }
  function heartbeat() {
    if (!started || ended) return;
    const s = takeWatched();
    if (s > 0) send('heartbeat', { watch_seconds: s });
  }
  const timer = setInterval(heartbeat, HEARTBEAT_MS);

  const on = (type, fn) => media.addEventListener(type, fn);
  on('play', () => { if (playRequestedAt === null) playRequestedAt = now(); });
  on('playing', () => {
    const t = now();
    if (!started) {
      started = true;
      const startup = playRequestedAt === null ? undefined : Math.round(Math.min(600000, t - playRequestedAt));
      lastRendition = rendition();
      send('view_start', { startup_ms: startup });
    } else if (stallSince !== null) {
      send('rebuffer', { duration_ms: Math.round(Math.min(600000, t - stallSince)) });
    }
    stallSince = null;
    ended = false;
    playingSince = t;
  });
  on('waiting', () => {
    pausePlaying();
    // A stall while seeking is the seek's, not a rebuffer.
    if (started && !media.seeking && stallSince === null) stallSince = now();
  });
  on('seeking', () => { pausePlaying(); stallSince = null; });
  on('pause', pausePlaying);
  on('ended', () => {
    pausePlaying();
    if (started && !ended) { ended = true; send('end', { watch_seconds: takeWatched() }); }
  });
  on('error', () => { if (media.error) send('error', { message: `media error ${media.error.code}` }); });
  on('timeupdate', () => {
    const r = rendition();
    if (started && r && r !== lastRendition) { lastRendition = r; send('rendition', { rendition: r }); }
  });
  const leave = () => stop();
  window.addEventListener('pagehide', leave);

  function stop() {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    window.removeEventListener('pagehide', leave);
    pausePlaying();
    if (started && !ended) {
      ended = true;
      // Whatever is left, in beacons of at most a minute each.
      do { send('end', { watch_seconds: takeWatched() }, true); } while (watchedMs >= 1);
    }
  }
  return {
    error(message) { if (!stopped) send('error', { message: String(message || 'playback error').replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').slice(0, 500) }); },
    stop,
  };
}
