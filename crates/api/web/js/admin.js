// The admin page (#/admin, admins only): accounts with their storage (create, invite with a
// copyable link, disable or enable, delete with everything they own), the processing jobs with
// failed ones first and a Retry button, and the webhook deliveries that did not arrive (js/webhooks.js).

import { api, store } from './api.js';
import { confirmDialog, copyField, el, setKids, toast, view } from './dom.js';
import { fmtBytes, fmtDate } from './format.js';
import { renderWebhookFailures } from './webhooks.js';

export async function viewAdmin(ctx) {
  const me = store.me;
  if (!me || me.role !== 'admin') {
    view().append(el('p', { class: 'empty', 'data-testid': 'admin-forbidden', text: 'This page is for administrators.' }));
    return;
  }
  const users = el('div', { 'data-testid': 'admin-users' });
  const jobs = el('div', { 'data-testid': 'admin-jobs' });
  const webhooks = el('section', { id: 'admin-webhooks', class: 'panel admin-section', 'data-testid': 'admin-webhooks' });
  view().append(
    el('h1', { text: 'Administration' }),
    el('section', { class: 'panel admin-section', 'aria-labelledby': 'admin-users-h' },
      el('h2', { id: 'admin-users-h', text: 'Users' }),
      userForms(ctx, () => loadUsers(ctx, users)),
      users),
    el('section', { class: 'panel admin-section', 'aria-labelledby': 'admin-jobs-h' },
      el('h2', { id: 'admin-jobs-h', text: 'Processing jobs' }),
      jobs),
    webhooks,
  );
  await Promise.all([loadUsers(ctx, users), loadJobs(ctx, jobs, ''), renderWebhookFailures(webhooks, api)]);
}

function userForms(ctx, reload) {
  const err = el('p', { class: 'error', role: 'alert', 'data-testid': 'admin-error' });
  const email = el('input', { id: 'new-email', type: 'email', required: true, autocomplete: 'off', 'data-testid': 'new-user-email' });
  const password = el('input', { id: 'new-password', type: 'password', required: true, minlength: '8', autocomplete: 'new-password', 'data-testid': 'new-user-password' });
  const role = roleSelect('new-role', 'new-user-role');
  const create = el('form', {
    class: 'row', 'data-testid': 'create-user-form',
    onsubmit: async (e) => {
      e.preventDefault();
      err.textContent = '';
      try {
        const u = await api('/v1/admin/users', { method: 'POST', json: { email: email.value, password: password.value, role: role.value } });
        toast(`Created ${u.email}`);
        email.value = ''; password.value = '';
        await reload();
      } catch (e2) { err.textContent = e2.message; }
    },
  },
  el('label', { for: 'new-email', text: 'Email' }), email,
  el('label', { for: 'new-password', text: 'Password' }), password,
  el('label', { for: 'new-role', text: 'Role' }), role,
  el('button', { type: 'submit', 'data-testid': 'create-user' }, 'Create user'));

  const invEmail = el('input', { id: 'invite-email', type: 'email', placeholder: 'anyone with the link', autocomplete: 'off', 'data-testid': 'invite-email' });
  const invRole = roleSelect('invite-role', 'invite-role');
  const link = el('div', { 'data-testid': 'invite-result' });
  const invite = el('form', {
    class: 'row', 'data-testid': 'invite-form',
    onsubmit: async (e) => {
      e.preventDefault();
      err.textContent = '';
      try {
        const json = { role: invRole.value };
        if (invEmail.value.trim()) json.email = invEmail.value.trim();
        const inv = await api('/v1/admin/invitations', { method: 'POST', json });
        setKids(link, ...copyField(`Invitation link (one use, until ${fmtDate(inv.expires_at)})`, inv.url, 'invite-link'));
      } catch (e2) { err.textContent = e2.message; }
    },
  },
  el('label', { for: 'invite-email', text: 'Invite (email, optional)' }), invEmail,
  el('label', { for: 'invite-role', text: 'Role' }), invRole,
  el('button', { type: 'submit', class: 'secondary', 'data-testid': 'invite' }, 'Create invitation link'));
  return el('div', {}, create, invite, link, err);
}

function roleSelect(id, testid) {
  return el('select', { id, 'data-testid': testid },
    el('option', { value: 'user', text: 'user' }), el('option', { value: 'admin', text: 'admin' }));
}

async function loadUsers(ctx, box) {
  const page = await api('/v1/admin/users?limit=100');
  if (!ctx.alive()) return;
  const me = store.me;
  const rows = page.items.map((u) => {
    const self = me && u.id === me.id;
    const storage = fmtBytes(u.storage_bytes) + (u.storage.quota_bytes ? ` of ${fmtBytes(u.storage.quota_bytes)}` : '');
    const act = async (fn) => {
      try { await fn(); await loadUsers(ctx, box); } catch (e) { toast(e.message); }
    };
    const toggle = el('button', {
      type: 'button', class: 'secondary small-button', disabled: self, 'data-testid': u.disabled ? 'enable-user' : 'disable-user',
      onclick: () => act(async () => {
        await api('/v1/admin/users/' + u.id, { method: 'PATCH', json: { disabled: !u.disabled } });
        toast(`${u.email} ${u.disabled ? 'enabled' : 'disabled'}`);
      }),
    }, u.disabled ? 'Enable' : 'Disable');
    const del = el('button', {
      type: 'button', class: 'danger small-button', disabled: self, 'data-testid': 'delete-user',
      onclick: () => act(async () => {
        const items = u.media_count === 1 ? '1 item' : `${u.media_count} items`;
        const ok = await confirmDialog(`Delete ${u.email}?`,
          `Their account and ${items} (${fmtBytes(u.storage_bytes)}) will be deleted for good, with every upload and API key.`, 'Delete user');
        if (!ok) return;
        await api('/v1/admin/users/' + u.id, { method: 'DELETE' });
        toast(`Deleted ${u.email}`);
      }),
    }, 'Delete');
    return el('tr', { 'data-testid': 'user-row', 'data-email': u.email, 'data-disabled': String(u.disabled) },
      el('td', { text: u.email }),
      el('td', { text: u.role }),
      el('td', {}, el('span', { class: 'badge ' + (u.disabled ? 'failed' : 'ready'), 'data-testid': 'user-status', text: u.disabled ? 'disabled' : 'active' })),
      el('td', { text: String(u.media_count) }),
      el('td', { 'data-testid': 'user-storage', text: storage }),
      el('td', { text: fmtDate(u.created_at) }),
      el('td', {}, el('div', { class: 'row' }, toggle, del)));
  });
  setKids(box, el('table', { class: 'admin-table' },
    el('thead', {}, el('tr', {}, ...['Email', 'Role', 'Status', 'Items', 'Storage', 'Created', ''].map((h) => el('th', { scope: 'col', text: h })))),
    el('tbody', {}, rows)),
  page.next_cursor ? el('p', { class: 'muted small', text: 'Showing the newest 100 accounts.' }) : null);
}

async function loadJobs(ctx, box, status) {
  const filter = el('select', { id: 'job-status', 'data-testid': 'job-status', onchange: () => loadJobs(ctx, box, filter.value) },
    ...['', 'failed', 'running', 'queued', 'done'].map((s) => el('option', { value: s, text: s || 'all', selected: s === status })));
  const list = await api('/v1/admin/jobs' + (status ? '?status=' + encodeURIComponent(status) : ''));
  if (!ctx.alive()) return;
  const rows = list.items.map((j) => el('tr', { 'data-testid': 'job-row', 'data-status': j.status, 'data-media-id': j.media_id },
    el('td', {}, el('span', { class: 'badge ' + (j.status === 'done' ? 'ready' : j.status === 'failed' ? 'failed' : 'queued'), text: j.status })),
    el('td', {}, el('a', { href: '#/media/' + j.media_id, text: j.title })),
    el('td', { text: j.owner_email }),
    el('td', { text: `${j.attempts}/${j.max_attempts}` }),
    el('td', { class: 'small', text: j.last_error || '' }),
    el('td', { text: fmtDate(j.updated_at) }),
    el('td', {}, j.status === 'failed' ? el('button', {
      type: 'button', class: 'secondary small-button', 'data-testid': 'retry-job',
      onclick: async () => {
        try {
          await api(`/v1/media/${j.media_id}/retry`, { method: 'POST' });
          toast(`${j.title} queued again`);
          await loadJobs(ctx, box, status);
        } catch (e) { toast(e.message); }
      },
    }, 'Retry') : null)));
  setKids(box,
    el('div', { class: 'row' }, el('label', { for: 'job-status', text: 'Show' }), filter),
    rows.length
      ? el('table', { class: 'admin-table' },
        el('thead', {}, el('tr', {}, ...['Status', 'Item', 'Owner', 'Attempts', 'Last error', 'Updated', ''].map((h) => el('th', { scope: 'col', text: h })))),
        el('tbody', {}, rows))
      : el('p', { class: 'muted', 'data-testid': 'no-jobs', text: 'No jobs.' }));
}
