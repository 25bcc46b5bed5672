// The item page's "Captions" panel, for the owner or an admin of a ready video or audio item:
// the item's text tracks (the source's subtitle streams and uploaded files), a form to upload a
// WebVTT or SubRip file with its language, label and kind (POST /v1/media/{id}/text-tracks, the
// file as the raw body), and Delete on uploaded ones. `onChange()` runs after an upload or a
// delete (the page reloads the player, whose manifests then name the change).

import { api, ensureFresh, store, toError } from './api.js';
import { confirmDialog, el, toast } from './dom.js';

/** The panel for `item`; null for images. Returns {root, render(item)}. */
export function makeTextTracksPanel(item, onChange) {
  if (item.kind === 'image') return null;
  const list = el('ul', { class: 'plain', 'data-testid': 'text-track-list' });
  const file = el('input', { id: 'caption-file', type: 'file', accept: '.vtt,.srt,text/vtt', required: true, 'data-testid': 'caption-file' });
  const language = el('input', { id: 'caption-language', type: 'text', required: true, placeholder: 'en, pt-BR…', maxlength: '35', 'data-testid': 'caption-language' });
  const label = el('input', { id: 'caption-label', type: 'text', maxlength: '100', placeholder: 'English', 'data-testid': 'caption-label' });
  const kind = el('select', { id: 'caption-kind', 'data-testid': 'caption-kind' },
    el('option', { value: 'subtitles', text: 'Subtitles (speech)' }), el('option', { value: 'captions', text: 'Captions (speech and sounds)' }));
  const submit = el('button', { type: 'submit', class: 'secondary', 'data-testid': 'caption-upload' }, 'Add');
  const note = el('p', { class: 'small muted' });
  const form = el('form', { 'data-testid': 'caption-form', onsubmit: async (e) => {
    e.preventDefault();
    const f = file.files && file.files[0];
    if (!f) return;
    submit.disabled = true;
    try {
      const q = new URLSearchParams({ language: language.value.trim(), kind: kind.value });
      if (label.value.trim()) q.set('label', label.value.trim());
      await ensureFresh();
      const res = await fetch(`/v1/media/${item.id}/text-tracks?${q}`, {
        method: 'POST',
        headers: { authorization: 'Bearer ' + store.access, 'content-type': 'text/plain; charset=utf-8', accept: 'application/json' },
        body: f,
      });
      if (!res.ok) throw await toError(res);
      const track = await res.json();
      toast(`Added “${track.label}”`);
      form.reset();
      await load();
      onChange();
    } catch (err) { toast(err.message); } finally { submit.disabled = false; }
  } },
  el('label', { for: 'caption-file', text: 'WebVTT or SubRip file' }), file,
  el('label', { for: 'caption-language', text: 'Language' }), language,
  el('label', { for: 'caption-label', text: 'Label (optional)' }), label,
  el('label', { for: 'caption-kind', text: 'Kind' }), kind,
  el('div', { class: 'row' }, submit));
  const root = el('section', { class: 'panel', 'aria-label': 'Captions', 'data-testid': 'captions-panel' }, el('h2', { text: 'Captions' }), list, note, form);

  async function remove(t) {
    if (!(await confirmDialog('Delete this caption track?', `“${t.label}” (${t.language}) will be removed from the player.`))) return;
    try {
      await api(`/v1/media/${item.id}/text-tracks/${encodeURIComponent(t.id)}`, { method: 'DELETE' });
      toast('Deleted');
      await load();
      onChange();
    } catch (e) { toast(e.message); }
  }

  async function load() {
    let tracks = [];
    try { tracks = (await api(`/v1/media/${item.id}/text-tracks`)).items; } catch (e) { note.textContent = e.message; return; }
    list.replaceChildren(...tracks.map((t) => el('li', { 'data-testid': 'text-track' },
      el('span', { text: `${t.label} · ${t.language} · ${t.kind}${t.source === 'embedded' ? ' · from the file' : ''}` }), ' ',
      t.source === 'upload' ? el('button', { type: 'button', class: 'danger small', 'data-testid': 'text-track-delete', 'aria-label': `Delete ${t.label}`, onclick: () => remove(t) }, 'Delete') : null)));
    note.textContent = tracks.length ? '' : 'No captions yet.';
  }

  function render(next) {
    item = next;
    const ready = item.status === 'ready';
    form.hidden = !ready;
    if (!ready) note.textContent = 'Captions can be added once processing is done.';
    else load();
  }
  let wasReady = null;
  return {
    root,
    render(next) {
      // Only when readiness changes: polling must not refetch the list every two seconds.
      const ready = next.status === 'ready';
      if (ready !== wasReady) { wasReady = ready; render(next); } else item = next;
    },
  };
}
