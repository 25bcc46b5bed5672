// "Is this file already in my library?" — the same SHA-256 and size as one of your items.
//
// A file up to HASH_LIMIT is hashed here (WebCrypto, the whole file read into memory: about a
// second per few hundred MB) before any byte is sent; on a match the upload waits for you: open
// the item you have, or upload anyway. A bigger file — or any file where WebCrypto is missing
// (a page not served from localhost or over HTTPS) — is checked after its upload instead, from
// the SHA-256 the server recorded (GET /v1/media?sha256=), and the new copy can be deleted.

import { api } from './api.js';
import { el, toast } from './dom.js';

export const HASH_LIMIT = 256 * 1024 * 1024;

async function sha256Hex(file) {
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The caller's items with this content, other than `exceptId`. */
async function sameFile(sha256, size, exceptId) {
  // 'optional': a session that is over fails this check quietly, and the upload reports it.
  const page = await api('/v1/media?limit=10&sha256=' + sha256, { auth: 'optional' });
  return page.items.filter((i) => i.size === size && i.id !== exceptId);
}

const button = (testid, text, onclick) => el('button', { type: 'button', class: 'secondary small-button', 'data-testid': testid, onclick }, text);

/** Shows in the upload's row that it is a copy of `existing`, with `actions`. */
function offer(job, existing, what, actions) {
  const { li, state, note } = job;
  li.dataset.state = 'duplicate';
  li.dataset.duplicateOf = existing.id;
  state.textContent = what;
  state.className = 'small';
  state.setAttribute('role', 'status');
  note.replaceChildren('The same file as ',
    el('a', { href: '#/media/' + existing.id, 'data-testid': 'duplicate-open', text: `“${existing.title || existing.filename}”` }),
    ' (same SHA-256 and size). ', ...actions);
}

/** Before uploading `job.file`: true if it is already one of the caller's items, and the row
 *  now offers to open that one or to upload anyway (`uploadAnyway()` queues it again). */
export async function duplicateBefore(job, uploadAnyway) {
  if (job.allowDuplicate || job.file.size > HASH_LIMIT || !(globalThis.crypto && crypto.subtle)) return false;
  job.state.textContent = 'checking for a copy…';
  let found;
  try {
    found = await sameFile(await sha256Hex(job.file), job.file.size);
  } catch {
    return false; // unreadable here or the list failed: the upload decides
  }
  job.hashed = true;
  if (!found.length) return false;
  job.bar.remove();
  offer(job, found[0], 'already in your library', [
    button('duplicate-upload', 'Upload anyway', () => { job.li.remove(); uploadAnyway(); }),
    button('duplicate-dismiss', 'Dismiss', () => job.li.remove()),
  ]);
  return true;
}

/** After an upload that was not checked before: true if the new `item` is a copy of another of
 *  the caller's items, and the row now offers to open that one or to delete the new copy. */
export async function duplicateAfter(job, item) {
  if (job.allowDuplicate || job.hashed || !item || !item.sha256) return false;
  let found;
  try { found = await sameFile(item.sha256, item.size, item.id); } catch { return false; }
  if (!found.length) return false;
  offer(job, found[0], 'uploaded, but already in your library', [
    button('duplicate-delete', 'Delete this copy', async () => {
      try {
        await api('/v1/media/' + item.id, { method: 'DELETE' });
        job.li.remove();
        toast('Deleted the copy');
      } catch (e) { toast(e.message); }
    }),
    button('duplicate-dismiss', 'Keep both', () => job.li.remove()),
  ]);
  return true;
}
