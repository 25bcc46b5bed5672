//! Moving a chunk's fragments onto the single encode's timeline.
//!
//! ffmpeg's mp4 muxer writes each fragment's decode time (`tfdt`) relative to the first sample
//! of the track *in this run*: a chunk's fragments start at 0 (the `-output_ts_offset` lands
//! in its init segment's edit list instead, and only chunk 0's init segment is published). So
//! every `tfdt` of a later chunk gets the decode time of the chunk's first sample in a single
//! encode added, in place (same box sizes).

use crate::error::{MediaError, Result};

/// Adds `delta` (track timescale units) to the `tfdt` of every `moof/traf` in `segment`.
/// Returns how many it moved.
pub(super) fn shift(segment: &mut [u8], delta: u64) -> Result<usize> {
    let mut moved = 0;
    let mut at = 0;
    while let Some((kind, start, end)) = next_box(segment, at) {
        if &kind == b"moof" {
            let mut t = start;
            while let Some((kind, s, e)) = next_box(&segment[..end], t) {
                if &kind == b"traf" {
                    let mut u = s;
                    while let Some((kind, bs, be)) = next_box(&segment[..e], u) {
                        if &kind == b"tfdt" {
                            shift_tfdt(&mut segment[bs..be], delta)?;
                            moved += 1;
                        }
                        u = be;
                    }
                }
                t = e;
            }
        }
        at = end;
    }
    Ok(moved)
}

/// The box starting at `at`: (type, start of its payload, end).
fn next_box(data: &[u8], at: usize) -> Option<([u8; 4], usize, usize)> {
    let header = data.get(at..at + 8)?;
    let size = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let kind = [header[4], header[5], header[6], header[7]];
    let (payload, end) = match size {
        1 => {
            let large = data.get(at + 8..at + 16)?;
            let mut b = [0u8; 8];
            b.copy_from_slice(large);
            (at + 16, at + u64::from_be_bytes(b) as usize)
        }
        0 => (at + 8, data.len()),
        n => (at + 8, at + n),
    };
    (end <= data.len() && end >= payload).then_some((kind, payload, end))
}

/// `tfdt` payload: version, flags, then the base media decode time (32 or 64 bits).
fn shift_tfdt(payload: &mut [u8], delta: u64) -> Result<()> {
    let bad = || MediaError::bad_output("a malformed tfdt box");
    match payload.first() {
        Some(1) => {
            let field = payload.get_mut(4..12).ok_or_else(bad)?;
            let mut b = [0u8; 8];
            b.copy_from_slice(field);
            let value = u64::from_be_bytes(b).checked_add(delta).ok_or_else(bad)?;
            field.copy_from_slice(&value.to_be_bytes());
        }
        Some(0) => {
            let field = payload.get_mut(4..8).ok_or_else(bad)?;
            let value = u32::from_be_bytes([field[0], field[1], field[2], field[3]]) as u64 + delta;
            // A 32-bit decode time that no longer fits cannot be moved in place.
            let value = u32::try_from(value).map_err(|_| bad())?;
            field.copy_from_slice(&value.to_be_bytes());
        }
        _ => return Err(bad()),
    }
    Ok(())
}

/// The `tfdt` of the first fragment of `segment`, if any.
#[cfg(test)]
fn first(segment: &[u8]) -> Option<u64> {
    let (_, s, e) = std::iter::successors(next_box(segment, 0), |b| next_box(segment, b.2))
        .find(|b| &b.0 == b"moof")?;
    let (_, ts, te) =
        std::iter::successors(next_box(&segment[..e], s), |b| next_box(&segment[..e], b.2))
            .find(|b| &b.0 == b"traf")?;
    let (_, bs, _) = std::iter::successors(next_box(&segment[..te], ts), |b| {
        next_box(&segment[..te], b.2)
    })
    .find(|b| &b.0 == b"tfdt")?;
    let p = &segment[bs..];
    Some(match p[0] {
        1 => u64::from_be_bytes(p[4..12].try_into().ok()?),
        _ => u32::from_be_bytes(p[4..8].try_into().ok()?) as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mp4_box(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut b = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(payload);
        b
    }

    fn segment(tfdt: &[u8]) -> Vec<u8> {
        let traf = [
            mp4_box(b"tfhd", &[0; 8]),
            mp4_box(b"tfdt", tfdt),
            mp4_box(b"trun", &[0; 12]),
        ]
        .concat();
        let moof = [mp4_box(b"mfhd", &[0; 8]), mp4_box(b"traf", &traf)].concat();
        [
            mp4_box(b"styp", b"msdh0000"),
            mp4_box(b"moof", &moof),
            mp4_box(b"mdat", &[7; 20]),
        ]
        .concat()
    }

    #[test]
    fn moves_every_fragment_in_place() {
        let mut v1 = [1u8, 0, 0, 0].to_vec();
        v1.extend_from_slice(&1000u64.to_be_bytes());
        let mut two = [segment(&v1), segment(&v1)].concat();
        let len = two.len();
        assert_eq!(shift(&mut two, 122_880).unwrap(), 2);
        assert_eq!(two.len(), len);
        assert_eq!(first(&two), Some(123_880));
        let second = &two[len / 2..];
        assert_eq!(first(second), Some(123_880));

        let mut v0 = [0u8, 0, 0, 0].to_vec();
        v0.extend_from_slice(&5u32.to_be_bytes());
        let mut one = segment(&v0);
        assert_eq!(shift(&mut one, 10).unwrap(), 1);
        assert_eq!(first(&one), Some(15));
        // Past 32 bits: refused, not wrapped.
        assert!(shift(&mut segment(&v0), u32::MAX as u64).is_err());
        // Nothing to move in what is not a fragment.
        assert_eq!(shift(&mut mp4_box(b"ftyp", b"isom"), 5).unwrap(), 0);
    }
}
