//! Samplers, as diffusers' schedulers: each owns its grid of noise levels and a single
//! [`Sampler::step`] from one point to the next, given the denoiser's answer and the noise to
//! add (passed in, so a step is reproducible and testable). None sees the network.
//!
//! A second-order solver (Heun) asks twice per step; its evaluations are listed one after the
//! other and its state is kept between them, so the loop in [`crate::sample`] stays one
//! evaluation, one step.

mod choice;
mod ddim;
mod ddpm;
mod edm;
mod flow;
mod heun;
mod score_sde;

pub use choice::{SamplerChoice, SamplerKind};
pub use ddim::Ddim;
pub use ddpm::{Ddpm, DdpmVariance};
pub use edm::{Churn, Edm};
pub use flow::RectifiedFlow;
pub use score_sde::{ScoreSde, SdeProcess, SdeSolver};

use burn::prelude::*;

use crate::level::NoiseLevel;
use crate::prediction::Prediction;

/// Whether an ODE is integrated with one evaluation per step or two (Heun's method, Karras et
/// al. 2022, Algorithm 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OdeSolver {
    Euler,
    Heun,
}

/// A sampler's grid and its step.
pub trait Sampler<B: Backend, const D: usize> {
    /// Uses `steps` steps from noise to data (and resets any state).
    fn set_timesteps(&mut self, steps: usize);

    /// Network evaluations the grid takes: the steps, or about twice that for Heun and the
    /// predictor–corrector.
    fn evaluations(&self) -> usize;

    /// Where evaluation `i` asks the denoiser.
    fn level(&self, i: usize) -> NoiseLevel;

    /// The standard deviation of the starting noise.
    fn init_noise_sigma(&self) -> f64;

    /// Whether step `i` adds the noise it is given (deterministic steps ignore it, so the loop
    /// need not draw it).
    fn uses_noise(&self, i: usize) -> bool {
        let _ = i;
        true
    }

    /// The next point after evaluation `i` at `x`, whose denoised estimate is `output`; `noise`
    /// is N(0, I) of `x`'s shape.
    fn step(&mut self, output: &Prediction<B, D>, i: usize, x: Tensor<B, D>, noise: Tensor<B, D>) -> Tensor<B, D>;

    /// The straightness of the last run's paths ending at `end`, for samplers that follow a
    /// flow's paths (rectified flow); `None` for the others.
    fn straightness(&self, end: Tensor<B, D>) -> Option<f64> {
        let _ = end;
        None
    }
}

impl<B: Backend, const D: usize, S: Sampler<B, D> + ?Sized> Sampler<B, D> for Box<S> {
    fn set_timesteps(&mut self, steps: usize) {
        (**self).set_timesteps(steps)
    }
    fn evaluations(&self) -> usize {
        (**self).evaluations()
    }
    fn level(&self, i: usize) -> NoiseLevel {
        (**self).level(i)
    }
    fn init_noise_sigma(&self) -> f64 {
        (**self).init_noise_sigma()
    }
    fn uses_noise(&self, i: usize) -> bool {
        (**self).uses_noise(i)
    }
    fn step(&mut self, output: &Prediction<B, D>, i: usize, x: Tensor<B, D>, noise: Tensor<B, D>) -> Tensor<B, D> {
        (**self).step(output, i, x, noise)
    }
    fn straightness(&self, end: Tensor<B, D>) -> Option<f64> {
        (**self).straightness(end)
    }
}
