// An item's viewing report for its owner (GET /v1/media/{id}/analytics): views, unique viewers,
// watch time, time to first frame, rebuffering, errors, watch time per rendition, and a small
// chart of each day (plain SVG, no library).

import { api } from './api.js';
import { el } from './dom.js';
import { fmtTime } from './format.js';

const SVG = 'http://www.w3.org/2000/svg';

/** An SVG element (attributes only: the page's CSP allows no inline styles). */
function svg(tag, attrs, ...kids) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  e.append(...kids);
  return e;
}

/** Bars of watch time per day, the day's views and watch time as each bar's tooltip. */
function chart(days) {
  const W = 300, H = 90, pad = 14;
  const max = Math.max(1, ...days.map((d) => d.watch_seconds));
  const step = (W - 2) / Math.max(1, days.length);
  const bars = days.map((d, i) => {
    const h = d.watch_seconds > 0 ? Math.max(2, ((H - pad - 4) * d.watch_seconds) / max) : 0;
    return svg('rect', { x: (1 + i * step).toFixed(2), y: (H - pad - h).toFixed(2), width: Math.max(1, step - 1).toFixed(2), height: h.toFixed(2), fill: 'currentColor', 'data-date': d.date },
      svg('title', {}, `${d.date}: ${d.views} view${d.views === 1 ? '' : 's'}, ${fmtTime(d.watch_seconds)} watched`));
  });
  const first = days[0], last = days[days.length - 1];
  return svg('svg', { viewBox: `0 0 ${W} ${H}`, width: '100%', role: 'img', 'aria-label': 'Watch time per day', 'data-testid': 'analytics-chart' },
    svg('line', { x1: 0, y1: H - pad, x2: W, y2: H - pad, stroke: 'currentColor', 'stroke-opacity': '0.4' }),
    ...bars,
    first ? svg('text', { x: 0, y: H - 2, 'font-size': 9, fill: 'currentColor' }, first.date) : '',
    last ? svg('text', { x: W, y: H - 2, 'font-size': 9, 'text-anchor': 'end', fill: 'currentColor' }, last.date) : '');
}

/** The panel for item `id`; it loads itself. */
export function makeAnalyticsPanel(ctx, id) {
  const range = el('select', { id: 'analytics-range', 'data-testid': 'analytics-range' },
    ...[['7', 'Last 7 days'], ['30', 'Last 30 days'], ['90', 'Last 90 days'], ['365', 'Last year']].map(([v, t]) => el('option', { value: v, text: t })));
  range.value = '30';
  const refresh = el('button', { type: 'button', class: 'secondary', 'data-testid': 'analytics-refresh', onclick: () => load() }, 'Refresh');
  const body = el('div', { 'data-testid': 'analytics-body' }, el('p', { class: 'small muted', text: 'Loading…' }));
  const root = el('section', { class: 'panel', 'data-testid': 'analytics-panel', 'aria-label': 'Viewers' },
    el('h2', { text: 'Viewers' }),
    el('div', { class: 'row' }, el('label', { for: 'analytics-range', class: 'small', text: 'Range' }), range, refresh),
    body);
  range.addEventListener('change', () => load());

  async function load() {
    const days = Number(range.value);
    const to = new Date();
    const from = new Date(to.getTime() - (days - 1) * 86400000);
    const ymd = (d) => d.toISOString().slice(0, 10);
    let r;
    try {
      r = await api(`/v1/media/${encodeURIComponent(id)}/analytics?from=${ymd(from)}&to=${ymd(to)}`);
    } catch (e) {
      if (ctx.alive()) body.replaceChildren(el('p', { class: 'error', role: 'alert', text: e.message }));
      return;
    }
    if (!ctx.alive()) return;
    const ms = (v) => (v === null || v === undefined ? '—' : `${v} ms`);
    const rows = [
      ['Views', String(r.views), 'analytics-views', r.views],
      ['Unique viewers', String(r.unique_viewers), 'analytics-unique', r.unique_viewers],
      ['Watch time', fmtTime(r.watch_seconds), 'analytics-watch', r.watch_seconds],
      ['Startup (median / 95th)', `${ms(r.startup_ms.p50)} / ${ms(r.startup_ms.p95)}`, 'analytics-startup', r.startup_ms.p50 ?? ''],
      ['Rebuffering', `${(r.rebuffer_ratio * 100).toFixed(1)} %`, 'analytics-rebuffer', r.rebuffer_ratio],
      ['Errors', String(r.errors), 'analytics-errors', r.errors],
    ];
    const renditions = Object.entries(r.renditions);
    if (renditions.length) rows.push(['By rendition', renditions.map(([n, s]) => `${n} ${fmtTime(s)}`).join(' · '), 'analytics-renditions', '']);
    body.replaceChildren(
      el('dl', { class: 'details' }, ...rows.flatMap(([k, v, testid, raw]) => [el('dt', { text: k }), el('dd', { text: v, 'data-testid': testid, 'data-value': String(raw) })])),
      chart(r.days),
      el('p', { class: 'small muted', text: 'Unique viewers are counted per day, without storing addresses. Rebuffering: stalled time over watch plus stalled time.' }));
  }
  load();
  return root;
}
