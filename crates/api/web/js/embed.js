// The embed page (`/embed/{id}`): the web UI's player alone, for an <iframe> on another site.
// The server puts the item's sources and the viewer's options (autoplay, muted, loop, start,
// controls) in #embed's `data-config`. The page tells its parent window what happens through
// postMessage: {type: 'mediaserver:embed', event: 'ready' | 'play' | 'pause' | 'ended' |
// 'timeupdate' | 'error', id, currentTime}.

import { makePlayer } from './player.js';

const root = document.getElementById('embed');
const config = JSON.parse(root.dataset.config);
const opts = config.options;

function tell(event) {
  if (window.parent === window) return;
  window.parent.postMessage({ type: 'mediaserver:embed', event, id: config.id, currentTime: media ? media.currentTime : 0 }, '*');
}

const cleanups = [];
const player = makePlayer({ onCleanup: (fn) => cleanups.push(fn) }, {
  hls: config.hls,
  dash: config.dash,
  poster: config.poster,
  storyboard: config.storyboard,
  dashReady: config.dashReady,
  kind: config.kind,
  duration: config.duration,
  title: config.title,
  audioTracks: config.audioTracks,
});
root.replaceChildren(player.root);
document.body.classList.toggle('no-controls', !opts.controls);

const media = player.root.querySelector('video, audio');
media.muted = opts.muted;
media.loop = opts.loop;
media.addEventListener('loadedmetadata', () => {
  if (opts.start > 0) media.currentTime = Math.min(opts.start, media.duration || opts.start);
  tell('ready');
  if (opts.autoplay) {
    // Browsers refuse autoplay with sound without a gesture; muted it is allowed.
    media.play().catch(() => { media.muted = true; media.play().catch(() => {}); });
  }
}, { once: true });
for (const ev of ['play', 'pause', 'ended', 'timeupdate', 'error']) media.addEventListener(ev, () => tell(ev));
window.addEventListener('pagehide', () => cleanups.forEach((fn) => fn()));
