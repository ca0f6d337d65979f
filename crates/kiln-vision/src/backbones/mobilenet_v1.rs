//! MobileNetV1 (Howard et al. 2017, Table 1): a full 3×3 convolution then 13 depthwise-separable
//! layers; the width multiplier α thins every layer (Sec. 3.3), cutting cost by about α².

use burn::prelude::*;

use crate::blocks::{
    ClassifierHead, ClassifierHeadConfig, ConvNormAct, ConvNormActConfig, DepthwiseSeparable, DepthwiseSeparableConfig,
};
use crate::complexity::ShapeTrace;
use crate::family::{ClassifierFamily, ModelFamily, OnClassifier, Variant, IMAGENET_INPUT};
use crate::{Complexity, ImageClassifier};
use burn::tensor::backend::AutodiffBackend;

/// Table 1: (output channels, stride) of each depthwise-separable layer at α = 1.
const LAYERS: [(usize, usize); 13] = [
    (64, 1),
    (128, 2),
    (128, 1),
    (256, 2),
    (256, 1),
    (512, 2),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (1024, 2),
    (1024, 1),
];

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::backbones::MobileNetV1Config;
/// let net = MobileNetV1Config::new().with_width_multiplier(0.25).with_num_classes(10)
///     .init::<NdArray>(&Default::default());
/// assert_eq!(net.forward(Tensor::zeros([1, 3, 64, 64], &Default::default())).dims(), [1, 10]);
/// ```
#[derive(Config, Debug)]
pub struct MobileNetV1Config {
    #[config(default = 1000)]
    pub num_classes: usize,
    #[config(default = 3)]
    pub in_channels: usize,
    /// α ∈ (0, 1]: every layer has ⌊α·channels⌋ channels.
    #[config(default = 1.0)]
    pub width_multiplier: f64,
    #[config(default = 2)]
    pub stem_stride: usize,
    #[config(default = 0.0)]
    pub dropout: f64,
}

#[derive(Module, Debug)]
pub struct MobileNetV1<B: Backend> {
    pub stem: ConvNormAct<B>,
    pub layers: Vec<DepthwiseSeparable<B>>,
    pub head: ClassifierHead<B>,
}

impl MobileNetV1Config {
    pub fn init<B: Backend>(&self, device: &B::Device) -> MobileNetV1<B> {
        let thin = |c: usize| ((c as f64 * self.width_multiplier) as usize).max(1);
        let mut channels = thin(32);
        let stem = ConvNormActConfig::new(self.in_channels, channels, 3).with_stride(self.stem_stride).init(device);
        let layers = LAYERS
            .iter()
            .map(|&(out, stride)| {
                let layer = DepthwiseSeparableConfig::new(channels, thin(out)).with_stride(stride).init(device);
                channels = thin(out);
                layer
            })
            .collect();
        MobileNetV1 {
            stem,
            layers,
            head: ClassifierHeadConfig::new(channels, self.num_classes).with_dropout(self.dropout).init(device),
        }
    }
}

impl<B: Backend> MobileNetV1<B> {
    pub fn forward(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        let x = self.layers.iter().fold(self.stem.forward(images), |x, layer| layer.forward(x));
        self.head.forward(x)
    }
}

impl<B: Backend> ImageClassifier<B> for MobileNetV1<B> {
    fn logits(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        self.forward(images)
    }

    fn complexity(&self, input: [usize; 3]) -> Complexity {
        ShapeTrace::new(input).then(&self.stem).then(&self.layers).then(&self.head).finish()
    }
}

impl ModelFamily for MobileNetV1Config {
    const VARIANTS: &'static [Variant<Self>] = &[Variant::new(
        "mobilenet_v1",
        "MobileNetV1, Howard et al. 2017, width multiplier α (4,231,976 parameters at α = 1)",
        IMAGENET_INPUT,
        MobileNetV1Config::new,
    )];
}

impl ClassifierFamily for MobileNetV1Config {
    fn init_with<B: AutodiffBackend, J: OnClassifier<B>>(&self, device: &B::Device, job: J) -> J::Output {
        job.run(self.init::<B>(device))
    }
}
