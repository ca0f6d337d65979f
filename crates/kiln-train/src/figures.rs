//! Figures: a task's named numbers (`loss`, `accuracy`, `d_loss`, `mean_iou`), and the meter that
//! accumulates them on the device so that a training step never waits for the host.

use std::collections::BTreeMap;

use burn::prelude::*;

use crate::error::{KilnError, Result};
use crate::strategy::Reducer;

/// Named figures of one split, sorted by name.
pub type Figures = BTreeMap<String, f64>;

/// Example-weighted means of named device scalars over a phase.
///
/// [`FigureMeter::add`] only queues device work; [`FigureMeter::read`] reads every running sum in
/// one transfer (after an all-reduce under DDP). The loop reads every `train.log_every` steps and
/// at the end of an epoch, so a GPU is never stalled by a per-step host read.
pub struct FigureMeter<B: Backend> {
    names: Vec<String>,
    sums: Vec<Tensor<B, 1>>,
    weights: Vec<f64>,
}

impl<B: Backend> Default for FigureMeter<B> {
    fn default() -> Self {
        Self { names: Vec::new(), sums: Vec::new(), weights: Vec::new() }
    }
}

impl<B: Backend> FigureMeter<B> {
    /// Adds `value` (a one-element tensor: a batch's mean) with the weight of `examples`.
    pub fn add(&mut self, name: &str, value: Tensor<B, 1>, examples: usize) {
        let weighted = value.mul_scalar(examples as f64);
        match self.names.iter().position(|n| n == name) {
            Some(i) => {
                self.sums[i] = self.sums[i].clone() + weighted;
                self.weights[i] += examples as f64;
            }
            None => {
                self.names.push(name.to_string());
                self.sums.push(weighted);
                self.weights.push(examples as f64);
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The means so far, summed over the peers of `reducer` first. `step` is the caller's global
    /// step: under DDP every peer must be at the same one, or the processes resumed from
    /// different checkpoints.
    pub fn read(&self, reducer: &dyn Reducer<B>, step: usize) -> Result<Figures> {
        if self.names.is_empty() {
            return Ok(Figures::new());
        }
        let device = self.sums[0].device();
        let mut parts = self.sums.clone();
        let host: Vec<f32> = self.weights.iter().map(|&w| w as f32).chain([step as f32]).collect();
        parts.push(Tensor::from_floats(host.as_slice(), &device));
        let mut packed = Tensor::cat(parts, 0);
        let world = reducer.world();
        if world > 1 {
            packed = reducer.sum(packed)?;
        }
        let values: Vec<f64> = packed.into_data().convert::<f64>().to_vec().expect("f64 figures");
        let k = self.names.len();
        let steps = values[2 * k] / world as f64;
        if world > 1 && steps != step as f64 {
            return Err(KilnError::Ddp(format!(
                "peer {} is at step {step} but the peers average step {steps}: the processes resumed from different checkpoints",
                reducer.rank()
            )));
        }
        Ok(self.names.iter().enumerate().map(|(i, name)| (name.clone(), values[i] / values[k + i])).collect())
    }
}

/// The first figure that is NaN or infinite, by name.
pub fn first_non_finite(figures: &Figures) -> Option<(&str, f64)> {
    figures.iter().find(|(_, v)| !v.is_finite()).map(|(n, v)| (n.as_str(), *v))
}
