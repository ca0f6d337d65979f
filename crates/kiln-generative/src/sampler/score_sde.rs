//! Score-based SDE samplers (Song et al. 2021): the VP and VE SDEs reversed by Euler–Maruyama, by
//! a predictor–corrector with a Langevin corrector, or through the probability-flow ODE with
//! Euler or Heun. The score comes from the denoiser: `∇ log p_t(x) = −ε̂/σ_t`.

use burn::prelude::*;

use super::heun::{plan, Evaluation, Integrator};
use super::{OdeSolver, Sampler};
use crate::level::NoiseLevel;
use crate::prediction::Prediction;

/// The forward SDE `dx = f(x, t) dt + g(t) dw` on t ∈ [0, 1].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SdeProcess {
    /// Variance preserving: β(t) = β_min + t(β_max − β_min), f = −½β(t)x, g² = β(t); the
    /// continuous limit of DDPM's chain (Song et al. eq. 11; β_min = 0.1, β_max = 20).
    Vp { beta_min: f64, beta_max: f64 },
    /// Variance exploding: σ(t) = σ_min(σ_max/σ_min)^t, f = 0, g² = dσ²/dt (eq. 9).
    Ve { sigma_min: f64, sigma_max: f64 },
}

impl SdeProcess {
    pub fn vp() -> Self {
        SdeProcess::Vp { beta_min: 0.1, beta_max: 20.0 }
    }

    /// The level of the marginal p_t: VP α = exp(−¼t²(β_max − β_min) − ½tβ_min), σ = √(1 − α²).
    pub fn level(&self, t: f64) -> NoiseLevel {
        match *self {
            SdeProcess::Vp { beta_min, beta_max } => {
                let alpha = (-0.25 * t * t * (beta_max - beta_min) - 0.5 * t * beta_min).exp();
                NoiseLevel::new(alpha, (1.0 - alpha * alpha).sqrt())
            }
            SdeProcess::Ve { sigma_min, sigma_max } => {
                NoiseLevel::exploding(sigma_min * (sigma_max / sigma_min).powf(t))
            }
        }
    }

    /// (the coefficient of x in f, g²) at t.
    fn drift_and_diffusion(&self, t: f64) -> (f64, f64) {
        match *self {
            SdeProcess::Vp { beta_min, beta_max } => {
                let beta = beta_min + t * (beta_max - beta_min);
                (-0.5 * beta, beta)
            }
            SdeProcess::Ve { sigma_min, sigma_max } => {
                let sigma = self.level(t).sigma;
                (0.0, 2.0 * sigma * sigma * (sigma_max / sigma_min).ln())
            }
        }
    }

    /// The smallest t sampled to (Song et al.: 1e-3 for VP, 1e-5 for VE).
    pub fn end_time(&self) -> f64 {
        match self {
            SdeProcess::Vp { .. } => 1e-3,
            SdeProcess::Ve { .. } => 1e-5,
        }
    }
}

/// How the reverse process is solved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SdeSolver {
    /// The reverse SDE `dx = [f − g²∇log p] dt + g dw̄` by Euler–Maruyama.
    EulerMaruyama,
    /// A Langevin corrector step at signal-to-noise ratio `snr` before each Euler–Maruyama
    /// predictor step (Song et al. Algorithms 4 and 5; snr 0.16 for VE on CIFAR-10).
    PredictorCorrector { snr: f64 },
    /// The probability-flow ODE `dx/dt = f − ½g²∇log p` (eq. 13).
    Ode(OdeSolver),
}

pub struct ScoreSde<B: Backend, const D: usize> {
    pub process: SdeProcess,
    pub solver: SdeSolver,
    /// 1 = t_0 > … > t_N = the end time, evenly spaced.
    times: Vec<f64>,
    evaluations: Vec<Evaluation>,
    integrator: Integrator<B, D>,
}

impl<B: Backend, const D: usize> ScoreSde<B, D> {
    pub fn new(process: SdeProcess, solver: SdeSolver) -> Self {
        let mut sampler =
            Self { process, solver, times: Vec::new(), evaluations: Vec::new(), integrator: Integrator::default() };
        sampler.set_timesteps(1);
        sampler
    }

    fn steps(&self) -> usize {
        self.times.len() - 1
    }

    /// The reverse-time derivative `f − k·g²·score` at t (k = 1 for the SDE, ½ for the ODE).
    fn drift(&self, output: &Prediction<B, D>, x: Tensor<B, D>, t: f64, k: f64) -> Tensor<B, D> {
        let (f, g2) = self.process.drift_and_diffusion(t);
        x.clone().mul_scalar(f) - output.score(x).mul_scalar(k * g2)
    }
}

impl<B: Backend, const D: usize> Sampler<B, D> for ScoreSde<B, D> {
    fn set_timesteps(&mut self, steps: usize) {
        let steps = steps.max(1);
        let end = self.process.end_time();
        self.times = (0..=steps).map(|i| 1.0 - (1.0 - end) * i as f64 / steps as f64).collect();
        self.evaluations = match self.solver {
            SdeSolver::Ode(ode) => plan(steps, ode, false),
            SdeSolver::EulerMaruyama => plan(steps, OdeSolver::Euler, false),
            // Evaluation 2k is step k's corrector, 2k + 1 its predictor, both at t_k.
            SdeSolver::PredictorCorrector { .. } => plan(steps, OdeSolver::Heun, false),
        };
        self.integrator.reset();
    }

    fn evaluations(&self) -> usize {
        self.evaluations.len()
    }

    fn level(&self, i: usize) -> NoiseLevel {
        let e = self.evaluations[i];
        let heun_second = e.second && matches!(self.solver, SdeSolver::Ode(_));
        self.process.level(if heun_second { self.times[e.step + 1] } else { self.times[e.step] })
    }

    fn init_noise_sigma(&self) -> f64 {
        self.process.level(1.0).sigma
    }

    fn uses_noise(&self, i: usize) -> bool {
        let e = self.evaluations[i];
        match self.solver {
            SdeSolver::Ode(_) => false,
            // No noise on the last predictor step: its mean is the sample (Song et al.'s
            // "denoise at the end").
            SdeSolver::EulerMaruyama => e.step + 1 < self.steps(),
            SdeSolver::PredictorCorrector { .. } => !e.second || e.step + 1 < self.steps(),
        }
    }

    fn step(&mut self, output: &Prediction<B, D>, i: usize, x: Tensor<B, D>, noise: Tensor<B, D>) -> Tensor<B, D> {
        let e = self.evaluations[i];
        let t = self.times[e.step];
        let dt = self.times[e.step + 1] - t;
        let stochastic = <Self as Sampler<B, D>>::uses_noise(self, i);
        match self.solver {
            SdeSolver::Ode(_) => {
                let t_eval = if e.second { self.times[e.step + 1] } else { t };
                let d = self.drift(output, x.clone(), t_eval, 0.5);
                let corrected = self.evaluations.get(i + 1).is_some_and(|n| n.second);
                self.integrator.advance(e, corrected, x, d, dt)
            }
            SdeSolver::PredictorCorrector { snr } if !e.second => {
                // Langevin: x + ε·s + √(2ε)·z, ε = 2α(r‖z‖/‖s‖)², norms averaged over the batch.
                let score = output.score(x.clone());
                let alpha = match self.process {
                    SdeProcess::Vp { .. } => 1.0 - self.process.drift_and_diffusion(t).1 / self.steps() as f64,
                    SdeProcess::Ve { .. } => 1.0,
                };
                let (score_norm, noise_norm) = (mean_row_norm(score.clone()), mean_row_norm(noise.clone()));
                let step_size = (noise_norm / score_norm).powf_scalar(2.0).mul_scalar(2.0 * alpha * snr * snr);
                let shape = [1; D];
                let step_size = step_size.reshape(shape);
                x + score * step_size.clone() + noise * step_size.mul_scalar(2.0).sqrt()
            }
            _ => {
                let (_, g2) = self.process.drift_and_diffusion(t);
                let mean = x.clone() + self.drift(output, x, t, 1.0).mul_scalar(dt);
                if stochastic {
                    mean + noise.mul_scalar((g2 * -dt).sqrt())
                } else {
                    mean
                }
            }
        }
    }
}

/// The mean over the batch of each example's Euclidean norm, as a one-element tensor.
fn mean_row_norm<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, 1> {
    let batch = x.dims()[0];
    x.reshape([batch as i32, -1]).powf_scalar(2.0).sum_dim(1).sqrt().mean()
}
