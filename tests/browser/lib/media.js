// Test media, generated with ffmpeg's lavfi sources (never downloaded).
import { execFileSync } from 'node:child_process';
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
