//! Training a denoiser: which noise levels a process draws, and the loss of the network's
//! output on its parameterisation's target (Karras et al. 2022, Table 1's "training" rows).

use burn::prelude::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;

use crate::denoiser::Network;
use crate::level::NoiseLevel;
use crate::parameterization::{Parameterization, Preconditioning};
use crate::schedule::DiscreteSchedule;

/// The noising process a model is trained under.
#[derive(Debug, Clone, PartialEq)]
pub enum Process {
    /// DDPM (Ho et al. 2020): t uniform on the schedule's steps, ᾱ_t from it.
    Discrete(DiscreteSchedule),
    /// EDM (Karras et al. 2022, §5): α = 1, ln σ ~ N(P_mean, P_std²).
    LogNormal { p_mean: f64, p_std: f64 },
    /// Song et al. 2021's VE SDE: α = 1, σ = σ_min(σ_max/σ_min)^t with t ~ U(0, 1).
    Exploding { sigma_min: f64, sigma_max: f64 },
    /// Rectified flow / flow matching (Liu et al. 2022; Lipman et al. 2023): t ~ U(0, 1),
    /// α = 1 − t, σ = t.
    Straight,
}

impl Process {
    /// One level per example, from `rng`.
    pub fn draw(&self, rng: &mut StdRng) -> NoiseLevel {
        match self {
            Process::Discrete(schedule) => schedule.level(rng.random_range(0..schedule.len())),
            Process::LogNormal { p_mean, p_std } => {
                let z: f64 = rng.sample(StandardNormal);
                NoiseLevel::exploding((p_mean + p_std * z).exp())
            }
            Process::Exploding { sigma_min, sigma_max } => {
                NoiseLevel::exploding(sigma_min * (sigma_max / sigma_min).powf(rng.random::<f64>()))
            }
            Process::Straight => {
                let t = rng.random::<f64>();
                NoiseLevel::new(1.0 - t, t)
            }
        }
    }

    /// The range of σ/α the process trains on (where a sampler of another family should stay).
    pub fn sigma_range(&self) -> (f64, f64) {
        match self {
            Process::Discrete(s) => (s.level(0).sigma_ve(), s.level(s.len() - 1).sigma_ve()),
            Process::LogNormal { .. } => (0.002, 80.0),
            Process::Exploding { sigma_min, sigma_max } => (*sigma_min, *sigma_max),
            Process::Straight => (1e-3, 1e3),
        }
    }
}

/// A host batch's noise: the levels and N(0, I) draws of `n` examples of `per_example` values,
/// and the classes with some replaced by the null class (classifier-free guidance's condition
/// dropout, Ho & Salimans 2022 §3.2).
#[derive(Debug, Clone)]
pub struct NoiseDraw {
    pub levels: Vec<NoiseLevel>,
    pub noise: Vec<f32>,
    pub classes: Option<Vec<i64>>,
}

impl NoiseDraw {
    /// Draws from `seed` alone, so a batch's noise is the same after a resume.
    pub fn new(
        process: &Process,
        n: usize,
        per_example: usize,
        classes: Option<(&[i64], usize, f64)>,
        seed: u64,
    ) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let levels = (0..n).map(|_| process.draw(&mut rng)).collect();
        let noise = (0..n * per_example).map(|_| rng.sample::<f32, _>(StandardNormal)).collect();
        let classes = classes.map(|(labels, null, drop)| {
            labels.iter().map(|&c| if rng.random::<f64>() < drop { null as i64 } else { c }).collect()
        });
        Self { levels, noise, classes }
    }
}

/// Per-example scalars as a tensor shaped to broadcast over `[N, …]`.
fn per_example<B: Backend, const D: usize>(values: Vec<f32>, device: &B::Device) -> Tensor<B, D> {
    let n = values.len();
    let mut shape = [1; D];
    shape[0] = n;
    Tensor::<B, 1>::from_data(TensorData::new(values, [n]), device).reshape(shape)
}

/// `x = α·x₀ + σ·ε` per example, with the levels and noise of `draw`.
pub fn noised<B: Backend, const D: usize>(x0: Tensor<B, D>, draw: &NoiseDraw) -> Tensor<B, D> {
    let device = x0.device();
    let shape = x0.shape();
    let noise =
        Tensor::<B, 1>::from_data(TensorData::new(draw.noise.clone(), [draw.noise.len()]), &device).reshape(shape);
    let coefficient = |f: &dyn Fn(&NoiseLevel) -> f64| -> Tensor<B, D> {
        per_example(draw.levels.iter().map(|l| f(l) as f32).collect(), &device)
    };
    x0 * coefficient(&|l| l.alpha) + noise * coefficient(&|l| l.sigma)
}

/// The denoising loss `mean ‖F(c_in·x, c_noise, class) − (x₀ − a·x)/b‖²` with
/// `x = α·x₀ + σ·ε` per example: ε-prediction's `‖ε̂ − ε‖²` (Ho et al. eq. 14), v-prediction's,
/// rectified flow's `‖v̂ − (ε − x₀)‖²`, EDM's λ(σ)-weighted loss (eq. 8), all as one mean square.
pub fn denoising_loss<B: Backend, const D: usize, N: Network<B, D>>(
    network: &N,
    preconditioning: &Preconditioning,
    x0: Tensor<B, D>,
    draw: &NoiseDraw,
) -> Tensor<B, 1> {
    let device = x0.device();
    let coefficient = |f: &dyn Fn(&NoiseLevel) -> f64| -> Tensor<B, D> {
        per_example(draw.levels.iter().map(|l| f(l) as f32).collect(), &device)
    };
    let x = noised(x0.clone(), draw);
    let a = coefficient(&|l| preconditioning.readout(*l).0);
    let b = coefficient(&|l| preconditioning.readout(*l).1);
    let target = (x0 - x.clone() * a) / b;
    let c_noise = Tensor::<B, 1>::from_floats(
        draw.levels.iter().map(|l| preconditioning.c_noise(*l) as f32).collect::<Vec<_>>().as_slice(),
        &device,
    );
    let class =
        draw.classes.as_ref().map(|c| Tensor::<B, 1, Int>::from_data(TensorData::new(c.clone(), [c.len()]), &device));
    let output = network.forward(x * coefficient(&|l| preconditioning.c_in(*l)), c_noise, class);
    (output - target).powf_scalar(2.0).mean()
}

/// The parameterisation's usual partner: what each process trains by default.
pub fn default_parameterization(process: &Process) -> Parameterization {
    match process {
        Process::Discrete(_) | Process::Exploding { .. } => Parameterization::Epsilon,
        Process::LogNormal { .. } => Parameterization::Edm,
        Process::Straight => Parameterization::Velocity,
    }
}
