// First-hour polish in the web UI: a queued item says how many jobs go before it; the library
// searches, filters, sorts and pages; a file already in the library is caught before its upload
// (hashed in the page) or, where the page cannot hash, right after it.
//
// Needs what player.test.js needs (the binary, /usr/bin/chromium, `npm ci` here).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
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

// ---- UI smalls, on a server with a worker (items must be processed).

/** A file made by ffmpeg from lavfi `input` (no download). */
function lavfi(name, input, extra = []) {
  const out = path.join(work, name);
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', input, ...extra, out]);
  return out;
}

test('processed items: an image shows its variants and gets a share link whose page is titled; titles save like visibility; durations agree; a broken link says so', { timeout: 180000 }, step(async () => {
  const worked = await startServer({ WORKERS: '1' });
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const p = await ctx.newPage();
  const errors = [];
  p.on('pageerror', (e) => errors.push(e.message));
  try {
    await p.goto(worked.url + '/#/register');
    await p.fill(sel('email'), EMAIL);
    await p.fill(sel('password'), PASSWORD);
    await p.click(sel('auth-submit'));
    await p.waitForSelector(sel('file-input'), { state: 'attached' });
    const auth = { authorization: 'Bearer ' + await p.evaluate(() => localStorage.getItem('ms.access')) };
    const up = async (file, title) => {
      const form = new FormData();
      form.append('file', new Blob([readFileSync(file)]), path.basename(file));
      form.append('title', title);
      const r = await fetch(worked.url + '/v1/media', { method: 'POST', headers: auth, body: form });
      assert.equal(r.status, 201);
      return (await r.json()).id;
    };
    const ready = async (id) => {
      for (let i = 0; i < 600; i++) {
        const it = await (await fetch(worked.url + '/v1/media/' + id, { headers: auth })).json();
        if (it.status === 'ready' || it.status === 'failed') return it;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error('not processed: ' + id);
    };
    const imageId = await up(lavfi('picture.png', 'testsrc2=size=640x480', ['-frames:v', '1']), 'Holiday picture');
    const audioId = await up(lavfi('tone.wav', 'sine=frequency=440:duration=2.6'), 'Tone');
    const clipId = await up(makeClip(work, { seconds: 2, width: 320, height: 240, name: 'ladder.mp4' }), 'Ladder');
    const image = await ready(imageId);
    const audio = await ready(audioId);
    assert.equal(image.status, 'ready');
    assert.equal(audio.status, 'ready');

    // The image page lists every generated variant, each opening its file.
    await p.goto(worked.url + '/#/media/' + imageId);
    await p.waitForSelector(sel('variants'));
    const links = p.locator(sel('variant-link'));
    assert.equal(await links.count(), image.variants.length);
    assert.ok(image.variants.length > 0);
    const first = await links.first().getAttribute('href');
    assert.equal((await fetch(new URL(first, worked.url))).status, 200, 'a variant opens without a login header');

    // ... and makes a share link, whose page carries the title and shows the picture.
    await p.click(sel('share-create'));
    const shareUrl = await (await p.waitForSelector(sel('share-page-url'))).inputValue();
    const anon = await browser.newContext();
    const s = await anon.newPage();
    await s.goto(shareUrl);
    await s.waitForSelector(`${sel('share-page')} ${sel('image')}`);
    await s.waitForFunction(() => document.querySelector('[data-testid="image"]').naturalWidth > 0);
    assert.equal(await s.textContent(sel('share-title')), 'Holiday picture');
    assert.equal(await s.title(), 'Holiday picture · mediaserver');
    // A link altered in transit, and one whose item is gone: a message, no player.
    const token = decodeURIComponent(shareUrl.split('#/share/')[1]);
    const tampered = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    await s.goto(shareUrl.split('#/share/')[0] + '#/share/' + encodeURIComponent(tampered));
    await s.reload();
    await s.waitForSelector(sel('share-invalid'));
    assert.match(await s.textContent(sel('share-invalid')), /not valid/);
    assert.equal(await s.title(), 'Link not available · mediaserver');
    await anon.close();

    // The title saves when the field is left, as visibility does when chosen; no Save button.
    assert.equal(await p.locator(`${sel('media-page')} button:has-text("Save")`).count(), 0);
    await p.fill(sel('title-input'), 'Renamed picture');
    await p.press(sel('title-input'), 'Tab');
    await p.waitForFunction(() => document.querySelector('[data-testid="player-title"]').textContent === 'Renamed picture');
    const renamed = await (await fetch(worked.url + '/v1/media/' + imageId, { headers: auth })).json();
    assert.equal(renamed.title, 'Renamed picture');

    // Audio: the card's badge, the page's badge and the player's total show one figure.
    const want = (s) => { const r = Math.round(s); return `${Math.floor(r / 60)}:${String(r % 60).padStart(2, '0')}`; };
    await p.goto(worked.url + '/#/');
    const badge = await (await p.waitForSelector(`${sel('media-card')}[data-id="${audioId}"] .dur`)).textContent();
    assert.equal(badge, want(audio.duration_seconds));
    await p.goto(worked.url + '/#/media/' + audioId);
    await p.waitForSelector(sel('player-duration'));
    assert.equal(await p.textContent(sel('player-duration')), badge);
    await p.waitForFunction(() => Number.isFinite(document.querySelector('[data-testid="video"], audio, video')?.duration));
    assert.equal(await p.textContent(sel('player-total')), badge);

    // A rung has one figure in the quality menu whether HLS or DASH plays it: the measured peak.
    const clip = await ready(clipId);
    assert.equal(clip.status, 'ready');
    await p.goto(worked.url + '/#/media/' + clipId);
    const labels = async (engine) => {
      await p.waitForFunction((e) => window.__player && window.__player.engine === e && document.querySelectorAll('[data-testid="quality-select"] option').length > 1, engine);
      return p.$$eval('[data-testid="quality-select"] option', (os) => os.slice(1).map((o) => o.textContent));
    };
    const hls = await labels('hls');
    await p.click(sel('engine-dash'));
    const dash = await labels('dash');
    assert.deepEqual(dash, hls);
    assert.deepEqual(hls, clip.renditions.map((r) => `${r.height}p · ${Math.round(r.bandwidth / 1000)} kbps peak`));

    // One timeline: no native controls (their scrubber was a second one); the transport plays
    // and pauses.
    assert.equal(await p.$eval(sel('video'), (v) => v.controls), false);
    assert.equal(await p.locator(`${sel('stage')} ~ .scrub input[type=range]:not(.volume)`).count(), 1);
    await p.click(sel('play-toggle'));
    await p.waitForFunction(() => document.querySelector('[data-testid="video"]').currentTime > 0.3);
    assert.equal(await p.getAttribute(sel('play-toggle'), 'aria-label'), 'Pause');
    await p.click(sel('play-toggle'));
    await p.waitForFunction(() => document.querySelector('[data-testid="video"]').paused);
    await p.click(sel('mute-toggle'));
    assert.equal(await p.$eval(sel('video'), (v) => v.muted), true);
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
    await worked.stop();
  }
}));
