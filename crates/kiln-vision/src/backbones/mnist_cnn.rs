//! A stronger small CNN for 28×28 digits: two VGG-style stages of conv-BN-ReLU pairs
//! (Simonyan & Zisserman 2015) with batch normalisation (Ioffe & Szegedy 2015), then a
//! dropout-regularised classifier (Srivastava et al. 2014).
//!
//! [C→w, w] pool [2w, 2w] pool → FC hidden → dropout → FC classes.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::prelude::*;

use crate::family::{ClassifierFamily, ModelFamily, OnClassifier, Variant, DIGIT_INPUT};
use crate::VisionError;
use crate::{Complexity, ImageClassifier, ShapeTrace};
use burn::tensor::backend::AutodiffBackend;

#[derive(Config, Debug)]
pub struct MnistCnnConfig {
    #[config(default = 10)]
    pub num_classes: usize,
    #[config(default = 1)]
    pub in_channels: usize,
    /// Channels of the first stage; the second has twice as many.
    #[config(default = 32)]
    pub width: usize,
    #[config(default = 128)]
    pub hidden: usize,
    #[config(default = 0.25)]
    pub dropout: f64,
}

/// conv 3×3 (padding 1, no bias: batch norm supplies it) → batch norm → ReLU.
#[derive(Module, Debug)]
pub struct ConvBnRelu<B: Backend> {
    conv: Conv2d<B>,
    norm: BatchNorm<B>,
    relu: Relu,
}

impl<B: Backend> ConvBnRelu<B> {
    pub fn new(in_channels: usize, out_channels: usize, device: &B::Device) -> Self {
        Self {
            conv: Conv2dConfig::new([in_channels, out_channels], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .with_bias(false)
                .init(device),
            norm: BatchNormConfig::new(out_channels).init(device),
            relu: Relu::new(),
        }
    }

    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        self.relu.forward(crate::blocks::batch_norm_2d(&self.norm, self.conv.forward(x)))
    }

    pub fn out_channels(&self) -> usize {
        self.conv.weight.dims()[0]
    }
}

#[derive(Module, Debug)]
pub struct MnistCnn<B: Backend> {
    stage1: Vec<ConvBnRelu<B>>,
    stage2: Vec<ConvBnRelu<B>>,
    pool: MaxPool2d,
    hidden: Linear<B>,
    dropout: Dropout,
    output: Linear<B>,
    relu: Relu,
}

impl MnistCnnConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> MnistCnn<B> {
        let (w1, w2) = (self.width, 2 * self.width);
        MnistCnn {
            stage1: vec![ConvBnRelu::new(self.in_channels, w1, device), ConvBnRelu::new(w1, w1, device)],
            stage2: vec![ConvBnRelu::new(w1, w2, device), ConvBnRelu::new(w2, w2, device)],
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            hidden: LinearConfig::new(w2 * 7 * 7, self.hidden).init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
            output: LinearConfig::new(self.hidden, self.num_classes).init(device),
            relu: Relu::new(),
        }
    }
}

impl<B: Backend> MnistCnn<B> {
    /// Images `[N, C, 28, 28]` to logits `[N, num_classes]`.
    pub fn forward(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        let x = self.pool.forward(self.stage1.iter().fold(images, |x, block| block.forward(x)));
        let x = self.pool.forward(self.stage2.iter().fold(x, |x, block| block.forward(x)));
        let x = self.relu.forward(self.hidden.forward(x.flatten::<2>(1, 3)));
        self.output.forward(self.dropout.forward(x))
    }
}

impl<B: Backend> ImageClassifier<B> for MnistCnn<B> {
    fn logits(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        self.forward(images)
    }

    fn complexity(&self, input: [usize; 3]) -> Complexity {
        let w1 = self.stage1[0].conv.weight.dims()[0];
        let w2 = 2 * w1;
        let [hidden, classes] = [self.hidden.weight.dims()[1], self.output.weight.dims()[1]];
        ShapeTrace::new(input)
            .conv2d(w1, 3, 1, 1, 1)
            .conv2d(w1, 3, 1, 1, 1)
            .pool2d(2, 2)
            .conv2d(w2, 3, 1, 1, 1)
            .conv2d(w2, 3, 1, 1, 1)
            .pool2d(2, 2)
            .linear(hidden)
            .linear(classes)
            .finish()
    }

    /// Two 2×2 poolings must leave 7×7 maps for the first fully connected layer.
    fn check_input(&self, [_, h, w]: [usize; 3]) -> Result<(), VisionError> {
        if h / 4 == 7 && w / 4 == 7 {
            Ok(())
        } else {
            Err(VisionError::Input(format!("mnist_cnn's fully connected layer takes images of 28 to 31 pixels, got {h}×{w}; spp_net takes any size")))
        }
    }
}

impl ModelFamily for MnistCnnConfig {
    const VARIANTS: &'static [Variant<Self>] = &[Variant::new(
        "mnist_cnn",
        "Two VGG-style conv-BN-ReLU stages, dropout classifier",
        DIGIT_INPUT,
        MnistCnnConfig::new,
    )];
}

impl ClassifierFamily for MnistCnnConfig {
    fn init_with<B: AutodiffBackend, J: OnClassifier<B>>(&self, device: &B::Device, job: J) -> J::Output {
        job.run(self.init::<B>(device))
    }
}
