//! Where a token is: the fixed sinusoids of Vaswani et al. (2017, Sec. 3.5) or a learned
//! embedding per position (Gehring et al. 2017; GPT).

use burn::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PositionKind {
    Sinusoidal,
    Learned,
}

/// `PE(pos, 2i) = sin(pos / 10000^(2i/d))`, `PE(pos, 2i+1) = cos(pos / 10000^(2i/d))` for
/// positions `start..start + len`: `[len, d_model]`.
///
/// ```
/// use burn::backend::NdArray;
/// let pe = kiln_sequence::transformer::sinusoidal_positions::<NdArray>(1, 2, 4, &Default::default());
/// let v: Vec<f32> = pe.into_data().to_vec().unwrap();
/// // Position 1, 2, dimension pairs (sin, cos) at frequencies 1 and 1/100.
/// let want = [1f32.sin(), 1f32.cos(), 0.01f32.sin(), 0.01f32.cos(), 2f32.sin(), 2f32.cos(), 0.02f32.sin(), 0.02f32.cos()];
/// assert!(v.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-6));
/// ```
pub fn sinusoidal_positions<B: Backend>(start: usize, len: usize, d_model: usize, device: &B::Device) -> Tensor<B, 2> {
    let mut table = Vec::with_capacity(len * d_model);
    for pos in start..start + len {
        for j in 0..d_model {
            let pair = (j / 2 * 2) as f64;
            let angle = pos as f64 / 10_000f64.powf(pair / d_model as f64);
            table.push(if j % 2 == 0 { angle.sin() } else { angle.cos() } as f32);
        }
    }
    Tensor::from_data(TensorData::new(table, [len, d_model]), device)
}
