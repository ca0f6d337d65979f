//! Convolution → batch normalisation → activation, the unit every modern CNN is built from
//! (Ioffe & Szegedy 2015). The convolution has no bias: batch norm's β supplies it.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::prelude::*;

use crate::complexity::{ShapeTrace, Traceable};
use crate::Activation;

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::blocks::ConvNormActConfig;
/// let block = ConvNormActConfig::new(3, 16, 3).with_stride(2).init::<NdArray>(&Default::default());
/// let y = block.forward(Tensor::zeros([1, 3, 32, 32], &Default::default()));
/// assert_eq!(y.dims(), [1, 16, 16, 16]);
/// ```
#[derive(Config, Debug)]
pub struct ConvNormActConfig {
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel_size: usize,
    #[config(default = 1)]
    pub stride: usize,
    /// Channel groups; `groups = in_channels = out_channels` is a depthwise convolution.
    #[config(default = 1)]
    pub groups: usize,
    #[config(default = 1)]
    pub dilation: usize,
    #[config(default = "Activation::Relu")]
    pub activation: Activation,
    #[config(default = 1e-5)]
    pub norm_epsilon: f64,
}

#[derive(Module, Debug)]
pub struct ConvNormAct<B: Backend> {
    pub conv: Conv2d<B>,
    pub norm: BatchNorm<B>,
    #[module(skip)]
    pub activation: Activation,
}

impl ConvNormActConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> ConvNormAct<B> {
        // "Same" padding for odd kernels: the output is input / stride, rounded up.
        let pad = self.dilation * (self.kernel_size - 1) / 2;
        ConvNormAct {
            conv: Conv2dConfig::new([self.in_channels, self.out_channels], [self.kernel_size; 2])
                .with_stride([self.stride; 2])
                .with_dilation([self.dilation; 2])
                .with_groups(self.groups)
                .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
                .with_bias(false)
                .init(device),
            norm: BatchNormConfig::new(self.out_channels).with_epsilon(self.norm_epsilon).init(device),
            activation: self.activation,
        }
    }
}

impl<B: Backend> ConvNormAct<B> {
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        self.activation.apply(super::batch_norm_2d(&self.norm, self.conv.forward(x)))
    }

    /// Runs `x` through `layers` in order (a branch of Inception or of a shuffle unit).
    pub fn forward_sequence(layers: &[Self], x: Tensor<B, 4>) -> Tensor<B, 4> {
        layers.iter().fold(x, |x, layer| layer.forward(x))
    }
}

impl<B: Backend> Traceable for ConvNormAct<B> {
    fn trace(&self, input: ShapeTrace) -> ShapeTrace {
        input.conv(&self.conv)
    }
}
