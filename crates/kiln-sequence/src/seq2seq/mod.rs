//! Sequence-to-sequence models: an encoder reads the whole source, a decoder writes the target
//! one token at a time, each step seeing the source and the target so far. The encoder–decoder
//! Transformer (Vaswani et al. 2017) and a recurrent encoder–decoder (Sutskever et al. 2014)
//! with optional dot-product attention (Luong et al. 2015); [`decode`] writes targets.
//!
//! ```
//! use burn::backend::NdArray;
//! use burn::prelude::*;
//! use kiln_sequence::seq2seq::{Seq2SeqModel, TransformerSeq2SeqConfig};
//!
//! let device = Default::default();
//! let model = TransformerSeq2SeqConfig::new(20).with_d_model(32).with_d_ff(64).init::<NdArray>(&device);
//! let source = Tensor::<NdArray, 2, Int>::ones([3, 7], &device);
//! let padding = Tensor::<NdArray, 2, Int>::zeros([3, 7], &device).equal_elem(1); // no pads
//! let memory = model.encode(source, padding);
//! // Teacher forcing: logits for every target position at once.
//! let logits = model.decode(&memory, Tensor::zeros([3, 5], &device));
//! assert_eq!(logits.dims(), [3, 5, 20]);
//! ```

mod decode;
mod recurrent;
mod transformer;

use burn::prelude::*;

pub use decode::decode;
pub use recurrent::{RecurrentMemory, RecurrentSeq2Seq, RecurrentSeq2SeqConfig};
pub use transformer::{TransformerMemory, TransformerSeq2Seq, TransformerSeq2SeqConfig};

/// A network that reads a source sequence and predicts a target sequence token by token.
pub trait Seq2SeqModel<B: Backend> {
    /// What the decoder reads of the encoded source.
    type Memory: Clone;

    fn vocab_size(&self) -> usize;

    /// Encodes `source` `[batch, steps]`; `padding` (same shape) is true where a shorter
    /// source was padded, and padded steps change nothing.
    fn encode(&self, source: Tensor<B, 2, Int>, padding: Tensor<B, 2, Bool>) -> Self::Memory;

    /// Logits `[batch, steps, vocab]` of the next target token after each of `target`'s
    /// `[batch, steps]` tokens (which start with the begin token): step `t` depends on
    /// `target[..=t]` and the source only.
    fn decode(&self, memory: &Self::Memory, target: Tensor<B, 2, Int>) -> Tensor<B, 3>;

    /// The longest target the decoder takes (trained positions), if bounded.
    fn max_target_len(&self) -> Option<usize> {
        None
    }
}

#[cfg(test)]
mod tests;
