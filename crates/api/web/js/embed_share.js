// The share panel's share page link (`/watch/{id}`, which link previews unfurl) and embed
// snippet: the <iframe> that puts an item's player on another site (`/embed/{id}`; with a
// playback token, a private item's).

import { copyField } from './dom.js';

const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ESC[c]);

/** Labels + copyable fields: the share page and the iframe for `item` (with `token`, the
 *  iframe only; nothing for images, private items without `token`, or items not playable yet). */
export function embedSnippet(item, token) {
  if (item.kind === 'image' || !(item.playable || item.status === 'ready')) return [];
  if (item.visibility === 'private' && !token) return [];
  const src = new URL('/embed/' + encodeURIComponent(item.id), location.href);
  if (token) src.searchParams.set('token', token);
  // The item's size, no wider than 1280 (what oEmbed offers).
  let w = 640, h = 360;
  if (item.kind === 'video' && item.width > 0 && item.height > 0) { w = Math.min(item.width, 1280); h = Math.floor(item.height * w / item.width); }
  const html = `<iframe src="${esc(src.href)}" width="${w}" height="${h}" title="${esc(item.title)}" frameborder="0" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen></iframe>`;
  if (token) return copyField('Embed (signed)', html, 'share-embed-snippet');
  return [...copyField('Share page', new URL('/watch/' + encodeURIComponent(item.id), location.href).href, 'watch-url'), ...copyField('Embed', html, 'embed-snippet')];
}
