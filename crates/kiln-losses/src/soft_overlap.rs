//! Differentiable surrogates of overlap metrics, so a model can train on the metric it is judged
//! by: soft Dice (Milletari et al. 2016, V-Net, Eq. 1, without squares) — the soft F1 — and soft
//! IoU (Rahman & Wang 2016).

use burn::prelude::*;

const SMOOTH: f64 = 1e-6;

/// 1 − (2 Σ p·t + ε) / (Σ p + Σ t + ε) over all elements of probabilities `p` and targets `t`.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// let d = Default::default();
/// let p = Tensor::<NdArray, 1>::from_floats([1.0, 0.5, 0.0], &d);
/// let t = Tensor::<NdArray, 1>::from_floats([1.0, 1.0, 0.0], &d);
/// let loss: f32 = kiln_losses::soft_dice_loss(p, t).into_scalar();
/// assert!((loss - (1.0 - 3.0 / 3.5)).abs() < 1e-5);
/// ```
pub fn soft_dice_loss<B: Backend, const D: usize>(probabilities: Tensor<B, D>, targets: Tensor<B, D>) -> Tensor<B, 1> {
    let intersection = (probabilities.clone() * targets.clone()).sum();
    let total = probabilities.sum() + targets.sum();
    ((intersection * 2.0 + SMOOTH) / (total + SMOOTH)).neg() + 1.0
}

/// 1 − (Σ p·t + ε) / (Σ p + Σ t − Σ p·t + ε).
pub fn soft_iou_loss<B: Backend, const D: usize>(probabilities: Tensor<B, D>, targets: Tensor<B, D>) -> Tensor<B, 1> {
    let intersection = (probabilities.clone() * targets.clone()).sum();
    let union = probabilities.sum() + targets.sum() - intersection.clone();
    ((intersection + SMOOTH) / (union + SMOOTH)).neg() + 1.0
}
