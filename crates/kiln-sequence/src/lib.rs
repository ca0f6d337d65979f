//! Sequence models for kiln, generic over Burn's `Backend`: recurrent layers and stacks (Elman
//! RNN, LSTM, GRU), the Transformer's pieces, language models built from either, character and
//! byte-level BPE tokenizers, sampling for generation, and Word2Vec.
//!
//! Nothing here depends on kiln's trainer: a Burn program can take this crate alone.
//!
//! ```
//! use burn::backend::NdArray;
//! use burn::prelude::*;
//! use kiln_sequence::language_model::{LanguageModel, RecurrentLmConfig};
//! use kiln_sequence::recurrent::CellKind;
//!
//! let device = Default::default();
//! let lm = RecurrentLmConfig::new(CellKind::Lstm, 50).with_hidden(32).with_embed_dim(16).init::<NdArray>(&device);
//! let tokens = Tensor::<NdArray, 2, Int>::zeros([4, 10], &device);
//! let (logits, state) = lm.forward(tokens, None);
//! assert_eq!(logits.dims(), [4, 10, 50]);
//! // The state carries on into the next window of the same streams.
//! let (_, _) = lm.forward(Tensor::zeros([4, 10], &device), Some(state));
//! ```

mod config_check;
pub mod error;
pub mod generate;
pub mod language_model;
pub mod recurrent;
pub mod seq2seq;
pub mod tokenize;
pub mod transformer;
pub mod word2vec;

pub use error::SequenceError;
