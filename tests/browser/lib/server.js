// Starts the real mediaserver binary on a free loopback port with a throwaway data directory,
// or on an existing one (to restart a server on the data another one left behind).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = process.env.MEDIASERVER_BIN || path.join(ROOT, 'target/debug/mediaserver');

/**
 * Resolves to {url, dataDir, logs(), kill(signal), stop()} once the server logs
 * `listening on http://…`. `opts.dataDir`: an existing data directory to serve (it is then
 * left in place by stop(); otherwise stop() removes the temporary one it made).
 */
export async function startServer(extraEnv = {}, opts = {}) {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`cargo build -p mediaserver\` first`);
  const ownsDataDir = !opts.dataDir;
  const dataDir = opts.dataDir || mkdtempSync(path.join(tmpdir(), 'mediaserver-browser-'));
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
    /** Sends `signal` (SIGKILL: no chance to clean up) and resolves once the process is gone;
     *  the data directory stays. */
    async kill(signal = 'SIGKILL') {
      if (!exited) {
        child.kill(signal);
        await exit;
      }
      return exited;
    },
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10000);
        await exit;
        clearTimeout(t);
      }
      if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
