//! The classification head shared by modern CNNs (Lin et al. 2014, "global average pooling"):
//! average each channel over space, optionally drop out, and map to class logits.

use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;

use crate::complexity::{ShapeTrace, Traceable};

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::blocks::ClassifierHeadConfig;
/// let head = ClassifierHeadConfig::new(512, 10).init::<NdArray>(&Default::default());
/// assert_eq!(head.forward(Tensor::zeros([2, 512, 7, 7], &Default::default())).dims(), [2, 10]);
/// ```
#[derive(Config, Debug)]
pub struct ClassifierHeadConfig {
    pub in_channels: usize,
    pub num_classes: usize,
    #[config(default = 0.0)]
    pub dropout: f64,
}

#[derive(Module, Debug)]
pub struct ClassifierHead<B: Backend> {
    pub dropout: Dropout,
    pub fc: Linear<B>,
}

impl ClassifierHeadConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> ClassifierHead<B> {
        ClassifierHead {
            dropout: DropoutConfig::new(self.dropout).init(),
            fc: LinearConfig::new(self.in_channels, self.num_classes).init(device),
        }
    }
}

impl<B: Backend> ClassifierHead<B> {
    /// Feature maps `[N, C, H, W]` to logits `[N, classes]`.
    pub fn forward(&self, features: Tensor<B, 4>) -> Tensor<B, 2> {
        let [n, c, _, _] = features.dims();
        let pooled = features.mean_dim(2).mean_dim(3).reshape([n, c]);
        self.fc.forward(self.dropout.forward(pooled))
    }
}

impl<B: Backend> Traceable for ClassifierHead<B> {
    fn trace(&self, input: ShapeTrace) -> ShapeTrace {
        input.global_pool().then(&self.fc)
    }
}
