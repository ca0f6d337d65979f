use std::f64::consts::PI;

use burn::prelude::*;

/// ψ(θ) = (−1)^k cos(mθ) − 2k for θ ∈ [kπ/m, (k+1)π/m] (Liu et al. 2016, L-Softmax, Eq. 6;
/// reused by SphereFace): monotonically decreasing on [0, π] and ψ(θ) ≤ cos θ, so the target class
/// must win by an angular factor m. Takes cos θ.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// // θ = 0 gives 1 for any m; θ = π/2 with m = 2 gives (−1)¹·cos π − 2 = −1.
/// let cos = Tensor::<NdArray, 1>::from_floats([1.0, 0.0], &Default::default());
/// let v: Vec<f32> = kiln_losses::margin::psi(cos, 2).into_data().to_vec().unwrap();
/// assert!((v[0] - 1.0).abs() < 1e-3 && (v[1] + 1.0).abs() < 1e-5);
/// ```
pub fn psi<B: Backend, const D: usize>(cos: Tensor<B, D>, m: u32) -> Tensor<B, D> {
    let theta = cos.clamp(-1.0 + 1e-7, 1.0 - 1e-7).acos();
    let m = m as f64;
    let k = (theta.clone() * (m / PI)).floor().clamp(0.0, m - 1.0).detach();
    // (−1)^k = 1 − 2 (k mod 2)
    let sign = (k.clone() - (k.clone() / 2.0).floor() * 2.0) * -2.0 + 1.0;
    sign * (theta * m).cos() - k * 2.0
}
