// Starts the real mediaserver binary on a free loopback port with a throwaway data directory.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = process.env.MEDIASERVER_BIN || path.join(ROOT, 'target/debug/mediaserver');

/** Resolves to {url, stop(), logs()} once the server logs `listening on http://…`. */
export async function startServer(extraEnv = {}) {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`cargo build -p mediaserver\` first`);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'mediaserver-browser-'));
  const child = spawn(BIN, ['serve'], {
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      PORT: '0',
      WORKERS: '1',
      TRANSCODE_PRESET: 'ultrafast',
      NO_COLOR: '1',
      RUST_LOG: process.env.RUST_LOG || 'info',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = [];
  const keep = (chunk) => {
    for (const l of chunk.toString().split('\n')) if (l) lines.push(l.replace(/\x1b\[[0-9;]*m/g, ''));
    if (lines.length > 5000) lines.splice(0, lines.length - 5000);
  };
  child.stdout.on('data', keep);
  let exited = null;
  const exit = new Promise((resolve) => child.on('exit', (code, signal) => { exited = { code, signal }; resolve(exited); }));

  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start in 30 s:\n' + lines.join('\n'))), 30000);
    child.stderr.on('data', (chunk) => {
      keep(chunk);
      const m = lines.join('\n').match(/listening on (http:\/\/[0-9.:]+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    exit.then((e) => { clearTimeout(timer); reject(new Error(`server exited (${JSON.stringify(e)}):\n${lines.join('\n')}`)); });
  });

  return {
    url,
    dataDir,
    logs: () => lines.join('\n'),
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10000);
        await exit;
        clearTimeout(t);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
