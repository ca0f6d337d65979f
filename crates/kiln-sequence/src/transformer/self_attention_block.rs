//! A block of self-attention and a position-wise MLP, each in a residual branch with pre- or
//! post-norm: causal in a decoder-only language model, both ways in an encoder.

use burn::nn::{Dropout, DropoutConfig, Gelu, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;

use super::residual::{feed_forward, residual};
use super::{Attention, AttentionConfig, KvCache};

#[derive(Config, Debug)]
pub struct SelfAttentionBlockConfig {
    pub d_model: usize,
    pub heads: usize,
    pub d_ff: usize,
    #[config(default = 0.1)]
    pub dropout: f64,
    #[config(default = true)]
    pub pre_norm: bool,
}

impl SelfAttentionBlockConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> SelfAttentionBlock<B> {
        SelfAttentionBlock {
            attention: AttentionConfig::new(self.d_model, self.heads).with_dropout(self.dropout).init(device),
            norm_attention: LayerNormConfig::new(self.d_model).init(device),
            expand: LinearConfig::new(self.d_model, self.d_ff).init(device),
            contract: LinearConfig::new(self.d_ff, self.d_model).init(device),
            norm_mlp: LayerNormConfig::new(self.d_model).init(device),
            activation: Gelu::new(),
            dropout: DropoutConfig::new(self.dropout).init(),
            pre_norm: self.pre_norm,
        }
    }
}

#[derive(Module, Debug)]
pub struct SelfAttentionBlock<B: Backend> {
    pub attention: Attention<B>,
    pub norm_attention: LayerNorm<B>,
    pub expand: Linear<B>,
    pub contract: Linear<B>,
    pub norm_mlp: LayerNorm<B>,
    pub activation: Gelu,
    pub dropout: Dropout,
    pub pre_norm: bool,
}

impl<B: Backend> SelfAttentionBlock<B> {
    fn mlp(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        residual(x, &self.norm_mlp, self.pre_norm, &self.dropout, |x| {
            feed_forward(x, &self.expand, &self.contract, &self.activation, &self.dropout)
        })
    }

    /// Causal: each step sees the cached positions and itself, never a later step (see
    /// [`Attention::forward`]). Returns the cache extended by these steps.
    pub fn forward(
        &self,
        x: Tensor<B, 3>,
        cache: Option<KvCache<B>>,
        padding: Option<Tensor<B, 2, Bool>>,
    ) -> (Tensor<B, 3>, KvCache<B>) {
        let mut extended = None;
        let x = residual(x, &self.norm_attention, self.pre_norm, &self.dropout, |x| {
            let (attended, cache) = self.attention.forward(x, cache, padding);
            extended = Some(cache);
            attended
        });
        (self.mlp(x), extended.expect("the attention branch ran"))
    }

    /// Every step sees every unpadded step (the encoder's self-attention).
    pub fn forward_bidirectional(&self, x: Tensor<B, 3>, padding: Option<Tensor<B, 2, Bool>>) -> Tensor<B, 3> {
        let x = residual(x, &self.norm_attention, self.pre_norm, &self.dropout, |x| {
            self.attention.forward_bidirectional(x, padding)
        });
        self.mlp(x)
    }
}
