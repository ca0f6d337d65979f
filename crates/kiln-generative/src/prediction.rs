//! A denoiser's answer, in whichever parameterisation a sampler needs.

use burn::prelude::*;

use crate::level::NoiseLevel;

/// The estimate of the clean data `x₀` at a point `x` of `level`, from which every other
/// parameterisation follows (`x = α·x₀ + σ·ε`). The conversions need σ > 0 except
/// [`Prediction::sample`].
#[derive(Debug, Clone)]
pub struct Prediction<B: Backend, const D: usize> {
    pub x0: Tensor<B, D>,
    pub level: NoiseLevel,
}

impl<B: Backend, const D: usize> Prediction<B, D> {
    pub fn new(x0: Tensor<B, D>, level: NoiseLevel) -> Self {
        Self { x0, level }
    }

    /// From a noise estimate: `x₀ = (x − σ·ε)/α`.
    pub fn from_epsilon(epsilon: Tensor<B, D>, x: Tensor<B, D>, level: NoiseLevel) -> Self {
        let x0 = (x - epsilon.mul_scalar(level.sigma)).div_scalar(level.alpha);
        Self { x0, level }
    }

    /// The clean-data estimate x₀.
    pub fn sample(&self) -> Tensor<B, D> {
        self.x0.clone()
    }

    /// The noise estimate `ε = (x − α·x₀)/σ`.
    pub fn epsilon(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        (x - self.x0.clone().mul_scalar(self.level.alpha)).div_scalar(self.level.sigma)
    }

    /// The score ∇ₓ log p(x) of the noised data: `−ε/σ` (Tweedie; Song et al. 2021, eq. 5's target).
    pub fn score(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        self.epsilon(x).div_scalar(-self.level.sigma)
    }

    /// `v = α̃·ε − σ̃·x₀` with the level scaled to α̃² + σ̃² = 1 (Salimans & Ho 2022).
    pub fn v(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        let NoiseLevel { alpha, sigma } = self.level;
        let r = (alpha * alpha + sigma * sigma).sqrt();
        self.epsilon(x).mul_scalar(alpha / r) - self.x0.clone().mul_scalar(sigma / r)
    }

    /// The straight path's velocity `ε − x₀` (dx/dt of `x_t = (1 − t)·x₀ + t·ε`).
    pub fn velocity(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        self.epsilon(x) - self.x0.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::NdArray;

    fn values(t: Tensor<NdArray, 1>) -> Vec<f32> {
        t.into_data().to_vec().unwrap()
    }

    #[test]
    fn conversions_round_trip_through_epsilon() {
        let device = Default::default();
        let level = NoiseLevel::from_alpha_bar(0.64);
        let (x0, eps) = ([0.5f32, -1.0, 2.0], [0.3f32, 1.1, -0.4]);
        let x: Vec<f32> = x0.iter().zip(&eps).map(|(a, e)| 0.8 * a + 0.6 * e).collect();
        let t = |v: &[f32]| Tensor::<NdArray, 1>::from_floats(v, &device);
        let p = Prediction::from_epsilon(t(&eps), t(&x), level);
        let close = |a: Vec<f32>, b: Vec<f32>| a.iter().zip(&b).all(|(a, b)| (a - b).abs() < 1e-5);
        assert!(close(values(p.sample()), x0.to_vec()));
        assert!(close(values(p.epsilon(t(&x))), eps.to_vec()));
        // score = −ε/σ; v = 0.8 ε − 0.6 x₀; velocity = ε − x₀.
        assert!(close(values(p.score(t(&x))), eps.iter().map(|e| -e / 0.6).collect()));
        assert!(close(values(p.v(t(&x))), eps.iter().zip(&x0).map(|(e, a)| 0.8 * e - 0.6 * a).collect()));
        assert!(close(values(p.velocity(t(&x))), eps.iter().zip(&x0).map(|(e, a)| e - a).collect()));
    }
}
