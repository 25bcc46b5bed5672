// Subtitle streams of an upload in a real browser: an MKV with an English SubRip and a Spanish
// ASS stream plays through hls.js and dash.js (the versions the web UI ships); both players list
// both text tracks with their languages, and with English selected the video element's text
// track holds the English cue at the source's time on the video's timeline, active while the
// playhead is inside it and not before or after.
//
// Encoded with the production preset (B-frames, so the fMP4 has composition offsets and an edit
// list): what could move cue times relative to the picture.
//
// Needs what player.test.js needs (target/debug/mediaserver, ffmpeg, /usr/bin/chromium, `npm ci`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer } from './lib/server.js';
import { launchBrowser } from './lib/browser.js';

const EMAIL = 'subtitles@example.com';
const PASSWORD = 'correct horse battery staple';
// The English cue: what the player must show, and when.
const CUE = { start: 2.0, end: 3.5, text: 'First cue' };

let server, browser, page, tmp, urls, failed = false;
const pageErrors = [];

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'mediaserver-subtitles-'));
  server = await startServer({ WORKERS: '1', TRANSCODE_PRESET: 'veryfast' });
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

test('an upload with two subtitle languages becomes ready', { timeout: 180000 }, step(async () => {
  const srt = path.join(tmp, 'en.srt');
  const ass = path.join(tmp, 'es.ass');
  writeFileSync(srt, `1\n00:00:02,000 --> 00:00:03,500\n${CUE.text}\n\n2\n00:00:05,000 --> 00:00:06,000\nSecond cue\n`);
  writeFileSync(ass, '[Script Info]\nScriptType: v4.00+\n\n[Events]\n'
    + 'Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n'
    + 'Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,Hola\n');
  const clip = path.join(tmp, 'subtitles.mkv');
  execFileSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=7',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=7',
    '-i', srt, '-i', ass,
    '-map', '0:v', '-map', '1:a', '-map', '2', '-map', '3',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac',
    '-c:s:0', 'srt', '-c:s:1', 'ass',
    '-metadata:s:s:0', 'language=eng', '-metadata:s:s:1', 'language=spa', clip,
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
  assert.equal((await fetch(server.url + '/v1/auth/register', json({ email: EMAIL, password: PASSWORD }))).status, 201);
  const { access_token: token } = await (await fetch(server.url + '/v1/auth/login', json({ email: EMAIL, password: PASSWORD }))).json();
  const auth = { authorization: 'Bearer ' + token };
  const created = await fetch(server.url + '/v1/media?filename=subtitles.mkv', { method: 'POST', headers: auth, body: readFileSync(clip) });
  assert.equal(created.status, 201, await created.clone().text());
  const { id } = await created.json();
  let item;
  for (const deadline = Date.now() + 150000; Date.now() < deadline;) {
    item = await (await fetch(server.url + '/v1/media/' + id, { headers: auth })).json();
    if (item.status === 'ready' || item.status === 'failed') break;
    await new Promise((r) => setTimeout(r, 300));
  }
  assert.equal(item.status, 'ready', JSON.stringify(item));
  const signed = await (await fetch(server.url + `/v1/media/${id}/playback-token`, { ...json({ ttl_seconds: 600 }), headers: { ...auth, 'content-type': 'application/json' } })).json();
  urls = { hls: server.url + signed.hls, dash: server.url + signed.dash };
  await page.goto(server.url + '/');
  await page.waitForFunction(() => window.Hls && window.dashjs);
}));

/**
 * Defines, in the page, `window.__sample(video)`: plays `video` (muted) to 4.2 s, sampling every
 * 40 ms the playhead and the texts of the active cues of the showing text track; resolves to the
 * samples and the showing track's cues (times on the video element's timeline).
 */
async function defineSampler() {
  await page.evaluate(() => {
    window.__sample = async (video) => {
      const samples = [];
      await video.play();
      await new Promise((resolve, reject) => {
        const stop = setTimeout(() => reject(new Error('playback stalled at ' + video.currentTime)), 30000);
        const tick = () => {
          const track = [...video.textTracks].find((t) => t.mode === 'showing');
          const active = track && track.activeCues ? [...track.activeCues].map((c) => c.text) : [];
          samples.push({ t: video.currentTime, active, lang: track ? track.language : null });
          if (video.currentTime > 4.2) { clearTimeout(stop); resolve(); } else setTimeout(tick, 40);
        };
        tick();
      });
      const track = [...video.textTracks].find((t) => t.mode === 'showing');
      const cues = track && track.cues ? [...track.cues].map((c) => ({ start: c.startTime, end: c.endTime, text: c.text })) : [];
      return { samples, cues };
    };
  });
}

/**
 * The English cue sits on the video's timeline where the source had it (the fixture's muxer may
 * have moved all streams by the AAC priming, 23 ms), and the player shows it while the playhead
 * is inside it and not outside. The sampled playhead and the active cues are read at slightly
 * different moments (the browser updates active cues on its own clock), hence the margin there.
 */
function assertCueTiming({ samples, cues }) {
  const cue = cues.find((c) => c.text === CUE.text);
  assert.ok(cue, JSON.stringify(cues));
  assert.ok(Math.abs(cue.start - CUE.start) < 0.05 && Math.abs(cue.end - CUE.end) < 0.05, JSON.stringify(cue));
  const margin = 0.3;
  const inside = samples.filter((s) => s.t > CUE.start + margin && s.t < CUE.end - margin);
  const outside = samples.filter((s) => s.t > 0.5 && (s.t < CUE.start - margin || s.t > CUE.end + margin));
  assert.ok(inside.length > 3, JSON.stringify(samples));
  assert.ok(outside.length > 3, JSON.stringify(samples));
  for (const s of inside) assert.deepEqual(s.active, [CUE.text], `at ${s.t}: ${JSON.stringify(samples)}`);
  for (const s of outside) assert.deepEqual(s.active, [], `at ${s.t}: ${JSON.stringify(samples)}`);
}

test('hls.js lists both text tracks and shows the English cue at its time', { timeout: 60000 }, step(async () => {
  await defineSampler();
  const result = await page.evaluate(async (url) => {
    const video = document.createElement('video');
    video.muted = true;
    document.body.append(video);
    const hls = new window.Hls();
    const tracks = new Promise((resolve) => hls.on(window.Hls.Events.SUBTITLE_TRACKS_UPDATED, (_, d) => resolve(d.subtitleTracks)));
    hls.loadSource(url);
    hls.attachMedia(video);
    const listed = (await tracks).map((t) => ({ lang: t.lang, name: t.name }));
    hls.subtitleDisplay = true;
    hls.subtitleTrack = listed.findIndex((t) => t.lang === 'eng');
    const sampled = await window.__sample(video);
    hls.destroy();
    video.remove();
    return { listed, ...sampled };
  }, urls.hls);
  assert.deepEqual(result.listed, [
    { lang: 'eng', name: 'English' },
    { lang: 'spa', name: 'Spanish' },
  ]);
  assert.ok(result.samples.every((s) => s.lang === null || s.lang === 'eng'), JSON.stringify(result.samples));
  assertCueTiming(result);
  assert.deepEqual(pageErrors, []);
}));

test('dash.js lists both text tracks and shows the English cue at its time', { timeout: 60000 }, step(async () => {
  await defineSampler();
  const result = await page.evaluate(async (url) => {
    const video = document.createElement('video');
    video.muted = true;
    document.body.append(video);
    const player = window.dashjs.MediaPlayer().create();
    const ready = new Promise((resolve) => player.on(window.dashjs.MediaPlayer.events.STREAM_INITIALIZED, resolve));
    player.initialize(video, url, false);
    player.updateSettings({ streaming: { text: { defaultEnabled: true } } });
    player.setInitialMediaSettingsFor('text', { lang: 'en' });
    await ready;
    const tracks = player.getTracksFor('text');
    const listed = tracks.map((t) => t.lang);
    player.setCurrentTrack(tracks.find((t) => t.lang === 'en'));
    // dash.js fetches the WebVTT file once playback asks for text; on a loaded machine that can
    // end after the playhead passed the cue. So: play until the cues are in, then sample from 0.
    await video.play();
    await new Promise((resolve, reject) => {
      const stop = setTimeout(() => reject(new Error('the English cues never loaded')), 30000);
      const tick = () => {
        const showing = [...video.textTracks].find((t) => t.mode === 'showing');
        if (showing && showing.cues && showing.cues.length > 0) { clearTimeout(stop); resolve(); } else setTimeout(tick, 40);
      };
      tick();
    });
    video.pause();
    await new Promise((resolve) => { video.addEventListener('seeked', resolve, { once: true }); video.currentTime = 0; });
    const sampled = await window.__sample(video);
    player.destroy();
    video.remove();
    return { listed, ...sampled };
  }, urls.dash);
  // dash.js reports the MPD's ISO 639-2 `lang` as the shortest BCP 47 tag.
  assert.deepEqual(result.listed, ['en', 'es']);
  assertCueTiming(result);
  assert.deepEqual(pageErrors, []);
}));
