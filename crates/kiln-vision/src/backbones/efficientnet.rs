//! EfficientNet (Tan & Le 2019): the B0 baseline of Table 1 (MBConv stages found by architecture
//! search) scaled in depth, width and resolution together. Compound scaling (Sec. 3.3, eq. 3)
//! sets depth d = α^φ, width w = β^φ and resolution r = γ^φ with α = 1.2, β = 1.1, γ = 1.15;
//! channels are rounded to multiples of 8 and repeats up ([`crate::scaling`]), so every variant
//! is generated from B0 by the same rule.

use burn::prelude::*;

use crate::blocks::{ClassifierHead, ClassifierHeadConfig, ConvNormAct, ConvNormActConfig, MbConv, MbConvConfig};
use crate::complexity::ShapeTrace;
use crate::family::{ClassifierFamily, ModelFamily, OnClassifier, Variant, IMAGENET_INPUT};
use crate::scaling::{make_divisible, round_repeats};
use crate::{Activation, Complexity, ImageClassifier};
use burn::tensor::backend::AutodiffBackend;

/// Table 1 (B0): expansion, kernel, first stride, output channels, repeats.
const STAGES: [(usize, usize, usize, usize, usize); 7] = [
    (1, 3, 1, 16, 1),
    (6, 3, 2, 24, 2),
    (6, 5, 2, 40, 2),
    (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3),
    (6, 5, 2, 192, 4),
    (6, 3, 1, 320, 1),
];

/// The compound-scaling constants of Sec. 3.3, found by grid search under α·β²·γ² ≈ 2.
pub const DEPTH_BASE: f64 = 1.2;
pub const WIDTH_BASE: f64 = 1.1;
pub const RESOLUTION_BASE: f64 = 1.15;

/// (width, depth, resolution, dropout) of the released B0–B7. The authors rounded and tuned
/// the coefficients of φ = 1…7 before release (the official `efficientnet_params`); the
/// published parameter counts and every pretrained B1–B7 are of these networks, so kiln's named
/// variants use them, and [`EfficientNetConfig::compound`] gives the exact α^φ rule for any φ.
const RELEASED: [(f64, f64, usize, f64); 8] = [
    (1.0, 1.0, 224, 0.2),
    (1.0, 1.1, 240, 0.2),
    (1.1, 1.2, 260, 0.3),
    (1.2, 1.4, 300, 0.3),
    (1.4, 1.8, 380, 0.4),
    (1.6, 2.2, 456, 0.4),
    (1.8, 2.6, 528, 0.5),
    (2.0, 3.1, 600, 0.5),
];

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::backbones::EfficientNetConfig;
/// let config = EfficientNetConfig::b(0).with_num_classes(10).with_in_channels(1).with_stem_stride(1);
/// let net = config.init::<NdArray>(&Default::default());
/// assert_eq!(net.forward(Tensor::zeros([1, 1, 28, 28], &Default::default())).dims(), [1, 10]);
/// ```
#[derive(Config, Debug)]
pub struct EfficientNetConfig {
    #[config(default = 1.0)]
    pub width_coefficient: f64,
    #[config(default = 1.0)]
    pub depth_coefficient: f64,
    /// Input side the variant is meant for (224 for B0); informational, any size runs.
    #[config(default = 224)]
    pub resolution: usize,
    #[config(default = 0.2)]
    pub dropout: f64,
    /// Stochastic-depth probability of the last block; earlier blocks get linearly less.
    #[config(default = 0.2)]
    pub stochastic_depth: f64,
    #[config(default = 1000)]
    pub num_classes: usize,
    #[config(default = 3)]
    pub in_channels: usize,
    #[config(default = 2)]
    pub stem_stride: usize,
}

impl EfficientNetConfig {
    /// The released EfficientNet-B`n`, n ∈ 0..=7.
    pub fn b(n: usize) -> Self {
        let (width, depth, resolution, dropout) = RELEASED[n.min(7)];
        Self::new()
            .with_width_coefficient(width)
            .with_depth_coefficient(depth)
            .with_resolution(resolution)
            .with_dropout(dropout)
    }

    /// Compound scaling of B0 by φ (eq. 3): d = 1.2^φ, w = 1.1^φ, r = 224·1.15^φ.
    pub fn compound(phi: f64) -> Self {
        Self::new()
            .with_depth_coefficient(DEPTH_BASE.powf(phi))
            .with_width_coefficient(WIDTH_BASE.powf(phi))
            .with_resolution((224.0 * RESOLUTION_BASE.powf(phi)).round() as usize)
    }

    fn channels(&self, base: usize) -> usize {
        make_divisible(base as f64 * self.width_coefficient, 8)
    }
}

#[derive(Module, Debug)]
pub struct EfficientNet<B: Backend> {
    pub stem: ConvNormAct<B>,
    pub blocks: Vec<MbConv<B>>,
    pub last: ConvNormAct<B>,
    pub head: ClassifierHead<B>,
}

impl EfficientNetConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> EfficientNet<B> {
        let conv = |cin, cout, k| {
            ConvNormActConfig::new(cin, cout, k).with_activation(Activation::Silu).with_norm_epsilon(1e-3)
        };
        let mut channels = self.channels(32);
        let stem = conv(self.in_channels, channels, 3).with_stride(self.stem_stride).init(device);
        let total: usize = STAGES.iter().map(|s| round_repeats(s.4, self.depth_coefficient)).sum();
        let mut blocks = Vec::with_capacity(total);
        for &(expand, kernel, stride, out, repeats) in &STAGES {
            let out = self.channels(out);
            for i in 0..round_repeats(repeats, self.depth_coefficient) {
                let drop_prob = self.stochastic_depth * blocks.len() as f64 / total as f64;
                blocks.push(
                    MbConvConfig::new(channels, out, expand, kernel)
                        .with_stride(if i == 0 { stride } else { 1 })
                        .with_drop_prob(drop_prob)
                        .init(device),
                );
                channels = out;
            }
        }
        let last_channels = 4 * channels;
        EfficientNet {
            stem,
            blocks,
            last: conv(channels, last_channels, 1).init(device),
            head: ClassifierHeadConfig::new(last_channels, self.num_classes).with_dropout(self.dropout).init(device),
        }
    }
}

impl<B: Backend> EfficientNet<B> {
    pub fn forward(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        let x = self.blocks.iter().fold(self.stem.forward(images), |x, block| block.forward(x));
        self.head.forward(self.last.forward(x))
    }
}

impl<B: Backend> ImageClassifier<B> for EfficientNet<B> {
    fn logits(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        self.forward(images)
    }

    fn complexity(&self, input: [usize; 3]) -> Complexity {
        ShapeTrace::new(input).then(&self.stem).then(&self.blocks).then(&self.last).then(&self.head).finish()
    }
}

impl ModelFamily for EfficientNetConfig {
    const VARIANTS: &'static [Variant<Self>] = &[
        Variant::new(
            "efficientnet_b0",
            "EfficientNet-B0, Tan & Le 2019 (5,288,548 parameters)",
            IMAGENET_INPUT,
            || EfficientNetConfig::b(0),
        ),
        Variant::new(
            "efficientnet_b1",
            "EfficientNet-B1, compound-scaled B0 (7,794,184 parameters)",
            [3, 240, 240],
            || EfficientNetConfig::b(1),
        ),
        Variant::new(
            "efficientnet_b2",
            "EfficientNet-B2, compound-scaled B0 (9,109,994 parameters)",
            [3, 260, 260],
            || EfficientNetConfig::b(2),
        ),
        Variant::new(
            "efficientnet_b3",
            "EfficientNet-B3, compound-scaled B0 (12,233,232 parameters)",
            [3, 300, 300],
            || EfficientNetConfig::b(3),
        ),
        Variant::new(
            "efficientnet_b4",
            "EfficientNet-B4, compound-scaled B0 (19,341,616 parameters)",
            [3, 380, 380],
            || EfficientNetConfig::b(4),
        ),
        Variant::new(
            "efficientnet_b5",
            "EfficientNet-B5, compound-scaled B0 (30,389,784 parameters)",
            [3, 456, 456],
            || EfficientNetConfig::b(5),
        ),
        Variant::new(
            "efficientnet_b6",
            "EfficientNet-B6, compound-scaled B0 (43,040,704 parameters)",
            [3, 528, 528],
            || EfficientNetConfig::b(6),
        ),
        Variant::new(
            "efficientnet_b7",
            "EfficientNet-B7, compound-scaled B0 (66,347,960 parameters)",
            [3, 600, 600],
            || EfficientNetConfig::b(7),
        ),
    ];
}

impl ClassifierFamily for EfficientNetConfig {
    fn init_with<B: AutodiffBackend, J: OnClassifier<B>>(&self, device: &B::Device, job: J) -> J::Output {
        job.run(self.init::<B>(device))
    }
}
