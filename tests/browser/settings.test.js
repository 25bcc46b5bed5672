// The settings page: an API key created in the page works against the API, shows once, is
// listed, and once revoked in the page the API refuses it; changing the password in the page
// ends the other sessions and keeps this one.
//
// Needs what player.test.js needs (the binary, /usr/bin/chromium, `npm ci` here).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.js';
import { launchBrowser } from './lib/browser.js';

const EMAIL = 'keys@example.com';
const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a much better passphrase';

let server, browser, page, failed = false;
const pageErrors = [];
const sel = (id) => `[data-testid="${id}"]`;

before(async () => {
  server = await startServer({ WORKERS: '0' });
  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
});

after(async () => {
  await browser?.close().catch(() => {});
  if (failed && server) console.log('--- server log (tail) ---\n' + server.logs().split('\n').slice(-60).join('\n'));
  await server?.stop();
});

const step = (fn) => async (t) => {
  try { await fn(t); } catch (e) { failed = true; throw e; }
};

/** Calls the API from the test (not the page) with `token`. */
const call = (path, token, init = {}) => fetch(server.url + path, {
  ...init,
  headers: { ...(init.headers || {}), ...(token ? { authorization: 'Bearer ' + token } : {}) },
});

const login = (password) => call('/v1/auth/login', null, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: EMAIL, password }),
});

test('registers and opens the settings page from the nav', step(async () => {
  await page.goto(server.url + '/#/register');
  await page.fill(sel('email'), EMAIL);
  await page.fill(sel('password'), PASSWORD);
  await page.click(sel('auth-submit'));
  await page.click(sel('nav-settings'));
  await page.waitForSelector(sel('api-key-none'));
  assert.equal(await page.url(), server.url + '/#/settings');
}));

let secret;
test('a key created in the page is shown once and works against the API', step(async () => {
  await page.fill(sel('api-key-name'), 'browser key');
  await page.selectOption(sel('api-key-expiry'), String(86400));
  // Read and upload, not write.
  await page.uncheck(sel('api-key-scope-write'));
  await page.click(sel('api-key-create'));
  await page.waitForSelector(sel('api-key-secret'));
  secret = await page.inputValue(sel('api-key-secret'));
  assert.match(secret, /^msk_/);

  const rows = page.locator(sel('api-key-row'));
  await rows.first().waitFor();
  assert.equal(await rows.count(), 1);
  assert.equal(await rows.first().locator(sel('api-key-row-name')).textContent(), 'browser key');
  assert.equal(await rows.first().locator(sel('api-key-row-scopes')).textContent(), 'read, upload');
  const prefix = await rows.first().getAttribute('data-prefix');
  assert.ok(secret.startsWith(prefix), `${secret} does not start with ${prefix}`);
  // The list shows the prefix, never the key.
  assert.ok(!(await page.locator(sel('api-key-list')).textContent()).includes(secret));

  const me = await call('/v1/auth/me', secret);
  assert.equal(me.status, 200);
  assert.equal((await me.json()).email, EMAIL);
  assert.equal((await call('/v1/media', secret)).status, 200);
  // Its scopes hold: no write, so no deleting.
  const del = await call('/v1/media/00000000000000000000000000', secret, { method: 'DELETE' });
  assert.equal(del.status, 403);
  assert.equal((await del.json()).error.code, 'insufficient_scope');

  // Dismissed, the key is gone from the page for good.
  await page.click(sel('api-key-done'));
  assert.equal(await page.locator(sel('api-key-secret')).count(), 0);
}));

test('a key revoked in the page is refused by the API at once', step(async () => {
  const row = page.locator(sel('api-key-row')).first();
  // Cancelling the confirmation keeps it.
  await row.locator(sel('api-key-revoke')).click();
  await page.click(sel('confirm-cancel'));
  assert.equal((await call('/v1/auth/me', secret)).status, 200);

  await row.locator(sel('api-key-revoke')).click();
  await page.click(sel('confirm-ok'));
  await page.waitForSelector(sel('api-key-none'));
  const r = await call('/v1/auth/me', secret);
  assert.equal(r.status, 401);
}));

test('changing the password in the page ends the other sessions and keeps this one', step(async () => {
  const other = await login(PASSWORD);
  assert.equal(other.status, 200);
  const { access_token: otherAccess } = await other.json();
  assert.equal((await call('/v1/auth/me', otherAccess)).status, 200);

  // A wrong current password, then a mistyped repetition: clear errors, nothing changed.
  await page.fill(sel('password-current'), 'not my password');
  await page.fill(sel('password-new'), NEW_PASSWORD);
  await page.fill(sel('password-again'), NEW_PASSWORD);
  await page.click(sel('password-submit'));
  await page.waitForFunction((s) => document.querySelector(s).textContent.includes('wrong'), sel('password-error'));
  await page.fill(sel('password-current'), PASSWORD);
  await page.fill(sel('password-again'), NEW_PASSWORD + '!');
  await page.click(sel('password-submit'));
  await page.waitForFunction((s) => document.querySelector(s).textContent.includes('differ'), sel('password-error'));
  assert.equal((await call('/v1/auth/me', otherAccess)).status, 200);

  await page.fill(sel('password-again'), NEW_PASSWORD);
  await page.click(sel('password-submit'));
  await page.waitForFunction((s) => document.querySelector(s).textContent.includes('Password changed'), sel('password-done'));
  assert.equal(await page.textContent(sel('password-error')), '');

  // The other session is over; this one goes on (the page still lists keys without logging in).
  assert.equal((await call('/v1/auth/me', otherAccess)).status, 401);
  await page.reload();
  await page.waitForSelector(sel('api-key-none'));
  assert.equal(await page.locator(sel('nav-settings')).count(), 1);
  assert.equal((await login(PASSWORD)).status, 401);
  assert.equal((await login(NEW_PASSWORD)).status, 200);
  assert.deepEqual(pageErrors, []);
}));
