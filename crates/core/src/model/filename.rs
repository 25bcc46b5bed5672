//! Client-supplied file names made safe as the last segment of an object key.

/// The longest file name [`safe_filename`] returns, in characters and in bytes. Filesystems
/// limit a name to 255 bytes (Local storage; S3 servers that keep objects as files), and
/// storage names an original's staging objects after it (`.partial` and `#{n}` on Local,
/// `.pending.{start}-{len}` for multipart providers: at most 50 bytes more), so the bytes leave
/// room for those.
pub const MAX_FILENAME_CHARS: usize = 120;
/// See [`MAX_FILENAME_CHARS`].
pub const MAX_FILENAME_BYTES: usize = 200;

/// Turns a client-supplied file name into one that is safe as the last segment of an object key:
/// no path separators, no control characters, no bidirectional-text controls (a right-to-left
/// override before `fdp.exe` shows `invoice…fdp.exe` as `invoiceexe.pdf`), no leading dots, at
/// most [`MAX_FILENAME_CHARS`] characters and [`MAX_FILENAME_BYTES`] bytes, cut at a character
/// boundary keeping the extension.
pub fn safe_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !is_bidi_control(*c))
        .map(|c| {
            if c.is_control() || matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*' | '%' | '#') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    let out = truncate_keeping_extension(trimmed);
    if out.is_empty() {
        "upload".to_string()
    } else {
        out
    }
}

/// Unicode's explicit bidirectional formatting characters: embeddings, overrides, isolates and
/// the implicit marks.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

/// `name` cut to the filename limits at a character boundary; a short extension (`.mp4`) is
/// kept and the part before it cut instead.
fn truncate_keeping_extension(name: &str) -> String {
    let fits = |s: &str| s.len() <= MAX_FILENAME_BYTES && s.chars().count() <= MAX_FILENAME_CHARS;
    if fits(name) {
        return name.to_string();
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && !ext.is_empty() && ext.len() <= 16 => {
            (stem, &name[stem.len()..])
        }
        _ => (name, ""),
    };
    let (max_bytes, max_chars) = (
        MAX_FILENAME_BYTES - ext.len(),
        MAX_FILENAME_CHARS - ext.chars().count(),
    );
    let mut end = 0;
    for (n, (i, c)) in stem.char_indices().enumerate() {
        if n == max_chars || i + c.len_utf8() > max_bytes {
            break;
        }
        end = i + c.len_utf8();
    }
    format!("{}{ext}", stem[..end].trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_filename_strips_paths_and_controls() {
        assert_eq!(safe_filename("../../etc/passwd"), "passwd");
        assert_eq!(safe_filename("C:\\Users\\a\\clip.mp4"), "clip.mp4");
        assert_eq!(safe_filename("..."), "upload");
        assert_eq!(safe_filename("a\u{0}b\nc.mp4"), "a_b_c.mp4");
        assert_eq!(
            safe_filename("my holiday – été.mov"),
            "my holiday – été.mov"
        );
        assert_eq!(safe_filename(""), "upload");
        // Local storage reserves names ending in `#<digits>` for staging files.
        assert_eq!(safe_filename("clip#1"), "clip_1");
        assert_eq!(safe_filename(&"x".repeat(500)).len(), 120);
    }

    #[test]
    fn safe_filename_cuts_long_names_by_bytes_keeping_the_extension() {
        // 90 CJK characters are 270 bytes; 130 emoji 520.
        let cjk = safe_filename(&format!("{}.mp4", "漢".repeat(90)));
        assert!(cjk.len() <= MAX_FILENAME_BYTES, "{}", cjk.len());
        assert_eq!(cjk, format!("{}.mp4", "漢".repeat(65)));
        let emoji = safe_filename(&format!("{}.mov", "😀".repeat(130)));
        assert_eq!(emoji, format!("{}.mov", "😀".repeat(49)));
        assert_eq!(
            safe_filename(&format!("{}.mp4", "x".repeat(300))),
            format!("{}.mp4", "x".repeat(116))
        );
        // No extension, or one too long to be one: the end is cut.
        assert_eq!(safe_filename(&"é".repeat(150)), "é".repeat(100));
        let long_ext = format!("a.{}", "b".repeat(300));
        assert_eq!(safe_filename(&long_ext).len(), 120);
        // Room for the suffixes storage adds to a staging object's name.
        for suffix in [
            format!(".pending.{}-{}", u64::MAX, u64::MAX),
            ".partial".to_string(),
            format!("#{}", u64::MAX),
        ] {
            assert!(MAX_FILENAME_BYTES + suffix.len() <= 255, "{suffix}");
        }
    }

    #[test]
    fn safe_filename_strips_bidi_controls() {
        assert_eq!(safe_filename("invoice\u{202E}4pm.exe"), "invoice4pm.exe");
        assert_eq!(
            safe_filename(
                "\u{2066}a\u{2067}b\u{2068}c\u{2069}\u{200E}\u{200F}\u{061C}\
                 \u{202A}\u{202B}\u{202C}\u{202D}.jpg"
            ),
            "abc.jpg"
        );
        assert_eq!(safe_filename("\u{202E}"), "upload");
    }
}
