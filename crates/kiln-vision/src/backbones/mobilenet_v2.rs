//! MobileNetV2 (Sandler et al. 2018, Table 2): a 3×3 stem, seven bottleneck stages of inverted
//! residuals given as (t, c, n, s), a 1×1 convolution to 1280 channels and a linear classifier.
//! The width multiplier scales channels, rounded to multiples of 8.

use burn::prelude::*;

use crate::blocks::{
    ClassifierHead, ClassifierHeadConfig, ConvNormAct, ConvNormActConfig, InvertedResidual, InvertedResidualConfig,
};
use crate::complexity::ShapeTrace;
use crate::family::{ClassifierFamily, ModelFamily, OnClassifier, Variant, IMAGENET_INPUT};
use crate::scaling::make_divisible;
use crate::{Activation, Complexity, ImageClassifier};
use burn::tensor::backend::AutodiffBackend;

/// Table 2: expansion t, output channels c, repeats n, first stride s.
const STAGES: [(usize, usize, usize, usize); 7] =
    [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)];

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::backbones::MobileNetV2Config;
/// let net = MobileNetV2Config::new().with_num_classes(10).with_in_channels(1).with_stem_stride(1)
///     .with_width_multiplier(0.5).init::<NdArray>(&Default::default());
/// assert_eq!(net.forward(Tensor::zeros([2, 1, 28, 28], &Default::default())).dims(), [2, 10]);
/// ```
#[derive(Config, Debug)]
pub struct MobileNetV2Config {
    #[config(default = 1000)]
    pub num_classes: usize,
    #[config(default = 3)]
    pub in_channels: usize,
    #[config(default = 1.0)]
    pub width_multiplier: f64,
    #[config(default = 2)]
    pub stem_stride: usize,
    /// Stride of the second stage (2 in the paper); 1 keeps 28×28 inputs at 7×7 in the last stages.
    #[config(default = 2)]
    pub stage2_stride: usize,
    #[config(default = 0.2)]
    pub dropout: f64,
}

#[derive(Module, Debug)]
pub struct MobileNetV2<B: Backend> {
    pub stem: ConvNormAct<B>,
    pub blocks: Vec<InvertedResidual<B>>,
    pub last: ConvNormAct<B>,
    pub head: ClassifierHead<B>,
}

impl MobileNetV2Config {
    pub fn init<B: Backend>(&self, device: &B::Device) -> MobileNetV2<B> {
        let round = |c: usize| make_divisible(c as f64 * self.width_multiplier, 8);
        let mut channels = round(32);
        let stem = ConvNormActConfig::new(self.in_channels, channels, 3)
            .with_stride(self.stem_stride)
            .with_activation(Activation::Relu6)
            .init(device);
        let mut blocks = Vec::new();
        for (stage, &(t, c, n, s)) in STAGES.iter().enumerate() {
            let out = round(c);
            let s = if stage == 1 { self.stage2_stride } else { s };
            for i in 0..n {
                let stride = if i == 0 { s } else { 1 };
                blocks.push(InvertedResidualConfig::new(channels, out, t).with_stride(stride).init(device));
                channels = out;
            }
        }
        // The last layer is not thinned below 1280 (Sec. 5.1).
        let last_channels = make_divisible(1280.0 * self.width_multiplier.max(1.0), 8);
        MobileNetV2 {
            stem,
            blocks,
            last: ConvNormActConfig::new(channels, last_channels, 1).with_activation(Activation::Relu6).init(device),
            head: ClassifierHeadConfig::new(last_channels, self.num_classes).with_dropout(self.dropout).init(device),
        }
    }
}

impl<B: Backend> MobileNetV2<B> {
    pub fn forward(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        let x = self.blocks.iter().fold(self.stem.forward(images), |x, block| block.forward(x));
        self.head.forward(self.last.forward(x))
    }
}

impl<B: Backend> ImageClassifier<B> for MobileNetV2<B> {
    fn logits(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        self.forward(images)
    }

    fn complexity(&self, input: [usize; 3]) -> Complexity {
        ShapeTrace::new(input).then(&self.stem).then(&self.blocks).then(&self.last).then(&self.head).finish()
    }
}

impl ModelFamily for MobileNetV2Config {
    const VARIANTS: &'static [Variant<Self>] = &[Variant::new(
        "mobilenet_v2",
        "MobileNetV2, Sandler et al. 2018 (3,504,872 parameters)",
        IMAGENET_INPUT,
        MobileNetV2Config::new,
    )];
}

impl ClassifierFamily for MobileNetV2Config {
    fn init_with<B: AutodiffBackend, J: OnClassifier<B>>(&self, device: &B::Device, job: J) -> J::Output {
        job.run(self.init::<B>(device))
    }
}
