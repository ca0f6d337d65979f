//! What the loop asks of a strategy: the replica's rank among how many, and the reductions that
//! keep replicas in step. One device reduces nothing; DDP ([`crate::ddp`]) sums with
//! burn-collective among a process's devices and with MPI among processes. The strategy has no loop of its own: single-device and DDP runs go through
//! the same [`crate::trainer`] loop, as in burn-train's and Lightning's designs.

use burn::prelude::*;

use crate::config::GradientExchange;
use crate::error::Result;

/// The reductions of one replica. `B` is the inner (non-autodiff) backend: gradients and
/// figures are plain tensors.
pub trait Reducer<B: Backend> {
    /// Global rank of this replica, 0-based.
    fn rank(&self) -> usize;
    /// Replicas in the run.
    fn world(&self) -> usize;
    /// How gradients travel through [`Reducer::sum`].
    fn exchange(&self) -> GradientExchange {
        GradientExchange::OneBuffer
    }
    /// The element-wise sum of every replica's `values` (each replica gets the same result);
    /// gradients travel through it flattened ([`crate::ddp::mean_grads`]).
    fn sum(&self, values: Tensor<B, 1>) -> Result<Tensor<B, 1>>;
}

/// One device: every reduction is the identity.
#[derive(Debug, Clone, Copy, Default)]
pub struct SingleDevice;

impl<B: Backend> Reducer<B> for SingleDevice {
    fn rank(&self) -> usize {
        0
    }
    fn world(&self) -> usize {
        1
    }
    fn sum(&self, values: Tensor<B, 1>) -> Result<Tensor<B, 1>> {
        Ok(values)
    }
}
