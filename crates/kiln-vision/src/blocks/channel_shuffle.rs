//! Channel shuffle (Zhang et al. 2018, ShuffleNet, Sec. 3.1 and Fig. 1): reshape the channels to
//! (groups, C/groups), transpose, flatten, so the next grouped convolution sees every group.

use burn::prelude::*;

/// Output channel `i·groups + g` is input channel `g·(C/groups) + i`.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::blocks::channel_shuffle;
/// let x = Tensor::<NdArray, 1>::from_floats([0.0, 1.0, 2.0, 3.0, 4.0, 5.0], &Default::default()).reshape([1, 6, 1, 1]);
/// let y: Vec<f32> = channel_shuffle(x, 2).into_data().to_vec().unwrap();
/// assert_eq!(y, vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
/// ```
pub fn channel_shuffle<B: Backend>(x: Tensor<B, 4>, groups: usize) -> Tensor<B, 4> {
    let [n, c, h, w] = x.dims();
    x.reshape([n, groups, c / groups, h * w]).swap_dims(1, 2).reshape([n, c, h, w])
}
