//! Deformable convolution (v1, Dai et al. 2017, Eq. 2) lowered to bilinear gathers and one
//! matrix product: every tap's four neighbouring input pixels are gathered, weighted by their
//! bilinear factors into columns `[N, C·kh·kw, H_out·W_out]`, and the weight multiplies them.
//!
//! kiln's own because Burn 0.21's `deform_conv2d` is a per-pixel loop on the CPU backends whose
//! backward made VarifocalNet's star-shaped head ~30× slower than a plain conv on flex (0.9
//! against 25 canvases/s on 2 cores); this form's backward is scatter-adds and a GEMM, which Burn
//! already runs fast. It computes the same function as Burn's and torchvision's
//! `deform_conv2d` (same offset layout, zero outside the input), which the tests check, values
//! and gradients.

use burn::prelude::*;

/// Geometry of a [`gathered_deform_conv2d`]: kernel taps sit at
/// `(y·stride − padding + ky·dilation, x·stride − padding + kx·dilation)` before their offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeformGeometry {
    pub stride: usize,
    pub padding: usize,
    pub dilation: usize,
}

impl Default for DeformGeometry {
    /// A 3×3 kernel's "same" geometry: stride 1, padding 1, dilation 1.
    fn default() -> Self {
        Self { stride: 1, padding: 1, dilation: 1 }
    }
}

/// `x` `[N, C, H, W]` convolved with `weight` `[C_out, C, kh, kw]` (and `bias` `[C_out]`) at the
/// taps moved by `offset` `[N, 2·kh·kw, H_out, W_out]`: channel 2·(ky·kw + kx) holds tap
/// (ky, kx)'s Δy and the next its Δx, in input pixels (torchvision's layout, one offset group).
/// Samples outside the input read 0.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::blocks::{gathered_deform_conv2d, DeformGeometry};
/// let device = Default::default();
/// // A 1×1 kernel on a 1×3 row [1, 2, 4], every tap moved half a pixel right: the samples are
/// // 1.5, 3 and 0.5·4 + 0.5·0 (outside) = 2.
/// let x = Tensor::<NdArray, 4>::from_floats([[[[1.0, 2.0, 4.0]]]], &device);
/// let offset = Tensor::<NdArray, 4>::from_floats([[[[0.0, 0.0, 0.0]], [[0.5, 0.5, 0.5]]]], &device);
/// let weight = Tensor::<NdArray, 4>::ones([1, 1, 1, 1], &device);
/// let geometry = DeformGeometry { stride: 1, padding: 0, dilation: 1 };
/// let y = gathered_deform_conv2d(x, offset, weight, None, geometry);
/// y.into_data().assert_approx_eq::<f32>(&TensorData::from([[[[1.5, 3.0, 2.0]]]]), Default::default());
/// ```
pub fn gathered_deform_conv2d<B: Backend>(
    x: Tensor<B, 4>,
    offset: Tensor<B, 4>,
    weight: Tensor<B, 4>,
    bias: Option<Tensor<B, 1>>,
    geometry: DeformGeometry,
) -> Tensor<B, 4> {
    let [n, channels, h, w] = x.dims();
    let [out_channels, weight_channels, kh, kw] = weight.dims();
    let [_, offset_channels, ho, wo] = offset.dims();
    let taps = kh * kw;
    assert_eq!(
        weight_channels, channels,
        "gathered_deform_conv2d: weight has {weight_channels} input channels, x {channels}"
    );
    assert_eq!(offset_channels, 2 * taps, "gathered_deform_conv2d: offsets need 2·kh·kw = {} channels", 2 * taps);
    let device = x.device();
    let DeformGeometry { stride, padding, dilation } = geometry;
    // The taps' undeformed positions, [1, taps, H_out, W_out] for rows and for columns.
    let mut rows = Vec::with_capacity(taps * ho * wo);
    let mut cols = Vec::with_capacity(taps * ho * wo);
    for ky in 0..kh {
        for kx in 0..kw {
            for y in 0..ho {
                for x in 0..wo {
                    rows.push((y * stride + ky * dilation) as f32 - padding as f32);
                    cols.push((x * stride + kx * dilation) as f32 - padding as f32);
                }
            }
        }
    }
    let grid = |v: Vec<f32>| Tensor::<B, 4>::from_data(TensorData::new(v, [1, taps, ho, wo]), &device);
    let offset = offset.reshape([n, taps, 2, ho, wo]);
    let dy = offset.clone().narrow(2, 0, 1).reshape([n, taps, ho, wo]);
    let dx = offset.narrow(2, 1, 1).reshape([n, taps, ho, wo]);
    let py = grid(rows) + dy;
    let px = grid(cols) + dx;
    // The gradient reaches the offsets through the bilinear factors; floor() is a constant.
    let y0 = py.clone().detach().floor();
    let x0 = px.clone().detach().floor();
    let ly = py - y0.clone();
    let lx = px - x0.clone();
    let flat = x.reshape([n, channels, h * w]);
    let samples = taps * ho * wo;
    let mut columns: Option<Tensor<B, 3>> = None;
    for (down, right) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
        let yc = y0.clone() + down as f32;
        let xc = x0.clone() + right as f32;
        let inside = yc
            .clone()
            .greater_equal_elem(0.0)
            .bool_and(yc.clone().lower_equal_elem((h - 1) as f32))
            .bool_and(xc.clone().greater_equal_elem(0.0))
            .bool_and(xc.clone().lower_equal_elem((w - 1) as f32))
            .float();
        let fy = if down == 1 { ly.clone() } else { ly.clone().neg() + 1.0 };
        let fx = if right == 1 { lx.clone() } else { lx.clone().neg() + 1.0 };
        let factor = (fy * fx * inside).reshape([n, 1, samples]);
        let index = (yc.clamp(0.0, (h - 1) as f32) * w as f32 + xc.clamp(0.0, (w - 1) as f32))
            .int()
            .reshape([n, 1, samples])
            .expand([n, channels, samples]);
        let corner = flat.clone().gather(2, index) * factor;
        columns = Some(match columns {
            None => corner,
            Some(sum) => sum + corner,
        });
    }
    let columns = columns.expect("four corners").reshape([n, channels * taps, ho * wo]);
    let weight = weight.reshape([1, out_channels, channels * taps]).expand([n, out_channels, channels * taps]);
    let mut out = weight.matmul(columns);
    if let Some(bias) = bias {
        out = out + bias.reshape([1, out_channels, 1]);
    }
    out.reshape([n, out_channels, ho, wo])
}
