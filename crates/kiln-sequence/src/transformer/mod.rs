//! The Transformer's pieces (Vaswani et al. 2017): multi-head attention (causal with a
//! key/value cache, both ways, or across to an encoder's output) with padding masks, blocks
//! with pre- or post-norm, and sinusoidal or learned positions.
//! [`crate::language_model::TransformerLm`] is the decoder-only language model built from them,
//! [`crate::seq2seq::TransformerSeq2Seq`] the encoder–decoder.

mod attention;
mod cross_attention_block;
mod embed;
mod position;
mod residual;
mod self_attention_block;

pub use attention::{Attention, AttentionConfig, KvCache};
pub use cross_attention_block::{CrossAttentionBlock, CrossAttentionBlockConfig};
pub(crate) use embed::EmbedParts;
pub use embed::{embed_tokens, read_out};
pub use position::{sinusoidal_positions, PositionKind};
pub use self_attention_block::{SelfAttentionBlock, SelfAttentionBlockConfig};

#[cfg(test)]
mod tests;
