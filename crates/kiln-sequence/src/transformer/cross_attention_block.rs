//! The encoder–decoder Transformer's decoder block (Vaswani et al. 2017, Sec. 3.1): causal
//! self-attention, attention to the encoder's output, and a position-wise MLP, each in a
//! residual branch with pre- or post-norm.

use burn::nn::{Dropout, DropoutConfig, Gelu, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;

use super::residual::{feed_forward, residual};
use super::{Attention, AttentionConfig};

#[derive(Config, Debug)]
pub struct CrossAttentionBlockConfig {
    pub d_model: usize,
    pub heads: usize,
    pub d_ff: usize,
    #[config(default = 0.1)]
    pub dropout: f64,
    #[config(default = true)]
    pub pre_norm: bool,
}

impl CrossAttentionBlockConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> CrossAttentionBlock<B> {
        let attention = || AttentionConfig::new(self.d_model, self.heads).with_dropout(self.dropout).init(device);
        let norm = || LayerNormConfig::new(self.d_model).init(device);
        CrossAttentionBlock {
            self_attention: attention(),
            norm_self: norm(),
            cross_attention: attention(),
            norm_cross: norm(),
            expand: LinearConfig::new(self.d_model, self.d_ff).init(device),
            contract: LinearConfig::new(self.d_ff, self.d_model).init(device),
            norm_mlp: norm(),
            activation: Gelu::new(),
            dropout: DropoutConfig::new(self.dropout).init(),
            pre_norm: self.pre_norm,
        }
    }
}

#[derive(Module, Debug)]
pub struct CrossAttentionBlock<B: Backend> {
    pub self_attention: Attention<B>,
    pub norm_self: LayerNorm<B>,
    pub cross_attention: Attention<B>,
    pub norm_cross: LayerNorm<B>,
    pub expand: Linear<B>,
    pub contract: Linear<B>,
    pub norm_mlp: LayerNorm<B>,
    pub activation: Gelu,
    pub dropout: Dropout,
    pub pre_norm: bool,
}

impl<B: Backend> CrossAttentionBlock<B> {
    /// `x` (`[batch, steps, d_model]`, the target so far) attends causally to itself and to
    /// every unpadded step of `memory` (`[batch, source, d_model]`).
    pub fn forward(
        &self,
        x: Tensor<B, 3>,
        memory: Tensor<B, 3>,
        memory_padding: Option<Tensor<B, 2, Bool>>,
    ) -> Tensor<B, 3> {
        let (pre_norm, dropout) = (self.pre_norm, &self.dropout);
        let x = residual(x, &self.norm_self, pre_norm, dropout, |x| self.self_attention.forward(x, None, None).0);
        let x = residual(x, &self.norm_cross, pre_norm, dropout, |x| {
            self.cross_attention.forward_cross(x, memory, memory_padding)
        });
        residual(x, &self.norm_mlp, pre_norm, dropout, |x| {
            feed_forward(x, &self.expand, &self.contract, &self.activation, dropout)
        })
    }
}
