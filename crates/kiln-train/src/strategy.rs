//! What the loop asks of a strategy: the replica's rank among how many, and the reductions that
//! keep replicas in step. One device reduces nothing; DDP ([`crate::ddp`]) all-reduces with
//! burn-collective. The strategy has no loop of its own: single-device and DDP runs go through
//! the same [`crate::trainer`] loop, as in burn-train's and Lightning's designs.

use burn::optim::GradientsParams;
use burn::prelude::*;

use crate::error::Result;

/// The reductions of one replica. `B` is the inner (non-autodiff) backend: gradients and
/// figures are plain tensors.
pub trait Reducer<B: Backend> {
    /// Global rank of this replica, 0-based.
    fn rank(&self) -> usize;
    /// Replicas in the run.
    fn world(&self) -> usize;
    /// The mean of every replica's gradients (each replica gets the same result).
    fn mean_grads(&self, grads: GradientsParams) -> Result<GradientsParams>;
    /// The element-wise sum of every replica's `values`.
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
    fn mean_grads(&self, grads: GradientsParams) -> Result<GradientsParams> {
        Ok(grads)
    }
    fn sum(&self, values: Tensor<B, 1>) -> Result<Tensor<B, 1>> {
        Ok(values)
    }
}
