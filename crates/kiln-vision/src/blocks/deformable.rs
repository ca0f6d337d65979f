//! Deformable convolution, v1 (Dai et al. 2017, "Deformable Convolutional Networks", Sec. 2.1,
//! Eq. 2) and v2 / modulated (Zhu, Hu, Lin, Dai 2019, "Deformable ConvNets v2", Sec. 3.1, Eq. 3):
//! every kernel tap samples the input at its grid position plus a learned fractional offset
//! (bilinear interpolation), and v2 also scales each tap by a learned mask in [0, 1], so the
//! sampling grid adapts to the object's geometry.
//!
//! The offsets (and masks) come from a plain convolution over the same input with the same kernel
//! size, stride and dilation as the deformable one (v1 Sec. 2.1). Its weights and bias start at
//! zero, as in both papers: offsets start at 0, so training starts from a regular convolution,
//! and v2's masks start at sigmoid(0) = 0.5 (v2 Sec. 3.1), i.e. at half the plain convolution.

use burn::module::Initializer;
use burn::nn::conv::{Conv2d, Conv2dConfig, DeformConv2d, DeformConv2dConfig};
use burn::nn::PaddingConfig2d;
use burn::prelude::*;
use burn::tensor::activation::sigmoid;

use crate::complexity::{padding_totals, ShapeTrace, Traceable};

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::blocks::DeformableConvConfig;
/// let device = Default::default();
/// let dcn = DeformableConvConfig::new(4, 8).with_modulated(true).with_stride(2).init::<NdArray>(&device);
/// let y = dcn.forward(Tensor::ones([1, 4, 9, 9], &device));
/// assert_eq!(y.dims(), [1, 8, 5, 5]);
/// // Offsets are [N, 2·offset_groups·k·k, H_out, W_out], masks [N, offset_groups·k·k, H_out, W_out].
/// let offset = Tensor::zeros([1, 18, 5, 5], &device);
/// let mask = Tensor::ones([1, 9, 5, 5], &device);
/// assert_eq!(dcn.forward_with(Tensor::ones([1, 4, 9, 9], &device), offset, Some(mask)).dims(), [1, 8, 5, 5]);
/// ```
#[derive(Config, Debug)]
pub struct DeformableConvConfig {
    pub in_channels: usize,
    pub out_channels: usize,
    #[config(default = 3)]
    pub kernel_size: usize,
    #[config(default = 1)]
    pub stride: usize,
    #[config(default = 1)]
    pub dilation: usize,
    /// Channel groups of the deformable convolution's weight.
    #[config(default = 1)]
    pub groups: usize,
    /// Input-channel groups that each get their own offsets (and masks).
    #[config(default = 1)]
    pub offset_groups: usize,
    /// DCNv2: predict a per-tap modulation mask as well as the offsets.
    #[config(default = false)]
    pub modulated: bool,
    #[config(default = true)]
    pub bias: bool,
}

#[derive(Module, Debug)]
pub struct DeformableConv<B: Backend> {
    /// Predicts (Δy, Δx) for every tap: 2·offset_groups·k² channels, zero-initialised.
    pub offset: Conv2d<B>,
    /// DCNv2 only: predicts the mask logits, offset_groups·k² channels, zero-initialised.
    pub mask: Option<Conv2d<B>>,
    pub conv: DeformConv2d<B>,
}

impl DeformableConvConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> DeformableConv<B> {
        let k = self.kernel_size;
        let pad = self.dilation * (k - 1) / 2;
        let padding = PaddingConfig2d::Explicit(pad, pad, pad, pad);
        let predictor = |channels: usize| {
            Conv2dConfig::new([self.in_channels, channels], [k, k])
                .with_stride([self.stride; 2])
                .with_dilation([self.dilation; 2])
                .with_padding(padding.clone())
                .with_initializer(Initializer::Zeros)
                .init(device)
        };
        let mut conv = DeformConv2dConfig::new([self.in_channels, self.out_channels], [k, k])
            .with_stride([self.stride; 2])
            .with_dilation([self.dilation; 2])
            .with_weight_groups(self.groups)
            .with_offset_groups(self.offset_groups)
            .with_padding(padding.clone())
            .with_bias(self.bias)
            .init(device);
        // Burn 0.21's DeformConv2dConfig::init copies weight_groups into offset_groups.
        conv.offset_groups = self.offset_groups;
        DeformableConv {
            offset: predictor(2 * self.offset_groups * k * k),
            mask: self.modulated.then(|| predictor(self.offset_groups * k * k)),
            conv,
        }
    }
}

impl<B: Backend> DeformableConv<B> {
    /// Predicts offsets (and, for v2, masks) from `x`, then convolves `x` at the shifted taps.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let offset = self.offset.forward(x.clone());
        let mask = self.mask.as_ref().map(|mask| sigmoid(mask.forward(x.clone())));
        self.forward_with(x, offset, mask)
    }

    /// The deformable convolution with given offsets and masks.
    ///
    /// `offset` is `[N, 2·offset_groups·kh·kw, H_out, W_out]`: for offset group g and tap
    /// (ky, kx) channel 2·((g·kh + ky)·kw + kx) holds Δy and the next channel Δx, in input pixels
    /// (torchvision's layout). Tap (ky, kx) of output (y, x) samples the input at
    /// (y·stride − pad + ky·dilation + Δy, x·stride − pad + kx·dilation + Δx), zero outside.
    /// `mask` is `[N, offset_groups·kh·kw, H_out, W_out]` in the same tap order.
    pub fn forward_with(&self, x: Tensor<B, 4>, offset: Tensor<B, 4>, mask: Option<Tensor<B, 4>>) -> Tensor<B, 4> {
        self.conv.forward(x, offset, mask)
    }
}

impl<B: Backend> Traceable for DeformableConv<B> {
    /// The predictor convolutions plus the deformable one; bilinear sampling is not counted.
    fn trace(&self, input: ShapeTrace) -> ShapeTrace {
        let mut trace = input.add_multiply_adds(input.fork().conv(&self.offset).multiply_adds);
        if let Some(mask) = &self.mask {
            trace = trace.add_multiply_adds(input.fork().conv(mask).multiply_adds);
        }
        let [out_channels, _, kh, kw] = self.conv.weight.dims();
        let [_, h, w] = input.shape;
        let pad = padding_totals(&self.conv.padding, [h, w], [kh, kw], self.conv.stride, self.conv.dilation);
        trace.conv_geometry(out_channels, [kh, kw], self.conv.stride, pad, self.conv.dilation, self.conv.weight_groups)
    }
}
