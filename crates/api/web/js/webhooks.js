// Webhook deliveries that have not arrived, for the admin page: the failed ones (out of attempts)
// and the pending ones still being retried, each with its last error and a Redeliver button that
// sends the same event (same id) again now.

import { el, setKids, toast } from './dom.js';
import { fmtDate } from './format.js';

// Failed first: they need a person; pending ones may still get through on their own.
const STATUSES = ['failed', 'pending'];

/** Renders the list into `container`; `api` is api.js's `api` (JSON calls with the admin's token). */
export async function renderWebhookFailures(container, api) {
  const list = el('div', { 'data-testid': 'webhook-deliveries', 'aria-live': 'polite' });
  const refresh = el('button', { type: 'button', class: 'secondary', 'data-testid': 'webhooks-refresh', text: 'Refresh', onclick: () => load() });
  setKids(container,
    el('h2', { text: 'Webhook deliveries' }),
    el('p', { class: 'small muted', text: 'Deliveries that failed after every retry, and pending ones still being retried. Redeliver sends the same event, with the same id, now.' }),
    refresh,
    list);

  async function load() {
    refresh.disabled = true;
    try {
      const pages = await Promise.all(STATUSES.map((s) => api('/v1/webhooks/deliveries?limit=100&status=' + s)));
      const items = pages.flatMap((p) => p.items);
      if (!items.length) {
        setKids(list, el('p', { class: 'muted', 'data-testid': 'webhooks-empty', text: 'No failed or pending deliveries.' }));
        return;
      }
      const head = ['Event', 'Item', 'Status', 'Attempts', 'Last error', 'Next attempt', ''];
      setKids(list, el('table', { class: 'webhooks' },
        el('thead', null, el('tr', null, head.map((h) => el('th', { scope: 'col', text: h })))),
        el('tbody', null, items.map(row))));
    } catch (e) {
      setKids(list, el('p', { class: 'error', role: 'alert', 'data-testid': 'webhooks-error', text: e.message || String(e) }));
    } finally {
      refresh.disabled = false;
    }
  }

  function row(d) {
    const button = el('button', {
      type: 'button', class: 'secondary', 'data-testid': 'redeliver', 'aria-label': 'Redeliver ' + d.event + ' for ' + d.media_id, text: 'Redeliver',
      onclick: async () => {
        button.disabled = true;
        try {
          await api('/v1/webhooks/deliveries/' + encodeURIComponent(d.id) + '/redeliver', { method: 'POST' });
          toast('Queued to be sent again');
          await load();
        } catch (e) {
          toast(e.message || String(e));
          button.disabled = false;
        }
      },
    });
    const lastError = d.last_error || (d.last_status_code ? 'HTTP ' + d.last_status_code : '—');
    return el('tr', { 'data-testid': 'delivery', 'data-id': d.id, 'data-status': d.status },
      el('td', { text: d.event }),
      el('td', null, el('a', { href: '#/media/' + encodeURIComponent(d.media_id), text: d.media_id.slice(0, 8) })),
      el('td', { text: d.status }),
      el('td', { text: String(d.attempts) }),
      el('td', { class: d.last_error ? 'error' : undefined, 'data-testid': 'last-error', text: lastError }),
      el('td', { text: d.next_attempt_at ? fmtDate(d.next_attempt_at) : '—' }),
      el('td', null, button));
  }

  await load();
}
