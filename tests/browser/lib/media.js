// Test media, generated with ffmpeg's lavfi sources (never downloaded).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';

/** An H.264/AAC MP4 of `seconds` at `width`x`height` (testsrc2 picture, sine tone). */
export function makeClip(dir, { seconds = 8, width = 640, height = 360, name = 'clip.mp4' } = {}) {
  const out = path.join(dir, name);
  execFileSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=25:duration=${seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '50',
    '-c:a', 'aac', '-b:a', '96k', '-shortest', '-movflags', '+faststart', out,
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
  return out;
}

/**
 * `src` (an MP4) padded to exactly `size` bytes with a trailing `free` box, which MP4 readers
 * skip: a large upload that is still a valid, quickly processed video.
 */
export function padMp4(src, size, out) {
  const data = readFileSync(src);
  const pad = size - data.length;
  if (pad < 8 || pad > 0xffffffff) throw new Error(`cannot pad ${data.length} bytes to ${size}`);
  const fd = openSync(out, 'w');
  try {
    writeSync(fd, data);
    const header = Buffer.alloc(8);
    header.writeUInt32BE(pad, 0);
    header.write('free', 4, 'latin1');
    writeSync(fd, header);
    // Pseudo-random filler (so compression or deduplication on the way changes nothing), 1 MiB
    // at a time.
    let left = pad - 8;
    let x = 0x9e3779b9;
    const block = Buffer.alloc(1 << 20);
    while (left > 0) {
      const n = Math.min(left, block.length);
      for (let i = 0; i < n; i += 4) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; block.writeInt32LE(x | 0, i); }
      writeSync(fd, block, 0, n);
      left -= n;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/** Hex SHA-256 of a file. */
export function sha256File(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}
