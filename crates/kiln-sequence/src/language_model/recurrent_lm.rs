//! A recurrent language model: embedding, a recurrent stack, dropout and a linear read-out
//! (Mikolov et al. 2010 with an Elman RNN; Zaremba et al. 2014 with LSTMs and dropout between
//! layers).

use burn::nn::{Dropout, DropoutConfig, Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::prelude::*;

use crate::config_check::check_sizes_and_dropout;

use super::LanguageModel;
use crate::recurrent::{CellKind, RecurrentStack, RecurrentStackConfig, RecurrentState};

#[derive(Config, Debug)]
pub struct RecurrentLmConfig {
    pub kind: CellKind,
    pub vocab_size: usize,
    #[config(default = 64)]
    pub embed_dim: usize,
    #[config(default = 256)]
    pub hidden: usize,
    #[config(default = 2)]
    pub layers: usize,
    /// On the embeddings, between layers and before the read-out (Zaremba et al. 2014).
    #[config(default = 0.0)]
    pub dropout: f64,
}

impl RecurrentLmConfig {
    /// Says why this config cannot be built.
    pub fn check(&self) -> Result<(), String> {
        check_sizes_and_dropout(
            &[
                ("vocab_size", self.vocab_size),
                ("embed_dim", self.embed_dim),
                ("hidden", self.hidden),
                ("layers", self.layers),
            ],
            self.dropout,
        )
    }

    pub fn init<B: Backend>(&self, device: &B::Device) -> RecurrentLm<B> {
        RecurrentLm {
            embedding: EmbeddingConfig::new(self.vocab_size, self.embed_dim).init(device),
            stack: RecurrentStackConfig::new(self.kind, self.embed_dim, self.hidden)
                .with_layers(self.layers)
                .with_dropout(self.dropout)
                .init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
            head: LinearConfig::new(self.hidden, self.vocab_size).init(device),
            vocab_size: self.vocab_size,
        }
    }
}

#[derive(Module, Debug)]
pub struct RecurrentLm<B: Backend> {
    pub embedding: Embedding<B>,
    pub stack: RecurrentStack<B>,
    pub dropout: Dropout,
    pub head: Linear<B>,
    pub vocab_size: usize,
}

impl<B: Backend> LanguageModel<B> for RecurrentLm<B> {
    type State = RecurrentState<B>;

    fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    fn forward(&self, tokens: Tensor<B, 2, Int>, state: Option<Self::State>) -> (Tensor<B, 3>, Self::State) {
        let [batch, steps] = tokens.dims();
        // One embedding lookup per step: the stack takes steps as separate tensors, so no step
        // is sliced out of a [batch, steps, features] tensor (whose backward copies all of it).
        let inputs = (0..steps)
            .map(|t| {
                let embedded = self.embedding.forward(tokens.clone().narrow(1, t, 1));
                let [_, _, features] = embedded.dims();
                self.dropout.forward(embedded.reshape([batch, features]))
            })
            .collect();
        let (outputs, state) = self.stack.forward(inputs, state, None);
        let hidden = self.dropout.forward(Tensor::stack(outputs, 1));
        (self.head.forward(hidden), state)
    }

    fn carry(state: Self::State) -> Option<Self::State> {
        Some(state.detach())
    }
}
