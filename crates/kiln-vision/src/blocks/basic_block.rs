//! ResNet's basic residual block (He et al. 2016, Fig. 2 left): two 3×3 convolutions with an
//! identity shortcut, or a 1×1 projection when the shape changes (option B, Sec. 3.3).

use burn::prelude::*;

use crate::blocks::{ConvNormAct, ConvNormActConfig};
use crate::complexity::{ShapeTrace, Traceable};
use crate::Activation;

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::blocks::BasicBlockConfig;
/// let block = BasicBlockConfig::new(64, 128).with_stride(2).init::<NdArray>(&Default::default());
/// let y = block.forward(Tensor::zeros([1, 64, 16, 16], &Default::default()));
/// assert_eq!(y.dims(), [1, 128, 8, 8]);
/// ```
#[derive(Config, Debug)]
pub struct BasicBlockConfig {
    pub in_channels: usize,
    pub out_channels: usize,
    #[config(default = 1)]
    pub stride: usize,
}

#[derive(Module, Debug)]
pub struct BasicBlock<B: Backend> {
    pub conv1: ConvNormAct<B>,
    /// Linear: the ReLU comes after the sum.
    pub conv2: ConvNormAct<B>,
    /// 1×1 projection when stride or channels change, else the identity.
    pub shortcut: Option<ConvNormAct<B>>,
}

impl BasicBlockConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> BasicBlock<B> {
        let (cin, cout) = (self.in_channels, self.out_channels);
        BasicBlock {
            conv1: ConvNormActConfig::new(cin, cout, 3).with_stride(self.stride).init(device),
            conv2: ConvNormActConfig::new(cout, cout, 3).with_activation(Activation::Identity).init(device),
            shortcut: (self.stride != 1 || cin != cout).then(|| {
                ConvNormActConfig::new(cin, cout, 1)
                    .with_stride(self.stride)
                    .with_activation(Activation::Identity)
                    .init(device)
            }),
        }
    }
}

impl<B: Backend> BasicBlock<B> {
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let identity = match &self.shortcut {
            Some(projection) => projection.forward(x.clone()),
            None => x.clone(),
        };
        burn::tensor::activation::relu(self.conv2.forward(self.conv1.forward(x)) + identity)
    }
}

impl<B: Backend> Traceable for BasicBlock<B> {
    fn trace(&self, input: ShapeTrace) -> ShapeTrace {
        let shortcut = match &self.shortcut {
            Some(projection) => input.fork().then(projection),
            None => input.fork(),
        };
        input.then(&self.conv1).then(&self.conv2).add(shortcut)
    }
}
