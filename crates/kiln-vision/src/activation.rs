use burn::prelude::*;
use burn::tensor::activation;
use serde::{Deserialize, Serialize};

/// Element-wise non-linearity chosen by name in a model config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// No non-linearity: the linear bottleneck of MobileNetV2 and projection convolutions.
    Identity,
    Relu,
    /// min(max(x, 0), 6), MobileNetV1/V2 (robust under low-precision arithmetic, Howard et al. 2017).
    Relu6,
    /// x·σ(x), "swish" in EfficientNet (Ramachandran et al. 2017).
    Silu,
    Sigmoid,
    Gelu,
    Tanh,
    /// LeCun et al. 1998, Appendix A: f(a) = 1.7159 tanh(2a/3).
    ScaledTanh,
}

impl Activation {
    pub fn apply<B: Backend, const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        match self {
            Activation::Identity => x,
            Activation::Relu => activation::relu(x),
            Activation::Relu6 => x.clamp(0.0, 6.0),
            Activation::Silu => activation::silu(x),
            Activation::Sigmoid => activation::sigmoid(x),
            Activation::Gelu => activation::gelu(x),
            Activation::Tanh => activation::tanh(x),
            Activation::ScaledTanh => activation::tanh(x.mul_scalar(2.0 / 3.0)).mul_scalar(1.7159),
        }
    }
}
