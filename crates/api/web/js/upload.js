// Uploads (tus, resumable), the list that shows them and the drop zone that starts them.
//
// Files go up with tus-js-client (vendored) to /v1/uploads/ in chunks the server stores and
// acknowledges one by one. tus-js-client keeps each unfinished upload's URL in localStorage
// under a fingerprint of the file, so the same file dropped again, even after a reload or a
// crash, continues from the offset the server reports instead of starting over. Uploads run
// one at a time and carry on while the user browses other pages of the app.

import { api, ensureFresh, loadMe, refreshTokens, store, toError } from './api.js';
import { el, toast } from './dom.js';
import { duplicateAfter, duplicateBefore } from './duplicates.js';
import { fmtBytes } from './format.js';

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
export const uploader = {
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

export function uploadList() {
  if (!uploader.list) uploader.list = el('ul', { class: 'uploads', 'data-testid': 'upload-list', 'aria-label': 'Uploads' });
  return uploader.list;
}

function startUploads(files, { allowDuplicate = false } = {}) {
  for (const file of files) {
    const bar = el('progress', { max: '100', value: 0, 'aria-label': 'Upload progress of ' + file.name });
    const state = el('span', { class: 'small muted', 'data-testid': 'upload-state', text: 'waiting' });
    const note = el('span', { class: 'small muted full', 'data-testid': 'upload-note' });
    const li = el('li', { 'data-testid': 'upload-item', 'data-state': 'waiting' }, el('span', { class: 'name', text: file.name, title: file.name }), state, note, bar);
    uploadList().append(li);
    uploader.queue.push({ file, li, state, note, bar, allowDuplicate });
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
  if (await duplicateBefore(job, () => startUploads([file], { allowDuplicate: true }))) return;
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
    let item = null;
    try {
      item = await api('/v1/media/' + encodeURIComponent(id));
      if (uploader.view) uploader.view.added(item);
    } catch { /* the library's next refresh shows it */ }
    if (!(await duplicateAfter(job, item))) setTimeout(() => li.remove(), 4000);
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
export async function showUnfinished(ctx) {
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
export async function forgetUploads(me, token) {
  uploader.abortAll();
  if (uploader.list) uploader.list.replaceChildren();
  const entries = await storedUploads(me).catch(() => []);
  await Promise.allSettled(entries.map(async (entry) => {
    await tusStorage().removeUpload(entry.urlStorageKey);
    if (token) await fetch(entry.uploadUrl, { method: 'DELETE', headers: { 'Tus-Resumable': '1.0.0', authorization: 'Bearer ' + token } });
  }));
}

/** The drop zone and file picker of the library view; files dropped or chosen start uploading.
 *  While it shows, a file dropped elsewhere on the page is ignored. */
export function makeDropzone(ctx) {
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
  return drop;
}
