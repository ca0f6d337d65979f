//! A residual MLP denoiser for low-dimensional data (the 2-D toy densities): the point and the
//! sinusoidal embedding of the noise level, and optionally a class, through SiLU layers.

use burn::nn::{Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::silu;

use super::time_embedding::sinusoidal_embedding;
use crate::denoiser::Network;

/// c_noise = ¼ ln(σ/α) spans about ±3; frequencies from 100 down to 0.01 resolve it both
/// finely and coarsely.
pub const NOISE_EMBEDDING_SCALE: f64 = 100.0;

#[derive(Config, Debug)]
pub struct MlpDenoiserConfig {
    /// Coordinates of a point.
    pub features: usize,
    #[config(default = 256)]
    pub hidden: usize,
    /// Residual blocks (each LayerNorm → Linear → SiLU → Linear, plus the embedding).
    #[config(default = 3)]
    pub blocks: usize,
    #[config(default = 64)]
    pub embed_dim: usize,
    /// Classes for a class-conditional model (0: unconditional); one more embedding row is the
    /// "no class" of classifier-free guidance.
    #[config(default = 0)]
    pub classes: usize,
}

#[derive(Module, Debug)]
pub struct MlpBlock<B: Backend> {
    norm: LayerNorm<B>,
    up: Linear<B>,
    down: Linear<B>,
    condition: Linear<B>,
}

#[derive(Module, Debug)]
pub struct MlpDenoiser<B: Backend> {
    input: Linear<B>,
    time: Linear<B>,
    class: Option<Embedding<B>>,
    blocks: Vec<MlpBlock<B>>,
    norm: LayerNorm<B>,
    output: Linear<B>,
    embed_dim: usize,
}

impl MlpDenoiserConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> MlpDenoiser<B> {
        let (h, e) = (self.hidden, self.embed_dim);
        let blocks = (0..self.blocks)
            .map(|_| MlpBlock {
                norm: LayerNormConfig::new(h).init(device),
                up: LinearConfig::new(h, 2 * h).init(device),
                down: LinearConfig::new(2 * h, h).init(device),
                condition: LinearConfig::new(h, 2 * h).init(device),
            })
            .collect();
        MlpDenoiser {
            input: LinearConfig::new(self.features, h).init(device),
            time: LinearConfig::new(e, h).init(device),
            class: (self.classes > 0).then(|| EmbeddingConfig::new(self.classes + 1, h).init(device)),
            blocks,
            norm: LayerNormConfig::new(h).init(device),
            output: LinearConfig::new(h, self.features).init(device),
            embed_dim: e,
        }
    }
}

impl<B: Backend> MlpDenoiser<B> {
    /// `x` `[N, features]`, `c_noise` `[N]`, `class` `[N]` → `[N, features]`.
    pub fn forward(&self, x: Tensor<B, 2>, c_noise: Tensor<B, 1>, class: Option<Tensor<B, 1, Int>>) -> Tensor<B, 2> {
        let mut condition = self.time.forward(sinusoidal_embedding(c_noise, self.embed_dim, NOISE_EMBEDDING_SCALE));
        if let (Some(embedding), Some(class)) = (&self.class, class) {
            condition = condition + embedding.forward(class.unsqueeze_dim::<2>(1)).squeeze_dim::<2>(1);
        }
        let condition = silu(condition);
        let mut h = self.input.forward(x);
        for block in &self.blocks {
            let inner = block.up.forward(block.norm.forward(h.clone())) + block.condition.forward(condition.clone());
            h = h + block.down.forward(silu(inner));
        }
        self.output.forward(silu(self.norm.forward(h)))
    }
}

impl<B: Backend> Network<B, 2> for MlpDenoiser<B> {
    fn forward(&self, x: Tensor<B, 2>, c_noise: Tensor<B, 1>, class: Option<Tensor<B, 1, Int>>) -> Tensor<B, 2> {
        MlpDenoiser::forward(self, x, c_noise, class)
    }
}
