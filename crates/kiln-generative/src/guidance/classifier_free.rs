//! Classifier-free guidance (Ho & Salimans 2022): one network trained with and without its
//! class, sampled with `x̂₀ = (1 + w)·x̂₀(x, c) − w·x̂₀(x, ∅)` (their eq. 6, written on x₀: the same
//! combination of ε at the same x and level).

use burn::prelude::*;

use crate::denoiser::{network_x0, Denoiser, Network};
use crate::level::NoiseLevel;
use crate::parameterization::Preconditioning;
use crate::prediction::Prediction;

/// `network` guided toward `class` with weight `w` (0: the plain conditional model); `null` is
/// the network's "no class" label. Both halves run as one batch.
pub struct ClassifierFree<'a, N, B: Backend> {
    pub network: &'a N,
    pub preconditioning: Preconditioning,
    pub class: Tensor<B, 1, Int>,
    pub null: i64,
    pub weight: f64,
}

impl<B: Backend, const D: usize, N: Network<B, D>> Denoiser<B, D> for ClassifierFree<'_, N, B> {
    fn denoise(&self, x: Tensor<B, D>, level: NoiseLevel) -> Prediction<B, D> {
        let n = x.dims()[0];
        let classes = Tensor::cat(vec![self.class.clone(), self.class.clone().full_like(self.null)], 0);
        let both =
            network_x0(self.network, &self.preconditioning, Tensor::cat(vec![x.clone(), x], 0), level, Some(classes));
        let conditional = both.clone().narrow(0, 0, n);
        let unconditional = both.narrow(0, n, n);
        let x0 = conditional.mul_scalar(1.0 + self.weight) - unconditional.mul_scalar(self.weight);
        Prediction::new(x0, level)
    }
}
