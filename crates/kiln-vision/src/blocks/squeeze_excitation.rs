//! Squeeze-and-excitation (Hu et al. 2018, Fig. 2): global average pooling "squeezes" each
//! channel to a number, a two-layer bottleneck "excites" per-channel gates in (0, 1) that rescale
//! the feature map, so the block can weigh channels by global context.

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;

use crate::complexity::{ShapeTrace, Traceable};
use crate::Activation;

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::blocks::SqueezeExcitationConfig;
/// let se = SqueezeExcitationConfig::new(64, 16).init::<NdArray>(&Default::default());
/// let y = se.forward(Tensor::ones([2, 64, 7, 7], &Default::default()));
/// assert_eq!(y.dims(), [2, 64, 7, 7]);
/// ```
#[derive(Config, Debug)]
pub struct SqueezeExcitationConfig {
    pub channels: usize,
    /// Width of the bottleneck: channels / r with the paper's reduction r = 16; EfficientNet
    /// uses a quarter of the block's input channels.
    pub squeeze_channels: usize,
    /// ReLU in the paper; SiLU in EfficientNet.
    #[config(default = "Activation::Relu")]
    pub activation: Activation,
}

#[derive(Module, Debug)]
pub struct SqueezeExcitation<B: Backend> {
    /// Equal to a 1×1 convolution on the pooled map (same weights and biases).
    pub reduce: Linear<B>,
    pub expand: Linear<B>,
    #[module(skip)]
    pub activation: Activation,
}

impl SqueezeExcitationConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> SqueezeExcitation<B> {
        SqueezeExcitation {
            reduce: LinearConfig::new(self.channels, self.squeeze_channels).init(device),
            expand: LinearConfig::new(self.squeeze_channels, self.channels).init(device),
            activation: self.activation,
        }
    }
}

impl<B: Backend> SqueezeExcitation<B> {
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let [n, c, _, _] = x.dims();
        let squeezed = x.clone().mean_dim(2).mean_dim(3).reshape([n, c]);
        let gates = self.expand.forward(self.activation.apply(self.reduce.forward(squeezed)));
        x * burn::tensor::activation::sigmoid(gates).reshape([n, c, 1, 1])
    }
}

impl<B: Backend> Traceable for SqueezeExcitation<B> {
    fn trace(&self, input: ShapeTrace) -> ShapeTrace {
        let [c, s] = [self.reduce.weight.dims()[0], self.reduce.weight.dims()[1]];
        input.add_multiply_adds(2 * (c * s) as u64)
    }
}
