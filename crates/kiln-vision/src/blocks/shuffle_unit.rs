//! The ShuffleNetV2 unit (Ma et al. 2018, Fig. 3c/d). Stride 1: split the channels in two, pass
//! one half through, transform the other with 1×1 → 3×3 depthwise → 1×1, concatenate and shuffle
//! (equal widths and no grouped 1×1, following the paper's guidelines G1–G4). Stride 2: both
//! halves are transformed from the full input, doubling the channels while halving the size.
//! ThunderNet's SNet uses the same unit with a 5×5 depthwise kernel.

use burn::prelude::*;

use crate::blocks::{channel_shuffle, ConvNormAct, ConvNormActConfig};
use crate::complexity::{ShapeTrace, Traceable};
use crate::Activation;

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::blocks::ShuffleUnitConfig;
/// let down = ShuffleUnitConfig::new(24, 116).with_stride(2).init::<NdArray>(&Default::default());
/// let y = down.forward(Tensor::zeros([1, 24, 56, 56], &Default::default()));
/// assert_eq!(y.dims(), [1, 116, 28, 28]);
/// ```
#[derive(Config, Debug)]
pub struct ShuffleUnitConfig {
    pub in_channels: usize,
    pub out_channels: usize,
    #[config(default = 1)]
    pub stride: usize,
    /// 3 in ShuffleNetV2, 5 in ThunderNet's SNet.
    #[config(default = 3)]
    pub depthwise_kernel: usize,
}

#[derive(Module, Debug)]
pub struct ShuffleUnit<B: Backend> {
    /// The transformed half of a stride-2 unit's left branch (depthwise then 1×1); absent at stride 1.
    pub shortcut_branch: Vec<ConvNormAct<B>>,
    /// 1×1 → depthwise → 1×1.
    pub branch: Vec<ConvNormAct<B>>,
}

impl ShuffleUnitConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> ShuffleUnit<B> {
        let half = self.out_channels / 2;
        let k = self.depthwise_kernel;
        let depthwise = |c: usize| {
            ConvNormActConfig::new(c, c, k)
                .with_stride(self.stride)
                .with_groups(c)
                .with_activation(Activation::Identity)
        };
        let pointwise = |cin, cout| ConvNormActConfig::new(cin, cout, 1);
        let downsampling = self.stride > 1;
        let branch_input = if downsampling { self.in_channels } else { half };
        ShuffleUnit {
            shortcut_branch: if downsampling {
                vec![depthwise(self.in_channels).init(device), pointwise(self.in_channels, half).init(device)]
            } else {
                Vec::new()
            },
            branch: vec![
                pointwise(branch_input, half).init(device),
                depthwise(half).init(device),
                pointwise(half, half).init(device),
            ],
        }
    }
}

impl<B: Backend> ShuffleUnit<B> {
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let joined = if self.shortcut_branch.is_empty() {
            let mut halves = x.chunk(2, 1).into_iter();
            let (left, right) = (halves.next().unwrap(), halves.next().unwrap());
            Tensor::cat(vec![left, ConvNormAct::forward_sequence(&self.branch, right)], 1)
        } else {
            Tensor::cat(
                vec![
                    ConvNormAct::forward_sequence(&self.shortcut_branch, x.clone()),
                    ConvNormAct::forward_sequence(&self.branch, x),
                ],
                1,
            )
        };
        channel_shuffle(joined, 2)
    }
}

impl<B: Backend> Traceable for ShuffleUnit<B> {
    fn trace(&self, input: ShapeTrace) -> ShapeTrace {
        if self.shortcut_branch.is_empty() {
            let [c, h, w] = input.shape;
            let half = input.fork().reshape([c / 2, h, w]);
            input.concat([half, half.then(&self.branch)])
        } else {
            input.concat([input.fork().then(&self.shortcut_branch), input.fork().then(&self.branch)])
        }
    }
}
