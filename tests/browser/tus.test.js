// tus-js-client (the reference tus client, run by node) against the real server: a generated
// 50 MiB video goes up in 5 MiB chunks; the server is SIGKILLed at about 40 % while a chunk is
// on the wire and restarted on the same data directory (on a new port); the client resumes
// from the offset HEAD reports rather than starting over, and the stored original's SHA-256
// equals the source's.
//
// Needs: target/debug/mediaserver (`cargo build -p mediaserver`), ffmpeg, `npm ci` here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tus from 'tus-js-client';
import { startServer } from './lib/server.js';
import { makeClip, padMp4, sha256File } from './lib/media.js';

const MiB = 1024 * 1024;
const SIZE = 50 * MiB;
const CHUNK = 5 * MiB;
const EMAIL = 'tus@example.com';
const PASSWORD = 'correct horse battery staple';

let tmp, file, source, sourceSha;
const servers = [];

before(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'mediaserver-tus-'));
  const clip = makeClip(tmp, { seconds: 2, width: 320, height: 240 });
  file = padMp4(clip, SIZE, path.join(tmp, 'big.mp4'));
  source = readFileSync(file);
  sourceSha = sha256File(file);
  assert.equal(source.length, SIZE);
});

after(async () => {
  // The restarted server first, then the killed one (which owns, and now removes, the data).
  for (const s of servers.reverse()) await s.stop().catch(() => {});
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function json(url, init) {
  const res = await fetch(url, init);
  const body = await res.json().catch(() => null);
  assert.ok(res.ok, `${init?.method || 'GET'} ${url}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

async function registerAndLogin(base) {
  const creds = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: EMAIL, password: PASSWORD }) };
  await json(base + '/v1/auth/register', creds);
  return (await json(base + '/v1/auth/login', creds)).access_token;
}

/** Every request the client makes, as [method, Upload-Offset sent, status, Upload-Offset answered]. */
function recorder(log) {
  return {
    onAfterResponse: (req, res) => {
      log.push({ method: req.getMethod(), sent: req.getHeader('Upload-Offset'), status: res.getStatus(), offset: res.getHeader('Upload-Offset') });
    },
  };
}

test('tus-js-client resumes a 50 MiB upload after the server is SIGKILLed at ~40 %, and the original is intact', { timeout: 300000 }, async (t) => {
  const first = await startServer();
  servers.push(first);
  const token = await registerAndLogin(first.url);
  const auth = { Authorization: 'Bearer ' + token };

  // ---- phase 1: upload until ~40 % has been sent, then kill the server mid-chunk
  const log1 = [];
  let acknowledged = 0;
  let uploadUrl = null;
  let killed = null;
  const phase1 = await new Promise((resolve) => {
    const upload = new tus.Upload(source, {
      endpoint: first.url + '/v1/uploads/',
      chunkSize: CHUNK,
      retryDelays: null,
      metadata: { filename: 'big.mp4', title: 'Big upload' },
      headers: auth,
      ...recorder(log1),
      onUploadUrlAvailable: () => { uploadUrl = upload.url; },
      onChunkComplete: (_size, accepted) => { acknowledged = accepted; },
      onProgress: (sent, total) => {
        // Past 40 %: part of the next chunk is on the wire.
        if (!killed && sent > 0.4 * total) killed = first.kill('SIGKILL').then(() => ({ sent, acknowledged }));
      },
      onSuccess: () => resolve({ error: new Error('the upload finished before the server was killed') }),
      onError: (error) => resolve({ error }),
    });
    upload.start();
  });
  assert.ok(killed, `the server was never killed: ${phase1.error}`);
  const atKill = await killed;
  t.diagnostic(`killed with ${atKill.sent} bytes sent, ${atKill.acknowledged} acknowledged; client error: ${String(phase1.error.message).split(',')[0]}`);
  assert.ok(uploadUrl && new URL(uploadUrl).pathname.startsWith('/v1/uploads/'), uploadUrl);
  assert.equal(log1.filter((r) => r.method === 'POST').length, 1);
  assert.ok(acknowledged >= 3 * CHUNK && acknowledged < SIZE, `acknowledged ${acknowledged}`);
  assert.equal(acknowledged % CHUNK, 0);

  // ---- phase 2: the same data on a restarted server; resume through the upload's URL there
  const second = await startServer({}, { dataDir: first.dataDir });
  servers.push(second);
  assert.notEqual(second.url, first.url);
  const resumedUrl = second.url + new URL(uploadUrl).pathname;
  const log2 = [];
  const mediaId = await new Promise((resolve, reject) => {
    const upload = new tus.Upload(source, {
      // No endpoint: the client must continue this upload and cannot fall back to a new one.
      uploadUrl: resumedUrl,
      chunkSize: CHUNK,
      retryDelays: null,
      headers: auth,
      ...recorder(log2),
      onSuccess: ({ lastResponse }) => resolve(lastResponse.getHeader('Mediaserver-Media-Id')),
      onError: reject,
    });
    upload.start();
  });
  const head = log2[0];
  assert.equal(head.method, 'HEAD', JSON.stringify(log2));
  assert.equal(head.status, 200);
  const resumedAt = Number(head.offset);
  t.diagnostic(`HEAD after the restart: Upload-Offset ${resumedAt}`);
  // Everything acknowledged survived; the chunk in flight at the kill is either wholly
  // recorded or not at all.
  assert.ok(resumedAt > 0, 'resumed, not restarted');
  assert.equal(resumedAt % CHUNK, 0, `offset ${resumedAt} is a whole number of chunks`);
  assert.ok(resumedAt >= acknowledged && resumedAt <= acknowledged + CHUNK, `offset ${resumedAt}, acknowledged ${acknowledged}`);
  const patches = log2.filter((r) => r.method === 'PATCH');
  assert.equal(Number(patches[0].sent), resumedAt, 'the first PATCH continues from the offset HEAD reported');
  assert.equal(patches.length, Math.ceil((SIZE - resumedAt) / CHUNK), 'only the rest was sent');
  assert.ok(patches.every((p) => p.status === 204), JSON.stringify(patches));
  assert.equal(Number(patches.at(-1).offset), SIZE);
  assert.ok(!log2.some((r) => r.method === 'POST'), 'no new upload was created');
  assert.ok(mediaId, 'the completing PATCH names the new item');

  // ---- the stored original is the source, byte for byte
  const item = await json(`${second.url}/v1/media/${mediaId}`, { headers: auth });
  assert.equal(item.size, SIZE);
  assert.equal(item.filename, 'big.mp4');
  assert.equal(item.title, 'Big upload');
  const res = await fetch(`${second.url}/v1/media/${mediaId}/original`, { headers: auth });
  assert.equal(res.status, 200);
  const hash = createHash('sha256');
  let received = 0;
  for await (const chunk of res.body) { hash.update(chunk); received += chunk.length; }
  assert.equal(received, SIZE);
  assert.equal(hash.digest('hex'), sourceSha, "the stored original's SHA-256 equals the source's");
  assert.equal(item.sha256, sourceSha);

  // A HEAD of the finished upload names the item too (a client that lost the last answer).
  const again = await fetch(resumedUrl, { method: 'HEAD', headers: { ...auth, 'Tus-Resumable': '1.0.0' } });
  assert.equal(again.status, 200);
  assert.equal(again.headers.get('mediaserver-media-id'), mediaId);
  assert.equal(again.headers.get('upload-offset'), String(SIZE));
});
