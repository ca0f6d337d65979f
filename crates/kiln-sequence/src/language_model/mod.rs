//! Language models: next-token logits for every position of a window of token ids, with a state
//! carried into the next window (a recurrent net's hidden state under truncated BPTT).

mod recurrent_lm;
mod transformer_lm;

use burn::prelude::*;

pub use recurrent_lm::{RecurrentLm, RecurrentLmConfig};
pub use transformer_lm::{TransformerLm, TransformerLmConfig, TransformerState};

/// A network that predicts the next token at every position.
pub trait LanguageModel<B: Backend> {
    /// What is carried from one window to the next of the same streams.
    type State: Clone;

    fn vocab_size(&self) -> usize;

    /// `tokens` `[batch, steps]` → logits `[batch, steps, vocab]` and the state after the
    /// window. Position `t`'s logits depend on tokens `..=t` (and the state) only.
    fn forward(&self, tokens: Tensor<B, 2, Int>, state: Option<Self::State>) -> (Tensor<B, 3>, Self::State);

    /// What of `state` goes into the next window of the same streams: a recurrent net's hidden
    /// state cut from the graph that made it (truncated BPTT), nothing for a model whose context
    /// is the window.
    fn carry(state: Self::State) -> Option<Self::State>;

    /// The most positions the model can attend to at once, if it is bounded (learned or trained
    /// positions); generation keeps to the last ones.
    fn max_context(&self) -> Option<usize> {
        None
    }
}

#[cfg(test)]
mod tests;
