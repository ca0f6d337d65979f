//! GoogLeNet, Inception v1 (Szegedy et al. 2015, Table 1), without the auxiliary classifiers,
//! with batch norm after every convolution as in torchvision's version.

use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::prelude::*;

use crate::blocks::{ClassifierHead, ClassifierHeadConfig, ConvNormAct, ConvNormActConfig, Inception, InceptionConfig};
use crate::complexity::ShapeTrace;
use crate::family::{ClassifierFamily, ModelFamily, OnClassifier, Variant, IMAGENET_INPUT};
use crate::{Complexity, ImageClassifier};
use burn::tensor::backend::AutodiffBackend;

/// Table 1's inception rows: in, #1×1, #3×3 reduce, #3×3, #5×5 reduce, #5×5, pool proj; a
/// stride-2 max-pool precedes stages 4 and 5.
const STAGES: [&[[usize; 7]]; 3] = [
    &[[192, 64, 96, 128, 16, 32, 32], [256, 128, 128, 192, 32, 96, 64]],
    &[
        [480, 192, 96, 208, 16, 48, 64],
        [512, 160, 112, 224, 24, 64, 64],
        [512, 128, 128, 256, 24, 64, 64],
        [512, 112, 144, 288, 32, 64, 64],
        [528, 256, 160, 320, 32, 128, 128],
    ],
    &[[832, 256, 160, 320, 32, 128, 128], [832, 384, 192, 384, 48, 128, 128]],
];

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::backbones::GoogLeNetConfig;
/// let net = GoogLeNetConfig::new().with_num_classes(10).with_in_channels(1).with_stem_stride(1)
///     .with_stem_pool(false).init::<NdArray>(&Default::default());
/// assert_eq!(net.forward(Tensor::zeros([1, 1, 28, 28], &Default::default())).dims(), [1, 10]);
/// ```
#[derive(Config, Debug)]
pub struct GoogLeNetConfig {
    #[config(default = 1000)]
    pub num_classes: usize,
    #[config(default = 3)]
    pub in_channels: usize,
    /// 3 reproduces torchvision's GoogLeNet and its published 6,624,904 parameters; 5 is the
    /// paper's "5×5" branch (380,928 parameters more).
    #[config(default = 3)]
    pub large_kernel: usize,
    #[config(default = 0.2)]
    pub dropout: f64,
    #[config(default = 2)]
    pub stem_stride: usize,
    /// The two stride-2 max-pools of the stem.
    #[config(default = true)]
    pub stem_pool: bool,
}

#[derive(Module, Debug)]
pub struct GoogLeNet<B: Backend> {
    pub stem: Vec<ConvNormAct<B>>,
    pub stages: Vec<Vec<Inception<B>>>,
    /// 3×3 stride 2 (ceil mode) after the stem's two convolution groups, before stage 4, and
    /// 2×2 before stage 5.
    pub pools: Vec<MaxPool2d>,
    pub head: ClassifierHead<B>,
    #[module(skip)]
    stem_pool: bool,
}

fn pool(kernel: usize) -> MaxPool2d {
    MaxPool2dConfig::new([kernel; 2]).with_strides([2, 2]).with_ceil_mode(true).init()
}

impl GoogLeNetConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> GoogLeNet<B> {
        let conv = |cin, cout, k| ConvNormActConfig::new(cin, cout, k).with_norm_epsilon(1e-3);
        GoogLeNet {
            stem: vec![
                conv(self.in_channels, 64, 7).with_stride(self.stem_stride).init(device),
                conv(64, 64, 1).init(device),
                conv(64, 192, 3).init(device),
            ],
            stages: STAGES
                .iter()
                .map(|rows| {
                    rows.iter()
                        .map(|&[cin, c1, r3, c3, r5, c5, pp]| {
                            InceptionConfig::new(cin, c1, r3, c3, r5, c5, pp)
                                .with_large_kernel(self.large_kernel)
                                .init(device)
                        })
                        .collect()
                })
                .collect(),
            pools: vec![pool(3), pool(3), pool(3), pool(2)],
            head: ClassifierHeadConfig::new(1024, self.num_classes).with_dropout(self.dropout).init(device),
            stem_pool: self.stem_pool,
        }
    }
}

impl<B: Backend> GoogLeNet<B> {
    pub fn forward(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        let stem_pool = |i: usize, x: Tensor<B, 4>| if self.stem_pool { self.pools[i].forward(x) } else { x };
        let x = stem_pool(0, self.stem[0].forward(images));
        let mut x = stem_pool(1, self.stem[2].forward(self.stem[1].forward(x)));
        for (i, stage) in self.stages.iter().enumerate() {
            if i > 0 {
                x = self.pools[i + 1].forward(x);
            }
            x = stage.iter().fold(x, |x, block| block.forward(x));
        }
        self.head.forward(x)
    }
}

impl<B: Backend> ImageClassifier<B> for GoogLeNet<B> {
    fn logits(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        self.forward(images)
    }

    fn complexity(&self, input: [usize; 3]) -> Complexity {
        let stem_pool = |t: ShapeTrace| if self.stem_pool { t.pool(3, 2, 0, true) } else { t };
        let mut trace = stem_pool(ShapeTrace::new(input).then(&self.stem[0]));
        trace = stem_pool(trace.then(&self.stem[1]).then(&self.stem[2]));
        for (i, stage) in self.stages.iter().enumerate() {
            if i > 0 {
                let kernel = self.pools[i + 1].kernel_size[0];
                trace = trace.pool(kernel, 2, 0, true);
            }
            trace = trace.then(stage);
        }
        trace.then(&self.head).finish()
    }
}

impl ModelFamily for GoogLeNetConfig {
    const VARIANTS: &'static [Variant<Self>] = &[Variant::new(
        "googlenet",
        "GoogLeNet / Inception v1 with batch norm, Szegedy et al. 2015 (6,624,904 parameters)",
        IMAGENET_INPUT,
        GoogLeNetConfig::new,
    )];
}

impl ClassifierFamily for GoogLeNetConfig {
    fn init_with<B: AutodiffBackend, J: OnClassifier<B>>(&self, device: &B::Device, job: J) -> J::Output {
        job.run(self.init::<B>(device))
    }
}
