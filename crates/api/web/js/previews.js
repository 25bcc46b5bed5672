// Animated previews in the library grid: resting the pointer on a ready video's card (or focusing
// it) lays a short looping animated WebP over its poster (`animated.webp`, made by the server on
// first request and cached there); leaving takes it away. Loaded once per card, as the poster is
// (signed URL, public URL, or with the login for a private item).

import { el } from './dom.js';
import { setImage } from './items.js';

/** Hover intent: a pointer passing over the grid starts no renders. */
const DELAY_MS = 250;
/** What the grid asks for: the server's default length (3 s) from a tenth in, like the poster. */
const WIDTH = 320;

/** The preview's path for `item`, or null when it has none (not a ready video). */
export function previewPath(item) {
  if (!item || item.kind !== 'video' || item.status !== 'ready' || !(item.duration_seconds > 0)) return null;
  const start = Math.floor(item.duration_seconds * 0.1 * 10) / 10;
  return `/v1/media/${item.id}/animated.webp?width=${WIDTH}&start=${start}`;
}

/** Shows `card.item`'s preview over `thumb` while the card is hovered or focused. */
export function attachPreview(card, thumb, ctx) {
  let img = null;
  let timer = 0;
  const show = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const path = previewPath(card.item);
      if (!path) return;
      if (!img) {
        img = el('img', { alt: '', class: 'preview', 'data-testid': 'media-preview', decoding: 'async' });
        img.hidden = true;
        img.addEventListener('load', () => { img.dataset.loaded = 'true'; img.hidden = !card.matches(':hover, :focus-within'); });
        thumb.append(img);
        setImage(img, card.item, path, ctx);
      } else if (img.dataset.loaded) {
        img.hidden = false;
      }
    }, DELAY_MS);
  };
  const hide = () => {
    clearTimeout(timer);
    if (img) img.hidden = true;
  };
  card.addEventListener('pointerenter', show);
  card.addEventListener('focus', show);
  card.addEventListener('pointerleave', hide);
  card.addEventListener('blur', hide);
}
