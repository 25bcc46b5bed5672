// The item page says what the source video was: an HDR (HLG) HEVC 10-bit clip held upright
// (a 90° display matrix) is listed in Details with its codec, display size, frame rate, HDR,
// scan, rotation and pixel format, as ffprobe reads them from the uploaded file; the words for
// the cases that clip does not cover (interlaced, PQ, unknown codecs) come from the same module.
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

const EMAIL = 'source@example.com';
const PASSWORD = 'correct horse battery staple';

let server, browser, page, tmp, mediaId, probed, failed = false;
const pageErrors = [];

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'mediaserver-source-'));
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

test('an HDR clip held upright is uploaded and processed', { timeout: 180000 }, step(async () => {
  const coded = path.join(tmp, 'coded.mp4');
  const clip = path.join(tmp, 'hlg.mp4');
  execFileSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30000/1001:duration=2',
    '-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error',
    '-pix_fmt', 'yuv420p10le', '-color_primaries', 'bt2020', '-color_trc', 'arib-std-b67',
    '-colorspace', 'bt2020nc', '-tag:v', 'hvc1', coded,
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
  // ffmpeg 5.1's mp4 muxer turns the `rotate` tag into the display matrix when remuxing.
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', coded, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', clip],
    { stdio: ['ignore', 'ignore', 'inherit'] });
  probed = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-of', 'json', '-select_streams', 'v:0',
    '-show_entries', 'stream=codec_name,width,height,pix_fmt,color_transfer,r_frame_rate:stream_side_data_list', clip]).toString()).streams[0];
  assert.equal(probed.color_transfer, 'arib-std-b67');
  assert.equal(Math.abs(probed.side_data_list.find((d) => 'rotation' in d).rotation), 90);

  assert.equal((await fetch(server.url + '/v1/auth/register', json({ email: EMAIL, password: PASSWORD }))).status, 201);
  const { access_token: token } = await (await fetch(server.url + '/v1/auth/login', json({ email: EMAIL, password: PASSWORD }))).json();
  const auth = { authorization: 'Bearer ' + token };
  const created = await fetch(server.url + '/v1/media?filename=hlg.mp4', { method: 'POST', headers: auth, body: readFileSync(clip) });
  assert.equal(created.status, 201, await created.clone().text());
  mediaId = (await created.json()).id;
  let item;
  for (const deadline = Date.now() + 150000; Date.now() < deadline;) {
    item = await (await fetch(server.url + '/v1/media/' + mediaId, { headers: auth })).json();
    if (item.status === 'ready' || item.status === 'failed') break;
    await new Promise((r) => setTimeout(r, 300));
  }
  assert.equal(item.status, 'ready', JSON.stringify(item));
}));

test('the page lists the source in Details', { timeout: 60000 }, step(async () => {
  await page.goto(server.url + '/#/login');
  await page.fill(sel('email'), EMAIL);
  await page.fill(sel('password'), PASSWORD);
  await page.click(sel('auth-submit'));
  await page.waitForSelector(sel('nav-user'));
  await page.goto(server.url + '/#/media/' + mediaId);
  await page.waitForSelector(sel('source-codec'));
  const shown = await page.$$eval('[data-testid="details"] dt', (dts) =>
    Object.fromEntries(dts.map((dt) => [dt.textContent, dt.nextElementSibling.textContent])));
  const [num, den] = probed.r_frame_rate.split('/').map(Number);
  assert.equal(probed.codec_name, 'hevc');
  assert.equal(shown['Source codec'], 'HEVC (H.265)');
  // Display size: the coded 320x240 turned a quarter.
  assert.equal(shown['Source size'], `${probed.height}×${probed.width}`);
  assert.equal(shown['Frame rate'], `${Number((num / den).toFixed(3))} fps`);
  assert.equal(shown['Dynamic range'], 'HDR (HLG), shown as SDR');
  assert.equal(shown['Scan'], 'Progressive');
  // ffprobe prints the display matrix counter-clockwise; the item records the clockwise turn.
  const ccw = probed.side_data_list.find((d) => 'rotation' in d).rotation;
  assert.equal(shown['Rotation'], `${(((-ccw) % 360) + 360) % 360}° (shown upright)`);
  assert.equal(shown['Pixel format'], `${probed.pix_fmt} (10-bit 4:2:0)`);
  assert.deepEqual(pageErrors, []);
}));

test('the words for other sources', { timeout: 30000 }, step(async () => {
  const rows = await page.evaluate(async () => {
    const { describeSource } = await import('/assets/js/source.js');
    const words = (s) => Object.fromEntries(describeSource(s).map((r) => [r.key, r.value]));
    return {
      broadcast: words({ codec: 'mpeg2video', width: 768, height: 576, fps: 25, hdr: null, interlaced: true, rotation: 0, pixel_format: 'yuv420p' }),
      pq: words({ codec: 'prores', width: 1920, height: 1080, fps: 23.976023976, hdr: 'pq', interlaced: false, rotation: 0, pixel_format: 'yuva444p12le' }),
      odd: words({ codec: 'rv40', width: 320, height: 240, fps: 0, hdr: null, interlaced: false, rotation: 180, pixel_format: 'bgr24' }),
      none: describeSource(null),
    };
  });
  assert.deepEqual(rows.broadcast, {
    codec: 'MPEG-2', size: '768×576', fps: '25 fps', hdr: 'SDR', scan: 'Interlaced (deinterlaced)',
    rotation: 'None', 'pixel-format': 'yuv420p (8-bit 4:2:0)',
  });
  assert.equal(rows.pq.hdr, 'HDR (PQ / HDR10), shown as SDR');
  assert.equal(rows.pq.fps, '23.976 fps');
  assert.equal(rows.pq['pixel-format'], 'yuva444p12le (12-bit 4:4:4 with alpha)');
  // Unknown codec names as ffprobe gives them; no rate known: no row.
  assert.deepEqual(rows.odd, { codec: 'rv40', size: '320×240', hdr: 'SDR', scan: 'Progressive', rotation: '180° (shown upright)', 'pixel-format': 'bgr24' });
  assert.deepEqual(rows.none, []);
}));
