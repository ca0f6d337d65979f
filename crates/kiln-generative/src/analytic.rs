//! Denoisers known in closed form, for checking samplers without training anything.

use burn::prelude::*;

use crate::denoiser::Denoiser;
use crate::level::NoiseLevel;
use crate::prediction::Prediction;

/// Data drawn independently per coordinate from N(μ, s²). Its optimal denoiser is the posterior
/// mean `E[x₀ | x] = μ + α·s²/(α²s² + σ²)·(x − α·μ)` for `x = α·x₀ + σ·ε`, so every correct
/// sampler fed it must end at mean μ and variance s².
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GaussianData {
    pub mean: f64,
    pub std: f64,
}

impl GaussianData {
    pub fn new(mean: f64, std: f64) -> Self {
        Self { mean, std }
    }
}

impl<B: Backend, const D: usize> Denoiser<B, D> for GaussianData {
    fn denoise(&self, x: Tensor<B, D>, level: NoiseLevel) -> Prediction<B, D> {
        let NoiseLevel { alpha, sigma } = level;
        let s2 = self.std * self.std;
        let gain = alpha * s2 / (alpha * alpha * s2 + sigma * sigma);
        let x0 = x.sub_scalar(alpha * self.mean).mul_scalar(gain).add_scalar(self.mean);
        Prediction::new(x0, level)
    }
}
