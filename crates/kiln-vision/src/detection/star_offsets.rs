//! VarifocalNet's star-shaped box feature representation (Zhang, Wang, Dayoub, Sünderhauf 2021,
//! Sec. 4.2, Fig. 3): a location's features are sampled at nine points of its initial box — the
//! location itself, the box's four side midpoints along the location's row and column, and its
//! four corners — by a 3×3 deformable convolution whose offsets move each regular tap there.

use burn::prelude::*;

/// Offsets `[N, 18, h, w]` for a 3×3 deformable convolution (padding 1, dilation 1; Δy then Δx
/// per tap, taps row-major: the layout of [`crate::blocks::DeformableConv::forward_with`]) that
/// move tap (ky, kx) of each location to (y + {−t, 0, b}[ky], x + {−l, 0, r}[kx]), from the
/// initial box distances `ltrb` `[N, 4, h, w]` in input pixels at `stride`.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::detection::star_offsets;
/// // l, t, r, b = 16, 8, 32, 24 input pixels at stride 8: 2, 1, 4, 3 feature pixels.
/// let ltrb = Tensor::<NdArray, 4>::from_floats([[[[16.0]], [[8.0]], [[32.0]], [[24.0]]]], &Default::default());
/// let offsets: Vec<f32> = star_offsets(ltrb, 8.0).into_data().to_vec().unwrap();
/// // Top-left tap (regular (−1, −1)) goes to (−t, −l) = (−1, −2): Δ = (0, −1).
/// assert_eq!(&offsets[0..2], &[0.0, -1.0]);
/// // Centre tap stays; bottom-right tap (regular (1, 1)) goes to (b, r) = (3, 4): Δ = (2, 3).
/// assert_eq!(&offsets[8..10], &[0.0, 0.0]);
/// assert_eq!(&offsets[16..18], &[2.0, 3.0]);
/// ```
pub fn star_offsets<B: Backend>(ltrb: Tensor<B, 4>, stride: f32) -> Tensor<B, 4> {
    let [n, _, h, w] = ltrb.dims();
    let scaled = ltrb / stride;
    let side = |c: usize| scaled.clone().narrow(1, c, 1);
    let zero = Tensor::<B, 4>::zeros([n, 1, h, w], &scaled.device());
    let rows = [side(1).neg(), zero.clone(), side(3)];
    let cols = [side(0).neg(), zero, side(2)];
    let mut channels = Vec::with_capacity(18);
    for (ky, row) in rows.iter().enumerate() {
        for (kx, col) in cols.iter().enumerate() {
            channels.push(row.clone() - (ky as f32 - 1.0));
            channels.push(col.clone() - (kx as f32 - 1.0));
        }
    }
    Tensor::cat(channels, 1)
}
