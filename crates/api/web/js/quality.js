// How good each rendition came out and how the item was encoded, as rows of the item page's
// Details list: per rung its SSIM and PSNR (and VMAF where measured) against the source, and its
// size; for whoever manages the item (`item.encode`), ffmpeg's and the encoder's versions, the
// runner and what the encode cost. `describeQuality` / `describeEncode` are the words alone (no
// DOM), `qualityDetails` the <dt>/<dd> pairs.

import { el } from './dom.js';
import { fmtBytes } from './format.js';

/** 0.98765 → "0.988"; 41.234 → "41.2 dB". */
const ssimText = (v) => v.toFixed(3);
const psnrText = (v) => (v >= 100 ? '∞' : v.toFixed(1)) + ' dB';

/** The encode entry of rendition `name`, if the item has one. */
function encodeOf(item, name) {
  const list = (item.encode && item.encode.renditions) || [];
  return list.find((r) => r.name === name) || null;
}

/**
 * One line per rendition that was measured (`[{ name, text }]`), highest first as listed:
 * "SSIM 0.995 · PSNR 44.1 dB · 1.2 MB".
 */
export function describeQuality(item) {
  return ((item && item.renditions) || [])
    .filter((r) => r.quality && typeof r.quality.ssim === 'number')
    .map((r) => {
      const q = r.quality;
      const parts = [`SSIM ${ssimText(q.ssim)}`, `PSNR ${psnrText(q.psnr)}`];
      if (typeof q.vmaf === 'number') parts.push(`VMAF ${q.vmaf.toFixed(1)}`);
      const e = encodeOf(item, r.name);
      if (e && e.bytes) parts.push(fmtBytes(e.bytes));
      return { name: r.name, text: parts.join(' · ') };
    });
}

/** What made the item and what it cost, in words; '' without an encode record. */
export function describeEncode(encode) {
  if (!encode || typeof encode !== 'object') return '';
  const parts = [];
  if (encode.ffmpeg_version) parts.push(`ffmpeg ${encode.ffmpeg_version}`);
  const versions = [...new Set((encode.renditions || []).map((r) => r.encoder_version).filter(Boolean))];
  parts.push(...versions);
  const runner = encode.runner || {};
  if (runner.kind) parts.push(runner.host ? `${runner.kind} on ${runner.host}` : runner.kind);
  if (runner.image) parts.push(runner.image);
  let cost = `${encode.wall_seconds.toFixed(1)} s`;
  if (typeof encode.cpu_seconds === 'number') cost += ` (${encode.cpu_seconds.toFixed(1)} s CPU)`;
  // A chunked encode: the work summed over its parts, and what the item waited.
  if (typeof encode.elapsed_seconds === 'number') cost += ` in parts, ready ${encode.elapsed_seconds.toFixed(1)} s after the split`;
  parts.push(cost);
  const q = encode.quality;
  if (q) parts.push(`quality measured on ${q.sampled_seconds.toFixed(2)} s in ${q.windows} window${q.windows === 1 ? '' : 's'}`);
  return parts.join(' · ');
}

/** <dt>/<dd> pairs: "Quality" with a line per rung (`data-testid="quality-NAME"`), "Encode". */
export function qualityDetails(item) {
  const rows = describeQuality(item);
  const out = [];
  if (rows.length) {
    out.push(el('dt', { text: 'Quality' }), el('dd', { 'data-testid': 'quality' },
      ...rows.map(({ name, text }) => el('div', { 'data-testid': 'quality-' + name },
        el('strong', { text: name }), ' ' + text))));
  }
  const encode = describeEncode(item && item.encode);
  if (encode) out.push(el('dt', { text: 'Encode' }), el('dd', { text: encode, 'data-testid': 'encode' }));
  return out;
}
