//! SPP-net for small images (He, Zhang, Ren, Sun 2014): convolutional stages, then spatial
//! pyramid pooling instead of the last pooling layer, so the classifier sees a vector of fixed
//! length whatever the input size. Trained at one size, it classifies images of any other.
//!
//! [C→w, w] pool [2w, 2w] SPP{bins} → FC hidden → dropout → FC classes.

use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig, Relu};
use burn::prelude::*;

use super::mnist_cnn::ConvBnRelu;
use crate::blocks::{SpatialPyramidPooling, SpatialPyramidPoolingConfig};
use crate::family::{ClassifierFamily, ModelFamily, OnClassifier, Variant, DIGIT_INPUT};
use crate::VisionError;
use crate::{Complexity, ImageClassifier, ShapeTrace};
use burn::tensor::backend::AutodiffBackend;

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::SppNetConfig;
/// let net = SppNetConfig::new().init::<NdArray>(&Default::default());
/// for size in [20, 28, 36] {
///     let logits = net.forward(Tensor::zeros([2, 1, size, size], &Default::default()));
///     assert_eq!(logits.dims(), [2, 10]);
/// }
/// ```
#[derive(Config, Debug)]
pub struct SppNetConfig {
    #[config(default = 10)]
    pub num_classes: usize,
    #[config(default = 1)]
    pub in_channels: usize,
    /// Channels of the first stage; the second has twice as many.
    #[config(default = 32)]
    pub width: usize,
    /// Pyramid levels, bins per side (the paper's Fig. 3: {1, 2, 4}).
    #[config(default = "vec![1, 2, 4]")]
    pub bins: Vec<usize>,
    #[config(default = 128)]
    pub hidden: usize,
    #[config(default = 0.25)]
    pub dropout: f64,
}

#[derive(Module, Debug)]
pub struct SppNet<B: Backend> {
    stage1: Vec<ConvBnRelu<B>>,
    stage2: Vec<ConvBnRelu<B>>,
    pool: MaxPool2d,
    spp: SpatialPyramidPooling,
    hidden: Linear<B>,
    dropout: Dropout,
    output: Linear<B>,
    relu: Relu,
}

impl SppNetConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> SppNet<B> {
        let (w1, w2) = (self.width, 2 * self.width);
        let spp = SpatialPyramidPoolingConfig::new().with_bins(self.bins.clone()).init();
        SppNet {
            stage1: vec![ConvBnRelu::new(self.in_channels, w1, device), ConvBnRelu::new(w1, w1, device)],
            stage2: vec![ConvBnRelu::new(w1, w2, device), ConvBnRelu::new(w2, w2, device)],
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            hidden: LinearConfig::new(spp.output_len(w2), self.hidden).init(device),
            spp,
            dropout: DropoutConfig::new(self.dropout).init(),
            output: LinearConfig::new(self.hidden, self.num_classes).init(device),
            relu: Relu::new(),
        }
    }
}

impl<B: Backend> SppNet<B> {
    /// Images `[N, C, H, W]` of any size with H, W ≥ 2 to logits `[N, num_classes]`.
    pub fn forward(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        let x = self.pool.forward(self.stage1.iter().fold(images, |x, block| block.forward(x)));
        let x = self.spp.forward(self.stage2.iter().fold(x, |x, block| block.forward(x)));
        let x = self.relu.forward(self.hidden.forward(x));
        self.output.forward(self.dropout.forward(x))
    }
}

impl<B: Backend> ImageClassifier<B> for SppNet<B> {
    fn logits(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        self.forward(images)
    }

    fn complexity(&self, input: [usize; 3]) -> Complexity {
        let w1 = self.stage1[0].out_channels();
        let [hidden, classes] = [self.hidden.weight.dims()[1], self.output.weight.dims()[1]];
        ShapeTrace::new(input)
            .conv2d(w1, 3, 1, 1, 1)
            .conv2d(w1, 3, 1, 1, 1)
            .pool2d(2, 2)
            .conv2d(2 * w1, 3, 1, 1, 1)
            .conv2d(2 * w1, 3, 1, 1, 1)
            .then(&self.spp)
            .linear(hidden)
            .linear(classes)
            .finish()
    }

    fn check_input(&self, [_, h, w]: [usize; 3]) -> Result<(), VisionError> {
        if h < 2 || w < 2 {
            return Err(VisionError::Input(format!(
                "SPP-net needs images of at least 2×2 (one pooling step), got {h}×{w}"
            )));
        }
        Ok(())
    }
}

impl ModelFamily for SppNetConfig {
    const VARIANTS: &'static [Variant<Self>] = &[Variant::new(
        "spp_net",
        "mnist_cnn with spatial pyramid pooling (He et al. 2014): any input size",
        DIGIT_INPUT,
        SppNetConfig::new,
    )];

    fn check(&self) -> Result<(), VisionError> {
        if self.bins.is_empty() || self.bins.contains(&0) {
            return Err(VisionError::Config(format!(
                "bins must be positive bin counts per side, e.g. [1, 2, 4], got {:?}",
                self.bins
            )));
        }
        Ok(())
    }
}

impl ClassifierFamily for SppNetConfig {
    fn init_with<B: AutodiffBackend, J: OnClassifier<B>>(&self, device: &B::Device, job: J) -> J::Output {
        job.run(self.init::<B>(device))
    }
}
