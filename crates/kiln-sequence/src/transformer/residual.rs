//! The Transformer's residual branch, shared by its blocks: `x + dropout(f(x))` then layer norm
//! (post-norm, Vaswani et al. 2017), or `x + dropout(f(norm(x)))` (pre-norm, Xiong et al. 2020,
//! as GPT-2), and the position-wise MLP that is one such branch.

use burn::nn::{Dropout, Gelu, LayerNorm, Linear};
use burn::prelude::*;

pub(crate) fn residual<B: Backend>(
    x: Tensor<B, 3>,
    norm: &LayerNorm<B>,
    pre_norm: bool,
    dropout: &Dropout,
    branch: impl FnOnce(Tensor<B, 3>) -> Tensor<B, 3>,
) -> Tensor<B, 3> {
    if pre_norm {
        x.clone() + dropout.forward(branch(norm.forward(x)))
    } else {
        norm.forward(x.clone() + dropout.forward(branch(x)))
    }
}

/// `contract(dropout(gelu(expand(x))))`.
pub(crate) fn feed_forward<B: Backend>(
    x: Tensor<B, 3>,
    expand: &Linear<B>,
    contract: &Linear<B>,
    activation: &Gelu,
    dropout: &Dropout,
) -> Tensor<B, 3> {
    contract.forward(dropout.forward(activation.forward(expand.forward(x))))
}
