// AV1 in a real browser: an item published with VIDEO_CODECS=h264,av1,hevc plays in Chromium
// on an AV1 rung with hls.js and with dash.js (the video's currentTime advances and the level
// playing is av01). Chromium on Linux cannot decode HEVC: both players leave its variants out,
// and with AV1 refused too (MediaSource told to say no) they play the H.264 rungs.
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

const EMAIL = 'av1@example.com';
const PASSWORD = 'correct horse battery staple';

let server, browser, tmp, item, failed = false;

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'mediaserver-av1-'));
  // The fastest AV1 and HEVC presets: what is tested is what the players make of the outputs.
  // x264 at the server's default (veryfast), not ultrafast: whether AV1 pays is judged against
  // the H.264 actually published, and ultrafast spends so much on a held picture that AV1
  // would pay even on slides.
  server = await startServer({ VIDEO_CODECS: 'h264,av1,hevc', AV1_PRESET: '12', HEVC_PRESET: 'ultrafast', TRANSCODE_PRESET: 'veryfast' });
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

/** The embed page of the item (the web UI's player alone), muted so it may play; `refuse`:
 *  codec prefixes MediaSource reports unsupported, as on a browser without those decoders. */
async function openPlayer(refuse = []) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  if (refuse.length) {
    await page.addInitScript((prefixes) => {
      const refused = (type) => prefixes.some((p) => type.includes(`codecs="${p}`) || type.includes(`codecs=${p}`));
      const original = MediaSource.isTypeSupported.bind(MediaSource);
      MediaSource.isTypeSupported = (type) => !refused(type) && original(type);
      // dash.js asks the Media Capabilities API.
      const decodingInfo = navigator.mediaCapabilities.decodingInfo.bind(navigator.mediaCapabilities);
      navigator.mediaCapabilities.decodingInfo = (config) => (config.video && refused(config.video.contentType)
        ? Promise.resolve({ supported: false, smooth: false, powerEfficient: false })
        : decodingInfo(config));
    }, refuse);
  }
  await page.goto(`${server.url}/embed/${item.id}?muted=1`);
  await page.waitForSelector('[data-testid="video"]');
  return { page, errors };
}

async function playPast(page, seconds) {
  await page.evaluate(() => {
    const v = document.querySelector('[data-testid="video"]');
    v.muted = true;
    return v.play().catch(() => {});
  });
  await page.waitForFunction((s) => document.querySelector('[data-testid="video"]').currentTime > s, seconds, { timeout: 60000, polling: 100 });
}

/** The video codec of the level hls.js is loading now. */
const hlsCodec = (page) => page.evaluate(() => {
  const h = window.__player.hls;
  const l = h.levels[h.loadLevel] || h.levels[h.currentLevel];
  return l ? l.videoCodec : null;
});

/** The codecs of the video representation dash.js plays now. */
const dashCodec = (page) => page.evaluate(() => {
  const r = window.__player.dash.getCurrentRepresentationForType('video');
  return r ? r.codecs : null;
});

async function useDash(page) {
  await page.waitForSelector('[data-testid="engine-dash"]:not([disabled])', { state: 'attached' });
  await page.click('label[for="engine-dash"]');
  await page.waitForFunction(() => window.__player && window.__player.engine === 'dash');
}

test('a video is published in H.264, AV1 and HEVC', { timeout: 300000 }, step(async () => {
  const clip = makeClip(tmp, { seconds: 8, width: 640, height: 360 });
  assert.equal((await fetch(server.url + '/v1/auth/register', json({ email: EMAIL, password: PASSWORD }))).status, 201);
  const { access_token: token } = await (await fetch(server.url + '/v1/auth/login', json({ email: EMAIL, password: PASSWORD }))).json();
  const auth = { authorization: 'Bearer ' + token };
  const created = await fetch(server.url + '/v1/media?filename=clip.mp4', { method: 'POST', headers: auth, body: readFileSync(clip) });
  assert.equal(created.status, 201, await created.clone().text());
  const id = (await created.json()).id;
  const deadline = Date.now() + 240000;
  for (;;) {
    item = await (await fetch(`${server.url}/v1/media/${id}`, { headers: auth })).json();
    if (item.status === 'ready' || item.status === 'failed') break;
    assert.ok(Date.now() < deadline, `not ready in time: ${JSON.stringify(item)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.equal(item.status, 'ready', JSON.stringify(item));
  assert.deepEqual(item.renditions.map((r) => r.codec), ['h264', 'h264', 'av1', 'av1', 'hevc', 'hevc']);
  const r = await fetch(`${server.url}/v1/media/${id}`, json({ visibility: 'public' }, auth, 'PATCH'));
  assert.equal(r.status, 200);
}));

test('Chromium here decodes AV1 and not HEVC (what the other tests rely on)', { timeout: 60000 }, step(async () => {
  const { page } = await openPlayer();
  const mime = (codec) => `video/mp4; codecs="${item.renditions.find((r) => r.codec === codec).codecs.split(',')[0]}"`;
  const supported = await page.evaluate(([av1, hevc]) => [MediaSource.isTypeSupported(av1), MediaSource.isTypeSupported(hevc)], [mime('av1'), mime('hevc')]);
  assert.deepEqual(supported, [true, false], `${mime('av1')}, ${mime('hevc')}`);
  await page.close();
}));

test('hls.js plays an AV1 rung and leaves HEVC out', { timeout: 120000 }, step(async () => {
  const { page, errors } = await openPlayer();
  await page.waitForFunction(() => window.__player && window.__player.engine === 'hls' && window.__player.hls.levels.length > 0);
  await playPast(page, 2);
  const codecs = await page.evaluate(() => window.__player.hls.levels.map((l) => l.videoCodec));
  assert.ok(codecs.some((c) => c.startsWith('av01')), codecs.join());
  assert.ok(!codecs.some((c) => /^(hvc1|hev1)/.test(c)), codecs.join());
  assert.match(await hlsCodec(page), /^av01\./);
  const t = await page.evaluate(() => document.querySelector('[data-testid="video"]').currentTime);
  await page.waitForFunction((s) => document.querySelector('[data-testid="video"]').currentTime > s + 1, t, { timeout: 30000, polling: 100 });
  assert.match(await hlsCodec(page), /^av01\./);
  // The quality menu says which rungs are AV1.
  const options = await page.$$eval('[data-testid="quality-select"] option', (os) => os.map((o) => o.textContent));
  assert.ok(options.some((o) => /AV1/.test(o)), options.join(' | '));
  assert.deepEqual(await page.evaluate(() => window.__player.errors), []);
  assert.deepEqual(errors, []);
  await page.close();
}));

test('dash.js plays the AV1 adaptation set and leaves HEVC out', { timeout: 120000 }, step(async () => {
  const { page, errors } = await openPlayer();
  await useDash(page);
  await playPast(page, 2);
  assert.match(await dashCodec(page), /^av01\./);
  const tracks = await page.evaluate(() => window.__player.dash.getTracksFor('video').map((t) => t.codec || ''));
  assert.ok(!tracks.some((c) => /hvc1|hev1/.test(c)), tracks.join());
  assert.deepEqual(await page.evaluate(() => window.__player.errors), []);
  assert.deepEqual(errors, []);
  await page.close();
}));

test('a slide deck goes without AV1, and the item page says why', { timeout: 300000 }, step(async () => {
  // Two held pictures: AV1's trial encodes find it would need about H.264's bytes here.
  const src = path.join(tmp, 'slides.mp4');
  const hold = (s, label) => `${s},trim=end_frame=1,loop=loop=-1:size=1,fps=30,trim=duration=4,setpts=PTS-STARTPTS[${label}]`;
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'nullsrc=s=16x16:d=0.04',
    '-filter_complex', `${hold('mandelbrot=s=640x360:r=30', 'a')};${hold('testsrc=s=640x360:r=30', 'b')};[a][b]concat=n=2:v=1:a=0,format=yuv420p[v]`,
    '-map', '[v]', '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '12', src]);
  const { access_token: token } = await (await fetch(server.url + '/v1/auth/login', json({ email: EMAIL, password: PASSWORD }))).json();
  const auth = { authorization: 'Bearer ' + token };
  const created = await fetch(server.url + '/v1/media?filename=slides.mp4', { method: 'POST', headers: auth, body: readFileSync(src) });
  assert.equal(created.status, 201, await created.clone().text());
  const id = (await created.json()).id;
  let slides;
  const deadline = Date.now() + 240000;
  for (;;) {
    slides = await (await fetch(`${server.url}/v1/media/${id}`, { headers: auth })).json();
    if (slides.status === 'ready' || slides.status === 'failed') break;
    assert.ok(Date.now() < deadline, `not ready in time: ${JSON.stringify(slides)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.equal(slides.status, 'ready', JSON.stringify(slides));
  assert.ok(!slides.renditions.some((r) => r.codec === 'av1'), JSON.stringify(slides.renditions));
  assert.ok(slides.renditions.some((r) => r.codec === 'hevc'), JSON.stringify(slides.renditions));
  const said = slides.warnings.find((w) => w.startsWith('published without AV1'));
  assert.ok(said, JSON.stringify(slides.warnings));

  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(server.url + '/#/login');
  await page.fill('[data-testid="email"]', EMAIL);
  await page.fill('[data-testid="password"]', PASSWORD);
  await page.click('[data-testid="auth-submit"]');
  await page.waitForSelector('[data-testid="nav-user"]');
  await page.goto(`${server.url}/#/media/${id}`);
  await page.waitForSelector('[data-testid="warnings"] li');
  const notes = await page.$$eval('[data-testid="warnings"] li', (lis) => lis.map((li) => li.textContent));
  assert.deepEqual(notes, slides.warnings);
  // The renditions row names the codec of each rung that is not H.264.
  const shown = await page.$$eval('[data-testid="details"] dt', (dts) =>
    Object.fromEntries(dts.map((dt) => [dt.textContent, dt.nextElementSibling.textContent])));
  assert.match(shown['Renditions'], /360p HEVC/);
  assert.doesNotMatch(shown['Renditions'], /AV1/);
  assert.deepEqual(errors, []);
  await page.close();
}));

test('without AV1 (and no HEVC) both players play H.264', { timeout: 120000 }, step(async () => {
  for (const engine of ['hls', 'dash']) {
    const { page, errors } = await openPlayer(['av01']);
    if (engine === 'dash') await useDash(page);
    else await page.waitForFunction(() => window.__player && window.__player.engine === 'hls' && window.__player.hls.levels.length > 0);
    await playPast(page, 2);
    const codec = engine === 'hls' ? await hlsCodec(page) : await dashCodec(page);
    assert.match(codec, /^avc1\./, engine);
    assert.deepEqual(await page.evaluate(() => window.__player.errors), [], engine);
    assert.deepEqual(errors, [], engine);
    await page.close();
  }
}));
