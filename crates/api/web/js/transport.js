// The player's transport — play/pause, mute and volume, full screen — so that the native
// controls (and their second timeline, which the storyboard bubble covered) can go: the player's
// own timeline, with storyboard previews, is the only one.

import { el } from './dom.js';

const button = (testid, label, text) => el('button', { type: 'button', class: 'secondary small-button', 'data-testid': testid, 'aria-label': label, title: label }, text);

/** The transport row for `media`; full screen shows `fullscreenTarget()` (the whole player, so
 *  the timeline comes along). */
export function makeTransport(media, fullscreenTarget) {
  const play = button('play-toggle', 'Play', '▶');
  const mute = button('mute-toggle', 'Mute', '🔊');
  const volume = el('input', { type: 'range', class: 'volume', min: '0', max: '1', step: '0.05', value: String(media.volume), 'aria-label': 'Volume', 'data-testid': 'volume' });
  const isVideo = media.tagName === 'VIDEO';
  const full = isVideo && document.fullscreenEnabled ? button('fullscreen-toggle', 'Full screen', '⛶') : null;
  const sync = () => {
    play.textContent = media.paused ? '▶' : '❚❚';
    play.setAttribute('aria-label', media.paused ? 'Play' : 'Pause');
    const silent = media.muted || media.volume === 0;
    mute.textContent = silent ? '🔇' : '🔊';
    mute.setAttribute('aria-label', silent ? 'Unmute' : 'Mute');
    volume.value = String(media.muted ? 0 : media.volume);
  };
  const toggle = () => { if (media.paused) media.play().catch(() => {}); else media.pause(); };
  play.addEventListener('click', toggle);
  mute.addEventListener('click', () => { media.muted = !media.muted; if (!media.muted && media.volume === 0) media.volume = 1; });
  volume.addEventListener('input', () => { media.volume = Number(volume.value); media.muted = media.volume === 0; });
  if (full) full.addEventListener('click', () => (document.fullscreenElement ? document.exitFullscreen() : fullscreenTarget().requestFullscreen()).catch(() => {}));
  // The picture plays and pauses on a click, as it did with the native controls.
  if (isVideo) media.addEventListener('click', toggle);
  for (const ev of ['play', 'pause', 'ended', 'volumechange']) media.addEventListener(ev, sync);
  sync();
  return el('div', { class: 'transport', 'data-testid': 'transport' }, play, mute, volume, full);
}
