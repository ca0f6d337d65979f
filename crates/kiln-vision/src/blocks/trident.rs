//! TridentNet's scale-aware trident block (Li, Chen, Wang, Zhang 2019, "Scale-Aware Trident
//! Networks for Object Detection", Sec. 3.1–3.2): a ResNet bottleneck (1×1 reduce → 3×3 → 1×1
//! expand, residual) run as parallel branches that differ only in the dilation of the 3×3 (1, 2, 3
//! by default), so each branch has a receptive field matched to one object scale.
//!
//! The branches share one parameter set (Sec. 3.2, "weight sharing"), so the block has exactly the
//! parameters of a single bottleneck and every branch trains on objects of all scales. Batch norm
//! is shared too (Detectron2's TridentNet applies one norm layer to every branch of its trident
//! convolution): one γ, β and one set of running statistics serve all branches; in training each
//! branch normalises with its own batch statistics. Detectors usually freeze these layers.

use burn::prelude::*;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;

use crate::blocks::{Bottleneck, BottleneckConfig};
use crate::complexity::{ShapeTrace, Traceable};
use crate::Activation;

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::blocks::TridentBlockConfig;
/// let block = TridentBlockConfig::new(32, 8, 32).init::<NdArray>(&Default::default());
/// let branches = block.forward(Tensor::zeros([2, 32, 14, 14], &Default::default()));
/// assert_eq!(branches.len(), 3);
/// assert!(branches.iter().all(|y| y.dims() == [2, 32, 14, 14]));
/// ```
#[derive(Config, Debug)]
pub struct TridentBlockConfig {
    pub in_channels: usize,
    /// Channels of the 1×1 reduce and the 3×3 (the bottleneck width).
    pub width: usize,
    pub out_channels: usize,
    /// Dilation of the shared 3×3 in each branch; one branch per entry.
    #[config(default = "vec![1, 2, 3]")]
    pub dilations: Vec<usize>,
    /// Stride of the 3×3 (ResNet v1.5 placement) and of the projection shortcut.
    #[config(default = 1)]
    pub stride: usize,
    #[config(default = 1)]
    pub groups: usize,
}

#[derive(Module, Debug)]
pub struct TridentBlock<B: Backend> {
    /// The one parameter set: a plain bottleneck whose 3×3 weight every branch applies at its
    /// own dilation, padded by the dilation so that all branches keep the same size.
    pub bottleneck: Bottleneck<B>,
    #[module(skip)]
    pub dilations: Vec<usize>,
}

impl TridentBlockConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> TridentBlock<B> {
        assert!(!self.dilations.is_empty(), "a trident block needs at least one branch");
        TridentBlock {
            bottleneck: BottleneckConfig::new(self.in_channels, self.width, self.out_channels)
                .with_stride(self.stride)
                .with_groups(self.groups)
                .init(device),
            dilations: self.dilations.clone(),
        }
    }
}

impl<B: Backend> TridentBlock<B> {
    /// Runs every branch on the same input (the first trident block of a stage).
    pub fn forward(&self, x: Tensor<B, 4>) -> Vec<Tensor<B, 4>> {
        self.dilations.iter().map(|&d| self.forward_branch(x.clone(), d)).collect()
    }

    /// Runs branch i on `inputs[i]` (later blocks, which continue each branch separately).
    pub fn forward_branches(&self, inputs: Vec<Tensor<B, 4>>) -> Vec<Tensor<B, 4>> {
        assert_eq!(inputs.len(), self.dilations.len(), "one input per branch");
        inputs.into_iter().zip(&self.dilations).map(|(x, &d)| self.forward_branch(x, d)).collect()
    }

    /// The shared bottleneck with its 3×3 dilated (and padded) by `dilation`.
    pub fn forward_branch(&self, x: Tensor<B, 4>, dilation: usize) -> Tensor<B, 4> {
        let block = &self.bottleneck;
        let identity = match &block.shortcut {
            Some(projection) => projection.forward(x.clone()),
            None => x.clone(),
        };
        let y = block.reduce.forward(x);
        let conv = &block.conv.conv;
        let options = ConvOptions::new(conv.stride, [dilation; 2], [dilation; 2], conv.groups);
        let y = conv2d(y, conv.weight.val(), conv.bias.as_ref().map(|b| b.val()), options);
        let y = block.conv.activation.apply(crate::blocks::batch_norm_2d(&block.conv.norm, y));
        let y = block.expand.forward(y);
        Activation::Relu.apply(y + identity)
    }
}

impl<B: Backend> Traceable for TridentBlock<B> {
    /// One branch's output shape and the cost of all branches: the weights are shared, the work
    /// is not. Dilation with matching padding changes neither.
    fn trace(&self, input: ShapeTrace) -> ShapeTrace {
        let branch = self.bottleneck.trace(input.fork());
        input.add_multiply_adds(branch.multiply_adds * self.dilations.len() as u64).reshape(branch.shape)
    }
}
