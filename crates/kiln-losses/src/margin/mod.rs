//! Large-margin softmax heads: linear classifiers whose target logit is made harder to win, so
//! features of a class cluster in angle. Each holds its class weights `[D, K]`; `forward` takes
//! features `[N, D]` and targets `[N]` and returns training logits `[N, K]` for cross-entropy;
//! `cosines` gives the margin-free scores for evaluation.

mod angular;
mod arcface;
mod cosface;
mod head;
mod lsoftmax;

pub use angular::psi;
pub use arcface::{ArcFace, ArcFaceConfig};
pub use cosface::{CosFace, CosFaceConfig};
pub use head::MarginHead;
pub use lsoftmax::{LSoftmax, LSoftmaxConfig};

use burn::module::Param;
use burn::nn::Initializer;
use burn::prelude::*;

/// Class weights `[D, K]`, Xavier-initialised.
pub(crate) fn class_weights<B: Backend>(features: usize, classes: usize, device: &B::Device) -> Param<Tensor<B, 2>> {
    Initializer::XavierUniform { gain: 1.0 }.init_with([features, classes], Some(features), Some(classes), device)
}

/// Cosines `[N, K]` between features `[N, D]` and weight columns `[D, K]`, with the norms.
pub(crate) fn cosines<B: Backend>(
    features: Tensor<B, 2>,
    weight: Tensor<B, 2>,
) -> (Tensor<B, 2>, Tensor<B, 2>, Tensor<B, 2>) {
    let feature_norm = features.clone().powf_scalar(2.0).sum_dim(1).sqrt().clamp_min(1e-12); // [N, 1]
    let weight_norm = weight.clone().powf_scalar(2.0).sum_dim(0).sqrt().clamp_min(1e-12); // [1, K]
    let cos = (features / feature_norm.clone()).matmul(weight / weight_norm.clone());
    (cos.clamp(-1.0, 1.0), feature_norm, weight_norm)
}

/// One-hot `[N, K]` float mask of the targets.
pub(crate) fn target_mask<B: Backend>(targets: Tensor<B, 1, Int>, classes: usize) -> Tensor<B, 2> {
    targets.one_hot::<2>(classes).float()
}
