//! The Transformer's sinusoidal position code applied to the noise level (Ho et al. 2020, §4;
//! Vaswani et al. 2017, §3.5).

use burn::prelude::*;

/// `[sin(c·ω_k), cos(c·ω_k)]` for `k < dim/2` with `ω_k = scale·10000^{−k/(dim/2)}`: `c_noise` of
/// shape `[N]` to `[N, dim]`. `scale` is the fastest frequency, set to the range of the noise
/// input (DDPM embeds t ∈ [0, 999] at scale 1).
pub fn sinusoidal_embedding<B: Backend>(c_noise: Tensor<B, 1>, dim: usize, scale: f64) -> Tensor<B, 2> {
    let half = dim / 2;
    let device = c_noise.device();
    let frequencies: Vec<f32> =
        (0..half).map(|k| (scale * 10000f64.powf(-(k as f64) / half.max(1) as f64)) as f32).collect();
    let frequencies = Tensor::<B, 1>::from_floats(frequencies.as_slice(), &device).unsqueeze_dim::<2>(0);
    let angles = c_noise.unsqueeze_dim::<2>(1) * frequencies;
    Tensor::cat(vec![angles.clone().sin(), angles.cos()], 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::NdArray;

    #[test]
    fn embedding_is_sine_then_cosine_of_each_frequency() {
        let device = Default::default();
        let e = sinusoidal_embedding(Tensor::<NdArray, 1>::from_floats([0.5], &device), 4, 1.0);
        let v: Vec<f32> = e.into_data().to_vec().unwrap();
        // ω = 1, 10000^{−1/2} = 0.01.
        let expected = [0.5f32.sin(), 0.005f32.sin(), 0.5f32.cos(), 0.005f32.cos()];
        assert!(v.iter().zip(expected).all(|(a, b)| (a - b).abs() < 1e-6), "{v:?}");
    }
}
