// Clips from an item's page: its owner fills in the range and a title, and lands on the new
// item's page, which becomes ready with the clip's length.
//
// Needs what player.test.js needs (target/debug/mediaserver, ffmpeg, /usr/bin/chromium, `npm ci`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer } from './lib/server.js';
import { launchBrowser } from './lib/browser.js';
import { makeClip } from './lib/media.js';

const EMAIL = 'clips@example.com';
const PASSWORD = 'correct horse battery staple';
const sel = (id) => `[data-testid="${id}"]`;

let server, browser, page, tmp, failed = false;

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'mediaserver-clips-'));
  server = await startServer({ WORKERS: '1', TRANSCODE_PRESET: 'ultrafast' });
  browser = await launchBrowser();
  page = await (await browser.newContext({ viewport: { width: 1200, height: 900 } })).newPage();
});

after(async () => {
  await browser?.close().catch(() => {});
  if (failed && server) console.log('--- server log (tail) ---\n' + server.logs().split('\n').slice(-60).join('\n'));
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const step = (fn) => async (t) => {
  try { await fn(t); } catch (e) { failed = true; throw e; }
};

async function waitReady(id, auth) {
  let item;
  for (const deadline = Date.now() + 150000; Date.now() < deadline;) {
    item = await (await fetch(server.url + '/v1/media/' + id, { headers: auth })).json();
    if (item.status === 'ready' || item.status === 'failed') break;
    await new Promise((r) => setTimeout(r, 300));
  }
  return item;
}

test('the owner makes a clip from the item page and lands on it', { timeout: 240000 }, step(async () => {
  await page.goto(server.url + '/#/register');
  await page.fill(sel('email'), EMAIL);
  await page.fill(sel('password'), PASSWORD);
  await page.click(sel('auth-submit'));
  await page.waitForFunction(() => localStorage.getItem('ms.access'));
  const auth = { authorization: 'Bearer ' + await page.evaluate(() => localStorage.getItem('ms.access')) };
  const created = await fetch(server.url + '/v1/media?filename=clip.mp4', { method: 'POST', headers: auth, body: readFileSync(makeClip(tmp, { seconds: 4 })) });
  assert.equal(created.status, 201, await created.clone().text());
  const { id } = await created.json();
  assert.equal((await waitReady(id, auth)).status, 'ready');

  await page.goto(server.url + '/#/media/' + id);
  await page.waitForSelector(sel('clip-panel') + ':not([hidden])');
  // A bad range is refused with the server's reason, and nothing is made.
  await page.fill(sel('clip-start'), '3');
  await page.fill(sel('clip-end'), '2');
  await page.click(sel('clip-submit'));
  await page.waitForFunction((s) => document.querySelector(s)?.textContent.includes('greater than start_seconds'), sel('clip-error'));

  await page.fill(sel('clip-start'), '0.5');
  await page.fill(sel('clip-end'), '2.5');
  await page.fill(sel('clip-title'), 'Short one');
  await page.click(sel('clip-submit'));
  await page.waitForFunction((old) => location.hash.startsWith('#/media/') && !location.hash.endsWith(old), id);
  const clipId = (await page.evaluate(() => location.hash)).slice('#/media/'.length);
  await page.waitForFunction((s) => document.querySelector(s)?.textContent === 'Short one', sel('player-title'));
  const clip = await waitReady(clipId, auth);
  assert.equal(clip.status, 'ready', JSON.stringify(clip));
  assert.ok(Math.abs(clip.duration_seconds - 2.0) <= 0.05, String(clip.duration_seconds));
  const list = await (await fetch(server.url + '/v1/media', { headers: auth })).json();
  assert.equal(list.items.length, 2);
}));
