//! DDIM (Song, Meng & Ermon 2021): a non-Markovian sampler on any sub-sequence of a DDPM's
//! timesteps; η = 0 is deterministic, η = 1 is DDPM's ancestral step.

use burn::prelude::*;

use super::Sampler;
use crate::error::GenerativeError;
use crate::level::NoiseLevel;
use crate::prediction::Prediction;
use crate::schedule::DiscreteSchedule;

/// `x_prev = √ᾱ_prev·x̂₀ + √(1 − ᾱ_prev − σ_t²)·ε̂ + σ_t·z` with
/// `σ_t = η·√((1 − ᾱ_prev)/(1 − ᾱ_t))·√(1 − ᾱ_t/ᾱ_prev)` (Song et al. 2021, eq. 12 and 16); the
/// last step ends at ᾱ = 1 (diffusers' `set_alpha_to_one`).
#[derive(Debug, Clone)]
pub struct Ddim {
    schedule: DiscreteSchedule,
    eta: f64,
    timesteps: Vec<usize>,
    stride: usize,
}

impl Ddim {
    /// η is clamped to [0, 1]; [`Ddim::try_new`] refuses values outside it.
    pub fn new(schedule: DiscreteSchedule, eta: f64) -> Self {
        let timesteps = (0..schedule.len()).rev().collect();
        Self { schedule, eta: eta.clamp(0.0, 1.0), timesteps, stride: 1 }
    }

    pub fn try_new(schedule: DiscreteSchedule, eta: f64) -> Result<Self, GenerativeError> {
        if !(0.0..=1.0).contains(&eta) {
            return Err(GenerativeError::Setting(format!("DDIM's eta must lie in [0, 1], not {eta}")));
        }
        Ok(Self::new(schedule, eta))
    }

    /// Samples on `steps` of the schedule's timesteps, evenly spaced (see
    /// [`DiscreteSchedule::leading_timesteps`]).
    pub fn set_timesteps(&mut self, steps: usize) {
        self.timesteps = self.schedule.leading_timesteps(steps);
        self.stride = (self.schedule.len() / steps.max(1)).max(1);
    }

    pub fn timesteps(&self) -> &[usize] {
        &self.timesteps
    }

    /// (ᾱ_t, ᾱ_prev, σ_t) of step `i`.
    pub fn coefficients(&self, i: usize) -> (f64, f64, f64) {
        let t = self.timesteps[i] as isize;
        let ab = self.schedule.alpha_bar(t);
        let ab_prev = self.schedule.alpha_bar(t - self.stride as isize);
        let sigma = self.eta * ((1.0 - ab_prev) / (1.0 - ab) * (1.0 - ab / ab_prev)).sqrt();
        (ab, ab_prev, sigma)
    }
}

impl<B: Backend, const D: usize> Sampler<B, D> for Ddim {
    fn set_timesteps(&mut self, steps: usize) {
        Self::set_timesteps(self, steps);
    }

    fn evaluations(&self) -> usize {
        self.timesteps.len()
    }

    fn level(&self, i: usize) -> NoiseLevel {
        self.schedule.level(self.timesteps[i])
    }

    fn init_noise_sigma(&self) -> f64 {
        1.0
    }

    fn uses_noise(&self, _i: usize) -> bool {
        self.eta > 0.0
    }

    fn step(&mut self, output: &Prediction<B, D>, i: usize, x: Tensor<B, D>, noise: Tensor<B, D>) -> Tensor<B, D> {
        let (_, ab_prev, sigma) = self.coefficients(i);
        let epsilon = output.epsilon(x);
        let direction = (1.0 - ab_prev - sigma * sigma).max(0.0).sqrt();
        let next = output.sample().mul_scalar(ab_prev.sqrt()) + epsilon.mul_scalar(direction);
        if sigma > 0.0 {
            next + noise.mul_scalar(sigma)
        } else {
            next
        }
    }
}
