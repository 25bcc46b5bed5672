// Clips: on a ready video or audio item's page, its owner (or an admin) makes a new item from a
// time range of it (POST /v1/media/{id}/clips) and is taken to the clip's page.

import { api } from './api.js';
import { el, toast } from './dom.js';

/** The "Make a clip" panel; `render(item)` shows it once the item is ready (never for images). */
export function makeClipPanel(canManage) {
  const root = el('section', { class: 'panel', 'data-testid': 'clip-panel', 'aria-label': 'Make a clip', hidden: true });
  if (!canManage) return { root, render: () => {} };
  const start = el('input', { id: 'clip-start', type: 'number', min: '0', step: '0.01', value: '0', 'data-testid': 'clip-start' });
  const end = el('input', { id: 'clip-end', type: 'number', min: '0', step: '0.01', 'data-testid': 'clip-end' });
  const title = el('input', { id: 'clip-title', type: 'text', maxlength: '200', placeholder: 'Title (optional)', 'data-testid': 'clip-title' });
  const error = el('p', { class: 'error', role: 'alert', 'data-testid': 'clip-error' });
  let itemId = null;
  const form = el('form', { onsubmit: async (e) => {
    e.preventDefault();
    error.textContent = '';
    const submit = form.querySelector('button');
    submit.disabled = true;
    try {
      const json = { start_seconds: Number(start.value), end_seconds: Number(end.value) };
      if (title.value.trim()) json.title = title.value.trim();
      const clip = await api(`/v1/media/${itemId}/clips`, { method: 'POST', json });
      toast('Clip queued');
      location.hash = '#/media/' + clip.id;
    } catch (e2) { error.textContent = e2.message; } finally { submit.disabled = false; }
  } },
  el('div', { class: 'row' }, el('label', { for: 'clip-start', text: 'From (s)' }), start, el('label', { for: 'clip-end', text: 'To (s)' }), end),
  el('label', { for: 'clip-title', text: 'Title' }), title,
  el('div', { class: 'row' }, el('button', { type: 'submit', 'data-testid': 'clip-submit' }, 'Make clip')), error);
  root.append(el('h2', { text: 'Make a clip' }), form);
  function render(item) {
    itemId = item.id;
    root.hidden = item.kind === 'image' || item.status !== 'ready';
    if (item.duration_seconds) {
      start.max = end.max = String(item.duration_seconds);
      if (!end.value) end.value = String(Math.min(item.duration_seconds, 10));
    }
  }
  return { root, render };
}
