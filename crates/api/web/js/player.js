// The player: hls.js and dash.js (vendored classic scripts: window.Hls, window.dashjs) behind one
// interface, with an HLS/DASH switch, a quality menu and a timeline with storyboard previews.
//
// An item with several audio languages gets an "Audio" menu (hidden for one track or none); the
// menu is a generic track menu so that a captions menu can reuse it.
//
// Test hook: `window.__player = {engine, levels(), setLevel(i), currentLevel(), auto(), errors,
// audioTracks(), currentAudioTrack(), hls | dash}` (hls/dash: the library's own player object).

import { $, el } from './dom.js';
import { fmtDuration, fmtTime, kbps } from './format.js';
import { trackViews } from './beacons.js';
import { captionsMenu } from './captions.js';
import { codecName, sameCodec } from './codecs.js';
import { makeTransport } from './transport.js';

/** hls.js on `media`. Calls `events.levels()` when the level list is known, `events.change()`
 *  when the playing level changes and `events.tracks()` when the audio tracks (or the current
 *  one) change. Audio tracks: [{index, lang, name}]. */
function createHls(media, url, events) {
  const errors = [];
  if (!window.Hls || !window.Hls.isSupported()) {
    if (media.canPlayType('application/vnd.apple.mpegurl')) {
      // Safari on iOS: native HLS, no level control.
      media.src = url;
      media.addEventListener('error', () => errors.push({ engine: 'hls', type: 'media', details: 'native playback error' }));
      return { engine: 'hls', errors, levels: () => [], setLevel() {}, currentLevel: () => -1, auto: () => true, ...NO_TRACKS, destroy() { media.removeAttribute('src'); media.load(); } };
    }
    throw new Error('This browser cannot play HLS (no Media Source Extensions).');
  }
  const Hls = window.Hls;
  // startPosition 0: a playlist still growing while the item encodes is an EVENT playlist, which
  // hls.js would otherwise join at its live edge.
  const hls = new Hls({ enableWorker: true, backBufferLength: 90, startPosition: 0 });
  let recovered = false;
  hls.on(Hls.Events.ERROR, (_ev, data) => {
    if (!data.fatal) return;
    const e = { engine: 'hls', type: data.type, details: data.details, status: data.response ? data.response.code : undefined };
    errors.push(e);
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR && !recovered) { recovered = true; hls.recoverMediaError(); return; }
    events.error(e);
  });
  hls.on(Hls.Events.MANIFEST_PARSED, () => events.levels());
  hls.on(Hls.Events.LEVEL_SWITCHED, () => events.change());
  hls.on(Hls.Events.AUDIO_TRACKS_UPDATED, () => events.tracks());
  hls.on(Hls.Events.AUDIO_TRACK_SWITCHED, () => events.tracks());
  hls.loadSource(url);
  hls.attachMedia(media);
  return {
    engine: 'hls',
    errors,
    hls,
    levels: () => hls.levels.map((l, i) => ({ index: i, width: l.width, height: l.height, bitrate: l.bitrate, name: l.name, codec: l.videoCodec })),
    setLevel: (i) => { hls.currentLevel = i; },
    currentLevel: () => hls.currentLevel,
    auto: () => hls.autoLevelEnabled,
    audioTracks: () => hls.audioTracks.map((t, i) => ({ index: i, lang: t.lang, name: t.name })),
    // hls.js swaps the audio rendition in place; playback goes on.
    setAudioTrack: (i) => { hls.audioTrack = i; },
    currentAudioTrack: () => hls.audioTrack,
    destroy: () => hls.destroy(),
  };
}

/** dash.js on `media` (same interface as createHls). */
function createDash(media, url, events, type) {
  if (!window.dashjs) throw new Error('dash.js did not load.');
  const dashjs = window.dashjs;
  const errors = [];
  const p = dashjs.MediaPlayer().create();
  const E = dashjs.MediaPlayer.events;
  p.updateSettings({
    debug: { logLevel: dashjs.Debug.LOG_LEVEL_WARNING },
    streaming: { abr: { autoSwitchBitrate: { video: true, audio: true } } },
  });
  const onError = (ev) => {
    const err = ev.error || {};
    const e = { engine: 'dash', type: ev.type, code: err.code, details: err.message || String(err), status: err.data && err.data.request ? err.data.request.status : undefined };
    errors.push(e);
    events.error(e);
  };
  p.on(E.ERROR, onError);
  p.on(E.PLAYBACK_ERROR, onError);
  p.on(E.STREAM_INITIALIZED, () => events.levels());
  p.on(E.QUALITY_CHANGE_RENDERED, (ev) => { if (ev.mediaType === type) events.change(); });
  p.on(E.TRACK_CHANGE_RENDERED, (ev) => { if (ev.mediaType === 'audio') events.tracks(); });
  p.initialize(media, url, false);
  const reps = () => { try { return p.getRepresentationsByType(type) || []; } catch { return []; } };
  let auto = true;
  // One AdaptationSet per audio track, in the MPD's (= the item's) order.
  const audio = () => { try { return p.getTracksFor('audio') || []; } catch { return []; } };
  return {
    engine: 'dash',
    errors,
    dash: p,
    levels: () => reps().map((r, i) => ({ index: i, id: r.id, width: r.width, height: r.height, bitrate: r.bandwidth, codec: r.codecs })),
    setLevel: (i) => {
      auto = i < 0;
      p.updateSettings({ streaming: { abr: { autoSwitchBitrate: { [type]: auto } } } });
      if (!auto) { const r = reps()[i]; if (r) p.setRepresentationForTypeById(type, r.id, true); }
    },
    currentLevel: () => {
      let cur = null;
      try { cur = p.getCurrentRepresentationForType(type); } catch { return -1; }
      return cur ? reps().findIndex((r) => r.id === cur.id) : -1;
    },
    auto: () => auto,
    // The MPD has no labels: the menu names tracks from the item (dash.js' lang is BCP 47, "es").
    audioTracks: () => audio().map((t, i) => ({ index: i, lang: t.lang, name: (t.labels && t.labels[0] && t.labels[0].text) || '' })),
    setAudioTrack: (i) => { const t = audio()[i]; if (t) p.setCurrentTrack(t); },
    currentAudioTrack: () => {
      let cur = null;
      try { cur = p.getCurrentTrackFor('audio'); } catch { return -1; }
      return cur ? audio().findIndex((t) => t === cur || (t.id === cur.id && t.index === cur.index)) : -1;
    },
    destroy: () => p.reset(),
  };
}

const NO_TRACKS = { audioTracks: () => [], setAudioTrack() {}, currentAudioTrack: () => -1 };

/**
 * A labelled `<select>` of tracks (audio now; captions can be another one), hidden while there
 * is nothing to choose. `onPick(index)` runs when the viewer picks one.
 * Returns {root, set(tracks [{index, label}], current)}.
 */
function trackMenu({ id, label, testid, onPick }) {
  const select = el('select', { id, 'data-testid': testid });
  const root = el('div', { hidden: true }, el('label', { for: id, text: label }), select);
  select.addEventListener('change', () => onPick(Number(select.value)));
  let shown = '';
  return {
    root,
    set(tracks, current) {
      // Rebuilt only when the list changes, so that an open menu is not reset by a switch.
      const key = JSON.stringify(tracks);
      if (key !== shown) {
        shown = key;
        select.replaceChildren(...tracks.map((t) => el('option', { value: String(t.index), text: t.label })));
      }
      root.hidden = tracks.length < 2;
      if (current >= 0) select.value = String(current);
    },
  };
}

/** Storyboard cues from a WebVTT file: [{start, end, url, x, y, w, h}]. */
async function loadStoryboard(vttUrl) {
  const res = await fetch(vttUrl);
  if (!res.ok) return [];
  const text = await res.text();
  const ts = (s) => {
    const p = s.trim().split(':').map(Number);
    return p.length === 3 ? p[0] * 3600 + p[1] * 60 + p[2] : p[0] * 60 + p[1];
  };
  const cues = [];
  for (const block of text.replace(/\r/g, '').split(/\n\n+/)) {
    const lines = block.split('\n');
    const i = lines.findIndex((l) => l.includes('-->'));
    if (i < 0 || !lines[i + 1]) continue;
    const [a, b] = lines[i].split('-->');
    const target = lines[i + 1].trim();
    const m = target.match(/^(.*)#xywh=(\d+),(\d+),(\d+),(\d+)$/);
    if (!m) continue;
    cues.push({ start: ts(a), end: ts(b.split(' ').filter(Boolean)[0]), url: new URL(m[1], new URL(vttUrl, location.href)).href, x: +m[2], y: +m[3], w: +m[4], h: +m[5] });
  }
  return cues;
}

/**
 * The player: a media element, an HLS/DASH switch, a quality selector and a timeline with
 * storyboard previews, and an audio-language menu. `src` = {hls, dash, poster, storyboard,
 * dashReady, kind, duration, title, audioTracks, renditions} (audioTracks: the item's
 * `audio_tracks`; renditions: its `renditions`, whose peak figures label the quality menu).
 * Returns {update(src), destroy()}.
 */
export function makePlayer(ctx, src) {
  const isAudio = src.kind === 'audio';
  const media = isAudio
    ? el('audio', { preload: 'metadata', 'data-testid': 'video', 'aria-label': 'Audio player: ' + src.title })
    : el('video', { playsinline: true, preload: 'metadata', 'data-testid': 'video', 'aria-label': 'Video player: ' + src.title });
  if (src.poster && !isAudio) media.poster = src.poster;
  const stage = el('div', { class: 'stage', 'data-testid': 'stage' }, isAudio ? el('div', { class: 'audio-art', 'aria-hidden': 'true', text: '♪' }) : null, media);

  // engine switch
  const radio = (value, label) => {
    const id = 'engine-' + value;
    return [el('input', { type: 'radio', name: 'engine', id, value, 'data-testid': id, checked: value === 'hls' }), el('label', { for: id, text: label })];
  };
  const engineSet = el('fieldset', { class: 'seg-wrap' }, el('legend', { text: 'Stream' }), el('div', { class: 'seg' }, radio('hls', 'HLS'), radio('dash', 'DASH')));
  const dashRadio = $('input[value="dash"]', engineSet);
  const quality = el('select', { id: 'quality', 'data-testid': 'quality-select' }, el('option', { value: '-1', text: 'Auto' }));
  const current = el('span', { class: 'player-status', 'data-testid': 'current-level', 'aria-live': 'polite' });
  const status = el('p', { class: 'player-status', 'data-testid': 'player-error', role: 'status' });
  const audioMenu = trackMenu({
    id: 'audio-track', label: 'Audio', testid: 'audio-menu',
    onPick: (i) => { if (player) player.setAudioTrack(i); },
  });
  const captions = captionsMenu(media);
  const controls = el('div', { class: 'controls' }, engineSet,
    el('div', {}, el('label', { for: 'quality', text: 'Quality' }), quality), audioMenu.root, captions.root, current);

  // timeline with storyboard previews
  const seek = el('input', { type: 'range', min: '0', max: '1', step: '0.1', value: 0, 'data-testid': 'seek', 'aria-label': 'Seek' });
  const tNow = el('span', { text: '0:00' }), tEnd = el('span', { 'data-testid': 'player-total', text: fmtDuration(src.duration) });
  const preview = el('div', { class: 'preview hidden', 'data-testid': 'storyboard-preview', 'aria-hidden': 'true' }, el('span'));
  // No native controls: this timeline is the only one; transport.js has the buttons.
  const scrub = el('div', { class: 'scrub' }, preview, seek, el('div', { class: 'times' }, tNow, makeTransport(media, () => root), tEnd));
  const note = el('p', { class: 'player-status', 'data-testid': 'processing-note', text: 'Still processing: the stream grows as it is encoded; DASH appears when it is done.' });
  const root = el('div', { class: 'player' }, stage, scrub, controls, status, note);

  let cues = [];
  let storyboardUrl = null;
  const duration = () => (Number.isFinite(media.duration) && media.duration > 0 ? media.duration : src.duration || 0);
  function showPreview(t, px) {
    const cue = cues.find((c) => t >= c.start && t < c.end) || (cues.length && t >= cues[cues.length - 1].start ? cues[cues.length - 1] : null);
    if (!cue) { preview.classList.add('hidden'); return; }
    // Tiles larger than 180 px (portrait video) are scaled down, which needs the sprite's size.
    const sprite = spriteSizes.get(cue.url);
    const scale = sprite ? Math.min(1, 180 / Math.max(cue.w, cue.h)) : 1;
    preview.style.width = cue.w * scale + 'px';
    preview.style.height = cue.h * scale + 'px';
    preview.style.backgroundImage = `url("${cue.url}")`;
    preview.style.backgroundPosition = `${-cue.x * scale}px ${-cue.y * scale}px`;
    preview.style.backgroundSize = sprite ? `${sprite.w * scale}px ${sprite.h * scale}px` : '';
    const half = (cue.w * scale) / 2;
    const x = Math.max(half, Math.min(scrub.clientWidth - half, px));
    preview.style.left = x + 'px';
    preview.firstChild.textContent = fmtTime(t);
    preview.classList.remove('hidden');
  }
  const spriteSizes = new Map();
  async function setStoryboard(url) {
    // Signed URLs differ on every poll; the first one is kept.
    if (!url || storyboardUrl) return;
    storyboardUrl = url;
    try {
      cues = await loadStoryboard(url);
      scrub.dataset.storyboard = String(cues.length);
      for (const u of new Set(cues.map((c) => c.url))) {
        const im = new Image();
        im.onload = () => spriteSizes.set(u, { w: im.naturalWidth, h: im.naturalHeight });
        im.src = u;
      }
    } catch { cues = []; }
  }
  const pointerTime = (e) => {
    const r = seek.getBoundingClientRect();
    const f = Math.max(0, Math.min(1, (e.clientX - r.left) / r.width));
    return { t: f * duration(), px: e.clientX - scrub.getBoundingClientRect().left };
  };
  seek.addEventListener('pointermove', (e) => { if (cues.length) { const { t, px } = pointerTime(e); showPreview(t, px); } });
  seek.addEventListener('pointerleave', () => preview.classList.add('hidden'));
  let dragging = false;
  seek.addEventListener('pointerdown', () => { dragging = true; });
  seek.addEventListener('input', () => {
    dragging = true;
    tNow.textContent = fmtTime(+seek.value);
  });
  seek.addEventListener('change', () => {
    media.currentTime = +seek.value;
    dragging = false;
    preview.classList.add('hidden');
  });
  const syncTime = () => {
    const d = duration();
    seek.max = String(d || 1);
    // The item's duration when known (what its badge shows), the stream's otherwise.
    tEnd.textContent = fmtDuration(src.duration > 0 ? src.duration : d);
    if (!dragging) { seek.value = String(media.currentTime); tNow.textContent = fmtTime(media.currentTime); }
  };
  media.addEventListener('timeupdate', syncTime);
  media.addEventListener('durationchange', syncTime);

  // engines
  let player = null;
  const mediaType = isAudio ? 'audio' : 'video';
  // One figure per rung whichever engine plays it: the item's measured peak (video and audio, as
  // HLS's BANDWIDTH says); DASH's manifest states the encoder's nominal video rate instead.
  const levelLabel = (l) => {
    const r = l.height ? (src.renditions || []).find((x) => x.height === l.height && (!l.width || x.width === l.width) && sameCodec(x, l.codec)) : null;
    const figure = r ? `${kbps(r.bandwidth)} peak` : kbps(l.bitrate);
    const codec = codecName(l.codec);
    return l.height ? `${l.height}p${codec ? ' ' + codec : ''} · ${figure}` : figure;
  };
  const events = {
    levels() {
      if (!player) return;
      if (!status.classList.contains('error')) status.textContent = '';
      const ls = player.levels();
      quality.replaceChildren(el('option', { value: '-1', text: 'Auto' }), ...ls.map((l) => el('option', { value: String(l.index), text: levelLabel(l) })));
      quality.value = player.auto() ? '-1' : String(player.currentLevel());
      events.change();
      events.tracks();
    },
    change() {
      if (!player) return;
      const i = player.currentLevel();
      const l = player.levels()[i];
      current.textContent = l ? `Playing ${levelLabel(l)}${player.auto() ? ' (auto)' : ''}` : '';
      current.dataset.level = String(i);
    },
    tracks() {
      if (!player) return;
      const listed = player.audioTracks();
      // The item names its tracks in the published order; the engines list them in that order.
      const known = src.audioTracks || [];
      const named = listed.length === known.length;
      audioMenu.set(listed.map((t) => ({
        index: t.index,
        label: (named && known[t.index].name) || t.name || t.lang || `Track ${t.index + 1}`,
      })), player.currentAudioTrack());
    },
    error(e) {
      if (e.status === 404 && retries < 60) {
        // Not published yet (an item that just became playable, or DASH before `ready`): retry.
        retries++;
        status.className = 'player-status';
        status.textContent = 'Waiting for the stream…';
        clearTimeout(retryTimer);
        const engine = current.dataset.engine;
        retryTimer = setTimeout(() => start(engine, media.currentTime, !media.paused, true), 3000);
        return;
      }
      if (!e.status && current.dataset.engine === 'hls' && src.dashReady && !triedDash) {
        // HLS cannot play here (no MSE for it, a decode error it could not recover): DASH.
        triedDash = true;
        dashRadio.checked = true;
        start('dash', media.currentTime, !media.paused);
        return;
      }
      beacons.error(e.details || e.type);
      status.className = 'player-status error';
      status.textContent = e.status === 401 || e.status === 403
        ? 'This playback link is invalid or has expired.'
        : e.status === 404 ? 'This stream is not available.' : `Playback error (${e.engine}: ${e.details || e.type}).`;
    },
  };

  let retries = 0;
  let retryTimer = null;
  let triedDash = false;
  function start(engine, resumeAt, resume, isRetry) {
    clearTimeout(retryTimer);
    if (!isRetry) retries = 0;
    if (player) { try { player.destroy(); } catch (e) { console.warn(e); } player = null; }
    // hls.js leaves its subtitle <track> elements behind, and dash.js would take a leftover one
    // of the same kind and language as its own and wait for cues that never come.
    media.querySelectorAll('track').forEach((t) => t.remove());
    current.dataset.engine = engine;
    if (!isRetry) status.textContent = '';
    status.className = 'player-status';
    current.textContent = '';
    quality.replaceChildren(el('option', { value: '-1', text: 'Auto' }));
    audioMenu.set([], -1);
    try {
      player = engine === 'dash' ? createDash(media, src.dash, events, mediaType) : createHls(media, src.hls, events);
    } catch (e) {
      events.error({ engine, details: e.message });
      window.__player = { engine, errors: [{ engine, details: e.message }], levels: () => [], setLevel() {}, currentLevel: () => -1, ...NO_TRACKS };
      return;
    }
    const p = player;
    captions.attach(p, src.dash);
    window.__player = {
      engine: p.engine,
      errors: p.errors,
      levels: () => p.levels(),
      setLevel: (i) => { p.setLevel(i); quality.value = String(i); events.change(); },
      currentLevel: () => p.currentLevel(),
      auto: () => p.auto(),
      audioTracks: () => p.audioTracks(),
      currentAudioTrack: () => p.currentAudioTrack(),
      hls: p.hls,
      dash: p.dash,
    };
    if (resumeAt > 0) {
      media.addEventListener('loadedmetadata', () => { media.currentTime = resumeAt; if (resume) media.play().catch(() => {}); }, { once: true });
    }
  }

  engineSet.addEventListener('change', (e) => {
    const at = media.currentTime, wasPlaying = !media.paused;
    start(e.target.value, at, wasPlaying);
  });
  quality.addEventListener('change', () => { if (player) { player.setLevel(Number(quality.value)); events.change(); } });

  function update(next) {
    const becameReady = next.dashReady && !src.dashReady;
    for (const [k, v] of Object.entries(next)) if (v !== undefined && v !== null) src[k] = v;
    // Everything is published now: a player still waiting for (or failed on) a missing file
    // tries again at once.
    if (becameReady && player && player.errors.length) start(current.dataset.engine, media.currentTime, !media.paused);
    dashRadio.disabled = !src.dashReady;
    note.hidden = !!src.dashReady;
    $('label[for="engine-dash"]', engineSet).title = src.dashReady ? '' : 'DASH is published when processing finishes';
    if (src.storyboard) setStoryboard(src.storyboard);
    events.tracks();
    syncTime();
  }
  // Viewer analytics: the rung playing now, named as the item's renditions are ("720p").
  const beacons = trackViews(media, src.hls, () => { const l = player && player.levels()[player.currentLevel()]; return l && l.width && l.height ? Math.min(l.width, l.height) + 'p' : null; });
  ctx.onCleanup(() => beacons.stop());
  update({});
  start('hls', 0, false);
  ctx.onCleanup(() => { clearTimeout(retryTimer); if (player) player.destroy(); player = null; window.__player = null; });
  // `reload()`: the same stream again, e.g. after a caption track was added or deleted.
  return { root, update, reload: () => start(current.dataset.engine, media.currentTime, !media.paused) };
}
