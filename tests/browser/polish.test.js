// First-hour polish in the web UI: a queued item says how many jobs go before it; the library
// searches, filters, sorts and pages; a file already in the library is caught before its upload
// (hashed in the page) or, where the page cannot hash, right after it.
//
// Needs what player.test.js needs (the binary, /usr/bin/chromium, `npm ci` here).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
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

const PNG_SHA = createHash('sha256').update(PNG).digest('hex');
const copies = async () => (await (await fetch(server.url + '/v1/media?limit=100&sha256=' + PNG_SHA, { headers: { authorization: 'Bearer ' + token } })).json()).items.length;

async function logIn(p) {
  await p.goto(server.url + '/#/login');
  await p.fill(sel('email'), EMAIL);
  await p.fill(sel('password'), PASSWORD);
  await p.click(sel('auth-submit'));
  await p.waitForSelector(sel('file-input'), { state: 'attached' });
}

test('a file already in the library is caught before upload: open the one you have, or upload anyway', step(async () => {
  await page.reload();
  await page.waitForSelector(sel('file-input'), { state: 'attached' });
  const before = await copies();
  await page.setInputFiles(sel('file-input'), { name: 'again.png', mimeType: 'image/png', buffer: PNG });
  const row = page.locator(`${sel('upload-item')}[data-state="duplicate"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /already in your library/);
  const open = await row.locator(sel('duplicate-open')).getAttribute('href');
  const firstCopy = open.replace('#/media/', '');
  assert.equal((await (await fetch(server.url + '/v1/media/' + firstCopy, { headers: { authorization: 'Bearer ' + token } })).json()).sha256, PNG_SHA);
  assert.equal(await copies(), before, 'nothing was uploaded');

  await row.locator(sel('duplicate-upload')).click();
  await page.waitForSelector(`${sel('upload-item')}[data-state="done"]`);
  assert.equal(await copies(), before + 1);
  assert.deepEqual(pageErrors, []);
}));

test('where the page cannot hash (no WebCrypto), the copy is caught after upload and can be deleted', step(async () => {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  // What a page served over plain HTTP from another host gets: no crypto.subtle.
  await context.addInitScript(() => Object.defineProperty(window.crypto, 'subtle', { get: () => undefined }));
  const p = await context.newPage();
  const errors = [];
  p.on('pageerror', (e) => errors.push(e.message));
  await logIn(p);
  const before = await copies();
  await p.setInputFiles(sel('file-input'), { name: 'third.png', mimeType: 'image/png', buffer: PNG });
  const row = p.locator(`${sel('upload-item')}[data-state="duplicate"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /uploaded, but already in your library/);
  assert.equal(await copies(), before + 1);
  await row.locator(sel('duplicate-delete')).click();
  await row.waitFor({ state: 'detached' });
  assert.equal(await copies(), before);
  assert.deepEqual(errors, []);
  await context.close();
}));
