use burn::prelude::*;
use burn::tensor::activation;
use serde::{Deserialize, Serialize};

/// Element-wise non-linearity chosen by name in a model config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Relu,
    Tanh,
    /// LeCun et al. 1998, Appendix A: f(a) = 1.7159 tanh(2a/3).
    ScaledTanh,
}

impl Activation {
    pub fn apply<B: Backend, const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        match self {
            Activation::Relu => activation::relu(x),
            Activation::Tanh => activation::tanh(x),
            Activation::ScaledTanh => activation::tanh(x.mul_scalar(2.0 / 3.0)).mul_scalar(1.7159),
        }
    }
}
