// Embeds in a real browser: a page served from another origin (a tiny node server on another
// port) frames `/embed/{id}`. When that origin is in EMBED_ALLOWED_ORIGINS the player in the
// iframe plays (its currentTime advances, it tells the parent through postMessage); when it is
// not, Chromium refuses the frame by the page's CSP `frame-ancestors` (its console says so) and
// the player never loads. Then the share panel offers the iframe snippet and the share page.
//
// Needs what player.test.js needs (target/debug/mediaserver, ffmpeg, /usr/bin/chromium, `npm ci`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer } from './lib/server.js';
import { launchBrowser } from './lib/browser.js';
import { makeClip } from './lib/media.js';

const EMAIL = 'embeds@example.com';
const PASSWORD = 'correct horse battery staple';

let server, browser, tmp, mediaId, allowed, refused, failed = false;

/** A site on its own loopback port whose page frames `embedUrl()` (with the page's own query
 *  appended: the embed options) and records what the frame posts (`window.messages`). Resolves
 *  to {origin, close()}. */
function site(embedUrl) {
  const s = http.createServer((req, res) => {
    const query = new URL(req.url, 'http://x').search.slice(1);
    const src = embedUrl() + (query ? '&' + query.replace(/[<>"']/g, '') : '');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html><head><title>a blog</title></head><body>
<h1>A blog post with a video</h1>
<iframe id="player" src="${src}" width="480" height="320" allow="autoplay; fullscreen"></iframe>
<script>
  window.messages = [];
  addEventListener('message', (e) => { if (e.origin === ${JSON.stringify(new URL(src).origin)}) window.messages.push(e.data); });
</script></body></html>`);
  });
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve({
    origin: `http://127.0.0.1:${s.address().port}`,
    close: () => new Promise((r) => s.close(r)),
  })));
}

const embedUrl = () => `${server.url}/embed/${mediaId}?autoplay=1&muted=1`;

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'mediaserver-embeds-'));
  allowed = await site(embedUrl);
  refused = await site(embedUrl);
  // The two sites differ only by port: an origin is scheme, host and port.
  server = await startServer({ WORKERS: '1', TRANSCODE_PRESET: 'ultrafast', EMBED_ALLOWED_ORIGINS: allowed.origin });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  if (failed && server) console.log('--- server log (tail) ---\n' + server.logs().split('\n').slice(-60).join('\n'));
  await server?.stop();
  await allowed?.close();
  await refused?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const step = (fn) => async (t) => {
  try { await fn(t); } catch (e) { failed = true; throw e; }
};

const json = (body, headers = {}) => ({ method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
let auth;

test('a public video is ready to embed', { timeout: 180000 }, step(async () => {
  const clip = makeClip(tmp, { seconds: 6, width: 320, height: 240 });
  assert.equal((await fetch(server.url + '/v1/auth/register', json({ email: EMAIL, password: PASSWORD }))).status, 201);
  const { access_token: token } = await (await fetch(server.url + '/v1/auth/login', json({ email: EMAIL, password: PASSWORD }))).json();
  auth = { authorization: 'Bearer ' + token };
  const created = await fetch(server.url + '/v1/media?filename=clip.mp4&title=' + encodeURIComponent('A <b>bold</b> clip'), { method: 'POST', headers: auth, body: readFileSync(clip) });
  assert.equal(created.status, 201, await created.clone().text());
  mediaId = (await created.json()).id;
  let item;
  for (const deadline = Date.now() + 150000; Date.now() < deadline;) {
    item = await (await fetch(server.url + '/v1/media/' + mediaId, { headers: auth })).json();
    if (item.status === 'ready' || item.status === 'failed') break;
    await new Promise((r) => setTimeout(r, 300));
  }
  assert.equal(item.status, 'ready', JSON.stringify(item));
  const r = await fetch(server.url + '/v1/media/' + mediaId, { method: 'PATCH', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ visibility: 'public' }) });
  assert.equal(r.status, 200);
}));

test('an allowed origin frames the player, which plays and tells its parent', { timeout: 90000 }, step(async () => {
  const page = await (await browser.newContext()).newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(allowed.origin + '/');
  // The frame says it is ready, then reports time going forward.
  await page.waitForFunction(() => window.messages.some((m) => m.type === 'mediaserver:embed' && m.event === 'ready'), null, { timeout: 60000 });
  await page.waitForFunction(() => window.messages.some((m) => m.event === 'timeupdate' && m.currentTime > 1.5), null, { timeout: 60000 });
  const frame = page.frames().find((f) => f.url().startsWith(server.url + '/embed/'));
  assert.ok(frame, 'the embed frame is there: ' + page.frames().map((f) => f.url()).join(', '));
  // Checked from inside the frame too: the page's player module plays the HLS stream.
  const first = await frame.evaluate(() => document.querySelector('[data-testid="video"]').currentTime);
  await frame.waitForFunction((t) => document.querySelector('[data-testid="video"]').currentTime > t + 0.5, first, { timeout: 30000 });
  const state = await frame.evaluate(() => {
    const v = document.querySelector('[data-testid="video"]');
    return { engine: window.__player.engine, levels: window.__player.levels().length, muted: v.muted, paused: v.paused, title: document.title, quality: !!document.querySelector('[data-testid="quality-select"]') };
  });
  assert.deepEqual(state, { engine: 'hls', levels: state.levels, muted: true, paused: false, title: 'A <b>bold</b> clip', quality: true });
  assert.ok(state.levels >= 1, JSON.stringify(state));
  assert.deepEqual(errors, []);
  await page.context().close();
}));

test('the options start, controls=0 and loop are applied', { timeout: 90000 }, step(async () => {
  const page = await (await browser.newContext()).newPage();
  await page.goto(allowed.origin + '/?start=3&controls=0&loop=1');
  // Ready at the start position, then playing from there (never from the beginning)...
  await page.waitForFunction(() => window.messages.some((m) => m.event === 'ready'), null, { timeout: 60000 });
  const ready = await page.evaluate(() => window.messages.find((m) => m.event === 'ready'));
  assert.equal(ready.currentTime, 3);
  await page.waitForFunction(() => window.messages.some((m) => m.event === 'timeupdate' && m.currentTime > 3.5), null, { timeout: 60000 });
  // ...and past the end of the 6 s clip back to its beginning.
  await page.waitForFunction(() => {
    const t = window.messages.filter((m) => m.event === 'timeupdate').map((m) => m.currentTime);
    const top = t.indexOf(Math.max(...t));
    return t[top] > 5 && t.slice(top + 1).some((x) => x < 1);
  }, null, { timeout: 60000 });
  const before = await page.evaluate(() => window.messages.filter((m) => m.event === 'timeupdate').map((m) => m.currentTime));
  const firstLoop = before.slice(0, before.indexOf(Math.max(...before)));
  assert.ok(firstLoop.every((t) => t >= 2.9), 'played from before the start: ' + firstLoop.join(', '));
  assert.ok(!(await page.evaluate(() => window.messages.some((m) => m.event === 'ended'))), 'loop: the clip never ends');
  const frame = page.frames().find((f) => f.url().startsWith(server.url + '/embed/'));
  const ui = await frame.evaluate(() => {
    const v = document.querySelector('[data-testid="video"]');
    const shown = (sel) => getComputedStyle(document.querySelector(sel)).display !== 'none';
    return { controls: v.controls, loop: v.loop, bar: shown('.controls'), seek: shown('.scrub') };
  });
  assert.deepEqual(ui, { controls: false, loop: true, bar: false, seek: false });
  await page.context().close();
}));

test('an origin not in EMBED_ALLOWED_ORIGINS is refused by the CSP', { timeout: 90000 }, step(async () => {
  const page = await (await browser.newContext()).newPage();
  const refusal = page.waitForEvent('console', { predicate: (m) => /frame-ancestors/.test(m.text()), timeout: 60000 });
  await page.goto(refused.origin + '/');
  const message = (await refusal).text();
  // Chromium's wording ("Framing '…' violates …" today, "Refused to frame '…'" before).
  assert.match(message, new RegExp(`(Framing|Refused to frame) '${server.url.replace(/[.]/g, '\\.')}/`), message);
  assert.match(message, new RegExp(allowed.origin.replace(/[.]/g, '\\.')), 'the policy names the allowed origin: ' + message);
  // The frame holds Chromium's error page, never the player, and never spoke to its parent.
  const frame = page.frames().find((f) => f !== page.mainFrame());
  assert.ok(frame);
  const inside = await frame.evaluate(() => ({ embed: !!document.getElementById('embed'), video: !!document.querySelector('video') })).catch(() => ({ embed: false, video: false }));
  assert.deepEqual(inside, { embed: false, video: false });
  assert.deepEqual(await page.evaluate(() => window.messages), []);
  await page.context().close();
}));

test('the share panel offers the iframe snippet and the share page', { timeout: 60000 }, step(async () => {
  const page = await (await browser.newContext()).newPage();
  const sel = (id) => `[data-testid="${id}"]`;
  await page.goto(server.url + '/');
  await page.click(sel('nav-login'));
  await page.fill(sel('email'), EMAIL);
  await page.fill(sel('password'), PASSWORD);
  await page.click(sel('auth-submit'));
  await page.waitForSelector(sel('nav-user'));
  await page.goto(server.url + '/#/media/' + mediaId);
  const snippet = await (await page.waitForSelector(sel('embed-snippet'))).inputValue();
  assert.equal(snippet, `<iframe src="${server.url}/embed/${mediaId}" width="320" height="240" title="A &lt;b&gt;bold&lt;/b&gt; clip" frameborder="0" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen></iframe>`);
  // And the share page, which plays the item with its title under the player.
  const watch = await page.inputValue(sel('watch-url'));
  assert.equal(watch, `${server.url}/watch/${mediaId}`);
  await page.goto(watch);
  assert.equal(await page.textContent(sel('watch-title')), 'A <b>bold</b> clip');
  await page.waitForFunction(() => window.__player && window.__player.levels().length > 0);
  // The same iframe oEmbed hands out.
  const o = await (await fetch(`${server.url}/oembed?url=${encodeURIComponent(server.url + '/embed/' + mediaId)}`)).json();
  assert.equal(o.html, snippet);
  await page.context().close();
}));
