// What a video item's source was (`item.source`: codec, display size, published frame rate,
// HDR transfer, interlacing, rotation, pixel format), as rows of the item page's Details list.
// `describeSource` is the words alone (no DOM), `sourceDetails` the <dt>/<dd> pairs.

import { el } from './dom.js';

/** ffprobe's codec names people would not recognise. */
const CODECS = {
  h264: 'H.264', hevc: 'HEVC (H.265)', av1: 'AV1', vp9: 'VP9', vp8: 'VP8',
  prores: 'ProRes', dnxhd: 'DNxHD / DNxHR', mpeg2video: 'MPEG-2', mpeg1video: 'MPEG-1',
  mpeg4: 'MPEG-4 Part 2', mjpeg: 'Motion JPEG', dvvideo: 'DV', qtrle: 'QuickTime Animation',
  theora: 'Theora', wmv3: 'WMV 9', vc1: 'VC-1',
};

const HDR = { hlg: 'HDR (HLG), shown as SDR', pq: 'HDR (PQ / HDR10), shown as SDR' };

/** `yuv420p10le` → "10-bit 4:2:0"; `yuva444p12le` → "12-bit 4:4:4 with alpha"; else ''. */
function pixelHint(fmt) {
  const m = /^(yuva?|yuvj)(4[0-9]{2})p(\d+)?/.exec(fmt);
  if (!m) return '';
  const sub = m[2].split('').join(':');
  const depth = m[3] || '8';
  return `${depth}-bit ${sub}${m[1] === 'yuva' ? ' with alpha' : ''}`;
}

/** 25 → "25 fps", 29.97002997 → "29.97 fps". */
function fpsText(fps) {
  return `${Number(fps.toFixed(3))} fps`;
}

/**
 * The rows (`[{ key, label, value }]`) describing `source`, or [] when there is none (audio,
 * images, an item not processed yet).
 */
export function describeSource(source) {
  if (!source || typeof source !== 'object') return [];
  const rows = [];
  const add = (key, label, value) => rows.push({ key, label, value });
  add('codec', 'Source codec', CODECS[source.codec] || source.codec || 'unknown');
  if (source.width && source.height) add('size', 'Source size', `${source.width}×${source.height}`);
  if (source.fps > 0) add('fps', 'Frame rate', fpsText(source.fps));
  add('hdr', 'Dynamic range', HDR[source.hdr] || 'SDR');
  add('scan', 'Scan', source.interlaced ? 'Interlaced (deinterlaced)' : 'Progressive');
  add('rotation', 'Rotation', source.rotation ? `${source.rotation}° (shown upright)` : 'None');
  if (source.pixel_format) {
    const hint = pixelHint(source.pixel_format);
    add('pixel-format', 'Pixel format', hint ? `${source.pixel_format} (${hint})` : source.pixel_format);
  }
  return rows;
}

/** <dt>/<dd> pairs for the item page's Details list (each <dd> with `data-testid="source-KEY"`). */
export function sourceDetails(item) {
  return describeSource(item && item.source).flatMap(({ key, label, value }) => [
    el('dt', { text: label }),
    el('dd', { text: value, 'data-testid': 'source-' + key }),
  ]);
}
