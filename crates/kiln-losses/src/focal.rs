//! Sigmoid focal loss (Lin et al. 2017, "Focal Loss for Dense Object Detection", Eq. 5):
//! FL(p_t) = −α_t (1 − p_t)^γ log(p_t), on logits for numerical stability.

use burn::prelude::*;
use burn::tensor::activation::{log_sigmoid, sigmoid};

use crate::Reduction;

#[derive(Config, Debug)]
pub struct SigmoidFocalLossConfig {
    /// Weight of positives (negatives get 1 − α); `None` weighs both by 1.
    #[config(default = "Some(0.25)")]
    pub alpha: Option<f64>,
    #[config(default = 2.0)]
    pub gamma: f64,
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

/// See [`SigmoidFocalLossConfig`].
///
/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_losses::{Reduction, SigmoidFocalLossConfig};
/// let d = Default::default();
/// let loss = SigmoidFocalLossConfig::new().with_reduction(Reduction::None).init();
/// // p = 0.5 for a positive: 0.25 · 0.5² · ln 2.
/// let v: Vec<f32> = loss.forward(Tensor::<NdArray, 1>::zeros([1], &d), Tensor::ones([1], &d)).into_data().to_vec().unwrap();
/// assert!((v[0] - 0.25 * 0.25 * 2f32.ln()).abs() < 1e-6);
/// ```
#[derive(Module, Debug, Clone)]
pub struct SigmoidFocalLoss {
    #[module(skip)]
    alpha: Option<f64>,
    #[module(skip)]
    gamma: f64,
    #[module(skip)]
    reduction: Reduction,
}

impl SigmoidFocalLossConfig {
    pub fn init(&self) -> SigmoidFocalLoss {
        SigmoidFocalLoss { alpha: self.alpha, gamma: self.gamma, reduction: self.reduction }
    }
}

impl SigmoidFocalLoss {
    /// `logits` and binary `targets` (0 or 1) of the same shape.
    pub fn forward<B: Backend, const D: usize>(&self, logits: Tensor<B, D>, targets: Tensor<B, D>) -> Tensor<B, 1> {
        let p = sigmoid(logits.clone());
        // log p_t = t·log σ(x) + (1 − t)·log σ(−x)
        let log_pt =
            targets.clone() * log_sigmoid(logits.clone()) + (targets.clone().neg() + 1.0) * log_sigmoid(logits.neg());
        let pt = targets.clone() * p.clone() + (targets.clone().neg() + 1.0) * (p.neg() + 1.0);
        let mut loss = (pt.neg() + 1.0).powf_scalar(self.gamma) * log_pt.neg();
        if let Some(alpha) = self.alpha {
            let alpha_t = targets.clone() * alpha + (targets.neg() + 1.0) * (1.0 - alpha);
            loss = loss * alpha_t;
        }
        self.reduction.apply(loss)
    }
}
