// Animated previews in the library grid: resting the pointer on a ready video's card lays its
// looping animated WebP (rendered by the server on first request) over the poster, loaded
// without a login header for a private item (its signed URL or the owner's login); moving away
// takes it off again.
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

const EMAIL = 'previews@example.com';
const PASSWORD = 'correct horse battery staple';
const sel = (id) => `[data-testid="${id}"]`;

let server, browser, page, tmp, failed = false;

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'mediaserver-previews-'));
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

test('hovering a video card in the library shows its animated preview', { timeout: 180000 }, step(async () => {
  await page.goto(server.url + '/#/register');
  await page.fill(sel('email'), EMAIL);
  await page.fill(sel('password'), PASSWORD);
  await page.click(sel('auth-submit'));
  await page.waitForFunction(() => localStorage.getItem('ms.access'));
  const token = await page.evaluate(() => localStorage.getItem('ms.access'));
  const auth = { authorization: 'Bearer ' + token };
  const clip = makeClip(tmp, { seconds: 4, width: 480, height: 270 });
  const created = await fetch(server.url + '/v1/media?filename=clip.mp4&title=Hover%20me', { method: 'POST', headers: auth, body: readFileSync(clip) });
  assert.equal(created.status, 201, await created.clone().text());
  const { id } = await created.json();

  let item;
  for (const deadline = Date.now() + 150000; Date.now() < deadline;) {
    item = await (await fetch(server.url + '/v1/media/' + id, { headers: auth })).json();
    if (item.status === 'ready' || item.status === 'failed') break;
    await new Promise((r) => setTimeout(r, 300));
  }
  assert.equal(item.status, 'ready', JSON.stringify(item));
  // The library, loaded afresh (the upload went around the page).
  await page.goto(server.url + '/#/');
  await page.reload();
  const card = `${sel('media-card')}[data-id="${id}"]`;
  await page.waitForSelector(`${card}[data-status="ready"]`);
  assert.equal(await page.$(`${card} ${sel('media-preview')}`), null, 'no preview before hovering');

  await page.hover(card);
  const preview = `${card} ${sel('media-preview')}`;
  await page.waitForSelector(preview + ':not([hidden])', { timeout: 60000 });
  const shown = await page.$eval(preview, (img) => ({ w: img.naturalWidth, h: img.naturalHeight, src: img.src, complete: img.complete }));
  assert.ok(shown.complete, JSON.stringify(shown));
  assert.equal(shown.w, 320, JSON.stringify(shown));
  assert.equal(shown.h, 180, JSON.stringify(shown));

  // What it loaded is the item's animated WebP: several frames, looping.
  const r = await fetch(server.url + `/v1/media/${id}/animated.webp?width=320&start=0.4`, { headers: auth });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'image/webp');
  const bytes = Buffer.from(await r.arrayBuffer());
  assert.equal(bytes.toString('latin1', 8, 12), 'WEBP');
  assert.ok(bytes.includes(Buffer.from('ANMF')), 'an animation');

  // Moving away takes it off; coming back shows it again without loading it anew.
  await page.mouse.move(5, 5);
  await page.waitForSelector(preview, { state: 'hidden' });
  await page.hover(card);
  await page.waitForSelector(preview + ':not([hidden])');
  assert.equal((await page.$$(preview)).length, 1);
}));
