//! Which recurrence a layer computes.

use serde::{Deserialize, Serialize};

/// The three classic recurrent cells, with PyTorch's equations (`torch.nn.RNN`, `LSTM`, `GRU`).
///
/// - `Rnn` (Elman 1990): `h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`.
/// - `Lstm` (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000):
///   `i, f, o = σ(·)`, `g = tanh(·)`, `c' = f ⊙ c + i ⊙ g`, `h' = o ⊙ tanh(c')`.
/// - `Gru` (Cho et al. 2014): `r, z = σ(·)`, `n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`,
///   `h' = (1 − z) ⊙ n + z ⊙ h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CellKind {
    Rnn,
    Lstm,
    Gru,
}

impl CellKind {
    /// How many `hidden`-wide blocks the input and hidden projections produce.
    pub fn gates(self) -> usize {
        match self {
            CellKind::Rnn => 1,
            CellKind::Lstm => 4,
            CellKind::Gru => 3,
        }
    }

    /// Whether the cell carries a memory cell besides its hidden state.
    pub fn has_cell(self) -> bool {
        self == CellKind::Lstm
    }

    pub fn name(self) -> &'static str {
        match self {
            CellKind::Rnn => "rnn",
            CellKind::Lstm => "lstm",
            CellKind::Gru => "gru",
        }
    }
}
