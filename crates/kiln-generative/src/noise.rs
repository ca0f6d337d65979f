//! Gaussian noise drawn on the host from a seed.
//!
//! Drawn here rather than with Burn's `Tensor::random` so that a seed gives the same samples on
//! every backend and device (each backend seeds its own generator differently), and so that a
//! sampling run never shares a random stream with training.

use burn::prelude::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;

/// A stream of standard normal draws.
pub struct GaussianNoise {
    rng: StdRng,
}

impl GaussianNoise {
    pub fn new(seed: u64) -> Self {
        Self { rng: StdRng::seed_from_u64(seed) }
    }

    /// `n` draws on the host.
    pub fn draw(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.rng.sample::<f32, _>(StandardNormal)).collect()
    }

    /// A tensor of `shape` filled with draws.
    pub fn tensor<B: Backend, const D: usize>(&mut self, shape: [usize; D], device: &B::Device) -> Tensor<B, D> {
        let n = shape.iter().product();
        Tensor::<B, 1>::from_data(TensorData::new(self.draw(n), [n]), device).reshape(shape)
    }
}
