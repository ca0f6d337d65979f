//! The way in and out of a Transformer: token embeddings scaled by √d_model plus positions, and
//! a read-out that is its own linear layer or the embedding matrix itself (tied, Press & Wolf
//! 2017, as Vaswani et al. 2017 Sec. 3.4), shared by the language model and the encoder–decoder.

use burn::module::Param;
use burn::nn::{Dropout, Embedding, Linear};
use burn::prelude::*;

use super::sinusoidal_positions;

/// `dropout(√d · embedding(tokens) + position)` for tokens at positions `past..past + steps`:
/// the learned table's rows when given, else the sinusoids.
pub fn embed_tokens<B: Backend>(
    embedding: &Embedding<B>,
    learned_positions: Option<&Embedding<B>>,
    dropout: &Dropout,
    tokens: Tensor<B, 2, Int>,
    past: usize,
) -> Tensor<B, 3> {
    let [batch, steps] = tokens.dims();
    let device = tokens.device();
    let d_model = embedding.weight.dims()[1];
    let x = embedding.forward(tokens).mul_scalar((d_model as f64).sqrt());
    let positions = match learned_positions {
        Some(table) => {
            let ids = Tensor::<B, 1, Int>::arange(past as i64..(past + steps) as i64, &device).reshape([1, steps]);
            table.forward(ids)
        }
        None => sinusoidal_positions::<B>(past, steps, d_model, &device).reshape([1, steps, d_model]),
    };
    dropout.forward(x + positions.expand([batch, steps, d_model]))
}

/// Logits `[batch, steps, vocab]` of `x`: `head(x)`, or `x · Eᵀ + bias` with the embedding
/// matrix `E` when the read-out is tied.
pub fn read_out<B: Backend>(
    x: Tensor<B, 3>,
    head: Option<&Linear<B>>,
    embedding: &Embedding<B>,
    tied_bias: Option<&Param<Tensor<B, 1>>>,
) -> Tensor<B, 3> {
    if let Some(head) = head {
        return head.forward(x);
    }
    let logits = x.matmul(embedding.weight.val().transpose().unsqueeze::<3>());
    match tied_bias {
        Some(bias) => {
            let vocab = bias.dims()[0];
            logits + bias.val().reshape([1, 1, vocab])
        }
        None => logits,
    }
}

/// Freshly initialised embedding, position table and read-out of a Transformer.
pub(crate) struct EmbedParts<B: Backend> {
    pub embedding: Embedding<B>,
    pub learned_positions: Option<Embedding<B>>,
    pub head: Option<Linear<B>>,
    pub tied_bias: Option<Param<Tensor<B, 1>>>,
}

impl<B: Backend> EmbedParts<B> {
    pub fn init(
        vocab_size: usize,
        d_model: usize,
        max_len: usize,
        positions: super::PositionKind,
        tie_weights: bool,
        device: &B::Device,
    ) -> Self {
        use burn::module::Initializer;
        use burn::nn::{EmbeddingConfig, LinearConfig};
        // N(0, 1/d_model), scaled by √d_model on the way in: unit-variance inputs, and tied
        // read-out logits of unit scale after the final norm.
        let std = 1.0 / (d_model as f64).sqrt();
        Self {
            embedding: EmbeddingConfig::new(vocab_size, d_model)
                .with_initializer(Initializer::Normal { mean: 0.0, std })
                .init(device),
            learned_positions: (positions == super::PositionKind::Learned).then(|| {
                EmbeddingConfig::new(max_len, d_model)
                    .with_initializer(Initializer::Normal { mean: 0.0, std: 0.02 })
                    .init(device)
            }),
            head: (!tie_weights).then(|| LinearConfig::new(d_model, vocab_size).init(device)),
            tied_bias: tie_weights.then(|| Param::from_tensor(Tensor::zeros([vocab_size], device))),
        }
    }
}
