// The library (your media, with the uploads) and the public listing: grids of cards that update in
// place while items process.

import { api, loadMe, store } from './api.js';
import { el, view } from './dom.js';
import { fmtBytes, fmtDuration } from './format.js';
import { isActive, setImage, statusText } from './items.js';
import { makeLibraryQuery } from './library-query.js';
import { attachPreview } from './previews.js';
import { renderNav } from './router.js';
import { makeDropzone, showUnfinished, uploader, uploadList } from './upload.js';

const kindIcon = (kind) => ({ video: '▶', audio: '♪', image: '▣' })[kind] || '•';

/** A library card that updates in place (so thumbnails are not reloaded on every poll). */
function makeCard(item, ctx) {
  const img = el('img', { alt: '', loading: 'lazy', decoding: 'async' });
  const icon = el('span', { 'aria-hidden': 'true', text: kindIcon(item.kind) });
  const dur = el('span', { class: 'dur' });
  const title = el('div', { class: 'title', 'data-testid': 'media-title' });
  const status = el('span', { class: 'badge', 'data-testid': 'media-status' });
  const vis = el('span', { class: 'badge vis', 'data-testid': 'media-visibility' });
  const kind = el('span', { text: item.kind });
  const progress = el('progress', { max: '100', 'data-testid': 'media-progress', 'aria-label': 'Processing progress' });
  const note = el('div', { class: 'meta error' });
  const thumb = el('div', { class: 'thumb' }, icon, dur);
  const card = el('a', { class: 'card', href: '#/media/' + item.id, 'data-testid': 'media-card', 'data-id': item.id },
    thumb, el('div', { class: 'body' }, title, el('div', { class: 'meta' }, status, vis, kind), progress, note));
  let hasThumb = false;
  card.update = (it) => {
    card.item = it;
    card.dataset.status = it.status;
    card.dataset.playable = String(!!it.playable);
    title.textContent = it.title || it.filename;
    card.title = it.title || it.filename;
    status.className = 'badge ' + it.status;
    status.textContent = statusText(it);
    vis.textContent = it.visibility;
    dur.textContent = it.duration_seconds ? fmtDuration(it.duration_seconds) : '';
    dur.hidden = !it.duration_seconds;
    progress.hidden = !isActive(it.status);
    progress.value = it.progress || 0;
    note.textContent = it.status === 'failed' ? (it.error || 'processing failed') : (it.playable && it.status !== 'ready' ? 'playable now' : '');
    note.className = it.status === 'failed' ? 'meta error' : 'meta';
    // Images: the small variant rather than the large JPEG the thumbnail is.
    const small = it.kind === 'image' ? (it.variants || []).find((v) => v.name === 'thumb' && v.url.endsWith('.webp')) || (it.variants || []).find((v) => v.name === 'thumb') : null;
    const thumbUrl = small ? small.url : it.thumbnail_url;
    if (!hasThumb && thumbUrl) {
      hasThumb = true;
      img.addEventListener('load', () => { icon.remove(); }, { once: true });
      thumb.prepend(img);
      setImage(img, it, thumbUrl, ctx);
    }
  };
  card.update(item);
  attachPreview(card, thumb, ctx);
  return card;
}

/** A grid of cards keyed by id. */
function makeGrid(ctx, testid, emptyText) {
  const grid = el('div', { class: 'grid', 'data-testid': testid });
  const empty = el('p', { class: 'empty', text: emptyText });
  const cards = new Map();
  return {
    root: el('div', {}, grid, empty),
    /** Shows `items` in order; `all` says whether items missing from the list are gone. */
    set(items, all) {
      const seen = new Set();
      for (const it of items) {
        seen.add(it.id);
        let c = cards.get(it.id);
        if (c) c.update(it); else { c = makeCard(it, ctx); cards.set(it.id, c); }
      }
      if (all) for (const [id, c] of cards) if (!seen.has(id)) { c.remove(); cards.delete(id); }
      const order = items.map((it) => it.id);
      order.forEach((id, i) => { if (grid.children[i] !== cards.get(id)) grid.insertBefore(cards.get(id), grid.children[i] || null); });
      empty.hidden = cards.size > 0;
    },
    size: () => cards.size,
    empty,
  };
}

export async function viewHome(ctx) {
  if (!store.loggedIn) {
    view().append(el('section', { class: 'panel' },
      el('h1', { text: 'Your own media server' }),
      el('p', { text: 'Upload video, audio and images; they are transcoded into adaptive HLS and DASH streams you can watch here or in any player.' }),
      el('div', { class: 'row' }, el('a', { class: 'button', href: '#/register', text: 'Create an account' }), el('a', { class: 'button secondary', href: '#/login', text: 'Log in' }))));
    await publicGrid(ctx, 'h2');
    return;
  }
  loadMe().then(() => ctx.alive() && renderNav());

  const drop = makeDropzone(ctx);

  const grid = makeGrid(ctx, 'media-grid', 'Nothing here yet: upload something.');
  // Search, filters and sort: a change starts the list again from its first page.
  let generation = 0;
  const query = makeLibraryQuery(() => {
    generation++;
    items = [];
    cursor = null;
    loadPage(false).catch((e) => { if (ctx.alive()) listErr.textContent = e.message; }).finally(schedule);
  });
  const more = el('button', { type: 'button', class: 'secondary', hidden: true, 'data-testid': 'load-more', onclick: () => loadPage(true) }, 'Load more');
  const listErr = el('p', { class: 'error', role: 'alert' });
  const usage = el('p', { class: 'muted small', 'data-testid': 'storage-usage' });
  view().append(
    el('h1', { text: 'Library' }),
    el('section', { 'aria-label': 'Upload' }, drop, uploadList()),
    el('h2', { text: 'Your media' }), usage, query.root, listErr, grid.root, el('div', { class: 'row' }, more));
  // What the caller stores, against their quota (USER_QUOTA_BYTES) if there is one.
  const showUsage = async () => {
    const me = await api('/v1/auth/me').catch(() => null);
    if (!ctx.alive() || !me || !me.storage) return;
    const s = me.storage;
    usage.textContent = s.quota_bytes
      ? `Storage: ${fmtBytes(s.used_bytes)} of ${fmtBytes(s.quota_bytes)} used (${fmtBytes(s.left_bytes)} left)`
      : `Storage: ${fmtBytes(s.used_bytes)} used`;
  };

  let items = [];
  let cursor = null;
  async function loadPage(next) {
    const q = next ? `?limit=24&cursor=${encodeURIComponent(cursor)}` : `?limit=${Math.min(100, Math.max(24, items.length))}`;
    const asked = generation;
    const page = await api('/v1/media' + q + query.params());
    // A page of a query that has since changed is dropped.
    if (!ctx.alive() || asked !== generation) return;
    listErr.textContent = '';
    if (next) {
      const have = new Set(items.map((i) => i.id));
      items = items.concat(page.items.filter((i) => !have.has(i.id)));
      cursor = page.next_cursor;
    } else if (items.length <= page.items.length || !page.next_cursor) {
      items = page.items;
      cursor = page.next_cursor;
    } else {
      // More than one refresh covers (over 100 loaded): refresh the newest, keep the rest.
      const fresh = new Set(page.items.map((i) => i.id));
      items = page.items.concat(items.slice(page.items.length).filter((i) => !fresh.has(i.id)));
    }
    grid.set(items, true);
    grid.empty.textContent = query.narrowed() ? 'No media matches.' : 'Nothing here yet: upload something.';
    more.hidden = !cursor;
    if (!next) showUsage();
  }

  let timer = null;
  const schedule = () => {
    clearTimeout(timer);
    if (ctx.alive() && (uploader.pending() > 0 || items.some((i) => isActive(i.status)))) timer = setTimeout(poll, 2000);
  };
  async function poll() {
    try { await loadPage(false); } catch (e) { if (ctx.alive()) listErr.textContent = e.message; }
    schedule();
  }
  ctx.onCleanup(() => clearTimeout(timer));

  // Uploads outlive this view; while it shows, it shows what they add.
  uploader.view = {
    added(item) {
      if (!ctx.alive()) return;
      items = [item].concat(items.filter((i) => i.id !== item.id));
      grid.set(items, true);
    },
    settled: () => schedule(),
  };
  ctx.onCleanup(() => { uploader.view = null; });

  await loadPage(false);
  schedule();
  showUnfinished(ctx).catch((e) => console.warn('unfinished uploads:', e));
}

async function publicGrid(ctx, heading) {
  const grid = makeGrid(ctx, 'public-grid', 'No public media yet.');
  let cursor = null;
  const more = el('button', { type: 'button', class: 'secondary', hidden: true, onclick: () => load() }, 'Load more');
  const items = [];
  async function load() {
    const page = await api('/v1/media/public?limit=24' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''), { auth: false });
    if (!ctx.alive()) return;
    items.push(...page.items);
    cursor = page.next_cursor;
    grid.set(items, true);
    more.hidden = !cursor;
  }
  view().append(el(heading, { text: 'Public media' }), grid.root, el('div', { class: 'row' }, more));
  try { await load(); } catch (e) { grid.root.replaceChildren(el('p', { class: 'muted', text: 'The public listing is not available: ' + e.message })); }
}

export async function viewPublic(ctx) { await publicGrid(ctx, 'h1'); }
