//! Depthwise-separable convolution (Howard et al. 2017, MobileNets, Sec. 3.1 and Fig. 3): a 3×3
//! depthwise convolution filters each channel, a 1×1 pointwise convolution mixes them, at about
//! 1/N + 1/9 of a full convolution's cost (eq. 5).

use burn::prelude::*;

use crate::blocks::{ConvNormAct, ConvNormActConfig};
use crate::complexity::{ShapeTrace, Traceable};
use crate::Activation;

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::blocks::DepthwiseSeparableConfig;
/// let block = DepthwiseSeparableConfig::new(32, 64).init::<NdArray>(&Default::default());
/// let y = block.forward(Tensor::zeros([1, 32, 14, 14], &Default::default()));
/// assert_eq!(y.dims(), [1, 64, 14, 14]);
/// ```
#[derive(Config, Debug)]
pub struct DepthwiseSeparableConfig {
    pub in_channels: usize,
    pub out_channels: usize,
    #[config(default = 1)]
    pub stride: usize,
    #[config(default = 3)]
    pub kernel_size: usize,
    /// The paper uses ReLU; many ports use ReLU6.
    #[config(default = "Activation::Relu")]
    pub activation: Activation,
}

#[derive(Module, Debug)]
pub struct DepthwiseSeparable<B: Backend> {
    pub depthwise: ConvNormAct<B>,
    pub pointwise: ConvNormAct<B>,
}

impl DepthwiseSeparableConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> DepthwiseSeparable<B> {
        let c = self.in_channels;
        DepthwiseSeparable {
            depthwise: ConvNormActConfig::new(c, c, self.kernel_size)
                .with_stride(self.stride)
                .with_groups(c)
                .with_activation(self.activation)
                .init(device),
            pointwise: ConvNormActConfig::new(c, self.out_channels, 1).with_activation(self.activation).init(device),
        }
    }
}

impl<B: Backend> DepthwiseSeparable<B> {
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        self.pointwise.forward(self.depthwise.forward(x))
    }
}

impl<B: Backend> Traceable for DepthwiseSeparable<B> {
    fn trace(&self, input: ShapeTrace) -> ShapeTrace {
        input.then(&self.depthwise).then(&self.pointwise)
    }
}
