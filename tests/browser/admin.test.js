// The admin page, with sign-up closed after the first account (the default): the first account
// sees the Admin link, creates a user and disables them (whose login is then refused), makes an
// invitation link that a new visitor registers with (while open sign-up stays refused), sees a
// failed job first with a Retry button, and deletes a user after a confirmation naming their
// items. A user who is not an admin gets no Admin link.
//
// Needs what player.test.js needs (the binary, /usr/bin/chromium, `npm ci` here).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, ROOT } from './lib/server.js';
import { launchBrowser } from './lib/browser.js';

const PASSWORD = 'correct horse battery staple';
const sel = (id) => `[data-testid="${id}"]`;
const row = (email) => `${sel('user-row')}[data-email="${email}"]`;

let server, browser, context, page, tmp, failed = false;
const pageErrors = [];

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'mediaserver-admin-'));
  // Open sign-up must be off: unset is the server's default (only the first account).
  server = await startServer({ ALLOW_REGISTRATION: '', WORKERS: '1' });
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1300, height: 900 } });
  page = await context.newPage();
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

async function post(pathname, json) {
  return fetch(server.url + pathname, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(json) });
}

test('the first account registers and finds the admin page', step(async () => {
  await page.goto(server.url + '/#/register');
  await page.fill(sel('email'), 'admin@example.com');
  await page.fill(sel('password'), PASSWORD);
  await page.click(sel('auth-submit'));
  await page.waitForSelector(sel('dropzone'));
  await page.click(sel('nav-admin'));
  await page.waitForSelector(row('admin@example.com'));
  // Sign-up is closed for everyone else.
  assert.equal((await post('/v1/auth/register', { email: 'late@example.com', password: PASSWORD })).status, 403);
}));

test('the admin creates a user and disables them: their login is refused', step(async () => {
  await page.fill(sel('new-user-email'), 'worker@example.com');
  await page.fill(sel('new-user-password'), PASSWORD);
  await page.click(sel('create-user'));
  await page.waitForSelector(`${row('worker@example.com')}[data-disabled="false"]`);
  assert.equal((await post('/v1/auth/login', { email: 'worker@example.com', password: PASSWORD })).status, 200);

  await page.click(`${row('worker@example.com')} ${sel('disable-user')}`);
  await page.waitForSelector(`${row('worker@example.com')}[data-disabled="true"]`);
  const r = await post('/v1/auth/login', { email: 'worker@example.com', password: PASSWORD });
  assert.equal(r.status, 403);
  assert.match((await r.json()).error.message, /account disabled/);
  // The admin's own row cannot be disabled or deleted from here.
  assert.equal(await page.isDisabled(`${row('admin@example.com')} ${sel('disable-user')}`), true);
  assert.equal(await page.isDisabled(`${row('admin@example.com')} ${sel('delete-user')}`), true);
}));

test('an invitation link lets one visitor register while sign-up is closed', { timeout: 60000 }, step(async () => {
  await page.click(sel('invite'));
  const link = await (await page.waitForSelector(sel('invite-link'))).inputValue();
  assert.match(link, /\/#\/register\?invite=msi_/);

  const visitor = await browser.newContext();
  try {
    const p = await visitor.newPage();
    p.on('pageerror', (e) => pageErrors.push(e.message));
    await p.goto(link);
    await p.waitForSelector(sel('invited'));
    await p.fill(sel('email'), 'guest@example.com');
    await p.fill(sel('password'), PASSWORD);
    await p.click(sel('auth-submit'));
    await p.waitForSelector(sel('dropzone'));
    // Not an admin: no Admin link, and the admin API refuses them.
    assert.equal(await p.$(sel('nav-admin')), null);
    const status = await p.evaluate(async () => (await fetch('/v1/admin/users', { headers: { authorization: 'Bearer ' + localStorage.getItem('ms.access') } })).status);
    assert.equal(status, 403);
  } finally {
    await visitor.close();
  }
  // Used once.
  const token = new URL(link.replace('/#/', '/')).searchParams.get('invite');
  const again = await post('/v1/auth/register', { email: 'second@example.com', password: PASSWORD, invite: token });
  assert.equal(again.status, 403);
  await page.reload();
  await page.waitForSelector(row('guest@example.com'));
}));

test('a failed job is listed first and can be retried', { timeout: 120000 }, step(async () => {
  // An MP4 signature over garbage: accepted as video, fails processing for good.
  const broken = path.join(tmp, 'broken.mp4');
  const bytes = Buffer.alloc(64 * 1024, 7);
  bytes.write('\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2', 0, 'latin1');
  writeFileSync(broken, bytes);
  await page.goto(server.url + '/#/');
  await page.setInputFiles(sel('file-input'), broken);
  await page.waitForSelector(`${sel('media-card')}[data-status="failed"]`, { timeout: 90000 });
  // The library says what the caller stores (no quota on this server).
  await page.waitForSelector(`${sel('storage-usage')}:has-text("66 KB used")`);
  await page.click(sel('nav-admin'));
  const first = await page.waitForSelector(`${sel('admin-jobs')} ${sel('job-row')}`);
  assert.equal(await first.getAttribute('data-status'), 'failed');
  const retried = page.waitForResponse((r) => r.request().method() === 'POST' && /\/v1\/media\/[^/]+\/retry$/.test(r.url()));
  await page.click(`${sel('job-row')}[data-status="failed"] ${sel('retry-job')}`);
  assert.equal((await retried).status(), 202);
  mkdirSync(path.join(ROOT, 'test-artifacts'), { recursive: true });
  await page.screenshot({ path: path.join(ROOT, 'test-artifacts', 'admin.png'), fullPage: true });
  // The webhook deliveries section has its place.
  assert.ok(await page.$('#admin-webhooks'));
}));

test('deleting a user asks first, naming what goes', { timeout: 60000 }, step(async () => {
  await page.click(`${row('worker@example.com')} ${sel('delete-user')}`);
  await page.waitForSelector(`${sel('confirm-dialog')}[open]`);
  assert.match(await page.textContent('#confirm-text'), /0 items/);
  await page.click(sel('confirm-cancel'));
  assert.ok(await page.$(row('worker@example.com')), 'cancel keeps the user');
  await page.click(`${row('worker@example.com')} ${sel('delete-user')}`);
  await page.click(sel('confirm-ok'));
  await page.waitForFunction(() => !document.querySelector('[data-testid="user-row"][data-email="worker@example.com"]'));
  const r = await post('/v1/auth/login', { email: 'worker@example.com', password: PASSWORD });
  assert.equal(r.status, 401);
  assert.deepEqual(pageErrors, []);
}));
