//! Just enough ISO-BMFF reading to name the codec of a CMAF init segment (RFC 6381), so a
//! provisional master playlist can carry the same `CODECS` as the final one before ffmpeg's own
//! manifest is complete.
//!
//! The strings match what ffmpeg's dash muxer derives from the same codec configuration:
//! `avc1.PPCCLL` from the `avcC` box (profile, constraint flags, level) and
//! `mp4a.OO.A` from the `esds` descriptors (object type indication in hex, then the audio
//! object type, e.g. `mp4a.40.2` for AAC-LC). HEVC and AV1 are named from their configuration
//! boxes too (`hvcC`, `av1C`), which ffmpeg 5.1's dash muxer does not do (it writes a bare
//! `hvc1`): see [`hevc_codec`] and [`av1_codec`].

use std::fmt::Write as _;

/// The codec of the first sample entry of the first track, if it is one we know how to name.
pub fn codec_string(init: &[u8]) -> Option<String> {
    let moov = find_box(init, b"moov")?;
    let trak = find_box(moov, b"trak")?;
    let mdia = find_box(trak, b"mdia")?;
    let minf = find_box(mdia, b"minf")?;
    let stbl = find_box(minf, b"stbl")?;
    let stsd = find_box(stbl, b"stsd")?;
    // Full box header (version + flags) and entry_count.
    let entries = stsd.get(8..)?;
    let (kind, entry) = boxes(entries).next()?;
    match &kind {
        b"avc1" | b"avc3" => {
            // VisualSampleEntry: 8 bytes of SampleEntry, 70 of visual fields, then boxes.
            let avcc = find_box(entry.get(78..)?, b"avcC")?;
            let [_, profile, compat, level] = *avcc.get(..4)? else {
                return None;
            };
            Some(format!(
                "{}.{profile:02x}{compat:02x}{level:02x}",
                String::from_utf8_lossy(&kind)
            ))
        }
        b"hvc1" | b"hev1" => {
            let hvcc = find_box(entry.get(78..)?, b"hvcC")?;
            hevc_codec(&String::from_utf8_lossy(&kind), hvcc)
        }
        b"av01" => av1_codec(find_box(entry.get(78..)?, b"av1C")?),
        b"mp4a" => {
            // AudioSampleEntry: 8 bytes of SampleEntry, 20 of audio fields, then boxes.
            let esds = find_box(entry.get(28..)?, b"esds")?;
            mp4a_codec(esds.get(4..)?)
        }
        _ => None,
    }
}

/// `hvc1.P.C.TL.CC…` (ISO/IEC 14496-15 annex E) from an `hvcC` box: the profile space as a
/// letter (none for 0) before the profile, the 32 compatibility flags in reverse bit order in
/// hex, the tier (`L`/`H`) and level, then the six constraint bytes in hex up to the last
/// non-zero one.
fn hevc_codec(kind: &str, hvcc: &[u8]) -> Option<String> {
    let [_, first, c0, c1, c2, c3, ref constraints @ .., level] = *hvcc.get(..13)? else {
        return None;
    };
    let space = match first >> 6 {
        0 => "",
        1 => "A",
        2 => "B",
        _ => "C",
    };
    let profile = first & 0x1f;
    let tier = if first & 0x20 != 0 { 'H' } else { 'L' };
    let compat = u32::from_be_bytes([c0, c1, c2, c3]).reverse_bits();
    let mut out = format!("{kind}.{space}{profile}.{compat:X}.{tier}{level}");
    let used = constraints
        .iter()
        .rposition(|b| *b != 0)
        .map_or(0, |i| i + 1);
    for b in &constraints[..used] {
        let _ = write!(out, ".{b:02X}");
    }
    Some(out)
}

/// `av01.P.LLT.DD` (the AV1 codec ISO media file format binding, section 5) from an `av1C` box:
/// profile, level index and tier, bit depth. The optional colour fields are left out, which
/// means the defaults (4:2:0, BT.709 limited range), what every rung is encoded as.
fn av1_codec(av1c: &[u8]) -> Option<String> {
    let [marker, profile_level, flags] = *av1c.get(..3)? else {
        return None;
    };
    if marker & 0x80 == 0 {
        return None;
    }
    let profile = profile_level >> 5;
    let level = profile_level & 0x1f;
    let tier = if flags & 0x80 != 0 { 'H' } else { 'M' };
    let depth = match (flags & 0x40 != 0, flags & 0x20 != 0) {
        (false, _) => 8,
        (true, false) => 10,
        (true, true) => 12,
    };
    Some(format!("av01.{profile}.{level:02}{tier}.{depth:02}"))
}

/// `mp4a.OO[.A]` from the descriptors of an `esds` box (after its version and flags).
fn mp4a_codec(descriptors: &[u8]) -> Option<String> {
    let (tag, es) = descriptor(descriptors)?;
    if tag != 0x03 {
        return None;
    }
    // ES_ID, then flags saying which optional fields follow.
    let flags = *es.get(2)?;
    let mut at = 3;
    if flags & 0x80 != 0 {
        at += 2; // dependsOn_ES_ID
    }
    if flags & 0x40 != 0 {
        at += 1 + *es.get(at)? as usize; // URL
    }
    if flags & 0x20 != 0 {
        at += 2; // OCR_ES_ID
    }
    let (tag, config) = descriptor(es.get(at..)?)?;
    if tag != 0x04 {
        return None;
    }
    let object_type = *config.first()?;
    // objectTypeIndication, streamType, bufferSizeDB (3), maxBitrate (4), avgBitrate (4).
    let specific = config
        .get(13..)
        .and_then(descriptor)
        .filter(|(tag, _)| *tag == 0x05)
        .map(|(_, data)| data);
    let audio_object_type = specific.and_then(|d| {
        let first = *d.first()?;
        match first >> 3 {
            31 => Some(32 + (((first & 0x07) << 3) | (*d.get(1)? >> 5))),
            aot => Some(aot),
        }
    });
    Some(match audio_object_type {
        Some(aot) if aot > 0 => format!("mp4a.{object_type:02x}.{aot}"),
        _ => format!("mp4a.{object_type:02x}"),
    })
}

/// One MPEG-4 descriptor: (tag, payload), the size in the 7-bits-per-byte encoding.
fn descriptor(data: &[u8]) -> Option<(u8, &[u8])> {
    let tag = *data.first()?;
    let mut size = 0usize;
    let mut at = 1;
    for _ in 0..4 {
        let b = *data.get(at)?;
        at += 1;
        size = (size << 7) | (b & 0x7f) as usize;
        if b & 0x80 == 0 {
            break;
        }
    }
    Some((tag, data.get(at..at.checked_add(size)?)?))
}

fn find_box<'a>(data: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    boxes(data).find(|(k, _)| k == kind).map(|(_, body)| body)
}

/// The boxes of `data` in order as (type, payload); stops at the first malformed header.
fn boxes(data: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    let mut rest = data;
    std::iter::from_fn(move || {
        let size = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as u64;
        let kind: [u8; 4] = rest.get(4..8)?.try_into().ok()?;
        let (header, size) = match size {
            0 => (8, rest.len() as u64),
            1 => (16, u64::from_be_bytes(rest.get(8..16)?.try_into().ok()?)),
            n => (8, n),
        };
        let size = usize::try_from(size).ok()?;
        if size < header {
            return None;
        }
        let body = rest.get(header..size)?;
        rest = &rest[size..];
        Some((kind, body))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mp4_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    /// ftyp + moov/trak/mdia/minf/stbl/stsd holding one sample entry, as ffmpeg lays it out.
    fn init_segment(entry: Vec<u8>) -> Vec<u8> {
        let mut stsd = vec![0, 0, 0, 0, 0, 0, 0, 1];
        stsd.extend(entry);
        let stbl = mp4_box(b"stbl", &mp4_box(b"stsd", &stsd));
        let minf = mp4_box(b"minf", &[mp4_box(b"vmhd", &[0; 12]), stbl].concat());
        let mdia = mp4_box(b"mdia", &[mp4_box(b"mdhd", &[0; 24]), minf].concat());
        let trak = mp4_box(b"trak", &[mp4_box(b"tkhd", &[0; 84]), mdia].concat());
        let moov = mp4_box(b"moov", &[mp4_box(b"mvhd", &[0; 100]), trak].concat());
        [mp4_box(b"ftyp", b"iso5\0\0\x02\0iso6mp41"), moov].concat()
    }

    fn avc_entry(kind: &[u8; 4]) -> Vec<u8> {
        let avcc = mp4_box(b"avcC", &[1, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0, 0]);
        mp4_box(kind, &[vec![0; 78], avcc].concat())
    }

    fn aac_entry(specific: &[u8]) -> Vec<u8> {
        let mut config = vec![0x40, 0x15, 0, 0, 0, 0, 1, 0xf4, 0, 0, 1, 0xf4, 0];
        config.push(0x05);
        config.push(specific.len() as u8);
        config.extend_from_slice(specific);
        // ES_Descriptor with a 4-byte size encoding, as ffmpeg writes it.
        let mut es = vec![0, 1, 0, 0x04, 0x80, 0x80, 0x80, config.len() as u8];
        es.extend(config);
        let mut descriptors = vec![0x03, 0x80, 0x80, 0x80, es.len() as u8];
        descriptors.extend(es);
        descriptors.extend([0x06, 0x80, 0x80, 0x80, 1, 2]);
        let esds = mp4_box(b"esds", &[vec![0; 4], descriptors].concat());
        mp4_box(b"mp4a", &[vec![0; 28], esds].concat())
    }

    #[test]
    fn names_h264_from_avcc() {
        assert_eq!(
            codec_string(&init_segment(avc_entry(b"avc1"))).as_deref(),
            Some("avc1.64001f")
        );
        assert_eq!(
            codec_string(&init_segment(avc_entry(b"avc3"))).as_deref(),
            Some("avc3.64001f")
        );
    }

    #[test]
    fn names_aac_from_esds() {
        // AAC-LC, 48 kHz stereo: AudioSpecificConfig 0x11 0x90.
        assert_eq!(
            codec_string(&init_segment(aac_entry(&[0x11, 0x90]))).as_deref(),
            Some("mp4a.40.2")
        );
        // HE-AAC (5) and an escaped object type (31 → 32 + 6 bits).
        assert_eq!(
            codec_string(&init_segment(aac_entry(&[0x2b, 0x92]))).as_deref(),
            Some("mp4a.40.5")
        );
        assert_eq!(
            codec_string(&init_segment(aac_entry(&[0xf8, 0x20]))).as_deref(),
            Some("mp4a.40.33")
        );
        // No decoder-specific info: the object type alone.
        assert_eq!(
            codec_string(&init_segment(aac_entry(&[]))).as_deref(),
            Some("mp4a.40")
        );
    }

    fn entry(kind: &[u8; 4], config: &[u8; 4], body: &[u8]) -> Vec<u8> {
        mp4_box(kind, &[vec![0; 78], mp4_box(config, body)].concat())
    }

    #[test]
    fn names_hevc_from_hvcc() {
        // What x265 wrote for a 640x360 Main rung: profile 1, compatibility 0x60000000,
        // constraints 0x90 (progressive, frame-only), level 63 (2.1).
        let hvcc = [1, 0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 63, 0xf0];
        assert_eq!(
            codec_string(&init_segment(entry(b"hvc1", b"hvcC", &hvcc))).as_deref(),
            Some("hvc1.1.6.L63.90")
        );
        // The examples of ISO/IEC 14496-15 annex E: Main 10 high tier level 5.1, with two
        // constraint bytes; a profile space of 1 is the letter A.
        let main10 = [1, 0x22, 0x20, 0, 0, 0, 0xb0, 0x08, 0, 0, 0, 0, 153, 0];
        assert_eq!(
            codec_string(&init_segment(entry(b"hev1", b"hvcC", &main10))).as_deref(),
            Some("hev1.2.4.H153.B0.08")
        );
        let spaced = [1, 0x41, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 93, 0];
        assert_eq!(
            codec_string(&init_segment(entry(b"hvc1", b"hvcC", &spaced))).as_deref(),
            Some("hvc1.A1.6.L93")
        );
        assert_eq!(
            codec_string(&init_segment(entry(b"hvc1", b"hvcC", &hvcc[..12]))),
            None
        );
    }

    #[test]
    fn names_av1_from_av1c() {
        // What SVT-AV1 wrote for a 640x360 rung: main profile, level index 1, 8-bit 4:2:0.
        assert_eq!(
            codec_string(&init_segment(entry(
                b"av01",
                b"av1C",
                &[0x81, 0x01, 0x0d, 0]
            )))
            .as_deref(),
            Some("av01.0.01M.08")
        );
        // Level 5.1 (index 13), high tier, 10 bits; profile 1.
        assert_eq!(
            codec_string(&init_segment(entry(
                b"av01",
                b"av1C",
                &[0x81, 0x2d, 0xc0, 0]
            )))
            .as_deref(),
            Some("av01.1.13H.10")
        );
        // No marker bit: not an av1C this knows.
        assert_eq!(
            codec_string(&init_segment(entry(
                b"av01",
                b"av1C",
                &[0x01, 0x01, 0x0d, 0]
            ))),
            None
        );
    }

    #[test]
    fn unknown_or_broken_input_is_none() {
        let init = init_segment(avc_entry(b"avc1"));
        for cut in [0, 8, 40, init.len() / 2, init.len() - 3] {
            assert_eq!(codec_string(&init[..cut]), None, "cut at {cut}");
        }
        assert_eq!(
            codec_string(&init_segment(mp4_box(b"hvc1", &[0; 90]))),
            None
        );
        assert_eq!(
            codec_string(&init_segment(mp4_box(b"vp09", &[0; 90]))),
            None
        );
        assert_eq!(codec_string(b"not an mp4 at all"), None);
        // A box claiming to be smaller than its own header ends the walk instead of looping.
        assert_eq!(codec_string(&[0, 0, 0, 4, b'm', b'o', b'o', b'v']), None);
    }
}
