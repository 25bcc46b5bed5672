// Downloads on an item's page: a private video's page lists its MP4s and M4A as links that work
// without a login header (they carry the owner's signed token), and a click saves the file under
// a name made from the title.
//
// Needs what player.test.js needs (target/debug/mediaserver, ffmpeg, /usr/bin/chromium, `npm ci`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer } from './lib/server.js';
import { launchBrowser } from './lib/browser.js';
import { makeClip } from './lib/media.js';

const EMAIL = 'downloads@example.com';
const PASSWORD = 'correct horse battery staple';
const sel = (id) => `[data-testid="${id}"]`;

let server, browser, page, tmp, failed = false;

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'mediaserver-downloads-'));
  server = await startServer({ WORKERS: '1', TRANSCODE_PRESET: 'ultrafast' });
  browser = await launchBrowser();
  page = await (await browser.newContext({ acceptDownloads: true, viewport: { width: 1200, height: 900 } })).newPage();
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

test('a private video page lists its downloads, and a click saves the MP4 named after the title', { timeout: 180000 }, step(async () => {
  await page.goto(server.url + '/#/register');
  await page.fill(sel('email'), EMAIL);
  await page.fill(sel('password'), PASSWORD);
  await page.click(sel('auth-submit'));
  await page.waitForFunction(() => localStorage.getItem('ms.access'));
  const token = await page.evaluate(() => localStorage.getItem('ms.access'));
  const auth = { authorization: 'Bearer ' + token };
  const clip = makeClip(tmp, { seconds: 3 });
  const created = await fetch(server.url + '/v1/media?filename=clip.mp4&title=Beach%20day', { method: 'POST', headers: auth, body: readFileSync(clip) });
  assert.equal(created.status, 201, await created.clone().text());
  const { id } = await created.json();
  let item;
  for (const deadline = Date.now() + 150000; Date.now() < deadline;) {
    item = await (await fetch(server.url + '/v1/media/' + id, { headers: auth })).json();
    if (item.status === 'ready' || item.status === 'failed') break;
    await new Promise((r) => setTimeout(r, 300));
  }
  assert.equal(item.status, 'ready', JSON.stringify(item));
  assert.equal(item.visibility, 'private');
  const names = item.downloads.map((d) => d.name);
  assert.equal(names.at(-1), 'audio');
  assert.ok(names.length >= 2, JSON.stringify(item.downloads));

  await page.goto(server.url + '/#/media/' + id);
  await page.waitForSelector(sel('downloads-panel') + ':not([hidden])');
  const links = await page.$$eval(sel('downloads-panel') + ' a', (as) => as.map((a) => ({ text: a.textContent, href: a.getAttribute('href') })));
  assert.equal(links.length, names.length);
  for (const { href } of links) {
    // Private: the link carries the signed token and needs no Authorization header.
    assert.match(href, /^\/v1\/play\/[^/]+\/downloads\//);
    const r = await fetch(server.url + href, { method: 'HEAD' });
    assert.equal(r.status, 200, href);
    assert.match(r.headers.get('content-disposition'), /^attachment; /);
  }

  const first = item.downloads[0];
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(sel('download-' + first.name))]);
  assert.equal(download.suggestedFilename(), `Beach day (${first.name}).mp4`);
  const saved = path.join(tmp, 'saved.mp4');
  await download.saveAs(saved);
  assert.equal(statSync(saved).size, first.bytes);
}));
