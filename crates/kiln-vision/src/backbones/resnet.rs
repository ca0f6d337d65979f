//! ResNet (He et al. 2016, Table 1): a 7×7 stem, four stages of residual blocks that halve the
//! resolution and double the width, global pooling and a linear classifier. Depths 18 and 34 use
//! basic blocks, 50/101/152 bottlenecks with expansion 4.

use burn::nn::pool::MaxPool2d;
use burn::prelude::*;

use crate::blocks::{
    BasicBlock, BasicBlockConfig, Bottleneck, BottleneckConfig, ClassifierHead, ClassifierHeadConfig, ConvNormAct,
    ConvNormActConfig,
};
use crate::complexity::ShapeTrace;
use crate::family::{ClassifierFamily, ModelFamily, OnClassifier, Variant, IMAGENET_INPUT};
use crate::{Complexity, ImageClassifier, VisionError};
use burn::tensor::backend::AutodiffBackend;

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::backbones::ResNetConfig;
/// // ResNet-18 for 28×28 digits: stride-1 stem without the max-pool.
/// let net = ResNetConfig::new(18).with_num_classes(10).with_in_channels(1).with_stem_stride(1)
///     .with_stem_pool(false).with_width(16).init::<NdArray>(&Default::default());
/// assert_eq!(net.forward(Tensor::zeros([2, 1, 28, 28], &Default::default())).dims(), [2, 10]);
/// ```
#[derive(Config, Debug)]
pub struct ResNetConfig {
    /// 18, 34, 50, 101 or 152.
    pub depth: usize,
    #[config(default = 1000)]
    pub num_classes: usize,
    #[config(default = 3)]
    pub in_channels: usize,
    /// Channels of the stem and the first stage (64 in the paper); later stages double it.
    #[config(default = 64)]
    pub width: usize,
    /// 2 in the paper; 1 keeps small inputs (28×28, 32×32) from vanishing.
    #[config(default = 2)]
    pub stem_stride: usize,
    /// The stem's 3×3 stride-2 max-pool.
    #[config(default = true)]
    pub stem_pool: bool,
}

/// Blocks per stage and whether they are bottlenecks, from Table 1.
pub fn resnet_layout(depth: usize) -> Option<([usize; 4], bool)> {
    match depth {
        18 => Some(([2, 2, 2, 2], false)),
        34 => Some(([3, 4, 6, 3], false)),
        50 => Some(([3, 4, 6, 3], true)),
        101 => Some(([3, 4, 23, 3], true)),
        152 => Some(([3, 8, 36, 3], true)),
        _ => None,
    }
}

#[derive(Module, Debug)]
pub struct ResNet<B: Backend> {
    pub stem: ConvNormAct<B>,
    pub stem_pool: Option<MaxPool2d>,
    /// Filled for depths 18 and 34; `bottlenecks` for the deeper ones.
    pub basic_blocks: Vec<BasicBlock<B>>,
    pub bottlenecks: Vec<Bottleneck<B>>,
    pub head: ClassifierHead<B>,
}

impl ResNetConfig {
    /// Panics on a depth outside 18/34/50/101/152; configs from files are checked by
    /// [`ResNetConfig::validate`] first.
    pub fn init<B: Backend>(&self, device: &B::Device) -> ResNet<B> {
        let (repeats, bottleneck) = resnet_layout(self.depth).expect("ResNet depth must be 18, 34, 50, 101 or 152");
        let expansion = if bottleneck { 4 } else { 1 };
        let mut basic_blocks = Vec::new();
        let mut bottlenecks = Vec::new();
        let mut channels = self.width;
        for (stage, &count) in repeats.iter().enumerate() {
            let width = self.width << stage;
            for i in 0..count {
                let stride = if stage > 0 && i == 0 { 2 } else { 1 };
                let out = width * expansion;
                if bottleneck {
                    bottlenecks.push(BottleneckConfig::new(channels, width, out).with_stride(stride).init(device));
                } else {
                    basic_blocks.push(BasicBlockConfig::new(channels, out).with_stride(stride).init(device));
                }
                channels = out;
            }
        }
        ResNet {
            stem: ConvNormActConfig::new(self.in_channels, self.width, 7).with_stride(self.stem_stride).init(device),
            stem_pool: self.stem_pool.then(super::stem_max_pool),
            basic_blocks,
            bottlenecks,
            head: ClassifierHeadConfig::new(channels, self.num_classes).init(device),
        }
    }

    pub fn validate(&self) -> Result<(), VisionError> {
        resnet_layout(self.depth)
            .map(drop)
            .ok_or_else(|| VisionError::Config(format!("depth {} is not one of 18, 34, 50, 101, 152", self.depth)))
    }
}

impl<B: Backend> ResNet<B> {
    pub fn forward(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        let mut x = self.stem.forward(images);
        if let Some(pool) = &self.stem_pool {
            x = pool.forward(x);
        }
        let x = self.basic_blocks.iter().fold(x, |x, block| block.forward(x));
        let x = self.bottlenecks.iter().fold(x, |x, block| block.forward(x));
        self.head.forward(x)
    }
}

impl<B: Backend> ImageClassifier<B> for ResNet<B> {
    fn logits(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        self.forward(images)
    }

    fn complexity(&self, input: [usize; 3]) -> Complexity {
        let mut trace = ShapeTrace::new(input).then(&self.stem);
        if self.stem_pool.is_some() {
            trace = trace.pool(3, 2, 1, false); // the stem max-pool
        }
        trace.then(&self.basic_blocks).then(&self.bottlenecks).then(&self.head).finish()
    }
}

impl ModelFamily for ResNetConfig {
    const VARIANTS: &'static [Variant<Self>] = &[
        Variant::new("resnet18", "ResNet-18, He et al. 2016 (11,689,512 parameters)", IMAGENET_INPUT, || {
            ResNetConfig::new(18)
        }),
        Variant::new("resnet34", "ResNet-34, He et al. 2016 (21,797,672 parameters)", IMAGENET_INPUT, || {
            ResNetConfig::new(34)
        }),
        Variant::new("resnet50", "ResNet-50 v1.5, He et al. 2016 (25,557,032 parameters)", IMAGENET_INPUT, || {
            ResNetConfig::new(50)
        }),
        Variant::new("resnet101", "ResNet-101 v1.5, He et al. 2016", IMAGENET_INPUT, || ResNetConfig::new(101)),
        Variant::new("resnet152", "ResNet-152 v1.5, He et al. 2016", IMAGENET_INPUT, || ResNetConfig::new(152)),
    ];

    fn check(&self) -> Result<(), VisionError> {
        self.validate()
    }
}

impl ClassifierFamily for ResNetConfig {
    fn init_with<B: AutodiffBackend, J: OnClassifier<B>>(&self, device: &B::Device, job: J) -> J::Output {
        job.run(self.init::<B>(device))
    }
}
