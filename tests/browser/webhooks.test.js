// The admin page's webhook failures (js/webhooks.js, rendered into the admin page's section as it
// does): a delivery that failed against a receiver that was down is listed with its last error;
// Redeliver sends the same event (same id) to the receiver, now up, and the list empties.
//
// Needs what player.test.js needs (the binary, ffmpeg, /usr/bin/chromium, `npm ci` here).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer } from './lib/server.js';
import { launchBrowser } from './lib/browser.js';

const EMAIL = 'admin@example.com';
const PASSWORD = 'correct horse battery staple';
const sel = (id) => `[data-testid="${id}"]`;

let server, browser, page, tmp, hookPort, receiver, failed = false;
const received = [];
const pageErrors = [];

/** A loopback port nothing listens on (yet). */
const freePort = () => new Promise((resolve, reject) => {
  const s = net.createServer();
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  s.on('error', reject);
});

async function until(what, fn, ms = 60000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('gave up waiting: ' + what);
    await new Promise((r) => setTimeout(r, 200));
  }
}

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'mediaserver-webhooks-'));
  hookPort = await freePort();
  server = await startServer({
    WEBHOOK_URL: `http://127.0.0.1:${hookPort}/hook`,
    WEBHOOK_SECRET: 'browser-hook-secret',
    // One attempt: the delivery fails at once while the receiver is down.
    WEBHOOK_MAX_ATTEMPTS: '1',
  });
  browser = await launchBrowser();
  page = await (await browser.newContext()).newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
});

after(async () => {
  await browser?.close().catch(() => {});
  if (failed && server) console.log('--- server log (tail) ---\n' + server.logs().split('\n').slice(-60).join('\n'));
  await server?.stop();
  await new Promise((r) => (receiver ? receiver.close(r) : r()));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const step = (fn) => async (t) => {
  try { await fn(t); } catch (e) { failed = true; throw e; }
};

test('a failed delivery is listed with its error and redelivered with the same event id', { timeout: 180000 }, step(async () => {
  // The first account is the admin.
  await page.goto(server.url + '/#/register');
  await page.fill(sel('email'), EMAIL);
  await page.fill(sel('password'), PASSWORD);
  await page.click(sel('auth-submit'));
  await page.waitForSelector(sel('dropzone'));

  const png = path.join(tmp, 'frame.png');
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x48', '-frames:v', '1', png]);
  const item = await page.evaluate(async (bytes) => {
    const { api, store } = await import('/assets/js/api.js');
    await api('/v1/auth/me');
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), 'frame.png');
    const res = await fetch('/v1/media', { method: 'POST', headers: { authorization: 'Bearer ' + store.access }, body: form });
    return res.json();
  }, [...readFileSync(png)]);
  assert.ok(item.id, JSON.stringify(item));

  // The admin page renders the deliveries section; reloading it shows the latest state.
  const render = async () => {
    await page.goto(server.url + '/#/admin');
    await page.reload();
    await page.waitForSelector(`#admin-webhooks ${sel('webhooks-refresh')}`);
  };
  // Until the worker has finished the item and the one attempt has failed.
  const row = await until('the failed delivery listed', async () => {
    await render();
    const r = page.locator(`#admin-webhooks ${sel('delivery')}[data-status="failed"]`);
    return (await r.count()) === 1 ? r : null;
  });
  assert.match(await row.locator(sel('last-error')).innerText(), /could not connect/);
  assert.match(await row.innerText(), /media\.ready/);
  const deliveryId = await row.getAttribute('data-id');

  // The receiver comes up; Redeliver sends the same event again.
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => { received.push({ headers: req.headers, body }); res.writeHead(204).end(); });
  });
  await new Promise((r) => receiver.listen(hookPort, '127.0.0.1', r));
  await row.locator(sel('redeliver')).click();
  await until('the redelivery', () => received.length >= 1);
  assert.equal(received.length, 1);
  const event = JSON.parse(received[0].body);
  assert.equal(event.id, deliveryId);
  assert.equal(received[0].headers['x-mediaserver-event-id'], deliveryId);
  assert.equal(event.data.id, item.id);

  await until('the list empties', async () => {
    await page.click(`#admin-webhooks ${sel('webhooks-refresh')}`);
    return (await page.locator(`#admin-webhooks ${sel('webhooks-empty')}`).count()) === 1;
  });
  assert.deepEqual(pageErrors, []);
}));
