// Time to first play: for each clip, start a fresh release server (embedded defaults, one
// worker), upload the clip, and measure from the end of the upload to the first moment hls.js
// in headless Chromium is playing it (video.currentTime > 0), and to `ready`.
// Run through bench/first-play.sh, which builds the binary and generates the clips.
import { readFileSync, statSync, createReadStream } from 'node:fs';
import path from 'node:path';
import { launchBrowser } from '../tests/browser/lib/browser.js';
import { startServer, ROOT } from '../tests/browser/lib/server.js';

const clips = process.argv.slice(2);
const preset = process.env.TRANSCODE_PRESET || 'veryfast';
const hlsJs = readFileSync(path.join(ROOT, 'crates/api/web/vendor/hls.js-1.7.4/hls.min.js'), 'utf8');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const browser = await launchBrowser();
console.log('| clip | upload → first play (s) | upload → ready (s) | first play before ready |');
console.log('|---|---|---|---|');
for (const clip of clips) {
  const server = await startServer({ TRANSCODE_PRESET: preset, RUST_LOG: 'warn,mediaserver=info' });
  try {
    const api = (p, init = {}) => fetch(server.url + p, init);
    const creds = { email: 'bench@example.com', password: 'benchmark-password' };
    const json = { 'content-type': 'application/json' };
    await api('/v1/auth/register', { method: 'POST', headers: json, body: JSON.stringify(creds) });
    const { access_token: token } = await (await api('/v1/auth/login', { method: 'POST', headers: json, body: JSON.stringify(creds) })).json();
    const auth = { authorization: `Bearer ${token}` };

    // The player page is open before the clock starts: only the server's work is measured.
    const page = await browser.newPage();
    await page.setContent('<video id="v" muted playsinline></video>');
    await page.addScriptTag({ content: hlsJs });

    const res = await api(`/v1/media?filename=${encodeURIComponent(path.basename(clip))}`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/octet-stream', 'content-length': String(statSync(clip).size) },
      body: createReadStream(clip),
      duplex: 'half',
    });
    const uploaded = performance.now();
    if (res.status !== 201) throw new Error(`upload: ${res.status} ${await res.text()}`);
    const { id } = await res.json();

    let item;
    for (;;) {
      item = await (await api(`/v1/media/${id}`, { headers: auth })).json();
      if (item.playable || item.status === 'failed') break;
      await sleep(100);
    }
    if (item.status === 'failed') throw new Error(`processing failed: ${item.error}`);
    const src = server.url + item.signed.hls;
    await page.evaluate((src) => {
      const video = document.getElementById('v');
      const hls = new window.Hls({ startPosition: 0 });
      window.__fatal = null;
      hls.on(window.Hls.Events.ERROR, (_, d) => { if (d.fatal) window.__fatal = d.details; });
      hls.loadSource(src);
      hls.attachMedia(video);
      video.play().catch(() => {});
    }, src);
    await page.waitForFunction(() => window.__fatal || document.getElementById('v').currentTime > 0, null, { timeout: 600000, polling: 50 });
    const fatal = await page.evaluate(() => window.__fatal);
    if (fatal) throw new Error(`hls.js: ${fatal}`);
    const firstPlay = (performance.now() - uploaded) / 1000;
    const wasReady = (await (await api(`/v1/media/${id}`, { headers: auth })).json()).status === 'ready';
    for (;;) {
      item = await (await api(`/v1/media/${id}`, { headers: auth })).json();
      if (item.status === 'ready' || item.status === 'failed') break;
      await sleep(250);
    }
    const ready = (performance.now() - uploaded) / 1000;
    console.log(`| ${path.basename(clip)} | ${firstPlay.toFixed(1)} | ${ready.toFixed(1)} | ${wasReady ? 'no' : 'yes'} |`);
    await page.close();
  } finally {
    await server.stop();
  }
}
await browser.close();
