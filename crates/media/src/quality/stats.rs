//! Reading ffmpeg's per-frame stats files (`ssim`, `psnr`, libvmaf's CSV) and pooling them
//! over every frame of every window.

use super::compare::RungStats;
use super::{Scores, PSNR_IDENTICAL};
use crate::error::Result;

/// Per-frame scores of a rung over every window so far.
#[derive(Debug, Clone, Default)]
pub(super) struct Pool {
    ssim: Vec<f64>,
    mse: Vec<f64>,
    vmaf: Vec<f64>,
    /// The peak value of the samples (255 for 8-bit).
    max: f64,
}

impl Pool {
    pub async fn add(&mut self, s: &RungStats) -> Result<()> {
        let ssim = tokio::fs::read_to_string(&s.ssim).await?;
        self.ssim.extend(parse_ssim_stats(&ssim));
        let psnr = tokio::fs::read_to_string(&s.psnr).await?;
        let (mse, max) = parse_psnr_stats(&psnr);
        self.mse.extend(mse);
        self.max = self.max.max(max);
        if let Some(path) = &s.vmaf {
            let csv = tokio::fs::read_to_string(path).await?;
            self.vmaf.extend(parse_vmaf_csv(&csv));
        }
        Ok(())
    }

    pub fn scores(&self) -> Option<Scores> {
        if self.ssim.is_empty() || self.mse.is_empty() {
            return None;
        }
        Some(Scores {
            ssim: mean(&self.ssim),
            psnr: psnr(
                mean(&self.mse),
                if self.max > 0.0 { self.max } else { 255.0 },
            ),
            vmaf: (!self.vmaf.is_empty()).then(|| mean(&self.vmaf)),
        })
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// PSNR in dB of a mean squared error for samples peaking at `max`.
fn psnr(mse: f64, max: f64) -> f64 {
    if mse <= 0.0 {
        return PSNR_IDENTICAL;
    }
    (10.0 * (max * max / mse).log10()).min(PSNR_IDENTICAL)
}

/// The `All:` value of each line of an `ssim` stats file (`n:1 Y:0.99 U:0.98 V:0.98 All:0.99
/// (20.0)`).
fn parse_ssim_stats(text: &str) -> Vec<f64> {
    text.lines()
        .filter_map(|l| field(l, "All:"))
        .filter(|v| v.is_finite())
        .collect()
}

/// The `mse_avg:` of each line of a `psnr` stats file, and the largest `max_avg:` (the peak
/// sample value, 255 for 8-bit).
fn parse_psnr_stats(text: &str) -> (Vec<f64>, f64) {
    let mse = text
        .lines()
        .filter_map(|l| field(l, "mse_avg:"))
        .filter(|v| v.is_finite())
        .collect();
    let max = text
        .lines()
        .filter_map(|l| field(l, "max_avg:"))
        .fold(0.0, f64::max);
    (mse, max)
}

/// The number after `key` in a line of `key:value` pairs separated by spaces.
fn field(line: &str, key: &str) -> Option<f64> {
    line.split_whitespace()
        .find_map(|part| part.strip_prefix(key))
        .and_then(|v| v.parse().ok())
}

/// The `vmaf` column of libvmaf's CSV log.
fn parse_vmaf_csv(text: &str) -> Vec<f64> {
    let mut lines = text.lines();
    let Some(column) = lines
        .next()
        .and_then(|h| h.split(',').position(|c| c.trim() == "vmaf"))
    else {
        return Vec::new();
    };
    lines
        .filter_map(|l| l.split(',').nth(column)?.trim().parse().ok())
        .filter(|v: &f64| v.is_finite())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_per_frame_stats() {
        let ssim = "n:1 Y:0.990000 U:0.980000 V:0.970000 All:0.985000 (18.239087)\nn:2 Y:0.99 U:0.99 V:0.99 All:0.975000 (16.0)\n";
        assert_eq!(parse_ssim_stats(ssim), [0.985, 0.975]);
        let stats = "n:1 mse_avg:6.50 mse_y:5.00 mse_u:9.00 mse_v:9.00 psnr_avg:39.99 psnr_y:41.14 psnr_u:38.59 psnr_v:38.59 max_avg:255 max_y:255 max_u:255 max_v:255\nn:2 mse_avg:0.00 mse_y:0.00 psnr_avg:inf max_avg:255\n";
        let (mse, max) = parse_psnr_stats(stats);
        assert_eq!(mse, [6.5, 0.0]);
        assert_eq!(max, 255.0);
        let pool = Pool {
            ssim: parse_ssim_stats(ssim),
            mse,
            vmaf: Vec::new(),
            max,
        };
        let s = pool.scores().unwrap();
        assert!((s.ssim - 0.98).abs() < 1e-12);
        // From the mean squared error (3.25), not the mean of the per-frame dB.
        assert!((s.psnr - 10.0 * (255.0f64 * 255.0 / 3.25).log10()).abs() < 1e-9);
        assert_eq!(s.vmaf, None);
        assert_eq!(psnr(0.0, 255.0), PSNR_IDENTICAL);
        assert_eq!(Pool::default().scores(), None);
    }

    #[test]
    fn reads_the_vmaf_column() {
        let csv = "Frame,integer_adm2,integer_motion,vmaf\n0,0.99,0.0,93.5\n1,0.98,1.2,91.5\n";
        assert_eq!(parse_vmaf_csv(csv), [93.5, 91.5]);
        assert!(parse_vmaf_csv("Frame,psnr\n0,40\n").is_empty());
    }
}
