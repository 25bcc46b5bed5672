//! Pictures on demand, wired: the HTTP layer's `PictureRenderer` over the pipeline's
//! `PictureMaker` (ffmpeg on the item's published stream), installed where ffmpeg runs. An
//! API-only image without ffmpeg gets none, and the HTTP layer answers 503 for what is not
//! cached.

use crate::config::Config;
use futures::future::BoxFuture;
use mediaserver_api::{
    AppState, Fit, PictureFormat, PictureLimits, PictureRenderer, PictureRequest, PictureSource,
    RenderError,
};
use mediaserver_pipeline::pictures::{self as maker, PictureMaker};
use mediaserver_pipeline::runner::scratch::{Scratch, ScratchSettings};
use mediaserver_pipeline::PipelineError;
use std::sync::Arc;
use std::time::Duration;

/// The renderer over ffmpeg.
pub struct FfmpegPictures(PictureMaker);

impl FfmpegPictures {
    pub fn new(maker: PictureMaker) -> FfmpegPictures {
        FfmpegPictures(maker)
    }
}

impl PictureRenderer for FfmpegPictures {
    fn render(
        &self,
        source: PictureSource,
        request: PictureRequest,
    ) -> BoxFuture<'static, Result<Vec<u8>, RenderError>> {
        let maker = self.0.clone();
        Box::pin(async move {
            let source = maker::PictureSource {
                media_id: source.media_id,
                hls_master: source.hls_master,
                duration: source.duration,
            };
            let made = match request {
                PictureRequest::Still {
                    time,
                    width,
                    height,
                    fit,
                    format,
                } => {
                    let spec = maker::StillSpec {
                        time,
                        width,
                        height,
                        fit: match fit {
                            Fit::Contain => maker::Fit::Contain,
                            Fit::Cover => maker::Fit::Cover,
                            Fit::Fill => maker::Fit::Fill,
                            Fit::Pad => maker::Fit::Pad,
                        },
                        format: match format {
                            PictureFormat::Webp => maker::StillFormat::Webp,
                            PictureFormat::Png => maker::StillFormat::Png,
                            PictureFormat::Jpeg | PictureFormat::Gif => maker::StillFormat::Jpeg,
                        },
                    };
                    maker.still(&source, &spec).await
                }
                PictureRequest::Animated {
                    start,
                    end,
                    width,
                    fps,
                    format,
                } => {
                    let spec = maker::AnimationSpec {
                        start,
                        end,
                        width,
                        fps,
                        format: match format {
                            PictureFormat::Gif => maker::AnimationFormat::Gif,
                            _ => maker::AnimationFormat::Webp,
                        },
                    };
                    maker.animation(&source, &spec).await
                }
            };
            made.map_err(render_error)
        })
    }
}

fn render_error(e: PipelineError) -> RenderError {
    use mediaserver_pipeline::ErrorChain;
    if matches!(e, PipelineError::Unusable(_)) {
        return RenderError::NoPicture;
    }
    if maker::is_timeout(&e) {
        return RenderError::Timeout;
    }
    if e.failure() == mediaserver_core::Failure::Outage {
        return RenderError::Unavailable(Box::new(e));
    }
    tracing::warn!(error = %ErrorChain(&e), "a picture could not be rendered");
    RenderError::Failed(Box::new(e))
}

/// Installs the renderer on `state` when ffmpeg runs here and `PICTURE_RENDERS` allows any.
pub async fn install(config: &Config, state: &AppState) {
    let renderer = if config.pictures.renders == 0 {
        None
    } else if maker::ffmpeg_available().await {
        Some(ffmpeg_renderer(config, state))
    } else {
        tracing::warn!("ffmpeg is not available: pictures on demand are answered with 503");
        None
    };
    state.set_picture_renderer(renderer, limits(config));
}

/// The limits `PICTURE_RENDERS` and `PICTURE_QUEUE` set.
pub fn limits(config: &Config) -> PictureLimits {
    PictureLimits {
        renders: config.pictures.renders,
        queue: config.pictures.queue,
        ..PictureLimits::default()
    }
}

/// The ffmpeg renderer over `state`'s output bucket, with scratch space under `TEMP_DIR`.
pub fn ffmpeg_renderer(config: &Config, state: &AppState) -> Arc<dyn PictureRenderer> {
    let timeout = config.pictures.timeout;
    let scratch = Scratch::new(
        config.jobs.temp_dir.clone(),
        ScratchSettings::for_lease(timeout.max(Duration::from_secs(60))),
    );
    let maker = PictureMaker::new(state.output_store.clone(), scratch, timeout);
    Arc::new(FfmpegPictures::new(maker))
}
