//! Denoising networks: `F(c_in·x, c_noise, class)` for the [`crate::Network`] trait.

mod mlp;
mod time_embedding;
mod unet;

pub use mlp::{MlpDenoiser, MlpDenoiserConfig};
pub use time_embedding::sinusoidal_embedding;
pub use unet::{UNet, UNetConfig};
