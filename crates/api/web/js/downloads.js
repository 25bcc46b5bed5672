// Downloads: an item's MP4s (one per rung the server made) and its M4A, as plain links. A private
// item's links carry the signed playback token its owner got with the item (no header can ride
// on a link).

import { el } from './dom.js';
import { fmtBytes } from './format.js';

/** The downloads panel of an item's page; `render(item)` draws it for the item as it is now
 *  (hidden while there is nothing to download). */
export function makeDownloadsPanel() {
  const root = el('section', { class: 'panel', 'data-testid': 'downloads-panel', 'aria-label': 'Downloads', hidden: true });
  let drawn = null;
  function render(item) {
    const list = item.downloads || [];
    const token = item.visibility === 'private' && item.signed ? item.signed.token : null;
    const key = JSON.stringify([list, token]);
    if (key === drawn) return;
    drawn = key;
    root.hidden = list.length === 0;
    const href = (d) => token ? `/v1/play/${encodeURIComponent(token)}/downloads/${encodeURIComponent(d.name)}` : d.url;
    const label = (d) => d.name === 'audio' ? 'Audio (M4A)' : `${d.name} MP4 (${d.width}×${d.height})`;
    root.replaceChildren(el('h2', { text: 'Download' }),
      el('ul', { class: 'downloads' }, ...list.map((d) => el('li', {},
        el('a', { href: href(d), download: '', 'data-testid': 'download-' + d.name, text: label(d) }),
        el('span', { class: 'small muted', text: ' ' + fmtBytes(d.bytes) })))));
  }
  return { root, render };
}
