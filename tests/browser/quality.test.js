// The item page shows each rendition's measured quality beside the rung (SSIM, PSNR, its size)
// and, for the owner, how it was encoded: the same figures the item's JSON carries; the words for
// cases this clip does not have (VMAF, identical pictures, a container runner) come from the same
// module.
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

const EMAIL = 'quality@example.com';
const PASSWORD = 'correct horse battery staple';

let server, browser, page, tmp, item, failed = false;
const pageErrors = [];

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'mediaserver-quality-'));
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
const sel = (id) => `[data-testid="${id}"]`;

test('a clip is uploaded and processed with its quality measured', { timeout: 180000 }, step(async () => {
  const clip = makeClip(tmp, { seconds: 4, width: 640, height: 360 });
  assert.equal((await fetch(server.url + '/v1/auth/register', json({ email: EMAIL, password: PASSWORD }))).status, 201);
  const { access_token: token } = await (await fetch(server.url + '/v1/auth/login', json({ email: EMAIL, password: PASSWORD }))).json();
  const auth = { authorization: 'Bearer ' + token };
  const created = await fetch(server.url + '/v1/media?filename=clip.mp4', { method: 'POST', headers: auth, body: readFileSync(clip) });
  assert.equal(created.status, 201, await created.clone().text());
  const id = (await created.json()).id;
  for (const deadline = Date.now() + 150000; Date.now() < deadline;) {
    item = await (await fetch(server.url + '/v1/media/' + id, { headers: auth })).json();
    if (item.status === 'ready' || item.status === 'failed') break;
    await new Promise((r) => setTimeout(r, 300));
  }
  assert.equal(item.status, 'ready', JSON.stringify(item));
  assert.ok(item.renditions.length >= 2, JSON.stringify(item.renditions));
  assert.ok(item.renditions.every((r) => r.quality && r.quality.ssim > 0 && r.quality.ssim <= 1), JSON.stringify(item.renditions));
}));

test('the page shows the scores beside each rung, and the encode', { timeout: 60000 }, step(async () => {
  await page.goto(server.url + '/#/login');
  await page.fill(sel('email'), EMAIL);
  await page.fill(sel('password'), PASSWORD);
  await page.click(sel('auth-submit'));
  await page.waitForSelector(sel('nav-user'));
  await page.goto(server.url + '/#/media/' + item.id);
  await page.waitForSelector(sel('quality'));
  for (const r of item.renditions) {
    const text = await page.textContent(sel('quality-' + r.name));
    const bytes = item.encode.renditions.find((e) => e.name === r.name).bytes;
    assert.ok(text.startsWith(r.name + ' '), text);
    assert.ok(text.includes(`SSIM ${r.quality.ssim.toFixed(3)}`), text);
    assert.ok(text.includes(`PSNR ${r.quality.psnr.toFixed(1)} dB`), text);
    assert.ok(!text.includes('VMAF'), text);
    assert.ok(bytes > 0);
  }
  const encode = await page.textContent(sel('encode'));
  assert.ok(encode.includes(`ffmpeg ${item.encode.ffmpeg_version}`), encode);
  assert.ok(encode.includes('x264 core '), encode);
  assert.ok(encode.includes(`in-process on ${item.encode.runner.host}`), encode);
  assert.ok(encode.includes(`(${item.encode.cpu_seconds.toFixed(1)} s CPU)`), encode);
  assert.deepEqual(pageErrors, []);
}));

test('the words for other encodes', { timeout: 30000 }, step(async () => {
  const words = await page.evaluate(async () => {
    const { describeQuality, describeEncode } = await import('/assets/js/quality.js');
    return {
      vmaf: describeQuality({
        renditions: [{ name: '1080p', quality: { ssim: 1, psnr: 100, vmaf: 97.25 } }, { name: '720p', quality: null }],
        encode: { renditions: [{ name: '1080p', bytes: 2048 }] },
      }),
      container: describeEncode({
        ffmpeg_version: '7.1', wall_seconds: 12.34, cpu_seconds: null, quality: null,
        runner: { kind: 'container-instances', host: 'ci-1', image: 'fra.ocir.io/ns/ms@sha256:abc' },
        renditions: [{ encoder_version: 'x264 core 164' }, { encoder_version: 'x264 core 164' }],
      }),
      chunked: describeEncode({
        ffmpeg_version: '7.1', wall_seconds: 30, cpu_seconds: 50, elapsed_seconds: 12.5, quality: null,
        runner: { kind: 'in-process' }, renditions: [],
      }),
      none: describeEncode(null),
    };
  });
  // Unmeasured rungs are left out; identical pictures read as infinite PSNR.
  assert.deepEqual(words.vmaf, [{ name: '1080p', text: 'SSIM 1.000 · PSNR ∞ dB · VMAF 97.3 · 2.0 KB' }]);
  assert.equal(words.container, 'ffmpeg 7.1 · x264 core 164 · container-instances on ci-1 · fra.ocir.io/ns/ms@sha256:abc · 12.3 s');
  assert.equal(words.chunked, 'ffmpeg 7.1 · in-process · 30.0 s (50.0 s CPU) in parts, ready 12.5 s after the split');
  assert.equal(words.none, '');
}));
