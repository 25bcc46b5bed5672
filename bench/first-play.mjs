// Time to first play: for each clip, start a fresh server (embedded defaults, one worker),
// upload the clip, and measure from the end of the upload to the first moment hls.js in
// headless Chromium is playing it (video.currentTime > 0), and to `ready`.
// Run through bench/first-play.sh, which builds the binary and generates the clips.
//
// With FIRST_PLAY_TRACE=1 it also prints where the time went: the server's own log events
// (job claimed, subprocesses started, the complexity probe's end, each stream's first
// segment, the provisional master, playable) and the player's (item seen playable, hls.js
// manifest, playlists, first fragments, playing), in seconds after the upload's response.
import { readFileSync, statSync, createReadStream } from 'node:fs';
import path from 'node:path';
import { launchBrowser } from '../tests/browser/lib/browser.js';
import { startServer, ROOT } from '../tests/browser/lib/server.js';

const clips = process.argv.slice(2);
const preset = process.env.TRANSCODE_PRESET || 'veryfast';
const trace = process.env.FIRST_PLAY_TRACE === '1';
// FIRST_PLAY_READY=0: stop at the first play (long clips take many minutes to be ready).
const waitReady = process.env.FIRST_PLAY_READY !== '0';
// FIRST_PLAY_WATCH=N: after the first play, keep playing until N seconds of the clip have
// played and report every stall on the way (`waiting` → `playing`): a player that started on
// the head waits for the main encode's next segment.
const watch = Number(process.env.FIRST_PLAY_WATCH || 0);
const hlsJs = readFileSync(path.join(ROOT, 'crates/api/web/vendor/hls.js-1.7.4/hls.min.js'), 'utf8');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Server log lines worth a row: the first line matching each pattern after the upload.
const SERVER_EVENTS = [
  [/job claimed/, 'server: job claimed'],
  [/original downloaded/, 'server: original downloaded'],
  [/what="ffprobe"/, 'server: ffprobe started'],
  [/what="ffmpeg idet sample"/, 'server: idet sample started'],
  [/what="ffmpeg complexity probe"/, 'server: complexity probe started'],
  [/adaptive ladder/, 'server: complexity probe done'],
  [/head encode started/, 'server: head encode started (beside the probe)'],
  [/head published/, 'server: head published (first segments, master)'],
  [/what="ffmpeg video transcode"/, 'server: ffmpeg encode started'],
  [/first segment complete.*stream=0\b/, 'server: first segment, stream 0 (top rung)'],
  [/first segment complete/, 'server: first segment, first stream'],
  [/provisional master ready/, 'server: provisional master ready'],
  [/playable while encoding/, 'server: playable (db)'],
  [/playable: the head is published/, 'server: playable (db)'],
  // Chunked items: the split, the rest (audio, stills), chunk 0's encode.
  [/split into chunk jobs/, 'server: split done, parts queued'],
  [/what="ffmpeg last frames"/, 'server: rest job: last frames'],
  [/what="ffmpeg audio and stills"/, 'server: rest job: audio and stills'],
  [/part done/, 'server: first part done (the rest)'],
  [/what="ffmpeg chunk encode"/, 'server: chunk 0 encode started'],
];

function serverTimeline(logs, since) {
  const rows = [];
  const lines = logs.split('\n');
  for (const [re, label] of SERVER_EVENTS) {
    for (const l of lines) {
      const m = l.match(/^(\d{4}-\d\d-\d\dT[\d:.]+Z)/);
      if (!m || !re.test(l)) continue;
      const at = Date.parse(m[1]);
      if (at + 5 < since) continue;
      rows.push([label, at]);
      break;
    }
  }
  // Every stream's first segment, and the last of them.
  const firsts = lines
    .filter((l) => /first segment complete/.test(l))
    .map((l) => [Date.parse(l.slice(0, 27)), (l.match(/stream=(\d+)/) || [])[1]]);
  if (firsts.length) {
    const last = firsts.reduce((a, b) => (b[0] > a[0] ? b : a));
    rows.push([`server: first segment, last stream (${last[1]}) of ${firsts.length}`, last[0]]);
  }
  return rows;
}

const browser = await launchBrowser();
const results = [];
const traces = [];
for (const clip of clips) {
  const rustLog = trace
    ? 'warn,mediaserver=info,mediaserver_pipeline=debug,mediaserver_media::process=debug,mediaserver_media::transcode=debug'
    : 'warn,mediaserver=info';
  const server = await startServer({ TRANSCODE_PRESET: preset, RUST_LOG: rustLog });
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
    const uploadedWall = Date.now();
    if (res.status !== 201) throw new Error(`upload: ${res.status} ${await res.text()}`);
    const { id } = await res.json();

    let item;
    for (;;) {
      item = await (await api(`/v1/media/${id}`, { headers: auth })).json();
      if (item.playable || item.status === 'failed') break;
      await sleep(100);
    }
    const playableSeen = Date.now();
    if (item.status === 'failed') throw new Error(`processing failed: ${item.error}`);
    const src = server.url + item.signed.hls;
    await page.evaluate((src) => {
      const video = document.getElementById('v');
      const hls = new window.Hls({ startPosition: 0 });
      const E = window.Hls.Events;
      window.__fatal = null;
      window.__events = [];
      const once = new Set();
      const mark = (name) => { if (!once.has(name)) { once.add(name); window.__events.push([name, Date.now()]); } };
      hls.on(E.ERROR, (_, d) => { if (d.fatal) window.__fatal = d.details; });
      hls.on(E.MANIFEST_LOADED, () => mark('player: master loaded'));
      hls.on(E.LEVEL_LOADED, (_, d) => mark(`player: video playlist loaded (level ${d.level}: ${hls.levels[d.level]?.height}p)`));
      hls.on(E.AUDIO_TRACK_LOADED, () => mark('player: audio playlist loaded'));
      hls.on(E.FRAG_LOADED, (_, d) => mark(`player: first ${d.frag.type} fragment loaded`));
      hls.on(E.FRAG_BUFFERED, (_, d) => mark(`player: first ${d.frag.type} fragment buffered`));
      window.__stalls = [];
      video.addEventListener('waiting', () => {
        if (video.currentTime > 0) window.__stalls.push({ at: video.currentTime, from: Date.now(), to: null });
      });
      video.addEventListener('playing', () => {
        const last = window.__stalls[window.__stalls.length - 1];
        if (last && last.to === null) last.to = Date.now();
      });
      hls.loadSource(src);
      hls.attachMedia(video);
      video.play().catch(() => {});
    }, src);
    await page.waitForFunction(() => {
      const playing = document.getElementById('v').currentTime > 0;
      if (playing) window.__events.push(['player: playing (currentTime > 0)', Date.now()]);
      return window.__fatal || playing;
    }, null, { timeout: 600000, polling: 50 });
    const fatal = await page.evaluate(() => window.__fatal);
    if (fatal) throw new Error(`hls.js: ${fatal}`);
    const firstPlay = (performance.now() - uploaded) / 1000;
    const playerEvents = await page.evaluate(() => window.__events);
    const wasReady = (await (await api(`/v1/media/${id}`, { headers: auth })).json()).status === 'ready';
    let stalls = '';
    if (watch > 0) {
      await page.waitForFunction((w) => {
        const v = document.getElementById('v');
        return window.__fatal || v.ended || v.currentTime > w;
      }, watch, { timeout: 900000, polling: 100 });
      const seen = await page.evaluate(() => window.__stalls);
      const total = seen.reduce((sum, s) => sum + ((s.to ?? Date.now()) - s.from), 0) / 1000;
      stalls = ` ${total.toFixed(1)} s in ${seen.length} (${seen.map((s) => `at ${s.at.toFixed(1)} s: ${(((s.to ?? Date.now()) - s.from) / 1000).toFixed(1)} s`).join(', ') || 'none'}) |`;
    }
    for (;;) {
      if (!waitReady) break;
      item = await (await api(`/v1/media/${id}`, { headers: auth })).json();
      if (item.status === 'ready' || item.status === 'failed') break;
      await sleep(250);
    }
    const ready = waitReady ? ((performance.now() - uploaded) / 1000).toFixed(1) : '—';
    results.push(`| ${path.basename(clip)} | ${firstPlay.toFixed(1)} | ${ready} | ${wasReady ? 'no' : 'yes'} |${stalls}`);
    if (trace) {
      const rows = [
        ...serverTimeline(server.logs(), uploadedWall),
        ['player: item seen playable (poll)', playableSeen],
        ...playerEvents,
      ].sort((a, b) => a[1] - b[1]);
      // CPU seconds of the runs on the way to the first play (load does not change them).
      const cpu = [[/head published/, 'head encode'], [/complexity probe finished/, 'complexity probe']]
        .map(([re, label]) => {
          const line = server.logs().split('\n').find((l) => re.test(l));
          const m = line && line.match(/cpu_seconds=(?:Some\()?([\d.]+)/);
          return m ? `  CPU ${label}: ${Number(m[1]).toFixed(2)} s` : null;
        })
        .filter(Boolean);
      traces.push(`\n${path.basename(clip)}: seconds after the upload's response\n` +
        rows.map(([label, at]) => `  ${((at - uploadedWall) / 1000).toFixed(2).padStart(6)}  ${label}`).join('\n') +
        (cpu.length ? `\n${cpu.join('\n')}` : ''));
    }
    await page.close();
  } finally {
    await server.stop();
  }
}
await browser.close();
const stallColumn = watch > 0 ? ` stalls in the first ${watch} s played |` : '';
console.log(`| clip | upload → first play (s) | upload → ready (s) | first play before ready |${stallColumn}`);
console.log(`|---|---|---|---|${watch > 0 ? '---|' : ''}`);
for (const r of results) console.log(r);
for (const t of traces) console.log(t);
