// First play (issue 15 §2) in a real browser: a 14 s video (adaptive ladder, the default) is
// `playable` with a master whose every variant and audio playlist holds its short first
// segment (2 s: the head, encoded beside the complexity probe; the top rung's right after the
// others', its playlist live and empty until then), and hls.js and dash.js play
// across the head/body border at 2 s and the next segment border at 6 s without the video
// stalling (no `waiting` once it plays) and without a player error. A player started as soon
// as the item is playable also passes the border.
//
// Needs what player.test.js needs (target/debug/mediaserver, ffmpeg, /usr/bin/chromium, `npm ci`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, ROOT } from './lib/server.js';
import { launchBrowser } from './lib/browser.js';
import { makeClip } from './lib/media.js';

const EMAIL = 'firstplay@example.com';
const PASSWORD = 'correct horse battery staple';
const BORDERS = [2, 6];
const HLS_JS = readFileSync(path.join(ROOT, 'crates/api/web/vendor/hls.js-1.7.4/hls.min.js'), 'utf8');

let server, browser, tmp, item, auth, failed = false;

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'mediaserver-firstplay-'));
  server = await startServer({ LADDER_MODE: 'adaptive' });
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

/** The EXTINF durations of a media playlist. */
const durations = (text) => text.split('\n').filter((l) => l.startsWith('#EXTINF:')).map((l) => parseFloat(l.slice(8)));

/** Every playlist the master names, relative to it. */
function playlistUris(master) {
  const uris = [];
  const lines = master.split('\n');
  lines.forEach((l, i) => {
    if (l.startsWith('#EXT-X-STREAM-INF:')) uris.push(lines[i + 1].trim());
    const m = l.match(/URI="([^"]+)"/);
    if (l.startsWith('#EXT-X-MEDIA:') && m) uris.push(m[1]);
  });
  return uris;
}

test('playable with every rung\'s short first segment, then ready', { timeout: 300000 }, step(async () => {
  const clip = makeClip(tmp, { seconds: 14, width: 640, height: 360 });
  assert.equal((await fetch(server.url + '/v1/auth/register', json({ email: EMAIL, password: PASSWORD }))).status, 201);
  const { access_token: token } = await (await fetch(server.url + '/v1/auth/login', json({ email: EMAIL, password: PASSWORD }))).json();
  auth = { authorization: 'Bearer ' + token };
  const created = await fetch(server.url + '/v1/media?filename=clip.mp4', { method: 'POST', headers: auth, body: readFileSync(clip) });
  assert.equal(created.status, 201, await created.clone().text());
  const id = (await created.json()).id;
  const deadline = Date.now() + 240000;
  for (;;) {
    item = await (await fetch(`${server.url}/v1/media/${id}`, { headers: auth })).json();
    if (item.playable || item.status === 'failed') break;
    assert.ok(Date.now() < deadline, `not playable in time: ${JSON.stringify(item)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.notEqual(item.status, 'failed', JSON.stringify(item));
  // What a player finds the moment the item is playable: every playlist the master names has
  // its first segment, 2 s of video (audio: whole AAC frames, within one of them) — but the top
  // rung's (listed first), whose head comes after the others': a live (EVENT) playlist that
  // gets its 2 s segment soon after.
  const masterUrl = new URL(item.signed.hls, server.url);
  const master = await (await fetch(masterUrl)).text();
  const uris = playlistUris(master);
  assert.ok(uris.length >= 3, master);
  // A player that starts on the top rung at once (where its playlist may have no segment
  // yet: hls.js reloads it) plays too.
  const lines = master.split('\n');
  const variants = lines.filter((l) => l.startsWith('#EXT-X-STREAM-INF:')).length;
  // The first variant (the audio renditions' lines come before the variants').
  const topUri = lines[lines.findIndex((l) => l.startsWith('#EXT-X-STREAM-INF:')) + 1].trim();
  const topPage = await startHls(masterUrl.href, variants - 1);
  for (const uri of uris) {
    const url = new URL(uri, masterUrl);
    const res = await fetch(url);
    assert.equal(res.status, 200, uri);
    let text = await res.text();
    if (uri === topUri && durations(text).length === 0) {
      assert.match(text, /#EXT-X-PLAYLIST-TYPE:EVENT\n/, text);
      assert.ok(!text.includes('#EXT-X-ENDLIST'), text);
      while (durations(text).length === 0) {
        assert.ok(Date.now() < deadline, `the top rung's head never came: ${text}`);
        await new Promise((r) => setTimeout(r, 50));
        text = await (await fetch(url)).text();
      }
    }
    const d = durations(text);
    assert.ok(d.length >= 1, `${uri}: ${text}`);
    assert.ok(Math.abs(d[0] - 2) < 0.05, `${uri}: first segment ${d[0]} s`);
  }
  // hls.js started now (the encode may still run: it loads the master once, the EVENT
  // playlists again) plays past the head/body border, as does the one started on the top rung.
  for (const player of [await startHls(masterUrl.href), topPage]) {
    const { page, errors } = player;
    await page.waitForFunction(() => window.__fatal || document.getElementById('v').currentTime > 2.5, null, { timeout: 120000, polling: 100 });
    assert.equal(await page.evaluate(() => window.__fatal), null);
    assert.deepEqual(errors, []);
    await page.close();
  }

  for (;;) {
    item = await (await fetch(`${server.url}/v1/media/${id}`, { headers: auth })).json();
    if (item.status === 'ready' || item.status === 'failed') break;
    assert.ok(Date.now() < deadline, `not ready in time: ${JSON.stringify(item)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(item.status, 'ready', JSON.stringify(item));
  // The finished playlists keep the short first segment, then 4 s of video per segment.
  const finalMaster = await (await fetch(new URL(item.signed.hls, server.url))).text();
  const videoUri = finalMaster.split('\n').find((l, i, all) => i > 0 && all[i - 1].startsWith('#EXT-X-STREAM-INF:'));
  const d = durations(await (await fetch(new URL(videoUri.trim(), new URL(item.signed.hls, server.url)))).text());
  assert.deepEqual(d.map((x) => Math.round(x * 1000) / 1000), [2, 4, 4, 4], `${videoUri}: ${d}`);
  const r = await fetch(`${server.url}/v1/media/${id}`, json({ visibility: 'public' }, auth, 'PATCH'));
  assert.equal(r.status, 200);
}));

/** A page playing the HLS master `src` with hls.js from 0 (on level `startLevel` if given). */
async function startHls(src, startLevel) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.setContent('<video id="v" muted playsinline></video>');
  await page.addScriptTag({ content: HLS_JS });
  await page.evaluate(([src, startLevel]) => {
    const config = { startPosition: 0 };
    if (startLevel !== null) config.startLevel = startLevel;
    const hls = new window.Hls(config);
    window.__fatal = null;
    hls.on(window.Hls.Events.ERROR, (_, d) => { if (d.fatal) window.__fatal = d.details; });
    hls.loadSource(src);
    hls.attachMedia(document.getElementById('v'));
    document.getElementById('v').play().catch(() => {});
  }, [src, startLevel ?? null]);
  return { page, errors };
}

/** The embed page, muted; records `waiting` (a stall) after the video first played. */
async function openPlayer(id) {
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
  await page.goto(`${server.url}/embed/${id}?muted=1`);
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

test('hls.js plays across the head/body border without a stall', { timeout: 120000 }, step(async () => {
  const { page, errors } = await openPlayer(item.id);
  await page.waitForFunction(() => window.__player && window.__player.engine === 'hls');
  const seen = await playAcrossBorders(page);
  assert.deepEqual(seen.stalls, [], `stalled at ${seen.stalls}`);
  assert.deepEqual(seen.errors, []);
  assert.deepEqual(errors, []);
  await page.close();
}));

test('dash.js plays across the head/body border without a stall', { timeout: 120000 }, step(async () => {
  const { page, errors } = await openPlayer(item.id);
  await page.waitForSelector('[data-testid="engine-dash"]:not([disabled])', { state: 'attached' });
  await page.click('label[for="engine-dash"]');
  await page.waitForFunction(() => window.__player && window.__player.engine === 'dash');
  const seen = await playAcrossBorders(page);
  assert.deepEqual(seen.stalls, [], `stalled at ${seen.stalls}`);
  assert.deepEqual(seen.errors, []);
  assert.deepEqual(errors, []);
  await page.close();
}));
