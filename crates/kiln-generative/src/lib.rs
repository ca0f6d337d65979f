//! Generative models for kiln, generic over Burn's `Backend`: diffusion (DDPM, DDIM, score SDEs,
//! EDM) and rectified flow, as diffusers builds them — **samplers never see the network**. A
//! sampler asks a [`Denoiser`] for its estimate of the clean data at a [`NoiseLevel`] and reads
//! whatever it needs from the [`Prediction`] (ε, x₀, v, score or velocity), so any sampler runs
//! with any trained denoiser, on any backend.
//!
//! Every process here is `x = α·x₀ + σ·ε`: the VP processes (DDPM's discrete ᾱ_t, the VP SDE)
//! have α² + σ² = 1, the VE SDE and EDM have α = 1, rectified flow has α = 1 − t, σ = t. A
//! network trained under one of them answers the others through its [`Preconditioning`] (Karras
//! et al. 2022, Table 1), which sees only σ/α.
//!
//! ```
//! use burn::backend::NdArray;
//! use kiln_generative::analytic::GaussianData;
//! use kiln_generative::sampler::{Ddim, Sampler};
//! use kiln_generative::schedule::BetaSchedule;
//! use kiln_generative::{sample, GaussianNoise};
//!
//! // The exact denoiser of N(2, 0.5²) data, sampled with 50 DDIM steps of a 1,000-step schedule.
//! let data = GaussianData::new(2.0, 0.5);
//! let mut ddim = Ddim::new(BetaSchedule::linear().discretize(1000), 0.0);
//! ddim.set_timesteps(50);
//! let device = Default::default();
//! let drawn = sample::<NdArray, 2, _, _>(&data, &mut ddim, [4000, 1], &mut GaussianNoise::new(7), &device, |_, _| {});
//! assert_eq!(drawn.nfe, 50);
//! let x = drawn.x.into_data().to_vec::<f32>().unwrap();
//! let mean = x.iter().sum::<f32>() / x.len() as f32;
//! assert!((mean - 2.0).abs() < 0.05);
//! ```

pub mod analytic;
pub mod clip;
pub mod denoiser;
pub mod error;
pub mod guidance;
pub mod level;
pub mod network;
pub mod noise;
pub mod objective;
pub mod parameterization;
pub mod prediction;
pub mod sample;
pub mod sampler;
pub mod schedule;

pub use clip::Clipped;
pub use denoiser::{Denoiser, Network, Preconditioned};
pub use error::GenerativeError;
pub use level::NoiseLevel;
pub use noise::GaussianNoise;
pub use parameterization::{Parameterization, Preconditioning};
pub use prediction::Prediction;
pub use sample::{sample, Drawn};
