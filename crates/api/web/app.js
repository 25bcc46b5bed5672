// mediaserver web UI: plain JavaScript, no build step. Talks to the /v1 API with Bearer tokens kept
// in localStorage; plays through hls.js and dash.js (vendored under /assets/vendor/).
//
// Test hooks: `data-testid` attributes throughout, and on the player page
// `window.__player = {engine, levels(), setLevel(i), currentLevel(), errors}`.
(() => {
  'use strict';

  // ---------------------------------------------------------------- small helpers

  const $ = (sel, root = document) => root.querySelector(sel);

  /** Builds an element. Props: `class`, `text`, `on<event>` listeners, properties that exist on the
   *  element (value, checked, disabled, muted...), everything else as attributes. Never HTML. */
  function el(tag, props, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
      else if (k in e && !k.startsWith('aria') && !k.startsWith('data') && typeof v !== 'string') e[k] = v;
      else if (k === 'value' || k === 'muted') e[k] = v;
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const kid of kids.flat(Infinity)) {
      if (kid === null || kid === undefined || kid === false) continue;
      e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return e;
  }

  /** Like replaceChildren, but skips null/false (which the DOM would turn into text). */
  const setKids = (node, ...kids) => node.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));

  function fmtTime(s) {
    if (!Number.isFinite(s) || s < 0) s = 0;
    s = Math.floor(s);
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    const mm = h ? String(m).padStart(2, '0') : String(m);
    return (h ? h + ':' : '') + mm + ':' + String(sec).padStart(2, '0');
  }

  function fmtBytes(n) {
    if (!Number.isFinite(n)) return '';
    const u = ['B', 'KB', 'MB', 'GB', 'TB'];
    let i = 0;
    while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
    return (i ? n.toFixed(n < 10 ? 1 : 0) : n) + ' ' + u[i];
  }

  const fmtDate = (iso) => { try { return new Date(iso).toLocaleString(); } catch { return iso; } };
  const kbps = (bps) => Math.round(bps / 1000) + ' kbps';
  const isActive = (status) => status === 'uploaded' || status === 'queued' || status === 'processing';
  const kindIcon = (kind) => ({ video: '▶', audio: '♪', image: '▣' })[kind] || '•';
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  let toastTimer;
  function toast(msg) {
    const t = $('#toast');
    t.textContent = msg;
    t.classList.add('show');
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => t.classList.remove('show'), 3000);
  }

  function confirmDialog(title, text, okLabel = 'Delete') {
    const d = $('#confirm');
    $('#confirm-title').textContent = title;
    $('#confirm-text').textContent = text;
    $('[data-testid="confirm-ok"]', d).textContent = okLabel;
    return new Promise((resolve) => {
      d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true });
      d.returnValue = '';
      d.showModal();
      $('[data-testid="confirm-cancel"]', d).focus();
    });
  }

  async function copyText(text, input) {
    try {
      await navigator.clipboard.writeText(text);
      toast('Copied to the clipboard');
    } catch {
      // Clipboard API needs a secure context; fall back to selecting the text.
      if (input) { input.focus(); input.select(); }
      try { document.execCommand('copy'); toast('Copied'); } catch { toast('Press Ctrl+C to copy'); }
    }
  }

  function copyField(label, value, testid) {
    const id = 'f-' + testid;
    const input = el('input', { id, type: 'text', readOnly: true, value, 'data-testid': testid, onfocus: (e) => e.target.select() });
    return [
      el('label', { for: id, text: label }),
      el('div', { class: 'copy' }, input,
        el('button', { type: 'button', class: 'secondary', 'aria-label': 'Copy ' + label, onclick: () => copyText(input.value, input) }, 'Copy')),
    ];
  }

  const absolute = (path) => new URL(path, location.href).href;

  // ---------------------------------------------------------------- tokens and the API

  const store = {
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

  // Another tab logging in or out changes what this one shows.
  window.addEventListener('storage', (e) => { if (e.key === 'ms.refresh' && !e.newValue) { renderNav(); route(); } });

  class ApiError extends Error {
    constructor(status, code, message) { super(message); this.status = status; this.code = code; }
  }

  async function toError(res) {
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
  function refreshTokens(staleAccess) {
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
        if (res.status === 401 && store.refresh === rt) { store.clear(); renderNav(); }
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
  async function ensureFresh() {
    if (store.refresh && (!store.access || store.expiresAt - Date.now() < 30000)) await refreshTokens(store.access);
  }

  /** JSON API call. auth: 'required' (default; a final 401 logs out), 'optional' (falls back to an
   *  anonymous request), or false. */
  async function api(path, { method = 'GET', json, auth = 'required' } = {}) {
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
        renderNav();
        sessionStorage.setItem('ms.next', location.hash);
        location.hash = '#/login';
        throw new ApiError(401, 'unauthorized', 'Please log in again.');
      }
    }
    if (!res.ok) throw await toError(res);
    return res.status === 204 ? null : res.json();
  }

  async function loadMe() {
    if (!store.loggedIn) return null;
    if (store.me) return store.me;
    try { store.me = await api('/v1/auth/me'); } catch { return null; }
    return store.me;
  }

  async function login(email, password) {
    const pair = await api('/v1/auth/login', { method: 'POST', json: { email, password }, auth: false });
    store.save(pair);
    store.me = await api('/v1/auth/me');
  }

  async function logout() {
    const rt = store.refresh, me = store.me, access = store.access;
    store.clear();
    await forgetUploads(me, access);
    // Revoke the session on the server too (best effort: the tokens are gone here either way).
    if (rt) {
      await fetch('/v1/auth/logout', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token: rt }) }).catch(() => {});
    }
    if (location.hash === '#/' || location.hash === '') route(); else location.hash = '#/';
  }

  // ---------------------------------------------------------------- uploads (tus, resumable)
  //
  // Files go up with tus-js-client (vendored) to /v1/uploads/ in chunks the server stores and
  // acknowledges one by one. tus-js-client keeps each unfinished upload's URL in localStorage
  // under a fingerprint of the file, so the same file dropped again, even after a reload or a
  // crash, continues from the offset the server reports instead of starting over. Uploads run
  // one at a time and carry on while the user browses other pages of the app.

  const TUS_ENDPOINT = '/v1/uploads/';
  // Large enough that per-request overhead does not matter, small enough that an interruption
  // costs little (at most one chunk is sent again).
  const CHUNK_SIZE = 8 * 1024 * 1024;
  const MEDIA_ID_HEADER = 'Mediaserver-Media-Id';

  const titleOf = (name) => { const i = name.lastIndexOf('.'); return i > 0 ? name.slice(0, i) : name; };
  const pct = (n, total) => (total > 0 ? Math.floor((n / total) * 100) : 0);
  const tusStorage = () => (window.tus && window.tus.defaultOptions ? window.tus.defaultOptions.urlStorage : null);

  /** What tus-js-client stores an upload's URL under: the user and the file's name, type, size
   *  and modification time. The same file dropped again by the same user resumes; another
   *  user's session is never offered it. */
  async function tusFingerprint(file) {
    const me = await loadMe();
    return ['ms', me ? me.id : 'anonymous', file.name, file.type, file.size, file.lastModified].join(':');
  }
  const storagePrefix = (me) => `tus::ms:${me.id}:`;

  /** The user's unfinished uploads as tus-js-client stored them: [{uploadUrl, size, metadata,
   *  creationTime, urlStorageKey}]. */
  async function storedUploads(me) {
    const storage = tusStorage();
    if (!storage || !me) return [];
    // NoopUrlStorage (no localStorage) cannot list anything.
    if (typeof storage.findAllUploads !== 'function') return [];
    const all = await storage.findAllUploads();
    return all.filter((u) => u.urlStorageKey.startsWith(storagePrefix(me)) && u.uploadUrl);
  }

  async function tusHeaders() {
    await ensureFresh();
    const h = { 'Tus-Resumable': '1.0.0' };
    if (store.access) h.authorization = 'Bearer ' + store.access;
    return h;
  }

  /** A failed upload in words a person can act on. */
  function uploadErrorText(err, offset, total) {
    const action = err && err.causingError && err.causingError.tusAction;
    const res = err && err.originalResponse;
    const status = action === 'unauthorized' ? 401 : res ? res.getStatus() : 0;
    let detail = '';
    try {
      const body = res ? JSON.parse(res.getBody() || 'null') : null;
      if (body && body.error && body.error.message) detail = body.error.message;
    } catch { /* not JSON */ }
    if (err && err.cancelled) return { text: 'Cancelled.' };
    // Not about a request (the file could not be read, the uploader is missing…).
    if (!action && !(err && err.originalRequest)) return { text: (err && err.message) || 'The upload failed.' };
    if (status === 401) return { text: 'Your session has expired: log in again, then drop the file again to resume.', login: true, resumable: true };
    if (status === 413) return { text: 'Too large: ' + (detail || 'the file is bigger than this server accepts.') };
    if (status === 415) return { text: 'Not a media file: ' + (detail || 'only video, audio and image files can be uploaded.') };
    if (!status) {
      const where = total ? ` at ${pct(offset, total)}%` : '';
      return { text: `The connection was lost${where}: drop the same file again to resume.`, resumable: true };
    }
    return { text: detail || `Upload failed (HTTP ${status}).`, resumable: status >= 500 };
  }

  /**
   * Uploads `file` over tus, resuming an earlier upload of the same file if one is stored.
   * `ui`: {started({upload, cancel()}), resuming(entry), resumed(offset, length), progress(sent, total)}.
   * Resolves with the new item's id.
   */
  function tusUpload(file, ui) {
    return new Promise((resolve, reject) => {
      if (!window.tus || !window.tus.isSupported) {
        reject(new Error('The uploader (tus-js-client) did not load; reload the page.'));
        return;
      }
      let mediaId = null;
      const upload = new window.tus.Upload(file, {
        endpoint: TUS_ENDPOINT,
        chunkSize: CHUNK_SIZE,
        // For failures that may pass (network, 5xx, 409, 423): each retry HEADs the upload and
        // continues from the server's offset.
        retryDelays: [0, 1000, 3000, 5000, 10000],
        metadata: { filename: file.name, title: titleOf(file.name) },
        fingerprint: tusFingerprint,
        storeFingerprintForResuming: true,
        removeFingerprintOnSuccess: true,
        // The token is read for every request: a long upload outlives an access token.
        onBeforeRequest: async (req) => {
          await ensureFresh();
          if (store.access) req.setHeader('Authorization', 'Bearer ' + store.access);
        },
        onAfterResponse: async (req, res) => {
          const status = res.getStatus();
          if (status === 401) {
            // Refreshed: retry with the new token (onShouldRetry). Otherwise the session is
            // over; failing here also keeps tus-js-client from dropping the stored URL.
            const sent = (req.getHeader('Authorization') || '').replace(/^Bearer /, '');
            const e = new Error('unauthorized');
            e.tusAction = sent && (await refreshTokens(sent)) ? 'retry' : 'unauthorized';
            throw e;
          }
          const id = res.getHeader(MEDIA_ID_HEADER);
          if (id) mediaId = id;
          if (req.getMethod() === 'HEAD' && status === 200) {
            ui.resumed(Number(res.getHeader('Upload-Offset')), Number(res.getHeader('Upload-Length')));
          }
        },
        onShouldRetry: (err) => {
          const action = err.causingError && err.causingError.tusAction;
          if (action) return action === 'retry';
          const status = err.originalResponse ? err.originalResponse.getStatus() : 0;
          return (status < 400 || status >= 500 || status === 409 || status === 423) && navigator.onLine !== false;
        },
        onProgress: (sent, total) => ui.progress(sent, total),
        onSuccess: (payload) => {
          const last = payload && payload.lastResponse;
          const id = (last && last.getHeader(MEDIA_ID_HEADER)) || mediaId;
          if (id) resolve(id); else reject(new Error('The upload finished, but the server did not name the new item.'));
        },
        onError: reject,
      });
      // abort() silences tus-js-client, so cancelling settles the promise itself.
      const cancel = () => {
        upload.abort();
        reject(Object.assign(new Error('Upload cancelled'), { cancelled: true }));
      };
      ui.started({ upload, cancel });
      upload.findPreviousUploads().then((previous) => {
        if (previous.length) {
          previous.sort((a, b) => Date.parse(b.creationTime) - Date.parse(a.creationTime));
          upload.resumeFromPreviousUpload(previous[0]);
          ui.resuming(previous[0]);
        }
        upload.start();
      }, reject);
    });
  }

  /** Uploads of this tab, kept across views: the library view shows the list and new items. */
  const uploader = {
    list: null,
    queue: [],
    running: null,
    current: null,
    /** Set by the library view while it shows: {added(item), settled()}. */
    view: null,
    pending() { return this.queue.length + (this.current ? 1 : 0); },
    abortAll() {
      this.queue.length = 0;
      if (this.current && this.current.cancel) this.current.cancel();
    },
  };

  function uploadList() {
    if (!uploader.list) uploader.list = el('ul', { class: 'uploads', 'data-testid': 'upload-list', 'aria-label': 'Uploads' });
    return uploader.list;
  }

  function startUploads(files) {
    for (const file of files) {
      const bar = el('progress', { max: '100', value: 0, 'aria-label': 'Upload progress of ' + file.name });
      const state = el('span', { class: 'small muted', 'data-testid': 'upload-state', text: 'waiting' });
      const note = el('span', { class: 'small muted full', 'data-testid': 'upload-note' });
      const li = el('li', { 'data-testid': 'upload-item', 'data-state': 'waiting' }, el('span', { class: 'name', text: file.name, title: file.name }), state, note, bar);
      uploadList().append(li);
      uploader.queue.push({ file, li, state, note, bar });
    }
    if (!uploader.running) uploader.running = runUploads().finally(() => { uploader.running = null; });
  }

  async function runUploads() {
    while (uploader.queue.length) {
      const job = uploader.queue.shift();
      uploader.current = job;
      try { await runUpload(job); } finally {
        uploader.current = null;
        if (uploader.view) uploader.view.settled();
      }
    }
  }

  async function runUpload(job) {
    const { file, li, state, note, bar } = job;
    const say = (text, cls = 'small muted') => { state.textContent = text; state.className = cls; };
    let offset = 0;
    li.dataset.state = 'uploading';
    say('starting');
    try {
      const id = await tusUpload(file, {
        started({ upload, cancel }) { job.upload = upload; job.cancel = cancel; },
        resuming(entry) {
          say('resuming…');
          for (const row of uploadList().querySelectorAll('[data-testid="unfinished-upload"]')) if (row.dataset.url === entry.uploadUrl) row.remove();
        },
        resumed(at, length) {
          offset = at;
          if (at > 0 && at < length) {
            note.textContent = `Resuming at ${pct(at, length)}%`;
            li.dataset.resumedAt = String(at);
          }
        },
        progress(sent, total) {
          offset = sent;
          bar.value = pct(sent, total);
          say(`${pct(sent, total)}% of ${fmtBytes(total)}`);
        },
      });
      bar.value = 100;
      say('uploaded');
      li.dataset.id = id;
      li.dataset.state = 'done';
      try {
        const item = await api('/v1/media/' + encodeURIComponent(id));
        if (uploader.view) uploader.view.added(item);
      } catch { /* the library's next refresh shows it */ }
      setTimeout(() => li.remove(), 4000);
    } catch (err) {
      const { text, login, resumable } = uploadErrorText(err, offset, file.size);
      say(text, 'small error full');
      // The bar stays only where it says how far a resumable upload got; the others are
      // forgotten (the server has discarded them or never created them).
      if (!resumable) {
        bar.remove();
        const url = job.upload && job.upload.url;
        if (url) for (const entry of await storedUploads(store.me).catch(() => [])) if (entry.uploadUrl === url) await tusStorage().removeUpload(entry.urlStorageKey);
      }
      state.setAttribute('role', 'alert');
      if (login) state.append(' ', el('a', { href: '#/login', text: 'Log in', onclick: () => sessionStorage.setItem('ms.next', '#/') }));
      li.dataset.state = 'failed';
      li.insertBefore(el('button', { type: 'button', class: 'secondary small-button', 'aria-label': 'Dismiss ' + file.name, onclick: () => li.remove() }, 'Dismiss'), state);
    }
  }

  /** Lists the user's unfinished uploads (from an earlier visit) with how far each got, and
   *  forgets those the server no longer has. */
  async function showUnfinished(ctx) {
    const me = await loadMe();
    if (!ctx.alive() || !me) return;
    const list = uploadList();
    for (const row of list.querySelectorAll('[data-testid="unfinished-upload"]')) row.remove();
    const busy = uploader.current && uploader.current.upload ? uploader.current.upload.url : null;
    for (const entry of await storedUploads(me)) {
      if (entry.uploadUrl === busy) continue;
      const name = (entry.metadata && entry.metadata.filename) || 'a file';
      let res = null;
      try { res = await fetch(entry.uploadUrl, { method: 'HEAD', headers: await tusHeaders() }); } catch { /* shown without progress */ }
      if (!ctx.alive()) return;
      const gone = res && res.status === 404;
      const finished = res && res.ok && (res.headers.get(MEDIA_ID_HEADER) || Number(res.headers.get('upload-offset')) >= Number(res.headers.get('upload-length')));
      if (gone || finished) { await tusStorage().removeUpload(entry.urlStorageKey); continue; }
      const at = res && res.ok ? Number(res.headers.get('upload-offset')) : null;
      const size = entry.size || (res && Number(res.headers.get('upload-length'))) || 0;
      const where = at === null ? '' : ` at ${pct(at, size)}% (${fmtBytes(at)} of ${fmtBytes(size)})`;
      const bar = el('progress', { max: '100', value: at === null ? 0 : pct(at, size), 'aria-label': 'Uploaded part of ' + name });
      const li = el('li', { 'data-testid': 'unfinished-upload', 'data-url': entry.uploadUrl },
        el('span', { class: 'name', text: name, title: name }),
        el('button', { type: 'button', class: 'secondary small-button', 'data-testid': 'unfinished-discard', 'aria-label': 'Discard the unfinished upload of ' + name, onclick: async () => {
          try {
            const r = await fetch(entry.uploadUrl, { method: 'DELETE', headers: await tusHeaders() });
            if (!r.ok && r.status !== 404) throw await toError(r);
            await tusStorage().removeUpload(entry.urlStorageKey);
            li.remove();
          } catch (e) { toast('Could not discard: ' + e.message); }
        } }, 'Discard'),
        el('span', { class: 'small muted full', 'data-testid': 'unfinished-state', text: `Interrupted${where}. Drop or choose the same file again to resume.` }),
        bar);
      list.append(li);
    }
  }

  /** On logout: stop this tab's uploads and forget (and delete on the server) the user's
   *  unfinished ones, best effort. */
  async function forgetUploads(me, token) {
    uploader.abortAll();
    if (uploader.list) uploader.list.replaceChildren();
    const entries = await storedUploads(me).catch(() => []);
    await Promise.allSettled(entries.map(async (entry) => {
      await tusStorage().removeUpload(entry.urlStorageKey);
      if (token) await fetch(entry.uploadUrl, { method: 'DELETE', headers: { 'Tus-Resumable': '1.0.0', authorization: 'Bearer ' + token } });
    }));
  }

  // Images of private items without a signed URL are fetched with the token and shown as blobs.
  async function authedBlobUrl(path, ctx) {
    await ensureFresh();
    const res = await fetch(path, { headers: store.access ? { authorization: 'Bearer ' + store.access } : {} });
    if (!res.ok) throw await toError(res);
    const url = URL.createObjectURL(await res.blob());
    ctx.onCleanup(() => URL.revokeObjectURL(url));
    return url;
  }

  /** `/v1/play/{token}/` for an item with signed URLs, else null. */
  const signedBase = (item) => (item.signed && item.signed.hls ? item.signed.hls.replace(/hls\/master\.m3u8$/, '') : null);

  /** Where to load one of an item's files from without an Authorization header: the signed URL, or
   *  the plain one for items that are not private. */
  function loadableUrl(item, plainPath) {
    if (!plainPath) return null;
    const base = signedBase(item);
    const prefix = '/v1/media/' + item.id + '/';
    if (base && plainPath.startsWith(prefix)) return base + plainPath.slice(prefix.length);
    if (item.visibility !== 'private') return plainPath;
    return null;
  }

  function setImage(img, item, plainPath, ctx) {
    const url = loadableUrl(item, plainPath);
    if (url) { img.src = url; return; }
    if (plainPath && store.loggedIn) authedBlobUrl(plainPath, ctx).then((u) => { img.src = u; }).catch(() => img.remove());
  }

  // ---------------------------------------------------------------- routing

  const view = () => $('#view');
  let generation = 0;
  let cleanups = [];

  function makeCtx() {
    const gen = ++generation;
    return {
      alive: () => gen === generation,
      onCleanup: (fn) => cleanups.push(fn),
    };
  }

  const routes = [
    [/^#?\/?$/, viewHome],
    [/^#\/login$/, viewLogin],
    [/^#\/register$/, viewRegister],
    [/^#\/public$/, viewPublic],
    [/^#\/media\/([A-Za-z0-9_-]+)$/, viewMedia],
    [/^#\/share\/([^/?#]+)$/, viewShare],
  ];

  let firstRoute = true;
  async function route() {
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

  function renderNav() {
    const nav = $('#nav');
    const here = location.hash || '#/';
    const link = (href, text, testid) => el('a', { href, text, 'data-testid': testid, 'aria-current': here === href ? 'page' : null });
    if (store.loggedIn) {
      const me = store.me;
      setKids(nav,
        link('#/', 'Library', 'nav-library'),
        link('#/public', 'Public', 'nav-public'),
        me ? el('span', { class: 'who', 'data-testid': 'nav-user', text: me.email }) : null,
        el('button', { type: 'button', class: 'secondary', 'data-testid': 'logout', onclick: logout }, 'Log out'),
      );
    } else {
      setKids(nav,
        link('#/public', 'Public', 'nav-public'),
        link('#/login', 'Log in', 'nav-login'),
        link('#/register', 'Register', 'nav-register'),
      );
    }
  }

  // ---------------------------------------------------------------- auth views

  function authForm(ctx, mode) {
    const isReg = mode === 'register';
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
          if (isReg) await api('/v1/auth/register', { method: 'POST', json: { email: email.value, password: password.value }, auth: false });
          await login(email.value, password.value);
          const next = sessionStorage.getItem('ms.next');
          sessionStorage.removeItem('ms.next');
          location.hash = next && next !== '#/login' && next !== '#/register' ? next : '#/';
        } catch (e2) {
          err.textContent = e2.message;
          submit.disabled = false;
        }
      },
    },
    el('h1', { text: isReg ? 'Create an account' : 'Log in' }),
    el('label', { for: 'email', text: 'Email' }), email,
    el('label', { for: 'password', text: 'Password' }), password,
    isReg ? el('p', { id: 'pw-hint', class: 'muted small', text: 'At least 8 characters.' }) : null,
    err,
    el('div', { class: 'actions' }, submit,
      isReg ? el('a', { href: '#/login', text: 'I have an account' }) : el('a', { href: '#/register', text: 'Create an account' })));
    view().append(form);
    email.focus();
  }

  async function viewLogin(ctx) { authForm(ctx, 'login'); }
  async function viewRegister(ctx) { authForm(ctx, 'register'); }

  // ---------------------------------------------------------------- cards and grids

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
      card.dataset.status = it.status;
      card.dataset.playable = String(!!it.playable);
      title.textContent = it.title || it.filename;
      card.title = it.title || it.filename;
      status.className = 'badge ' + it.status;
      status.textContent = it.status === 'processing' ? `processing ${it.progress}%` : it.status;
      vis.textContent = it.visibility;
      dur.textContent = it.duration_seconds ? fmtTime(it.duration_seconds) : '';
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
    };
  }

  // ---------------------------------------------------------------- home / library

  async function viewHome(ctx) {
    if (!store.loggedIn) {
      view().append(el('section', { class: 'panel' },
        el('h1', { text: 'Your own media server' }),
        el('p', { text: 'Upload video, audio and images; they are transcoded into adaptive HLS and DASH streams you can watch here or in any player.' }),
        el('div', { class: 'row' }, el('a', { class: 'button', href: '#/register', text: 'Create an account' }), el('a', { class: 'button secondary', href: '#/login', text: 'Log in' }))));
      await publicGrid(ctx, 'h2');
      return;
    }
    loadMe().then(() => ctx.alive() && renderNav());

    const input = el('input', { type: 'file', multiple: true, accept: 'video/*,audio/*,image/*', 'data-testid': 'file-input', onchange: (e) => { startUploads([...e.target.files]); e.target.value = ''; } });
    const drop = el('div', { class: 'dropzone', 'data-testid': 'dropzone' },
      el('p', {}, el('strong', { text: 'Drop video, audio or image files here' }), el('br'), 'or ',
        el('label', { class: 'file-pick' }, input, 'choose files')),
      el('p', { class: 'small', text: 'Videos become playable while they are still being processed. An interrupted upload continues where it stopped when you drop the same file again.' }));
    for (const ev of ['dragenter', 'dragover']) drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add('over'); });
    for (const ev of ['dragleave', 'drop']) drop.addEventListener(ev, (e) => { e.preventDefault(); if (ev === 'drop' || !drop.contains(e.relatedTarget)) drop.classList.remove('over'); });
    drop.addEventListener('drop', (e) => startUploads([...(e.dataTransfer ? e.dataTransfer.files : [])]));
    // Dropping a file anywhere else must not navigate away from the app.
    const swallow = (e) => { if (e.dataTransfer && [...e.dataTransfer.types].includes('Files')) e.preventDefault(); };
    window.addEventListener('dragover', swallow);
    window.addEventListener('drop', swallow);
    ctx.onCleanup(() => { window.removeEventListener('dragover', swallow); window.removeEventListener('drop', swallow); });

    const grid = makeGrid(ctx, 'media-grid', 'Nothing here yet: upload something.');
    const more = el('button', { type: 'button', class: 'secondary', hidden: true, 'data-testid': 'load-more', onclick: () => loadPage(true) }, 'Load more');
    const listErr = el('p', { class: 'error', role: 'alert' });
    view().append(
      el('h1', { text: 'Library' }),
      el('section', { 'aria-label': 'Upload' }, drop, uploadList()),
      el('h2', { text: 'Your media' }), listErr, grid.root, el('div', { class: 'row' }, more));

    let items = [];
    let cursor = null;
    async function loadPage(next) {
      const q = next ? `?limit=24&cursor=${encodeURIComponent(cursor)}` : `?limit=${Math.min(100, Math.max(24, items.length))}`;
      const page = await api('/v1/media' + q);
      if (!ctx.alive()) return;
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
      more.hidden = !cursor;
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

  async function viewPublic(ctx) { await publicGrid(ctx, 'h1'); }

  // ---------------------------------------------------------------- players

  /** hls.js on `media`. Calls `events.levels()` when the level list is known and `events.change()`
   *  when the playing level changes. */
  function createHls(media, url, events) {
    const errors = [];
    if (!window.Hls || !window.Hls.isSupported()) {
      if (media.canPlayType('application/vnd.apple.mpegurl')) {
        // Safari on iOS: native HLS, no level control.
        media.src = url;
        media.addEventListener('error', () => errors.push({ engine: 'hls', type: 'media', details: 'native playback error' }));
        return { engine: 'hls', errors, levels: () => [], setLevel() {}, currentLevel: () => -1, auto: () => true, destroy() { media.removeAttribute('src'); media.load(); } };
      }
      throw new Error('This browser cannot play HLS (no Media Source Extensions).');
    }
    const Hls = window.Hls;
    // startPosition 0: a playlist still growing while the item encodes is an EVENT playlist, which
    // hls.js would otherwise join at its live edge.
    const hls = new Hls({ enableWorker: true, backBufferLength: 90, startPosition: 0 });
    let recovered = false;
    hls.on(Hls.Events.ERROR, (_ev, data) => {
      if (!data.fatal) return;
      const e = { engine: 'hls', type: data.type, details: data.details, status: data.response ? data.response.code : undefined };
      errors.push(e);
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR && !recovered) { recovered = true; hls.recoverMediaError(); return; }
      events.error(e);
    });
    hls.on(Hls.Events.MANIFEST_PARSED, () => events.levels());
    hls.on(Hls.Events.LEVEL_SWITCHED, () => events.change());
    hls.loadSource(url);
    hls.attachMedia(media);
    return {
      engine: 'hls',
      errors,
      hls,
      levels: () => hls.levels.map((l, i) => ({ index: i, width: l.width, height: l.height, bitrate: l.bitrate, name: l.name })),
      setLevel: (i) => { hls.currentLevel = i; },
      currentLevel: () => hls.currentLevel,
      auto: () => hls.autoLevelEnabled,
      destroy: () => hls.destroy(),
    };
  }

  /** dash.js on `media` (same interface as createHls). */
  function createDash(media, url, events, type) {
    if (!window.dashjs) throw new Error('dash.js did not load.');
    const dashjs = window.dashjs;
    const errors = [];
    const p = dashjs.MediaPlayer().create();
    const E = dashjs.MediaPlayer.events;
    p.updateSettings({
      debug: { logLevel: dashjs.Debug.LOG_LEVEL_WARNING },
      streaming: { abr: { autoSwitchBitrate: { video: true, audio: true } } },
    });
    const onError = (ev) => {
      const err = ev.error || {};
      const e = { engine: 'dash', type: ev.type, code: err.code, details: err.message || String(err), status: err.data && err.data.request ? err.data.request.status : undefined };
      errors.push(e);
      events.error(e);
    };
    p.on(E.ERROR, onError);
    p.on(E.PLAYBACK_ERROR, onError);
    p.on(E.STREAM_INITIALIZED, () => events.levels());
    p.on(E.QUALITY_CHANGE_RENDERED, (ev) => { if (ev.mediaType === type) events.change(); });
    p.initialize(media, url, false);
    const reps = () => { try { return p.getRepresentationsByType(type) || []; } catch { return []; } };
    let auto = true;
    return {
      engine: 'dash',
      errors,
      dash: p,
      levels: () => reps().map((r, i) => ({ index: i, id: r.id, width: r.width, height: r.height, bitrate: r.bandwidth })),
      setLevel: (i) => {
        auto = i < 0;
        p.updateSettings({ streaming: { abr: { autoSwitchBitrate: { [type]: auto } } } });
        if (!auto) { const r = reps()[i]; if (r) p.setRepresentationForTypeById(type, r.id, true); }
      },
      currentLevel: () => {
        let cur = null;
        try { cur = p.getCurrentRepresentationForType(type); } catch { return -1; }
        return cur ? reps().findIndex((r) => r.id === cur.id) : -1;
      },
      auto: () => auto,
      destroy: () => p.reset(),
    };
  }

  /** Storyboard cues from a WebVTT file: [{start, end, url, x, y, w, h}]. */
  async function loadStoryboard(vttUrl) {
    const res = await fetch(vttUrl);
    if (!res.ok) return [];
    const text = await res.text();
    const ts = (s) => {
      const p = s.trim().split(':').map(Number);
      return p.length === 3 ? p[0] * 3600 + p[1] * 60 + p[2] : p[0] * 60 + p[1];
    };
    const cues = [];
    for (const block of text.replace(/\r/g, '').split(/\n\n+/)) {
      const lines = block.split('\n');
      const i = lines.findIndex((l) => l.includes('-->'));
      if (i < 0 || !lines[i + 1]) continue;
      const [a, b] = lines[i].split('-->');
      const target = lines[i + 1].trim();
      const m = target.match(/^(.*)#xywh=(\d+),(\d+),(\d+),(\d+)$/);
      if (!m) continue;
      cues.push({ start: ts(a), end: ts(b.split(' ').filter(Boolean)[0]), url: new URL(m[1], new URL(vttUrl, location.href)).href, x: +m[2], y: +m[3], w: +m[4], h: +m[5] });
    }
    return cues;
  }

  /**
   * The player: a media element, an HLS/DASH switch, a quality selector and a timeline with
   * storyboard previews. `src` = {hls, dash, poster, storyboard, dashReady, kind, duration, title}.
   * Returns {update(src), destroy()}.
   */
  function makePlayer(ctx, src) {
    const isAudio = src.kind === 'audio';
    const media = isAudio
      ? el('audio', { controls: true, preload: 'metadata', 'data-testid': 'video', 'aria-label': 'Audio player: ' + src.title })
      : el('video', { controls: true, playsinline: true, preload: 'metadata', 'data-testid': 'video', 'aria-label': 'Video player: ' + src.title });
    if (src.poster && !isAudio) media.poster = src.poster;
    const stage = el('div', { class: 'stage', 'data-testid': 'stage' }, isAudio ? el('div', { class: 'audio-art', 'aria-hidden': 'true', text: '♪' }) : null, media);

    // engine switch
    const radio = (value, label) => {
      const id = 'engine-' + value;
      return [el('input', { type: 'radio', name: 'engine', id, value, 'data-testid': id, checked: value === 'hls' }), el('label', { for: id, text: label })];
    };
    const engineSet = el('fieldset', { class: 'seg-wrap' }, el('legend', { text: 'Stream' }), el('div', { class: 'seg' }, radio('hls', 'HLS'), radio('dash', 'DASH')));
    const dashRadio = $('input[value="dash"]', engineSet);
    const quality = el('select', { id: 'quality', 'data-testid': 'quality-select' }, el('option', { value: '-1', text: 'Auto' }));
    const current = el('span', { class: 'player-status', 'data-testid': 'current-level', 'aria-live': 'polite' });
    const status = el('p', { class: 'player-status', 'data-testid': 'player-error', role: 'status' });
    const controls = el('div', { class: 'controls' }, engineSet,
      el('div', {}, el('label', { for: 'quality', text: 'Quality' }), quality), current);

    // timeline with storyboard previews
    const seek = el('input', { type: 'range', min: '0', max: '1', step: '0.1', value: 0, 'data-testid': 'seek', 'aria-label': 'Seek' });
    const tNow = el('span', { text: '0:00' }), tEnd = el('span', { text: fmtTime(src.duration) });
    const preview = el('div', { class: 'preview hidden', 'data-testid': 'storyboard-preview', 'aria-hidden': 'true' }, el('span'));
    const scrub = el('div', { class: 'scrub' }, preview, seek, el('div', { class: 'times' }, tNow, tEnd));
    const note = el('p', { class: 'player-status', 'data-testid': 'processing-note', text: 'Still processing: the stream grows as it is encoded; DASH appears when it is done.' });
    const root = el('div', { class: 'player' }, stage, scrub, controls, status, note);

    let cues = [];
    let storyboardUrl = null;
    const duration = () => (Number.isFinite(media.duration) && media.duration > 0 ? media.duration : src.duration || 0);
    function showPreview(t, px) {
      const cue = cues.find((c) => t >= c.start && t < c.end) || (cues.length && t >= cues[cues.length - 1].start ? cues[cues.length - 1] : null);
      if (!cue) { preview.classList.add('hidden'); return; }
      // Tiles larger than 180 px (portrait video) are scaled down, which needs the sprite's size.
      const sprite = spriteSizes.get(cue.url);
      const scale = sprite ? Math.min(1, 180 / Math.max(cue.w, cue.h)) : 1;
      preview.style.width = cue.w * scale + 'px';
      preview.style.height = cue.h * scale + 'px';
      preview.style.backgroundImage = `url("${cue.url}")`;
      preview.style.backgroundPosition = `${-cue.x * scale}px ${-cue.y * scale}px`;
      preview.style.backgroundSize = sprite ? `${sprite.w * scale}px ${sprite.h * scale}px` : '';
      const half = (cue.w * scale) / 2;
      const x = Math.max(half, Math.min(scrub.clientWidth - half, px));
      preview.style.left = x + 'px';
      preview.firstChild.textContent = fmtTime(t);
      preview.classList.remove('hidden');
    }
    const spriteSizes = new Map();
    async function setStoryboard(url) {
      // Signed URLs differ on every poll; the first one is kept.
      if (!url || storyboardUrl) return;
      storyboardUrl = url;
      try {
        cues = await loadStoryboard(url);
        scrub.dataset.storyboard = String(cues.length);
        for (const u of new Set(cues.map((c) => c.url))) {
          const im = new Image();
          im.onload = () => spriteSizes.set(u, { w: im.naturalWidth, h: im.naturalHeight });
          im.src = u;
        }
      } catch { cues = []; }
    }
    const pointerTime = (e) => {
      const r = seek.getBoundingClientRect();
      const f = Math.max(0, Math.min(1, (e.clientX - r.left) / r.width));
      return { t: f * duration(), px: e.clientX - scrub.getBoundingClientRect().left };
    };
    seek.addEventListener('pointermove', (e) => { if (cues.length) { const { t, px } = pointerTime(e); showPreview(t, px); } });
    seek.addEventListener('pointerleave', () => preview.classList.add('hidden'));
    let dragging = false;
    seek.addEventListener('pointerdown', () => { dragging = true; });
    seek.addEventListener('input', () => {
      dragging = true;
      tNow.textContent = fmtTime(+seek.value);
    });
    seek.addEventListener('change', () => {
      media.currentTime = +seek.value;
      dragging = false;
      preview.classList.add('hidden');
    });
    const syncTime = () => {
      const d = duration();
      seek.max = String(d || 1);
      tEnd.textContent = fmtTime(d);
      if (!dragging) { seek.value = String(media.currentTime); tNow.textContent = fmtTime(media.currentTime); }
    };
    media.addEventListener('timeupdate', syncTime);
    media.addEventListener('durationchange', syncTime);

    // engines
    let player = null;
    const mediaType = isAudio ? 'audio' : 'video';
    const levelLabel = (l) => (l.height ? `${l.height}p · ${kbps(l.bitrate)}` : kbps(l.bitrate));
    const events = {
      levels() {
        if (!player) return;
        if (!status.classList.contains('error')) status.textContent = '';
        const ls = player.levels();
        quality.replaceChildren(el('option', { value: '-1', text: 'Auto' }), ...ls.map((l) => el('option', { value: String(l.index), text: levelLabel(l) })));
        quality.value = player.auto() ? '-1' : String(player.currentLevel());
        events.change();
      },
      change() {
        if (!player) return;
        const i = player.currentLevel();
        const l = player.levels()[i];
        current.textContent = l ? `Playing ${levelLabel(l)}${player.auto() ? ' (auto)' : ''}` : '';
        current.dataset.level = String(i);
      },
      error(e) {
        if (e.status === 404 && retries < 60) {
          // Not published yet (an item that just became playable, or DASH before `ready`): retry.
          retries++;
          status.className = 'player-status';
          status.textContent = 'Waiting for the stream…';
          clearTimeout(retryTimer);
          const engine = current.dataset.engine;
          retryTimer = setTimeout(() => start(engine, media.currentTime, !media.paused, true), 3000);
          return;
        }
        status.className = 'player-status error';
        status.textContent = e.status === 401 || e.status === 403
          ? 'This playback link is invalid or has expired.'
          : e.status === 404 ? 'This stream is not available.' : `Playback error (${e.engine}: ${e.details || e.type}).`;
      },
    };

    let retries = 0;
    let retryTimer = null;
    function start(engine, resumeAt, resume, isRetry) {
      clearTimeout(retryTimer);
      if (!isRetry) retries = 0;
      if (player) { try { player.destroy(); } catch (e) { console.warn(e); } player = null; }
      current.dataset.engine = engine;
      if (!isRetry) status.textContent = '';
      status.className = 'player-status';
      current.textContent = '';
      quality.replaceChildren(el('option', { value: '-1', text: 'Auto' }));
      try {
        player = engine === 'dash' ? createDash(media, src.dash, events, mediaType) : createHls(media, src.hls, events);
      } catch (e) {
        events.error({ engine, details: e.message });
        window.__player = { engine, errors: [{ engine, details: e.message }], levels: () => [], setLevel() {}, currentLevel: () => -1 };
        return;
      }
      const p = player;
      window.__player = {
        engine: p.engine,
        errors: p.errors,
        levels: () => p.levels(),
        setLevel: (i) => { p.setLevel(i); quality.value = String(i); events.change(); },
        currentLevel: () => p.currentLevel(),
        auto: () => p.auto(),
      };
      if (resumeAt > 0) {
        media.addEventListener('loadedmetadata', () => { media.currentTime = resumeAt; if (resume) media.play().catch(() => {}); }, { once: true });
      }
    }

    engineSet.addEventListener('change', (e) => {
      const at = media.currentTime, wasPlaying = !media.paused;
      start(e.target.value, at, wasPlaying);
    });
    quality.addEventListener('change', () => { if (player) { player.setLevel(Number(quality.value)); events.change(); } });

    function update(next) {
      const becameReady = next.dashReady && !src.dashReady;
      for (const [k, v] of Object.entries(next)) if (v !== undefined && v !== null) src[k] = v;
      // Everything is published now: a player still waiting for (or failed on) a missing file
      // tries again at once.
      if (becameReady && player && player.errors.length) start(current.dataset.engine, media.currentTime, !media.paused);
      dashRadio.disabled = !src.dashReady;
      note.hidden = !!src.dashReady;
      $('label[for="engine-dash"]', engineSet).title = src.dashReady ? '' : 'DASH is published when processing finishes';
      if (src.storyboard) setStoryboard(src.storyboard);
      syncTime();
    }
    update({});
    start('hls', 0, false);
    ctx.onCleanup(() => { clearTimeout(retryTimer); if (player) player.destroy(); player = null; window.__player = null; });
    return { root, update };
  }

  // ---------------------------------------------------------------- media page

  async function viewMedia(ctx, id) {
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
          stageBox.replaceChildren(el('div', { class: 'stage' }, el('div', { class: 'waiting' }, el('strong', { text: 'Processing failed' }), el('span', { class: 'small', text: item.error || '' }))));
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
      };
      if (!item.playable || !sources.hls) return renderWaiting();
      if (shown !== 'player') {
        player = makePlayer(ctx, sources);
        stageBox.replaceChildren(player.root);
        shown = 'player';
      } else {
        // Keep the URLs the player started with; only availability changes.
        player.update({ dashReady: sources.dashReady, storyboard: sources.storyboard, duration: sources.duration });
      }
    }
    function renderWaiting() {
      if (shown !== 'wait') {
        waiting = { text: el('span', { 'data-testid': 'waiting-text' }), bar: el('progress', { max: '100', 'aria-label': 'Processing progress' }) };
        stageBox.replaceChildren(el('div', { class: 'stage' }, el('div', { class: 'waiting' }, waiting.text, waiting.bar)));
        shown = 'wait';
      }
      waiting.text.textContent = item.status === 'processing' ? `Processing… ${item.progress}%` : item.status === 'ready' ? 'Nothing to play.' : `Waiting to be processed (${item.status})`;
      waiting.bar.value = item.progress || 0;
    }

    function renderInfo() {
      titleH.textContent = item.title || item.filename;
      document.title = (item.title || item.filename) + ' · mediaserver';
      setKids(badges,
        el('span', { class: 'badge ' + item.status, 'data-testid': 'player-status', text: item.status === 'processing' ? `processing ${item.progress}%` : item.status }),
        el('span', { class: 'badge vis', text: item.visibility }),
        el('span', { text: item.kind }),
        item.duration_seconds ? el('span', { text: fmtTime(item.duration_seconds) }) : null,
        item.width && item.height ? el('span', { text: `${item.width}×${item.height}` }) : null);
      const rows = [
        ['File', item.filename], ['Size', fmtBytes(item.size)], ['Uploaded', fmtDate(item.created_at)],
        ['Renditions', (item.renditions || []).map((r) => `${r.height ? r.height + 'p' : r.name} (${kbps(r.bandwidth)})`).join(', ') || '—'],
      ];
      if (item.error) rows.push(['Error', item.error]);
      details.replaceChildren(...rows.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })]));
    }

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
          renderShare();
        } catch (e) { toast(e.message); vis.value = item.visibility; } finally { vis.disabled = false; }
      });

      const titleInput = el('input', { id: 'title-input', type: 'text', value: item.title, maxlength: '500', 'data-testid': 'title-input' });
      const titleForm = el('form', { class: 'title-edit', onsubmit: async (e) => {
        e.preventDefault();
        try {
          item = Object.assign(item, await api('/v1/media/' + item.id, { method: 'PATCH', json: { title: titleInput.value } }));
          renderInfo();
          toast('Renamed');
        } catch (e2) { toast(e2.message); }
      } }, el('label', { for: 'title-input', text: 'Title' }), el('div', { class: 'copy' }, titleInput, el('button', { type: 'submit', class: 'secondary' }, 'Save')));

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
    }

    // ---- sharing
    const share = el('section', { class: 'panel', 'data-testid': 'share-panel', 'aria-label': 'Share' });
    side.append(share);
    let lastToken = null;
    function renderShare() {
      const kids = [el('h2', { text: 'Share' })];
      if (item.visibility !== 'private') {
        kids.push(...copyField('Page link', absolute('#/media/' + item.id), 'permalink'));
        if (item.playback) {
          kids.push(...copyField('HLS', absolute(item.playback.hls), 'public-hls-url'));
          if (item.status === 'ready') kids.push(...copyField('DASH', absolute(item.playback.dash), 'public-dash-url'));
        }
      }
      if (canManage && item.kind !== 'image' && (item.playable || item.status === 'ready')) {
        const ttl = el('select', { id: 'share-ttl', 'data-testid': 'share-ttl' },
          el('option', { value: '3600', text: '1 hour' }), el('option', { value: '86400', text: '1 day' }), el('option', { value: '604800', text: '7 days' }));
        const out = el('div', { class: 'share-out', 'data-testid': 'share-out' });
        const showToken = (t) => {
          out.replaceChildren(
            ...copyField('Player link', absolute('#/share/' + encodeURIComponent(t.token)), 'share-page-url'),
            ...copyField('HLS URL', absolute(t.hls), 'share-hls-url'),
            ...copyField('DASH URL', absolute(t.dash), 'share-dash-url'),
            el('p', { class: 'small muted', text: 'Expires ' + fmtDate(t.expires_at) + '. Anyone with these links can watch until then.' }));
        };
        const make = el('button', { type: 'button', 'data-testid': 'share-create', onclick: async () => {
          make.disabled = true;
          try {
            lastToken = await api(`/v1/media/${item.id}/playback-token`, { method: 'POST', json: { ttl_seconds: Number(ttl.value) } });
            showToken(lastToken);
          } catch (e) { out.replaceChildren(el('p', { class: 'error', role: 'alert', text: e.message })); } finally { make.disabled = false; }
        } }, 'Create playback link');
        kids.push(el('p', { class: 'small muted', text: item.visibility === 'private' ? 'A signed link plays this private item without logging in, until it expires.' : 'Or a signed link that expires:' }),
          el('div', { class: 'row' }, el('label', { for: 'share-ttl', class: 'small', text: 'Valid for' }), ttl, make), out);
        if (lastToken) showToken(lastToken);
      } else if (item.visibility === 'private') {
        kids.push(el('p', { class: 'small muted', text: item.kind === 'image' ? 'Make the image unlisted or public to share it.' : 'Links can be made once the item is playable.' }));
      }
      share.replaceChildren(...kids);
    }

    let timer = null;
    let wasShareable = null;
    function render() {
      renderInfo();
      renderStage();
      const shareable = `${item.visibility}/${item.playable}/${item.status}`;
      if (shareable !== wasShareable) { wasShareable = shareable; renderShare(); }
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

  // ---------------------------------------------------------------- shared link (no login)

  async function viewShare(ctx, token) {
    const base = '/v1/play/' + encodeURIComponent(token) + '/';
    const player = makePlayer(ctx, {
      hls: base + 'hls/master.m3u8',
      dash: base + 'dash/manifest.mpd',
      poster: base + 'thumbnail.jpg',
      storyboard: base + 'storyboard.vtt',
      // Unknown without the item; a DASH manifest that is not there yet reports itself.
      dashReady: true,
      kind: 'video',
      duration: 0,
      title: 'shared media',
    });
    view().append(el('div', { class: 'watch single', 'data-testid': 'share-page' },
      el('section', { class: 'primary', 'aria-label': 'Player' }, player.root,
        el('h1', { text: 'Shared media' }),
        el('p', { class: 'small muted', text: 'Played through a signed link; it stops working when the link expires.' }))));
  }

  // ---------------------------------------------------------------- start

  window.addEventListener('hashchange', route);
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', route); else route();
  // Used by tests and handy in the console.
  window.__ms = { store, api, sleep };
})();
