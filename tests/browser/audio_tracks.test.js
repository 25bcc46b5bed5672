// Two audio languages in a real browser: an upload with an English and a Spanish track plays
// through hls.js and dash.js (the versions the web UI ships), both players list both tracks
// with their languages, and switching to Spanish keeps playback going on the Spanish track; then
// the same through the page's player, by picking Spanish in its "Audio" menu.
//
// Needs what player.test.js needs (target/debug/mediaserver, ffmpeg, /usr/bin/chromium, `npm ci`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer } from './lib/server.js';
import { launchBrowser } from './lib/browser.js';
import { makeClip } from './lib/media.js';

const EMAIL = 'languages@example.com';
const PASSWORD = 'correct horse battery staple';

let server, browser, page, tmp, urls, mediaId, failed = false;
const pageErrors = [];

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'mediaserver-languages-'));
  server = await startServer({ WORKERS: '1', TRANSCODE_PRESET: 'ultrafast' });
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

test('an upload with two languages becomes ready with two audio tracks', { timeout: 180000 }, step(async () => {
  const clip = path.join(tmp, 'languages.mkv');
  execFileSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=8',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=8',
    '-f', 'lavfi', '-i', 'sine=frequency=660:sample_rate=48000:duration=8',
    '-map', '0:v', '-map', '1:a', '-map', '2:a',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac',
    '-metadata:s:a:0', 'language=eng', '-metadata:s:a:1', 'language=spa', clip,
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
  assert.equal((await fetch(server.url + '/v1/auth/register', json({ email: EMAIL, password: PASSWORD }))).status, 201);
  const { access_token: token } = await (await fetch(server.url + '/v1/auth/login', json({ email: EMAIL, password: PASSWORD }))).json();
  const auth = { authorization: 'Bearer ' + token };
  const created = await fetch(server.url + '/v1/media?filename=languages.mkv', { method: 'POST', headers: auth, body: readFileSync(clip) });
  assert.equal(created.status, 201, await created.clone().text());
  const { id } = await created.json();
  mediaId = id;
  let item;
  for (const deadline = Date.now() + 150000; Date.now() < deadline;) {
    item = await (await fetch(server.url + '/v1/media/' + id, { headers: auth })).json();
    if (item.status === 'ready' || item.status === 'failed') break;
    await new Promise((r) => setTimeout(r, 300));
  }
  assert.equal(item.status, 'ready', JSON.stringify(item));
  assert.deepEqual(item.audio_tracks.map((t) => [t.language, t.name, t.default]), [['eng', 'English', true], ['spa', 'Spanish', false]]);
  const signed = await (await fetch(server.url + `/v1/media/${id}/playback-token`, { ...json({ ttl_seconds: 600 }), headers: { ...auth, 'content-type': 'application/json' } })).json();
  urls = { hls: server.url + signed.hls, dash: server.url + signed.dash };
  // The app's page: it loads the vendored hls.js and dash.js.
  await page.goto(server.url + '/');
  await page.waitForFunction(() => window.Hls && window.dashjs);
}));

test('hls.js lists both tracks and switches to Spanish while playing', { timeout: 60000 }, step(async () => {
  const result = await page.evaluate(async (url) => {
    const video = document.createElement('video');
    video.muted = true;
    document.body.append(video);
    const hls = new window.Hls();
    window.__hls = hls;
    const tracks = new Promise((resolve) => hls.on(window.Hls.Events.AUDIO_TRACKS_UPDATED, (_, d) => resolve(d.audioTracks)));
    hls.loadSource(url);
    hls.attachMedia(video);
    const listed = (await tracks).map((t) => ({ lang: t.lang, name: t.name, default: t.default }));
    await video.play();
    await new Promise((resolve) => { const check = () => (video.currentTime > 1 ? resolve() : setTimeout(check, 100)); check(); });
    const switched = new Promise((resolve) => hls.on(window.Hls.Events.AUDIO_TRACK_SWITCHED, (_, d) => resolve(d.id)));
    hls.audioTrack = 1;
    const id = await switched;
    const t0 = video.currentTime;
    await new Promise((resolve) => { const check = () => (video.currentTime > t0 + 1.5 ? resolve() : setTimeout(check, 100)); check(); });
    return { listed, id, current: hls.audioTracks[hls.audioTrack].lang, time: video.currentTime };
  }, urls.hls);
  assert.deepEqual(result.listed, [
    { lang: 'eng', name: 'English', default: true },
    { lang: 'spa', name: 'Spanish', default: false },
  ]);
  assert.equal(result.id, 1);
  assert.equal(result.current, 'spa');
  assert.deepEqual(pageErrors, []);
}));

test('dash.js lists both tracks and switches to Spanish while playing', { timeout: 60000 }, step(async () => {
  const result = await page.evaluate(async (url) => {
    const video = document.createElement('video');
    video.muted = true;
    document.body.append(video);
    const player = window.dashjs.MediaPlayer().create();
    const ready = new Promise((resolve) => player.on(window.dashjs.MediaPlayer.events.STREAM_INITIALIZED, resolve));
    player.initialize(video, url, true);
    await ready;
    const tracks = player.getTracksFor('audio');
    const listed = tracks.map((t) => t.lang);
    const first = player.getCurrentTrackFor('audio').lang;
    await new Promise((resolve) => { const check = () => (video.currentTime > 1 ? resolve() : setTimeout(check, 100)); check(); });
    player.setCurrentTrack(tracks.find((t) => t.lang === 'es'));
    const t0 = video.currentTime;
    await new Promise((resolve) => { const check = () => (video.currentTime > t0 + 1.5 ? resolve() : setTimeout(check, 100)); check(); });
    return { listed, first, current: player.getCurrentTrackFor('audio').lang };
  }, urls.dash);
  // dash.js reports the MPD's ISO 639-2 `lang` ("eng", "spa") as the shortest BCP 47 tag.
  assert.deepEqual(result.listed, ['en', 'es']);
  assert.equal(result.first, 'en');
  assert.equal(result.current, 'es');
  assert.deepEqual(pageErrors, []);
}));

const sel = (id) => `[data-testid="${id}"]`;

/** Plays the page's video past `seconds` (muted, so that autoplay rules allow it). */
async function playPast(seconds) {
  await page.evaluate(() => { const v = document.querySelector('[data-testid="video"]'); v.muted = true; return v.play(); });
  await page.waitForFunction((s) => document.querySelector('[data-testid="video"]').currentTime > s, seconds, { timeout: 30000, polling: 100 });
}

/** The engine's own current audio track: hls.js' `audioTrack` index, dash.js' track `lang`. */
const CURRENT = {
  hls: () => window.__player.hls.audioTrack,
  dash: () => window.__player.dash.getCurrentTrackFor('audio').lang,
};

/** Picks Spanish in the page's audio menu; the engine must then be on the Spanish track
 *  (`spanish`, as CURRENT reads it) while the video's time goes on. */
async function pickSpanishAndKeepPlaying(engine, spanish) {
  const menu = await page.waitForSelector(sel('audio-menu'), { state: 'visible', timeout: 30000 });
  assert.equal(await page.textContent('label[for="audio-track"]'), 'Audio');
  assert.deepEqual(await menu.$$eval('option', (os) => os.map((o) => o.textContent)), ['English', 'Spanish']);
  assert.equal(await menu.$eval('option:checked', (o) => o.textContent), 'English');
  await playPast(1);
  assert.notEqual(await page.evaluate(CURRENT[engine]), spanish, 'English plays first');
  await page.selectOption(sel('audio-menu'), { label: 'Spanish' });
  const t0 = await page.evaluate(() => document.querySelector('[data-testid="video"]').currentTime);
  await page.waitForFunction(
    ([want, t]) => {
      const p = window.__player;
      const cur = p.engine === 'hls' ? p.hls.audioTrack : p.dash.getCurrentTrackFor('audio').lang;
      return cur === want && document.querySelector('[data-testid="video"]').currentTime > t + 1.5;
    },
    [spanish, t0], { timeout: 30000, polling: 100 });
  assert.equal(await page.evaluate(CURRENT[engine]), spanish);
  assert.equal(await menu.$eval('option:checked', (o) => o.textContent), 'Spanish');
  assert.deepEqual(await page.evaluate(() => window.__player.errors), []);
  assert.deepEqual(pageErrors, []);
}

test('the page logs in and opens the item', { timeout: 60000 }, step(async () => {
  // A fresh context: the players the tests above added stay out of the way, and so does the
  // audio language dash.js remembers in localStorage (Spanish, from the test above).
  await page.context().close();
  page = await (await browser.newContext()).newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(server.url + '/#/login');
  await page.fill(sel('email'), EMAIL);
  await page.fill(sel('password'), PASSWORD);
  await page.click(sel('auth-submit'));
  await page.waitForSelector(sel('nav-user'));
  await page.goto(server.url + '/#/media/' + mediaId);
  await page.waitForSelector(sel('video'));
}));

test("the page's Audio menu switches hls.js to Spanish while playing", { timeout: 90000 }, step(async () => {
  await page.waitForFunction(() => window.__player && window.__player.engine === 'hls');
  await pickSpanishAndKeepPlaying('hls', 1);
  assert.equal(await page.evaluate(() => window.__player.hls.audioTracks[window.__player.hls.audioTrack].lang), 'spa');
}));

test("the page's Audio menu switches dash.js to Spanish while playing", { timeout: 90000 }, step(async () => {
  await page.reload();
  await page.waitForSelector(`${sel('engine-dash')}:not([disabled])`, { state: 'attached' });
  await page.click('label[for="engine-dash"]');
  await page.waitForFunction(() => window.__player && window.__player.engine === 'dash');
  await pickSpanishAndKeepPlaying('dash', 'es');
}));

test('the Audio menu is hidden for an item with one audio track', { timeout: 180000 }, step(async () => {
  const clip = makeClip(tmp, { seconds: 4, width: 320, height: 240, name: 'one.mp4' });
  const { access_token: token } = await (await fetch(server.url + '/v1/auth/login', json({ email: EMAIL, password: PASSWORD }))).json();
  const auth = { authorization: 'Bearer ' + token };
  const created = await fetch(server.url + '/v1/media?filename=one.mp4', { method: 'POST', headers: auth, body: readFileSync(clip) });
  assert.equal(created.status, 201, await created.clone().text());
  const { id } = await created.json();
  for (const deadline = Date.now() + 150000; ;) {
    const item = await (await fetch(server.url + '/v1/media/' + id, { headers: auth })).json();
    if (item.status === 'ready') { assert.equal(item.audio_tracks.length, 1); break; }
    assert.notEqual(item.status, 'failed', JSON.stringify(item));
    assert.ok(Date.now() < deadline, 'not ready in time');
    await new Promise((r) => setTimeout(r, 300));
  }
  await page.goto(server.url + '/#/media/' + id);
  await page.waitForFunction(() => window.__player && window.__player.engine === 'hls');
  await playPast(0.5);
  assert.equal(await page.evaluate(() => window.__player.audioTracks().length), 1);
  await page.waitForSelector(sel('audio-menu'), { state: 'attached' });
  assert.equal(await page.isHidden(sel('audio-menu')), true);
}));
