// First-hour polish in the web UI: a queued item says how many jobs go before it; the library
// searches, filters, sorts and pages.
//
// Needs what player.test.js needs (the binary, /usr/bin/chromium, `npm ci` here).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer } from './lib/server.js';
import { launchBrowser } from './lib/browser.js';
import { makeClip } from './lib/media.js';

const EMAIL = 'polish@example.com';
const PASSWORD = 'correct horse battery staple';

let server, browser, page, token, failed = false;
const pageErrors = [];
const sel = (id) => `[data-testid="${id}"]`;
const work = mkdtempSync(path.join(tmpdir(), 'polish-'));

before(async () => {
  // No worker: everything uploaded stays queued, in a known order.
  server = await startServer({ WORKERS: '0' });
  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const json = { 'content-type': 'application/json' };
  const body = JSON.stringify({ email: EMAIL, password: PASSWORD });
  assert.equal((await fetch(server.url + '/v1/auth/register', { method: 'POST', headers: json, body })).status, 201);
  token = (await (await fetch(server.url + '/v1/auth/login', { method: 'POST', headers: json, body })).json()).access_token;
});

after(async () => {
  await browser?.close().catch(() => {});
  if (failed && server) console.log('--- server log (tail) ---\n' + server.logs().split('\n').slice(-60).join('\n'));
  await server?.stop();
});

const step = (fn) => async (t) => {
  try { await fn(t); } catch (e) { failed = true; throw e; }
};

/** Uploads `bytes` as `filename` (titled `title`) through the API; the item JSON. */
async function upload(bytes, filename, title) {
  const form = new FormData();
  form.append('file', new Blob([bytes]), filename);
  if (title) form.append('title', title);
  const r = await fetch(server.url + '/v1/media', { method: 'POST', headers: { authorization: 'Bearer ' + token }, body: form });
  assert.equal(r.status, 201, await r.clone().text());
  return r.json();
}

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64');

const cardStatus = (id) => page.locator(`${sel('media-card')}[data-id="${id}"] ${sel('media-status')}`);

test('a queued item says how many jobs go before it; an image goes before videos', step(async () => {
  const clip = readFileSync(makeClip(work, { seconds: 2, width: 160, height: 120 }));
  const v1 = await upload(clip, 'first.mp4', 'First video');
  const v2 = await upload(clip, 'second.mp4', 'Second video');
  const img = await upload(PNG, 'dot.png', 'A dot');

  await page.goto(server.url + '/#/login');
  await page.fill(sel('email'), EMAIL);
  await page.fill(sel('password'), PASSWORD);
  await page.click(sel('auth-submit'));
  await page.waitForSelector(sel('media-card'));
  assert.equal(await cardStatus(img.id).textContent(), 'queued (0 ahead)');
  assert.equal(await cardStatus(v1.id).textContent(), 'queued (1 ahead)');
  assert.equal(await cardStatus(v2.id).textContent(), 'queued (2 ahead)');

  // The item's page says it too.
  await page.goto(server.url + '/#/media/' + v2.id);
  await page.waitForSelector(sel('player-status'));
  assert.equal(await page.textContent(sel('player-status')), 'queued (2 ahead)');
  assert.match(await page.textContent(sel('waiting-text')), /queued \(2 ahead\)/);
  assert.deepEqual(pageErrors, []);
}));

const cardTitles = () => page.locator(sel('media-title')).allTextContents();

test('the library searches titles, filters by kind and status, sorts, and pages in any sort', step(async () => {
  // 26 more images: more than one page (24) of the library.
  for (let i = 1; i <= 26; i++) await upload(PNG, `p${i}.png`, `Pic ${String(27 - i).padStart(2, '0')}`);
  await page.goto(server.url + '/#/');
  await page.waitForSelector(sel('library-search'));
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="media-card"]').length === 24);

  await page.fill(sel('library-search'), 'VIDEO');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="media-card"]').length === 2);
  assert.deepEqual(await cardTitles(), ['Second video', 'First video']);

  await page.selectOption(sel('library-sort'), 'title');
  await page.waitForFunction(() => document.querySelector('[data-testid="media-title"]').textContent === 'First video');
  assert.deepEqual(await cardTitles(), ['First video', 'Second video']);

  await page.fill(sel('library-search'), 'nothing like this');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="media-card"]').length === 0);
  assert.match(await page.textContent('.empty'), /No media matches/);

  // Images by title: a page, then the next one with "Load more", in order across the seam.
  await page.fill(sel('library-search'), '');
  await page.selectOption(sel('library-kind'), 'image');
  await page.waitForFunction(() => document.querySelector('[data-testid="media-title"]')?.textContent === 'A dot'
    && document.querySelectorAll('[data-testid="media-card"]').length === 24);
  await page.click(sel('load-more'));
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="media-card"]').length === 27);
  const want = ['A dot', ...Array.from({ length: 26 }, (_, i) => `Pic ${String(i + 1).padStart(2, '0')}`)];
  assert.deepEqual(await cardTitles(), want);
  assert.equal(await page.$eval(sel('load-more'), (b) => b.hidden), true);

  // Status: nothing is ready (no worker runs here).
  await page.selectOption(sel('library-status'), 'ready');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="media-card"]').length === 0);
  await page.selectOption(sel('library-status'), 'queued');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="media-card"]').length === 24);
  assert.deepEqual(pageErrors, []);
}));
