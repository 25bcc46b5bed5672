//! The comparison run of one window: the source through each rung's recorded filter against
//! the rung's own segment, SSIM and PSNR (and VMAF) into per-frame stats files.

use super::windows::Window;
use crate::error::{MediaError, Result};
use crate::probe::{file_url, VideoInfo};
use crate::transcode::RungEncode;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// The stats files of one rung in one window.
pub(super) struct RungStats {
    pub ssim: PathBuf,
    pub psnr: PathBuf,
    pub vmaf: Option<PathBuf>,
}

impl RungStats {
    pub fn new(scratch: &Path, w: usize, r: usize, vmaf: bool) -> RungStats {
        RungStats {
            ssim: scratch.join(format!("w{w}-r{r}.ssim")),
            psnr: scratch.join(format!("w{w}-r{r}.psnr")),
            vmaf: vmaf.then(|| scratch.join(format!("w{w}-r{r}.vmaf.csv"))),
        }
    }
}

/// One run for one window: the source decoded once from the window's start, through the
/// picture chain, split to every rung's scaler (the reference); each rung's window decoded
/// from its segment (the distorted); SSIM, PSNR (and VMAF) of each pair into stats files.
pub(super) fn compare_args(
    source: &OsStr,
    v: &VideoInfo,
    window: &Window,
    rungs: &[RungEncode],
    clips: &[PathBuf],
    stats: &[RungStats],
) -> Result<Vec<OsString>> {
    let mut a: Vec<OsString> = Vec::new();
    let mut push = |s: &str| a.push(s.into());
    for s in ["-hide_banner", "-nostdin", "-nostats", "-loglevel", "error"] {
        push(s);
    }
    if let Some((option, decoder)) = v.decoder() {
        push(&option);
        push(decoder);
    }
    for s in [
        "-ss",
        &format!("{:.6}", window.start),
        "-t",
        &format!("{:.6}", window.length),
        "-i",
    ] {
        push(s);
    }
    a.push(source.into());
    for clip in clips {
        a.push("-t".into());
        a.push(format!("{:.6}", window.length).into());
        a.push("-i".into());
        a.push(file_url(clip).into());
    }
    // Each rung's recorded filter starts from the decoded stream; what they share (the picture
    // chain: deinterlace, rate, tone-map) runs once before the split, as in the encode.
    let n = rungs.len();
    let (common, own) = common_prefix(rungs.iter().map(|r| r.filter.as_str()));
    let mut g = format!("[0:{}]", v.index);
    if !common.is_empty() {
        g.push_str(&common);
        g.push(',');
    }
    g.push_str(&format!("split={n}"));
    for i in 0..n {
        g.push_str(&format!("[src{i}]"));
    }
    let copies = if stats.iter().any(|s| s.vmaf.is_some()) {
        3
    } else {
        2
    };
    // Both sides from 0 in the same time base: the framesync of the comparison pairs frames
    // by timestamp.
    let align = "settb=AVTB,setpts=PTS-STARTPTS";
    for (i, s) in stats.iter().enumerate() {
        g.push_str(&format!(
            ";[src{i}]{},{align},split={copies}[ra{i}][rb{i}]{}",
            own[i],
            if copies == 3 {
                format!("[rc{i}]")
            } else {
                String::new()
            }
        ));
        g.push_str(&format!(
            ";[{}:v:0]setsar=1,format=yuv420p,{align},split={copies}[da{i}][db{i}]{}",
            i + 1,
            if copies == 3 {
                format!("[dc{i}]")
            } else {
                String::new()
            }
        ));
        g.push_str(&format!(
            ";[da{i}][ra{i}]ssim=shortest=1:stats_file={}",
            filter_path(&s.ssim)?
        ));
        g.push_str(&format!(
            ";[db{i}][rb{i}]psnr=shortest=1:stats_file={}",
            filter_path(&s.psnr)?
        ));
        if let Some(vmaf) = &s.vmaf {
            g.push_str(&format!(
                ";[dc{i}][rc{i}]libvmaf=shortest=1:log_fmt=csv:log_path={}",
                filter_path(vmaf)?
            ));
        }
    }
    a.push("-filter_complex".into());
    a.push(g.into());
    for s in ["-f", "null", "-"] {
        a.push(s.into());
    }
    Ok(a)
}

/// The filters (comma-separated chains) every chain starts with, and what is left of each
/// (`null` where nothing is).
fn common_prefix<'a>(chains: impl Iterator<Item = &'a str>) -> (String, Vec<String>) {
    let split: Vec<Vec<&str>> = chains
        .map(|c| c.split(',').filter(|f| !f.is_empty()).collect())
        .collect();
    let shared = match split.first() {
        Some(first) => (0..first.len())
            .take_while(|&k| split.iter().all(|c| c.get(k) == first.get(k)))
            .count(),
        None => 0,
    };
    let common = split
        .first()
        .map(|c| c[..shared].join(","))
        .unwrap_or_default();
    let own = split
        .iter()
        .map(|c| match c[shared..].join(",") {
            rest if rest.is_empty() => "null".to_string(),
            rest => rest,
        })
        .collect();
    (common, own)
}

/// A path as a filter option value: quoted; a path with a quote or backslash is refused
/// rather than escaped through two levels of filtergraph syntax.
fn filter_path(path: &Path) -> Result<String> {
    let s = path
        .to_str()
        .filter(|s| !s.contains(['\'', '\\']))
        .ok_or_else(|| {
            MediaError::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the scratch path cannot be written into a filter graph",
            ))
        })?;
    Ok(format!("'{s}'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_filters_run_once() {
        let (common, own) = common_prefix(["a,b,c", "a,b,d", "a,b"].into_iter());
        assert_eq!(common, "a,b");
        assert_eq!(own, ["c", "d", "null"]);
        let (common, own) = common_prefix(["x,c", "y"].into_iter());
        assert_eq!(common, "");
        assert_eq!(own, ["x,c", "y"]);
    }

    #[test]
    fn compares_each_rung_through_its_own_recorded_filter() {
        let v = VideoInfo {
            index: 0,
            codec: "h264".into(),
            width: 640,
            height: 360,
            fps: 30.0,
            pix_fmt: "yuv420p".into(),
            ..Default::default()
        };
        let rung = |name: &str, filter: &str| RungEncode {
            name: name.into(),
            filter: filter.into(),
            ..Default::default()
        };
        let rungs = [
            rung("360p", "bwdif=mode=send_frame:parity=auto:deint=all,fps=30/1,scale=640:360,setsar=1,format=yuv420p"),
            rung("240p", "bwdif=mode=send_frame:parity=auto:deint=all,fps=30/1,fps=15/1,scale=426:240,setsar=1,format=yuv420p"),
        ];
        let clips = [PathBuf::from("/s/w0-r0.mp4"), PathBuf::from("/s/w0-r1.mp4")];
        let stats = [
            RungStats::new(Path::new("/s"), 0, 0, false),
            RungStats::new(Path::new("/s"), 0, 1, false),
        ];
        let window = Window {
            segment: 1,
            start: 4.0,
            length: 0.5,
        };
        let source = file_url(Path::new("/in/src")).into_os_string();
        let args: Vec<String> = compare_args(&source, &v, &window, &rungs, &clips, &stats)
            .unwrap()
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let joined = args.join(" ");
        assert!(joined.contains("-ss 4.000000 -t 0.500000 -i file:/in/src -t 0.500000 -i file:/s/w0-r0.mp4 -t 0.500000 -i file:/s/w0-r1.mp4"), "{joined}");
        assert!(joined.contains("[0:0]bwdif=mode=send_frame:parity=auto:deint=all,fps=30/1,split=2[src0][src1];[src0]scale=640:360,setsar=1,format=yuv420p,settb"), "{joined}");
        assert!(joined.contains("[src1]fps=15/1,scale=426:240,setsar=1,format=yuv420p,settb=AVTB,setpts=PTS-STARTPTS,split=2[ra1][rb1]"));
        assert!(joined.contains(
            "[2:v:0]setsar=1,format=yuv420p,settb=AVTB,setpts=PTS-STARTPTS,split=2[da1][db1]"
        ));
        assert!(joined.contains("[da1][ra1]ssim=shortest=1:stats_file='/s/w0-r1.ssim'"));
        assert!(joined.contains("[db0][rb0]psnr=shortest=1:stats_file='/s/w0-r0.psnr'"));
        assert!(!joined.contains("libvmaf"));
        assert!(filter_path(Path::new("/a'b")).is_err());
    }
}
