//! Chunked encoding (issue 15): `CHUNK_SECONDS` (default 60; 0 turns it off), the length of the
//! time range one chunk job encodes, rounded up to a multiple of the segment duration (4 s);
//! `CHUNK_MIN_SECONDS` (default 120): videos no longer than this run as one job.

use super::vars::{err, ConfigError, Vars};
use mediaserver_pipeline::ChunkSettings;

/// Longer than any video a chunk of which one worker should encode alone.
const MAX_CHUNK_SECONDS: u32 = 24 * 3600;

pub(super) fn from_vars(vars: &Vars) -> Result<ChunkSettings, ConfigError> {
    let defaults = ChunkSettings::default();
    let chunk_seconds = vars.parse_or("CHUNK_SECONDS", defaults.chunk_seconds)?;
    if chunk_seconds > MAX_CHUNK_SECONDS {
        return Err(err(
            "CHUNK_SECONDS",
            format!("must be at most {MAX_CHUNK_SECONDS} (0 turns chunking off)"),
        ));
    }
    let min_seconds = vars.parse_or("CHUNK_MIN_SECONDS", defaults.min_seconds)?;
    Ok(ChunkSettings {
        chunk_seconds,
        min_seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(pairs: &[(&str, &str)]) -> Result<ChunkSettings, ConfigError> {
        let lookup = |k: &str| {
            pairs
                .iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string())
        };
        from_vars(&Vars::new(&lookup))
    }

    #[test]
    fn defaults_one_minute_chunks_of_videos_over_two_minutes() {
        assert_eq!(
            chunks(&[]),
            Ok(ChunkSettings {
                chunk_seconds: 60,
                min_seconds: 120
            })
        );
        assert_eq!(
            chunks(&[("CHUNK_SECONDS", "0"), ("CHUNK_MIN_SECONDS", "600")]),
            Ok(ChunkSettings {
                chunk_seconds: 0,
                min_seconds: 600
            })
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (var, value) in [
            ("CHUNK_SECONDS", "-1"),
            ("CHUNK_SECONDS", "1m"),
            ("CHUNK_SECONDS", "90000"),
            ("CHUNK_MIN_SECONDS", "two"),
        ] {
            let e = chunks(&[(var, value)]).unwrap_err();
            assert_eq!(e.var, var, "{value}");
        }
    }
}
