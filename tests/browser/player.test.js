// The web UI in a real browser: register, upload a generated clip through the page (over tus;
// resuming is upload.test.js's subject), watch it
// become ready, play it via HLS and DASH (including a switch to the lowest rung), and play a
// private item through a playback-token link in a fresh, logged-out browser context.
//
// Needs: target/debug/mediaserver (`cargo build -p mediaserver`), ffmpeg, /usr/bin/chromium,
// `npm ci` here. Run: `node --test` in tests/browser (scripts/test.sh does). MEDIASERVER_BIN and
// CHROMIUM override the binaries; a screenshot of the player page lands in test-artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, ROOT } from './lib/server.js';
import { launchBrowser } from './lib/browser.js';
import { makeClip } from './lib/media.js';

const ARTIFACTS = path.join(ROOT, 'test-artifacts');
const EMAIL = 'viewer@example.com';
const PASSWORD = 'correct horse battery staple';

let server, browser, context, page, tmp, clip, mediaId, failed = false;
const pageErrors = [];
const cspViolations = [];

const sel = (id) => `[data-testid="${id}"]`;

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'mediaserver-clip-'));
  // 12 s so that there is room to switch rungs after passing 3 s; 640x360 gives a 360p and a 240p rung.
  clip = makeClip(tmp, { seconds: 12, width: 640, height: 360 });
  server = await startServer();
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    if (m.type() === 'error') console.log('[page console]', m.text());
  });
});

after(async () => {
  await browser?.close().catch(() => {});
  if (failed && server) console.log('--- server log (tail) ---\n' + server.logs().split('\n').slice(-60).join('\n'));
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Wraps a test body so that a failure keeps the server log for the report. */
const step = (fn) => async (t) => {
  try { await fn(t); } catch (e) { failed = true; throw e; }
};

async function videoTime(p) {
  return p.evaluate(() => document.querySelector('[data-testid="video"]').currentTime);
}

async function playPast(p, seconds, timeout = 60000) {
  await p.evaluate(() => {
    const v = document.querySelector('[data-testid="video"]');
    v.muted = true;
    return v.play().catch((e) => { window.__playRejected = String(e); });
  });
  await p.waitForFunction((s) => document.querySelector('[data-testid="video"]').currentTime > s, seconds, { timeout, polling: 100 });
}

async function playerErrors(p) {
  return p.evaluate(() => (window.__player ? window.__player.errors : ['no player']));
}

/** Picks the lowest rung in the quality selector and checks that playback goes on on it. */
async function switchToLowestAndKeepPlaying(p) {
  const levels = await p.evaluate(() => window.__player.levels());
  assert.ok(levels.length >= 2, `expected at least 2 rungs, got ${JSON.stringify(levels)}`);
  const lowest = levels.reduce((a, b) => (b.height < a.height || (b.height === a.height && b.bitrate < a.bitrate) ? b : a));
  assert.equal(lowest.height, 240, `lowest rung: ${JSON.stringify(levels)}`);
  await p.selectOption(sel('quality-select'), String(lowest.index));
  const t0 = await videoTime(p);
  await p.waitForFunction(
    ([i, t]) => window.__player.currentLevel() === i && document.querySelector('[data-testid="video"]').currentTime > t + 1,
    [lowest.index, t0], { timeout: 30000, polling: 100 });
  const t1 = await videoTime(p);
  await p.waitForFunction((t) => document.querySelector('[data-testid="video"]').currentTime > t + 0.5, t1, { timeout: 15000, polling: 100 });
  assert.equal(await p.evaluate(() => window.__player.currentLevel()), lowest.index);
  assert.match(await p.textContent(sel('current-level')), /240p/);
  assert.deepEqual(await playerErrors(p), []);
}

test('the app and its assets are served with types, caching and a CSP', step(async () => {
  const res = await fetch(server.url + '/');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/html/);
  assert.match(res.headers.get('content-security-policy'), /script-src 'self'/);
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  const html = await res.text();
  const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
  assert.ok(assets.some((a) => /hls\.js-[\d.]+\/hls\.min\.js$/.test(a)), 'hls.js is referenced');
  assert.ok(assets.some((a) => /dashjs-[\d.]+\/dash\.mediaplayer\.min\.js$/.test(a)), 'dash.js is referenced');
  assert.ok(assets.some((a) => /tus-js-client-[\d.]+\/tus\.min\.js$/.test(a)), 'tus-js-client is referenced');
  for (const a of new Set(assets)) {
    const r = await fetch(server.url + a);
    assert.equal(r.status, 200, a);
    const type = r.headers.get('content-type');
    if (a.endsWith('.js')) assert.match(type, /^text\/javascript/, a);
    if (a.endsWith('.css')) assert.match(type, /^text\/css/, a);
    const cc = r.headers.get('cache-control');
    if (a.startsWith('/assets/vendor/')) assert.match(cc, /max-age=31536000/, a); else assert.equal(cc, 'no-cache', a);
    const again = await fetch(server.url + a, { headers: { 'if-none-match': r.headers.get('etag') } });
    assert.equal(again.status, 304, a);
  }
  const missing = await fetch(server.url + '/assets/nope.js');
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.code !== undefined, true);
}));

test('registers through the page', step(async () => {
  await page.goto(server.url + '/');
  await page.click(sel('nav-register'));
  await page.fill(sel('email'), EMAIL);
  await page.fill(sel('password'), PASSWORD);
  await page.click(sel('auth-submit'));
  await page.waitForSelector(sel('dropzone'));
  await page.waitForSelector(sel('nav-user'));
  assert.equal((await page.textContent(sel('nav-user'))).trim(), EMAIL);
  assert.ok(await page.evaluate(() => !!localStorage.getItem('ms.refresh')), 'tokens are kept');
}));

test('uploads the clip through the page (over tus) and sees it become ready in the grid', { timeout: 240000 }, step(async () => {
  const sent = [];
  const record = (r) => { if (r.url().includes('/v1/')) sent.push(`${r.method()} ${new URL(r.url()).pathname}`); };
  page.on('request', record);
  await page.setInputFiles(sel('file-input'), clip);
  const upload = await page.waitForSelector(`${sel('upload-item')}[data-state="done"]`, { timeout: 60000 });
  page.off('request', record);
  mediaId = await upload.getAttribute('data-id');
  assert.ok(mediaId, 'the upload row names the new item');
  assert.ok(sent.includes('POST /v1/uploads/'), sent.join('\n'));
  assert.ok(sent.some((r) => r.startsWith('PATCH /v1/uploads/')), sent.join('\n'));
  assert.ok(!sent.includes('POST /v1/media'), 'not the one-request upload');
  const card = `${sel('media-card')}[data-id="${mediaId}"]`;
  await page.waitForSelector(card);
  // Live status: the grid polls while the item is queued or processing.
  const seen = new Set();
  const deadline = Date.now() + 180000;
  for (;;) {
    const status = await page.getAttribute(card, 'data-status');
    seen.add(status);
    if (status === 'ready') break;
    assert.notEqual(status, 'failed', await page.textContent(card));
    assert.ok(Date.now() < deadline, `not ready in time; statuses seen: ${[...seen]}`);
    await page.waitForTimeout(250);
  }
  await page.waitForSelector(`${card} .thumb img`, { state: 'attached' });
  await page.waitForFunction((c) => { const i = document.querySelector(c + ' .thumb img'); return i && i.complete && i.naturalWidth > 0; }, card, { timeout: 15000 });
  assert.match(await page.textContent(`${card} ${sel('media-status')}`), /ready/);
}));

test('plays via HLS past 3 s, then on the lowest rung', { timeout: 180000 }, step(async () => {
  await page.click(`${sel('media-card')}[data-id="${mediaId}"]`);
  await page.waitForSelector(sel('video'));
  await page.waitForFunction(() => window.__player && window.__player.engine === 'hls');
  await playPast(page, 3);
  assert.deepEqual(await playerErrors(page), []);
  const levels = await page.evaluate(() => window.__player.levels());
  assert.deepEqual(levels.map((l) => l.height).sort(), [240, 360]);
  const options = await page.$$eval(`${sel('quality-select')} option`, (os) => os.map((o) => o.textContent));
  assert.equal(options.length, 3, `Auto + two rungs: ${options}`);

  // Storyboard preview while hovering the timeline.
  await page.waitForFunction(() => document.querySelector('[data-testid="seek"]').max > 10);
  await page.waitForFunction(() => Number(document.querySelector('.scrub').dataset.storyboard) > 0, null, { timeout: 15000 });
  const bar = await (await page.$(sel('seek'))).boundingBox();
  await page.mouse.move(bar.x + bar.width * 0.7, bar.y + bar.height / 2);
  await page.waitForSelector(`${sel('storyboard-preview')}:not(.hidden)`, { timeout: 10000 });
  const bg = await page.$eval(sel('storyboard-preview'), (e) => getComputedStyle(e).backgroundImage);
  assert.match(bg, /storyboard\.jpg/);
  assert.ok(await page.evaluate(() => {
    const u = getComputedStyle(document.querySelector('[data-testid="storyboard-preview"]')).backgroundImage.slice(5, -2);
    return fetch(u).then((r) => r.ok && r.headers.get('content-type') === 'image/jpeg');
  }), 'the sprite loads');

  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, 'player.png') });
  await page.mouse.move(0, 0);

  await switchToLowestAndKeepPlaying(page);
}));

test('plays via DASH past 3 s, then on the lowest rung', { timeout: 180000 }, step(async () => {
  await page.reload();
  await page.waitForSelector(sel('video'));
  await page.waitForSelector(`${sel('engine-dash')}:not([disabled])`, { state: 'attached' });
  // The radio is visually hidden behind its label; click the label like a person would.
  await page.click('label[for="engine-dash"]');
  await page.waitForFunction(() => window.__player && window.__player.engine === 'dash');
  await playPast(page, 3);
  assert.deepEqual(await playerErrors(page), []);
  const levels = await page.evaluate(() => window.__player.levels());
  assert.deepEqual(levels.map((l) => l.height).sort(), [240, 360]);
  await switchToLowestAndKeepPlaying(page);
}));

test('a private item plays through a playback-token link without login; a tampered token fails', { timeout: 180000 }, step(async () => {
  // The item is private (the default).
  assert.equal(await page.inputValue(sel('visibility-select')), 'private');
  const anon = await fetch(`${server.url}/v1/media/${mediaId}/hls/master.m3u8`);
  assert.ok([401, 403, 404].includes(anon.status), `anonymous playlist request: ${anon.status}`);

  await page.click(sel('share-create'));
  const shareUrl = await (await page.waitForSelector(sel('share-page-url'))).inputValue();
  const hlsUrl = await page.inputValue(sel('share-hls-url'));
  assert.match(shareUrl, /#\/share\//);
  assert.match(hlsUrl, /^http:\/\/127\.0\.0\.1:\d+\/v1\/play\//);

  const fresh = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  try {
    const p = await fresh.newPage();
    const errs = [];
    p.on('pageerror', (e) => errs.push(e.message));
    await p.goto(shareUrl);
    assert.equal(await p.evaluate(() => localStorage.getItem('ms.access')), null, 'not logged in');
    await p.waitForFunction(() => window.__player && window.__player.engine === 'hls');
    // The page carries the item's title.
    const title = await p.textContent(sel('share-title'));
    assert.ok(title && title !== 'Shared media', title);
    assert.equal(await p.title(), title + ' · mediaserver');
    await playPast(p, 3);
    assert.deepEqual(await playerErrors(p), []);
    assert.deepEqual(errs, []);

    // Change one character of the token's signature.
    const token = decodeURIComponent(shareUrl.split('#/share/')[1]);
    const i = token.length - 6;
    const tampered = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
    assert.notEqual(tampered, token);
    const direct = await fetch(hlsUrl.replace(token, tampered));
    assert.ok([401, 403].includes(direct.status), `tampered token, direct request: ${direct.status}`);

    const bad = await fresh.newPage();
    await bad.goto(shareUrl.split('#/share/')[0] + '#/share/' + encodeURIComponent(tampered));
    // A clear message, not an empty player.
    await bad.waitForSelector(sel('share-invalid'));
    assert.match(await bad.textContent(sel('share-invalid')), /not valid/);
    assert.equal(await bad.$('[data-testid="video"]'), null);
  } finally {
    await fresh.close();
  }
}));

test('visibility toggle and delete with confirmation', { timeout: 60000 }, step(async () => {
  await page.selectOption(sel('visibility-select'), 'public');
  await page.waitForFunction(() => document.querySelector('[data-testid="permalink"]'));
  const pub = await (await fetch(`${server.url}/v1/media/public`)).json();
  assert.ok(pub.items.some((i) => i.id === mediaId), 'listed publicly');
  const plain = await fetch(`${server.url}/v1/media/${mediaId}/hls/master.m3u8`);
  assert.equal(plain.status, 200, 'a public item plays without a token');

  await page.click(sel('delete-button'));
  await page.waitForSelector(`${sel('confirm-dialog')}[open]`);
  await page.click(sel('confirm-cancel'));
  assert.equal((await fetch(`${server.url}/v1/media/${mediaId}`)).status, 200, 'cancel keeps the item');

  await page.click(sel('delete-button'));
  await page.click(sel('confirm-ok'));
  await page.waitForSelector(sel('media-grid'), { state: 'attached' });
  await page.waitForFunction((id) => !document.querySelector(`[data-testid="media-card"][data-id="${id}"]`), mediaId);
  assert.equal((await fetch(`${server.url}/v1/media/${mediaId}`)).status, 404);
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(cspViolations, []);
}));

test('an expired access token is refreshed once; logging out forgets the tokens', { timeout: 60000 }, step(async () => {
  const before = await page.evaluate(() => ({ access: localStorage.getItem('ms.access'), refresh: localStorage.getItem('ms.refresh') }));
  // A token the server refuses, which the page still believes valid: the first call gets 401.
  await page.evaluate(() => { localStorage.setItem('ms.access', 'expired'); localStorage.setItem('ms.expires_at', String(Date.now() + 600000)); });
  await page.goto(server.url + '/#/');
  await page.reload();
  await page.waitForSelector(sel('dropzone'));
  await page.waitForFunction(() => localStorage.getItem('ms.access') !== 'expired');
  const after = await page.evaluate(() => ({ access: localStorage.getItem('ms.access'), refresh: localStorage.getItem('ms.refresh') }));
  assert.notEqual(after.refresh, before.refresh, 'the refresh token rotated');
  assert.notEqual(after.access, 'expired');
  assert.equal(await page.$(sel('view-error')), null);

  await page.click(sel('logout'));
  await page.waitForSelector(sel('nav-login'));
  assert.equal(await page.evaluate(() => localStorage.getItem('ms.refresh')), null);
  // The old refresh token was revoked on the server.
  const r = await fetch(server.url + '/v1/auth/refresh', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token: after.refresh }) });
  assert.equal(r.status, 401);
  assert.deepEqual(pageErrors, []);
}));
