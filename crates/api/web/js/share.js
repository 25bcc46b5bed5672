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
    if (canManage && (item.playable || item.status === 'ready')) {
      const ttl = el('select', { id: 'share-ttl', 'data-testid': 'share-ttl' },
        el('option', { value: '3600', text: '1 hour' }), el('option', { value: '86400', text: '1 day' }), el('option', { value: '604800', text: '7 days' }));
      const out = el('div', { class: 'share-out', 'data-testid': 'share-out' });
      const showToken = (t) => {
        const page = absolute('#/share/' + encodeURIComponent(t.token));
        out.replaceChildren(
          ...(item.kind === 'image'
            ? copyField('Image link', page, 'share-page-url')
            : [...copyField('Player link', page, 'share-page-url'),
              ...copyField('HLS URL', absolute(t.hls), 'share-hls-url'),
              ...copyField('DASH URL', absolute(t.dash), 'share-dash-url'),
              ...embedSnippet(item, t.token)]),
          el('p', { class: 'small muted', text: 'Expires ' + fmtDate(t.expires_at) + `. Anyone with ${item.kind === 'image' ? 'this link can see it' : 'these links can watch'} until then, unless the item is deleted or made private from public or unlisted.` }));
      };
      const make = el('button', { type: 'button', 'data-testid': 'share-create', onclick: async () => {
        make.disabled = true;
        try {
          lastToken = await api(`/v1/media/${item.id}/playback-token`, { method: 'POST', json: { ttl_seconds: Number(ttl.value) } });
          showToken(lastToken);
        } catch (e) { out.replaceChildren(el('p', { class: 'error', role: 'alert', text: e.message })); } finally { make.disabled = false; }
      } }, 'Create playback link');
      kids.push(el('p', { class: 'small muted', text: item.visibility === 'private' ? `A signed link ${item.kind === 'image' ? 'shows' : 'plays'} this private item without logging in, until it expires.` : 'Or a signed link that expires:' }),
        el('div', { class: 'row' }, el('label', { for: 'share-ttl', class: 'small', text: 'Valid for' }), ttl, make), out);
      if (lastToken) showToken(lastToken);
    } else if (item.visibility === 'private') {
      kids.push(el('p', { class: 'small muted', text: item.kind === 'image' ? 'Links can be made once the image is processed.' : 'Links can be made once the item is playable.' }));
    }
    root.replaceChildren(...kids);
  }
  return { root, render };
}

/** The page a signed link opens (no login): the item's title, its player or image, or — for a
 *  link that is malformed, tampered with, expired or revoked — a message saying so. */
export async function viewShare(ctx, token) {
  let item;
  try {
    item = await api('/v1/play/' + encodeURIComponent(token), { auth: false });
  } catch (e) {
    if (!ctx.alive()) return;
    const text = e.status === 401
      ? (/expired/.test(e.message) ? 'This link has expired. Ask whoever shared it for a new one.' : 'This link is not valid: it may have been copied incompletely or altered.')
      : e.status === 404 ? 'What this link shared is no longer available: it was deleted or made private.'
        : 'This link cannot be opened right now: ' + e.message;
    document.title = 'Link not available · mediaserver';
    view().append(el('div', { class: 'panel', 'data-testid': 'share-invalid' }, el('h1', { text: 'Link not available' }), el('p', { role: 'alert', text })));
    return;
  }
  if (!ctx.alive()) return;
  document.title = item.title + ' · mediaserver';
  let stage;
  if (item.kind === 'image') {
    const variants = item.variants || [];
    const large = variants.find((v) => v.name === 'large' && v.url.endsWith('.webp')) || variants.find((v) => v.name === 'large');
    const src = large ? large.url : item.thumbnail_url;
    stage = src ? el('div', { class: 'stage' }, el('img', { class: 'full', alt: item.title, src, 'data-testid': 'image' }))
      : el('p', { class: 'muted', text: 'The image is still being processed.' });
  } else if (item.playable || item.status === 'ready') {
    stage = makePlayer(ctx, {
      hls: item.hls,
      dash: item.dash,
      poster: item.thumbnail_url,
      storyboard: item.storyboard_url,
      dashReady: item.status === 'ready',
      kind: item.kind,
      duration: item.duration_seconds || 0,
      title: item.title,
      renditions: item.renditions,
    }).root;
  } else {
    stage = el('p', { class: 'muted', text: 'Not playable yet: it is still being processed.' });
  }
  view().append(el('div', { class: 'watch single', 'data-testid': 'share-page' },
    el('section', { class: 'primary', 'aria-label': item.kind === 'image' ? 'Image' : 'Player' }, stage,
      el('h1', { 'data-testid': 'share-title', text: item.title }),
      el('p', { class: 'small muted', text: 'Shared through a signed link; it stops working on ' + fmtDate(item.expires_at) + '.' }))));
}
