//! Recurrent networks: one layer of an Elman RNN, LSTM or GRU cell run over time
//! ([`RecurrentLayer`]), and stacks of them with dropout between layers, both directions and
//! masks for padded batches ([`RecurrentStack`]).
//!
//! kiln writes its own rather than using burn-nn's `Rnn`/`Lstm`/`Gru` because those write each
//! step's output into a `[batch, time, hidden]` buffer with `slice_assign`, whose backward pass
//! copies the whole buffer once per step (quadratic in the window length under truncated BPTT),
//! keep one matrix per gate (eight small products per LSTM step instead of two), and have no
//! masks or stacking. Weights follow PyTorch's layout (`weight_ih`, `weight_hh` with the gates
//! stacked in the order i, f, g, o for the LSTM and r, z, n for the GRU), so its equations and
//! initialisation are the ones a PyTorch user knows.

mod cell;
mod layer;
mod stack;
mod state;

pub use cell::CellKind;
pub use layer::{RecurrentLayer, RecurrentLayerConfig};
pub use stack::{RecurrentStack, RecurrentStackConfig};
pub use state::{LayerState, RecurrentState};

#[cfg(test)]
mod tests;
