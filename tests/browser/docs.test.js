// The API docs page (Swagger UI at /docs, over the served /openapi.json), used as a person would:
// authorize with a token, "Try it out" on the upload (the multipart form's file picker) and on the
// list (the `kind` filter as a query parameter), and see the server's answers.
//
// Needs what player.test.js needs (the binary, ffmpeg, /usr/bin/chromium, `npm ci` here).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer } from './lib/server.js';
import { launchBrowser } from './lib/browser.js';

let server, browser, tmp, png, token;

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'mediaserver-docs-'));
  png = path.join(tmp, 'red.png');
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'color=red:s=16x16',
    '-frames:v', '1', png]);
  server = await startServer();
  const creds = { email: 'docs@example.com', password: 'correct horse battery staple' };
  const post = (p, body) => fetch(server.url + p, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  assert.equal((await post('/v1/auth/register', creds)).status, 201);
  token = (await (await post('/v1/auth/login', creds)).json()).access_token;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

test('Try it out uploads a file through the multipart form and lists it by kind', async () => {
  const page = await browser.newPage({ viewport: { width: 1200, height: 1800 } });
  await page.goto(server.url + '/docs/');
  const upload = '#operations-media-upload_media';
  const list = '#operations-media-list_media';
  await page.waitForSelector(upload);

  await page.click('button.authorize');
  await page.fill('.auth-container input', token);
  await page.click('.auth-btn-wrapper button.authorize');
  await page.click('button.btn-done');

  await page.click(`${upload} .opblock-summary`);
  await page.click(`${upload} .try-out__btn`);
  await page.selectOption(`${upload} .body-param-content-type select`, 'multipart/form-data');
  await (await page.waitForSelector(`${upload} input[type=file]`)).setInputFiles(png);
  await page.click(`${upload} .execute`);
  const status = await page.waitForSelector(`${upload} .live-responses-table tbody .response-col_status`);
  assert.equal((await status.textContent()).trim(), '201');

  await page.click(`${list} .opblock-summary`);
  await page.click(`${list} .try-out__btn`);
  // `kind` is a query parameter with its values to choose from.
  await page.selectOption(`${list} tr[data-param-name="kind"] select`, 'image');
  await page.click(`${list} .execute`);
  const listed = await page.waitForSelector(`${list} .live-responses-table tbody .response-col_status`);
  assert.equal((await listed.textContent()).trim(), '200');
  const url = await page.textContent(`${list} .request-url pre`);
  assert.match(url, /\/v1\/media\?kind=image$/);
  const body = JSON.parse(await page.textContent(`${list} .live-responses-table tbody .response-col_description pre`));
  assert.equal(body.items.length, 1);
  assert.equal(body.items[0].filename, 'red.png');
  await page.close();
});
