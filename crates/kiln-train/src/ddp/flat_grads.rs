//! The gradient exchange of one step as one contiguous buffer.
//!
//! burn-collective's `GradientsParams::all_reduce` makes one round per parameter tensor
//! (ResNet-18: 62 rounds per step, each paying the latency of every peer and process); kiln
//! flattens every gradient into one vector in module order (the same order on every rank), sums
//! it in one round and divides by the world, as PyTorch DDP's buckets do with one bucket.
//! `[ddp] exchange = "per_tensor"` makes one round per tensor instead, to measure the difference.

use burn::module::{AutodiffModule, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;

use crate::config::GradientExchange;
use crate::error::Result;
use crate::strategy::Reducer;

/// The mean over every replica of `grads`, the gradients of `module`'s parameters.
pub fn mean_grads<B: AutodiffBackend, M: AutodiffModule<B>>(
    mut grads: GradientsParams,
    module: &M,
    reducer: &dyn Reducer<B::InnerBackend>,
) -> Result<GradientsParams> {
    let world = reducer.world();
    if world == 1 {
        return Ok(grads);
    }
    let mut gather = Gather::<B> { grads: &mut grads, taken: Vec::new(), parts: Vec::new() };
    module.visit(&mut gather);
    let Gather { taken, parts, .. } = gather;
    if parts.is_empty() {
        return Ok(grads);
    }
    let summed = match reducer.exchange() {
        GradientExchange::OneBuffer => reducer.sum(Tensor::cat(parts, 0))?,
        GradientExchange::PerTensor => {
            Tensor::cat(parts.into_iter().map(|part| reducer.sum(part)).collect::<Result<Vec<_>>>()?, 0)
        }
    };
    let mean = summed.div_scalar(world as f64);
    module.visit(&mut Scatter::<B> { grads: &mut grads, pending: taken, mean, offset: 0 });
    Ok(grads)
}

/// Takes each parameter's gradient out, flattened, in module order.
struct Gather<'g, B: AutodiffBackend> {
    grads: &'g mut GradientsParams,
    taken: Vec<ParamId>,
    parts: Vec<Tensor<B::InnerBackend, 1>>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Gather<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        // Frozen parameters have no gradient, on every rank alike.
        if let Some(grad) = self.grads.remove::<B::InnerBackend, D>(param.id) {
            self.taken.push(param.id);
            self.parts.push(grad.flatten(0, D - 1));
        }
    }
}

/// Puts the averaged slices back, shaped like their parameters.
struct Scatter<'g, B: AutodiffBackend> {
    grads: &'g mut GradientsParams,
    /// Taken in Gather and not yet put back (a tied parameter is visited twice, reduced once).
    pending: Vec<ParamId>,
    mean: Tensor<B::InnerBackend, 1>,
    offset: usize,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Scatter<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let Some(index) = self.pending.iter().position(|id| *id == param.id) else { return };
        self.pending.remove(index);
        let shape = param.val().shape();
        let n = shape.num_elements();
        let slice = self.mean.clone().slice(self.offset..self.offset + n).reshape(shape);
        self.offset += n;
        self.grads.register::<B::InnerBackend, D>(param.id, slice);
    }
}
