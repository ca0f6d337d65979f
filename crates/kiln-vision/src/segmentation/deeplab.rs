//! A DeepLab-style network at output stride 8 (Chen, Papandreou, Schroff & Adam 2017,
//! "Rethinking Atrous Convolution for Semantic Image Segmentation"): the stride-8 stem, then
//! where a classification network would stride on, 3×3 blocks dilated instead (rates 2 and 4,
//! the paper's multi-grid at output stride 8, Sec. 3.2), atrous spatial pyramid pooling
//! (Sec. 3.3), a 1×1 classifier, and bilinear upsampling of the scores.
//!
//! The paper's ASPP rates (12, 24, 36 at output stride 8) are for 65×65 feature maps of 513×513
//! crops; rates keep their ratio to the map side here, so 64×64 canvases (8×8 maps) take (2, 3, 4).

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::prelude::*;

use super::family::{OnSegmenter, SegmenterFamily};
use super::stem::{check_stem_input, Stride8Stem, Stride8StemConfig};
use super::{upsample_bilinear, SemanticSegmenter};
use crate::blocks::{Aspp, AsppConfig, ConvNormAct, ConvNormActConfig};
use crate::family::{ModelFamily, Variant};
use crate::VisionError;
use burn::tensor::backend::AutodiffBackend;

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::segmentation::{DeepLabConfig, SemanticSegmenter};
/// let net = DeepLabConfig::new().with_width(4).init::<NdArray>(&Default::default());
/// let scores = net.pixel_logits(Tensor::zeros([2, 1, 32, 24], &Default::default()));
/// assert_eq!(scores.dims(), [2, 11, 32, 24]);
/// ```
#[derive(Config, Debug)]
pub struct DeepLabConfig {
    #[config(default = 1)]
    pub in_channels: usize,
    /// Classes, background included.
    #[config(default = 11)]
    pub num_classes: usize,
    /// Channels of the stem's first stage; the dilated blocks work at `4·width`.
    #[config(default = 16)]
    pub width: usize,
    /// One dilated 3×3 block per rate after the stem.
    #[config(default = "vec![2, 4]")]
    pub dilations: Vec<usize>,
    /// ASPP's atrous rates.
    #[config(default = "vec![2, 3, 4]")]
    pub aspp_rates: Vec<usize>,
    /// Channels of each ASPP branch; its projection returns to `4·width`.
    #[config(default = 32)]
    pub aspp_channels: usize,
}

#[derive(Module, Debug)]
pub struct DeepLab<B: Backend> {
    pub stem: Stride8Stem<B>,
    pub dilated: Vec<ConvNormAct<B>>,
    pub aspp: Aspp<B>,
    pub classifier: Conv2d<B>,
    pub in_channels: usize,
}

impl DeepLabConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> DeepLab<B> {
        let stem = Stride8StemConfig::new(self.in_channels, self.width);
        let c = stem.out_channels();
        DeepLab {
            stem: stem.init(device),
            dilated: self
                .dilations
                .iter()
                .map(|&r| ConvNormActConfig::new(c, c, 3).with_dilation(r).init(device))
                .collect(),
            aspp: AsppConfig::new(c)
                .with_out_channels(self.aspp_channels)
                .with_rates(self.aspp_rates.clone())
                .init(device),
            classifier: Conv2dConfig::new([self.aspp_channels, self.num_classes], [1, 1]).init(device),
            in_channels: self.in_channels,
        }
    }

    pub fn validate(&self) -> Result<(), VisionError> {
        if self.in_channels == 0 || self.num_classes < 2 || self.width == 0 || self.aspp_channels == 0 {
            return Err(VisionError::Config(
                "in_channels, width and aspp_channels must be positive and num_classes at least 2".into(),
            ));
        }
        if self.dilations.contains(&0) || self.aspp_rates.contains(&0) {
            return Err(VisionError::Config(format!(
                "dilation and ASPP rates must be positive, got {:?} and {:?}",
                self.dilations, self.aspp_rates
            )));
        }
        Ok(())
    }
}

impl<B: Backend> SemanticSegmenter<B> for DeepLab<B> {
    fn pixel_logits(&self, images: Tensor<B, 4>) -> Tensor<B, 4> {
        let [_, _, h, w] = images.dims();
        let features = ConvNormAct::forward_sequence(&self.dilated, self.stem.forward(images));
        upsample_bilinear(self.classifier.forward(self.aspp.forward(features)), [h, w])
    }

    fn classes(&self) -> usize {
        self.classifier.weight.dims()[0]
    }

    fn check_input(&self, input: [usize; 3]) -> Result<(), VisionError> {
        check_stem_input(self.in_channels, input)
    }
}

impl ModelFamily for DeepLabConfig {
    const VARIANTS: &'static [Variant<Self>] = &[Variant::new(
        "deeplab",
        "DeepLab at output stride 8 (Chen et al. 2017): stride-8 stem, dilated blocks, ASPP",
        [1, 64, 64],
        DeepLabConfig::new,
    )];

    fn check(&self) -> Result<(), VisionError> {
        self.validate()
    }
}

impl SegmenterFamily for DeepLabConfig {
    fn init_with<B: AutodiffBackend, J: OnSegmenter<B>>(&self, device: &B::Device, job: J) -> J::Output {
        job.run(self.init::<B>(device))
    }
}
