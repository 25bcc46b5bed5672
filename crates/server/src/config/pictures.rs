//! Pictures on demand (`/v1/media/{id}/thumbnail.*` with parameters, `animated.*`): how many
//! render at once (`PICTURE_RENDERS`, 0 turns rendering off), how many may wait behind them
//! (`PICTURE_QUEUE`; more get 503 with `Retry-After`) and how long one may take
//! (`PICTURE_TIMEOUT_SECONDS`).

use super::vars::{err, ConfigError, Vars};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct PicturesConfig {
    /// Renders at once; 0: none (uncached pictures are 503, the poster still served).
    pub renders: usize,
    /// Requests that may wait for a render; further ones get 503.
    pub queue: usize,
    /// Bound on one render (fetching its segments and the ffmpeg run).
    pub timeout: Duration,
}

pub(super) fn from_vars(vars: &Vars) -> Result<PicturesConfig, ConfigError> {
    let renders: usize = vars.parse_or("PICTURE_RENDERS", 2)?;
    if renders > 64 {
        return Err(err("PICTURE_RENDERS", "must be from 0 to 64"));
    }
    let queue: usize = vars.parse_or("PICTURE_QUEUE", 8)?;
    if queue > 1000 {
        return Err(err("PICTURE_QUEUE", "must be from 0 to 1000"));
    }
    let timeout: u64 = vars.parse_or("PICTURE_TIMEOUT_SECONDS", 30)?;
    if !(1..=600).contains(&timeout) {
        return Err(err("PICTURE_TIMEOUT_SECONDS", "must be from 1 to 600"));
    }
    Ok(PicturesConfig {
        renders,
        queue,
        timeout: Duration::from_secs(timeout),
    })
}

#[cfg(test)]
mod tests {
    use crate::config::tests::cfg;
    use std::time::Duration;

    #[test]
    fn defaults_and_bounds() {
        let c = cfg(&[]).unwrap().pictures;
        assert_eq!((c.renders, c.queue), (2, 8));
        assert_eq!(c.timeout, Duration::from_secs(30));
        let c = cfg(&[("PICTURE_RENDERS", "0"), ("PICTURE_QUEUE", "0")])
            .unwrap()
            .pictures;
        assert_eq!((c.renders, c.queue), (0, 0));
        for (var, bad) in [
            ("PICTURE_RENDERS", "-1"),
            ("PICTURE_RENDERS", "65"),
            ("PICTURE_QUEUE", "x"),
            ("PICTURE_TIMEOUT_SECONDS", "0"),
        ] {
            assert_eq!(cfg(&[(var, bad)]).unwrap_err().var, var, "{bad}");
        }
    }
}
