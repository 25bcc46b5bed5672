// Uploads through the page over tus: a 40 MiB video is interrupted by a page reload (its PATCHes
// are held back so that the reload lands mid-upload), the page lists it as unfinished, choosing
// the same file again resumes from the server's offset (one upload created in all, the first
// PATCH after the reload starts past 0) and the item becomes ready. An unfinished upload can be
// discarded; a refused access token is refreshed mid-upload. Then the errors a person must
// understand: too large (413), not media (415, dropped onto the drop zone), session over (401);
// and logging out mid-upload stops it and forgets it. Last, a failed item's Retry button queues it again.
//
// Needs what player.test.js needs (the binary, ffmpeg, /usr/bin/chromium, `npm ci` here).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, ROOT } from './lib/server.js';
import { launchBrowser } from './lib/browser.js';
import { makeClip, padMp4 } from './lib/media.js';

const MiB = 1024 * 1024;
const LIMIT = 48 * MiB;
const EMAIL = 'uploader@example.com';
const PASSWORD = 'correct horse battery staple';

let server, browser, context, page, tmp, clip, big, failed = false;
const pageErrors = [];
const cspViolations = [];
/** Requests to /v1/uploads…: {method, offset (Upload-Offset sent), phase}. */
const tusRequests = [];
let phase = 'first';
let holdPatches = 0;
let held = [];

const sel = (id) => `[data-testid="${id}"]`;

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'mediaserver-upload-'));
  clip = makeClip(tmp, { seconds: 2, width: 320, height: 240 });
  // Five 8 MiB chunks.
  big = padMp4(clip, 40 * MiB, path.join(tmp, 'long-take.mp4'));
  server = await startServer({ MAX_UPLOAD_BYTES: String(LIMIT) });
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    if (m.type() === 'error') console.log('[page console]', m.text());
  });
  await context.route('**/v1/uploads/**', async (route) => {
    const req = route.request();
    tusRequests.push({ method: req.method(), offset: req.headers()['upload-offset'], phase });
    if (req.method() === 'PATCH' && holdPatches > 0) {
      held.push(req.headers()['upload-offset']);
      await new Promise((r) => setTimeout(r, holdPatches));
    }
    // A request of a page that has since been reloaded cannot continue; that is the point.
    await route.continue().catch(() => {});
  });
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

test('registers through the page', step(async () => {
  await page.goto(server.url + '/#/register');
  await page.fill(sel('email'), EMAIL);
  await page.fill(sel('password'), PASSWORD);
  await page.click(sel('auth-submit'));
  await page.waitForSelector(sel('dropzone'));
}));

test('an upload interrupted by a reload resumes from the server offset when the same file is chosen again', { timeout: 240000 }, step(async (t) => {
  // Each PATCH waits 1.5 s before it leaves the browser, so the reload below lands mid-upload.
  holdPatches = 1500;
  let answered = 0;
  const onResponse = (r) => {
    if (r.request().method() === 'PATCH' && r.url().includes('/v1/uploads/') && r.status() === 204) answered++;
  };
  page.on('response', onResponse);
  await page.setInputFiles(sel('file-input'), big);
  await page.waitForSelector(`${sel('upload-item')}[data-state="uploading"]`);
  // Two chunks (16 MiB, 40 %) stored and acknowledged, the third held back: reload now.
  const deadline = Date.now() + 60000;
  while (answered < 2 || !held.includes(String(16 * MiB))) {
    assert.ok(Date.now() < deadline, `only ${answered} chunks acknowledged`);
    await page.waitForTimeout(50);
  }
  page.off('response', onResponse);
  const stored = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('tus::')));
  assert.equal(stored.length, 1, 'tus-js-client remembered the upload');
  phase = 'after reload';
  holdPatches = 0;
  await page.reload();
  await page.waitForSelector(sel('dropzone'));

  // The page lists the unfinished upload, with how far it got.
  const row = await page.waitForSelector(sel('unfinished-upload'), { timeout: 15000 });
  const rowText = await row.textContent();
  assert.match(rowText, /long-take\.mp4/);
  const listed = Number(rowText.match(/Interrupted at (\d+)%/)?.[1]);
  assert.ok(listed >= 40 && listed < 100, rowText);
  mkdirSync(path.join(ROOT, 'test-artifacts'), { recursive: true });
  await page.screenshot({ path: path.join(ROOT, 'test-artifacts', 'upload-unfinished.png') });

  await page.setInputFiles(sel('file-input'), big);
  const note = await page.waitForSelector(`${sel('upload-note')}:has-text("Resuming at")`, { timeout: 15000 });
  const resumedPct = Number((await note.textContent()).match(/Resuming at (\d+)%/)[1]);
  assert.equal(resumedPct, listed, 'resumes where the list said it stopped');
  assert.equal(await page.$(sel('unfinished-upload')), null, 'the resumed upload leaves the unfinished list');

  const done = await page.waitForSelector(`${sel('upload-item')}[data-state="done"]`, { timeout: 120000 });
  const mediaId = await done.getAttribute('data-id');
  const resumedAt = Number(await done.getAttribute('data-resumed-at'));
  t.diagnostic(`resumed at byte ${resumedAt} (${resumedPct}%)`);

  const posts = tusRequests.filter((r) => r.method === 'POST');
  assert.equal(posts.length, 1, `one upload created: ${JSON.stringify(tusRequests)}`);
  const after = tusRequests.filter((r) => r.phase === 'after reload');
  // (The page's list of unfinished uploads HEADs it too.)
  assert.equal(after[0].method, 'HEAD', JSON.stringify(after));
  const firstPatch = after.find((r) => r.method === 'PATCH');
  assert.ok(Number(firstPatch.offset) > 0, `first PATCH after the reload: Upload-Offset ${firstPatch.offset}`);
  assert.equal(Number(firstPatch.offset), resumedAt);
  assert.ok(resumedAt >= 16 * MiB, `resumed at ${resumedAt}`);
  assert.equal(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('tus::')).length), 0, 'forgotten once finished');

  // The new item is in the library and becomes ready.
  const card = `${sel('media-card')}[data-id="${mediaId}"]`;
  await page.waitForSelector(card);
  await page.waitForSelector(`${card}[data-status="ready"]`, { timeout: 180000 });
  const item = await page.evaluate((id) => window.__ms.api('/v1/media/' + id), mediaId);
  assert.equal(item.size, 40 * MiB);
  assert.equal(item.filename, 'long-take.mp4');
  assert.equal(item.title, 'long-take');
}));

test('an unfinished upload can be discarded: the server forgets it and so does the page', { timeout: 60000 }, step(async () => {
  holdPatches = 1500;
  held = [];
  // Another file: the one above is in the library now, and the page would offer to open it.
  const other = padMp4(clip, 40 * MiB - 8192, path.join(tmp, 'another-take.mp4'));
  await page.setInputFiles(sel('file-input'), other);
  const deadline = Date.now() + 30000;
  while (!held.includes(String(8 * MiB))) {
    assert.ok(Date.now() < deadline, 'the second chunk was never sent');
    await page.waitForTimeout(50);
  }
  holdPatches = 0;
  await page.reload();
  const row = await page.waitForSelector(sel('unfinished-upload'), { timeout: 15000 });
  const url = new URL(await row.getAttribute('data-url'), server.url).href;
  assert.match(await row.textContent(), /Interrupted at 20%/);
  const deleted = page.waitForRequest((r) => r.method() === 'DELETE' && r.url() === url);
  await page.click(sel('unfinished-discard'));
  await deleted;
  await page.waitForSelector(sel('unfinished-upload'), { state: 'detached' });
  assert.equal(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('tus::')).length), 0);
  const status = await page.evaluate(async (u) => (await fetch(u, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0', authorization: 'Bearer ' + localStorage.getItem('ms.access') } })).status, url);
  assert.equal(status, 404, 'the server no longer has it');
}));

test('an access token the server refuses is refreshed and the upload goes on', { timeout: 60000 }, step(async () => {
  // Without WebCrypto the page skips its duplicate check (whose request would meet the stale
  // token first), so the tus requests are the first to be refused.
  await page.evaluate(() => Object.defineProperty(window.crypto, 'subtle', { get: () => undefined, configurable: true }));
  await page.evaluate(() => { localStorage.setItem('ms.access', 'stale'); localStorage.setItem('ms.expires_at', String(Date.now() + 600000)); });
  const start = tusRequests.length;
  await page.setInputFiles(sel('file-input'), clip);
  await page.waitForSelector(`${sel('upload-item')}[data-state="done"]:has-text("clip.mp4")`, { timeout: 30000 });
  assert.notEqual(await page.evaluate(() => localStorage.getItem('ms.access')), 'stale');
  const posts = tusRequests.slice(start).filter((r) => r.method === 'POST');
  assert.equal(posts.length, 2, 'refused once, then sent again with the new token');
}));

test('too large, not media and a lost session are reported clearly', { timeout: 60000 }, step(async () => {
  // Over MAX_UPLOAD_BYTES (the server refuses it at creation, before any byte is sent).
  const huge = path.join(tmp, 'huge.mov');
  closeSync(openSync(huge, 'w'));
  truncateSync(huge, LIMIT + 1);
  await page.setInputFiles(sel('file-input'), huge);
  const tooLarge = await page.waitForSelector(`${sel('upload-item')}[data-state="failed"]:has-text("huge.mov")`);
  assert.match(await tooLarge.textContent(), /Too large: .*limit/);

  // Not media, dropped onto the drop zone.
  const text = 'just some notes, not a video\n'.repeat(2000);
  const dataTransfer = await page.evaluateHandle((body) => {
    const dt = new DataTransfer();
    dt.items.add(new File([body], 'notes.mp4', { type: 'video/mp4' }));
    return dt;
  }, text);
  await page.dispatchEvent(sel('dropzone'), 'drop', { dataTransfer });
  const notMedia = await page.waitForSelector(`${sel('upload-item')}[data-state="failed"]:has-text("notes.mp4")`);
  assert.match(await notMedia.textContent(), /Not a media file: .*not an image, video or audio file/);
  assert.equal(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('tus::')).length), 0, 'a discarded upload is not offered for resuming');

  // A session that cannot be refreshed any more.
  await page.evaluate(() => { localStorage.setItem('ms.access', 'revoked'); localStorage.setItem('ms.refresh', 'revoked'); });
  writeFileSync(path.join(tmp, 'late.mp4'), 'x');
  await page.setInputFiles(sel('file-input'), path.join(tmp, 'late.mp4'));
  const lost = await page.waitForSelector(`${sel('upload-item')}[data-state="failed"]:has-text("late.mp4")`);
  assert.match(await lost.textContent(), /log in again/);
  await page.waitForSelector(sel('nav-login'));
  mkdirSync(path.join(ROOT, 'test-artifacts'), { recursive: true });
  await page.screenshot({ path: path.join(ROOT, 'test-artifacts', 'upload-errors.png') });
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(cspViolations, []);
}));

test('logging out mid-upload stops it and forgets it, here and on the server', { timeout: 60000 }, step(async () => {
  await page.goto(server.url + '/#/login');
  await page.fill(sel('email'), EMAIL);
  await page.fill(sel('password'), PASSWORD);
  await page.click(sel('auth-submit'));
  await page.waitForSelector(sel('dropzone'));
  holdPatches = 1500;
  held = [];
  await page.setInputFiles(sel('file-input'), big);
  const deadline = Date.now() + 30000;
  while (!held.includes(String(8 * MiB))) {
    assert.ok(Date.now() < deadline, 'the second chunk was never sent');
    await page.waitForTimeout(50);
  }
  holdPatches = 0;
  const stored = await page.evaluate(() => Object.entries(localStorage).filter(([k]) => k.startsWith('tus::')).map(([, v]) => JSON.parse(v).uploadUrl));
  assert.equal(stored.length, 1);
  const url = new URL(stored[0], server.url).href;
  const deleted = page.waitForRequest((r) => r.method() === 'DELETE' && r.url() === url);
  await page.click(sel('logout'));
  await deleted;
  await page.waitForSelector(sel('nav-login'));
  assert.deepEqual(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('tus::') || k.startsWith('ms.'))), []);

  const login = await fetch(server.url + '/v1/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: EMAIL, password: PASSWORD }) });
  const { access_token: token } = await login.json();
  const head = await fetch(url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0', authorization: 'Bearer ' + token } });
  assert.equal(head.status, 404, 'the server no longer has it');
  assert.deepEqual(pageErrors, []);
}));

test('a failed item has a Retry button that queues it again', { timeout: 120000 }, step(async () => {
  await page.goto(server.url + '/#/login');
  await page.fill(sel('email'), EMAIL);
  await page.fill(sel('password'), PASSWORD);
  await page.click(sel('auth-submit'));
  await page.waitForSelector(sel('dropzone'));
  const { access_token: token } = await (await fetch(server.url + '/v1/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: EMAIL, password: PASSWORD }) })).json();
  // Half an MP4: its header still sniffs as video, processing fails for good.
  const bytes = readFileSync(clip);
  const r = await fetch(server.url + '/v1/media?filename=cut.mp4', { method: 'POST', headers: { authorization: 'Bearer ' + token }, body: bytes.subarray(0, bytes.length / 2) });
  assert.equal(r.status, 201);
  const { id } = await r.json();
  const deadline = Date.now() + 60000;
  for (;;) {
    const item = await (await fetch(server.url + '/v1/media/' + id, { headers: { authorization: 'Bearer ' + token } })).json();
    if (item.status === 'failed') break;
    assert.ok(Date.now() < deadline, `still ${item.status}`);
    await new Promise((res) => setTimeout(res, 250));
  }
  await page.goto(server.url + '/#/media/' + id);
  const button = await page.waitForSelector(sel('retry-button'));
  const answered = page.waitForResponse((resp) => resp.url().endsWith(`/v1/media/${id}/retry`) && resp.request().method() === 'POST');
  await button.click();
  assert.equal((await answered).status(), 202);
  // Queued again: the page leaves the failed state and polls; the same broken file fails again
  // and the button comes back.
  await page.waitForSelector(sel('retry-button'), { state: 'detached', timeout: 10000 });
  await page.waitForSelector(sel('retry-button'), { timeout: 60000 });
  assert.deepEqual(pageErrors, []);
}));
