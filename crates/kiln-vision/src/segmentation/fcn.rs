//! A plain fully convolutional network at output stride 8 (Long, Shelhamer & Darrell 2015,
//! "Fully Convolutional Networks for Semantic Segmentation"): the stride-8 stem, plain 3×3
//! conv-BN-ReLU blocks, a 1×1 classifier, and bilinear upsampling of the scores.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::prelude::*;

use super::family::{OnSegmenter, SegmenterFamily};
use super::stem::{check_stem_input, Stride8Stem, Stride8StemConfig};
use super::{upsample_bilinear, SemanticSegmenter};
use crate::blocks::{ConvNormAct, ConvNormActConfig};
use crate::family::{ModelFamily, Variant};
use crate::VisionError;
use burn::tensor::backend::AutodiffBackend;

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::segmentation::{FcnConfig, SemanticSegmenter};
/// let fcn = FcnConfig::new().with_width(4).init::<NdArray>(&Default::default());
/// let scores = fcn.pixel_logits(Tensor::zeros([2, 1, 32, 24], &Default::default()));
/// assert_eq!(scores.dims(), [2, 11, 32, 24]);
/// ```
#[derive(Config, Debug)]
pub struct FcnConfig {
    #[config(default = 1)]
    pub in_channels: usize,
    /// Classes, background included (MNIST-seg: background and ten digits).
    #[config(default = 11)]
    pub num_classes: usize,
    /// Channels of the stem's first stage; the head works at `4·width`.
    #[config(default = 16)]
    pub width: usize,
    /// Plain 3×3 blocks after the stem (4 gives about DeepLab's parameter count at equal width).
    #[config(default = 4)]
    pub head_layers: usize,
}

#[derive(Module, Debug)]
pub struct Fcn<B: Backend> {
    pub stem: Stride8Stem<B>,
    pub head: Vec<ConvNormAct<B>>,
    pub classifier: Conv2d<B>,
    pub in_channels: usize,
}

impl FcnConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> Fcn<B> {
        let stem = Stride8StemConfig::new(self.in_channels, self.width);
        let c = stem.out_channels();
        Fcn {
            stem: stem.init(device),
            head: (0..self.head_layers).map(|_| ConvNormActConfig::new(c, c, 3).init(device)).collect(),
            classifier: Conv2dConfig::new([c, self.num_classes], [1, 1]).init(device),
            in_channels: self.in_channels,
        }
    }

    pub fn validate(&self) -> Result<(), VisionError> {
        if self.in_channels == 0 || self.num_classes < 2 || self.width == 0 {
            return Err(VisionError::Config(
                "in_channels and width must be positive and num_classes at least 2".into(),
            ));
        }
        Ok(())
    }
}

impl<B: Backend> SemanticSegmenter<B> for Fcn<B> {
    fn pixel_logits(&self, images: Tensor<B, 4>) -> Tensor<B, 4> {
        let [_, _, h, w] = images.dims();
        let features = ConvNormAct::forward_sequence(&self.head, self.stem.forward(images));
        upsample_bilinear(self.classifier.forward(features), [h, w])
    }

    fn classes(&self) -> usize {
        self.classifier.weight.dims()[0]
    }

    fn check_input(&self, input: [usize; 3]) -> Result<(), VisionError> {
        check_stem_input(self.in_channels, input)
    }
}

impl ModelFamily for FcnConfig {
    const VARIANTS: &'static [Variant<Self>] = &[Variant::new(
        "fcn",
        "FCN at output stride 8 (Long et al. 2015): stride-8 stem, plain 3×3 blocks, bilinear upsampling",
        [1, 64, 64],
        FcnConfig::new,
    )];

    fn check(&self) -> Result<(), VisionError> {
        self.validate()
    }
}

impl SegmenterFamily for FcnConfig {
    fn init_with<B: AutodiffBackend, J: OnSegmenter<B>>(&self, device: &B::Device, job: J) -> J::Output {
        job.run(self.init::<B>(device))
    }
}
