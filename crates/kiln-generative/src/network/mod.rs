//! Denoising networks: `F(c_in·x, c_noise, class)` for the [`crate::Network`] trait.

mod mlp;
mod time_embedding;

pub use mlp::{MlpDenoiser, MlpDenoiserConfig};
pub use time_embedding::sinusoidal_embedding;
