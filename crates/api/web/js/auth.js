// Logging in, registering and logging out.

import { api, login, store } from './api.js';
import { el, view } from './dom.js';
import { forgetUploads } from './upload.js';

function authForm(ctx, mode) {
  const isReg = mode === 'register';
  // An administrator's invitation link: #/register?invite=… (registration works with it even
  // while sign-up is closed).
  const invite = isReg ? new URLSearchParams(location.hash.split('?')[1] || '').get('invite') : null;
  const err = el('p', { class: 'error', role: 'alert', 'data-testid': 'auth-error' });
  const email = el('input', { id: 'email', type: 'email', name: 'email', required: true, autocomplete: 'username', 'data-testid': 'email' });
  const password = el('input', {
    id: 'password', type: 'password', name: 'password', required: true, minlength: isReg ? '8' : null,
    autocomplete: isReg ? 'new-password' : 'current-password', 'data-testid': 'password', 'aria-describedby': isReg ? 'pw-hint' : null,
  });
  const submit = el('button', { type: 'submit', 'data-testid': 'auth-submit' }, isReg ? 'Create account' : 'Log in');
  const form = el('form', {
    class: 'panel auth', 'data-testid': isReg ? 'register-form' : 'login-form', novalidate: false,
    onsubmit: async (e) => {
      e.preventDefault();
      err.textContent = '';
      submit.disabled = true;
      try {
        if (isReg) {
          const json = { email: email.value, password: password.value };
          if (invite) json.invite = invite;
          await api('/v1/auth/register', { method: 'POST', json, auth: false });
        }
        await login(email.value, password.value);
        const next = sessionStorage.getItem('ms.next');
        sessionStorage.removeItem('ms.next');
        location.hash = next && next !== '#/login' && !next.startsWith('#/register') ? next : '#/';
      } catch (e2) {
        err.textContent = e2.message;
        submit.disabled = false;
      }
    },
  },
  el('h1', { text: isReg ? 'Create an account' : 'Log in' }),
  invite ? el('p', { class: 'muted', 'data-testid': 'invited', text: 'You were invited: choose your email and a password.' }) : null,
  el('label', { for: 'email', text: 'Email' }), email,
  el('label', { for: 'password', text: 'Password' }), password,
  isReg ? el('p', { id: 'pw-hint', class: 'muted small', text: 'At least 8 characters.' }) : null,
  err,
  el('div', { class: 'actions' }, submit,
    isReg ? el('a', { href: '#/login', text: 'I have an account' }) : el('a', { href: '#/register', text: 'Create an account' })));
  view().append(form);
  email.focus();
}

export async function viewLogin(ctx) { authForm(ctx, 'login'); }
export async function viewRegister(ctx) { authForm(ctx, 'register'); }

/** Forgets the session here and this user's unfinished uploads, and revokes it on the server. */
export async function logout() {
  const rt = store.refresh, me = store.me, access = store.access;
  store.clear();
  await forgetUploads(me, access);
  // Revoke the session on the server too (best effort: the tokens are gone here either way).
  if (rt) {
    await fetch('/v1/auth/logout', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token: rt }) }).catch(() => {});
  }
}
