// Captions in a real browser: the owner uploads a SubRip file on the item page, the player's
// Captions menu lists it for hls.js and for dash.js (the versions the web UI ships), and the
// video element shows its cue at the cue's time; deleting it on the page takes it out of the
// player again.
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

const EMAIL = 'captions@example.com';
const PASSWORD = 'correct horse battery staple';
// The cue the tests look for, and one before it (a cue's start and end must come out as written).
const SRT = '1\r\n00:00:00,200 --> 00:00:01,200\r\n[music]\r\n\r\n2\r\n00:00:03,000 --> 00:00:06,000\r\nHello from the captions\r\n';

let server, browser, page, tmp, mediaId, failed = false;
const pageErrors = [];

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'mediaserver-captions-'));
  // The default preset (B-frames: the first picture's time is not its decode time), so that the
  // cue times are checked against the timeline the players really build.
  server = await startServer({ WORKERS: '1' });
  browser = await launchBrowser();
  page = await (await browser.newContext()).newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
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
const json = (body) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const sel = (id) => `[data-testid="${id}"]`;

test('a ready video, and its page for the owner', { timeout: 180000 }, step(async () => {
  const clip = makeClip(tmp, { seconds: 8, width: 320, height: 240 });
  assert.equal((await fetch(server.url + '/v1/auth/register', json({ email: EMAIL, password: PASSWORD }))).status, 201);
  const { access_token: token } = await (await fetch(server.url + '/v1/auth/login', json({ email: EMAIL, password: PASSWORD }))).json();
  const auth = { authorization: 'Bearer ' + token };
  const created = await fetch(server.url + '/v1/media?filename=clip.mp4', { method: 'POST', headers: auth, body: readFileSync(clip) });
  assert.equal(created.status, 201, await created.clone().text());
  mediaId = (await created.json()).id;
  let item;
  for (const deadline = Date.now() + 150000; Date.now() < deadline;) {
    item = await (await fetch(server.url + '/v1/media/' + mediaId, { headers: auth })).json();
    if (item.status === 'ready' || item.status === 'failed') break;
    await new Promise((r) => setTimeout(r, 300));
  }
  assert.equal(item.status, 'ready', JSON.stringify(item));

  await page.goto(server.url + '/#/login');
  await page.fill(sel('email'), EMAIL);
  await page.fill(sel('password'), PASSWORD);
  await page.click(sel('auth-submit'));
  await page.waitForSelector(sel('nav-user'));
  await page.goto(server.url + '/#/media/' + mediaId);
  await page.waitForSelector(sel('video'));
  await page.waitForSelector(sel('captions-panel'));
  // No text track yet: no Captions menu.
  await page.waitForFunction(() => window.__player && window.__player.levels().length > 0);
  assert.equal(await page.isVisible(sel('captions-menu')), false);
}));

test('the owner uploads a SubRip file on the page', { timeout: 60000 }, step(async () => {
  await page.setInputFiles(sel('caption-file'), { name: 'english.srt', mimeType: 'application/x-subrip', buffer: Buffer.from(SRT) });
  await page.fill(sel('caption-language'), 'en');
  await page.fill(sel('caption-label'), 'English CC');
  await page.selectOption(sel('caption-kind'), 'captions');
  await page.click(sel('caption-upload'));
  await page.waitForSelector(sel('text-track'));
  assert.deepEqual(await page.$$eval(sel('text-track'), (li) => li.map((l) => l.querySelector('span').textContent)), ['English CC · en · captions']);
}));

/** Seeks the page's video to `t` and waits for the showing text track's active cues there. */
async function cueAt(t) {
  return page.evaluate(async (at) => {
    const video = document.querySelector('[data-testid="video"]');
    video.muted = true;
    video.currentTime = at;
    await new Promise((resolve) => video.addEventListener('seeked', resolve, { once: true }));
    // The WebVTT file is fetched once the track is chosen; give it a moment to arrive.
    for (const deadline = Date.now() + 15000; Date.now() < deadline;) {
      const showing = [...video.textTracks].find((tr) => tr.mode === 'showing');
      if (showing && showing.cues && showing.cues.length) {
        const active = [...(showing.activeCues || [])].map((c) => ({ text: c.text, start: c.startTime, end: c.endTime }));
        const all = [...showing.cues].map((c) => ({ text: c.text, start: c.startTime, end: c.endTime }));
        return { time: video.currentTime, active, all, language: showing.language, label: showing.label };
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return null;
  }, t);
}

/** Picks the uploaded track in the Captions menu and checks the cues the video shows. */
async function captionsShowTheCue(engine) {
  await page.waitForFunction((e) => window.__player && window.__player.engine === e && window.__captions, engine);
  const menu = await page.waitForSelector(sel('captions-menu'), { state: 'visible', timeout: 30000 });
  assert.equal(await page.textContent('label[for="captions-track"]'), 'Captions');
  assert.deepEqual(await menu.$$eval('option', (os) => os.map((o) => o.textContent)), ['Off', 'English CC (en)']);
  assert.equal(await menu.$eval('option:checked', (o) => o.textContent), 'Off');
  await page.evaluate(() => document.querySelector('[data-testid="video"]').play().catch(() => {}));
  await page.selectOption(sel('captions-menu'), { label: 'English CC (en)' });
  assert.equal(await page.evaluate(() => window.__captions.current()), 0);

  const during = await cueAt(4);
  assert.ok(during, `${engine}: no showing text track with cues`);
  // Both cues at their times, as the file says: no offset between the stream and the captions.
  assert.deepEqual(during.all.map((c) => c.text), ['[music]', 'Hello from the captions']);
  assert.ok(Math.abs(during.all[1].start - 3) < 0.05 && Math.abs(during.all[1].end - 6) < 0.05, JSON.stringify(during));
  assert.ok(Math.abs(during.all[0].start - 0.2) < 0.05, JSON.stringify(during));
  assert.deepEqual(during.active.map((c) => c.text), ['Hello from the captions'], JSON.stringify(during));
  const between = await cueAt(2);
  assert.deepEqual(between.active, [], JSON.stringify(between));
  assert.deepEqual(await page.evaluate(() => window.__player.errors), []);
  assert.deepEqual(pageErrors, []);
}

test('hls.js: the Captions menu lists the track and the video shows its cue at its time', { timeout: 90000 }, step(async () => {
  await captionsShowTheCue('hls');
  assert.equal(await page.evaluate(() => window.__player.hls.subtitleTracks[window.__player.hls.subtitleTrack].lang), 'en');
}));

test('dash.js: the Captions menu lists the track and the video shows its cue at its time', { timeout: 90000 }, step(async () => {
  await page.reload();
  await page.waitForSelector(`${sel('engine-dash')}:not([disabled])`, { state: 'attached' });
  await page.click('label[for="engine-dash"]');
  await captionsShowTheCue('dash');
}));

test('the owner deletes the track on the page and the player drops it', { timeout: 60000 }, step(async () => {
  await page.click(sel('text-track-delete'));
  await page.click(sel('confirm-ok'));
  await page.waitForSelector(sel('text-track'), { state: 'detached' });
  await page.waitForFunction(() => window.__captions && window.__captions.tracks().length === 0 && window.__player.levels().length > 0, null, { timeout: 30000 });
  assert.equal(await page.isVisible(sel('captions-menu')), false);
  assert.deepEqual(pageErrors, []);
}));
