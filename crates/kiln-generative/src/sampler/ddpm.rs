//! DDPM's ancestral sampler (Ho et al. 2020, Algorithm 2), on the full chain or on a
//! sub-sequence of its timesteps with the respaced β (Nichol & Dhariwal 2021, §4).

use burn::prelude::*;

use super::Sampler;
use crate::level::NoiseLevel;
use crate::prediction::Prediction;
use crate::schedule::DiscreteSchedule;

/// The reverse step's variance σ_t² (Ho et al. 2020, §3.2: both give similar samples).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DdpmVariance {
    /// The posterior's β̃_t = (1 − ᾱ_{t−1})/(1 − ᾱ_t)·β_t, right for deterministic x₀.
    FixedSmall,
    /// β_t itself, right for x₀ ~ N(0, I).
    FixedLarge,
}

/// `x_{t−1} = μ̃_t(x_t, x̂₀) + σ_t·z`, with the posterior mean
/// `μ̃_t = √ᾱ_{t−1}·β_t/(1 − ᾱ_t)·x̂₀ + √(1 − β_t)·(1 − ᾱ_{t−1})/(1 − ᾱ_t)·x_t` (Ho et al. eq. 7)
/// and no noise on the last step.
#[derive(Debug, Clone)]
pub struct Ddpm {
    schedule: DiscreteSchedule,
    variance: DdpmVariance,
    timesteps: Vec<usize>,
}

impl Ddpm {
    /// All of the schedule's steps until [`Sampler::set_timesteps`] picks fewer.
    pub fn new(schedule: DiscreteSchedule, variance: DdpmVariance) -> Self {
        let timesteps = (0..schedule.len()).rev().collect();
        Self { schedule, variance, timesteps }
    }

    /// Samples on `steps` of the schedule's timesteps, evenly spaced (see
    /// [`DiscreteSchedule::leading_timesteps`]).
    pub fn set_timesteps(&mut self, steps: usize) {
        self.timesteps = self.schedule.leading_timesteps(steps);
    }

    pub fn timesteps(&self) -> &[usize] {
        &self.timesteps
    }

    /// (ᾱ_t, ᾱ_prev) of step `i`: the previous timestep is the next on the grid, clean data after the last.
    fn alpha_bars(&self, i: usize) -> (f64, f64) {
        let t = self.timesteps[i];
        let prev = self.timesteps.get(i + 1).map_or(-1, |&p| p as isize);
        (self.schedule.alpha_bar(t as isize), self.schedule.alpha_bar(prev))
    }

    /// (coefficient of x̂₀, coefficient of x_t, σ_t²) of step `i`.
    pub fn posterior(&self, i: usize) -> (f64, f64, f64) {
        let (ab, ab_prev) = self.alpha_bars(i);
        let beta = 1.0 - ab / ab_prev;
        let c_x0 = ab_prev.sqrt() * beta / (1.0 - ab);
        let c_xt = (1.0 - beta).sqrt() * (1.0 - ab_prev) / (1.0 - ab);
        let variance = match self.variance {
            DdpmVariance::FixedSmall => ((1.0 - ab_prev) / (1.0 - ab) * beta).max(1e-20),
            DdpmVariance::FixedLarge => beta,
        };
        (c_x0, c_xt, variance)
    }
}

impl<B: Backend, const D: usize> Sampler<B, D> for Ddpm {
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

    fn uses_noise(&self, i: usize) -> bool {
        i + 1 < self.timesteps.len()
    }

    fn step(&mut self, output: &Prediction<B, D>, i: usize, x: Tensor<B, D>, noise: Tensor<B, D>) -> Tensor<B, D> {
        let (c_x0, c_xt, variance) = self.posterior(i);
        let mean = output.sample().mul_scalar(c_x0) + x.mul_scalar(c_xt);
        if <Self as Sampler<B, D>>::uses_noise(self, i) {
            mean + noise.mul_scalar(variance.sqrt())
        } else {
            mean
        }
    }
}
