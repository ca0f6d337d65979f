//! The one interface samplers see: something that estimates the clean data at a noise level.
//! A trained [`Network`] becomes a [`Denoiser`] through its [`Preconditioning`]; so do the
//! guided and analytic denoisers.

use burn::prelude::*;

use crate::level::NoiseLevel;
use crate::parameterization::Preconditioning;
use crate::prediction::Prediction;

/// An estimate of `x₀` at a point `x` of `level` (the same level for the whole batch). Any
/// condition (a class, a guidance weight) is part of the denoiser, not of the sampler.
pub trait Denoiser<B: Backend, const D: usize> {
    fn denoise(&self, x: Tensor<B, D>, level: NoiseLevel) -> Prediction<B, D>;
}

/// A denoising network's raw forward pass `F(c_in·x, c_noise, class)`, per example: `c_noise`
/// has one value per example, `class` one label per example where the value `classes` (one past
/// the last class) means "no class" (classifier-free guidance's null condition).
pub trait Network<B: Backend, const D: usize> {
    fn forward(&self, x: Tensor<B, D>, c_noise: Tensor<B, 1>, class: Option<Tensor<B, 1, Int>>) -> Tensor<B, D>;
}

/// A network read through its preconditioning, optionally for one class per example.
pub struct Preconditioned<'a, N, B: Backend> {
    pub network: &'a N,
    pub preconditioning: Preconditioning,
    pub class: Option<Tensor<B, 1, Int>>,
}

impl<'a, N, B: Backend> Preconditioned<'a, N, B> {
    pub fn new(network: &'a N, preconditioning: Preconditioning) -> Self {
        Self { network, preconditioning, class: None }
    }

    pub fn with_class(mut self, class: Tensor<B, 1, Int>) -> Self {
        self.class = Some(class);
        self
    }
}

/// `x₀ = a·x + b·F(c_in·x, c_noise, class)`: the network's estimate at `level`.
pub fn network_x0<B: Backend, const D: usize, N: Network<B, D>>(
    network: &N,
    preconditioning: &Preconditioning,
    x: Tensor<B, D>,
    level: NoiseLevel,
    class: Option<Tensor<B, 1, Int>>,
) -> Tensor<B, D> {
    let batch = x.dims()[0];
    let c_noise = Tensor::<B, 1>::full([batch], preconditioning.c_noise(level), &x.device());
    let out = network.forward(x.clone().mul_scalar(preconditioning.c_in(level)), c_noise, class);
    let (a, b) = preconditioning.readout(level);
    x.mul_scalar(a) + out.mul_scalar(b)
}

impl<B: Backend, const D: usize, N: Network<B, D>> Denoiser<B, D> for Preconditioned<'_, N, B> {
    fn denoise(&self, x: Tensor<B, D>, level: NoiseLevel) -> Prediction<B, D> {
        Prediction::new(network_x0(self.network, &self.preconditioning, x, level, self.class.clone()), level)
    }
}

/// A boxed denoiser (one chosen at run time: guided or not, clipped or not) is a denoiser.
impl<B: Backend, const D: usize, M: Denoiser<B, D> + ?Sized> Denoiser<B, D> for Box<M> {
    fn denoise(&self, x: Tensor<B, D>, level: NoiseLevel) -> Prediction<B, D> {
        (**self).denoise(x, level)
    }
}
