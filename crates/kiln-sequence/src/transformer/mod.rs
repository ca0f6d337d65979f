//! The Transformer's pieces (Vaswani et al. 2017): multi-head attention with causal and padding
//! masks and a key/value cache for generation, blocks with pre- or post-norm, and sinusoidal or
//! learned positions. [`crate::language_model::TransformerLm`] is the decoder-only language
//! model built from them.

mod attention;
mod block;
mod position;

pub use attention::{Attention, AttentionConfig, KvCache};
pub use block::{DecoderBlock, DecoderBlockConfig};
pub use position::{sinusoidal_positions, PositionKind};

#[cfg(test)]
mod tests;
