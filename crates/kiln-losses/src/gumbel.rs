//! Gumbel-softmax (Jang, Gu, Poole 2017, Eq. 1) with the straight-through hard mode (§2.2).

use burn::prelude::*;
use burn::tensor::activation::softmax;
use burn::tensor::Distribution;

/// Samples softmax((logits + g) / τ) along the last axis, g ~ Gumbel(0, 1). With `hard`, returns
/// the one-hot of the sample's argmax in the forward pass and the soft sample's gradient in the
/// backward pass (y_hard − sg(y_soft) + y_soft).
pub fn gumbel_softmax<B: Backend, const D: usize>(logits: Tensor<B, D>, tau: f64, hard: bool) -> Tensor<B, D> {
    let device = logits.device();
    let uniform = Tensor::<B, D>::random(logits.shape(), Distribution::Uniform(1e-10, 1.0 - 1e-7), &device);
    let gumbel = uniform.log().neg().log().neg();
    let soft = softmax((logits + gumbel) / tau, D - 1);
    if !hard {
        return soft;
    }
    // The maximum of a continuous sample is unique almost surely, so this is a one-hot.
    let max = soft.clone().max_dim(D - 1).expand(soft.shape());
    let one_hot = soft.clone().greater_equal(max).float();
    one_hot - soft.clone().detach() + soft
}
