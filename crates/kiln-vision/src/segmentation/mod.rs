//! Semantic segmentation networks: a class score for every pixel.
//!
//! Both networks share a stride-8 stem of conv-BN-ReLU blocks and differ in what follows it:
//! [`Fcn`] adds plain 3×3 convolutions (Long, Shelhamer & Darrell 2015's fully convolutional
//! net at stride 8), [`DeepLab`] adds dilated convolutions and atrous spatial pyramid pooling
//! (Chen et al. 2017, DeepLabv3), which widen the field of view at the same resolution and
//! about the same parameter count. Scores are upsampled bilinearly to the input size.

mod deeplab;
pub mod family;
mod fcn;
mod stem;

pub use deeplab::{DeepLab, DeepLabConfig};
pub use family::{OnSegmenter, SegmenterFamily};
pub use fcn::{Fcn, FcnConfig};
pub use stem::{Stride8Stem, Stride8StemConfig};

use burn::prelude::*;

use crate::VisionError;

/// A network that maps images `[N, C, H, W]` to per-pixel class scores `[N, K, H, W]`.
pub trait SemanticSegmenter<B: Backend> {
    fn pixel_logits(&self, images: Tensor<B, 4>) -> Tensor<B, 4>;

    /// Classes `K`, background included.
    fn classes(&self) -> usize;

    /// Says why images of `[C, H, W]` cannot go through the network.
    fn check_input(&self, input: [usize; 3]) -> Result<(), VisionError>;
}

/// Bilinear resizing of `scores` `[N, K, h, w]` to `[N, K, height, width]` with half-pixel
/// centres (PyTorch's `interpolate(mode="bilinear", align_corners=False)`).
///
/// Written as two matrix products, `R_y · X · R_xᵀ`, with interpolation matrices built on the
/// host, instead of Burn's `interpolate`: its backward pass is missing on the ndarray backend, and
/// matrix products differentiate on every backend.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::segmentation::upsample_bilinear;
/// // 1×2 → 1×4: PyTorch gives 0, 0.25, 0.75, 1.
/// let x = Tensor::<NdArray, 4>::from_floats([[[[0.0, 1.0]]]], &Default::default());
/// let y: Vec<f32> = upsample_bilinear(x, [1, 4]).into_data().to_vec().unwrap();
/// assert_eq!(y, vec![0.0, 0.25, 0.75, 1.0]);
/// ```
pub fn upsample_bilinear<B: Backend>(scores: Tensor<B, 4>, [height, width]: [usize; 2]) -> Tensor<B, 4> {
    let [n, k, h, w] = scores.dims();
    let device = scores.device();
    let rows = interpolation_matrix::<B>(h, height, &device).unsqueeze::<4>().expand([n, k, height, h]);
    let columns = interpolation_matrix::<B>(w, width, &device).transpose().unsqueeze::<4>().expand([n, k, w, width]);
    rows.matmul(scores).matmul(columns)
}

/// `[to, from]`: row `i` holds the weights of output `i` on the `from` inputs.
fn interpolation_matrix<B: Backend>(from: usize, to: usize, device: &B::Device) -> Tensor<B, 2> {
    let mut weights = vec![0f32; to * from];
    let scale = from as f64 / to as f64;
    for i in 0..to {
        let source = ((i as f64 + 0.5) * scale - 0.5).max(0.0);
        let low = (source.floor() as usize).min(from - 1);
        let high = (low + 1).min(from - 1);
        let frac = (source - low as f64) as f32;
        weights[i * from + low] += 1.0 - frac;
        weights[i * from + high] += frac;
    }
    Tensor::from_data(TensorData::new(weights, [to, from]), device)
}
