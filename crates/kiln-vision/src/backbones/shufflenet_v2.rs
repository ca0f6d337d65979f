//! ShuffleNetV2 (Ma et al. 2018, Table 5) and ThunderNet's SNet backbones (Qin et al. 2019,
//! Table 1): a 3×3 stem and max-pool, three stages of shuffle units (the first of each at
//! stride 2), an optional 1×1 "conv5", global pooling and a linear classifier. SNet is the same
//! network with 5×5 depthwise kernels and its own widths.

use burn::nn::pool::MaxPool2d;
use burn::prelude::*;

use crate::blocks::{
    ClassifierHead, ClassifierHeadConfig, ConvNormAct, ConvNormActConfig, ShuffleUnit, ShuffleUnitConfig,
};
use crate::complexity::ShapeTrace;
use crate::family::{ClassifierFamily, ModelFamily, OnClassifier, Variant, IMAGENET_INPUT};
use crate::{Complexity, ImageClassifier};
use burn::tensor::backend::AutodiffBackend;

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::backbones::ShuffleNetV2Config;
/// let net = ShuffleNetV2Config::x0_5().with_num_classes(10).init::<NdArray>(&Default::default());
/// assert_eq!(net.forward(Tensor::zeros([1, 3, 64, 64], &Default::default())).dims(), [1, 10]);
/// ```
#[derive(Config, Debug)]
pub struct ShuffleNetV2Config {
    /// Output channels of the stem and of stages 2–4 (Table 5's rows).
    pub stage_channels: [usize; 4],
    /// Channels of the final 1×1 convolution; `None` ends at stage 4 (SNet146/535).
    pub conv5_channels: Option<usize>,
    #[config(default = "[4, 8, 4]")]
    pub stage_repeats: [usize; 3],
    #[config(default = 3)]
    pub depthwise_kernel: usize,
    #[config(default = 1000)]
    pub num_classes: usize,
    #[config(default = 3)]
    pub in_channels: usize,
    #[config(default = 2)]
    pub stem_stride: usize,
    #[config(default = true)]
    pub stem_pool: bool,
    #[config(default = 0.0)]
    pub dropout: f64,
}

impl ShuffleNetV2Config {
    /// Table 5 of Ma et al. 2018, by output-channel multiplier.
    pub fn x0_5() -> Self {
        Self::new([24, 48, 96, 192]).with_conv5_channels(Some(1024))
    }
    pub fn x1_0() -> Self {
        Self::new([24, 116, 232, 464]).with_conv5_channels(Some(1024))
    }
    pub fn x1_5() -> Self {
        Self::new([24, 176, 352, 704]).with_conv5_channels(Some(1024))
    }
    pub fn x2_0() -> Self {
        Self::new([24, 244, 488, 976]).with_conv5_channels(Some(2048))
    }
    /// ThunderNet's SNet49 (Table 1 of Qin et al. 2019): 5×5 depthwise kernels, conv5 of 512.
    pub fn snet49() -> Self {
        Self::new([24, 60, 120, 240]).with_conv5_channels(Some(512)).with_depthwise_kernel(5)
    }
    /// SNet146: conv5 removed, wider stages.
    pub fn snet146() -> Self {
        Self::new([24, 132, 264, 528]).with_depthwise_kernel(5)
    }
    /// SNet535: conv5 removed, wider stem and stages.
    pub fn snet535() -> Self {
        Self::new([48, 248, 496, 992]).with_depthwise_kernel(5)
    }
}

#[derive(Module, Debug)]
pub struct ShuffleNetV2<B: Backend> {
    pub stem: ConvNormAct<B>,
    pub stem_pool: Option<MaxPool2d>,
    pub units: Vec<ShuffleUnit<B>>,
    pub conv5: Option<ConvNormAct<B>>,
    pub head: ClassifierHead<B>,
}

impl ShuffleNetV2Config {
    pub fn init<B: Backend>(&self, device: &B::Device) -> ShuffleNetV2<B> {
        let mut channels = self.stage_channels[0];
        let stem = ConvNormActConfig::new(self.in_channels, channels, 3).with_stride(self.stem_stride).init(device);
        let mut units = Vec::new();
        for (&out, &repeats) in self.stage_channels[1..].iter().zip(&self.stage_repeats) {
            for i in 0..repeats {
                let stride = if i == 0 { 2 } else { 1 };
                units.push(
                    ShuffleUnitConfig::new(channels, out)
                        .with_stride(stride)
                        .with_depthwise_kernel(self.depthwise_kernel)
                        .init(device),
                );
                channels = out;
            }
        }
        let conv5 = self.conv5_channels.map(|c| ConvNormActConfig::new(channels, c, 1).init(device));
        let features = self.conv5_channels.unwrap_or(channels);
        ShuffleNetV2 {
            stem,
            stem_pool: self.stem_pool.then(super::stem_max_pool),
            units,
            conv5,
            head: ClassifierHeadConfig::new(features, self.num_classes).with_dropout(self.dropout).init(device),
        }
    }
}

impl<B: Backend> ShuffleNetV2<B> {
    pub fn forward(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        let mut x = self.stem.forward(images);
        if let Some(pool) = &self.stem_pool {
            x = pool.forward(x);
        }
        let mut x = self.units.iter().fold(x, |x, unit| unit.forward(x));
        if let Some(conv5) = &self.conv5 {
            x = conv5.forward(x);
        }
        self.head.forward(x)
    }
}

impl<B: Backend> ImageClassifier<B> for ShuffleNetV2<B> {
    fn logits(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        self.forward(images)
    }

    fn complexity(&self, input: [usize; 3]) -> Complexity {
        let mut trace = ShapeTrace::new(input).then(&self.stem);
        if self.stem_pool.is_some() {
            trace = trace.pool(3, 2, 1, false); // the stem max-pool
        }
        trace = trace.then(&self.units);
        if let Some(conv5) = &self.conv5 {
            trace = trace.then(conv5);
        }
        trace.then(&self.head).finish()
    }
}

impl ModelFamily for ShuffleNetV2Config {
    const VARIANTS: &'static [Variant<Self>] = &[
        Variant::new(
            "shufflenet_v2_x0_5",
            "ShuffleNetV2 0.5×, Ma et al. 2018 (1,366,792 parameters)",
            IMAGENET_INPUT,
            ShuffleNetV2Config::x0_5,
        ),
        Variant::new(
            "shufflenet_v2_x1_0",
            "ShuffleNetV2 1.0×, Ma et al. 2018 (2,278,604 parameters)",
            IMAGENET_INPUT,
            ShuffleNetV2Config::x1_0,
        ),
        Variant::new(
            "shufflenet_v2_x1_5",
            "ShuffleNetV2 1.5×, Ma et al. 2018 (3,503,624 parameters)",
            IMAGENET_INPUT,
            ShuffleNetV2Config::x1_5,
        ),
        Variant::new(
            "shufflenet_v2_x2_0",
            "ShuffleNetV2 2.0×, Ma et al. 2018 (7,393,996 parameters)",
            IMAGENET_INPUT,
            ShuffleNetV2Config::x2_0,
        ),
        Variant::new(
            "snet49",
            "SNet49, ThunderNet's backbone, Qin et al. 2019",
            IMAGENET_INPUT,
            ShuffleNetV2Config::snet49,
        ),
        Variant::new(
            "snet146",
            "SNet146, ThunderNet's backbone, Qin et al. 2019",
            IMAGENET_INPUT,
            ShuffleNetV2Config::snet146,
        ),
        Variant::new(
            "snet535",
            "SNet535, ThunderNet's backbone, Qin et al. 2019",
            IMAGENET_INPUT,
            ShuffleNetV2Config::snet535,
        ),
    ];
}

impl ClassifierFamily for ShuffleNetV2Config {
    fn init_with<B: AutodiffBackend, J: OnClassifier<B>>(&self, device: &B::Device, job: J) -> J::Output {
        job.run(self.init::<B>(device))
    }
}
