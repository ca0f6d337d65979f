//! Denoising networks: `F(c_in·x, c_noise, class)` for the [`crate::Network`] trait, and the
//! noise-aware classifier of classifier guidance.

mod blocks;
mod mlp;
mod noisy_classifier;
mod time_embedding;
mod unet;

pub use mlp::{MlpDenoiser, MlpDenoiserConfig};
pub use noisy_classifier::{NoisyClassifier, NoisyClassifierConfig};
pub use time_embedding::sinusoidal_embedding;
pub use unet::{UNet, UNetConfig};
