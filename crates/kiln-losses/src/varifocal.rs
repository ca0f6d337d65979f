//! Varifocal loss (Zhang, Wang, Dayoub, Sünderhauf 2021, "VarifocalNet", Eq. 2): an IoU-aware
//! classification score p against target q (the IoU with the ground truth for positives, 0 for
//! negatives): −q(q log p + (1 − q) log(1 − p)) for q > 0, −α p^γ log(1 − p) for q = 0.

use burn::prelude::*;
use burn::tensor::activation::{log_sigmoid, sigmoid};

use crate::Reduction;

#[derive(Config, Debug)]
pub struct VarifocalLossConfig {
    #[config(default = 0.75)]
    pub alpha: f64,
    #[config(default = 2.0)]
    pub gamma: f64,
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

/// See [`VarifocalLossConfig`].
#[derive(Module, Debug, Clone)]
pub struct VarifocalLoss {
    #[module(skip)]
    alpha: f64,
    #[module(skip)]
    gamma: f64,
    #[module(skip)]
    reduction: Reduction,
}

impl VarifocalLossConfig {
    pub fn init(&self) -> VarifocalLoss {
        VarifocalLoss { alpha: self.alpha, gamma: self.gamma, reduction: self.reduction }
    }
}

impl VarifocalLoss {
    /// `logits` and IoU-aware targets `q` in [0, 1] of the same shape.
    pub fn forward<B: Backend, const D: usize>(&self, logits: Tensor<B, D>, q: Tensor<B, D>) -> Tensor<B, 1> {
        let p = sigmoid(logits.clone());
        let (log_p, log_not_p) = (log_sigmoid(logits.clone()), log_sigmoid(logits.neg()));
        let positive_mask = q.clone().greater_elem(0.0).float();
        let bce = (q.clone() * log_p + (q.clone().neg() + 1.0) * log_not_p.clone()).neg();
        let positive = q * bce * positive_mask.clone();
        let negative = p.powf_scalar(self.gamma) * log_not_p.neg() * self.alpha * (positive_mask.neg() + 1.0);
        self.reduction.apply(positive + negative)
    }
}
