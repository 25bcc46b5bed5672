// Viewer analytics in a real browser: a logged-out viewer watches about 10 s of an unlisted
// video in the web player and leaves; the beacons it sent must add up to one view and about
// 10 s of watch time (7–13 s: a check of the counting, not of our speed), on the item's one
// rendition, and the owner's item page must show them in its Viewers panel with a chart.
//
// Needs what player.test.js needs: target/debug/mediaserver, ffmpeg, /usr/bin/chromium, `npm ci`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer } from './lib/server.js';
import { launchBrowser } from './lib/browser.js';
import { makeClip } from './lib/media.js';

const EMAIL = 'owner@example.com';
const PASSWORD = 'correct horse battery staple';
const sel = (id) => `[data-testid="${id}"]`;

let server, browser, tmp, token, mediaId, failed = false;
const pageErrors = [];

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'mediaserver-analytics-'));
  server = await startServer();
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

async function call(p, opts = {}) {
  const res = await fetch(server.url + p, {
    ...opts,
    headers: { ...(token ? { authorization: 'Bearer ' + token } : {}), ...(opts.json ? { 'content-type': 'application/json' } : {}), ...(opts.headers || {}) },
    body: opts.json ? JSON.stringify(opts.json) : opts.body,
  });
  const text = await res.text();
  let body = null;
  try { body = JSON.parse(text); } catch { body = text; }
  return { status: res.status, body };
}

async function analytics() {
  const r = await call(`/v1/media/${mediaId}/analytics`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

test('an unlisted video is uploaded and processed', { timeout: 240000 }, step(async () => {
  // 16 s at 320x240: one rung (240p), cheap to make.
  const clip = makeClip(tmp, { seconds: 16, width: 320, height: 240 });
  assert.equal((await call('/v1/auth/register', { method: 'POST', json: { email: EMAIL, password: PASSWORD } })).status, 201);
  const login = await call('/v1/auth/login', { method: 'POST', json: { email: EMAIL, password: PASSWORD } });
  token = login.body.access_token;
  const form = new FormData();
  form.append('file', new Blob([readFileSync(clip)], { type: 'video/mp4' }), 'clip.mp4');
  const up = await call('/v1/media', { method: 'POST', body: form });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  mediaId = up.body.id;
  assert.equal((await call(`/v1/media/${mediaId}`, { method: 'PATCH', json: { visibility: 'unlisted' } })).status, 200);
  const deadline = Date.now() + 200000;
  for (;;) {
    const item = (await call(`/v1/media/${mediaId}`)).body;
    if (item.status === 'ready') { assert.deepEqual(item.renditions.map((r) => r.name), ['240p']); break; }
    assert.notEqual(item.status, 'failed', item.error);
    assert.ok(Date.now() < deadline, 'not ready in time');
    await new Promise((r) => setTimeout(r, 500));
  }
  const before = await analytics();
  assert.equal(before.views, 0);
}));

test('a viewer watches about 10 s and leaves: one view, about 10 s watched', { timeout: 180000 }, step(async (t) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const beacons = [];
  page.on('request', (r) => { if (r.url().endsWith('/views')) beacons.push(JSON.parse(r.postData() || '{}')); });
  await page.goto(`${server.url}/#/media/${mediaId}`);
  await page.waitForSelector(sel('video'));
  await page.waitForFunction(() => window.__player && window.__player.engine === 'hls' && window.__beacons);
  await page.evaluate(() => {
    const v = document.querySelector('[data-testid="video"]');
    v.muted = true;
    return v.play();
  });
  // Watch until the position passes 10 s, then pause: about 10 s of playing.
  await page.waitForFunction(() => document.querySelector('[data-testid="video"]').currentTime >= 10, null, { timeout: 120000, polling: 100 });
  const watched = await page.evaluate(() => { const v = document.querySelector('[data-testid="video"]'); v.pause(); return v.currentTime; });
  // Leaving the page sends `end` with what the last heartbeat did not report (sendBeacon).
  await page.goto('about:blank');
  await context.close();
  assert.deepEqual(pageErrors, []);

  const events = beacons.map((b) => b.event);
  assert.equal(events[0], 'view_start', JSON.stringify(beacons));
  assert.ok(events.includes('heartbeat'), `a heartbeat every 10 s: ${events}`);
  assert.equal(new Set(beacons.map((b) => b.session)).size, 1, 'one session');
  assert.ok(beacons[0].startup_ms >= 0, JSON.stringify(beacons[0]));

  // The end beacon may land a moment after the page is gone.
  let report;
  const deadline = Date.now() + 15000;
  for (;;) {
    report = await analytics();
    if (report.views === 1 && report.watch_seconds >= 7) break;
    assert.ok(Date.now() < deadline, `beacons did not add up: ${JSON.stringify(report)} (sent: ${JSON.stringify(beacons)})`);
    await new Promise((r) => setTimeout(r, 250));
  }
  t.diagnostic(`played to ${watched.toFixed(2)} s; counted ${report.watch_seconds} s watched, startup p50 ${report.startup_ms.p50} ms, beacons: ${events.join(' ')}`);
  assert.equal(report.views, 1, JSON.stringify(report));
  assert.equal(report.unique_viewers, 1);
  assert.ok(report.watch_seconds >= 7 && report.watch_seconds <= 13, `watched ${watched} s of the video; counted ${report.watch_seconds} s`);
  assert.ok(report.renditions['240p'] > 0, JSON.stringify(report.renditions));
  assert.ok(report.startup_ms.p50 !== null);
  assert.equal(report.errors, 0);
}));

test("the owner's item page shows the viewing report with a chart", { timeout: 60000 }, step(async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(server.url + '/#/login');
  await page.fill(sel('email'), EMAIL);
  await page.fill(sel('password'), PASSWORD);
  await page.click(sel('auth-submit'));
  await page.waitForSelector(sel('nav-user'));
  await page.goto(`${server.url}/#/media/${mediaId}`);
  await page.waitForSelector(sel('analytics-views'));
  assert.equal(await page.getAttribute(sel('analytics-views'), 'data-value'), '1');
  assert.equal(await page.getAttribute(sel('analytics-unique'), 'data-value'), '1');
  const seconds = Number(await page.getAttribute(sel('analytics-watch'), 'data-value'));
  assert.ok(seconds >= 7 && seconds <= 13, String(seconds));
  assert.match(await page.textContent(sel('analytics-renditions')), /240p/);
  // One bar per day of the range; today's is the one with watch time.
  const bars = await page.$$eval(`${sel('analytics-chart')} rect`, (rs) => rs.map((r) => ({ date: r.dataset.date, h: Number(r.getAttribute('height')) })));
  assert.equal(bars.length, 30);
  assert.deepEqual(bars.filter((b) => b.h > 0).map((b) => b.date), [new Date().toISOString().slice(0, 10)]);
  assert.deepEqual(pageErrors, []);
  await context.close();
}));

test('the share page (a playback link) reports through the token in its path', { timeout: 60000 }, step(async () => {
  const minted = await call(`/v1/media/${mediaId}/playback-token`, { method: 'POST', json: { ttl_seconds: 600 } });
  assert.equal(minted.status, 201);
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const urls = [];
  page.on('request', (r) => { if (r.url().endsWith('/views')) urls.push(new URL(r.url()).pathname); });
  await page.goto(`${server.url}/#/share/${encodeURIComponent(minted.body.token)}`);
  await page.waitForSelector(sel('video'));
  await page.evaluate(() => { const v = document.querySelector('[data-testid="video"]'); v.muted = true; return v.play(); });
  await page.waitForFunction(() => document.querySelector('[data-testid="video"]').currentTime >= 2, null, { timeout: 60000, polling: 100 });
  await page.goto('about:blank');
  await context.close();
  assert.ok(urls.length >= 1 && urls.every((u) => u === `/v1/play/${minted.body.token}/views`), urls.join('\n'));
  const deadline = Date.now() + 15000;
  let report;
  for (;;) {
    report = await analytics();
    if (report.views === 2) break;
    assert.ok(Date.now() < deadline, JSON.stringify(report));
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.deepEqual(pageErrors, []);
}));
