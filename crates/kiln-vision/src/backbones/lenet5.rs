//! LeNet-5 (LeCun, Bottou, Bengio, Haffner 1998, "Gradient-based learning applied to document
//! recognition", Fig. 2), for 28×28 MNIST: C1 is padded by 2 so it sees the paper's 32×32.
//!
//! C1 6@5×5 → S2 2×2 subsampling → C3 16@5×5 → S4 2×2 → C5 120@5×5 → F6 84 → output.
//! Two modern simplifications, as in every current re-implementation: C3 connects to all six S2
//! maps (the paper's Table I uses a sparse scheme), subsampling has no trainable coefficients,
//! and the output is a linear layer rather than Euclidean RBF units. This gives 61,706 parameters.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AvgPool2d, AvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::family::{ClassifierFamily, ModelFamily, OnClassifier, Variant, DIGIT_INPUT};
use crate::VisionError;
use crate::{Activation, Complexity, ImageClassifier, ShapeTrace};
use burn::tensor::backend::AutodiffBackend;

/// How S2 and S4 reduce resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subsampling {
    /// The paper's averaging (without its trainable coefficient and bias).
    Average,
    Max,
}

#[derive(Config, Debug)]
pub struct LeNet5Config {
    #[config(default = 10)]
    pub num_classes: usize,
    #[config(default = 1)]
    pub in_channels: usize,
    /// The paper uses a scaled tanh; ReLU trains faster with Adam.
    #[config(default = "Activation::ScaledTanh")]
    pub activation: Activation,
    #[config(default = "Subsampling::Average")]
    pub subsampling: Subsampling,
}

#[derive(Module, Debug)]
pub struct LeNet5<B: Backend> {
    c1: Conv2d<B>,
    c3: Conv2d<B>,
    c5: Conv2d<B>,
    f6: Linear<B>,
    output: Linear<B>,
    avg_pool: AvgPool2d,
    max_pool: MaxPool2d,
    #[module(skip)]
    activation: Activation,
    #[module(skip)]
    subsampling: Subsampling,
}

impl LeNet5Config {
    pub fn init<B: Backend>(&self, device: &B::Device) -> LeNet5<B> {
        LeNet5 {
            c1: Conv2dConfig::new([self.in_channels, 6], [5, 5])
                .with_padding(PaddingConfig2d::Explicit(2, 2, 2, 2))
                .init(device),
            c3: Conv2dConfig::new([6, 16], [5, 5]).init(device),
            c5: Conv2dConfig::new([16, 120], [5, 5]).init(device),
            f6: LinearConfig::new(120, 84).init(device),
            output: LinearConfig::new(84, self.num_classes).init(device),
            avg_pool: AvgPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            max_pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            activation: self.activation,
            subsampling: self.subsampling,
        }
    }
}

impl<B: Backend> LeNet5<B> {
    /// Images `[N, C, 28, 28]` to logits `[N, num_classes]`.
    pub fn forward(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        let a = self.activation;
        let x = self.subsample(a.apply(self.c1.forward(images)));
        let x = self.subsample(a.apply(self.c3.forward(x)));
        let x = a.apply(self.c5.forward(x)).flatten::<2>(1, 3);
        self.output.forward(a.apply(self.f6.forward(x)))
    }

    fn subsample(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        match self.subsampling {
            Subsampling::Average => self.avg_pool.forward(x),
            Subsampling::Max => self.max_pool.forward(x),
        }
    }
}

impl<B: Backend> ImageClassifier<B> for LeNet5<B> {
    fn logits(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        self.forward(images)
    }

    fn complexity(&self, input: [usize; 3]) -> Complexity {
        let classes = self.output.weight.dims()[1];
        ShapeTrace::new(input)
            .conv2d(6, 5, 1, 2, 1)
            .pool2d(2, 2)
            .conv2d(16, 5, 1, 0, 1)
            .pool2d(2, 2)
            .conv2d(120, 5, 1, 0, 1)
            .linear(84)
            .linear(classes)
            .finish()
    }

    /// The third convolution must end at 1×1 for the 120 → 84 layer: inputs of 28 or 29 pixels.
    fn check_input(&self, [_, h, w]: [usize; 3]) -> Result<(), VisionError> {
        // conv 5×5 padding 2 keeps the size; pool halves; conv 5×5 takes 4; pool; conv takes 4.
        let last = |size: usize| (size / 2).checked_sub(4).map(|s| s / 2).and_then(|s| s.checked_sub(4));
        match (last(h), last(w)) {
            (Some(1), Some(1)) => Ok(()),
            _ => Err(VisionError::Input(format!(
                "LeNet-5's fully connected layers take 28×28 (or 29×29) images, got {h}×{w}"
            ))),
        }
    }
}

impl ModelFamily for LeNet5Config {
    const VARIANTS: &'static [Variant<Self>] = &[Variant::new(
        "lenet5",
        "LeNet-5, LeCun et al. 1998 (61,706 parameters for 10 classes)",
        DIGIT_INPUT,
        LeNet5Config::new,
    )];
}

impl ClassifierFamily for LeNet5Config {
    fn init_with<B: AutodiffBackend, J: OnClassifier<B>>(&self, device: &B::Device, job: J) -> J::Output {
        job.run(self.init::<B>(device))
    }
}
