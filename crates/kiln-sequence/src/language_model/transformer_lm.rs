//! A decoder-only Transformer language model (Vaswani et al. 2017's decoder without
//! cross-attention, as GPT): token embeddings scaled by √d_model plus positions, causal decoder
//! blocks, and a read-out that shares the embedding matrix when `tie_weights` (Press & Wolf 2017).

use burn::module::Param;
use burn::nn::{Dropout, DropoutConfig, Embedding, LayerNorm, LayerNormConfig, Linear};
use burn::prelude::*;

use crate::config_check::check_sizes_and_dropout;

use super::LanguageModel;
use crate::transformer::{
    embed_tokens, read_out, AttentionConfig, EmbedParts, KvCache, PositionKind, SelfAttentionBlock,
    SelfAttentionBlockConfig,
};

#[derive(Config, Debug)]
pub struct TransformerLmConfig {
    pub vocab_size: usize,
    #[config(default = 256)]
    pub d_model: usize,
    #[config(default = 4)]
    pub layers: usize,
    #[config(default = 4)]
    pub heads: usize,
    #[config(default = 1024)]
    pub d_ff: usize,
    #[config(default = 0.1)]
    pub dropout: f64,
    /// The longest context: training windows and generation's window of attention.
    #[config(default = 256)]
    pub max_len: usize,
    #[config(default = "PositionKind::Sinusoidal")]
    pub positions: PositionKind,
    #[config(default = true)]
    pub pre_norm: bool,
    #[config(default = true)]
    pub tie_weights: bool,
}

impl TransformerLmConfig {
    pub fn check(&self) -> Result<(), String> {
        check_sizes_and_dropout(
            &[
                ("vocab_size", self.vocab_size),
                ("d_model", self.d_model),
                ("layers", self.layers),
                ("d_ff", self.d_ff),
                ("max_len", self.max_len),
            ],
            self.dropout,
        )?;
        AttentionConfig::new(self.d_model, self.heads).check()
    }

    pub fn init<B: Backend>(&self, device: &B::Device) -> TransformerLm<B> {
        let parts =
            EmbedParts::init(self.vocab_size, self.d_model, self.max_len, self.positions, self.tie_weights, device);
        let blocks = (0..self.layers)
            .map(|_| {
                SelfAttentionBlockConfig::new(self.d_model, self.heads, self.d_ff)
                    .with_dropout(self.dropout)
                    .with_pre_norm(self.pre_norm)
                    .init(device)
            })
            .collect();
        TransformerLm {
            embedding: parts.embedding,
            learned_positions: parts.learned_positions,
            blocks,
            // Pre-norm leaves the residual stream unnormalised: one norm before the read-out (GPT-2).
            final_norm: self.pre_norm.then(|| LayerNormConfig::new(self.d_model).init(device)),
            head: parts.head,
            tied_bias: parts.tied_bias,
            dropout: DropoutConfig::new(self.dropout).init(),
            d_model: self.d_model,
            max_len: self.max_len,
            vocab_size: self.vocab_size,
        }
    }
}

#[derive(Module, Debug)]
pub struct TransformerLm<B: Backend> {
    pub embedding: Embedding<B>,
    pub learned_positions: Option<Embedding<B>>,
    pub blocks: Vec<SelfAttentionBlock<B>>,
    pub final_norm: Option<LayerNorm<B>>,
    /// The read-out; `None` when it is the embedding matrix (tied) plus `tied_bias`.
    pub head: Option<Linear<B>>,
    pub tied_bias: Option<Param<Tensor<B, 1>>>,
    pub dropout: Dropout,
    pub d_model: usize,
    pub max_len: usize,
    pub vocab_size: usize,
}

/// Every block's key/value cache and the number of positions they hold.
#[derive(Debug, Clone)]
pub struct TransformerState<B: Backend> {
    pub caches: Vec<KvCache<B>>,
    pub positions: usize,
}

impl<B: Backend> TransformerLm<B> {
    /// [`LanguageModel::forward`] where `padding` (`[batch, past + steps]`, true for a pad)
    /// hides padded positions from every query.
    pub fn forward_masked(
        &self,
        tokens: Tensor<B, 2, Int>,
        state: Option<TransformerState<B>>,
        padding: Option<Tensor<B, 2, Bool>>,
    ) -> (Tensor<B, 3>, TransformerState<B>) {
        let (past, steps) = (state.as_ref().map_or(0, |s| s.positions), tokens.dims()[1]);
        let mut x = embed_tokens(&self.embedding, self.learned_positions.as_ref(), &self.dropout, tokens, past);
        let mut caches = state.map(|s| s.caches.into_iter().map(Some).collect::<Vec<_>>()).unwrap_or_default();
        let mut next = Vec::with_capacity(self.blocks.len());
        for (l, block) in self.blocks.iter().enumerate() {
            let cache = caches.get_mut(l).and_then(Option::take);
            let (y, cache) = block.forward(x, cache, padding.clone());
            x = y;
            next.push(cache);
        }
        if let Some(norm) = &self.final_norm {
            x = norm.forward(x);
        }
        let logits = read_out(x, self.head.as_ref(), &self.embedding, self.tied_bias.as_ref());
        (logits, TransformerState { caches: next, positions: past + steps })
    }
}

impl<B: Backend> LanguageModel<B> for TransformerLm<B> {
    type State = TransformerState<B>;

    fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    fn forward(&self, tokens: Tensor<B, 2, Int>, state: Option<Self::State>) -> (Tensor<B, 3>, Self::State) {
        self.forward_masked(tokens, state, None)
    }

    /// Nothing: a window is the whole context, as GPT trains.
    fn carry(_state: Self::State) -> Option<Self::State> {
        None
    }

    fn max_context(&self) -> Option<usize> {
        Some(self.max_len)
    }
}
