// Video codecs in the player's quality menu: an item published in AV1 or HEVC as well as H.264
// (VIDEO_CODECS) has a rung of each size per codec, told apart by the codec's name.

/** The short name of an RFC 6381 codecs value's video codec ('AV1', 'HEVC'), '' for H.264. */
export function codecName(codecs) {
  return { av01: 'AV1', hvc1: 'HEVC', hev1: 'HEVC' }[(codecs || '').slice(0, 4)] || '';
}

/** Whether an item rendition (`codecs` with audio) is of the level's codec (unknown: any). */
export function sameCodec(rendition, levelCodec) {
  return !levelCodec || (rendition.codecs || '').slice(0, 4) === levelCodec.slice(0, 4);
}
