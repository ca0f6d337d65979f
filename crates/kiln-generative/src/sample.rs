//! The sampling loop: noise in, samples out, the sampler stepping on the denoiser's answers.

use burn::prelude::*;

use crate::denoiser::Denoiser;
use crate::noise::GaussianNoise;
use crate::sampler::Sampler;

/// Samples and the number of network evaluations (NFE) they cost.
#[derive(Debug, Clone)]
pub struct Drawn<B: Backend, const D: usize> {
    pub x: Tensor<B, D>,
    /// Calls of the denoiser: a guided denoiser that runs its network twice per call (the
    /// conditional and unconditional halves of one batch) still counts once.
    pub nfe: usize,
}

/// Draws `shape` samples: starts from `init_noise_sigma · N(0, I)` and runs every evaluation of
/// `sampler` (after its `set_timesteps`), drawing each step's noise from `noise`; `progress` is
/// told `(done, total)` after each evaluation.
pub fn sample<B: Backend, const D: usize, M: Denoiser<B, D> + ?Sized, S: Sampler<B, D> + ?Sized>(
    denoiser: &M,
    sampler: &mut S,
    shape: [usize; D],
    noise: &mut GaussianNoise,
    device: &B::Device,
    mut progress: impl FnMut(usize, usize),
) -> Drawn<B, D> {
    let total = sampler.evaluations();
    let mut x = noise.tensor::<B, D>(shape, device).mul_scalar(sampler.init_noise_sigma());
    for i in 0..total {
        let prediction = denoiser.denoise(x.clone(), sampler.level(i));
        let z = if sampler.uses_noise(i) { noise.tensor::<B, D>(shape, device) } else { x.zeros_like() };
        x = sampler.step(&prediction, i, x, z);
        progress(i + 1, total);
    }
    Drawn { x, nfe: total }
}
