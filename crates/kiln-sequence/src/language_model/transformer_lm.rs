//! A decoder-only Transformer language model (Vaswani et al. 2017's decoder without
//! cross-attention, as GPT): token embeddings scaled by √d_model plus positions, causal decoder
//! blocks, and a read-out that shares the embedding matrix when `tie_weights` (Press & Wolf 2017).

use burn::module::{Initializer, Param};
use burn::nn::{Dropout, DropoutConfig, Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;

use super::LanguageModel;
use crate::transformer::{
    sinusoidal_positions, AttentionConfig, DecoderBlock, DecoderBlockConfig, KvCache, PositionKind,
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
        let positive = [
            ("vocab_size", self.vocab_size),
            ("d_model", self.d_model),
            ("layers", self.layers),
            ("d_ff", self.d_ff),
            ("max_len", self.max_len),
        ];
        if let Some((key, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(format!("{key} must be at least 1"));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(format!("dropout must be in [0, 1), not {}", self.dropout));
        }
        AttentionConfig::new(self.d_model, self.heads).check()
    }

    pub fn init<B: Backend>(&self, device: &B::Device) -> TransformerLm<B> {
        // N(0, 1/d_model), scaled by √d_model on the way in: unit-variance inputs, and tied
        // read-out logits of unit scale after the final norm.
        let std = 1.0 / (self.d_model as f64).sqrt();
        let embedding = EmbeddingConfig::new(self.vocab_size, self.d_model)
            .with_initializer(Initializer::Normal { mean: 0.0, std })
            .init(device);
        let blocks = (0..self.layers)
            .map(|_| {
                DecoderBlockConfig::new(self.d_model, self.heads, self.d_ff)
                    .with_dropout(self.dropout)
                    .with_pre_norm(self.pre_norm)
                    .init(device)
            })
            .collect();
        TransformerLm {
            embedding,
            learned_positions: (self.positions == PositionKind::Learned).then(|| {
                EmbeddingConfig::new(self.max_len, self.d_model)
                    .with_initializer(Initializer::Normal { mean: 0.0, std: 0.02 })
                    .init(device)
            }),
            blocks,
            // Pre-norm leaves the residual stream unnormalised: one norm before the read-out (GPT-2).
            final_norm: self.pre_norm.then(|| LayerNormConfig::new(self.d_model).init(device)),
            head: (!self.tie_weights).then(|| LinearConfig::new(self.d_model, self.vocab_size).init(device)),
            tied_bias: self.tie_weights.then(|| Param::from_tensor(Tensor::zeros([self.vocab_size], device))),
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
    pub blocks: Vec<DecoderBlock<B>>,
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
        let [batch, steps] = tokens.dims();
        let device = tokens.device();
        let past = state.as_ref().map_or(0, |s| s.positions);
        let mut x = self.embedding.forward(tokens).mul_scalar((self.d_model as f64).sqrt());
        let positions = match &self.learned_positions {
            Some(table) => {
                let ids = Tensor::<B, 1, Int>::arange(past as i64..(past + steps) as i64, &device).reshape([1, steps]);
                table.forward(ids)
            }
            None => sinusoidal_positions::<B>(past, steps, self.d_model, &device).reshape([1, steps, self.d_model]),
        };
        x = self.dropout.forward(x + positions.expand([batch, steps, self.d_model]));
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
        let logits = match (&self.head, &self.tied_bias) {
            (Some(head), _) => head.forward(x),
            (None, bias) => {
                let weight = self.embedding.weight.val().transpose().unsqueeze::<3>();
                let logits = x.matmul(weight);
                match bias {
                    Some(bias) => logits + bias.val().reshape([1, 1, self.vocab_size]),
                    None => logits,
                }
            }
        };
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
