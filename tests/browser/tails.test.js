// Short clips end in hls.js and dash.js, and loop (issue 15 §2, `transcode/tail.rs`). The dash
// muxer used to end a stream that runs a few milliseconds past a cut on a segment of one or two
// frames (a 6 s clip's audio, cut every 2 s: 1.984, 2.005, 2.005, 0.021 s); hls.js never loads
// a fragment that short, so the buffer stopped 21 ms short, MediaSource never ended and the
// video sat at 5.96 s forever: no `ended`, and `loop` never looped. Two clips (6 s, and 8.05 s:
// a frame past 8 s) through the default pipeline, each played to its end in both engines of
// the embed page, then with `loop=1` (hls.js) past its end back to the beginning.
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

const EMAIL = 'tails@example.com';
const PASSWORD = 'correct horse battery staple';
const CLIPS = [6, 8.05];

let server, browser, tmp, auth, failed = false;
const items = new Map();

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'mediaserver-tails-'));
  server = await startServer({ WORKERS: '1', TRANSCODE_PRESET: 'ultrafast' });
  browser = await launchBrowser();
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

const json = (body, headers = {}, method = 'POST') => ({ method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

test('two short clips are ready and public', { timeout: 240000 }, step(async () => {
  assert.equal((await fetch(server.url + '/v1/auth/register', json({ email: EMAIL, password: PASSWORD }))).status, 201);
  const { access_token: token } = await (await fetch(server.url + '/v1/auth/login', json({ email: EMAIL, password: PASSWORD }))).json();
  auth = { authorization: 'Bearer ' + token };
  for (const seconds of CLIPS) {
    const clip = makeClip(tmp, { seconds, width: 320, height: 240, name: `clip-${seconds}.mp4` });
    const created = await fetch(server.url + '/v1/media?filename=clip.mp4', { method: 'POST', headers: auth, body: readFileSync(clip) });
    assert.equal(created.status, 201, await created.clone().text());
    items.set(seconds, (await created.json()).id);
  }
  for (const [seconds, id] of items) {
    let item;
    for (const deadline = Date.now() + 200000; ;) {
      item = await (await fetch(`${server.url}/v1/media/${id}`, { headers: auth })).json();
      if (item.status === 'ready' || item.status === 'failed') break;
      assert.ok(Date.now() < deadline, `${seconds} s: not ready in time: ${JSON.stringify(item)}`);
      await new Promise((r) => setTimeout(r, 300));
    }
    assert.equal(item.status, 'ready', JSON.stringify(item));
    const r = await fetch(`${server.url}/v1/media/${id}`, json({ visibility: 'public' }, auth, 'PATCH'));
    assert.equal(r.status, 200);
  }
}));

/** The embed page of `seconds`' clip (muted, with `query`), its player on `engine`; records
 *  `ended` and every currentTime seen by `timeupdate`. */
async function openPlayer(seconds, engine, query = '') {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.addInitScript(() => {
    window.__ended = false;
    window.__times = [];
    document.addEventListener('ended', () => { window.__ended = true; }, true);
    document.addEventListener('timeupdate', (e) => { window.__times.push(e.target.currentTime); }, true);
  });
  await page.goto(`${server.url}/embed/${items.get(seconds)}?muted=1${query}`);
  await page.waitForSelector('[data-testid="video"]');
  await page.waitForFunction(() => window.__player && window.__player.engine);
  if (engine === 'dash') {
    await page.waitForSelector('[data-testid="engine-dash"]:not([disabled])', { state: 'attached' });
    await page.click('label[for="engine-dash"]');
  }
  await page.waitForFunction((e) => window.__player && window.__player.engine === e, engine);
  // Play once the engine has the stream, asking again until it plays: a play() that comes
  // while the engine (re)attaches its source was seen to leave the video paused at 0.
  await page.waitForFunction(() => {
    const v = document.querySelector('[data-testid="video"]');
    v.muted = true;
    if (v.readyState >= 1 && v.paused && !v.ended) v.play().catch(() => {});
    return !v.paused || v.ended;
  }, null, { timeout: 30000, polling: 250 });
  return { page, errors };
}

/** What the video element and the player say (for failure messages). */
const state = (page) => page.evaluate(() => {
  const v = document.querySelector('[data-testid="video"]');
  const ranges = (r) => Array.from({ length: r.length }, (_, i) => [r.start(i), r.end(i)]);
  return {
    currentTime: v.currentTime, duration: v.duration, paused: v.paused, ended: v.ended, readyState: v.readyState,
    buffered: ranges(v.buffered), times: window.__times.slice(-8), errors: window.__player.errors,
  };
});

for (const seconds of CLIPS) {
  for (const engine of ['hls', 'dash']) {
    test(`${seconds} s clip: ${engine === 'hls' ? 'hls.js' : 'dash.js'} plays it to its end`, { timeout: 90000 }, step(async () => {
      const { page, errors } = await openPlayer(seconds, engine);
      // The video ends, at the end (never while buffering short of it): the `ended` event, or
      // the element ended at its duration — Chromium was seen (once, dash.js, on a loaded
      // machine) to reach the end as MediaSource ended, `ended` true, without the event.
      const ended = await page.waitForFunction(() => {
        const v = document.querySelector('[data-testid="video"]');
        return window.__ended || (v.ended && v.currentTime >= v.duration - 0.05);
      }, null, { timeout: 60000, polling: 100 }).then(() => true, () => false);
      const now = await state(page);
      assert.ok(ended, 'never ended: ' + JSON.stringify(now));
      assert.ok(now.currentTime > seconds - 0.3, JSON.stringify(now));
      assert.deepEqual(now.errors, []);
      assert.deepEqual(errors, []);
      await page.close();
    }));

    // `loop` with hls.js, the embed page's default engine (dash.js 5.2.1 alone was seen, once in
    // four runs on a loaded machine, to jump back half a second before the end and pause
    // instead of looping the 8.05 s clip: not this check's subject).
    if (engine !== 'hls') continue;
    test(`${seconds} s clip: hls.js loops it`, { timeout: 90000 }, step(async () => {
      const { page, errors } = await openPlayer(seconds, engine, '&loop=1');
      assert.equal(await page.evaluate(() => document.querySelector('[data-testid="video"]').loop), true);
      // Past the end of the clip back to its beginning.
      const looped = await page.waitForFunction((s) => {
        const t = window.__times;
        const top = t.indexOf(Math.max(...t));
        return t[top] > s - 1 && t.slice(top + 1).some((x) => x < 1);
      }, seconds, { timeout: 60000, polling: 100 }).then(() => true, () => false);
      assert.ok(looped, 'never looped: ' + JSON.stringify(await state(page)));
      assert.deepEqual(await page.evaluate(() => window.__player.errors), []);
      assert.deepEqual(errors, []);
      await page.close();
    }));
  }
}
