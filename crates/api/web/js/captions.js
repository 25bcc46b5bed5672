// The player's captions menu: "Off" and one entry per text track the stream publishes (the
// source's subtitle streams and uploaded caption files), for hls.js (`subtitleTracks`,
// `subtitleTrack`) and dash.js (text tracks, `setTextTrack`). Both render the chosen track on
// the media element's own text tracks. Hidden while the stream has no text track.
//
// Test hook: `window.__captions = {tracks() [{index, lang, label}], current(), select(i)}`
// (i = -1: off).

import { el } from './dom.js';

/** hls.js: text tracks are the master's SUBTITLES renditions. */
function hlsEngine(hls, changed) {
  const Hls = window.Hls;
  hls.subtitleDisplay = true;
  hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, changed);
  hls.on(Hls.Events.SUBTITLE_TRACK_SWITCH, changed);
  return {
    tracks: () => hls.subtitleTracks.map((t, i) => ({ index: i, lang: t.lang || '', label: t.name || t.lang || `Track ${i + 1}` })),
    current: () => hls.subtitleTrack,
    select: (i) => { hls.subtitleTrack = i; },
  };
}

/** dash.js: text tracks are the MPD's text adaptation sets, in its order. */
function dashEngine(p, changed) {
  const E = window.dashjs.MediaPlayer.events;
  // Off until the viewer picks one, as in HLS (DEFAULT=NO).
  p.updateSettings({ streaming: { text: { defaultEnabled: false } } });
  let current = -1;
  p.on(E.TEXT_TRACKS_ADDED, changed);
  p.on(E.STREAM_INITIALIZED, changed);
  const list = () => { try { return p.getTracksFor('text') || []; } catch { return []; } };
  return {
    tracks: () => list().map((t, i) => ({ index: i, lang: t.lang || '', label: (t.labels && t.labels[0] && t.labels[0].text) || t.lang || `Track ${i + 1}` })),
    current: () => current,
    select: (i) => {
      current = i;
      if (i < 0) { p.enableText(false); return; }
      p.enableText(true);
      p.setTextTrack(i);
      changed();
    },
  };
}

/**
 * The captions menu for `media`. Returns {root, attach(engine)}: `engine` is the player's
 * (`{hls}` or `{dash}`, or null while there is none).
 */
export function captionsMenu() {
  const select = el('select', { id: 'captions-track', 'data-testid': 'captions-menu' });
  const root = el('div', { hidden: true }, el('label', { for: 'captions-track', text: 'Captions' }), select);
  let engine = null;
  let shown = '';
  function render() {
    const tracks = engine ? engine.tracks() : [];
    const key = JSON.stringify(tracks);
    if (key !== shown) {
      shown = key;
      select.replaceChildren(el('option', { value: '-1', text: 'Off' }),
        ...tracks.map((t) => el('option', { value: String(t.index), text: t.label + (t.lang && !t.label.includes(t.lang) ? ` (${t.lang})` : '') })));
    }
    root.hidden = tracks.length === 0;
    select.value = String(engine ? engine.current() : -1);
  }
  select.addEventListener('change', () => { if (engine) engine.select(Number(select.value)); });
  return {
    root,
    attach(player) {
      engine = null;
      if (player && player.hls) engine = hlsEngine(player.hls, render);
      else if (player && player.dash) engine = dashEngine(player.dash, render);
      const e = engine;
      window.__captions = e ? { tracks: () => e.tracks(), current: () => e.current(), select: (i) => { e.select(i); render(); } } : null;
      render();
    },
  };
}
