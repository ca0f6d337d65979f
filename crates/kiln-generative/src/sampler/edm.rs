//! EDM's sampler (Karras et al. 2022, Algorithm 2): the probability-flow ODE `dx/dσ = (x − D(x; σ))/σ`
//! on the ρ-spaced σ schedule, Euler or Heun, with optional stochastic churn.

use burn::prelude::*;

use super::heun::{plan, Evaluation, Integrator};
use super::{OdeSolver, Sampler};
use crate::level::NoiseLevel;
use crate::prediction::Prediction;

/// Karras et al.'s stochasticity: at each σ_i in [t_min, t_max] the noise is raised to
/// σ̂ = (1 + γ)·σ_i, γ = min(S_churn/N, √2 − 1), by adding fresh noise scaled by `noise`.
/// `Churn::none()` is the deterministic sampler.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Churn {
    pub churn: f64,
    pub t_min: f64,
    pub t_max: f64,
    pub noise: f64,
}

impl Churn {
    pub fn none() -> Self {
        Self { churn: 0.0, t_min: 0.0, t_max: f64::INFINITY, noise: 1.0 }
    }
}

pub struct Edm<B: Backend, const D: usize> {
    pub sigma_min: f64,
    pub sigma_max: f64,
    pub rho: f64,
    pub solver: OdeSolver,
    pub churn: Churn,
    /// σ_0 > … > σ_{N−1} = σ_min, σ_N = 0.
    sigmas: Vec<f64>,
    evaluations: Vec<Evaluation>,
    integrator: Integrator<B, D>,
}

impl<B: Backend, const D: usize> Edm<B, D> {
    /// Karras et al.'s defaults: σ from 0.002 to 80, ρ = 7.
    pub fn new(solver: OdeSolver) -> Self {
        Self::with_range(0.002, 80.0, solver)
    }

    pub fn with_range(sigma_min: f64, sigma_max: f64, solver: OdeSolver) -> Self {
        let mut sampler = Self {
            sigma_min,
            sigma_max,
            rho: 7.0,
            solver,
            churn: Churn::none(),
            sigmas: Vec::new(),
            evaluations: Vec::new(),
            integrator: Integrator::default(),
        };
        sampler.set_timesteps(18);
        sampler
    }

    pub fn with_churn(mut self, churn: Churn) -> Self {
        self.churn = churn;
        self
    }

    /// σ_i = (σ_max^{1/ρ} + i/(N − 1)·(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ, then σ_N = 0 (eq. 5).
    pub fn sigmas(&self) -> &[f64] {
        &self.sigmas
    }

    /// σ̂_i: σ_i raised by the churn.
    fn sigma_hat(&self, i: usize) -> f64 {
        let steps = self.sigmas.len() - 1;
        let sigma = self.sigmas[i];
        let c = self.churn;
        let gamma =
            if sigma >= c.t_min && sigma <= c.t_max { (c.churn / steps as f64).min(2f64.sqrt() - 1.0) } else { 0.0 };
        sigma * (1.0 + gamma)
    }
}

impl<B: Backend, const D: usize> Sampler<B, D> for Edm<B, D> {
    fn set_timesteps(&mut self, steps: usize) {
        let steps = steps.max(1);
        let (lo, hi) = (self.sigma_min.powf(1.0 / self.rho), self.sigma_max.powf(1.0 / self.rho));
        self.sigmas = (0..steps)
            .map(|i| {
                let ramp = if steps == 1 { 0.0 } else { i as f64 / (steps - 1) as f64 };
                (hi + ramp * (lo - hi)).powf(self.rho)
            })
            .chain(std::iter::once(0.0))
            .collect();
        self.evaluations = plan(steps, self.solver, true);
        self.integrator.reset();
    }

    fn evaluations(&self) -> usize {
        self.evaluations.len()
    }

    fn level(&self, i: usize) -> NoiseLevel {
        let e = self.evaluations[i];
        NoiseLevel::exploding(if e.second { self.sigmas[e.step + 1] } else { self.sigma_hat(e.step) })
    }

    /// The first step starts at σ̂_0 (its churn folded into the starting noise).
    fn init_noise_sigma(&self) -> f64 {
        self.sigma_hat(0)
    }

    fn uses_noise(&self, i: usize) -> bool {
        let e = self.evaluations[i];
        let completes = e.second || self.solver == OdeSolver::Euler || e.step + 2 == self.sigmas.len();
        let next = e.step + 1;
        completes && next + 1 < self.sigmas.len() && self.sigma_hat(next) > self.sigmas[next]
    }

    fn step(&mut self, output: &Prediction<B, D>, i: usize, x: Tensor<B, D>, noise: Tensor<B, D>) -> Tensor<B, D> {
        let e = self.evaluations[i];
        let sigma = output.level.sigma;
        let d = (x.clone() - output.sample()).div_scalar(sigma);
        let dt = self.sigmas[e.step + 1] - self.sigma_hat(e.step);
        let corrected = self.evaluations.get(i + 1).is_some_and(|n| n.second);
        let next = self.integrator.advance(e, corrected, x, d, dt);
        if <Self as Sampler<B, D>>::uses_noise(self, i) {
            // Churn for the next step: raise σ_{i+1} to σ̂_{i+1}.
            let (s, s_hat) = (self.sigmas[e.step + 1], self.sigma_hat(e.step + 1));
            next + noise.mul_scalar((s_hat * s_hat - s * s).sqrt() * self.churn.noise)
        } else {
            next
        }
    }
}
