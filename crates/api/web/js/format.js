// Numbers and dates as the page shows them.

export function fmtTime(s) {
  if (!Number.isFinite(s) || s < 0) s = 0;
  s = Math.floor(s);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const mm = h ? String(m).padStart(2, '0') : String(m);
  return (h ? h + ':' : '') + mm + ':' + String(sec).padStart(2, '0');
}

/** A length of time (an item's duration, a player's total): rounded to the nearest second, so
 *  the card's badge, the item's details and the player's total agree (14.6 s is 0:15 in all). */
export const fmtDuration = (s) => fmtTime(Math.round(Number.isFinite(s) ? s : 0));

export function fmtBytes(n) {
  if (!Number.isFinite(n)) return '';
  const u = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return (i ? n.toFixed(n < 10 ? 1 : 0) : n) + ' ' + u[i];
}

export const fmtDate = (iso) => { try { return new Date(iso).toLocaleString(); } catch { return iso; } };
export const kbps = (bps) => Math.round(bps / 1000) + ' kbps';
