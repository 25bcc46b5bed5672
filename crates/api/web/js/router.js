// Hash routing: each route renders into the view with a context that says whether it is still
// the current one and collects what to clean up when it is not; and the nav bar.

import { store } from './api.js';
import { logout } from './auth.js';
import { $, el, setKids, view } from './dom.js';

/** [[hash pattern, view(ctx, ...decoded captures)]], set by startRouter. */
let routes = [];
let generation = 0;
let cleanups = [];

function makeCtx() {
  const gen = ++generation;
  return {
    alive: () => gen === generation,
    onCleanup: (fn) => cleanups.push(fn),
  };
}

let firstRoute = true;
export async function route() {
  for (const fn of cleanups.splice(0)) { try { fn(); } catch (e) { console.error(e); } }
  const ctx = makeCtx();
  const hash = location.hash || '#/';
  view().replaceChildren();
  renderNav();
  const match = routes.map(([re, fn]) => [hash.match(re), fn]).find(([m]) => m);
  if (!firstRoute) view().focus({ preventScroll: true });
  firstRoute = false;
  window.scrollTo(0, 0);
  if (!match) { view().append(el('p', { class: 'empty', text: 'Nothing here. ' }, el('a', { href: '#/', text: 'Go home' }))); return; }
  try {
    await match[1](ctx, ...match[0].slice(1).map(decodeURIComponent));
  } catch (e) {
    if (!ctx.alive()) return;
    console.error(e);
    view().append(el('p', { class: 'error', role: 'alert', 'data-testid': 'view-error', text: e.message || String(e) }));
  }
}

export function renderNav() {
  const nav = $('#nav');
  const here = location.hash || '#/';
  const link = (href, text, testid) => el('a', { href, text, 'data-testid': testid, 'aria-current': here === href ? 'page' : null });
  if (store.loggedIn) {
    const me = store.me;
    setKids(nav,
      link('#/', 'Library', 'nav-library'),
      link('#/public', 'Public', 'nav-public'),
      me && me.role === 'admin' ? link('#/admin', 'Admin', 'nav-admin') : null,
      link('#/settings', 'Settings', 'nav-settings'),
      me ? el('span', { class: 'who', 'data-testid': 'nav-user', text: me.email }) : null,
      el('button', { type: 'button', class: 'secondary', 'data-testid': 'logout', onclick: logOutAndGoHome }, 'Log out'),
    );
  } else {
    setKids(nav,
      link('#/public', 'Public', 'nav-public'),
      link('#/login', 'Log in', 'nav-login'),
      link('#/register', 'Register', 'nav-register'),
    );
  }
}

async function logOutAndGoHome() {
  await logout();
  if (location.hash === '#/' || location.hash === '') route(); else location.hash = '#/';
}

/** Renders the route the page opened on and then each one the hash changes to. */
export function startRouter(table) {
  routes = table;
  window.addEventListener('hashchange', route);
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', route); else route();
}
