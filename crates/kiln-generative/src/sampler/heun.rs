//! The ODE samplers' shared integrator: Euler, or Heun's second-order correction (Karras et al.
//! 2022, Algorithm 1), over a grid of steps each from `start` to `end` of the sampler's time.

use burn::prelude::*;

use super::OdeSolver;

/// One network evaluation of the plan: the first of step `step`, or Heun's second at its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Evaluation {
    pub step: usize,
    pub second: bool,
}

/// The evaluations of `steps` steps; the last step takes Euler when `euler_last` (its end is
/// where the derivative is undefined: σ = 0, or rectified flow's t = 0).
pub(crate) fn plan(steps: usize, solver: OdeSolver, euler_last: bool) -> Vec<Evaluation> {
    let mut evaluations = Vec::new();
    for step in 0..steps {
        evaluations.push(Evaluation { step, second: false });
        if solver == OdeSolver::Heun && !(euler_last && step + 1 == steps) {
            evaluations.push(Evaluation { step, second: true });
        }
    }
    evaluations
}

/// Heun's pending first half: where the step started and its first derivative.
pub(crate) struct Integrator<B: Backend, const D: usize> {
    pending: Option<(Tensor<B, D>, Tensor<B, D>)>,
}

impl<B: Backend, const D: usize> Default for Integrator<B, D> {
    fn default() -> Self {
        Self { pending: None }
    }
}

impl<B: Backend, const D: usize> Integrator<B, D> {
    /// Advances with the derivative `d` at `x`, over `dt = end − start`. A first evaluation
    /// that Heun will correct returns the Euler point to evaluate next; a second returns the
    /// trapezoid between both derivatives from the step's start.
    pub fn advance(
        &mut self,
        evaluation: Evaluation,
        corrected: bool,
        x: Tensor<B, D>,
        d: Tensor<B, D>,
        dt: f64,
    ) -> Tensor<B, D> {
        if evaluation.second {
            let (start, d_first) = self.pending.take().expect("Heun's second evaluation follows its first");
            return start + (d_first + d).mul_scalar(0.5 * dt);
        }
        let euler = x.clone() + d.clone().mul_scalar(dt);
        if corrected {
            self.pending = Some((x, d));
        }
        euler
    }

    pub fn reset(&mut self) {
        self.pending = None;
    }
}
