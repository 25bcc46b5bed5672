// Sharing: an item's links and signed playback links, and the page such a link opens (no login).

import { api } from './api.js';
import { copyField, el, view } from './dom.js';
import { embedSnippet } from './embed_share.js';
import { fmtDate } from './format.js';
import { makePlayer } from './player.js';

const absolute = (path) => new URL(path, location.href).href;

/** The share panel of an item's page: the item's public links and, for whoever manages it, signed
 *  playback links that expire. `render(item)` draws it for the item as it is now. */
export function makeSharePanel(canManage) {
  const root = el('section', { class: 'panel', 'data-testid': 'share-panel', 'aria-label': 'Share' });
  let lastToken = null;
  function render(item) {
    const kids = [el('h2', { text: 'Share' })];
    if (item.visibility !== 'private') {
      kids.push(...copyField('Page link', absolute('#/media/' + item.id), 'permalink'));
      if (item.playback) {
        kids.push(...copyField('HLS', absolute(item.playback.hls), 'public-hls-url'));
        if (item.status === 'ready') kids.push(...copyField('DASH', absolute(item.playback.dash), 'public-dash-url'));
      }
      kids.push(...embedSnippet(item));
    }
    if (canManage && item.kind !== 'image' && (item.playable || item.status === 'ready')) {
      const ttl = el('select', { id: 'share-ttl', 'data-testid': 'share-ttl' },
        el('option', { value: '3600', text: '1 hour' }), el('option', { value: '86400', text: '1 day' }), el('option', { value: '604800', text: '7 days' }));
      const out = el('div', { class: 'share-out', 'data-testid': 'share-out' });
      const showToken = (t) => {
        out.replaceChildren(
          ...copyField('Player link', absolute('#/share/' + encodeURIComponent(t.token)), 'share-page-url'),
          ...copyField('HLS URL', absolute(t.hls), 'share-hls-url'),
          ...copyField('DASH URL', absolute(t.dash), 'share-dash-url'),
          ...embedSnippet(item, t.token),
          el('p', { class: 'small muted', text: 'Expires ' + fmtDate(t.expires_at) + '. Anyone with these links can watch until then, unless the item is deleted or made private from public or unlisted.' }));
      };
      const make = el('button', { type: 'button', 'data-testid': 'share-create', onclick: async () => {
        make.disabled = true;
        try {
          lastToken = await api(`/v1/media/${item.id}/playback-token`, { method: 'POST', json: { ttl_seconds: Number(ttl.value) } });
          showToken(lastToken);
        } catch (e) { out.replaceChildren(el('p', { class: 'error', role: 'alert', text: e.message })); } finally { make.disabled = false; }
      } }, 'Create playback link');
      kids.push(el('p', { class: 'small muted', text: item.visibility === 'private' ? 'A signed link plays this private item without logging in, until it expires.' : 'Or a signed link that expires:' }),
        el('div', { class: 'row' }, el('label', { for: 'share-ttl', class: 'small', text: 'Valid for' }), ttl, make), out);
      if (lastToken) showToken(lastToken);
    } else if (item.visibility === 'private') {
      kids.push(el('p', { class: 'small muted', text: item.kind === 'image' ? 'Make the image unlisted or public to share it.' : 'Links can be made once the item is playable.' }));
    }
    root.replaceChildren(...kids);
  }
  return { root, render };
}

export async function viewShare(ctx, token) {
  const base = '/v1/play/' + encodeURIComponent(token) + '/';
  const player = makePlayer(ctx, {
    hls: base + 'hls/master.m3u8',
    dash: base + 'dash/manifest.mpd',
    poster: base + 'thumbnail.jpg',
    storyboard: base + 'storyboard.vtt',
    // Unknown without the item; a DASH manifest that is not there yet reports itself.
    dashReady: true,
    kind: 'video',
    duration: 0,
    title: 'shared media',
  });
  view().append(el('div', { class: 'watch single', 'data-testid': 'share-page' },
    el('section', { class: 'primary', 'aria-label': 'Player' }, player.root,
      el('h1', { text: 'Shared media' }),
      el('p', { class: 'small muted', text: 'Played through a signed link; it stops working when the link expires.' }))));
}
