// An item's page: the player (or the image, or how processing goes), its details, and for its
// owner or an admin the title, visibility and delete controls (and Retry on a failed item). Polls while the item processes.

import { api, loadMe, store } from './api.js';
import { confirmDialog, el, setKids, toast, view } from './dom.js';
import { fmtBytes, fmtDate, fmtDuration, kbps } from './format.js';
import { isActive, loadableUrl, setImage, statusText } from './items.js';
import { makePlayer } from './player.js';
import { makeAnalyticsPanel } from './analytics.js';
import { makeSharePanel } from './share.js';
import { sourceDetails } from './source.js';
import { qualityDetails } from './quality.js';
import { codecName } from './codecs.js';
import { makeTextTracksPanel } from './text_tracks.js';
import { makeDownloadsPanel } from './downloads.js';
import { makeClipPanel } from './clips.js';

export async function viewMedia(ctx, id) {
  let item;
  try {
    item = await api('/v1/media/' + encodeURIComponent(id), { auth: store.loggedIn ? 'optional' : false });
  } catch (e) {
    if (e.status === 404) {
      view().append(el('div', { class: 'panel' }, el('h1', { text: 'Not found' }),
        el('p', { text: store.loggedIn ? 'This item does not exist or is not yours.' : 'This item does not exist, or it is private: log in to see your own media.' }),
        el('a', { href: store.loggedIn ? '#/' : '#/login', text: store.loggedIn ? 'Back to the library' : 'Log in' })));
      return;
    }
    throw e;
  }
  if (!ctx.alive()) return;
  const me = await loadMe();
  if (!ctx.alive()) return;
  const canManage = !!me && (me.role === 'admin' || me.id === item.owner_id);

  const stageBox = el('div', { class: 'stage-box' });
  const titleH = el('h1', { 'data-testid': 'player-title' });
  const badges = el('div', { class: 'meta' });
  const details = el('dl', { class: 'details', 'data-testid': 'details' });
  const primary = el('section', { class: 'primary', 'aria-label': 'Player' }, stageBox, titleH, badges);
  const side = el('aside', { class: 'side' }, el('section', { class: 'panel' }, el('h2', { text: 'Details' }), details));
  view().append(el('p', { class: 'small' }, el('a', { href: store.loggedIn ? '#/' : '#/public', text: '← Back' })), el('div', { class: 'watch', 'data-testid': 'media-page' }, primary, side));

  let player = null;
  let waiting = null;
  let shown = null; // what the stage shows: 'wait' | 'player' | 'image' | 'failed'

  function renderStage() {
    if (item.status === 'failed') {
      if (shown !== 'failed') {
        // The owner or an admin may queue it again (POST /v1/media/{id}/retry); it then polls
        // like any item in processing.
        const retry = canManage ? el('button', { type: 'button', class: 'secondary', 'data-testid': 'retry-button', onclick: async () => {
          retry.disabled = true;
          try {
            item = await api('/v1/media/' + item.id + '/retry', { method: 'POST' });
            toast('Queued again');
            render();
            clearTimeout(timer);
            timer = setTimeout(poll, 2000);
          } catch (e) { toast(e.message); retry.disabled = false; }
        } }, 'Retry') : null;
        stageBox.replaceChildren(el('div', { class: 'stage' }, el('div', { class: 'waiting' }, el('strong', { text: 'Processing failed' }), el('span', { class: 'small', text: item.error || '' }), retry)));
        shown = 'failed';
      }
      return;
    }
    if (item.kind === 'image') {
      if (item.status !== 'ready') return renderWaiting();
      if (shown !== 'image') {
        const variants = item.variants || [];
        const large = variants.find((v) => v.name === 'large' && v.url.endsWith('.webp')) || variants.find((v) => v.name === 'large') || null;
        const img = el('img', { class: 'full', alt: item.title, 'data-testid': 'image' });
        setImage(img, item, large ? large.url : item.thumbnail_url, ctx);
        stageBox.replaceChildren(el('div', { class: 'stage' }, img));
        shown = 'image';
      }
      return;
    }
    const sources = {
      hls: item.signed ? item.signed.hls : item.playback && item.playback.hls,
      dash: item.signed ? item.signed.dash : item.playback && item.playback.dash,
      poster: loadableUrl(item, item.thumbnail_url),
      storyboard: loadableUrl(item, item.storyboard_url),
      dashReady: item.status === 'ready',
      kind: item.kind,
      duration: item.duration_seconds,
      title: item.title,
      audioTracks: item.audio_tracks || [],
      renditions: item.renditions || [],
    };
    if (!item.playable || !sources.hls) return renderWaiting();
    if (shown !== 'player') {
      player = makePlayer(ctx, sources);
      stageBox.replaceChildren(player.root);
      shown = 'player';
    } else {
      // Keep the URLs the player started with; only availability changes.
      player.update({ dashReady: sources.dashReady, storyboard: sources.storyboard, duration: sources.duration, audioTracks: sources.audioTracks });
    }
  }
  function renderWaiting() {
    if (shown !== 'wait') {
      waiting = { text: el('span', { 'data-testid': 'waiting-text' }), bar: el('progress', { max: '100', 'aria-label': 'Processing progress' }) };
      stageBox.replaceChildren(el('div', { class: 'stage' }, el('div', { class: 'waiting' }, waiting.text, waiting.bar)));
      shown = 'wait';
    }
    waiting.text.textContent = item.status === 'processing' ? `Processing… ${item.progress}%` : item.status === 'ready' ? 'Nothing to play.' : `Waiting to be processed (${statusText(item)})`;
    waiting.bar.value = item.progress || 0;
  }

  function renderInfo() {
    titleH.textContent = item.title || item.filename;
    document.title = (item.title || item.filename) + ' · mediaserver';
    setKids(badges,
      el('span', { class: 'badge ' + item.status, 'data-testid': 'player-status', text: statusText(item) }),
      el('span', { class: 'badge vis', text: item.visibility }),
      el('span', { text: item.kind }),
      item.duration_seconds ? el('span', { 'data-testid': 'player-duration', text: fmtDuration(item.duration_seconds) }) : null,
      item.width && item.height ? el('span', { text: `${item.width}×${item.height}` }) : null);
    const rows = [
      ['File', item.filename], ['Size', fmtBytes(item.size)], ['Uploaded', fmtDate(item.created_at)],
      ['Renditions', (item.renditions || []).map((r) => `${r.height ? r.height + 'p' : r.name}${codecName(r.codecs) ? ' ' + codecName(r.codecs) : ''} (${kbps(r.bandwidth)} peak)`).join(', ') || '—'],
    ];
    if (item.error) rows.push(['Error', item.error]);
    // What processing left out or changed, and why (an audio track that does not decode, AV1
    // where it would not have saved bytes, …).
    if (item.warnings && item.warnings.length) {
      rows.push(['Notes', el('ul', { class: 'notes', 'data-testid': 'warnings' }, ...item.warnings.map((w) => el('li', { text: w })))]);
    }
    // An image's generated variants: each size and format, opening the file itself.
    const variants = (item.variants || []).map((v) => {
      const url = loadableUrl(item, v.url);
      const label = `${v.name} ${v.width}×${v.height} ${v.url.split('.').pop()}`;
      return url ? el('a', { href: url, target: '_blank', rel: 'noopener', 'data-testid': 'variant-link', text: label }) : el('span', { text: label });
    });
    if (variants.length) rows.push(['Variants', el('span', { class: 'variant-list', 'data-testid': 'variants' }, ...variants.flatMap((a, i) => (i ? [', ', a] : [a])))]);
    details.replaceChildren(...rows.flatMap(([k, v]) => [el('dt', { text: k }), typeof v === 'string' ? el('dd', { text: v }) : el('dd', {}, v)]), ...sourceDetails(item), ...qualityDetails(item));
  }

  const share = makeSharePanel(canManage);

  // ---- management (owner or admin)
  if (canManage) {
    const vis = el('select', { id: 'visibility', 'data-testid': 'visibility-select' },
      ...['private', 'unlisted', 'public'].map((v) => el('option', { value: v, text: v[0].toUpperCase() + v.slice(1) })));
    vis.value = item.visibility;
    const visHelp = el('p', { class: 'small muted', id: 'vis-help' });
    const helpText = { private: 'Only you (and admins). Share with a playback link.', unlisted: 'Anyone with the link can watch.', public: 'Listed on the public page.' };
    visHelp.textContent = helpText[item.visibility];
    vis.setAttribute('aria-describedby', 'vis-help');
    vis.addEventListener('change', async () => {
      vis.disabled = true;
      try {
        item = Object.assign(item, await api('/v1/media/' + item.id, { method: 'PATCH', json: { visibility: vis.value } }));
        visHelp.textContent = helpText[item.visibility];
        toast('Visibility: ' + item.visibility);
        renderInfo();
        share.render(item);
      } catch (e) { toast(e.message); vis.value = item.visibility; } finally { vis.disabled = false; }
    });

    // The title saves as the visibility does: at once, when you leave the field or press Enter.
    const titleInput = el('input', { id: 'title-input', type: 'text', value: item.title, maxlength: '500', 'data-testid': 'title-input', 'aria-describedby': 'title-help' });
    let savingTitle = false;
    const saveTitle = async () => {
      const title = titleInput.value;
      if (savingTitle || title === item.title) return;
      savingTitle = true;
      try {
        item = Object.assign(item, await api('/v1/media/' + item.id, { method: 'PATCH', json: { title } }));
        titleInput.value = item.title;
        renderInfo();
        toast('Title saved');
      } catch (e2) { toast(e2.message); titleInput.value = item.title; } finally { savingTitle = false; }
    };
    titleInput.addEventListener('change', saveTitle);
    const titleForm = el('form', { class: 'title-edit', onsubmit: (e) => { e.preventDefault(); saveTitle(); } },
      el('label', { for: 'title-input', text: 'Title' }), titleInput,
      el('p', { class: 'small muted', id: 'title-help', text: 'Saved when you leave the field or press Enter; visibility saves when you choose it.' }));

    const del = el('button', { type: 'button', class: 'danger', 'data-testid': 'delete-button', onclick: async () => {
      if (!(await confirmDialog('Delete this item?', `“${item.title}” and all of its renditions will be deleted. This cannot be undone.`))) return;
      try {
        await api('/v1/media/' + item.id, { method: 'DELETE' });
        toast('Deleted');
        location.hash = '#/';
      } catch (e) { toast(e.message); }
    } }, 'Delete…');

    side.append(el('section', { class: 'panel', 'aria-label': 'Manage' }, el('h2', { text: 'Manage' }), titleForm,
      el('label', { for: 'visibility', text: 'Visibility' }), vis, visHelp, el('div', { class: 'row' }, del)));
    if (item.kind !== 'image') side.append(makeAnalyticsPanel(ctx, item.id));
  }

  // ---- captions (owner or admin), then sharing
  const captions = canManage ? makeTextTracksPanel(item, () => { if (player) player.reload(); }) : null;
  if (captions) side.append(captions.root);
  side.append(share.root);
  const downloads = makeDownloadsPanel();
  const clips = makeClipPanel(canManage);
  side.append(downloads.root, clips.root);

  let timer = null;
  let wasShareable = null;
  function render() {
    renderInfo();
    renderStage();
    if (captions) captions.render(item);
    downloads.render(item);
    clips.render(item);
    const shareable = `${item.visibility}/${item.playable}/${item.status}`;
    if (shareable !== wasShareable) { wasShareable = shareable; share.render(item); }
  }
  async function poll() {
    try {
      const next = await api('/v1/media/' + item.id, { auth: store.loggedIn ? 'optional' : false });
      if (!ctx.alive()) return;
      item = next;
      render();
    } catch (e) {
      if (!ctx.alive()) return;
      if (e.status === 404) { toast('This item was deleted.'); location.hash = store.loggedIn ? '#/' : '#/public'; return; }
    }
    if (isActive(item.status)) timer = setTimeout(poll, 2000);
  }
  ctx.onCleanup(() => clearTimeout(timer));
  render();
  if (isActive(item.status)) timer = setTimeout(poll, 2000);
}
