// Chunked encoding (issue 15 §1) in a real browser: a 20 s video encoded as chunks of 8 s
// (CHUNK_SECONDS=8, CHUNK_MIN_SECONDS=10: three chunk jobs, a rest job and an assemble job, run
// by two in-process workers) plays in Chromium with hls.js and with dash.js across the chunk
// borders at 8 s and 16 s: currentTime passes them without the video stalling (no `waiting`
// once it plays) and without a player error.
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

const EMAIL = 'chunks@example.com';
const PASSWORD = 'correct horse battery staple';
const BORDERS = [8, 16];

let server, browser, tmp, item, failed = false;

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'mediaserver-chunked-'));
  server = await startServer({ CHUNK_SECONDS: '8', CHUNK_MIN_SECONDS: '10', WORKERS: '2' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  if (failed && server) console.log('--- server log (tail) ---\n' + server.logs().split('\n').slice(-80).join('\n'));
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const step = (fn) => async (t) => {
  try { await fn(t); } catch (e) { failed = true; throw e; }
};

const json = (body, headers = {}, method = 'POST') => ({ method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

test('a 20 s video is encoded as chunks and published', { timeout: 300000 }, step(async () => {
  const clip = makeClip(tmp, { seconds: 20, width: 640, height: 360 });
  assert.equal((await fetch(server.url + '/v1/auth/register', json({ email: EMAIL, password: PASSWORD }))).status, 201);
  const { access_token: token } = await (await fetch(server.url + '/v1/auth/login', json({ email: EMAIL, password: PASSWORD }))).json();
  const auth = { authorization: 'Bearer ' + token };
  const created = await fetch(server.url + '/v1/media?filename=clip.mp4', { method: 'POST', headers: auth, body: readFileSync(clip) });
  assert.equal(created.status, 201, await created.clone().text());
  const id = (await created.json()).id;
  const deadline = Date.now() + 240000;
  let chunks = null;
  for (;;) {
    item = await (await fetch(`${server.url}/v1/media/${id}`, { headers: auth })).json();
    if (item.chunks) chunks = item.chunks;
    if (item.status === 'ready' || item.status === 'failed') break;
    assert.ok(Date.now() < deadline, `not ready in time: ${JSON.stringify(item)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(item.status, 'ready', JSON.stringify(item));
  // It was chunked: the item showed its chunks while they were encoded.
  assert.ok(chunks, 'the item never showed chunks');
  assert.equal(chunks.total, 3, JSON.stringify(chunks));
  assert.equal(item.chunks, undefined, 'no chunks once ready');
  // /metrics of the process whose workers ran them.
  const metrics = await (await fetch(server.url + '/metrics')).text();
  const value = (name) => {
    const line = metrics.split('\n').find((l) => l.startsWith(name + ' '));
    return line ? Number(line.split(' ').pop()) : undefined;
  };
  assert.equal(value('chunked_items_total'), 1, metrics);
  assert.equal(value('chunk_jobs_queued_total{kind="chunk"}'), 3, metrics);
  assert.equal(value('chunk_jobs_completed_total{kind="chunk"}'), 3, metrics);
  assert.equal(value('chunk_jobs_completed_total{kind="rest"}'), 1, metrics);
  assert.equal(value('chunk_jobs_running{kind="chunk"}'), 0, metrics);
  const r = await fetch(`${server.url}/v1/media/${id}`, json({ visibility: 'public' }, auth, 'PATCH'));
  assert.equal(r.status, 200);
}));

/** The embed page, muted; records `waiting` (a stall) after the video first played. */
async function openPlayer() {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.addInitScript(() => {
    window.__stalls = [];
    document.addEventListener('playing', () => { window.__played = true; }, true);
    document.addEventListener('waiting', (e) => {
      if (window.__played) window.__stalls.push(e.target.currentTime);
    }, true);
  });
  await page.goto(`${server.url}/embed/${item.id}?muted=1`);
  await page.waitForSelector('[data-testid="video"]');
  return { page, errors };
}

async function playAcrossBorders(page) {
  await page.evaluate(() => {
    const v = document.querySelector('[data-testid="video"]');
    v.muted = true;
    return v.play().catch(() => {});
  });
  const last = BORDERS[BORDERS.length - 1] + 1;
  await page.waitForFunction((s) => document.querySelector('[data-testid="video"]').currentTime > s, last, { timeout: 90000, polling: 100 });
  return page.evaluate(() => ({
    stalls: window.__stalls,
    errors: window.__player ? window.__player.errors : ['no player'],
  }));
}

test('hls.js plays across the chunk borders without a stall', { timeout: 120000 }, step(async () => {
  const { page, errors } = await openPlayer();
  await page.waitForFunction(() => window.__player && window.__player.engine === 'hls');
  const seen = await playAcrossBorders(page);
  assert.deepEqual(seen.stalls, [], `stalled at ${seen.stalls}`);
  assert.deepEqual(seen.errors, []);
  assert.deepEqual(errors, []);
  await page.close();
}));

test('dash.js plays across the chunk borders without a stall', { timeout: 120000 }, step(async () => {
  const { page, errors } = await openPlayer();
  await page.waitForSelector('[data-testid="engine-dash"]:not([disabled])', { state: 'attached' });
  await page.click('label[for="engine-dash"]');
  await page.waitForFunction(() => window.__player && window.__player.engine === 'dash');
  const seen = await playAcrossBorders(page);
  assert.deepEqual(seen.stalls, [], `stalled at ${seen.stalls}`);
  assert.deepEqual(seen.errors, []);
  assert.deepEqual(errors, []);
  await page.close();
}));
