// The /v1 API: Bearer tokens kept in localStorage, refreshed ahead of expiry and on a 401, and
// JSON calls with the server's `{error: {code, message}}` turned into an ApiError.

// Set by main.js: what to redraw when the session ends here. This module cannot import the nav,
// whose log-out button leads back to it.
let signedOut = () => {};
/** Registers `fn` to run whenever a refused refresh or a final 401 logs the user out. */
export function onSignedOut(fn) { signedOut = fn; }

export const store = {
  get access() { return localStorage.getItem('ms.access'); },
  get refresh() { return localStorage.getItem('ms.refresh'); },
  get expiresAt() { return Number(localStorage.getItem('ms.expires_at') || 0); },
  get me() { try { return JSON.parse(localStorage.getItem('ms.me') || 'null'); } catch { return null; } },
  set me(u) { localStorage.setItem('ms.me', JSON.stringify(u)); },
  get loggedIn() { return !!(this.access || this.refresh); },
  save(pair) {
    localStorage.setItem('ms.access', pair.access_token);
    localStorage.setItem('ms.refresh', pair.refresh_token);
    localStorage.setItem('ms.expires_at', String(Date.now() + (pair.expires_in || 900) * 1000));
  },
  clear() {
    for (const k of ['ms.access', 'ms.refresh', 'ms.expires_at', 'ms.me']) localStorage.removeItem(k);
  },
};

class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

export async function toError(res) {
  let code = 'http_' + res.status, message = res.statusText || 'request failed';
  try {
    const body = await res.json();
    if (body && body.error) { code = body.error.code || code; message = body.error.message || message; }
  } catch { /* not JSON */ }
  return new ApiError(res.status, code, message);
}

let refreshing = null;
/** Trades the refresh token for a new pair. Refresh tokens rotate and reuse revokes every session,
 *  so only one refresh runs at a time: one per tab (`refreshing`), one across tabs (Web Locks,
 *  where available), and a tab that finds the stored token already changed just uses it. */
export function refreshTokens(staleAccess) {
  if (refreshing) return refreshing;
  const run = async () => {
    if (store.access && store.access !== staleAccess) return true;
    const rt = store.refresh;
    if (!rt) return false;
    let res;
    try {
      res = await fetch('/v1/auth/refresh', {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token: rt }),
      });
    } catch { return false; }
    if (!res.ok) {
      if (res.status === 401 && store.refresh === rt) { store.clear(); signedOut(); }
      return false;
    }
    store.save(await res.json());
    return true;
  };
  refreshing = (async () => {
    try {
      return navigator.locks ? await navigator.locks.request('mediaserver-refresh', run) : await run();
    } finally { refreshing = null; }
  })();
  return refreshing;
}

/** Refreshes ahead of expiry so that long requests (uploads) do not start with a dying token. */
export async function ensureFresh() {
  if (store.refresh && (!store.access || store.expiresAt - Date.now() < 30000)) await refreshTokens(store.access);
}

/** JSON API call. auth: 'required' (default; a final 401 logs out), 'optional' (falls back to an
 *  anonymous request), or false. */
export async function api(path, { method = 'GET', json, auth = 'required' } = {}) {
  const send = async (useToken) => {
    const headers = { accept: 'application/json' };
    if (json !== undefined) headers['content-type'] = 'application/json';
    const tok = useToken ? store.access : null;
    if (tok) headers.authorization = 'Bearer ' + tok;
    const res = await fetch(path, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
    return { res, tok };
  };
  if (auth) await ensureFresh();
  let { res, tok } = await send(!!auth);
  if (res.status === 401 && tok && (await refreshTokens(tok))) ({ res } = await send(true));
  if (res.status === 401 && auth) {
    if (auth === 'optional') {
      ({ res } = await send(false));
    } else {
      store.clear();
      signedOut();
      sessionStorage.setItem('ms.next', location.hash);
      location.hash = '#/login';
      throw new ApiError(401, 'unauthorized', 'Please log in again.');
    }
  }
  if (!res.ok) throw await toError(res);
  return res.status === 204 ? null : res.json();
}

export async function loadMe() {
  if (!store.loggedIn) return null;
  if (store.me) return store.me;
  try { store.me = await api('/v1/auth/me'); } catch { return null; }
  return store.me;
}

export async function login(email, password) {
  const pair = await api('/v1/auth/login', { method: 'POST', json: { email, password }, auth: false });
  store.save(pair);
  store.me = await api('/v1/auth/me');
}

