//! Rectified flow's sampler (Liu, Gong & Liu 2022): the learned ODE `dx/dt = v(x, t)` from noise
//! at t = 1 to data at t = 0 along `x_t = (1 − t)·x₀ + t·ε`, Euler or Heun, with the straightness
//! of the path it took.

use burn::prelude::*;

use super::heun::{plan, Evaluation, Integrator};
use super::{OdeSolver, Sampler};
use crate::level::NoiseLevel;
use crate::prediction::Prediction;

/// How far inside t = 1 the first evaluation asks.
const QUERY_EDGE: f64 = 1e-4;

pub struct RectifiedFlow<B: Backend, const D: usize> {
    pub solver: OdeSolver,
    /// 1 = t_0 > … > t_N = 0, evenly spaced.
    times: Vec<f64>,
    evaluations: Vec<Evaluation>,
    integrator: Integrator<B, D>,
    path: Option<PathRecord<B, D>>,
}

/// What the straightness needs of the path: its start and the time-weighted sums of the
/// velocity and of its square norm, at the grid's points.
struct PathRecord<B: Backend, const D: usize> {
    start: Tensor<B, D>,
    velocity_sum: Tensor<B, D>,
    square_sum: Tensor<B, 1>,
}

impl<B: Backend, const D: usize> RectifiedFlow<B, D> {
    pub fn new(solver: OdeSolver) -> Self {
        let mut sampler =
            Self { solver, times: Vec::new(), evaluations: Vec::new(), integrator: Integrator::default(), path: None };
        sampler.set_timesteps(1);
        sampler
    }
}

impl<B: Backend, const D: usize> Sampler<B, D> for RectifiedFlow<B, D> {
    fn set_timesteps(&mut self, steps: usize) {
        let steps = steps.max(1);
        self.times = (0..=steps).map(|i| 1.0 - i as f64 / steps as f64).collect();
        self.evaluations = plan(steps, self.solver, true);
        self.integrator.reset();
        self.path = None;
    }

    fn evaluations(&self) -> usize {
        self.evaluations.len()
    }

    fn level(&self, i: usize) -> NoiseLevel {
        let e = self.evaluations[i];
        let t = if e.second { self.times[e.step + 1] } else { self.times[e.step] };
        // Asked just inside t = 1, where α = 0 leaves an ε- or EDM-parameterised network (a
        // DDPM sampled as a flow) without a read-out; the step still spans the whole interval.
        let t = t.min(1.0 - QUERY_EDGE);
        NoiseLevel::new(1.0 - t, t)
    }

    fn init_noise_sigma(&self) -> f64 {
        1.0
    }

    fn uses_noise(&self, _i: usize) -> bool {
        false
    }

    fn step(&mut self, output: &Prediction<B, D>, i: usize, x: Tensor<B, D>, _noise: Tensor<B, D>) -> Tensor<B, D> {
        let e = self.evaluations[i];
        let velocity = output.velocity(x.clone());
        let dt = self.times[e.step + 1] - self.times[e.step];
        if !e.second {
            let weight = -dt;
            let square = velocity.clone().powf_scalar(2.0).sum().mul_scalar(weight);
            let weighted = velocity.clone().mul_scalar(weight);
            self.path = Some(match self.path.take() {
                None => PathRecord { start: x.clone(), velocity_sum: weighted, square_sum: square },
                Some(p) => PathRecord {
                    start: p.start,
                    velocity_sum: p.velocity_sum + weighted,
                    square_sum: p.square_sum + square,
                },
            });
        }
        let corrected = self.evaluations.get(i + 1).is_some_and(|n| n.second);
        self.integrator.advance(e, corrected, x, velocity, dt)
    }

    /// Liu et al.'s straightness `S = ∫₀¹ E‖(x₀ − x₁) − ẋ_t‖² dt` of the last sampling run, with
    /// x₁ its noise, x₀ = `end` its samples and ẋ_t the velocity toward the data at the grid's
    /// points; averaged over examples and coordinates. Zero for a perfectly straight flow.
    /// `None` before a run.
    fn straightness(&self, end: Tensor<B, D>) -> Option<f64> {
        let path = self.path.as_ref()?;
        let per_example: usize = end.dims()[1..].iter().product();
        let batch = end.dims()[0];
        let displacement = end - path.start.clone();
        // ẋ = −v (t runs backwards), so ‖Δ + v‖² summed over the grid with weights Δt.
        let total = displacement.clone().powf_scalar(2.0).sum()
            + (displacement * path.velocity_sum.clone()).sum().mul_scalar(2.0)
            + path.square_sum.clone();
        let total = total.into_scalar().elem::<f64>();
        Some(total / (batch * per_example) as f64)
    }
}
