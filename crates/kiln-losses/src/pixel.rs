//! Dense (per-pixel) classification losses for semantic segmentation: softmax cross-entropy
//! averaged over the pixels that are not ignored (PyTorch's `CrossEntropyLoss(ignore_index=255)`,
//! the loss of FCN and DeepLab), and the multi-class soft Dice loss (Milletari et al. 2016,
//! V-Net, Eq. 1 without squares, averaged over classes as Sudre et al. 2017 do).

use burn::prelude::*;
use burn::tensor::activation::{log_softmax, softmax};

const SMOOTH: f64 = 1e-6;

/// The pixels of `targets` `[N, H, W]` that count: all of them, or those not `ignore_index`.
fn counted<B: Backend>(targets: &Tensor<B, 3, Int>, ignore_index: Option<usize>) -> Tensor<B, 3, Bool> {
    match ignore_index {
        Some(i) => targets.clone().not_equal_elem(i as i64),
        None => targets.clone().equal(targets.clone()),
    }
}

/// One-hot `[N, K, H, W]` of class indices `[N, H, W]` (an ignored index matches no class).
pub fn one_hot_pixels<B: Backend>(targets: Tensor<B, 3, Int>, classes: usize) -> Tensor<B, 4> {
    let [n, h, w] = targets.dims();
    let device = targets.device();
    let classes_axis = Tensor::<B, 1, Int>::arange(0..classes as i64, &device).reshape([1, classes, 1, 1]);
    let targets = targets.unsqueeze_dim::<4>(1).expand([n, classes, h, w]);
    targets.equal(classes_axis.expand([n, classes, h, w])).float()
}

/// Mean cross-entropy of per-pixel scores `logits` `[N, K, H, W]` against class indices
/// `targets` `[N, H, W]`, over the pixels whose target is not `ignore_index`.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// let d = Default::default();
/// // One image of 1×2 pixels, 2 classes: scores (0, 0) and (ln 3, 0); the second pixel is ignored.
/// let logits = Tensor::<NdArray, 4>::from_floats([[[[0.0, 3f32.ln()]], [[0.0, 0.0]]]], &d);
/// let targets = Tensor::<NdArray, 3, Int>::from_ints([[[1, 255]]], &d);
/// let loss: f32 = kiln_losses::pixel_cross_entropy(logits, targets, Some(255)).into_scalar();
/// assert!((loss - 2f32.ln()).abs() < 1e-6);
/// ```
pub fn pixel_cross_entropy<B: Backend>(
    logits: Tensor<B, 4>,
    targets: Tensor<B, 3, Int>,
    ignore_index: Option<usize>,
) -> Tensor<B, 1> {
    let [n, _, h, w] = logits.dims();
    let keep = counted(&targets, ignore_index);
    // Ignored pixels pick class 0 and are then weighted by zero.
    let safe = targets.mask_fill(keep.clone().bool_not(), 0);
    let picked = log_softmax(logits, 1).gather(1, safe.unsqueeze_dim::<4>(1)).reshape([n, h, w]);
    let weight = keep.float();
    let count = weight.clone().sum().clamp_min(1.0);
    (picked * weight).sum().neg() / count
}

/// 1 − the mean over classes of the soft Dice coefficient (2 Σ p·t + ε) / (Σ p + Σ t + ε) between
/// softmax probabilities and one-hot targets, over the pixels not `ignore_index`.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// let d = Default::default();
/// // Confident and right everywhere: the loss is 0.
/// let logits = Tensor::<NdArray, 4>::from_floats([[[[30.0, -30.0]], [[-30.0, 30.0]]]], &d);
/// let targets = Tensor::<NdArray, 3, Int>::from_ints([[[0, 1]]], &d);
/// let loss: f32 = kiln_losses::pixel_soft_dice(logits, targets, None).into_scalar();
/// assert!(loss.abs() < 1e-5);
/// ```
pub fn pixel_soft_dice<B: Backend>(
    logits: Tensor<B, 4>,
    targets: Tensor<B, 3, Int>,
    ignore_index: Option<usize>,
) -> Tensor<B, 1> {
    let [n, k, h, w] = logits.dims();
    let weight = counted(&targets, ignore_index).float().unsqueeze_dim::<4>(1).expand([n, k, h, w]);
    let probabilities = softmax(logits, 1) * weight.clone();
    let truth = one_hot_pixels(targets, k) * weight;
    let per_class = |t: Tensor<B, 4>| t.sum_dim(0).sum_dim(2).sum_dim(3).reshape([k]);
    let intersection = per_class(probabilities.clone() * truth.clone());
    let total = per_class(probabilities) + per_class(truth);
    let dice = (intersection * 2.0 + SMOOTH) / (total + SMOOTH);
    dice.mean().neg() + 1.0
}
