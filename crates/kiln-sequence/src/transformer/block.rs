//! A decoder block: causal self-attention and a position-wise MLP, each in a residual branch,
//! with layer norm after the sum (post-norm, Vaswani et al. 2017) or at the branch's input
//! (pre-norm, Xiong et al. 2020, as GPT-2).

use burn::nn::{Dropout, DropoutConfig, Gelu, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;

use super::{Attention, AttentionConfig, KvCache};

#[derive(Config, Debug)]
pub struct DecoderBlockConfig {
    pub d_model: usize,
    pub heads: usize,
    pub d_ff: usize,
    #[config(default = 0.1)]
    pub dropout: f64,
    #[config(default = true)]
    pub pre_norm: bool,
}

impl DecoderBlockConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> DecoderBlock<B> {
        DecoderBlock {
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
pub struct DecoderBlock<B: Backend> {
    pub attention: Attention<B>,
    pub norm_attention: LayerNorm<B>,
    pub expand: Linear<B>,
    pub contract: Linear<B>,
    pub norm_mlp: LayerNorm<B>,
    pub activation: Gelu,
    pub dropout: Dropout,
    pub pre_norm: bool,
}

impl<B: Backend> DecoderBlock<B> {
    fn mlp(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        self.contract.forward(self.dropout.forward(self.activation.forward(self.expand.forward(x))))
    }

    pub fn forward(
        &self,
        x: Tensor<B, 3>,
        cache: Option<KvCache<B>>,
        padding: Option<Tensor<B, 2, Bool>>,
    ) -> (Tensor<B, 3>, KvCache<B>) {
        if self.pre_norm {
            let (attended, cache) = self.attention.forward(self.norm_attention.forward(x.clone()), cache, padding);
            let x = x + self.dropout.forward(attended);
            let x = x.clone() + self.dropout.forward(self.mlp(self.norm_mlp.forward(x)));
            (x, cache)
        } else {
            let (attended, cache) = self.attention.forward(x.clone(), cache, padding);
            let x = self.norm_attention.forward(x + self.dropout.forward(attended));
            let x = self.norm_mlp.forward(x.clone() + self.dropout.forward(self.mlp(x)));
            (x, cache)
        }
    }
}
