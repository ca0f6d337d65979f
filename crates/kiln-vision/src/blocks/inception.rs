//! The Inception module of GoogLeNet (Szegedy et al. 2015, Fig. 2b): parallel 1×1, 1×1→3×3,
//! 1×1→5×5 and 3×3-max-pool→1×1 branches concatenated along channels, so one layer sees several
//! scales while the 1×1 reductions keep the cost down.

use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::PaddingConfig2d;
use burn::prelude::*;

use crate::blocks::{ConvNormAct, ConvNormActConfig};
use crate::complexity::{ShapeTrace, Traceable};

/// Channel counts as in Table 1 of the paper ("#1×1", "#3×3 reduce", …, "pool proj").
///
/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::blocks::InceptionConfig;
/// // inception (3a)
/// let block = InceptionConfig::new(192, 64, 96, 128, 16, 32, 32).init::<NdArray>(&Default::default());
/// let y = block.forward(Tensor::zeros([1, 192, 28, 28], &Default::default()));
/// assert_eq!(y.dims(), [1, 256, 28, 28]);
/// ```
#[derive(Config, Debug)]
pub struct InceptionConfig {
    pub in_channels: usize,
    pub ch1x1: usize,
    pub ch3x3_reduce: usize,
    pub ch3x3: usize,
    pub ch5x5_reduce: usize,
    pub ch5x5: usize,
    pub pool_proj: usize,
    /// Kernel of the "5×5" branch. The paper's is 5; torchvision's GoogLeNet, whose published
    /// parameter count kiln matches by default, uses 3 there (a known bug it keeps for weight
    /// compatibility).
    #[config(default = 5)]
    pub large_kernel: usize,
    /// torchvision's GoogLeNet adds batch norm with ε = 0.001 to every convolution.
    #[config(default = 1e-3)]
    pub norm_epsilon: f64,
}

#[derive(Module, Debug)]
pub struct Inception<B: Backend> {
    pub branch1x1: ConvNormAct<B>,
    pub branch3x3: Vec<ConvNormAct<B>>,
    pub branch5x5: Vec<ConvNormAct<B>>,
    pub pool: MaxPool2d,
    pub pool_proj: ConvNormAct<B>,
}

impl InceptionConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> Inception<B> {
        let conv =
            |cin, cout, k| ConvNormActConfig::new(cin, cout, k).with_norm_epsilon(self.norm_epsilon).init(device);
        Inception {
            branch1x1: conv(self.in_channels, self.ch1x1, 1),
            branch3x3: vec![conv(self.in_channels, self.ch3x3_reduce, 1), conv(self.ch3x3_reduce, self.ch3x3, 3)],
            branch5x5: vec![
                conv(self.in_channels, self.ch5x5_reduce, 1),
                conv(self.ch5x5_reduce, self.ch5x5, self.large_kernel),
            ],
            pool: MaxPool2dConfig::new([3, 3])
                .with_strides([1, 1])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(),
            pool_proj: conv(self.in_channels, self.pool_proj, 1),
        }
    }

    /// Channels of the concatenated output.
    pub fn out_channels(&self) -> usize {
        self.ch1x1 + self.ch3x3 + self.ch5x5 + self.pool_proj
    }
}

impl<B: Backend> Inception<B> {
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        Tensor::cat(
            vec![
                self.branch1x1.forward(x.clone()),
                ConvNormAct::forward_sequence(&self.branch3x3, x.clone()),
                ConvNormAct::forward_sequence(&self.branch5x5, x.clone()),
                self.pool_proj.forward(self.pool.forward(x)),
            ],
            1,
        )
    }
}

impl<B: Backend> Traceable for Inception<B> {
    fn trace(&self, input: ShapeTrace) -> ShapeTrace {
        let branches = [
            input.fork().then(&self.branch1x1),
            input.fork().then(&self.branch3x3),
            input.fork().then(&self.branch5x5),
            input.fork().then(&self.pool_proj),
        ];
        input.concat(branches)
    }
}
