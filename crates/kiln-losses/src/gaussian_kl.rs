use burn::prelude::*;

/// KL(N(μ, σ²) ‖ N(0, I)) in closed form (Kingma & Welling 2014, Appendix B), per example:
/// ½ Σ_j (μ_j² + σ_j² − 1 − log σ_j²), from `mean` and `log_var` `[N, D]`; returns `[N]`.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// let d = Default::default();
/// let mean = Tensor::<NdArray, 2>::from_floats([[1.0, 0.0]], &d);
/// let log_var = Tensor::<NdArray, 2>::zeros([1, 2], &d);
/// let kl: f32 = kiln_losses::gaussian_kl(mean, log_var).into_scalar();
/// assert!((kl - 0.5).abs() < 1e-6);
/// ```
pub fn gaussian_kl<B: Backend>(mean: Tensor<B, 2>, log_var: Tensor<B, 2>) -> Tensor<B, 1> {
    let n = mean.dims()[0];
    let terms = mean.powf_scalar(2.0) + log_var.clone().exp() - log_var - 1.0;
    terms.sum_dim(1).reshape([n]) * 0.5
}
