//! Smooth-L1 (Girshick 2015, "Fast R-CNN", Eq. 3, with torchvision's β): 0.5x²/β for |x| < β,
//! |x| − 0.5β otherwise.

use burn::prelude::*;

use crate::Reduction;

#[derive(Config, Debug)]
pub struct SmoothL1LossConfig {
    #[config(default = 1.0)]
    pub beta: f64,
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

/// See [`SmoothL1LossConfig`].
#[derive(Module, Debug, Clone)]
pub struct SmoothL1Loss {
    #[module(skip)]
    beta: f64,
    #[module(skip)]
    reduction: Reduction,
}

impl SmoothL1LossConfig {
    pub fn init(&self) -> SmoothL1Loss {
        SmoothL1Loss { beta: self.beta, reduction: self.reduction }
    }
}

impl SmoothL1Loss {
    pub fn forward<B: Backend, const D: usize>(&self, pred: Tensor<B, D>, target: Tensor<B, D>) -> Tensor<B, 1> {
        let diff = (pred - target).abs();
        let small = diff.clone().lower_elem(self.beta);
        let quadratic = diff.clone().powf_scalar(2.0) * (0.5 / self.beta);
        let linear = diff - 0.5 * self.beta;
        self.reduction.apply(linear.mask_where(small, quadratic))
    }
}
