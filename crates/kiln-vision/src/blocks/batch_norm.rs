//! Batch normalisation (Ioffe & Szegedy 2015) of `[N, C, H, W]` maps with Burn's `BatchNorm`
//! module (the same parameters, running statistics and checkpoints), computed in a layout CPU
//! backends run fast.
//!
//! Why kiln's own forward: Burn's reduces over `swap_dims(0, 1)` views and broadcasts
//! `[1, C, 1, 1]` statistics over the whole map; on `flex` both fall to its element-by-element
//! strided iterator (35 % of an mnist_cnn training step in a profile). Here every reduction runs
//! over the contiguous last axis of `[N, C, H·W]`, and every per-channel value is first spread
//! to `[N, C, 1]`, a broadcast flex vectorises. The normalisation is folded into one scale and
//! one shift per channel, `y = x·γ/σ + (β − μ·γ/σ)`, which is the same function.

use burn::nn::BatchNorm;
use burn::prelude::*;

/// Normalises `x` `[N, C, H, W]` with `norm`'s parameters: batch statistics (and an update of
/// the running ones, with Burn's momentum) when autodiff is on, the running ones otherwise, as
/// `BatchNorm::forward` does.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::nn::BatchNormConfig;
/// use burn::prelude::*;
/// use kiln_vision::blocks::batch_norm_2d;
/// let device = Default::default();
/// let norm = BatchNormConfig::new(3).init::<NdArray>(&device);
/// let x = Tensor::<NdArray, 4>::random([2, 3, 4, 4], burn::tensor::Distribution::Default, &device);
/// let ours: Vec<f32> = batch_norm_2d(&norm, x.clone()).into_data().to_vec().unwrap();
/// let burns: Vec<f32> = norm.forward(x).into_data().to_vec().unwrap();
/// assert!(ours.iter().zip(&burns).all(|(a, b)| (a - b).abs() < 1e-5));
/// ```
pub fn batch_norm_2d<B: Backend>(norm: &BatchNorm<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    let [n, c, h, w] = x.dims();
    let device = x.device();
    let rows = x.reshape([n, c, h * w]);
    let per_map = |values: Tensor<B, 1>| values.reshape([1, c, 1]).repeat_dim(0, n);
    let (mean, var) = if B::ad_enabled(&device) {
        let mean = rows.clone().mean_dim(2).mean_dim(0).reshape([c]);
        let centred = rows.clone() - per_map(mean.clone());
        let var = centred.square().mean_dim(2).mean_dim(0).reshape([c]);
        let momentum = norm.momentum;
        let update = |state: &burn::module::RunningState<Tensor<B, 1>>, batch: &Tensor<B, 1>| {
            let running = state.value_sync().to_device(&device);
            state.update((running * (1.0 - momentum) + batch.clone().detach() * momentum).detach());
        };
        update(&norm.running_mean, &mean);
        update(&norm.running_var, &var);
        (mean, var)
    } else {
        (norm.running_mean.value().to_device(&device), norm.running_var.value().to_device(&device))
    };
    let scale = norm.gamma.val() / (var + norm.epsilon).sqrt();
    let shift = norm.beta.val() - mean * scale.clone();
    (rows * per_map(scale) + per_map(shift)).reshape([n, c, h, w])
}
