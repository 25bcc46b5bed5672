//! What ffmpeg's or ffprobe's stderr says about a failed run: the machine's fault (retry), or
//! the input's — then in words for whoever uploaded the file. The stderr itself names local
//! paths and process addresses, so it goes to the log only, never into a message.

use crate::error::MediaError;
use crate::process::Finished;

/// Markers that point at the machine even if the input also looks bad.
const ENVIRONMENT_FAULTS: &[&str] = &[
    "No space left on device",
    "Cannot allocate memory",
    "Too many open files",
    "Permission denied",
];

/// Markers of a file cut short (an upload or copy that did not finish).
const TRUNCATED: &[&str] = &["partial file", "moov atom not found"];

/// Markers in ffmpeg's stderr that mean the input cannot be decoded.
const UNDECODABLE: &[&str] = &[
    "Invalid data found when processing input",
    "Error while decoding stream",
    "Invalid NAL unit size",
    "could not find codec parameters",
    "Decoder (codec",
    "error reading header",
    "Failed to open codec in avformat_find_stream_info",
];

/// Longest detail quoted from a stderr line.
const MAX_DETAIL: usize = 160;

/// The error for a run of `program` that exited unsuccessfully on an input that should be
/// `what` ("a video", "audio"…): [`MediaError::Unusable`] when its stderr blames the input,
/// else the retryable [`MediaError::Subprocess`]. `blame_input` says how to read a failure
/// that names neither: ffprobe on a readable file refuses only its content; ffmpeg may fail
/// for reasons of its own.
pub(crate) fn classify(finished: Finished, what: &str, blame_input: bool) -> MediaError {
    let tail = &finished.stderr_tail;
    let signalled = finished.status.code().is_none();
    if signalled || ENVIRONMENT_FAULTS.iter().any(|m| tail.contains(m)) {
        return finished.into_error();
    }
    let reason = if let Some(marker) = TRUNCATED.iter().find(|m| tail.contains(*m)) {
        format!("the upload is truncated ({marker})")
    } else if let Some(marker) = UNDECODABLE.iter().find(|m| tail.contains(*m)) {
        let line = tail.lines().rfind(|l| l.contains(marker)).unwrap_or(marker);
        format!("the file is not {what} ffmpeg can read: {}", detail(line))
    } else if blame_input {
        match tail.lines().map(detail).rfind(|l| !l.is_empty()) {
            Some(line) => format!("the file is not {what} ffmpeg can read: {line}"),
            None => format!("the file is not {what} ffmpeg can read"),
        }
    } else {
        return finished.into_error();
    };
    tracing::info!(program = %finished.program, stderr = %tail, %reason, "the input was rejected");
    MediaError::unusable(reason)
}

/// The input stream (`#0:N`) whose decoder ffmpeg could not find or open, when that is why the
/// run failed: ffmpeg stops before writing anything, so the caller may leave that stream out
/// and run again. (ffmpeg 5–7 spell it "Decoder (codec X) not found for input stream #0:N" and
/// "Error while opening decoder for input stream #0:N : …".)
pub(crate) fn undecodable_stream(stderr: &str) -> Option<usize> {
    const MARKERS: &[&str] = &[
        "not found for input stream #0:",
        "Error while opening decoder for input stream #0:",
    ];
    stderr.lines().rev().find_map(|line| {
        let after = MARKERS
            .iter()
            .find_map(|m| line.split_once(m).map(|(_, rest)| rest))?;
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    })
}

/// A stderr line fit to show a user: without ffmpeg's `[demuxer @ 0x…]` context, without
/// anything that looks like a path or an address, at most [`MAX_DETAIL`] bytes.
fn detail(line: &str) -> String {
    let mut words = Vec::new();
    let mut in_context = false;
    for word in line.split_whitespace() {
        // `[mov,mp4,m4a @ 0x55…]`: a context that may span words.
        if word.starts_with('[') && !word.contains(']') {
            in_context = true;
            continue;
        }
        if in_context {
            in_context = !word.contains(']');
            continue;
        }
        let bare = word.trim_matches(|c: char| !c.is_alphanumeric());
        if word.contains('/') || word.contains('\\') || bare.starts_with("0x") {
            continue;
        }
        words.push(word);
    }
    let mut text = words.join(" ");
    if text.len() > MAX_DETAIL {
        let mut end = MAX_DETAIL;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text.trim_start_matches(':').trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    fn finished(code: i32, tail: &str) -> Finished {
        Finished {
            program: "ffmpeg".into(),
            status: std::process::ExitStatus::from_raw(code << 8),
            stderr_tail: tail.into(),
            cpu_seconds: None,
        }
    }

    fn reason(e: MediaError) -> String {
        assert!(e.is_permanent(), "{e}");
        e.to_string()
    }

    #[test]
    fn the_stream_without_a_decoder() {
        assert_eq!(
            undecodable_stream("x\nDecoder (codec none) not found for input stream #0:2\n"),
            Some(2)
        );
        assert_eq!(
            undecodable_stream(
                "[opus @ 0x1] Invalid extradata size: 19\n\
                 Error while opening decoder for input stream #0:12 : Invalid data found"
            ),
            Some(12)
        );
        assert_eq!(undecodable_stream("Conversion failed!"), None);
        assert_eq!(
            undecodable_stream("Decoder (codec none) not found for input stream #0:"),
            None
        );
    }

    #[test]
    fn truncation_in_words() {
        let e = classify(
            finished(
                1,
                "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55fe00d651c0] moov atom not found\n\
                 file:/data/tmp/job-1-x/input: Invalid data found when processing input",
            ),
            "a video",
            true,
        );
        assert_eq!(
            reason(e),
            "unusable media: the upload is truncated (moov atom not found)"
        );
        let e = classify(
            finished(
                1,
                "[mov @ 0x1] stream 0, offset 0x1: partial file\nsomething else",
            ),
            "a video",
            false,
        );
        assert!(reason(e).contains("partial file"));
    }

    #[test]
    fn undecodable_input_without_paths_or_addresses() {
        let e = classify(
            finished(
                1,
                "file:/var/lib/mediaserver/tmp/job-0192/input: Invalid data found when processing input",
            ),
            "audio or video",
            true,
        );
        assert_eq!(
            reason(e),
            "unusable media: the file is not audio or video ffmpeg can read: \
             Invalid data found when processing input"
        );
        let e = classify(
            finished(
                1,
                "[h264 @ 0x5581c0e2a2c0] Invalid NAL unit size (1234 > 567).\nConversion failed!",
            ),
            "a video",
            false,
        );
        assert_eq!(
            reason(e),
            "unusable media: the file is not a video ffmpeg can read: Invalid NAL unit size (1234 > 567)."
        );
        // ffprobe's refusal of a readable file is the input's fault whatever it says.
        let e = classify(
            finished(1, "/tmp/in: Something new\n"),
            "audio or video",
            true,
        );
        assert_eq!(
            reason(e),
            "unusable media: the file is not audio or video ffmpeg can read: Something new"
        );
    }

    #[test]
    fn the_machines_faults_stay_retryable() {
        let e = classify(
            finished(
                1,
                "Error while decoding stream #0:0\nNo space left on device",
            ),
            "a video",
            true,
        );
        assert!(matches!(e, MediaError::Subprocess { .. }), "{e}");
        let e = classify(finished(1, "Conversion failed!"), "a video", false);
        assert!(matches!(e, MediaError::Subprocess { .. }), "{e}");
        assert_eq!(e.to_string(), "ffmpeg failed (exit code 1)");
        let signalled = Finished {
            program: "ffprobe".into(),
            status: std::process::ExitStatus::from_raw(9),
            stderr_tail: "moov atom not found".into(),
            cpu_seconds: None,
        };
        let e = classify(signalled, "a video", true);
        assert!(!e.is_permanent(), "{e}");
    }

    #[test]
    fn details_are_bounded() {
        let long = "x".repeat(400) + "é";
        assert!(detail(&long).len() <= MAX_DETAIL + '…'.len_utf8());
        assert_eq!(detail("[a b @ 0x1] c d"), "c d");
        assert_eq!(detail("  "), "");
    }
}
