//! Nearest-neighbour upsampling by an integer factor, written as a reshape and a broadcast:
//! Burn 0.21's `interpolate` has no backward pass on ndarray, while reshape and expand
//! differentiate on every backend (and the gradient of a broadcast is the sum over the copies,
//! which is exactly nearest upsampling's).

use burn::prelude::*;

/// `[N, C, h, w]` → `[N, C, factor·h, factor·w]`, every pixel repeated `factor` × `factor` times.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::blocks::upsample_nearest;
/// let x = Tensor::<NdArray, 4>::from_floats([[[[1.0, 2.0], [3.0, 4.0]]]], &Default::default());
/// let y: Vec<f32> = upsample_nearest(x, 2).into_data().to_vec().unwrap();
/// assert_eq!(y, [1., 1., 2., 2., 1., 1., 2., 2., 3., 3., 4., 4., 3., 3., 4., 4.]);
/// ```
pub fn upsample_nearest<B: Backend>(x: Tensor<B, 4>, factor: usize) -> Tensor<B, 4> {
    let [n, c, h, w] = x.dims();
    x.reshape([n, c, h, 1, w, 1]).expand([n, c, h, factor, w, factor]).reshape([n, c, factor * h, factor * w])
}
