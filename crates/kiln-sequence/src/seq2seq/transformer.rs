//! The encoder–decoder Transformer (Vaswani et al. 2017): one embedding shared by source,
//! target and read-out (Sec. 3.4), an encoder of bidirectional self-attention blocks and a
//! decoder of causal self-attention plus cross-attention blocks.

use burn::module::Param;
use burn::nn::{Dropout, DropoutConfig, Embedding, LayerNorm, LayerNormConfig, Linear};
use burn::prelude::*;

use crate::config_check::check_sizes_and_dropout;

use super::Seq2SeqModel;
use crate::transformer::{
    embed_tokens, read_out, AttentionConfig, CrossAttentionBlock, CrossAttentionBlockConfig, EmbedParts, PositionKind,
    SelfAttentionBlock, SelfAttentionBlockConfig,
};

#[derive(Config, Debug)]
pub struct TransformerSeq2SeqConfig {
    /// Source and target share one vocabulary.
    pub vocab_size: usize,
    #[config(default = 128)]
    pub d_model: usize,
    #[config(default = 2)]
    pub encoder_layers: usize,
    #[config(default = 2)]
    pub decoder_layers: usize,
    #[config(default = 4)]
    pub heads: usize,
    #[config(default = 512)]
    pub d_ff: usize,
    #[config(default = 0.1)]
    pub dropout: f64,
    /// The longest source or target (learned positions have one row per position).
    #[config(default = 128)]
    pub max_len: usize,
    #[config(default = "PositionKind::Sinusoidal")]
    pub positions: PositionKind,
    #[config(default = true)]
    pub pre_norm: bool,
    #[config(default = true)]
    pub tie_weights: bool,
}

impl TransformerSeq2SeqConfig {
    pub fn check(&self) -> Result<(), String> {
        check_sizes_and_dropout(
            &[
                ("vocab_size", self.vocab_size),
                ("d_model", self.d_model),
                ("encoder_layers", self.encoder_layers),
                ("decoder_layers", self.decoder_layers),
                ("d_ff", self.d_ff),
                ("max_len", self.max_len),
            ],
            self.dropout,
        )?;
        AttentionConfig::new(self.d_model, self.heads).check()
    }

    pub fn init<B: Backend>(&self, device: &B::Device) -> TransformerSeq2Seq<B> {
        let parts =
            EmbedParts::init(self.vocab_size, self.d_model, self.max_len, self.positions, self.tie_weights, device);
        let encoder = (0..self.encoder_layers)
            .map(|_| {
                SelfAttentionBlockConfig::new(self.d_model, self.heads, self.d_ff)
                    .with_dropout(self.dropout)
                    .with_pre_norm(self.pre_norm)
                    .init(device)
            })
            .collect();
        let decoder = (0..self.decoder_layers)
            .map(|_| {
                CrossAttentionBlockConfig::new(self.d_model, self.heads, self.d_ff)
                    .with_dropout(self.dropout)
                    .with_pre_norm(self.pre_norm)
                    .init(device)
            })
            .collect();
        // Pre-norm leaves each stack's residual stream unnormalised: one norm at its end.
        let final_norm = || self.pre_norm.then(|| LayerNormConfig::new(self.d_model).init(device));
        TransformerSeq2Seq {
            embedding: parts.embedding,
            learned_positions: parts.learned_positions,
            encoder,
            encoder_norm: final_norm(),
            decoder,
            decoder_norm: final_norm(),
            head: parts.head,
            tied_bias: parts.tied_bias,
            dropout: DropoutConfig::new(self.dropout).init(),
            max_len: self.max_len,
            vocab_size: self.vocab_size,
        }
    }
}

#[derive(Module, Debug)]
pub struct TransformerSeq2Seq<B: Backend> {
    pub embedding: Embedding<B>,
    pub learned_positions: Option<Embedding<B>>,
    pub encoder: Vec<SelfAttentionBlock<B>>,
    pub encoder_norm: Option<LayerNorm<B>>,
    pub decoder: Vec<CrossAttentionBlock<B>>,
    pub decoder_norm: Option<LayerNorm<B>>,
    /// The read-out; `None` when it is the embedding matrix (tied) plus `tied_bias`.
    pub head: Option<Linear<B>>,
    pub tied_bias: Option<Param<Tensor<B, 1>>>,
    pub dropout: Dropout,
    pub max_len: usize,
    pub vocab_size: usize,
}

/// The encoder's output `[batch, source, d_model]` and which of its steps are pads.
#[derive(Debug, Clone)]
pub struct TransformerMemory<B: Backend> {
    pub states: Tensor<B, 3>,
    pub padding: Tensor<B, 2, Bool>,
}

impl<B: Backend> Seq2SeqModel<B> for TransformerSeq2Seq<B> {
    type Memory = TransformerMemory<B>;

    fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    fn encode(&self, source: Tensor<B, 2, Int>, padding: Tensor<B, 2, Bool>) -> TransformerMemory<B> {
        let mut x = embed_tokens(&self.embedding, self.learned_positions.as_ref(), &self.dropout, source, 0);
        for block in &self.encoder {
            x = block.forward_bidirectional(x, Some(padding.clone()));
        }
        if let Some(norm) = &self.encoder_norm {
            x = norm.forward(x);
        }
        TransformerMemory { states: x, padding }
    }

    fn decode(&self, memory: &TransformerMemory<B>, target: Tensor<B, 2, Int>) -> Tensor<B, 3> {
        let mut x = embed_tokens(&self.embedding, self.learned_positions.as_ref(), &self.dropout, target, 0);
        for block in &self.decoder {
            x = block.forward(x, memory.states.clone(), Some(memory.padding.clone()));
        }
        if let Some(norm) = &self.decoder_norm {
            x = norm.forward(x);
        }
        read_out(x, self.head.as_ref(), &self.embedding, self.tied_bias.as_ref())
    }

    fn max_target_len(&self) -> Option<usize> {
        Some(self.max_len)
    }
}
