use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// How per-element losses become the returned tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reduction {
    Mean,
    Sum,
    /// One loss per element, flattened.
    None,
}

impl Reduction {
    /// Flattens `losses` and reduces them: `[1]` for mean and sum, `[numel]` for none.
    pub fn apply<B: Backend, const D: usize>(self, losses: Tensor<B, D>) -> Tensor<B, 1> {
        let flat: Tensor<B, 1> = losses.flatten(0, D - 1);
        match self {
            Reduction::Mean => flat.mean(),
            Reduction::Sum => flat.sum(),
            Reduction::None => flat,
        }
    }
}
