//! Decides what an upload is from its leading bytes, never from the client's name or type.

use crate::model::MediaKind;

/// How many leading bytes [`sniff`] wants to see (fewer is fine for short files).
pub const SNIFF_LEN: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sniffed {
    pub kind: MediaKind,
    pub content_type: String,
}

/// Returns the media kind and MIME type of `head`, or `None` for anything that is not an image,
/// video or audio container we know (text, executables, archives, documents...).
pub fn sniff(head: &[u8]) -> Option<Sniffed> {
    let Some(t) = infer::get(head) else {
        return broadcast_container(head);
    };
    let mime = t.mime_type();
    let kind = match t.matcher_type() {
        infer::MatcherType::Image => MediaKind::Image,
        infer::MatcherType::Video => MediaKind::Video,
        infer::MatcherType::Audio => MediaKind::Audio,
        _ => return None,
    };
    // Formats `infer` files under image/video/audio that no pipeline step can decode.
    if matches!(
        mime,
        "image/vnd.adobe.photoshop" | "image/x-icon" | "image/vnd.microsoft.icon"
    ) {
        return None;
    }
    Some(Sniffed {
        kind,
        content_type: mime.to_string(),
    })
}

/// Containers of broadcast and post-production that `infer` does not know: MPEG transport
/// streams (TV recordings, camcorders' AVCHD `.mts`/`.m2ts` with a 4-byte timestamp before each
/// packet), MXF (DNxHD/XDCAM/ProRes mezzanines) and raw DV (MiniDV captures). Both sniff as video; an audio-only one is
/// published as audio after probing, like an audio-only MP4.
fn broadcast_container(head: &[u8]) -> Option<Sniffed> {
    // SMPTE 377 partition pack key (header partition); the byte after the prefix is the
    // partition kind, the next its status.
    const MXF_PARTITION: &[u8] = b"\x06\x0E\x2B\x34\x02\x05\x01\x01\x0D\x01\x02\x01\x01\x02";
    let content_type = if head.starts_with(MXF_PARTITION) {
        "application/mxf"
    } else if transport_stream(head, 188, 0) || transport_stream(head, 192, 4) {
        "video/mp2t"
    } else if head.len() >= 4 && head[..3] == [0x1F, 0x07, 0x00] && head[3] & 0x7F == 0x3F {
        // A DIF header block (section 0, sequence 0), 525/60 or 625/50 (the top bit): what
        // ffmpeg's own DV probe looks for.
        "video/dv"
    } else {
        return None;
    };
    Some(Sniffed {
        kind: MediaKind::Video,
        content_type: content_type.into(),
    })
}

/// A sync byte (0x47) at the start of each of the first packets of `size` bytes (after
/// `offset`): at least four of them, so that a stray 'G' does not make text a video.
fn transport_stream(head: &[u8], size: usize, offset: usize) -> bool {
    let packets = (head.len().saturating_sub(offset) / size).min(8);
    packets >= 4 && (0..packets).all(|i| head[offset + i * size] == 0x47)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_common_containers() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(sniff(png).unwrap().kind, MediaKind::Image);
        let jpeg = b"\xFF\xD8\xFF\xE0\0\x10JFIF\0";
        assert_eq!(sniff(jpeg).unwrap().content_type, "image/jpeg");
        let mut mp4 = vec![0, 0, 0, 0x20];
        mp4.extend_from_slice(b"ftypisom\0\0\x02\0isomiso2avc1mp41");
        assert_eq!(sniff(&mp4).unwrap().kind, MediaKind::Video);
        let wav = b"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0";
        assert_eq!(sniff(wav).unwrap().kind, MediaKind::Audio);
        let webm = b"\x1A\x45\xDF\xA3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08\x42\x82\x84webm";
        assert_eq!(sniff(webm).unwrap().kind, MediaKind::Video);
    }

    #[test]
    fn recognises_transport_streams_and_mxf() {
        let mut ts = vec![0u8; 188 * 6];
        for p in ts.chunks_mut(188) {
            p[0] = 0x47;
        }
        let s = sniff(&ts).unwrap();
        assert_eq!(
            (s.kind, s.content_type.as_str()),
            (MediaKind::Video, "video/mp2t")
        );
        let mut m2ts = vec![0u8; 192 * 6];
        for p in m2ts.chunks_mut(192) {
            p[4] = 0x47;
        }
        assert_eq!(sniff(&m2ts).unwrap().content_type, "video/mp2t");
        // One packet's worth is not enough evidence, nor is a broken cadence.
        assert!(sniff(&ts[..188 * 2]).is_none());
        ts[188 * 3] = 0;
        assert!(sniff(&ts).is_none());
        let mut mxf = b"\x06\x0E\x2B\x34\x02\x05\x01\x01\x0D\x01\x02\x01\x01\x02\x04\x00".to_vec();
        mxf.extend([0u8; 64]);
        assert_eq!(sniff(&mxf).unwrap().content_type, "application/mxf");
        assert_eq!(sniff(&mxf).unwrap().kind, MediaKind::Video);
        let mut dv = vec![0x1F, 0x07, 0x00, 0xBF];
        dv.extend([0xFFu8; 76]);
        assert_eq!(sniff(&dv).unwrap().content_type, "video/dv");
        assert!(sniff(&[0x1F, 0x07, 0x00, 0x00]).is_none());
    }

    #[test]
    fn rejects_non_media() {
        assert!(sniff(b"hello, this is plain text pretending to be a movie").is_none());
        assert!(sniff(b"\x7FELF\x02\x01\x01\0\0\0\0\0\0\0\0\0").is_none());
        assert!(sniff(b"PK\x03\x04\x14\0\0\0").is_none());
        assert!(sniff(b"%PDF-1.7\n").is_none());
        assert!(sniff(b"").is_none());
    }
}
