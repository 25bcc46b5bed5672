// The player's captions menu: "Off" and one entry per text track the stream publishes (the
// source's subtitle streams and uploaded caption files), for hls.js (`subtitleTracks`,
// `subtitleTrack`) and DASH (the MPD's text sets, as a native `<track>`). Both render the chosen
// track on the media element's own text tracks. Hidden while the stream has no text track.
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

/**
 * DASH: the MPD's text adaptation sets (whole WebVTT files, `BaseURL` beside the manifest),
 * shown as a native `<track>` on the media element. dash.js's own text engine is left off: a
 * choice made while it was still buffering its text set at times left the shown track without
 * cues, and a native track of a whole file cannot miss any.
 */
function dashEngine(p, media, mpdUrl, changed) {
  // Off until the viewer picks one, as in HLS (DEFAULT=NO).
  p.updateSettings({ streaming: { text: { defaultEnabled: false } } });
  let tracks = [];
  let current = -1;
  let node = null;
  fetch(mpdUrl, { credentials: 'same-origin' })
    .then((r) => (r.ok ? r.text() : ''))
    .then((xml) => {
      const doc = new DOMParser().parseFromString(xml, 'application/xml');
      const first = (a, tag) => a.getElementsByTagName(tag)[0];
      tracks = [...doc.getElementsByTagName('AdaptationSet')]
        .filter((a) => a.getAttribute('contentType') === 'text' && a.getAttribute('mimeType') === 'text/vtt' && first(a, 'BaseURL'))
        .map((a, i) => {
          const lang = a.getAttribute('lang') || '';
          const label = first(a, 'Label');
          const role = first(a, 'Role');
          return {
            index: i,
            lang,
            label: (label && label.textContent.trim()) || lang || `Track ${i + 1}`,
            kind: role && role.getAttribute('value') === 'caption' ? 'captions' : 'subtitles',
            url: new URL(first(a, 'BaseURL').textContent.trim(), new URL(mpdUrl, location.href)).href,
          };
        });
      changed();
    })
    .catch(() => {});
  return {
    tracks: () => tracks.map(({ index, lang, label }) => ({ index, lang, label })),
    current: () => current,
    select: (i) => {
      current = tracks[i] ? i : -1;
      if (node) { node.remove(); node = null; }
      const t = tracks[current];
      if (t) {
        node = document.createElement('track');
        Object.assign(node, { kind: t.kind, label: t.label, srclang: t.lang, src: t.url });
        media.appendChild(node);
        node.track.mode = 'showing';
      }
      changed();
    },
    detach: () => { if (node) node.remove(); node = null; },
  };
}

/**
 * The captions menu for `media`. Returns {root, attach(engine)}: `engine` is the player's
 * (`{hls}` or `{dash}`, or null while there is none).
 */
export function captionsMenu(media) {
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
    attach(player, mpdUrl) {
      if (engine && engine.detach) engine.detach();
      engine = null;
      if (player && player.hls) engine = hlsEngine(player.hls, render);
      else if (player && player.dash) engine = dashEngine(player.dash, media, mpdUrl, render);
      const e = engine;
      window.__captions = e ? { tracks: () => e.tracks(), current: () => e.current(), select: (i) => { e.select(i); render(); } } : null;
      render();
    },
  };
}
