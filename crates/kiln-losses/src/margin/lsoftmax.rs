//! L-Softmax (Liu et al. 2016, Eq. 5) and A-Softmax / SphereFace (Liu et al. 2017, Eq. 7): the
//! target logit ‖W_y‖‖x‖ cos θ_y becomes ‖W_y‖‖x‖ ψ(θ_y) with an integer margin m, blended as
//! (λ·‖W_y‖‖x‖ cos θ_y + ‖W_y‖‖x‖ ψ(θ_y)) / (1 + λ) to ease early training. SphereFace is the
//! same head with normalised weights (‖W_j‖ = 1).

use burn::module::Param;
use burn::prelude::*;

use super::{class_weights, cosines, psi, target_mask};

#[derive(Config, Debug)]
pub struct LSoftmaxConfig {
    pub features: usize,
    pub classes: usize,
    /// The integer angular margin m (the papers use 2–4).
    #[config(default = 4)]
    pub margin: u32,
    /// λ of the blend; 0 is the pure margin.
    #[config(default = 0.0)]
    pub lambda: f64,
    /// SphereFace's normalised weights.
    #[config(default = false)]
    pub normalize_weights: bool,
}

impl LSoftmaxConfig {
    /// A-Softmax as in SphereFace: normalised weights, m = 4.
    pub fn sphereface(features: usize, classes: usize) -> Self {
        Self::new(features, classes).with_normalize_weights(true)
    }

    pub fn init<B: Backend>(&self, device: &B::Device) -> LSoftmax<B> {
        LSoftmax {
            weight: class_weights(self.features, self.classes, device),
            margin: self.margin,
            lambda: self.lambda,
            normalize_weights: self.normalize_weights,
        }
    }
}

#[derive(Module, Debug)]
pub struct LSoftmax<B: Backend> {
    pub weight: Param<Tensor<B, 2>>,
    #[module(skip)]
    margin: u32,
    #[module(skip)]
    lambda: f64,
    #[module(skip)]
    normalize_weights: bool,
}

impl<B: Backend> LSoftmax<B> {
    pub fn forward(&self, features: Tensor<B, 2>, targets: Tensor<B, 1, Int>) -> Tensor<B, 2> {
        let (cos, feature_norm, weight_norm) = cosines(features, self.weight.val());
        let norms = if self.normalize_weights { feature_norm } else { feature_norm * weight_norm };
        let target = (cos.clone() * self.lambda + psi(cos.clone(), self.margin)) / (1.0 + self.lambda);
        let mask = target_mask(targets, cos.dims()[1]);
        (cos.clone() + (target - cos) * mask) * norms
    }

    /// Margin-free logits ‖W_j‖‖x‖ cos θ_j (‖x‖ cos θ_j for SphereFace).
    pub fn logits(&self, features: Tensor<B, 2>) -> Tensor<B, 2> {
        let (cos, feature_norm, weight_norm) = cosines(features, self.weight.val());
        if self.normalize_weights {
            cos * feature_norm
        } else {
            cos * feature_norm * weight_norm
        }
    }
}
