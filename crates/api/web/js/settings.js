// Settings: API keys (create one, shown once with a copy button; list; revoke) and changing
// one's password.

import { api, loadMe, store } from './api.js';
import { confirmDialog, copyField, el, setKids, toast, view } from './dom.js';
import { fmtDate } from './format.js';

/** Lifetimes offered for a new key, in seconds ('' = does not expire). The server accepts 60 s
 *  to five years. */
const EXPIRIES = [
  ['', 'Never'],
  [String(3600), '1 hour'],
  [String(86400), '1 day'],
  [String(30 * 86400), '30 days'],
  [String(90 * 86400), '90 days'],
  [String(365 * 86400), '1 year'],
];

const SCOPES = [
  ['read', 'Read', 'see your items, play them, list keys'],
  ['upload', 'Upload', 'add new items'],
  ['write', 'Write', 'change or delete your items, revoke keys'],
  ['admin', 'Admin', 'act as an administrator'],
];

export async function viewSettings(ctx) {
  if (!store.loggedIn) {
    sessionStorage.setItem('ms.next', '#/settings');
    view().append(el('div', { class: 'panel' }, el('h1', { text: 'Settings' }),
      el('p', {}, el('a', { href: '#/login', text: 'Log in' }), ' to manage your API keys and password.')));
    return;
  }
  const me = await loadMe();
  if (!ctx.alive()) return;
  view().append(el('h1', { text: 'Settings' }), keysSection(ctx, me), passwordSection());
}

function keysSection(ctx, me) {
  const list = el('div', { 'data-testid': 'api-key-list' });
  const listError = el('p', { class: 'error', role: 'alert', 'data-testid': 'api-key-list-error' });
  const reveal = el('div', { 'data-testid': 'api-key-created', hidden: true });

  const refresh = async () => {
    try {
      const { keys } = await api('/v1/api-keys');
      if (!ctx.alive()) return;
      listError.textContent = '';
      setKids(list, keys.length ? keyTable(keys, refresh) : el('p', { class: 'muted', 'data-testid': 'api-key-none', text: 'No API keys yet.' }));
    } catch (e) { if (ctx.alive()) listError.textContent = e.message; }
  };

  const section = el('section', { class: 'panel settings', 'aria-labelledby': 'keys-title' },
    el('h2', { id: 'keys-title', text: 'API keys' }),
    el('p', { class: 'muted small' },
      'An API key works like your login for scripts and tools: send it as ',
      el('code', { text: 'Authorization: Bearer <key>' }), '. Give each tool its own key with only the scopes it needs; revoke it when it is done.'),
    createForm(me, reveal, refresh), reveal, listError, list);
  refresh();
  return section;
}

function createForm(me, reveal, refresh) {
  const err = el('p', { class: 'error', role: 'alert', 'data-testid': 'api-key-error' });
  const name = el('input', { id: 'key-name', type: 'text', maxlength: '100', placeholder: 'e.g. ci uploader', 'data-testid': 'api-key-name' });
  const expiry = el('select', { id: 'key-expiry', 'data-testid': 'api-key-expiry' },
    EXPIRIES.map(([v, label]) => el('option', { value: v, text: label })));
  const boxes = SCOPES
    .filter(([s]) => s !== 'admin' || (me && me.role === 'admin'))
    .map(([s, label, hint]) => {
      const box = el('input', { type: 'checkbox', id: 'scope-' + s, value: s, checked: s !== 'admin', 'data-testid': 'api-key-scope-' + s });
      return [box, el('label', { class: 'check', for: 'scope-' + s }, box, ' ', label, el('span', { class: 'muted small', text: ' — ' + hint }))];
    });
  const submit = el('button', { type: 'submit', 'data-testid': 'api-key-create' }, 'Create key');
  return el('form', {
    class: 'key-form', 'data-testid': 'api-key-form',
    onsubmit: async (e) => {
      e.preventDefault();
      err.textContent = '';
      const scopes = boxes.filter(([b]) => b.checked).map(([b]) => b.value);
      if (!scopes.length) { err.textContent = 'Choose at least one scope.'; return; }
      const body = { name: name.value, scopes };
      if (expiry.value) body.expires_in_seconds = Number(expiry.value);
      submit.disabled = true;
      try {
        const created = await api('/v1/api-keys', { method: 'POST', json: body });
        name.value = '';
        showCreated(reveal, created);
        await refresh();
      } catch (e2) { err.textContent = e2.message; } finally { submit.disabled = false; }
    },
  },
  el('h3', { text: 'New key' }),
  el('label', { for: 'key-name', text: 'Name' }), name,
  el('label', { for: 'key-expiry', text: 'Expires after' }), expiry,
  el('fieldset', { class: 'scopes' }, el('legend', { text: 'Scopes' }), boxes.map(([, label]) => label)),
  err, el('div', { class: 'row' }, submit));
}

/** The new key, once: it cannot be shown again. */
function showCreated(reveal, created) {
  setKids(reveal,
    el('div', { class: 'panel notice', role: 'status' },
      el('p', {}, el('strong', { text: `Key “${created.name}” created. ` }), 'Copy it now: it will not be shown again.'),
      copyField('API key', created.key, 'api-key-secret'),
      el('div', { class: 'row' }, el('button', { type: 'button', class: 'secondary', 'data-testid': 'api-key-done', onclick: () => { reveal.hidden = true; reveal.replaceChildren(); } }, 'Done'))));
  reveal.hidden = false;
}

function keyTable(keys, refresh) {
  const now = Date.now();
  const row = (k) => {
    const expired = k.expired || (k.expires_at && Date.parse(k.expires_at) <= now);
    const revoke = el('button', {
      type: 'button', class: 'secondary small-button', 'data-testid': 'api-key-revoke', 'aria-label': `Revoke key ${k.name}`,
      onclick: async () => {
        if (!(await confirmDialog('Revoke this key?', `“${k.name}” (${k.prefix}…) stops working at once. This cannot be undone.`, 'Revoke'))) return;
        try {
          await api('/v1/api-keys/' + encodeURIComponent(k.id), { method: 'DELETE' });
          toast('Key revoked');
        } catch (e) { toast(e.status === 404 ? 'That key was already revoked.' : e.message); }
        await refresh();
      },
    }, 'Revoke…');
    return el('tr', { 'data-testid': 'api-key-row', 'data-id': k.id, 'data-prefix': k.prefix },
      el('td', { 'data-testid': 'api-key-row-name', text: k.name }),
      el('td', {}, el('code', { text: k.prefix + '…' })),
      el('td', { text: fmtDate(k.created_at) }),
      el('td', { text: k.last_used_at ? fmtDate(k.last_used_at) : 'never' }),
      el('td', { class: expired ? 'error' : null, text: !k.expires_at ? 'never' : (expired ? 'expired ' : '') + fmtDate(k.expires_at) }),
      el('td', { 'data-testid': 'api-key-row-scopes', text: k.scopes.join(', ') }),
      el('td', {}, revoke));
  };
  return el('div', { class: 'table-wrap' }, el('table', { class: 'keys' },
    el('thead', {}, el('tr', {}, ['Name', 'Key', 'Created', 'Last used', 'Expires', 'Scopes', ''].map((h) => el('th', { scope: 'col', text: h })))),
    el('tbody', {}, keys.map(row))));
}

function passwordSection() {
  const err = el('p', { class: 'error', role: 'alert', 'data-testid': 'password-error' });
  const done = el('p', { class: 'ok', role: 'status', 'data-testid': 'password-done' });
  const field = (id, label, autocomplete) => {
    const input = el('input', { id, type: 'password', required: true, autocomplete, 'data-testid': id });
    return [input, el('label', { for: id, text: label }), input];
  };
  const [current, ...currentKids] = field('password-current', 'Current password', 'current-password');
  const [next, ...nextKids] = field('password-new', 'New password', 'new-password');
  const [again, ...againKids] = field('password-again', 'New password, again', 'new-password');
  next.setAttribute('minlength', '8');
  next.setAttribute('aria-describedby', 'password-hint');
  const submit = el('button', { type: 'submit', 'data-testid': 'password-submit' }, 'Change password');
  const form = el('form', {
    'data-testid': 'password-form',
    onsubmit: async (e) => {
      e.preventDefault();
      err.textContent = ''; done.textContent = '';
      if (next.value !== again.value) { err.textContent = 'The new password and its repetition differ.'; again.focus(); return; }
      submit.disabled = true;
      try {
        await api('/v1/auth/password', { method: 'POST', json: { current_password: current.value, new_password: next.value } });
        form.reset();
        done.textContent = 'Password changed. Every other session has been logged out; API keys still work.';
      } catch (e2) {
        err.textContent = e2.status === 403 && e2.code !== 'insufficient_scope'
          ? 'The current password is wrong.'
          : e2.status === 429 ? 'Too many wrong passwords; ' + e2.message : e2.message;
      } finally { submit.disabled = false; }
    },
  }, currentKids, nextKids, el('p', { id: 'password-hint', class: 'muted small', text: 'At least 8 characters.' }), againKids, err, done,
  el('div', { class: 'row' }, submit));
  return el('section', { class: 'panel settings', 'aria-labelledby': 'password-title' },
    el('h2', { id: 'password-title', text: 'Password' }),
    el('p', { class: 'muted small', text: 'Changing it logs out every other session (other browsers, other devices); this one stays logged in.' }),
    form);
}
