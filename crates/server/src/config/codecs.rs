//! Which video codecs items are published in (`VIDEO_CODECS`) and how the extra ones are
//! encoded (`AV1_PRESET`, `HEVC_PRESET`). H.264 is always one of them: every player decodes it.

use super::vars::{err, ConfigError, Vars};
use mediaserver_pipeline::codecs::{
    parse_codec_list, CodecOptions, AV1_PRESETS, DEFAULT_AV1_PRESET, DEFAULT_HEVC_PRESET,
    X265_PRESETS,
};

pub(super) fn from_vars(vars: &Vars) -> Result<CodecOptions, ConfigError> {
    let extra = match vars.get("VIDEO_CODECS") {
        None => Vec::new(),
        Some(list) => parse_codec_list(&list).map_err(|e| err("VIDEO_CODECS", e))?,
    };
    let av1_preset = vars.parse_or("AV1_PRESET", DEFAULT_AV1_PRESET)?;
    if !AV1_PRESETS.contains(&av1_preset) {
        return Err(err(
            "AV1_PRESET",
            format!(
                "must be an SVT-AV1 preset from {} (slowest) to {} (fastest)",
                AV1_PRESETS.start(),
                AV1_PRESETS.end()
            ),
        ));
    }
    let hevc_preset = vars
        .get("HEVC_PRESET")
        .map(|p| p.to_ascii_lowercase())
        .unwrap_or_else(|| DEFAULT_HEVC_PRESET.into());
    if !X265_PRESETS.contains(&hevc_preset.as_str()) {
        return Err(err(
            "HEVC_PRESET",
            format!(
                "'{hevc_preset}' is not an x265 preset; use one of {}",
                X265_PRESETS.join(", ")
            ),
        ));
    }
    Ok(CodecOptions {
        extra,
        av1_preset,
        hevc_preset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mediaserver_pipeline::codecs::VideoCodec;

    fn read(pairs: &[(&str, &str)]) -> Result<CodecOptions, ConfigError> {
        let lookup = |k: &str| {
            pairs
                .iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string())
        };
        from_vars(&Vars::new(&lookup))
    }

    #[test]
    fn h264_only_unless_asked() {
        assert_eq!(read(&[]).unwrap(), CodecOptions::default());
        let o = read(&[
            ("VIDEO_CODECS", "h264,av1,hevc"),
            ("AV1_PRESET", "8"),
            ("HEVC_PRESET", "Fast"),
        ])
        .unwrap();
        assert_eq!(o.extra, [VideoCodec::Av1, VideoCodec::Hevc]);
        assert_eq!((o.av1_preset, o.hevc_preset.as_str()), (8, "fast"));
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (var, value, says) in [
            ("VIDEO_CODECS", "av1", "h264 must"),
            ("VIDEO_CODECS", "h264,vp8", "'vp8'"),
            ("AV1_PRESET", "14", "0 (slowest) to 13"),
            ("AV1_PRESET", "fast", "AV1_PRESET"),
            ("HEVC_PRESET", "quick", "not an x265 preset"),
        ] {
            let e = read(&[(var, value)]).unwrap_err();
            assert_eq!(e.var, var);
            assert!(e.to_string().contains(says), "{e}");
        }
    }
}
