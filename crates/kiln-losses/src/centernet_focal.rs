//! CenterNet's penalty-reduced pixel-wise focal loss (Zhou, Wang, Krähenbühl 2019, "Objects as
//! Points", Eq. 1), on heatmap logits against a Gaussian-splatted ground-truth heatmap Y:
//! L = −1/N Σ (1 − Ŷ)^α log Ŷ where Y = 1, (1 − Y)^β Ŷ^α log(1 − Ŷ) elsewhere; N = #(Y = 1).

use burn::prelude::*;
use burn::tensor::activation::{log_sigmoid, sigmoid};

#[derive(Config, Debug)]
pub struct CenterNetFocalLossConfig {
    #[config(default = 2.0)]
    pub alpha: f64,
    #[config(default = 4.0)]
    pub beta: f64,
}

/// See [`CenterNetFocalLossConfig`].
#[derive(Module, Debug, Clone)]
pub struct CenterNetFocalLoss {
    #[module(skip)]
    alpha: f64,
    #[module(skip)]
    beta: f64,
}

impl CenterNetFocalLossConfig {
    pub fn init(&self) -> CenterNetFocalLoss {
        CenterNetFocalLoss { alpha: self.alpha, beta: self.beta }
    }
}

impl CenterNetFocalLoss {
    /// `logits` and `heatmap` `[N, C, H, W]` (any rank); returns `[1]`, normalised by the number
    /// of peaks (at least 1).
    pub fn forward<B: Backend, const D: usize>(&self, logits: Tensor<B, D>, heatmap: Tensor<B, D>) -> Tensor<B, 1> {
        let p = sigmoid(logits.clone());
        let peak = heatmap.clone().equal_elem(1.0).float();
        let positive = (p.clone().neg() + 1.0).powf_scalar(self.alpha) * log_sigmoid(logits.clone()) * peak.clone();
        let negative = (heatmap.neg() + 1.0).powf_scalar(self.beta)
            * p.powf_scalar(self.alpha)
            * log_sigmoid(logits.neg())
            * (peak.clone().neg() + 1.0);
        let peaks = peak.sum().clamp_min(1.0);
        (positive + negative).sum().neg() / peaks
    }
}
