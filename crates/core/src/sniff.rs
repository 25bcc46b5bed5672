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
    let t = infer::get(head)?;
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
    fn rejects_non_media() {
        assert!(sniff(b"hello, this is plain text pretending to be a movie").is_none());
        assert!(sniff(b"\x7FELF\x02\x01\x01\0\0\0\0\0\0\0\0\0").is_none());
        assert!(sniff(b"PK\x03\x04\x14\0\0\0").is_none());
        assert!(sniff(b"%PDF-1.7\n").is_none());
        assert!(sniff(b"").is_none());
    }
}
