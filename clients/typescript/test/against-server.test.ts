// The generated TypeScript client against a running server, whose URL scripts/test-clients.sh
// passes in MEDIASERVER_URL: register, log in, upload a small video made with ffmpeg, wait until
// it is ready, find it in the list, and fetch the HLS playlist its item names. Type-checked by
// `tsc` against the generated schema before it runs (npm test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createMediaserverClient, type Schema } from '../src/index.js';

const URL = process.env.MEDIASERVER_URL ?? '';

function makeClip(dir: string): Uint8Array {
  const out = path.join(dir, 'clip.mp4');
  execFileSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=2',
    '-f', 'lavfi', '-i', 'sine=frequency=440:duration=2',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', out,
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
  return readFileSync(out);
}

test('register, upload, wait for ready, list, play', { skip: !URL && 'MEDIASERVER_URL is not set (scripts/test-clients.sh sets it)', timeout: 180000 }, async () => {
  const anon = createMediaserverClient(URL);
  const email = `ts-${Math.random().toString(16).slice(2, 10)}@example.com`;
  const password = 'correct horse battery staple';

  const registered = await anon.POST('/v1/auth/register', { body: { email, password } });
  assert.equal(registered.response.status, 201, JSON.stringify(registered.error));
  assert.equal(registered.data?.email, email);
  const login = await anon.POST('/v1/auth/login', { body: { email, password } });
  assert.ok(login.data, JSON.stringify(login.error));
  const client = createMediaserverClient(URL, login.data.access_token);

  const tmp = mkdtempSync(path.join(tmpdir(), 'mediaserver-ts-client-'));
  let bytes: Uint8Array;
  try { bytes = makeClip(tmp); } finally { rmSync(tmp, { recursive: true, force: true }); }
  // multipart/form-data: the form is typed; its file part is built as FormData.
  const created = await client.POST('/v1/media', {
    body: { file: 'clip.mp4', title: 'From TypeScript' },
    bodySerializer: () => {
      const fd = new FormData();
      fd.append('file', new Blob([Uint8Array.from(bytes)], { type: 'video/mp4' }), 'clip.mp4');
      fd.append('title', 'From TypeScript');
      return fd;
    },
  });
  assert.equal(created.response.status, 201, JSON.stringify(created.error));
  let item: Schema<'MediaView'> = created.data!;
  assert.equal(item.title, 'From TypeScript');

  for (const deadline = Date.now() + 120000; item.status !== 'ready' && item.status !== 'failed';) {
    assert.ok(Date.now() < deadline, `not ready: ${item.status}`);
    await new Promise((r) => setTimeout(r, 300));
    const got = await client.GET('/v1/media/{id}', { params: { path: { id: item.id } } });
    assert.ok(got.data, JSON.stringify(got.error));
    item = got.data;
  }
  assert.equal(item.status, 'ready', item.error ?? '');
  assert.deepEqual([item.width, item.height], [320, 240]);

  const list = await client.GET('/v1/media', { params: { query: { limit: 10 } } });
  assert.ok(list.data, JSON.stringify(list.error));
  assert.ok(list.data.items.some((i) => i.id === item.id));

  // The HLS URL the item names plays: a master playlist.
  const hls = item.playback?.hls;
  assert.equal(hls, `/v1/media/${item.id}/hls/master.m3u8`);
  const playlist = await client.GET('/v1/media/{id}/hls/{file}', {
    params: { path: { id: item.id, file: 'master.m3u8' } },
    parseAs: 'text',
  });
  assert.equal(playlist.response.status, 200);
  assert.match(playlist.data as string, /^#EXTM3U/);
});
