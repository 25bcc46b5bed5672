//! `LADDER_MODE`: how the video ladder spends bits. `adaptive` (the default): each rung at a
//! quality target capped by its ladder bitrate, rungs that come out within 15 % of the next one
//! up dropped, and the manifests carrying the measured bandwidths; `fixed`: every rung at its
//! ladder bitrate, as before.

use super::vars::{err, ConfigError, Vars};
use mediaserver_pipeline::LadderMode;

pub(super) fn from_vars(vars: &Vars) -> Result<LadderMode, ConfigError> {
    match vars.get("LADDER_MODE") {
        None => Ok(LadderMode::Adaptive),
        Some(v) => v.parse().map_err(|e: String| err("LADDER_MODE", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(value: Option<&str>) -> Result<LadderMode, ConfigError> {
        let lookup = |k: &str| {
            (k == "LADDER_MODE")
                .then(|| value.map(String::from))
                .flatten()
        };
        from_vars(&Vars::new(&lookup))
    }

    #[test]
    fn adaptive_unless_told_fixed() {
        assert_eq!(mode(None), Ok(LadderMode::Adaptive));
        assert_eq!(mode(Some("  ")), Ok(LadderMode::Adaptive));
        assert_eq!(mode(Some("fixed")), Ok(LadderMode::Fixed));
        assert_eq!(mode(Some("ADAPTIVE")), Ok(LadderMode::Adaptive));
        let e = mode(Some("per-title")).unwrap_err();
        assert_eq!(e.var, "LADDER_MODE");
        assert!(e.message.contains("adaptive or fixed"), "{e}");
    }
}
