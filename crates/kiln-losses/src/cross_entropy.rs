//! Softmax cross-entropy with label smoothing (Szegedy et al. 2016, §7) and class weights.
//!
//! A thin, config-friendly wrapper over Burn's `CrossEntropyLoss`, which already implements both.

use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig};
use burn::prelude::*;

#[derive(Config, Debug)]
pub struct CrossEntropyConfig {
    /// ε of label smoothing: the target is (1-ε)·one_hot + ε/K.
    #[config(default = 0.0)]
    pub label_smoothing: f32,
    /// Per-class weights; `None` weighs every class equally.
    pub class_weights: Option<Vec<f32>>,
}

/// Mean cross-entropy of logits `[N, K]` against class indices `[N]`.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_losses::CrossEntropyConfig;
///
/// let device = Default::default();
/// let loss = CrossEntropyConfig::new().init::<NdArray>(&device);
/// // Equal logits over 4 classes: the loss is ln 4.
/// let logits = Tensor::<NdArray, 2>::zeros([2, 4], &device);
/// let targets = Tensor::<NdArray, 1, Int>::from_ints([0, 3], &device);
/// let value: f32 = loss.forward(logits, targets).into_scalar();
/// assert!((value - 4f32.ln()).abs() < 1e-6);
/// ```
#[derive(Module, Debug)]
pub struct CrossEntropy<B: Backend> {
    inner: CrossEntropyLoss<B>,
}

impl CrossEntropyConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> CrossEntropy<B> {
        let smoothing = (self.label_smoothing > 0.0).then_some(self.label_smoothing);
        let inner = CrossEntropyLossConfig::new()
            .with_smoothing(smoothing)
            .with_weights(self.class_weights.clone())
            .init(device);
        CrossEntropy { inner }
    }
}

impl<B: Backend> CrossEntropy<B> {
    pub fn forward(&self, logits: Tensor<B, 2>, targets: Tensor<B, 1, Int>) -> Tensor<B, 1> {
        self.inner.forward(logits, targets)
    }
}
