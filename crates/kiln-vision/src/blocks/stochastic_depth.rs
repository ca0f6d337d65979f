//! Stochastic depth (Huang et al. 2016): during training a residual branch is dropped for a whole
//! sample with probability p and kept ones are scaled by 1/(1−p), so the expected output equals
//! the inference output; at inference it is the identity. EfficientNet applies it per sample
//! ("row" mode) with p rising linearly with depth.

use burn::prelude::*;
use burn::tensor::Distribution;

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::blocks::StochasticDepthConfig;
/// let drop = StochasticDepthConfig::new(0.2).init();
/// // Without autodiff (inference) the branch passes unchanged.
/// let x = Tensor::<NdArray, 4>::ones([4, 8, 2, 2], &Default::default());
/// assert_eq!(drop.forward(x.clone()).into_data(), x.into_data());
/// ```
#[derive(Config, Debug)]
pub struct StochasticDepthConfig {
    /// Probability of dropping the branch for a sample.
    pub prob: f64,
}

#[derive(Module, Clone, Debug)]
pub struct StochasticDepth {
    pub prob: f64,
}

impl StochasticDepthConfig {
    pub fn init(&self) -> StochasticDepth {
        StochasticDepth { prob: self.prob }
    }
}

impl StochasticDepth {
    /// Drops whole samples of `branch` in training (an autodiff backend), as Burn's dropout does.
    pub fn forward<B: Backend>(&self, branch: Tensor<B, 4>) -> Tensor<B, 4> {
        if self.prob == 0.0 || !B::ad_enabled(&branch.device()) {
            return branch;
        }
        let keep = 1.0 - self.prob;
        let n = branch.dims()[0];
        let mask = Tensor::<B, 4>::random([n, 1, 1, 1], Distribution::Bernoulli(keep), &branch.device());
        branch * mask.div_scalar(keep)
    }
}
