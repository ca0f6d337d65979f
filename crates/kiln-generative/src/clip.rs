//! Clipping the denoiser's clean-data estimate to the data's range (diffusers' `clip_sample`,
//! on by default in its DDPM and DDIM schedulers; Ho et al. 2020's sampler clips x̂₀ to [−1, 1]
//! too). Early in sampling an ε-prediction network's x̂₀ = (x − σ·ε̂)/α divides by a tiny α, and
//! a step toward an estimate far outside the data leaves marks a later step cannot undo.

use burn::prelude::*;

use crate::denoiser::Denoiser;
use crate::level::NoiseLevel;
use crate::prediction::Prediction;

/// `inner`'s estimate of x₀ clamped to `[-bound, bound]`; every other reading (ε, score, v)
/// follows from the clamped x₀ at the same x, as diffusers recomputes ε after clipping.
pub struct Clipped<M> {
    pub inner: M,
    pub bound: f64,
}

impl<B: Backend, const D: usize, M: Denoiser<B, D>> Denoiser<B, D> for Clipped<M> {
    fn denoise(&self, x: Tensor<B, D>, level: NoiseLevel) -> Prediction<B, D> {
        let prediction = self.inner.denoise(x, level);
        Prediction::new(prediction.x0.clamp(-self.bound, self.bound), level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytic::GaussianData;
    use burn::backend::NdArray;

    #[test]
    fn the_estimate_is_clamped_and_epsilon_follows_it() {
        let device = Default::default();
        // The exact denoiser of N(5, 1) data at α = 0.6, σ = 0.8, x = 0: x̂₀ = 5 + 0.6·(0 − 3)/(0.36 + 0.64) = 3.2.
        let clipped = Clipped { inner: GaussianData::new(5.0, 1.0), bound: 1.0 };
        let level = NoiseLevel::new(0.6, 0.8);
        let x = Tensor::<NdArray, 2>::zeros([1, 1], &device);
        let p = clipped.denoise(x.clone(), level);
        assert_eq!(p.x0.clone().into_scalar(), 1.0);
        // ε = (x − α·x₀)/σ with the clamped x₀: −0.6/0.8.
        assert!((p.epsilon(x).into_scalar() + 0.75).abs() < 1e-6);
    }
}
