// A media item as the views use it: whether it is still being worked on, and where its files
// (thumbnails, storyboards, images) load from.

import { ensureFresh, store, toError } from './api.js';

/** Still uploading or processing: the views keep polling. */
export const isActive = (status) => status === 'uploaded' || status === 'queued' || status === 'processing';

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
export function loadableUrl(item, plainPath) {
  if (!plainPath) return null;
  const base = signedBase(item);
  const prefix = '/v1/media/' + item.id + '/';
  if (base && plainPath.startsWith(prefix)) return base + plainPath.slice(prefix.length);
  if (item.visibility !== 'private') return plainPath;
  return null;
}

export function setImage(img, item, plainPath, ctx) {
  const url = loadableUrl(item, plainPath);
  if (url) { img.src = url; return; }
  if (plainPath && store.loggedIn) authedBlobUrl(plainPath, ctx).then((u) => { img.src = u; }).catch(() => img.remove());
}

/** An item's status in words: its progress while processing, its place in the queue while queued
 *  (`queue_position`: jobs a worker takes first). */
export function statusText(it) {
  if (it.status === 'processing') return `processing ${it.progress}%`;
  if (it.status === 'queued' && Number.isInteger(it.queue_position)) return `queued (${it.queue_position} ahead)`;
  return it.status;
}
